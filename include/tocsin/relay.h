/* relay: the digest sent to a sector authority about the entities of its
 * sectors, with TLP applied item by item.
 *
 * Policy (DESIGN.md, STANDARDS.md §1.5): an item's details (which hosts,
 * which indicators) go to the authority only when its label permits sharing
 * with it — at most TLP:AMBER, and never above the authority's clearance.
 * TLP:AMBER+STRICT and TLP:RED items are counted, not described: the digest
 * says "3 findings (TLP:AMBER+STRICT, not shareable)" and nothing more.  Only
 * entities of the authority's sectors appear.  The digest's own label is the
 * most restrictive label of what it describes (counts carry no content).
 * Pure; builds a jansson view for the relay_digest templates. */
#ifndef TOCSIN_RELAY_H
#define TOCSIN_RELAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tocsin/event.h"
#include "tocsin/tlp.h"

#define TC_RELAY_DETAILS_MAX 50 /* indicators listed per item */

/* One (entity, category, label) finding group of the period. */
struct tc_relay_item {
	const char      *entity_name;
	const char      *enterprise_number;
	const char      *sector;       /* NIS2 sector name */
	enum tc_category category;
	enum tc_tlp      tlp;
	size_t           count;        /* findings in the group */
	const char     **indicators;   /* may be NULL */
	size_t           n_indicators;
};

struct tc_relay_authority {
	const char  *name;
	const char **sectors;
	size_t       n_sectors;
	enum tc_tlp  clearance; /* most restrictive label it may receive */
};

/* May the details of an item labelled `item` go to an authority cleared to
 * `clearance`? */
bool tc_relay_may_describe(enum tc_tlp clearance, enum tc_tlp item);

/* Build the template view: {authority, period{from,to}, tlp{label,colour},
 * entities: n, items:[{entity, enterprise_number, sector, category, count,
 * tlp, described, details:[...]?}], withheld: n, total: n}.  Items of other
 * sectors are left out.  Returns a new reference; `*label` gets the digest's
 * label; `*n_items` the number of items kept (0: nothing to send). */
json_t *tc_relay_build(const struct tc_relay_authority *auth,
    const struct tc_relay_item *items, size_t n, const char *period_from,
    const char *period_to, enum tc_tlp *label, size_t *n_items);

#endif

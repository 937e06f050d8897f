/* aggregate: group the hits of one feed run into one warning per (entity,
 * category), listing every affected host or account of that entity.
 *
 * A feed run adds (entity, category, event, indicator) hits; the aggregate
 * copies what a spear warning shows — never a password, and only that
 * entity's findings go into its group (data minimisation is structural: a
 * group holds nothing but its own entity's items).  The same finding seen
 * twice in a run (same indicator, port and what) is kept once, with the
 * widest first/last seen.  Pure; one thread at a time. */
#ifndef TOCSIN_AGGREGATE_H
#define TOCSIN_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/event.h"

/* Items kept per group; more are counted in `dropped`, and the message says
 * so (the full list is in the CSV attachment the caller builds). */
#define TC_AGGREGATE_GROUP_MAX 100000
#define TC_AGGREGATE_TEXT_MAX 512 /* longest detail value kept */

/* One affected host, account or product, ready for a template. */
struct tc_aggregate_item {
	char    *indicator; /* normalised, the sighting key */
	char    *ip;        /* when the indicator or record has one */
	char    *hostname;
	char    *asn;       /* "AS64500" or NULL */
	uint16_t port;
	char    *protocol;
	int64_t  first_seen, last_seen; /* Unix seconds, 0 unknown */
	char    *what;      /* report type / tag / infection / title */
	char    *cve;       /* comma-separated CVEs or NULL */
	char    *product;   /* "vendor product version" for products */
	char    *url;       /* advisory link for products */
	int      exploited; /* KEV flag for products */
	char    *source;    /* feed name / file of the record */
	uint64_t line;      /* line or record number in the source */
};

struct tc_aggregate_group {
	int64_t                   entity_id;
	enum tc_category          category;
	enum tc_tlp               tlp;      /* most restrictive of its items */
	enum tc_severity          severity; /* highest of its items */
	struct tc_aggregate_item *items;
	size_t                    n_items;
	size_t                    dropped;
};

struct tc_aggregate;

struct tc_aggregate *tc_aggregate_new(void);
void tc_aggregate_free(struct tc_aggregate *agg);

/* Add the hit of `ev`'s indicator number `ind` for `entity_id`.  `tlp` is
 * the effective label (the record's, or the feed default).  Returns 1 when a
 * new item was added, 0 when merged into an existing one or counted as
 * dropped. */
int tc_aggregate_add(struct tc_aggregate *agg, int64_t entity_id,
    const struct tc_event *ev, size_t ind, enum tc_tlp tlp);

/* Add a product hit of `ev` (a vulnerability affecting the entity's
 * declared product `asset`, the inventory CPE).  Same return values. */
int tc_aggregate_add_product(struct tc_aggregate *agg, int64_t entity_id,
    const struct tc_event *ev, const char *asset, enum tc_tlp tlp);
/* The groups, sorted by entity then category; valid until the next add or
 * free.  Items of a group are sorted by indicator then port. */
const struct tc_aggregate_group *tc_aggregate_groups(struct tc_aggregate *agg,
    size_t *n);

/* Total items over all groups. */
size_t tc_aggregate_count(const struct tc_aggregate *agg);

#endif

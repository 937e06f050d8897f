/* spear: a feed file's spear warnings, from hits to outbox rows.
 *
 * Three steps, each a pool job of tocsind (the loop never blocks):
 *
 *   tc_spear_prepare()  parse and match the file, group the hits per
 *                       (entity, category) (aggregate.h), keep only the
 *                       findings not notified within the suppression window
 *                       (table sighting), look up each entity's contacts
 *                       that receive spear warnings, allocate one reference
 *                       per warning.
 *   tc_spear_compose()  per warning: render in each contact's language, sign
 *                       once per language, encrypt to each contact's pinned
 *                       key (compose.h).  A contact without a usable key
 *                       gets a held message with the reason, never mail in
 *                       clear.  Independent warnings compose in parallel.
 *   tc_spear_commit()   one transaction: the message rows, the sightings
 *                       (last seen for every finding, last notified for the
 *                       ones sent) and an audit row per message.  Either the
 *                       whole file is queued or nothing is, and the caller
 *                       retries the file later.  Commits are serialised
 *                       across processes (a transaction-level advisory
 *                       lock) and check again, under that lock, that no
 *                       finding planned as due was notified meanwhile (by
 *                       another tocsind on the same database): if one was,
 *                       nothing is queued and TC_ETEMPFAIL asks the caller
 *                       to plan the file again.
 *
 * Data minimisation is structural: a warning holds its own entity's
 * findings only (aggregate.h), and a leaked-credential finding holds the
 * address, never a password (the parser never keeps it).
 *
 * Blocking (libpq, gpgme): pool threads; each step takes its own
 * connection or tc_pgp.  A plan is used by one job at a time; warnings of
 * one plan may be composed by several jobs at once (each its own). */
#ifndef TOCSIN_SPEAR_H
#define TOCSIN_SPEAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tocsin/aggregate.h"
#include "tocsin/buf.h"
#include "tocsin/err.h"
#include "tocsin/feed.h"
#include "tocsin/match.h"
#include "tocsin/notify.h"

struct tc_db;
struct tc_index;
struct tc_pgp;
struct tc_templates;

#define TC_SPEAR_SHOWN_MAX 50     /* findings listed in the body; all of
				     them go into the CSV attachment */
#define TC_SPEAR_REPORT_MAX 100   /* skipped-record lines kept */
#define TC_SPEAR_TLP_MIN TC_TLP_AMBER_STRICT

struct tc_spear_config {
	const char *reference_prefix; /* "CCB-EWS" */
	const char *from_addr;
	const char *from_name;
	const char *csirt_url;        /* may be NULL */
	unsigned    suppression_window_s;
};

struct tc_spear_warning {
	int64_t                         entity_id;
	char                           *entity_name;
	char                           *enterprise_number;
	int                             priority; /* 0 essential .. 3 other */
	/* The warning's label: its findings' strictest, and never below
	 * TLP:AMBER+STRICT — that an entity is vulnerable or compromised is
	 * itself confidential, so a spear warning is always encrypted. */
	enum tc_tlp                     tlp;
	const struct tc_aggregate_group *group;   /* borrowed from the plan */
	bool                           *due;      /* per item of the group */
	size_t                          n_due;
	struct tc_notify_rcpt          *rcpt;     /* its contacts */
	size_t                          n_contacts;
	char                            reference[64]; /* "" if none sent */
};

struct tc_spear_plan {
	struct tc_aggregate     *agg;
	struct tc_spear_warning *w;
	size_t                   n;
	struct tc_match_stats    st;
	struct tc_buf            report;    /* skipped records, one a line */
	size_t                   suppressed; /* findings not sent again */
	size_t                   no_contact; /* warnings without a contact */
	size_t                   to_send;    /* warnings with a reference */
	unsigned                 suppression_window_s; /* of the prepare */
};

/* Step 1.  Returns 0 with *out (possibly with no warning), or a negative
 * TC_E*: TC_EINPUT when the file itself is unusable (err says why: the
 * caller moves it to failed/), TC_EDB when the database failed (retry). */
int tc_spear_prepare(struct tc_db *db, const struct tc_index *idx,
    const char *path, enum tc_feed_format fmt,
    const struct tc_feed_opts *opts, const struct tc_spear_config *sc,
    struct tc_spear_plan **out, struct tc_err *err);
/* Step 2, for one warning with a reference (notify.h).  `pgp` NULL holds
 * every recipient with `pgp_error`. */
void tc_spear_compose(struct tc_spear_warning *w, struct tc_pgp *pgp,
    const char *pgp_error, const struct tc_templates *tpl,
    const struct tc_spear_config *sc, time_t now);
/* Step 3.  Returns the number of messages queued or held, TC_EDB, or
 * TC_ETEMPFAIL when a finding of the plan was notified by another process
 * since the prepare (nothing queued; prepare again). */
int tc_spear_commit(struct tc_db *db, const struct tc_spear_plan *plan,
    struct tc_err *err);
void tc_spear_plan_free(struct tc_spear_plan *p);

/* The template context of a warning (template.h), for its due findings.
 * Pure.  A new reference. */
json_t *tc_spear_context(const struct tc_spear_warning *w,
    const struct tc_spear_config *sc, time_t now);
/* Every due finding as CSV (RFC 4180, header line, CRLF), formula
 * characters at the start of a cell neutralised.  Pure. */
void tc_spear_csv(const struct tc_spear_warning *w, struct tc_buf *out);
/* 0 essential, 1 public administration, 2 important, 3 others. */
int tc_spear_priority(const char *kind);

#endif

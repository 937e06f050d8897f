/* relaydigest: the periodic digest to each sector authority, from the
 * database to outbox rows.
 *
 * For a period [from, to) and for each row of sector_authority, in one
 * transaction per authority:
 *
 *   1. claim the (authority, period) in relay_run — the unique key makes
 *      the digest go out once even across restarts and with several
 *      daemons (a second claimant waits for the first transaction, then
 *      finds the row and skips);
 *   2. load what spear warnings notified in the period (sighting rows whose
 *      last_notified falls in it), per (entity, category, TLP), for the
 *      entities of the authority's sectors, with their indicators — only
 *      for the items the authority may see described;
 *   3. build the view with tc_relay_build() (relay.h: TLP:AMBER+STRICT and
 *      TLP:RED counted, never described; nothing above the authority's
 *      clearance described either), merge the common template keys;
 *   4. nothing to report: the claim stays as "empty", no mail, a log line;
 *      otherwise allocate a reference, compose (always encrypted to the
 *      authority's pinned key, DESIGN.md; no usable key: held with the
 *      reason) and queue it with kind "relay" and the digest's own label
 *      (notify.h), record the reference and an audit row.
 *
 * The pure helpers below (times and periods) are what tocsind's timer and
 * tocsinctl share.
 *
 * tc_relaydigest_run() blocks (libpq, gpgme): pool threads, with its own
 * connection and tc_pgp. */
#ifndef TOCSIN_RELAYDIGEST_H
#define TOCSIN_RELAYDIGEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tocsin/err.h"

struct tc_db;
struct tc_pgp;
struct tc_templates;

/* "2026-12-01T06:00:00Z" */
#define TC_RELAYDIGEST_TIME_MAX sizeof("YYYY-MM-DDTHH:MM:SSZ")

struct tc_relaydigest_config {
	const char *reference_prefix; /* "CCB-EWS" */
	const char *from_addr;
	const char *from_name;
	const char *csirt_url; /* may be NULL */
	const char *actor;     /* audit actor: "tocsind" or an OS account */
};

/* Run the digests of [from, to) (Unix seconds, from < to) for every
 * authority.  `pgp` NULL holds every digest with `pgp_error`.  Returns
 * the number of digests queued or held (0: nothing to send), with
 * `*report` a new JSON array, one object per authority: {authority,
 * email, result: "queued"|"held"|"empty"|"done_before", reference?,
 * label?, items, withheld, held_reason?}.  TC_EINPUT when from >= to.
 * On TC_EDB (err says why) the
 * current authority's transaction is rolled back, those before it stay
 * committed, and `*report` is NULL. */
int tc_relaydigest_run(struct tc_db *db, struct tc_pgp *pgp,
    const char *pgp_error, const struct tc_templates *tpl,
    const struct tc_relaydigest_config *rc, int64_t from, int64_t to,
    time_t now, json_t **report, struct tc_err *err);

/* Parse a UTC time: "YYYY-MM-DD" (midnight), "YYYY-MM-DDTHH:MM" or
 * "YYYY-MM-DDTHH:MM:SS", 'T' or a space between, an optional final 'Z'.
 * Years 2000..9999.  0 and *out, or TC_EINPUT (err says why).  Pure. */
int tc_relaydigest_parse_time(const char *s, int64_t *out, struct tc_err *err);
/* "YYYY-MM-DDTHH:MM:SSZ" into out[TC_RELAYDIGEST_TIME_MAX].  Pure. */
void tc_relaydigest_format_time(int64_t t, char *out, size_t size);

/* The last complete period at `now`, for a digest every `schedule_s`
 * (> 0) seconds whose periods end at `time_s` seconds after midnight UTC
 * (and every schedule_s from there): *to is the latest such boundary
 * <= now, *from = *to - schedule_s.  Pure. */
void tc_relaydigest_last_period(int64_t now, unsigned schedule_s,
    unsigned time_s, int64_t *from, int64_t *to);
/* The first boundary after `now` (> now).  Pure. */
int64_t tc_relaydigest_next(int64_t now, unsigned schedule_s, unsigned time_s);

#endif

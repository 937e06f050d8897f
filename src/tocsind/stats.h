/* stats: what tocsind counts, and the progress of the feed being parsed.
 *
 * Owns tocsind's metric families (metrics.h), the /metrics endpoint when
 * metrics.listen is set, a timer that refreshes the gauges read from the
 * database (messages by state, held messages by reason class, age of the
 * oldest message waiting) every TC_STATS_REFRESH_MS, and the pointer to
 * the running feed's progress counters.  The other daemon files call one
 * function per event; the counters are also what `status` reports.
 *
 * Loop thread only, except tc_stats_gpg_error(), which pool jobs call
 * (metrics.c serialises updates). */
#ifndef TOCSIND_STATS_H
#define TOCSIND_STATS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "tocsin/err.h"

#define TC_STATS_REFRESH_MS 3000 /* database gauges */
#define TC_STATS_HELD_ROWS 1000  /* distinct held reasons read per refresh */

struct tc_feed_progress;
struct tc_match_stats;
struct tc_outbox_result;

/* Declare the families, serve /metrics if configured, start the refresh
 * timer.  Returns 0, or a negative TC_E* with err (metrics.listen cannot
 * be served: not loopback, port taken). */
int tc_stats_start(struct tc_daemon *d, struct tc_err *err);
/* Close the timer and the endpoint (at shutdown, with the other handles). */
void tc_stats_close(struct tc_daemon *d);

/* The class of a held reason, for the label of held metrics:
 * "key_missing", "key_unusable", "signing_key", "not_encrypted", "other". */
const char *tc_stats_held_class(const char *reason);

/* sender.c: a send job ended.  `smtp_rc` is tc_smtp_send's result (0 when
 * no session was opened), `res`/`code` its n messages' outcomes and SMTP
 * reply codes. */
void tc_stats_sent(int smtp_rc, const struct tc_outbox_result *res,
    const int *code, size_t n);
/* Any thread: the gpg engine or the signing key failed (`where`: "compose",
 * "send"). */
void tc_stats_gpg_error(const char *where);

/* feedrun.c: a file enters the pipeline; `p` (borrowed until
 * tc_stats_feed_end) is updated by its parse job. */
void tc_stats_feed_begin(struct tc_daemon *d, const char *name,
    struct tc_feed_progress *p);
/* Its parse and match ended after `ms`, with `st`; `warnings` to send. */
void tc_stats_feed_matched(struct tc_daemon *d, const struct tc_match_stats *st,
    size_t warnings, uint64_t ms);
/* It left the pipeline: 0 processed, TC_EDB/TC_ETEMPFAIL postponed, other
 * negative codes failed. */
void tc_stats_feed_end(struct tc_daemon *d, int status);

/* Add "counters" and "feed" (null when idle) to a status answer. */
void tc_stats_status(struct tc_daemon *d, json_t *res);

#endif

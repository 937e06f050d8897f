/* puller: scheduled HTTP(S) pulls of the feeds declared in the config, into
 * the spool.
 *
 * Each feed with a `url` and a `schedule` is pulled when the puller starts
 * and then every `schedule` seconds, through fetch (libcurl on the loop).  The
 * body is written to incoming/.<feed>--<basename>.part and renamed to
 * incoming/<feed>--<stamp>-<basename> once complete, so the spool sees whole
 * files only and knows from the "<feed>--" prefix which feed a file belongs
 * to (format, default TLP, category override).  A temporary failure is
 * retried with exponential backoff (60 s doubling, at most TC_PULLER_RETRIES
 * times, never past the next scheduled pull); a permanent one waits for the
 * next schedule.  ETag and Last-Modified are kept per feed and can be
 * restored at start (tc_puller_set_validators) from the database.
 * Loop thread only. */
#ifndef TOCSIN_PULLER_H
#define TOCSIN_PULLER_H

#include <uv.h>

#include "tocsin/config.h"
#include "tocsin/err.h"

#define TC_PULLER_RETRIES 5
#define TC_PULLER_RETRY_BASE_MS 60000
#define TC_PULLER_FEED_SEP "--"

struct tc_puller;

/* After each pull: `status` as tc_fetch_cb's, `file` the name placed in
 * incoming/ (NULL when nothing new), and the validators to store. */
typedef void (*tc_puller_pulled_cb)(const char *feed, int status,
    const char *file, const char *etag, const char *last_modified,
    const char *error, void *arg);
typedef void (*tc_puller_close_cb)(void *arg);

/* Borrows `cfg` (keeps a reference) and `fetch`-free: the puller owns its
 * own fetch handle.  `incoming_dir` is the spool's incoming/. */
int tc_puller_start(uv_loop_t *loop, struct tc_config *cfg,
    const char *incoming_dir, tc_puller_pulled_cb cb, void *arg,
    struct tc_puller **out, struct tc_err *err);
/* Restore what a previous run stored; unknown feed names are ignored. */
void tc_puller_set_validators(struct tc_puller *p, const char *feed,
    const char *etag, const char *last_modified);
/* Delay before the n-th retry (n >= 1): base doubled n-1 times, never past
 * the schedule.  Pure. */
uint64_t tc_puller_retry_ms(uint64_t base_ms, unsigned n,
    uint64_t schedule_ms);
/* For tests: override the first-retry delay (ms). */
void tc_puller_set_retry_base(struct tc_puller *p, uint64_t ms);
/* Stop timers, cancel transfers; `cb` runs when all is released. */
void tc_puller_close(struct tc_puller *p, tc_puller_close_cb cb, void *arg);

/* Split "<feed>--rest" file names: returns the length of the feed name when
 * `name` carries a valid one, else 0. */
size_t tc_puller_feed_of(const char *name);

#endif

/* fetch: HTTP(S) pulls of feeds with libcurl's multi-socket API on the loop.
 *
 * One struct tc_fetch per loop drives any number of transfers; the sockets
 * are watched with uv_poll and curl's timeouts with one uv_timer, so the loop
 * never blocks on the network.  A transfer writes the body to `dest_path`
 * (created O_EXCL|O_NOFOLLOW, mode 0640): the caller writes into a dot-file
 * of the spool's incoming/ and renames it when the callback reports success,
 * so the spool never sees half a file.  Conditional GET: pass the ETag and
 * Last-Modified of the previous pull; a 304 reports `not_modified` and leaves
 * no file.  Only http and https, at most TC_FETCH_MAX_REDIRECTS redirects,
 * and a size limit that aborts the transfer (the partial file is removed).
 * Loop thread only. */
#ifndef TOCSIN_FETCH_H
#define TOCSIN_FETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tocsin/err.h"

#define TC_FETCH_MAX_REDIRECTS 5
#define TC_FETCH_HEADER_MAX 512 /* longest ETag / Last-Modified kept */

struct tc_fetch;

struct tc_fetch_req {
	const char *url;
	const char *dest_path;     /* must not exist */
	const char *etag;          /* previous ETag, or NULL */
	const char *last_modified; /* previous Last-Modified, or NULL */
	uint64_t    max_bytes;     /* 0: no limit */
	unsigned    timeout_s;     /* whole transfer; 0: 300 s */
	const char *ca_file;       /* extra CA bundle, or NULL */
};

struct tc_fetch_result {
	long     http_code;     /* 0 if no HTTP answer */
	bool     not_modified;  /* 304: nothing written */
	uint64_t bytes;         /* body bytes written */
	char     etag[TC_FETCH_HEADER_MAX];          /* "" if none */
	char     last_modified[TC_FETCH_HEADER_MAX]; /* "" if none */
	char     error[256];    /* why status < 0 */
};

/* `status` is 0 (file written or not modified), or a negative TC_E*:
 * TC_ETEMPFAIL (network, timeout, 5xx, 429: retry later), TC_EPERMFAIL
 * (4xx, bad URL, protocol refused), TC_ELIMIT (size limit), TC_ECANCELED
 * (tc_fetch_close).  Runs once on the loop thread. */
typedef void (*tc_fetch_cb)(int status, const struct tc_fetch_result *res,
    void *arg);
typedef void (*tc_fetch_close_cb)(void *arg);

/* curl_global_init() must have run in main() before. */
int tc_fetch_new(uv_loop_t *loop, struct tc_fetch **out);
/* Start a transfer.  Returns 0 and `cb` runs later exactly once, or a
 * negative TC_E* (err says why) and `cb` never runs. */
int tc_fetch_start(struct tc_fetch *f, const struct tc_fetch_req *req,
    tc_fetch_cb cb, void *arg, struct tc_err *err);
/* Number of transfers in progress. */
unsigned tc_fetch_active(const struct tc_fetch *f);
/* Cancel running transfers (their callbacks run with TC_ECANCELED), close
 * the handles; `cb` runs when everything is released, then `f` is freed. */
void tc_fetch_close(struct tc_fetch *f, tc_fetch_close_cb cb, void *arg);

#endif

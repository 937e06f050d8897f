/* The body shared by the feed-parser fuzz targets: each fuzz_<format>.c
 * defines FUZZ_FEED_FORMAT and includes this file.  The input goes through
 * the same entry point as files (tc_feed_parse_mem); malformed input must
 * give errors, never crashes, leaks or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>

#include "tocsin/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_event(const struct tc_event *ev, void *arg)
{
	size_t *n = arg;

	*n += ev->n_ind + ev->n_cve + ev->n_prod;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_feed_opts  opts;
	struct tc_feed_stats st;
	struct tc_err        err;
	size_t               n = 0;

	tc_feed_opts_init(&opts);
	(void)tc_feed_parse_mem("2026-11-23-scan_rdp-be.csv",
	    (const char *)data, size, FUZZ_FEED_FORMAT, &opts, on_event, NULL,
	    &n, &st, &err);
	return 0;
}

/* match: run a feed through its parser and the registry index.
 *
 * For each event of the feed, every entity hit is reported once with the
 * event and the hit (see index.h); malformed records are reported through
 * `skip` and skipped.  Pure apart from reading the file; one thread. */
#ifndef TOCSIN_MATCH_H
#define TOCSIN_MATCH_H

#include "tocsin/feed.h"
#include "tocsin/index.h"

struct tc_match_stats {
	struct tc_feed_stats feed;
	size_t               hits;
	size_t               events_hit; /* events with at least one hit */
};

/* Returns the number of skipped records (>= 0) or a negative TC_E*. */
int tc_match_file(const struct tc_index *idx, const char *path,
    enum tc_feed_format fmt, const struct tc_feed_opts *opts,
    tc_index_hit_cb hit, tc_event_skip_cb skip, void *arg,
    struct tc_match_stats *st, struct tc_err *err);
int tc_match_mem(const struct tc_index *idx, const char *name,
    const char *data, size_t len, enum tc_feed_format fmt,
    const struct tc_feed_opts *opts, tc_index_hit_cb hit,
    tc_event_skip_cb skip, void *arg, struct tc_match_stats *st,
    struct tc_err *err);

#endif

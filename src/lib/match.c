/* match: see include/tocsin/match.h. */
#include <string.h>

#include "tocsin/match.h"

struct glue {
	const struct tc_index *idx;
	tc_index_hit_cb        hit;
	tc_event_skip_cb       skip;
	void                  *arg;
	struct tc_match_stats *st;
	struct tc_feed_progress *progress; /* may be NULL */
};

/* The parser hands its own argument (the glue) to both callbacks: the
 * caller's `skip` must get the caller's argument. */
static int
on_skip(const struct tc_err *why, void *arg)
{
	struct glue *g = arg;

	if (g->progress != NULL)
		atomic_fetch_add(&g->progress->records, 1);
	return g->skip ? g->skip(why, g->arg) : 0;
}

static int
on_event(const struct tc_event *ev, void *arg)
{
	struct glue *g = arg;
	int          n = tc_index_match_event(g->idx, ev, g->hit, g->arg);

	if (g->progress != NULL)
		atomic_fetch_add(&g->progress->records, 1);
	if (n < 0)
		return n;
	g->st->hits += (size_t)n;
	if (n > 0)
		g->st->events_hit++;
	return 0;
}

int
tc_match_file(const struct tc_index *idx, const char *path,
    enum tc_feed_format fmt, const struct tc_feed_opts *opts,
    tc_index_hit_cb hit, tc_event_skip_cb skip, void *arg,
    struct tc_match_stats *st, struct tc_err *err)
{
	struct tc_match_stats local;
	struct glue           g = { idx, hit, skip, arg, st ? st : &local,
			  opts ? opts->progress : NULL };

	memset(g.st, 0, sizeof(*g.st));
	return tc_feed_parse_file(path, fmt, opts, on_event, on_skip, &g,
	    &g.st->feed, err);
}

int
tc_match_mem(const struct tc_index *idx, const char *name, const char *data,
    size_t len, enum tc_feed_format fmt, const struct tc_feed_opts *opts,
    tc_index_hit_cb hit, tc_event_skip_cb skip, void *arg,
    struct tc_match_stats *st, struct tc_err *err)
{
	struct tc_match_stats local;
	struct glue           g = { idx, hit, skip, arg, st ? st : &local,
			  opts ? opts->progress : NULL };

	memset(g.st, 0, sizeof(*g.st));
	return tc_feed_parse_mem(name, data, len, fmt, opts, on_event, on_skip, &g,
	    &g.st->feed, err);
}

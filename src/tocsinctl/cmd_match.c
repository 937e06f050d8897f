/* tocsinctl match: a dry run of a feed against the registry. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tocsin/match.h"
#include "tocsin/registry.h"

struct out {
	const char *file;
};

static int
on_hit(const struct tc_event *ev, const struct tc_index_hit *h, void *arg)
{
	struct out *o = arg;
	json_t     *j;
	char       *s;
	const char *ind = NULL;

	if (h->indicator != (size_t)-1 && h->indicator < ev->n_ind)
		ind = ev->ind[h->indicator].text;
	else if (ev->n_cve > 0)
		ind = ev->cve[0];
	j = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:I,s:s}", "entity",
	    h->entity->enterprise_number, "name", h->entity->name, "asset",
	    h->asset, "asset_type", h->asset_type, "indicator", ind,
	    "category", tc_category_name(ev->category), "format", ev->format,
	    "tlp", tc_tlp_label(ev->tlp), "line", (json_int_t)ev->line, "file",
	    o->file);
	if (j == NULL)
		return 0; /* not UTF-8: cannot happen with normalised values */
	s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	puts(s);
	free(s);
	json_decref(j);
	return 0;
}

static int
on_skip(const struct tc_err *why, void *arg)
{
	(void)arg;
	fprintf(stderr, "tocsinctl: skipped: %s\n", why->msg);
	return 0;
}

int
cmd_match(struct ctx *ctx, int argc, char **argv)
{
	enum tc_feed_format fmt = TC_FEED_AUTO;
	struct tc_feed_opts opts;
	struct tc_index    *idx;
	struct tc_err       err;
	int                 rc = EXIT_OK, nfiles = 0;

	tc_feed_opts_init(&opts);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			if (tc_feed_format_parse(argv[++i], &fmt) < 0) {
				ctx_err("unknown format \"%s\" (auto "
					"shadowserver misp stix csaf kev ioc "
					"creds cve)",
				    argv[i]);
				return EXIT_USAGE;
			}
		} else if (strncmp(argv[i], "--format=", 9) == 0) {
			if (tc_feed_format_parse(argv[i] + 9, &fmt) < 0)
				return EXIT_USAGE;
		} else if (argv[i][0] == '-') {
			return EXIT_USAGE;
		} else {
			nfiles++;
		}
	}
	if (nfiles == 0)
		return EXIT_USAGE;
	if (ctx_db(ctx, false) == NULL)
		return EXIT_FAIL;
	idx = tc_registry_load(ctx->db, &err);
	if (idx == NULL) {
		ctx_err("loading the registry: %s", err.msg);
		return EXIT_FAIL;
	}
	for (int i = 0; i < argc; i++) {
		struct tc_match_stats st;
		struct out            o = { argv[i] };
		int                   r;

		if (argv[i][0] == '-') {
			if (strcmp(argv[i], "--format") == 0)
				i++;
			continue;
		}
		r = tc_match_file(idx, argv[i], fmt, &opts, on_hit, on_skip, &o,
		    &st, &err);
		if (r < 0) {
			ctx_err("%s", err.msg);
			rc = EXIT_FAIL;
		} else if (r > 0) {
			ctx_err("%s: %d record%s skipped", argv[i], r,
			    r == 1 ? "" : "s");
			rc = EXIT_FAIL;
		}
		fprintf(stderr,
		    "tocsinctl: %s: %zu records, %zu events, %zu hits\n",
		    argv[i], st.feed.records, st.feed.events, st.hits);
	}
	tc_index_unref(idx);
	return rc;
}

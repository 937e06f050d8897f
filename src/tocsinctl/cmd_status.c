/* tocsinctl status: the running daemon at a glance (its `status` command).
 *
 * The same figures as /metrics: the outbox by state and the age of the
 * oldest waiting message, read from the database when asked; the counters
 * since tocsind started; the feed in the pipeline with its progress. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define STATUS_TIMEOUT_MS 10000

static long long
num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return 0;
}

/* "key N  key N ..." for each key of `keys` in object `o`. */
static void
row(const char *title, const json_t *o, const char *const *keys)
{
	printf("%-16s", title);
	for (size_t i = 0; keys[i]; i++)
		printf("%s%s %lld", i ? "  " : "", keys[i], num(o, keys[i]));
	putchar('\n');
}

/* Seconds as "1h02m", "3m05s", "42s". */
static void
duration(char *out, size_t size, double s)
{
	unsigned long long t = s > 0 ? (unsigned long long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(out, size, "%lluh%02llum", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(out, size, "%llum%02llus", t / 60, t % 60);
	else
		snprintf(out, size, "%llus", t);
}

static void
feed_row(const json_t *f)
{
	const json_t *eta = json_object_get(f, "eta_s");
	long long     total = num(f, "total_bytes"), bytes = num(f, "bytes");
	char          el[32], left[32] = "unknown";

	duration(el, sizeof(el),
	    json_number_value(json_object_get(f, "elapsed_s")));
	if (json_is_number(eta))
		duration(left, sizeof(left), json_number_value(eta));
	printf("%-16s%s  %s  %lld records in %s (%.0f/s)", "feed",
	    json_string_value(json_object_get(f, "file")),
	    json_string_value(json_object_get(f, "phase")), num(f, "records"),
	    el, json_number_value(json_object_get(f, "rate")));
	if (total > 0)
		printf("  %lld%% of %lld bytes", bytes * 100 / total, total);
	printf("  eta %s\n", left);
}

static void
print_table(const json_t *r)
{
	static const char *const states[] = { "queued", "sending", "sent",
		"deferred", "failed", "held", "cancelled", NULL };
	static const char *const results[] = { "sent", "deferred", "failed",
		"held", "released", NULL };
	static const char *const classes[] = { "key_missing", "key_unusable",
		"signing_key", "not_encrypted", "other", NULL };
	static const char *const kinds[] = { "session", "reply", NULL };
	static const char *const stages[] = { "compose", "send", NULL };
	static const char *const files[] = { "processed", "failed", "postponed",
		NULL };
	static const char *const figs[] = { "records", "events", "skipped",
		"hits", "warnings", NULL };
	const json_t            *outbox = json_object_get(r, "outbox");
	const json_t            *c = json_object_get(r, "counters");
	const json_t            *fd = json_object_get(c, "feeds");
	const json_t            *feed = json_object_get(r, "feed");
	const json_t            *port = json_object_get(r, "metrics_port");
	char                     age[32];

	printf("%-16srunning as %s, database %s\n", "tocsind",
	    json_string_value(json_object_get(r, "worker")),
	    json_is_true(json_object_get(r, "db_connected")) ? "connected"
							     : "DISCONNECTED");
	printf("%-16s%lld entities, %lld assets\n", "registry",
	    num(r, "entities"), num(r, "assets"));
	row("outbox", outbox, states);
	duration(age, sizeof(age), (double)num(outbox, "oldest_s"));
	printf("%-16s%s\n", "oldest waiting", age);
	row("held by reason", json_object_get(r, "held_by_reason"), classes);
	printf("%-16s%lld\n", "smtp sessions", num(r, "smtp_sessions"));
	printf("since start:\n");
	row("  deliveries", json_object_get(c, "deliveries"), results);
	row("  held at send", json_object_get(c, "held_before_sending"),
	    classes);
	row("  smtp errors", json_object_get(c, "smtp_errors"), kinds);
	row("  gpg errors", json_object_get(c, "gpg_errors"), stages);
	row("  feed files", json_object_get(fd, "files"), files);
	row("  feed rows", fd, figs);
	printf("%-16s%.3fs\n", "  last match",
	    json_number_value(json_object_get(fd, "match_seconds_last")));
	if (json_is_object(feed))
		feed_row(feed);
	else
		printf("%-16sidle\n", "feed");
	if (json_is_integer(port))
		printf("%-16sport %lld (GET /metrics)\n", "metrics",
		    (long long)json_integer_value(port));
	else
		printf("%-16soff (metrics.listen not set)\n", "metrics");
}

int
cmd_status(struct ctx *ctx, int argc, char **argv)
{
	json_t *r;

	(void)argv;
	if (argc != 0)
		return EXIT_USAGE;
	/* ctx_call says why it failed ("tocsind is not running ..."). */
	if ((r = ctx_call(ctx, "status", NULL, STATUS_TIMEOUT_MS)) == NULL)
		return EXIT_FAIL;
	if (ctx->json) {
		char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);

		if (s != NULL)
			puts(s);
		free(s);
	} else {
		print_table(r);
	}
	json_decref(r);
	return EXIT_OK;
}

/* tocsinctl relay run: ask the running tocsind for the relay digests of a
 * period now (tocsind's "relay.run", ctl_relay.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "tocsin/esc.h"
#include "tocsin/relaydigest.h"

/* Digests compose (gpg) before the daemon answers. */
#define RELAY_TIMEOUT_MS 120000

/* "--name VALUE" or "--name=VALUE" at argv[*i]: 1 and *val, 0 when it is
 * not that option, -1 when its value is missing. */
static int
option(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

static void
print_text(const json_t *res)
{
	const json_t *a;
	size_t        i;

	printf("period %s to %s: %lld digest(s)\n",
	    json_string_value(json_object_get(res, "since")),
	    json_string_value(json_object_get(res, "until")),
	    (long long)json_integer_value(json_object_get(res, "digests")));
	json_array_foreach(json_object_get(res, "authorities"), i, a)
	{
		const char *ref =
		    json_string_value(json_object_get(a, "reference"));
		const char *why =
		    json_string_value(json_object_get(a, "held_reason"));
		const char *label =
		    json_string_value(json_object_get(a, "label"));

		printf("%s <%s>: %s",
		    tc_esc(json_string_value(json_object_get(a, "authority"))),
		    tc_esc(json_string_value(json_object_get(a, "email"))),
		    json_string_value(json_object_get(a, "result")));
		if (ref != NULL)
			printf(" %s %s, %lld item(s), %lld finding(s) withheld",
			    ref, label ? label : "",
			    (long long)json_integer_value(
				json_object_get(a, "items")),
			    (long long)json_integer_value(
				json_object_get(a, "withheld")));
		if (why != NULL)
			printf(" (%s)", tc_esc(why));
		putchar('\n');
	}
}

int
cmd_relay_run(struct ctx *ctx, int argc, char **argv)
{
	const char   *since = NULL, *until = NULL;
	char          buf[TC_RELAYDIGEST_TIME_MAX];
	struct tc_err err;
	json_t       *args, *res;
	int64_t       t;

	for (int i = 0; i < argc; i++) {
		int r;

		if ((r = option(argc, argv, &i, "--since", &since)) == 0)
			r = option(argc, argv, &i, "--until", &until);
		if (r <= 0) {
			ctx_err("%s: %s", argv[i],
			    r < 0 ? "needs a value" : "unknown argument");
			return EXIT_USAGE;
		}
	}
	args = json_object();
	/* Checked here, sent normalised (and checked again by tocsind). */
	if (since != NULL) {
		if (tc_relaydigest_parse_time(since, &t, &err) < 0) {
			ctx_err("--since: %s", err.msg);
			json_decref(args);
			return EXIT_USAGE;
		}
		tc_relaydigest_format_time(t, buf, sizeof(buf));
		json_object_set_new(args, "since", json_string(buf));
	}
	if (until != NULL) {
		if (tc_relaydigest_parse_time(until, &t, &err) < 0) {
			ctx_err("--until: %s", err.msg);
			json_decref(args);
			return EXIT_USAGE;
		}
		tc_relaydigest_format_time(t, buf, sizeof(buf));
		json_object_set_new(args, "until", json_string(buf));
	}
	res = ctx_call(ctx, "relay.run", args, RELAY_TIMEOUT_MS);
	json_decref(args);
	if (res == NULL)
		return EXIT_FAIL;
	if (ctx->json) {
		char *s = json_dumps(res, JSON_COMPACT);

		puts(s ? s : "{}");
		free(s);
	} else {
		print_text(res);
	}
	json_decref(res);
	return EXIT_OK;
}

/* tocsinctl: advisories (advisory queue|list|show|approve|cancel, preview)
 * through the running tocsind, and the audit log read from the database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tocsin/advisory.h"
#include "tocsin/esc.h"
#include "tocsin/str.h"

#define CALL_MS 10000
#define APPROVE_MS 300000 /* composes and encrypts every mail */
#define AUDIT_ROWS_MAX "10000"

static int
load_file(const char *path, struct tc_buf *out)
{
	FILE  *f = fopen(path, "rb");
	char   chunk[8192];
	size_t n;

	if (f == NULL) {
		ctx_err("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		tc_buf_append(out, chunk, n);
		if (out->len > TC_ADVISORY_FILE_MAX) {
			ctx_err("%s: larger than %d bytes", path,
			    TC_ADVISORY_FILE_MAX);
			fclose(f);
			return -1;
		}
	}
	if (ferror(f)) {
		ctx_err("%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void
print_json(const json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (s != NULL)
		puts(s);
	free(s);
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

int
cmd_advisory_queue(struct ctx *ctx, int argc, char **argv)
{
	struct tc_buf data = TC_BUF_INIT, errors = TC_BUF_INIT;
	struct tc_err err;
	json_t       *doc = NULL, *args, *res;
	int           rc = EXIT_FAIL;

	if (argc != 1)
		return EXIT_USAGE;
	if (load_file(argv[0], &data) < 0)
		goto out;
	/* Every error of the file, before anything reaches the daemon. */
	if (tc_advisory_parse(argv[0], data.data ? data.data : "", data.len,
		&doc, &errors, &err) < 0) {
		fputs(errors.len ? errors.data : err.msg, stderr);
		if (!errors.len)
			fputc('\n', stderr);
		goto out;
	}
	args = json_pack("{s:O}", "document", doc);
	res = ctx_call(ctx, "advisory.queue", args, CALL_MS);
	json_decref(args);
	if (res == NULL)
		goto out;
	if (ctx->json)
		print_json(res);
	else
		printf("%s queued (%s), %lld recipient%s; approval by another "
		       "analyst dispatches it\n",
		    jstr(res, "reference"), jstr(res, "tlp"),
		    (long long)json_integer_value(
			json_object_get(res, "recipients")),
		    json_integer_value(json_object_get(res, "recipients")) == 1
			? ""
			: "s");
	json_decref(res);
	rc = EXIT_OK;
out:
	json_decref(doc);
	tc_buf_deinit(&data);
	tc_buf_deinit(&errors);
	return rc;
}

int
cmd_advisory_list(struct ctx *ctx, int argc, char **argv)
{
	json_t *res, *a, *v;
	size_t  i;

	(void)argv;
	if (argc != 0)
		return EXIT_USAGE;
	if ((res = ctx_call(ctx, "advisory.list", NULL, CALL_MS)) == NULL)
		return EXIT_FAIL;
	a = json_object_get(res, "advisories");
	if (!ctx->json)
		printf("%-24s  %-12s  %-8s  %-10s  %-12s  %-12s  %s\n",
		    "REFERENCE", "TLP", "SEVERITY", "STATE", "QUEUED_BY",
		    "APPROVED_BY", "TITLE");
	json_array_foreach(a, i, v)
	{
		if (ctx->json) {
			print_json(v);
			continue;
		}
		printf("%-24s  %-12s  %-8s  %-10s  %-12s  %-12s  %s\n",
		    jstr(v, "reference"), jstr(v, "tlp"), jstr(v, "severity"),
		    jstr(v, "state"), tc_esc(jstr(v, "queued_by")),
		    tc_esc(jstr(v, "approved_by")), tc_esc(jstr(v, "title")));
	}
	json_decref(res);
	return EXIT_OK;
}

int
cmd_advisory_show(struct ctx *ctx, int argc, char **argv)
{
	json_t *args, *res, *v, *doc;
	size_t  i;

	if (argc != 1)
		return EXIT_USAGE;
	args = json_pack("{s:s}", "reference", argv[0]);
	res = ctx_call(ctx, "advisory.show", args, CALL_MS);
	json_decref(args);
	if (res == NULL)
		return EXIT_FAIL;
	if (ctx->json) {
		print_json(res);
		json_decref(res);
		return EXIT_OK;
	}
	doc = json_object_get(res, "document");
	printf("reference:   %s\n", jstr(res, "reference"));
	printf("title:       %s\n", tc_esc(tc_advisory_title(doc)));
	printf("tlp:         TLP:%s\n", jstr(res, "tlp"));
	printf("severity:    %s\n", jstr(res, "severity"));
	printf("state:       %s\n", jstr(res, "state"));
	printf("queued by:   %s at %s\n", tc_esc(jstr(res, "queued_by")),
	    jstr(res, "queued_at"));
	if (json_object_get(res, "approved_by"))
		printf("approved by: %s at %s\n",
		    tc_esc(jstr(res, "approved_by")), jstr(res, "approved_at"));
	printf("languages:  ");
	{
		const char *k;
		json_t     *c;

		json_object_foreach(json_object_get(doc, "content"), k, c)
		    printf(" %s", k);
		(void)c;
	}
	printf("\ncves:       ");
	json_array_foreach(json_object_get(doc, "cves"), i, v)
	    printf(" %s", json_string_value(v));
	printf("\nsectors:    ");
	json_array_foreach(json_object_get(doc, "sectors"), i, v)
	    printf(" %s", json_string_value(v));
	printf("\nproducts:\n");
	json_array_foreach(json_object_get(doc, "products"), i, v)
	    printf("  %s %s\n", jstr(v, "cpe"),
		json_object_get(v, "versions") ? jstr(v, "versions") : "");
	if (json_object_get(res, "targeting_error"))
		printf("targeting:   %s\n",
		    tc_esc(jstr(res, "targeting_error")));
	printf("recipients:  %lld\n",
	    (long long)json_integer_value(json_object_get(res, "recipients")));
	json_array_foreach(json_object_get(res, "recipient_list"), i, v)
	{
		if (json_object_get(v, "message"))
			printf("  %-40s  %s  %s%s\n", tc_esc(jstr(v, "email")),
			    jstr(v, "lang"), jstr(v, "message"),
			    json_is_true(json_object_get(v, "encrypted"))
				? ", encrypted"
				: "");
		else
			printf("  %-40s  %s%s\n", tc_esc(jstr(v, "email")),
			    jstr(v, "lang"),
			    json_is_true(json_object_get(v, "key"))
				? ""
				: "  (no pinned key)");
	}
	json_decref(res);
	return EXIT_OK;
}

static int
by_reference(struct ctx *ctx, int argc, char **argv, const char *cmd,
    unsigned timeout_ms)
{
	json_t *args, *res;

	if (argc != 1)
		return EXIT_USAGE;
	args = json_pack("{s:s}", "reference", argv[0]);
	res = ctx_call(ctx, cmd, args, timeout_ms);
	json_decref(args);
	if (res == NULL)
		return EXIT_FAIL;
	if (ctx->json) {
		print_json(res);
	} else {
		printf("%s %s", jstr(res, "reference"), jstr(res, "state"));
		if (json_object_get(res, "recipients"))
			printf(", %lld recipients (%lld held)",
			    (long long)json_integer_value(
				json_object_get(res, "recipients")),
			    (long long)json_integer_value(
				json_object_get(res, "held")));
		if (json_is_true(json_object_get(res, "published")))
			printf(", published");
		if (json_object_get(res, "publish_error"))
			printf(", NOT published: %s",
			    tc_esc(jstr(res, "publish_error")));
		putchar('\n');
	}
	json_decref(res);
	return EXIT_OK;
}

int
cmd_advisory_approve(struct ctx *ctx, int argc, char **argv)
{
	return by_reference(ctx, argc, argv, "advisory.approve", APPROVE_MS);
}

int
cmd_advisory_cancel(struct ctx *ctx, int argc, char **argv)
{
	return by_reference(ctx, argc, argv, "advisory.cancel", CALL_MS);
}

int
cmd_preview(struct ctx *ctx, int argc, char **argv)
{
	const char *ref = NULL, *contact = NULL;
	json_t     *args, *res, *e;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--contact") == 0 && i + 1 < argc)
			contact = argv[++i];
		else if (argv[i][0] != '-' && ref == NULL)
			ref = argv[i];
		else
			return EXIT_USAGE;
	}
	if (ref == NULL || contact == NULL)
		return EXIT_USAGE;
	args = json_pack("{s:s, s:s}", "reference", ref, "contact", contact);
	res = ctx_call(ctx, "preview", args, CALL_MS);
	json_decref(args);
	if (res == NULL)
		return EXIT_FAIL;
	if (ctx->json) {
		print_json(res);
	} else {
		e = json_object_get(res, "entity");
		fwrite(json_string_value(e), 1, json_string_length(e), stdout);
	}
	json_decref(res);
	return EXIT_OK;
}

/* --since: an ISO date (or date and time), or Nd / Nh ago.  Writes an SQL
 * timestamp or interval parameter; 0 or -1. */
static int
since_param(const char *s, char *out, size_t size, bool *relative)
{
	size_t   n = strlen(s);
	uint64_t v;

	if (n >= 2 && (s[n - 1] == 'd' || s[n - 1] == 'h') &&
	    tc_parse_uint_n(s, n - 1, 0, 100000, &v) == 0) {
		*relative = true;
		return snprintf(out, size, "%llu %s", (unsigned long long)v,
			   s[n - 1] == 'd' ? "days" : "hours") < (int)size
		    ? 0
		    : -1;
	}
	/* YYYY-MM-DD[THH:MM[:SS]][Z]: checked by shape, then by the server. */
	if (n < 10 || n > 25)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || c == '-' || c == ':' ||
			c == 'T' || c == 'Z' || c == '+'))
			return -1;
	}
	*relative = false;
	return tc_strlcpy(out, s, size);
}

int
cmd_audit(struct ctx *ctx, int argc, char **argv)
{
	static const char sql[] =
	    "SELECT id, to_char(at AT TIME ZONE 'UTC',"
	    "  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), actor, action,"
	    "  coalesce(reference, ''), detail::text"
	    " FROM audit_log"
	    " WHERE ($1::timestamptz IS NULL OR at >= $1::timestamptz)"
	    "  AND ($2::interval IS NULL OR at >= now() - $2::interval)"
	    "  AND ($3::text IS NULL OR reference = $3)"
	    " ORDER BY id LIMIT " AUDIT_ROWS_MAX;
	const char   *params[3] = { NULL, NULL, NULL };
	char          since[64];
	struct tc_db *db;
	struct tc_err err;
	PGresult     *res;
	bool          relative = false;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (since_param(argv[++i], since, sizeof(since),
				&relative) < 0) {
				ctx_err("--since %s: expected YYYY-MM-DD[THH:MM"
					"[:SS]], Nd or Nh",
				    argv[i]);
				return EXIT_USAGE;
			}
			params[relative ? 1 : 0] = since;
		} else if (strcmp(argv[i], "--ref") == 0 && i + 1 < argc) {
			params[2] = argv[++i];
		} else {
			return EXIT_USAGE;
		}
	}
	if ((db = ctx_db(ctx, false)) == NULL)
		return EXIT_FAIL;
	if ((res = tc_db_exec(db, "audit", sql, 3, params, &err)) == NULL) {
		ctx_err("%s", err.msg);
		return EXIT_FAIL;
	}
	if (!ctx->json)
		printf("%-20s  %-12s  %-26s  %-24s  %s\n", "AT", "ACTOR",
		    "ACTION", "REFERENCE", "DETAIL");
	for (int r = 0; r < PQntuples(res); r++) {
		if (ctx->json) {
			json_error_t je;
			json_t      *o =
			    json_pack("{s:I, s:s, s:s, s:s, s:s*}", "id",
				(json_int_t)strtoll(PQgetvalue(res, r, 0), NULL,
				    10),
				"at", PQgetvalue(res, r, 1), "actor",
				PQgetvalue(res, r, 2), "action",
				PQgetvalue(res, r, 3), "reference",
				*PQgetvalue(res, r, 4) ? PQgetvalue(res, r, 4)
						       : NULL);

			json_object_set_new(o, "detail",
			    json_loads(PQgetvalue(res, r, 5), 0, &je));
			print_json(o);
			json_decref(o);
			continue;
		}
		printf("%-20s  %-12s  %-26s  %-24s  %s\n",
		    PQgetvalue(res, r, 1), tc_esc(PQgetvalue(res, r, 2)),
		    tc_esc(PQgetvalue(res, r, 3)),
		    tc_esc(PQgetvalue(res, r, 4)),
		    tc_esc(PQgetvalue(res, r, 5)));
	}
	PQclear(res);
	return EXIT_OK;
}

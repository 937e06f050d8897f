/* tocsinctl entity import | list | show */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "tocsin/esc.h"
#include "tocsin/regfile.h"

static int
read_file(const char *path, struct tc_buf *out)
{
	char    chunk[65536];
	ssize_t n;
	int     fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		ctx_err("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		tc_buf_append(out, chunk, (size_t)n);
		if (out->len > TC_REGFILE_MAX)
			break;
	}
	close(fd);
	if (n < 0) {
		ctx_err("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
cmd_entity_import(struct ctx *ctx, int argc, char **argv)
{
	struct tc_buf           data = TC_BUF_INIT, errors = TC_BUF_INIT;
	struct tc_regfile      *rf;
	struct tc_regfile_stats st;
	struct tc_err           err;
	int                     rc = EXIT_FAIL;

	if (argc != 1)
		return EXIT_USAGE;
	if (read_file(argv[0], &data) < 0)
		goto out;
	/* Validate the whole file before touching the database. */
	rf = tc_regfile_parse(argv[0], tc_buf_cstr(&data), data.len, &errors,
	    &err);
	if (rf == NULL) {
		fputs(errors.len ? errors.data : err.msg, stderr);
		ctx_err("%s; nothing was imported", err.msg);
		goto out;
	}
	if (ctx_db(ctx, false) == NULL ||
	    tc_regfile_store(ctx->db, rf, ctx->user, &st, &err) < 0) {
		if (ctx->db != NULL)
			ctx_err("%s", err.msg);
		tc_regfile_free(rf);
		goto out;
	}
	if (ctx->json)
		printf("{\"entities_inserted\": %u, \"entities_updated\": %u, "
		       "\"entities_unchanged\": %u, \"contacts_added\": %u, "
		       "\"contacts_removed\": %u, \"assets_added\": %u, "
		       "\"assets_removed\": %u, \"authorities\": %u}\n",
		    st.entities_inserted, st.entities_updated,
		    st.entities_unchanged, st.contacts_added,
		    st.contacts_removed, st.assets_added, st.assets_removed,
		    st.authorities);
	else
		printf("%s: entities %u inserted, %u updated, %u unchanged; "
		       "contacts %u added, %u removed; assets %u added, %u "
		       "removed; %u authorities\n",
		    argv[0], st.entities_inserted, st.entities_updated,
		    st.entities_unchanged, st.contacts_added,
		    st.contacts_removed, st.assets_added, st.assets_removed,
		    st.authorities);
	tc_regfile_free(rf);
	rc = EXIT_OK;
out:
	tc_buf_deinit(&data);
	tc_buf_deinit(&errors);
	return rc;
}

/* Print `s` padded to `width` terminal columns (UTF-8 aware: one column
 * per code point, which is right for the Latin scripts of the registry). */
static void
print_padded(const char *s, int width)
{
	int cols = 0;

	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if ((*c & 0xc0) != 0x80)
			cols++;
	fputs(s, stdout);
	for (; cols < width; cols++)
		putchar(' ');
}

static void
print_json_row(PGresult *res, int row)
{
	json_t *o = json_object();
	char   *s;

	for (int c = 0; c < PQnfields(res); c++) {
		const char *v = PQgetvalue(res, row, c);

		if (PQgetisnull(res, row, c))
			json_object_set_new(o, PQfname(res, c), json_null());
		else if (PQftype(res, c) == 20 || PQftype(res, c) == 23)
			json_object_set_new(o, PQfname(res, c),
			    json_integer(strtoll(v, NULL, 10)));
		else
			json_object_set_new(o, PQfname(res, c), json_string(v));
	}
	s = json_dumps(o, JSON_COMPACT);
	puts(s ? s : "{}");
	free(s);
	json_decref(o);
}

int
cmd_entity_list(struct ctx *ctx, int argc, char **argv)
{
	struct tc_err err;
	PGresult     *res;

	(void)argv;
	if (argc != 0)
		return EXIT_USAGE;
	if (ctx_db(ctx, false) == NULL)
		return EXIT_FAIL;
	res = tc_db_exec(ctx->db, "entity list",
	    "SELECT e.enterprise_number, e.name, e.kind, e.sector, e.language,"
	    " (SELECT count(*) FROM contact c WHERE c.entity_id = e.id)"
	    "  AS contacts,"
	    " (SELECT count(*) FROM asset a WHERE a.entity_id = e.id)"
	    "  AS assets "
	    "FROM entity e ORDER BY e.enterprise_number",
	    0, NULL, &err);
	if (res == NULL) {
		ctx_err("%s", err.msg);
		return EXIT_FAIL;
	}
	if (!ctx->json)
		printf("%-12s  %-32s  %-12s  %-24s  %-4s  %8s  %6s\n",
		    "ENTERPRISE", "NAME", "KIND", "SECTOR", "LANG", "CONTACTS",
		    "ASSETS");
	for (int r = 0; r < PQntuples(res); r++) {
		if (ctx->json) {
			print_json_row(res, r);
			continue;
		}
		printf("%-12s  ", PQgetvalue(res, r, 0));
		print_padded(tc_esc(PQgetvalue(res, r, 1)), 32);
		printf("  %-12s  %-24s  %-4s  %8s  %6s\n",
		    PQgetvalue(res, r, 2), PQgetvalue(res, r, 3),
		    PQgetvalue(res, r, 4), PQgetvalue(res, r, 5),
		    PQgetvalue(res, r, 6));
	}
	PQclear(res);
	return EXIT_OK;
}

int
cmd_entity_show(struct ctx *ctx, int argc, char **argv)
{
	struct tc_err err;
	PGresult     *res;
	char          en[13];
	const char   *p[1] = { en };

	if (argc != 1)
		return EXIT_USAGE;
	if (tc_regfile_enterprise_number(argv[0], en) < 0) {
		ctx_err("\"%s\" is not an enterprise number (e.g. 0123.456.789)",
		    tc_esc(argv[0]));
		return EXIT_USAGE;
	}
	if (ctx_db(ctx, false) == NULL)
		return EXIT_FAIL;
	/* One JSON document built by the server: every value escaped. */
	res = tc_db_exec(ctx->db, "entity show",
	    "SELECT jsonb_build_object("
	    " 'enterprise_number', e.enterprise_number, 'name', e.name,"
	    " 'kind', e.kind, 'sector', e.sector, 'language', e.language,"
	    " 'contacts', coalesce((SELECT jsonb_agg(jsonb_build_object("
	    "   'email', c.email, 'name', c.name, 'role', c.role,"
	    "   'language', c.language, 'pgp_fingerprint', c.pgp_fingerprint,"
	    "   'receives', c.receives) ORDER BY c.email)"
	    "   FROM contact c WHERE c.entity_id = e.id), '[]'),"
	    " 'assets', coalesce((SELECT jsonb_agg(jsonb_build_object("
	    "   'type', a.type, 'value', coalesce(a.prefix::text,"
	    "   a.asn::text, a.domain, a.cpe), 'verified', a.verified)"
	    "   ORDER BY a.type, a.prefix, a.asn, a.domain, a.cpe)"
	    "   FROM asset a WHERE a.entity_id = e.id), '[]'),"
	    " 'subscription', (SELECT jsonb_build_object('clearance',"
	    "   s.clearance, 'sectors', s.sectors, 'categories', s.categories,"
	    "   'min_severity', s.min_severity)"
	    "   FROM subscription s WHERE s.entity_id = e.id))::text "
	    "FROM entity e WHERE e.enterprise_number = $1",
	    1, p, &err);
	if (res == NULL) {
		ctx_err("%s", err.msg);
		return EXIT_FAIL;
	}
	if (PQntuples(res) == 0) {
		ctx_err("no entity with enterprise number %s", en);
		PQclear(res);
		return EXIT_FAIL;
	}
	if (ctx->json) {
		puts(PQgetvalue(res, 0, 0));
	} else {
		json_error_t je;
		json_t      *o = json_loads(PQgetvalue(res, 0, 0), 0, &je);
		json_t      *v;
		size_t       i;

		printf("%s  %s\n  kind %s, sector %s, language %s\n",
		    json_string_value(json_object_get(o, "enterprise_number")),
		    tc_esc(json_string_value(json_object_get(o, "name"))),
		    json_string_value(json_object_get(o, "kind")),
		    json_string_value(json_object_get(o, "sector")),
		    json_string_value(json_object_get(o, "language")));
		printf("contacts:\n");
		json_array_foreach(json_object_get(o, "contacts"), i, v)
		{
			char *rcv = json_dumps(json_object_get(v, "receives"),
			    JSON_COMPACT);
			const char *fpr = json_string_value(
			    json_object_get(v, "pgp_fingerprint"));

			printf("  %-36s %-20s key %s receives %s\n",
			    json_string_value(json_object_get(v, "email")),
			    json_is_string(json_object_get(v, "name"))
				? tc_esc(json_string_value(
				      json_object_get(v, "name")))
				: "-",
			    fpr ? fpr : "(none)", rcv ? rcv : "[]");
			free(rcv);
		}
		printf("assets:\n");
		json_array_foreach(json_object_get(o, "assets"), i, v)
			printf("  %-12s %s\n",
			    json_string_value(json_object_get(v, "type")),
			    json_string_value(json_object_get(v, "value")));
		v = json_object_get(o, "subscription");
		if (json_is_object(v)) {
			char *sec = json_dumps(json_object_get(v, "sectors"),
			    JSON_COMPACT);

			printf("subscription: clearance TLP:%s, sectors %s, "
			       "min severity %s\n",
			    json_string_value(json_object_get(v, "clearance")),
			    sec ? sec : "[]",
			    json_string_value(
				json_object_get(v, "min_severity")));
			free(sec);
		} else {
			printf("subscription: none\n");
		}
		json_decref(o);
	}
	PQclear(res);
	return EXIT_OK;
}

/* advisory_db: who receives an advisory, and its public documents on disk
 * (advisory.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tocsin/advisory.h"
#include "tocsin/db.h"
#include "tocsin/mem.h"
#include "tocsin/spear.h"

/* Non-RED: one statement; $4 (vendor:product of the advisory's products)
 * only selects candidates, the version check is tc_advisory_product_matches.
 * The CPE's vendor and product are its 4th and 5th colon fields.  Rows come
 * ordered by address and one copy per address is kept in C, after the
 * version check: an address that is a contact of two entities, one out of
 * the range and one in it, must not lose its copy to the first. */
static const char targets_sql[] =
    "SELECT c.id, c.entity_id, lower(c.email),"
    "  c.name, coalesce(c.language, e.language)::text, c.pgp_fingerprint,"
    "  e.kind::text, (s.sectors && $3::nis2_sector[]) OR $5::boolean,"
    "  array(SELECT a.cpe FROM asset a WHERE a.entity_id = e.id"
    "   AND a.type = 'product' AND lower(split_part(a.cpe, ':', 4) || ':'"
    "   || split_part(a.cpe, ':', 5)) = ANY($4::text[]) ORDER BY a.id)"
    " FROM contact c JOIN entity e ON e.id = c.entity_id"
    "  JOIN subscription s ON s.entity_id = e.id"
    " WHERE 'advisory' = ANY(c.receives)"
    "  AND s.clearance >= $1::tlp_label"
    "  AND s.min_severity <= $2::severity"
    "  AND (cardinality(s.categories) = 0"
    "   OR 'vulnerable_product' = ANY(s.categories))"
    "  AND ($5::boolean OR s.sectors && $3::nis2_sector[]"
    "   OR EXISTS (SELECT 1 FROM asset a WHERE a.entity_id = e.id"
    "    AND a.type = 'product' AND lower(split_part(a.cpe, ':', 4) || ':'"
    "    || split_part(a.cpe, ':', 5)) = ANY($4::text[])))"
    " ORDER BY lower(c.email), c.id";

/* TLP:RED: the listed addresses, nothing else. */
static const char red_sql[] =
    "SELECT DISTINCT ON (lower(c.email)) c.id, c.entity_id, lower(c.email),"
    "  c.name, coalesce(c.language, e.language)::text, c.pgp_fingerprint,"
    "  e.kind::text, true, '{}'::text[]"
    " FROM contact c JOIN entity e ON e.id = c.entity_id"
    " WHERE lower(c.email) = ANY($1::text[])"
    " ORDER BY lower(c.email), c.id";

static char *
dup_or_null(PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL
				      : tc_xstrdup(PQgetvalue(res, r, c));
}

/* Does a text[] literal (as libpq returns it) hold a CPE in range? */
static bool
any_cpe_matches(const json_t *doc, const char *arr)
{
	struct tc_buf cur = TC_BUF_INIT;
	bool          hit = false, quoted = false;

	/* {cpe,cpe} or {"cpe:2.3:a:x\\:y:..."}: CPEs hold no comma or
	 * brace, quotes and backslashes are unescaped here. */
	for (const char *c = arr + (*arr == '{'); *c && !hit; c++) {
		if (*c == '"') {
			quoted = !quoted;
		} else if (*c == '\\' && quoted && c[1]) {
			tc_buf_putc(&cur, *++c);
		} else if (!quoted && (*c == ',' || *c == '}')) {
			if (cur.len > 0)
				hit = tc_advisory_product_matches(doc,
				    tc_buf_cstr(&cur));
			tc_buf_reset(&cur);
		} else {
			tc_buf_putc(&cur, *c);
		}
	}
	tc_buf_deinit(&cur);
	return hit;
}

/* The languages as static strings (tc_advisory_compose swaps them). */
static const char *
static_lang(const char *l)
{
	static const char *const langs[] = { "en", "fr", "nl", "de" };

	for (size_t i = 0; i < 4; i++)
		if (strcmp(l, langs[i]) == 0)
			return langs[i];
	return "en";
}

int
tc_advisory_targets(struct tc_db *db, const json_t *doc,
    struct tc_notify_rcpt **out, struct tc_err *err)
{
	enum tc_tlp            tlp = tc_advisory_tlp(doc);
	struct tc_buf          a1 = TC_BUF_INIT, a2 = TC_BUF_INIT;
	struct tc_notify_rcpt *r = NULL;
	const json_t          *v;
	const char            *params[5];
	PGresult              *res;
	size_t                 i, n = 0;
	int                    rc = 0;

	*out = NULL;
	tc_db_array_begin(&a1);
	tc_db_array_begin(&a2);
	if (tlp == TC_TLP_RED) {
		json_array_foreach(json_object_get(doc, "recipients"), i, v)
		    tc_db_array_add(&a1, json_string_value(v));
		tc_db_array_end(&a1);
		params[0] = a1.data;
		res = tc_db_exec(db, "advisory recipients", red_sql, 1, params,
		    err);
	} else {
		bool all =
		    json_array_size(json_object_get(doc, "sectors")) == 0 &&
		    json_array_size(json_object_get(doc, "products")) == 0;

		json_array_foreach(json_object_get(doc, "sectors"), i, v)
		    tc_db_array_add(&a1, json_string_value(v));
		json_array_foreach(json_object_get(doc, "products"), i, v)
		{
			const char *cpe =
			    json_string_value(json_object_get(v, "cpe"));
			const char *p3 = cpe, *end;
			char        vp[TC_ADVISORY_CPE_MAX + 1];

			/* cpe:2.3:part:vendor:product: → "vendor:product" */
			for (int k = 0; k < 3 && p3; k++)
				p3 = strchr(p3, ':') ? strchr(p3, ':') + 1
						     : NULL;
			end = p3 ? strchr(p3, ':') : NULL;
			end = end ? strchr(end + 1, ':') : NULL;
			if (p3 == NULL || end == NULL ||
			    (size_t)(end - p3) >= sizeof(vp))
				continue;
			memcpy(vp, p3, (size_t)(end - p3));
			vp[end - p3] = '\0';
			tc_db_array_add(&a2, vp);
		}
		tc_db_array_end(&a1);
		tc_db_array_end(&a2);
		params[0] = tc_tlp_name(tlp);
		params[1] = tc_advisory_severity(doc);
		params[2] = a1.data;
		params[3] = a2.data;
		params[4] = all ? "t" : "f";
		res = tc_db_exec(db, "advisory targets", targets_sql, 5, params,
		    err);
	}
	if (res == NULL) {
		rc = TC_EDB;
		goto out;
	}
	r = tc_xcalloc((size_t)PQntuples(res) + 1, sizeof(*r));
	for (int row = 0; row < PQntuples(res); row++) {
		struct tc_notify_rcpt *c = &r[n];

		/* Sector match, or a product asset in the range. */
		if (strcmp(PQgetvalue(res, row, 7), "t") != 0 &&
		    !any_cpe_matches(doc, PQgetvalue(res, row, 8)))
			continue;
		/* One copy per address (rows are ordered by it). */
		if (n > 0 &&
		    strcmp(r[n - 1].addr, PQgetvalue(res, row, 2)) == 0)
			continue;
		memset(c, 0, sizeof(*c));
		c->contact_id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
		c->entity_id = strtoll(PQgetvalue(res, row, 1), NULL, 10);
		c->addr = dup_or_null(res, row, 2);
		c->name = dup_or_null(res, row, 3);
		c->lang = static_lang(PQgetvalue(res, row, 4));
		c->fpr = dup_or_null(res, row, 5);
		c->priority = tc_spear_priority(PQgetvalue(res, row, 6));
		n++;
	}
	PQclear(res);
	if (tlp == TC_TLP_RED) {
		struct tc_buf missing = TC_BUF_INIT;

		json_array_foreach(json_object_get(doc, "recipients"), i, v)
		{
			bool found = false;

			for (size_t k = 0; k < n && !found; k++)
				found = strcmp(r[k].addr,
					    json_string_value(v)) == 0;
			if (!found)
				tc_buf_printf(&missing, "%s%s",
				    missing.len ? ", " : "",
				    json_string_value(v));
		}
		if (missing.len > 0) {
			rc = tc_err_set(err, TC_EINPUT,
			    "recipients: not registered contacts: %s",
			    missing.data);
			tc_buf_deinit(&missing);
			tc_advisory_targets_free(r, n);
			r = NULL;
			goto out;
		}
	}
	*out = r;
	rc = (int)n;
out:
	tc_buf_deinit(&a1);
	tc_buf_deinit(&a2);
	return rc;
}

void
tc_advisory_targets_free(struct tc_notify_rcpt *r, size_t n)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		/* Our own copies; lang is static (static_lang). */
		free((char *)(uintptr_t)r[i].addr);
		free((char *)(uintptr_t)r[i].name);
		free((char *)(uintptr_t)r[i].fpr);
		tc_notify_rcpt_deinit(&r[i]);
	}
	free(r);
}

/* --- publication -----------------------------------------------------------
 */

static int
write_file(const char *dir, const char *name, const char *data, size_t len,
    struct tc_err *err)
{
	char   tmp[4096], dst[4096];
	int    fd, rc = 0;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >=
		(int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst))
		return tc_err_set(err, -ENAMETOOLONG, "%s: path too long", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return tc_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = tc_err_set(err, -errno, "%s: %s", tmp,
			    strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = tc_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = tc_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = tc_err_set(err, -errno, "%s: %s", dst, strerror(errno));
	if (rc < 0)
		(void)unlink(tmp);
	return rc;
}

static bool
reference_ok(const char *ref)
{
	if (ref == NULL || *ref == '\0' || strlen(ref) > 63 || *ref == '.')
		return false;
	for (const char *c = ref; *c; c++)
		if (!(*c >= 'A' && *c <= 'Z') && !(*c >= 'a' && *c <= 'z') &&
		    !(*c >= '0' && *c <= '9') && *c != '-' && *c != '_')
			return false;
	return true;
}

int
tc_advisory_publish(struct tc_db *db, const char *dir, const json_t *doc,
    const char *reference, time_t released,
    const struct tc_advisory_publisher *pub, struct tc_err *err)
{
	static const char sql[] =
	    "SELECT reference, document::text,"
	    "  extract(epoch FROM coalesce(approved_at, queued_at))::bigint"
	    " FROM advisory WHERE tlp = 'CLEAR' AND state = 'dispatched'"
	    " ORDER BY coalesce(approved_at, queued_at) DESC, id DESC"
	    " LIMIT $1";
	struct tc_advisory_entry e[TC_ADVISORY_ATOM_MAX];
	json_t                  *docs[TC_ADVISORY_ATOM_MAX];
	struct tc_buf            atom = TC_BUF_INIT;
	const char              *params[1];
	char                     lim[16], name[80];
	json_t                  *csaf;
	char                    *s;
	PGresult                *res;
	size_t                   n = 0;
	int                      rc;

	if (tc_advisory_tlp(doc) != TC_TLP_CLEAR)
		return tc_err_set(err, TC_ETLP,
		    "%s: only TLP:CLEAR advisories are published", reference);
	if (!reference_ok(reference))
		return tc_err_set(err, TC_EINPUT, "reference \"%s\" refused",
		    reference);
	csaf = tc_advisory_csaf(doc, reference, released, pub);
	s = json_dumps(csaf, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(csaf);
	snprintf(name, sizeof(name), "%s.json", reference);
	rc = write_file(dir, name, s, strlen(s), err);
	free(s);
	if (rc < 0)
		return rc;
	snprintf(lim, sizeof(lim), "%d", TC_ADVISORY_ATOM_MAX);
	params[0] = lim;
	if ((res = tc_db_exec(db, "atom entries", sql, 1, params, err)) == NULL)
		return TC_EDB;
	for (int r = 0; r < PQntuples(res) && n < TC_ADVISORY_ATOM_MAX; r++) {
		json_error_t je;

		docs[n] = json_loads(PQgetvalue(res, r, 1), 0, &je);
		if (docs[n] == NULL ||
		    tc_advisory_tlp(docs[n]) != TC_TLP_CLEAR) {
			json_decref(docs[n]);
			continue;
		}
		e[n].reference = PQgetvalue(res, r, 0);
		e[n].doc = docs[n];
		e[n].released =
		    (time_t)strtoll(PQgetvalue(res, r, 2), NULL, 10);
		n++;
	}
	tc_advisory_atom(e, n, pub, released, &atom);
	rc = write_file(dir, "advisories.atom", atom.data, atom.len, err);
	for (size_t i = 0; i < n; i++)
		json_decref(docs[i]);
	PQclear(res);
	tc_buf_deinit(&atom);
	return rc;
}

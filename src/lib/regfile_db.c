/* regfile_db: store a validated registry file in one transaction.
 * See include/tocsin/regfile.h.
 *
 * Two passes, so that an asset may move from one entity to another within
 * one file: first every entity is upserted and what it no longer lists is
 * removed; then contacts, assets and subscriptions are written.  An asset
 * owned by an entity the file does not mention is refused by the unique
 * indexes of the schema, and the message names the owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/buf.h"
#include "tocsin/db.h"
#include "tocsin/esc.h"
#include "tocsin/mem.h"
#include "tocsin/regfile.h"

/* Prefix a database error with the item's file position and path. */
static int
at(struct tc_err *err, const struct tc_regfile *rf, struct tc_reg_pos pos,
    const char *path)
{
	char msg[TC_ERR_MSG_MAX];

	memcpy(msg, err->msg, sizeof(msg));
	return tc_err_set(err, TC_EDB, "%s:%zu:%zu: %s: %s", rf->name,
	    pos.line, pos.col, path, msg);
}

/* "{a,b}" from strings, quoting each element for an array literal. */
static char *
array_literal(const char *const *v, size_t n)
{
	struct tc_buf b = TC_BUF_INIT;

	tc_buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		tc_buf_puts(&b, i ? ",\"" : "\"");
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				tc_buf_putc(&b, '\\');
			tc_buf_putc(&b, *c);
		}
		tc_buf_putc(&b, '"');
	}
	tc_buf_putc(&b, '}');
	return tc_buf_steal(&b, NULL);
}

static char *
assets_of_type(const struct tc_reg_entity *e, const char *t1, const char *t2)
{
	const char **v = tc_xcalloc(e->n_assets + 1, sizeof(*v));
	size_t       n = 0;
	char        *lit;

	for (size_t i = 0; i < e->n_assets; i++)
		if (strcmp(e->assets[i].type, t1) == 0 ||
		    (t2 && strcmp(e->assets[i].type, t2) == 0))
			v[n++] = e->assets[i].value;
	lit = array_literal(v, n);
	free(v);
	return lit;
}

static unsigned
affected(PGresult *res)
{
	const char *s = PQcmdTuples(res);

	return s && *s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

static int
pass_entity(struct tc_db *db, const struct tc_regfile *rf, size_t idx,
    char *id_out, size_t id_size, struct tc_regfile_stats *st,
    struct tc_err *err)
{
	const struct tc_reg_entity *e = &rf->entities[idx];
	const char                 *p[6];
	char                        path[64];
	PGresult                   *res;
	const char                **emails;
	char                       *lit, *pfx, *asn, *dom, *edom, *cpe;
	int                         rc = 0;

	snprintf(path, sizeof(path), "entities[%zu]", idx);
	p[0] = e->enterprise_number;
	p[1] = e->name;
	p[2] = e->kind;
	p[3] = e->sector;
	p[4] = e->language ? e->language : "en";
	res = tc_db_exec(db, "entity",
	    "INSERT INTO entity (enterprise_number, name, kind, sector, "
	    "language) VALUES ($1, $2, $3::nis2_kind, $4::nis2_sector, "
	    "$5::lang_code) "
	    "ON CONFLICT (enterprise_number) DO UPDATE SET name = $2, "
	    "kind = $3::nis2_kind, sector = $4::nis2_sector, "
	    "language = $5::lang_code, updated_at = now() "
	    "WHERE (entity.name, entity.kind::text, entity.sector::text, "
	    "entity.language::text) IS DISTINCT FROM ($2::text, $3::text, "
	    "$4::text, $5::text) "
	    "RETURNING id, (xmax = 0)",
	    5, p, err);
	if (res == NULL)
		return at(err, rf, e->pos, path);
	if (PQntuples(res) == 1) {
		snprintf(id_out, id_size, "%s", PQgetvalue(res, 0, 0));
		if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
			st->entities_inserted++;
		else
			st->entities_updated++;
		PQclear(res);
	} else {
		PQclear(res);
		res = tc_db_exec(db, "entity",
		    "SELECT id FROM entity WHERE enterprise_number = $1", 1, p,
		    err);
		if (res == NULL)
			return at(err, rf, e->pos, path);
		snprintf(id_out, id_size, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		st->entities_unchanged++;
	}
	/* What the entity no longer lists goes. */
	emails = tc_xcalloc(e->n_contacts + 1, sizeof(*emails));
	for (size_t i = 0; i < e->n_contacts; i++)
		emails[i] = e->contacts[i].email;
	lit = array_literal(emails, e->n_contacts);
	free(emails);
	p[0] = id_out;
	p[1] = lit;
	res = tc_db_exec(db, "contacts",
	    "DELETE FROM contact WHERE entity_id = $1 "
	    "AND NOT (email = ANY ($2::text[]))",
	    2, p, err);
	free(lit);
	if (res == NULL)
		return at(err, rf, e->pos, path);
	st->contacts_removed += affected(res);
	PQclear(res);
	pfx = assets_of_type(e, "ipv4", "ipv6");
	asn = assets_of_type(e, "asn", NULL);
	dom = assets_of_type(e, "domain", NULL);
	edom = assets_of_type(e, "email_domain", NULL);
	cpe = assets_of_type(e, "product", NULL);
	p[1] = pfx, p[2] = asn, p[3] = dom, p[4] = edom, p[5] = cpe;
	res = tc_db_exec(db, "assets",
	    "DELETE FROM asset WHERE entity_id = $1 AND NOT ("
	    " (type IN ('ipv4', 'ipv6') AND prefix = ANY ($2::cidr[]))"
	    " OR (type = 'asn' AND asn = ANY ($3::bigint[]))"
	    " OR (type = 'domain' AND domain = ANY ($4::text[]))"
	    " OR (type = 'email_domain' AND domain = ANY ($5::text[]))"
	    " OR (type = 'product' AND cpe = ANY ($6::text[])))",
	    6, p, err);
	free(pfx), free(asn), free(dom), free(edom), free(cpe);
	if (res == NULL)
		return at(err, rf, e->pos, path);
	st->assets_removed += affected(res);
	PQclear(res);
	return rc;
}

/* After a unique violation on an asset: who owns it?  Runs after the
 * rollback, outside the failed transaction. */
static void
name_owner(struct tc_db *db, const struct tc_regfile *rf,
    const struct tc_reg_asset *a, struct tc_err *err)
{
	const char   *p[2] = { a->type, a->value };
	PGresult     *res;
	struct tc_err e2;

	res = tc_db_exec(db, "owner",
	    "SELECT e.enterprise_number, e.name FROM asset a "
	    "JOIN entity e ON e.id = a.entity_id WHERE a.type = $1::asset_type "
	    "AND CASE WHEN a.type IN ('ipv4', 'ipv6') THEN a.prefix = "
	    "$2::text::cidr WHEN a.type = 'asn' THEN a.asn::text = $2::text "
	    "ELSE coalesce(a.domain, a.cpe) = $2::text END",
	    2, p, &e2);
	if (res != NULL && PQntuples(res) == 1)
		tc_err_set(err, TC_EDB,
		    "%s:%zu:%zu: %s: %s is already registered to %s (%s); "
		    "nothing was imported",
		    rf->name, a->pos.line, a->pos.col, a->path, a->value,
		    PQgetvalue(res, 0, 0), tc_esc(PQgetvalue(res, 0, 1)));
	PQclear(res);
}

static int
pass_items(struct tc_db *db, const struct tc_regfile *rf, size_t idx,
    const char *id, struct tc_regfile_stats *st,
    const struct tc_reg_asset **failed, struct tc_err *err)
{
	const struct tc_reg_entity *e = &rf->entities[idx];
	const char                 *p[8];
	char                        path[96];
	PGresult                   *res;

	for (size_t i = 0; i < e->n_contacts; i++) {
		const struct tc_reg_contact *c = &e->contacts[i];

		snprintf(path, sizeof(path), "entities[%zu].contacts[%zu]", idx,
		    i);
		p[0] = id;
		p[1] = c->email;
		p[2] = c->name;
		p[3] = c->role;
		p[4] = c->language;
		p[5] = c->fingerprint;
		p[6] = c->receives ? c->receives : "{spear,advisory}";
		res = tc_db_exec(db, "contact",
		    "INSERT INTO contact (entity_id, email, name, role, "
		    "language, pgp_fingerprint, receives) VALUES ($1, $2, $3, "
		    "$4, $5, $6, $7) ON CONFLICT (entity_id, email) DO UPDATE "
		    "SET name = $3, role = $4, language = $5, pgp_fingerprint "
		    "= $6, receives = $7 RETURNING (xmax = 0)",
		    7, p, err);
		if (res == NULL)
			return at(err, rf, c->pos, path);
		if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			st->contacts_added++;
		PQclear(res);
	}
	for (size_t i = 0; i < e->n_assets; i++) {
		const struct tc_reg_asset *a = &e->assets[i];
		bool is_pfx = a->type[0] == 'i', is_asn = a->type[0] == 'a',
		     is_cpe = a->type[0] == 'p';

		p[0] = id;
		p[1] = a->type;
		p[2] = is_pfx ? a->value : NULL;
		p[3] = is_asn ? a->value : NULL;
		p[4] = (!is_pfx && !is_asn && !is_cpe) ? a->value : NULL;
		p[5] = is_cpe ? a->value : NULL;
		res = tc_db_exec(db, "asset",
		    "INSERT INTO asset (entity_id, type, prefix, asn, domain, "
		    "cpe) SELECT $1::bigint, $2::asset_type, $3::cidr, $4::bigint, "
		    "$5::text, $6::text WHERE NOT EXISTS (SELECT 1 FROM asset WHERE entity_id "
		    "= $1 AND type = $2::asset_type AND prefix IS NOT "
		    "DISTINCT FROM $3::cidr AND asn IS NOT DISTINCT FROM "
		    "$4::bigint AND domain IS NOT DISTINCT FROM $5::text AND cpe "
		    "IS NOT DISTINCT FROM $6::text)",
		    6, p, err);
		if (res == NULL) {
			*failed = a;
			return at(err, rf, a->pos, a->path);
		}
		st->assets_added += affected(res);
		PQclear(res);
	}
	snprintf(path, sizeof(path), "entities[%zu].subscription", idx);
	if (e->has_subscription) {
		p[0] = id;
		p[1] = e->clearance ? e->clearance : "GREEN";
		p[2] = e->sectors ? e->sectors : "{}";
		p[3] = e->categories ? e->categories : "{}";
		p[4] = e->min_severity ? e->min_severity : "info";
		res = tc_db_exec(db, "subscription",
		    "INSERT INTO subscription (entity_id, clearance, sectors, "
		    "categories, min_severity) VALUES ($1, $2, $3, $4, $5) "
		    "ON CONFLICT (entity_id) DO UPDATE SET clearance = $2, "
		    "sectors = $3, categories = $4, min_severity = $5",
		    5, p, err);
	} else {
		p[0] = id;
		res = tc_db_exec(db, "subscription",
		    "DELETE FROM subscription WHERE entity_id = $1", 1, p, err);
	}
	if (res == NULL)
		return at(err, rf, e->pos, path);
	PQclear(res);
	return 0;
}

int
tc_regfile_store(struct tc_db *db, const struct tc_regfile *rf,
    const char *actor, struct tc_regfile_stats *st, struct tc_err *err)
{
	char                     **ids;
	const struct tc_reg_asset *failed = NULL;
	struct tc_buf              detail = TC_BUF_INIT;
	const char                *p[6];
	int                        rc;

	memset(st, 0, sizeof(*st));
	ids = tc_xcalloc(rf->n_entities + 1, sizeof(*ids));
	if ((rc = tc_db_begin(db, err)) < 0)
		goto out;
	for (size_t i = 0; i < rf->n_entities; i++) {
		ids[i] = tc_xcalloc(1, 24);
		if ((rc = pass_entity(db, rf, i, ids[i], 24, st, err)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < rf->n_entities; i++)
		if ((rc = pass_items(db, rf, i, ids[i], st, &failed, err)) < 0)
			goto fail;
	for (size_t i = 0; i < rf->n_authorities; i++) {
		const struct tc_reg_authority *a = &rf->authorities[i];
		char                           path[48];

		snprintf(path, sizeof(path), "authorities[%zu]", i);
		p[0] = a->name;
		p[1] = a->sectors;
		p[2] = a->email;
		p[3] = a->fingerprint;
		p[4] = a->language ? a->language : "en";
		p[5] = a->clearance ? a->clearance : "AMBER";
		if ((rc = tc_db_run(db, "authority",
			 "INSERT INTO sector_authority (name, sectors, email, "
			 "pgp_fingerprint, language, clearance) VALUES ($1, $2, "
			 "$3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET "
			 "sectors = $2, email = $3, pgp_fingerprint = $4, "
			 "language = $5, clearance = $6",
			 6, p, err)) < 0) {
			rc = at(err, rf, a->pos, path);
			goto fail;
		}
		st->authorities++;
	}
	tc_buf_printf(&detail,
	    "{\"file\": \"%s\", \"entities_inserted\": %u, "
	    "\"entities_updated\": %u, \"entities_unchanged\": %u, "
	    "\"contacts_added\": %u, \"contacts_removed\": %u, "
	    "\"assets_added\": %u, \"assets_removed\": %u, "
	    "\"authorities\": %u}",
	    "-", st->entities_inserted, st->entities_updated,
	    st->entities_unchanged, st->contacts_added, st->contacts_removed,
	    st->assets_added, st->assets_removed, st->authorities);
	p[0] = actor;
	p[1] = detail.data;
	p[2] = rf->name;
	if ((rc = tc_db_run(db, "audit",
		 "INSERT INTO audit_log (actor, action, detail) VALUES ($1, "
		 "'entity.import', jsonb_set($2::jsonb, '{file}', "
		 "to_jsonb($3::text)))",
		 3, p, err)) < 0)
		goto fail;
	rc = tc_db_commit(db, err);
	if (rc < 0)
		goto fail;
	goto out;
fail:
	/* Only a unique violation means "owned by someone else". */
	if (strcmp(tc_db_error(db)->sqlstate, "23505") != 0)
		failed = NULL;
	tc_db_rollback(db);
	if (failed != NULL)
		name_owner(db, rf, failed, err);
out:
	for (size_t i = 0; i < rf->n_entities; i++)
		free(ids[i]);
	free(ids);
	tc_buf_deinit(&detail);
	return rc;
}

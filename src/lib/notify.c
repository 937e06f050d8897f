/* notify: compose a notification for its recipients and queue the rows
 * (notify.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/compose.h"
#include "tocsin/db.h"
#include "tocsin/mem.h"
#include "tocsin/notify.h"

static void
held(struct tc_notify_rcpt *r, const char *why)
{
	tc_buf_deinit_secret(&r->wire);
	free(r->held_reason);
	r->held_reason = tc_xstrdup(why);
}

static const char *
lang_of(const struct tc_notify_rcpt *r)
{
	return r->lang ? r->lang : "en";
}

static void
composed(struct tc_notify *n, struct tc_notify_rcpt *r)
{
	if (n->on_composed != NULL)
		n->on_composed(r, n->on_composed_arg);
}

void
tc_notify_compose(struct tc_notify *n, struct tc_pgp *pgp,
    const char *pgp_error, const struct tc_templates *tpl, time_t now)
{
	/* Sign once per language, encrypt per recipient. */
	for (size_t i = 0; i < n->n_rcpt; i++) {
		struct tc_notify_rcpt    *c = &n->rcpt[i];
		struct tc_compose_signed  s;
		struct tc_compose_content cc;
		struct tc_err             err;

		if (c->held_reason != NULL || c->used_lang[0] != '\0')
			continue; /* done with an earlier one's language */
		if (pgp == NULL) {
			held(c, pgp_error ? pgp_error : "no signing key");
			composed(n, c);
			continue;
		}
		memset(&cc, 0, sizeof(cc));
		cc.template_name = n->template_name;
		cc.lang = lang_of(c);
		cc.ctx = n->ctx;
		cc.tlp = n->tlp;
		cc.encrypt = n->encrypt;
		cc.reference = n->reference;
		cc.from_addr = n->from_addr;
		cc.from_name = n->from_name;
		cc.attachment_name = n->attachment_name;
		cc.attachment_type = n->attachment_type;
		cc.attachment = n->attachment;
		cc.attachment_len = n->attachment_len;
		if (tc_compose_sign(pgp, tpl, &cc, &s, &err) < 0) {
			for (size_t j = i; j < n->n_rcpt; j++)
				if (strcmp(lang_of(&n->rcpt[j]), cc.lang) ==
					0 &&
				    n->rcpt[j].held_reason == NULL) {
					held(&n->rcpt[j], err.msg);
					composed(n, &n->rcpt[j]);
				}
			continue;
		}
		for (size_t j = i; j < n->n_rcpt; j++) {
			struct tc_notify_rcpt *d = &n->rcpt[j];
			struct tc_compose_rcpt r = { d->addr, d->name, d->fpr };
			struct tc_buf          subj = TC_BUF_INIT;

			if (strcmp(lang_of(d), cc.lang) != 0 ||
			    d->held_reason != NULL)
				continue;
			if (tc_compose_wrap(pgp, &s, &r, now, &d->wire,
				&d->encrypted, &err) < 0) {
				held(d, err.msg);
			} else {
				tc_compose_outer_subject(&s, d->encrypted,
				    &subj);
				d->outer_subject = tc_buf_steal(&subj, NULL);
			}
			memcpy(d->used_lang, s.lang, sizeof(d->used_lang));
			composed(n, d);
		}
		tc_compose_signed_deinit(&s);
	}
}

void
tc_notify_rcpt_deinit(struct tc_notify_rcpt *r)
{
	tc_buf_deinit_secret(&r->wire);
	free(r->held_reason);
	free(r->outer_subject);
	r->held_reason = r->outer_subject = NULL;
}

static const char queue_sql[] =
    "WITH m AS (INSERT INTO message (reference, kind, entity_id, contact_id,"
    "   authority_id, advisory_id, recipient, recipient_fpr, language,"
    "   subject, tlp, category, priority, state, encrypted, body,"
    "   held_reason)"
    "  SELECT $1, $2::message_kind, nullif(t.eid, 0), nullif(t.cid, 0),"
    "   nullif(t.aid, 0), nullif($3::bigint, 0), t.rcpt, t.fpr,"
    "   t.lang::lang_code, t.subj, $4::tlp_label, $5::category,"
    "   t.prio::smallint, t.state::message_state, t.enc,"
    "   decode(t.body, 'hex'), t.held"
    "  FROM unnest($6::bigint[], $7::bigint[], $8::bigint[], $9::text[],"
    "   $10::text[], $11::text[], $12::text[], $13::int[], $14::text[],"
    "   $15::boolean[], $16::text[], $17::text[])"
    "   AS t(eid, cid, aid, rcpt, fpr, lang, subj, prio, state, enc, body,"
    "    held)"
    "  RETURNING id, recipient, state, held_reason),"
    " a AS (INSERT INTO audit_log (actor, action, reference, detail)"
    "  SELECT 'tocsind', 'message.' || m.state, $1,"
    "   jsonb_build_object('message', m.id, 'recipient', m.recipient,"
    "    'kind', $2::text, 'held_reason', m.held_reason) FROM m)"
    " SELECT count(*) FROM m";

#define NCOLS 12

static void
hex_of(struct tc_buf *out, const struct tc_buf *in)
{
	static const char hexd[] = "0123456789abcdef";

	tc_buf_reserve(out, in->len * 2);
	for (size_t i = 0; i < in->len; i++) {
		unsigned char c = (unsigned char)in->data[i];

		out->data[out->len++] = hexd[c >> 4];
		out->data[out->len++] = hexd[c & 15];
	}
	out->data[out->len] = '\0';
}

int
tc_notify_queue(struct tc_db *db, const struct tc_notify *n, struct tc_err *err)
{
	struct tc_buf a[NCOLS], hex = TC_BUF_INIT;
	const char   *params[5 + NCOLS];
	char          v[32], adv[32];
	PGresult     *res;
	int           rc;

	if (n->n_rcpt == 0)
		return 0;
	for (size_t i = 0; i < NCOLS; i++) {
		tc_buf_init(&a[i]);
		tc_db_array_begin(&a[i]);
	}
	for (size_t i = 0; i < n->n_rcpt; i++) {
		const struct tc_notify_rcpt *c = &n->rcpt[i];
		bool                         h = c->held_reason != NULL;

		snprintf(v, sizeof(v), "%" PRId64, c->entity_id);
		tc_db_array_add(&a[0], v);
		snprintf(v, sizeof(v), "%" PRId64, c->contact_id);
		tc_db_array_add(&a[1], v);
		snprintf(v, sizeof(v), "%" PRId64, c->authority_id);
		tc_db_array_add(&a[2], v);
		tc_db_array_add(&a[3], c->addr);
		/* The key it was (or would be) encrypted to. */
		tc_db_array_add(&a[4], c->encrypted || h ? c->fpr : NULL);
		tc_db_array_add(&a[5], c->used_lang[0] ? c->used_lang : "en");
		tc_db_array_add(&a[6], c->outer_subject);
		snprintf(v, sizeof(v), "%d", c->priority);
		tc_db_array_add(&a[7], v);
		tc_db_array_add(&a[8], h ? "held" : "queued");
		/* A held row claims the encryption its label demands. */
		tc_db_array_add(&a[9],
		    (h ? n->encrypt || tc_tlp_needs_encryption(n->tlp)
		       : c->encrypted)
			? "t"
			: "f");
		tc_buf_reset(&hex);
		hex_of(&hex, &c->wire);
		tc_db_array_add(&a[10], h ? NULL : tc_buf_cstr(&hex));
		tc_db_array_add(&a[11], c->held_reason);
	}
	for (size_t i = 0; i < NCOLS; i++)
		tc_db_array_end(&a[i]);
	snprintf(adv, sizeof(adv), "%" PRId64, n->advisory_id);
	params[0] = n->reference;
	params[1] = n->kind;
	params[2] = adv;
	params[3] = tc_tlp_name(n->tlp);
	params[4] = n->category;
	for (size_t i = 0; i < NCOLS; i++)
		params[5 + i] = a[i].data;
	res =
	    tc_db_exec(db, "queue messages", queue_sql, 5 + NCOLS, params, err);
	if (res == NULL) {
		rc = TC_EDB;
	} else {
		rc = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	for (size_t i = 0; i < NCOLS; i++)
		tc_buf_deinit(&a[i]);
	tc_buf_deinit(&hex);
	return rc;
}

int
tc_notify_references(struct tc_db *db, const char *prefix, size_t count,
    time_t now, char (*refs)[64], struct tc_err *err)
{
	static const char sql[] =
	    "INSERT INTO reference_counter AS r (year, last) VALUES ($1, $2)"
	    " ON CONFLICT (year) DO UPDATE SET last = r.last + $2"
	    " RETURNING last";
	const char *params[2];
	char        year[16], n[24];
	PGresult   *res;
	struct tm   tm;
	long        last;

	if (count == 0)
		return 0;
	gmtime_r(&now, &tm);
	snprintf(year, sizeof(year), "%d", tm.tm_year + 1900);
	snprintf(n, sizeof(n), "%zu", count);
	params[0] = year;
	params[1] = n;
	if ((res = tc_db_exec(db, "references", sql, 2, params, err)) == NULL)
		return TC_EDB;
	last = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	for (size_t i = 0; i < count; i++)
		snprintf(refs[i], 64, "%s-%s-%06ld", prefix, year,
		    last - (long)count + 1 + (long)i);
	return 0;
}

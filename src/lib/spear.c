/* spear: prepare, compose and commit a feed file's spear warnings
 * (spear.h).  Start at tc_spear_prepare(). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/compose.h"
#include "tocsin/db.h"
#include "tocsin/esc.h"
#include "tocsin/index.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/notify.h"
#include "tocsin/spear.h"
#include "tocsin/str.h"

int
tc_spear_priority(const char *kind)
{
	if (kind == NULL)
		return 3;
	if (strcmp(kind, "essential") == 0)
		return 0;
	if (strcmp(kind, "public_admin") == 0)
		return 1;
	if (strcmp(kind, "important") == 0)
		return 2;
	return 3;
}

/* A JSON string of feed text: invalid UTF-8 bytes become '?', so a broken
 * feed value can neither vanish nor break the document. */
static json_t *
jstr(const char *s)
{
	json_t *j;
	char   *copy;
	size_t  n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (tc_utf8_is_valid(s, n))
		return json_stringn(s, n);
	copy = tc_xstrdup(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	json_t *j = jstr(v);

	if (j != NULL)
		json_object_set_new(o, k, j);
}

static void
fmt_time(char *out, size_t size, int64_t t)
{
	time_t    tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm);
}

json_t *
tc_spear_context(const struct tc_spear_warning *w,
    const struct tc_spear_config *sc, time_t now)
{
	const struct tc_aggregate_group *g = w->group;
	json_t *ctx = tc_compose_context(w->tlp, w->reference, sc->from_addr,
	    sc->from_name, sc->csirt_url, now);
	json_t *ent = json_object(), *items = json_array();
	size_t  shown = 0, count = 0;
	char    ts[64];

	set_str(ent, "name", w->entity_name);
	set_str(ent, "enterprise_number", w->enterprise_number);
	json_object_set_new(ctx, "entity", ent);
	set_str(ctx, "category", tc_category_name(g->category));
	set_str(ctx, "severity", tc_severity_name(g->severity));
	for (size_t i = 0; i < g->n_items; i++) {
		const struct tc_aggregate_item *it = &g->items[i];
		json_t                         *o;

		if (!w->due[i])
			continue;
		count++;
		if (shown == TC_SPEAR_SHOWN_MAX)
			continue;
		shown++;
		o = json_object();
		set_str(o, "indicator", it->indicator);
		set_str(o, "ip", it->ip);
		set_str(o, "hostname", it->hostname);
		/* Templates print "AS{{asn}}". */
		if (it->asn != NULL) {
			const char *a = it->asn;
			uint64_t    asn;

			if (tc_str_has_prefix(a, "AS") || tc_str_has_prefix(a, "as"))
				a += 2;
			if (tc_parse_uint(a, 1, UINT32_MAX, &asn) == 0)
				json_object_set_new(o, "asn",
				    json_integer((json_int_t)asn));
		}
		if (it->port != 0)
			json_object_set_new(o, "port", json_integer(it->port));
		set_str(o, "protocol", it->protocol);
		fmt_time(ts, sizeof(ts), it->first_seen);
		if (*ts)
			set_str(o, "first_seen", ts);
		fmt_time(ts, sizeof(ts), it->last_seen);
		if (*ts)
			set_str(o, "last_seen", ts);
		set_str(o, "what", it->what);
		set_str(o, "cve", it->cve);
		set_str(o, "product", it->product);
		/* Only web links become links: never javascript: or data:. */
		if (it->url != NULL && (tc_str_has_prefix(it->url, "https://") ||
					   tc_str_has_prefix(it->url, "http://")))
			set_str(o, "url", it->url);
		json_object_set_new(o, "exploited", json_boolean(it->exploited));
		json_array_append_new(items, o);
	}
	/* Items the aggregate could not keep are counted too. */
	count += g->dropped;
	json_object_set_new(ctx, "items", items);
	json_object_set_new(ctx, "count", json_integer((json_int_t)count));
	json_object_set_new(ctx, "shown", json_integer((json_int_t)shown));
	json_object_set_new(ctx, "truncated", json_boolean(count > shown));
	if (count > shown)
		json_object_set_new(ctx, "attachment",
		    json_string("findings.csv"));
	return ctx;
}

/* One CSV cell: quoted when needed; a leading = + - @ (a spreadsheet
 * formula) gets a leading apostrophe. */
static void
csv_cell(struct tc_buf *out, const char *s, bool last)
{
	bool quote = false;

	if (s == NULL)
		s = "";
	for (const char *p = s; *p; p++)
		if (*p == '"' || *p == ',' || *p == '\n' || *p == '\r')
			quote = true;
	if (quote)
		tc_buf_putc(out, '"');
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		tc_buf_putc(out, '\'');
	for (; *s; s++) {
		if (*s == '"')
			tc_buf_putc(out, '"');
		tc_buf_putc(out, *s);
	}
	if (quote)
		tc_buf_putc(out, '"');
	tc_buf_puts(out, last ? "\r\n" : ",");
}

void
tc_spear_csv(const struct tc_spear_warning *w, struct tc_buf *out)
{
	const struct tc_aggregate_group *g = w->group;
	char                             ts[64], port[8];

	tc_buf_puts(out, "indicator,ip,hostname,asn,port,protocol,first_seen,"
			 "last_seen,what,cve,product,url,exploited\r\n");
	for (size_t i = 0; i < g->n_items; i++) {
		const struct tc_aggregate_item *it = &g->items[i];

		if (!w->due[i])
			continue;
		csv_cell(out, it->indicator, false);
		csv_cell(out, it->ip, false);
		csv_cell(out, it->hostname, false);
		csv_cell(out, it->asn, false);
		if (it->port)
			snprintf(port, sizeof(port), "%u", it->port);
		else
			port[0] = '\0';
		csv_cell(out, port, false);
		csv_cell(out, it->protocol, false);
		fmt_time(ts, sizeof(ts), it->first_seen);
		csv_cell(out, ts, false);
		fmt_time(ts, sizeof(ts), it->last_seen);
		csv_cell(out, ts, false);
		csv_cell(out, it->what, false);
		csv_cell(out, it->cve, false);
		csv_cell(out, it->product, false);
		csv_cell(out, it->url, false);
		csv_cell(out, it->exploited ? "yes" : "", true);
	}
}

/* --- step 1 ------------------------------------------------------------- */

struct prep {
	struct tc_aggregate *agg;
	struct tc_buf       *report;
	size_t               reported;
	size_t               skipped;
	const struct tc_feed_opts *opts;
};

static int
on_hit(const struct tc_event *ev, const struct tc_index_hit *hit, void *arg)
{
	struct prep *p = arg;
	size_t       ind = hit->indicator;

	enum tc_tlp  tlp = ev->tlp_set ? ev->tlp : p->opts->default_tlp;

	/* A product hit names no indicator but the inventory entry. */
	if (ind == (size_t)-1)
		(void)tc_aggregate_add_product(p->agg, hit->entity->id, ev,
		    hit->asset, tlp);
	else
		(void)tc_aggregate_add(p->agg, hit->entity->id, ev, ind, tlp);
	return 0;
}

static int
on_skip(const struct tc_err *why, void *arg)
{
	struct prep *p = arg;

	p->skipped++;
	if (p->reported < TC_SPEAR_REPORT_MAX) {
		tc_buf_printf(p->report, "%s\n", tc_esc(why->msg));
		p->reported++;
	}
	return 0;
}

static void
num(char *out, size_t size, int64_t v)
{
	snprintf(out, size, "%" PRId64, v);
}

static int
find_warning(const struct tc_spear_plan *p, int64_t entity, size_t from)
{
	for (size_t i = from; i < p->n; i++)
		if (p->w[i].entity_id == entity)
			return (int)i;
	return -1;
}

static int
load_contacts(struct tc_db *db, struct tc_spear_plan *p, struct tc_err *err)
{
	static const char sql[] =
	    "SELECT c.entity_id, c.id, c.email, c.name,"
	    " coalesce(c.language, e.language)::text, c.pgp_fingerprint"
	    " FROM contact c JOIN entity e ON e.id = c.entity_id"
	    " WHERE c.entity_id = ANY($1::bigint[])"
	    "  AND 'spear' = ANY(c.receives)"
	    " ORDER BY c.entity_id, c.id";
	struct tc_buf ids = TC_BUF_INIT;
	const char   *params[1];
	PGresult     *res;
	char          v[32];

	tc_db_array_begin(&ids);
	for (size_t i = 0; i < p->n; i++) {
		num(v, sizeof(v), p->w[i].entity_id);
		tc_db_array_add(&ids, v);
	}
	tc_db_array_end(&ids);
	params[0] = ids.data;
	res = tc_db_exec(db, "spear contacts", sql, 1, params, err);
	tc_buf_deinit(&ids);
	if (res == NULL)
		return TC_EDB;
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t e = strtoll(PQgetvalue(res, r, 0), NULL, 10);

		/* Every warning of that entity (one per category) gets it. */
		for (int wi = find_warning(p, e, 0); wi >= 0;
		     wi = find_warning(p, e, (size_t)wi + 1)) {
			struct tc_spear_warning *w = &p->w[wi];
			struct tc_notify_rcpt   *c;

			w->rcpt = tc_xreallocarray(w->rcpt, w->n_contacts + 1,
			    sizeof(*w->rcpt));
			c = &w->rcpt[w->n_contacts++];
			memset(c, 0, sizeof(*c));
			c->entity_id = w->entity_id;
			c->contact_id = strtoll(PQgetvalue(res, r, 1), NULL, 10);
			c->priority = w->priority;
			c->addr = tc_xstrdup(PQgetvalue(res, r, 2));
			c->name = PQgetisnull(res, r, 3) ?
			    NULL :
			    tc_xstrdup(PQgetvalue(res, r, 3));
			c->lang = tc_xstrdup(PQgetvalue(res, r, 4));
			c->fpr = PQgetisnull(res, r, 5) ?
			    NULL :
			    tc_xstrdup(PQgetvalue(res, r, 5));
		}
	}
	PQclear(res);
	return 0;
}

/* Which findings are due: never notified, or notified longer ago than the
 * suppression window (so one that comes back after being gone that long
 * is sent again). */
static int
load_due(struct tc_db *db, struct tc_spear_plan *p, unsigned window_s,
    struct tc_err *err)
{
	static const char sql[] =
	    "SELECT t.wi, t.ii FROM unnest($1::int[], $2::int[], $3::bigint[],"
	    "  $4::category[], $5::text[]) AS t(wi, ii, e, c, ind)"
	    " LEFT JOIN sighting s ON s.entity_id = t.e AND s.category = t.c"
	    "  AND s.indicator = t.ind"
	    " WHERE s.last_notified IS NULL"
	    "  OR s.last_notified < now() - make_interval(secs => $6::int)";
	struct tc_buf wis = TC_BUF_INIT, iis = TC_BUF_INIT, es = TC_BUF_INIT,
		      cs = TC_BUF_INIT, inds = TC_BUF_INIT;
	const char   *params[6];
	char          v[32], win[16];
	PGresult     *res;
	size_t        total = 0;

	tc_db_array_begin(&wis);
	tc_db_array_begin(&iis);
	tc_db_array_begin(&es);
	tc_db_array_begin(&cs);
	tc_db_array_begin(&inds);
	for (size_t w = 0; w < p->n; w++) {
		const struct tc_aggregate_group *g = p->w[w].group;

		for (size_t i = 0; i < g->n_items; i++) {
			num(v, sizeof(v), (int64_t)w);
			tc_db_array_add(&wis, v);
			num(v, sizeof(v), (int64_t)i);
			tc_db_array_add(&iis, v);
			num(v, sizeof(v), g->entity_id);
			tc_db_array_add(&es, v);
			tc_db_array_add(&cs, tc_category_name(g->category));
			tc_db_array_add(&inds, g->items[i].indicator);
			total++;
		}
	}
	tc_db_array_end(&wis);
	tc_db_array_end(&iis);
	tc_db_array_end(&es);
	tc_db_array_end(&cs);
	tc_db_array_end(&inds);
	snprintf(win, sizeof(win), "%u", window_s);
	params[0] = wis.data;
	params[1] = iis.data;
	params[2] = es.data;
	params[3] = cs.data;
	params[4] = inds.data;
	params[5] = win;
	res = total ? tc_db_exec(db, "spear sightings", sql, 6, params, err) :
		      NULL;
	tc_buf_deinit(&wis);
	tc_buf_deinit(&iis);
	tc_buf_deinit(&es);
	tc_buf_deinit(&cs);
	tc_buf_deinit(&inds);
	if (total == 0)
		return 0;
	if (res == NULL)
		return TC_EDB;
	for (int r = 0; r < PQntuples(res); r++) {
		size_t w = strtoull(PQgetvalue(res, r, 0), NULL, 10);
		size_t i = strtoull(PQgetvalue(res, r, 1), NULL, 10);

		if (w < p->n && i < p->w[w].group->n_items &&
		    !p->w[w].due[i]) {
			p->w[w].due[i] = true;
			p->w[w].n_due++;
		}
	}
	PQclear(res);
	p->suppressed = total;
	for (size_t w = 0; w < p->n; w++)
		p->suppressed -= p->w[w].n_due;
	return 0;
}

/* One reference per warning that will be sent. */
static int
alloc_refs(struct tc_db *db, struct tc_spear_plan *p, const char *prefix,
    time_t now, struct tc_err *err)
{
	char (*refs)[64] = tc_xcalloc(p->to_send, sizeof(*refs));
	size_t k = 0;
	int    rc;

	if ((rc = tc_notify_references(db, prefix, p->to_send, now, refs,
		 err)) == 0)
		for (size_t i = 0; i < p->n; i++) {
			struct tc_spear_warning *w = &p->w[i];

			if (w->n_due == 0 || w->n_contacts == 0)
				continue;
			memcpy(w->reference, refs[k++], sizeof(w->reference));
		}
	free(refs);
	return rc;
}

int
tc_spear_prepare(struct tc_db *db, const struct tc_index *idx,
    const char *path, enum tc_feed_format fmt,
    const struct tc_feed_opts *opts, const struct tc_spear_config *sc,
    struct tc_spear_plan **out, struct tc_err *err)
{
	struct tc_spear_plan            *p = tc_xcalloc(1, sizeof(*p));
	const struct tc_aggregate_group *g;
	struct prep                      pr;
	size_t                           ng;
	int                              rc;

	p->agg = tc_aggregate_new();
	memset(&pr, 0, sizeof(pr));
	pr.agg = p->agg;
	pr.report = &p->report;
	pr.opts = opts;
	rc = tc_match_file(idx, path, fmt, opts, on_hit, on_skip, &pr, &p->st,
	    err);
	if (rc < 0)
		goto fail;
	if (pr.skipped > pr.reported)
		tc_buf_printf(&p->report, "... and %zu more skipped records\n",
		    pr.skipped - pr.reported);
	g = tc_aggregate_groups(p->agg, &ng);
	p->w = tc_xcalloc(ng ? ng : 1, sizeof(*p->w));
	for (size_t i = 0; i < ng; i++) {
		struct tc_spear_warning      *w = &p->w[p->n++];
		const struct tc_index_entity *e =
		    tc_index_entity_by_id(idx, g[i].entity_id);

		w->group = &g[i];
		w->entity_id = g[i].entity_id;
		w->entity_name = tc_xstrdup(e ? e->name : "");
		w->enterprise_number = tc_xstrdup(e ? e->enterprise_number : "");
		w->priority = tc_spear_priority(e ? e->kind : NULL);
		w->tlp = tc_tlp_max(g[i].tlp, TC_SPEAR_TLP_MIN);
		w->due = tc_xcalloc(g[i].n_items ? g[i].n_items : 1, 1);
	}
	if (p->n == 0) {
		*out = p;
		return 0;
	}
	p->suppression_window_s = sc->suppression_window_s;
	if ((rc = load_contacts(db, p, err)) < 0 ||
	    (rc = load_due(db, p, sc->suppression_window_s, err)) < 0)
		goto fail;
	for (size_t i = 0; i < p->n; i++) {
		if (p->w[i].n_contacts == 0) {
			p->no_contact++;
			tc_log_warning(TC_LOG_MATCH,
			    "entity=%s category=%s findings=%zu "
			    "result=no_contact reason=\"no contact receives "
			    "spear warnings\"",
			    tc_esc(p->w[i].enterprise_number),
			    tc_category_name(p->w[i].group->category),
			    p->w[i].group->n_items);
		} else if (p->w[i].n_due > 0) {
			p->to_send++;
		}
	}
	if (p->to_send > 0 &&
	    (rc = alloc_refs(db, p, sc->reference_prefix, time(NULL), err)) <
		0)
		goto fail;
	*out = p;
	return 0;
fail:
	tc_spear_plan_free(p);
	*out = NULL;
	return rc;
}

/* --- step 2 ------------------------------------------------------------- */

void
tc_spear_compose(struct tc_spear_warning *w, struct tc_pgp *pgp,
    const char *pgp_error, const struct tc_templates *tpl,
    const struct tc_spear_config *sc, time_t now)
{
	const struct tc_aggregate_group *g = w->group;
	struct tc_buf                    csv = TC_BUF_INIT;
	struct tc_notify                 n;
	char                             name[80];
	json_t                          *ctx;

	if (w->reference[0] == '\0')
		return;
	ctx = tc_spear_context(w, sc, now);
	memset(&n, 0, sizeof(n));
	if (json_is_true(json_object_get(ctx, "truncated"))) {
		tc_spear_csv(w, &csv);
		n.attachment_name = "findings.csv";
		n.attachment_type = "text/csv";
		n.attachment = csv.data;
		n.attachment_len = csv.len;
	}
	snprintf(name, sizeof(name), "spear-%s", tc_category_name(g->category));
	n.kind = "spear";
	n.template_name = name;
	n.tlp = w->tlp;
	n.reference = w->reference;
	n.category = tc_category_name(g->category);
	n.ctx = ctx;
	n.from_addr = sc->from_addr;
	n.from_name = sc->from_name;
	n.rcpt = w->rcpt;
	n.n_rcpt = w->n_contacts;
	tc_notify_compose(&n, pgp, pgp_error, tpl, now);
	json_decref(ctx);
	tc_buf_deinit_secret(&csv);
}

/* --- step 3 ------------------------------------------------------------- */

/* Last seen for every finding of the warning, last notified for the ones
 * it sends, and the label (of the findings, not the warning's floor): the
 * one it is notified with, raised by any stricter sighting until the next
 * notification, for the relay digests (relaydigest.h). */
static const char sighting_sql[] =
    "INSERT INTO sighting AS s (entity_id, category, indicator, first_seen,"
    "  last_seen, last_notified, tlp)"
    " SELECT $1, $2::category, u.ind, to_timestamp(u.fs),"
    "  to_timestamp(greatest(u.fs, u.ls)),"
    "  CASE WHEN u.due AND $3 THEN now() END, $8::tlp_label"
    " FROM unnest($4::text[], $5::float8[], $6::float8[], $7::boolean[])"
    "  AS u(ind, fs, ls, due)"
    " ON CONFLICT (entity_id, category, indicator) DO UPDATE SET"
    "  first_seen = least(s.first_seen, excluded.first_seen),"
    "  last_seen = greatest(s.last_seen, excluded.last_seen),"
    "  last_notified = coalesce(excluded.last_notified, s.last_notified),"
    "  tlp = CASE WHEN excluded.last_notified IS NOT NULL THEN excluded.tlp"
    "   ELSE greatest(s.tlp, excluded.tlp) END";

static int
commit_warning(struct tc_db *db, const struct tc_spear_warning *w,
    struct tc_err *err)
{
	const struct tc_aggregate_group *g = w->group;
	struct tc_buf                    a[4];
	const char                      *params[8];
	char                             ent[32], v[32];
	int                              rc = 0;
	int64_t                          now = (int64_t)time(NULL);
	bool                             sending = w->reference[0] != '\0';

	if (sending) {
		struct tc_notify n;

		memset(&n, 0, sizeof(n));
		n.kind = "spear";
		n.tlp = w->tlp;
		n.reference = w->reference;
		n.category = tc_category_name(g->category);
		n.rcpt = w->rcpt;
		n.n_rcpt = w->n_contacts;
		if ((rc = tc_notify_queue(db, &n, err)) < 0)
			return rc;
	}
	for (size_t i = 0; i < 4; i++) {
		tc_buf_init(&a[i]);
		tc_db_array_begin(&a[i]);
	}
	for (size_t i = 0; i < g->n_items; i++) {
		const struct tc_aggregate_item *it = &g->items[i];

		tc_db_array_add(&a[0], it->indicator);
		num(v, sizeof(v), it->first_seen > 0 ? it->first_seen : now);
		tc_db_array_add(&a[1], v);
		num(v, sizeof(v), it->last_seen > 0 ? it->last_seen : now);
		tc_db_array_add(&a[2], v);
		tc_db_array_add(&a[3], w->due[i] ? "t" : "f");
	}
	for (size_t i = 0; i < 4; i++)
		tc_db_array_end(&a[i]);
	num(ent, sizeof(ent), w->entity_id);
	params[0] = ent;
	params[1] = tc_category_name(g->category);
	params[2] = sending ? "t" : "f";
	for (size_t i = 0; i < 4; i++)
		params[3 + i] = a[i].data;
	params[7] = tc_tlp_name(g->tlp);
	if (tc_db_run(db, "sightings", sighting_sql, 8, params, err) < 0)
		rc = TC_EDB;
	for (size_t i = 0; i < 4; i++)
		tc_buf_deinit(&a[i]);
	return rc;
}

/* Key of the advisory lock that serialises the spear commits of all
 * tocsind processes on one database (any constant unused elsewhere). */
#define SPEAR_COMMIT_LOCK "8390880217012106352"

/* Under the commit lock: how many findings the plan sends were notified
 * within the window since the prepare looked (by another process). */
static int
count_notified_meanwhile(struct tc_db *db, const struct tc_spear_plan *p,
    struct tc_err *err)
{
	static const char sql[] =
	    "SELECT count(*) FROM unnest($1::bigint[], $2::category[],"
	    "  $3::text[]) AS t(e, c, ind)"
	    " JOIN sighting s ON s.entity_id = t.e AND s.category = t.c"
	    "  AND s.indicator = t.ind"
	    " WHERE s.last_notified >= now() - make_interval(secs => $4::int)";
	struct tc_buf es = TC_BUF_INIT, cs = TC_BUF_INIT, inds = TC_BUF_INIT;
	const char   *params[4];
	char          v[32], win[16];
	PGresult     *res = NULL;
	size_t        total = 0;
	int           rc = 0;

	tc_db_array_begin(&es);
	tc_db_array_begin(&cs);
	tc_db_array_begin(&inds);
	for (size_t w = 0; w < p->n; w++) {
		const struct tc_spear_warning   *sw = &p->w[w];
		const struct tc_aggregate_group *g = sw->group;

		if (sw->n_contacts == 0 || sw->n_due == 0)
			continue;
		for (size_t i = 0; i < g->n_items; i++) {
			if (!sw->due[i])
				continue;
			num(v, sizeof(v), g->entity_id);
			tc_db_array_add(&es, v);
			tc_db_array_add(&cs, tc_category_name(g->category));
			tc_db_array_add(&inds, g->items[i].indicator);
			total++;
		}
	}
	tc_db_array_end(&es);
	tc_db_array_end(&cs);
	tc_db_array_end(&inds);
	if (total == 0)
		goto out;
	snprintf(win, sizeof(win), "%u", p->suppression_window_s);
	params[0] = es.data;
	params[1] = cs.data;
	params[2] = inds.data;
	params[3] = win;
	if ((res = tc_db_exec(db, "spear recheck", sql, 4, params, err)) ==
	    NULL) {
		rc = TC_EDB;
		goto out;
	}
	rc = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
out:
	PQclear(res);
	tc_buf_deinit(&es);
	tc_buf_deinit(&cs);
	tc_buf_deinit(&inds);
	return rc;
}

int
tc_spear_commit(struct tc_db *db, const struct tc_spear_plan *plan,
    struct tc_err *err)
{
	int total = 0, rc;

	if (plan->n == 0)
		return 0;
	if ((rc = tc_db_begin(db, err)) < 0)
		return rc;
	{
		static const char lock_sql[] =
		    "SELECT pg_advisory_xact_lock(" SPEAR_COMMIT_LOCK ")";

		if (tc_db_run(db, "spear lock", lock_sql, 0, NULL, err) < 0 ||
		    (rc = count_notified_meanwhile(db, plan, err)) < 0) {
			tc_db_rollback(db);
			return TC_EDB;
		}
		if (rc > 0) {
			tc_db_rollback(db);
			return tc_err_set(err, TC_ETEMPFAIL,
			    "%d finding(s) of this file were notified "
			    "meanwhile "
			    "by another worker: planned again",
			    rc);
		}
	}
	for (size_t i = 0; i < plan->n; i++) {
		const struct tc_spear_warning *w = &plan->w[i];

		/* Without a contact the findings stay un-notified, so the
		 * entity hears of them once it has one. */
		if (w->n_contacts == 0)
			continue;
		if ((rc = commit_warning(db, w, err)) < 0) {
			tc_db_rollback(db);
			return rc;
		}
		total += rc;
	}
	if ((rc = tc_db_commit(db, err)) < 0)
		return rc;
	return total;
}

void
tc_spear_plan_free(struct tc_spear_plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct tc_spear_warning *w = &p->w[i];

		for (size_t j = 0; j < w->n_contacts; j++) {
			struct tc_notify_rcpt *c = &w->rcpt[j];

			/* The strings are the plan's own copies. */
			free((char *)(uintptr_t)c->addr);
			free((char *)(uintptr_t)c->name);
			free((char *)(uintptr_t)c->lang);
			free((char *)(uintptr_t)c->fpr);
			tc_notify_rcpt_deinit(c);
		}
		free(w->rcpt);
		free(w->due);
		free(w->entity_name);
		free(w->enterprise_number);
	}
	free(p->w);
	tc_aggregate_free(p->agg);
	tc_buf_deinit(&p->report);
	free(p);
}

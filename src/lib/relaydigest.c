/* relaydigest: the digests to the sector authorities (relaydigest.h).
 * Start at tc_relaydigest_run(). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/compose.h"
#include "tocsin/db.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/notify.h"
#include "tocsin/relay.h"
#include "tocsin/relaydigest.h"
#include "tocsin/str.h"

#define SECTORS_MAX 32 /* nis2_sector has 18 values */

/* --- times and periods (pure) ------------------------------------------ */

static int
digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool
leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
tc_relaydigest_parse_time(const char *s, int64_t *out, struct tc_err *err)
{
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	unsigned              y, mo, d, h = 0, mi = 0, sec = 0;
	size_t                n = strlen(s);
	struct tm             tm;

	if (n > 0 && s[n - 1] == 'Z')
		n--;
	if ((n != 10 && n != 16 && n != 19) || s[4] != '-' || s[7] != '-' ||
	    digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 ||
	    digits(s + 8, 2, &d) < 0)
		goto bad;
	if (n > 10) {
		if ((s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
		    digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0)
			goto bad;
		if (n == 19 && (s[16] != ':' || digits(s + 17, 2, &sec) < 0))
			goto bad;
	}
	if (y < 2000 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    sec > 59)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	*out = (int64_t)timegm(&tm);
	return 0;
bad:
	return tc_err_set(err, TC_EINPUT,
	    "\"%s\" is not a UTC time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z)",
	    tc_esc(s));
}

void
tc_relaydigest_format_time(int64_t t, char *out, size_t size)
{
	time_t    tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		tc_strlcpy(out, "?", size);
}

/* floor(a / b) for b > 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

void
tc_relaydigest_last_period(int64_t now, unsigned schedule_s, unsigned time_s,
    int64_t *from, int64_t *to)
{
	int64_t s = schedule_s ? (int64_t)schedule_s : 86400;

	*to = (int64_t)time_s + floor_div(now - (int64_t)time_s, s) * s;
	*from = *to - s;
}

int64_t
tc_relaydigest_next(int64_t now, unsigned schedule_s, unsigned time_s)
{
	int64_t from, to;

	tc_relaydigest_last_period(now, schedule_s, time_s, &from, &to);
	return to + (schedule_s ? (int64_t)schedule_s : 86400);
}

/* --- one authority ----------------------------------------------------- */

struct authority {
	int64_t     id;
	const char *name, *email, *lang, *fpr; /* in the authorities' result */
	enum tc_tlp clearance;
	char       *sectors_buf; /* "energy,health", split */
	const char *sectors[SECTORS_MAX];
	size_t      n_sectors;
};

struct period {
	int64_t from, to;
	char    from_arg[24], to_arg[24]; /* Unix seconds, for SQL */
	char from_iso[TC_RELAYDIGEST_TIME_MAX], to_iso[TC_RELAYDIGEST_TIME_MAX];
	char from_txt[32], to_txt[32]; /* for the templates */
};

static void
human_time(int64_t t, char *out, size_t size)
{
	time_t    tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		tc_strlcpy(out, "?", size);
}

static void
split_sectors(struct authority *a, const char *list)
{
	char *p;

	a->sectors_buf = tc_xstrdup(list);
	a->n_sectors = 0;
	for (p = a->sectors_buf; *p && a->n_sectors < SECTORS_MAX;) {
		char *comma = strchr(p, ',');

		a->sectors[a->n_sectors++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
}

/* The period's notified findings of the authority's sectors, one row per
 * (entity, category, label).  A sighting from before labels were kept
 * counts as TLP:RED.  Indicators only for what may be described. */
static const char items_sql[] =
    "SELECT e.name, e.enterprise_number, e.sector::text, f.category::text,"
    "  f.label::text, count(*),"
    "  CASE WHEN f.label <= least($4::tlp_label, 'AMBER')"
    "   THEN json_agg(f.indicator ORDER BY f.indicator)::text END"
    " FROM (SELECT s.entity_id, s.category, s.indicator,"
    "   coalesce(s.tlp, 'RED') AS label FROM sighting s"
    "  WHERE s.last_notified >= to_timestamp($1::float8)"
    "   AND s.last_notified < to_timestamp($2::float8)) f"
    " JOIN entity e ON e.id = f.entity_id"
    " WHERE e.sector = ANY(string_to_array($3, ',')::nis2_sector[])"
    " GROUP BY e.id, e.name, e.enterprise_number, e.sector, f.category,"
    "  f.label"
    " ORDER BY e.name, e.enterprise_number, f.category, f.label";

struct loaded {
	PGresult             *res;
	struct tc_relay_item *items;
	json_t              **ind; /* per item, the parsed indicators */
	size_t                n;
};

static void
loaded_free(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].indicators);
		json_decref(l->ind[i]);
	}
	free(l->items);
	free(l->ind);
	PQclear(l->res);
	memset(l, 0, sizeof(*l));
}

static int
load_items(struct tc_db *db, const struct authority *a, const struct period *p,
    const char *sectors, struct loaded *l, struct tc_err *err)
{
	const char *params[4] = { p->from_arg, p->to_arg, sectors,
		tc_tlp_name(a->clearance) };
	int         rows;

	memset(l, 0, sizeof(*l));
	l->res = tc_db_exec(db, "relay items", items_sql, 4, params, err);
	if (l->res == NULL)
		return TC_EDB;
	rows = PQntuples(l->res);
	if (rows == 0)
		return 0;
	l->items = tc_xcalloc((size_t)rows, sizeof(*l->items));
	l->ind = tc_xcalloc((size_t)rows, sizeof(*l->ind));
	for (int r = 0; r < rows; r++) {
		struct tc_relay_item *it = &l->items[l->n];
		enum tc_category      cat;
		enum tc_tlp           tlp;
		uint64_t              count;

		if (tc_category_parse(PQgetvalue(l->res, r, 3), &cat) < 0 ||
		    tc_tlp_parse(PQgetvalue(l->res, r, 4), &tlp) < 0 ||
		    tc_parse_uint(PQgetvalue(l->res, r, 5), 1, SIZE_MAX,
			&count) < 0) {
			/* Cannot happen with the schema's enums: fail closed,
			 * leave the row out rather than guess. */
			tc_log_err(TC_LOG_DB, "relay: unexpected row %d", r);
			continue;
		}
		it->entity_name = PQgetvalue(l->res, r, 0);
		it->enterprise_number = PQgetvalue(l->res, r, 1);
		it->sector = PQgetvalue(l->res, r, 2);
		it->category = cat;
		it->tlp = tlp;
		it->count = (size_t)count;
		if (!PQgetisnull(l->res, r, 6) &&
		    tc_relay_may_describe(a->clearance, tlp)) {
			json_error_t je;
			json_t      *arr =
			    json_loads(PQgetvalue(l->res, r, 6), 0, &je);
			size_t k = 0;

			l->ind[l->n] = arr;
			if (json_is_array(arr) && json_array_size(arr) > 0) {
				it->indicators = tc_xcalloc(
				    json_array_size(arr), sizeof(char *));
				for (size_t i = 0; i < json_array_size(arr);
				     i++) {
					const char *v = json_string_value(
					    json_array_get(arr, i));

					if (v != NULL)
						it->indicators[k++] = v;
				}
			}
			it->n_indicators = k;
		}
		l->n++;
	}
	return 0;
}

/* The common keys (tc_compose_context) under the view; the view's own
 * "tlp" gives way to the common one, which has the banner's flags. */
static json_t *
digest_context(json_t *view, enum tc_tlp label, const char *reference,
    const struct tc_relaydigest_config *rc, const struct authority *a,
    time_t now)
{
	json_t     *ctx = tc_compose_context(label, reference, rc->from_addr,
		rc->from_name, rc->csirt_url, now);
	const char *k;
	json_t     *v;

	json_object_foreach(view, k, v)
	{
		if (strcmp(k, "tlp") != 0)
			json_object_set(ctx, k, v);
	}
	json_object_set_new(ctx, "recipient",
	    json_pack("{s:s,s:s}", "name", a->name, "email", a->email));
	return ctx;
}

static const char claim_sql[] =
    "INSERT INTO relay_run (authority_id, period_from, period_to, state,"
    "  actor)"
    " VALUES ($1, to_timestamp($2::float8), to_timestamp($3::float8),"
    "  'empty', $4)"
    " ON CONFLICT (authority_id, period_from, period_to) DO NOTHING"
    " RETURNING id";

static const char record_sql[] =
    "WITH r AS (UPDATE relay_run SET reference = $2, state = $3,"
    "   items = $4, withheld = $5 WHERE id = $1 RETURNING authority_id)"
    " INSERT INTO audit_log (actor, action, reference, detail)"
    " SELECT $6, 'relay.digest', $2, jsonb_build_object('authority',"
    "  r.authority_id, 'from', $7::text, 'to', $8::text, 'state', $3::text,"
    "  'items', $4::int, 'withheld', $5::int) FROM r";

/* One authority's digest in one transaction.  Returns 1 when a digest
 * was queued or held, 0 when not (done before, or nothing to report),
 * TC_EDB. */
static int
run_one(struct tc_db *db, struct tc_pgp *pgp, const char *pgp_error,
    const struct tc_templates *tpl, const struct tc_relaydigest_config *rc,
    struct authority *a, const char *sectors, const struct period *p,
    time_t now, json_t *rep, struct tc_err *err)
{
	struct tc_relay_authority ra;
	struct tc_notify_rcpt     rcpt;
	struct tc_notify          n;
	struct loaded             l;
	PGresult                 *res;
	json_t                   *view = NULL, *ctx = NULL;
	enum tc_tlp               label;
	size_t                    kept = 0;
	char                      id[24], refs[1][64], nitems[24], nwith[24];
	const char               *params[8];
	const char               *state;
	json_int_t                withheld;
	int                       rc_ = 0;

	memset(&l, 0, sizeof(l));
	memset(&rcpt, 0, sizeof(rcpt));
	json_object_set_new(rep, "authority", json_string(a->name));
	json_object_set_new(rep, "email", json_string(a->email));
	if ((rc_ = tc_db_begin(db, err)) < 0)
		return rc_;
	snprintf(id, sizeof(id), "%" PRId64, a->id);
	params[0] = id;
	params[1] = p->from_arg;
	params[2] = p->to_arg;
	params[3] = rc->actor;
	if ((res = tc_db_exec(db, "relay claim", claim_sql, 4, params, err)) ==
	    NULL) {
		rc_ = TC_EDB;
		goto fail;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		tc_db_rollback(db);
		json_object_set_new(rep, "result", json_string("done_before"));
		tc_log_info(TC_LOG_OUTBOX,
		    "relay authority=\"%s\" from=%s to=%s result=done_before",
		    tc_esc(a->name), p->from_iso, p->to_iso);
		return 0;
	}
	tc_strlcpy(id, PQgetvalue(res, 0, 0), sizeof(id)); /* relay_run.id */
	PQclear(res);
	if ((rc_ = load_items(db, a, p, sectors, &l, err)) < 0)
		goto fail;
	ra.name = a->name;
	ra.sectors = a->sectors;
	ra.n_sectors = a->n_sectors;
	ra.clearance = a->clearance;
	view = tc_relay_build(&ra, l.items, l.n, p->from_txt, p->to_txt, &label,
	    &kept);
	withheld = json_integer_value(json_object_get(view, "withheld"));
	json_object_set_new(rep, "items", json_integer((json_int_t)kept));
	json_object_set_new(rep, "withheld", json_integer(withheld));
	if (kept == 0) {
		/* The claim stays, as "empty": this period is done. */
		if ((rc_ = tc_db_commit(db, err)) < 0)
			goto out;
		json_object_set_new(rep, "result", json_string("empty"));
		tc_log_notice(TC_LOG_OUTBOX,
		    "relay authority=\"%s\" from=%s to=%s result=empty "
		    "(nothing to report: no mail)",
		    tc_esc(a->name), p->from_iso, p->to_iso);
		goto out;
	}
	if ((rc_ = tc_notify_references(db, rc->reference_prefix, 1, now, refs,
		 err)) < 0)
		goto fail;
	ctx = digest_context(view, label, refs[0], rc, a, now);
	rcpt.addr = a->email;
	rcpt.name = a->name;
	rcpt.lang = a->lang;
	rcpt.fpr = a->fpr;
	rcpt.authority_id = a->id;
	rcpt.priority = 1; /* a public authority */
	memset(&n, 0, sizeof(n));
	n.kind = "relay";
	n.template_name = "relay";
	n.tlp = label;
	n.encrypt = true;
	n.reference = refs[0];
	n.ctx = ctx;
	n.from_addr = rc->from_addr;
	n.from_name = rc->from_name;
	n.rcpt = &rcpt;
	n.n_rcpt = 1;
	tc_notify_compose(&n, pgp, pgp_error, tpl, now);
	if ((rc_ = tc_notify_queue(db, &n, err)) < 0)
		goto fail;
	state = rcpt.held_reason ? "held" : "queued";
	snprintf(nitems, sizeof(nitems), "%zu", kept);
	snprintf(nwith, sizeof(nwith), "%lld", (long long)withheld);
	params[0] = id;
	params[1] = refs[0];
	params[2] = state;
	params[3] = nitems;
	params[4] = nwith;
	params[5] = rc->actor;
	params[6] = p->from_iso;
	params[7] = p->to_iso;
	if ((rc_ = tc_db_run(db, "relay record", record_sql, 8, params, err)) <
		0 ||
	    (rc_ = tc_db_commit(db, err)) < 0)
		goto fail;
	json_object_set_new(rep, "result", json_string(state));
	json_object_set_new(rep, "reference", json_string(refs[0]));
	json_object_set_new(rep, "label", json_string(tc_tlp_label(label)));
	if (rcpt.held_reason != NULL)
		json_object_set_new(rep, "held_reason",
		    json_string(rcpt.held_reason));
	tc_log_notice(TC_LOG_OUTBOX,
	    "ref=%s relay authority=\"%s\" rcpt=<%s> from=%s to=%s "
	    "result=%s tlp=%s items=%zu withheld=%lld%s%s%s",
	    refs[0], tc_esc(a->name), tc_esc(a->email), p->from_iso, p->to_iso,
	    state, tc_tlp_name(label), kept, (long long)withheld,
	    rcpt.held_reason ? " reason=\"" : "",
	    rcpt.held_reason ? tc_esc(rcpt.held_reason) : "",
	    rcpt.held_reason ? "\"" : "");
	rc_ = 1;
	goto out;
fail:
	tc_db_rollback(db);
out:
	tc_notify_rcpt_deinit(&rcpt);
	json_decref(ctx);
	json_decref(view);
	loaded_free(&l);
	return rc_;
}

/* --- every authority ---------------------------------------------------- */

static const char authorities_sql[] =
    "SELECT id, name, array_to_string(sectors, ','), email,"
    "  language::text, pgp_fingerprint, clearance::text"
    " FROM sector_authority ORDER BY id";

int
tc_relaydigest_run(struct tc_db *db, struct tc_pgp *pgp, const char *pgp_error,
    const struct tc_templates *tpl, const struct tc_relaydigest_config *rc,
    int64_t from, int64_t to, time_t now, json_t **report, struct tc_err *err)
{
	struct period p;
	PGresult     *res;
	json_t       *arr;
	int           total = 0, rcode = 0;

	*report = NULL;
	if (from >= to)
		return tc_err_set(err, TC_EINPUT,
		    "the period must end after it starts");
	memset(&p, 0, sizeof(p));
	p.from = from;
	p.to = to;
	snprintf(p.from_arg, sizeof(p.from_arg), "%" PRId64, from);
	snprintf(p.to_arg, sizeof(p.to_arg), "%" PRId64, to);
	tc_relaydigest_format_time(from, p.from_iso, sizeof(p.from_iso));
	tc_relaydigest_format_time(to, p.to_iso, sizeof(p.to_iso));
	human_time(from, p.from_txt, sizeof(p.from_txt));
	human_time(to, p.to_txt, sizeof(p.to_txt));
	if ((res = tc_db_exec(db, "relay authorities", authorities_sql, 0, NULL,
		 err)) == NULL)
		return TC_EDB;
	arr = json_array();
	for (int r = 0; r < PQntuples(res); r++) {
		struct authority a;
		json_t          *rep = json_object();
		uint64_t         aid;

		memset(&a, 0, sizeof(a));
		if (tc_parse_uint(PQgetvalue(res, r, 0), 1, INT64_MAX, &aid) <
			0 ||
		    tc_tlp_parse(PQgetvalue(res, r, 6), &a.clearance) < 0) {
			json_decref(rep);
			rcode = tc_err_set(err, TC_EDB,
			    "relay: unexpected sector_authority row");
			break;
		}
		a.id = (int64_t)aid;
		a.name = PQgetvalue(res, r, 1);
		a.email = PQgetvalue(res, r, 3);
		a.lang = PQgetvalue(res, r, 4);
		a.fpr = PQgetvalue(res, r, 5);
		split_sectors(&a, PQgetvalue(res, r, 2));
		rcode = run_one(db, pgp, pgp_error, tpl, rc, &a,
		    PQgetvalue(res, r, 2), &p, now, rep, err);
		free(a.sectors_buf);
		if (rcode < 0) {
			json_decref(rep);
			break;
		}
		total += rcode;
		json_array_append_new(arr, rep);
	}
	PQclear(res);
	if (rcode < 0) {
		json_decref(arr);
		return rcode;
	}
	*report = arr;
	return total;
}

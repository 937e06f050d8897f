/* ctl_advisory: the advisory commands of the control socket (ctl.h).
 *
 *   advisory.queue {document}     validate again, count the recipients
 *                                 (TLP:RED: every listed address must be a
 *                                 contact), allocate the reference, insert
 *                                 with queued_by = the caller, audit.
 *   advisory.list {}              the newest advisories.
 *   advisory.show {reference}     with the recipients it would reach now
 *                                 (or, once dispatched, its messages).
 *   advisory.approve {reference}  four eyes: refused to the analyst who
 *                                 queued it when service.four_eyes is on;
 *                                 else targeting → compose (gpg.workers
 *                                 jobs in parallel) → one transaction
 *                                 (messages + dispatched + audit) → the
 *                                 sender is kicked; a TLP:CLEAR advisory
 *                                 is then published.
 *   advisory.cancel {reference}   a queued advisory only.
 *   preview {reference, contact}  the inner entity that contact would read,
 *                                 before signing and encryption.
 *
 * Anything that reads more than one statement or composes mail is a pool
 * job with its own blocking connection (like feedrun.c); approval is
 * three stages of them (see its section); list and cancel are one
 * statement each on the loop's dbq. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "tocsin/advisory.h"
#include "tocsin/compose.h"
#include "tocsin/config.h"
#include "tocsin/db.h"
#include "tocsin/dbq.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/pgp.h"
#include "tocsin/str.h"
#include "tocsin/template.h"

#define LIST_MAX "200"

struct adv_job;
typedef int (*adv_fn)(struct adv_job *j, struct tc_db *db);

struct adv_job {
	uv_work_t            req;
	struct ctl_req      *r;
	struct tc_config    *cfg;
	struct tc_templates *tpl;
	char                 user[TC_CONTROL_USER_MAX];
	unsigned             uid;
	json_t              *args; /* a deep copy: the pool owns it */
	adv_fn               fn;
	json_t              *result; /* set by fn */
	struct tc_err        err;
	int                  rc;
};

static const char *
arg_str(const json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

static void
job_work(uv_work_t *req)
{
	struct adv_job *j = container_of(req, struct adv_job, req);
	struct tc_db   *db;

	if ((j->rc = tc_db_connect(j->cfg->db.conninfo, "tocsind-advisory", &db,
		 &j->err)) < 0)
		return;
	j->rc = j->fn(j, db);
	tc_db_close(db);
}

static void
job_done(uv_work_t *req, int status)
{
	struct adv_job   *j = container_of(req, struct adv_job, req);
	struct tc_daemon *d = j->r->d;

	if (status < 0)
		ctl_fail(j->r, "cancelled");
	else if (j->rc < 0)
		ctl_fail(j->r, "%s", j->err.msg);
	else
		ctl_ok(j->r, j->result);
	json_decref(j->result);
	json_decref(j->args);
	tc_templates_unref(j->tpl);
	tc_config_unref(j->cfg);
	free(j);
	tc_daemon_job_done(d);
}

static void
job_start(struct ctl_req *r, adv_fn fn)
{
	struct tc_daemon *d = r->d;
	struct adv_job   *j = tc_xcalloc(1, sizeof(*j));

	j->r = r;
	j->cfg = tc_config_ref(d->cfg);
	j->tpl = tc_templates_ref(d->tpl);
	snprintf(j->user, sizeof(j->user), "%s", r->peer.user);
	j->uid = (unsigned)r->peer.uid;
	j->args = json_deep_copy(r->args);
	j->fn = fn;
	tc_daemon_job_started(d);
	if (uv_queue_work(d->loop, &j->req, job_work, job_done) < 0) {
		json_decref(j->args);
		tc_templates_unref(j->tpl);
		tc_config_unref(j->cfg);
		free(j);
		ctl_fail(r, "cannot queue work");
		tc_daemon_job_done(d);
	}
}

/* --- helpers (pool thread) -------------------------------------------------
 */

struct adv_row {
	int64_t   id;
	char      reference[64];
	char      state[16];
	char      queued_by[TC_CONTROL_USER_MAX];
	json_t   *doc;
	PGresult *res;
};

/* Load an advisory by reference: 1, 0 (no such advisory: err set) or
 * TC_EDB.  The approval's UPDATE ... WHERE state = 'queued' is what
 * serialises concurrent approvals. */
static int
row_load(struct tc_db *db, const char *ref, struct adv_row *a,
    struct tc_err *err)
{
	static const char sql[] =
	    "SELECT id, reference, state::text, queued_by, document::text,"
	    "  tlp::text, severity::text, to_char(queued_at AT TIME ZONE 'UTC',"
	    "  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), approved_by,"
	    "  to_char(approved_at AT TIME ZONE 'UTC',"
	    "  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	    " FROM advisory WHERE reference = $1";
	const char  *params[1] = { ref };
	json_error_t je;

	memset(a, 0, sizeof(*a));
	if (ref == NULL)
		return tc_err_set(err, TC_EINPUT, "no reference given");
	a->res = tc_db_exec(db, "advisory", sql, 1, params, err);
	if (a->res == NULL)
		return TC_EDB;
	if (PQntuples(a->res) == 0) {
		tc_err_set(err, TC_ENOTFOUND, "no advisory %s", ref);
		return 0;
	}
	a->id = strtoll(PQgetvalue(a->res, 0, 0), NULL, 10);
	snprintf(a->reference, sizeof(a->reference), "%s",
	    PQgetvalue(a->res, 0, 1));
	snprintf(a->state, sizeof(a->state), "%s", PQgetvalue(a->res, 0, 2));
	snprintf(a->queued_by, sizeof(a->queued_by), "%s",
	    PQgetvalue(a->res, 0, 3));
	a->doc = json_loads(PQgetvalue(a->res, 0, 4), 0, &je);
	if (a->doc == NULL) {
		tc_err_set(err, TC_EBUG, "%s: stored document unreadable", ref);
		return TC_EBUG;
	}
	return 1;
}

static void
row_deinit(struct adv_row *a)
{
	json_decref(a->doc);
	PQclear(a->res);
}

static json_t *
rcpt_json(const struct tc_notify_rcpt *r, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:b, s:I}", "email", r[i].addr,
			"lang", r[i].lang, "key", r[i].fpr != NULL, "entity_id",
			(json_int_t)r[i].entity_id));
	return a;
}

static int
audit(struct tc_db *db, const char *actor, const char *action, const char *ref,
    json_t *detail, struct tc_err *err)
{
	static const char sql[] =
	    "INSERT INTO audit_log (actor, action, reference, detail)"
	    " VALUES ($1, $2, $3, $4::jsonb)";
	char       *dj = json_dumps(detail, JSON_COMPACT);
	const char *params[4] = { actor, action, ref, dj };
	int         rc = tc_db_run(db, "audit", sql, 4, params, err);

	free(dj);
	json_decref(detail);
	return rc;
}

static void
publisher(const struct tc_config *cfg, struct tc_advisory_publisher *p,
    char *ns, size_t size)
{
	const char *at = strrchr(cfg->smtp.from, '@');

	snprintf(ns, size, "https://%s", at && at[1] ? at + 1 : "localhost");
	p->name = cfg->smtp.from_name && *cfg->smtp.from_name
	    ? cfg->smtp.from_name
	    : cfg->smtp.from;
	p->namespace = ns;
	p->email = cfg->smtp.from;
}

/* --- advisory.queue --------------------------------------------------------
 */

static int
queue_fn(struct adv_job *j, struct tc_db *db)
{
	static const char sql[] =
	    "INSERT INTO advisory (reference, tlp, severity, document, "
	    "queued_by)"
	    " VALUES ($1, $2::tlp_label, $3::severity, $4::jsonb, $5)";
	struct tc_buf          errors = TC_BUF_INIT;
	struct tc_notify_rcpt *r = NULL;
	json_t                *doc = NULL;
	char                   ref[1][64], *dj = NULL;
	const char            *params[5];
	int                    n = 0, rc;

	rc = tc_advisory_check(json_object_get(j->args, "document"), &doc,
	    &errors, &j->err);
	if (rc < 0) {
		if (errors.len > 0)
			tc_err_set(&j->err, rc, "%s", tc_buf_cstr(&errors));
		goto out;
	}
	if ((rc = n = tc_advisory_targets(db, doc, &r, &j->err)) < 0)
		goto out;
	if ((rc = tc_db_begin(db, &j->err)) < 0)
		goto out;
	if ((rc = tc_notify_references(db, j->cfg->service.reference_prefix, 1,
		 time(NULL), ref, &j->err)) < 0)
		goto fail;
	dj = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	params[0] = ref[0];
	params[1] = tc_tlp_name(tc_advisory_tlp(doc));
	params[2] = tc_advisory_severity(doc);
	params[3] = dj;
	params[4] = j->user;
	if ((rc = tc_db_run(db, "advisory insert", sql, 5, params, &j->err)) <
	    0)
		goto fail;
	if ((rc = audit(db, j->user, "advisory.queued", ref[0],
		 json_pack("{s:s, s:s, s:s, s:i, s:i}", "title",
		     tc_advisory_title(doc), "tlp", params[1], "severity",
		     params[2], "recipients", n, "uid", (int)j->uid),
		 &j->err)) < 0)
		goto fail;
	if ((rc = tc_db_commit(db, &j->err)) < 0)
		goto out;
	j->result = json_pack("{s:s, s:i, s:s, s:s}", "reference", ref[0],
	    "recipients", n, "tlp", params[1], "state", "queued");
	tc_log_notice(TC_LOG_CTL,
	    "user=%s action=advisory.queued reference=%s recipients=%d",
	    tc_esc(j->user), ref[0], n);
	rc = 0;
	goto out;
fail:
	tc_db_rollback(db);
out:
	free(dj);
	tc_advisory_targets_free(r, n > 0 ? (size_t)n : 0);
	json_decref(doc);
	tc_buf_deinit(&errors);
	return rc;
}

void
ctl_advisory_queue(struct ctl_req *r)
{
	if (!json_is_object(json_object_get(r->args, "document"))) {
		ctl_fail(r, "advisory.queue: no document");
		return;
	}
	job_start(r, queue_fn);
}

/* --- advisory.list ---------------------------------------------------------
 */

static void
on_list(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct ctl_req *r = arg;
	json_t         *a, *out;

	(void)q;
	(void)sqlstate;
	if (res == NULL) {
		ctl_fail(r, "advisory.list: %s", error);
		return;
	}
	a = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t     *o = json_object();
		const char *keys[] = { "reference", "tlp", "severity", "state",
			"queued_by", "queued_at", "approved_by", "title" };

		for (int c = 0; c < 8; c++)
			json_object_set_new(o, keys[c],
			    PQgetisnull(res, i, c)
				? json_null()
				: json_string(PQgetvalue(res, i, c)));
		json_array_append_new(a, o);
	}
	out = json_pack("{s:o}", "advisories", a);
	ctl_ok(r, out);
	json_decref(out);
}

void
ctl_advisory_list(struct ctl_req *r)
{
	static const char sql[] =
	    "SELECT reference, tlp::text, severity::text, state::text,"
	    "  queued_by, to_char(queued_at AT TIME ZONE 'UTC',"
	    "  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), approved_by,"
	    "  document->'content'->'en'->>'title'"
	    " FROM advisory ORDER BY id DESC LIMIT " LIST_MAX;

	if (tc_dbq_exec(r->d->dbq, sql, 0, NULL, on_list, r) < 0)
		ctl_fail(r, "the database queue is full");
}

/* --- advisory.show ---------------------------------------------------------
 */

static int
show_fn(struct adv_job *j, struct tc_db *db)
{
	static const char msgs[] =
	    "SELECT recipient, language::text, state::text, encrypted"
	    " FROM message WHERE advisory_id = $1 ORDER BY recipient";
	struct adv_row         a;
	struct tc_notify_rcpt *rc_list = NULL;
	json_t                *o;
	int                    rc, n = 0;

	if ((rc = row_load(db, arg_str(j->args, "reference"), &a, &j->err)) <=
	    0) {
		row_deinit(&a);
		return rc < 0 ? rc : TC_ENOTFOUND;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "reference",
	    a.reference, "state", a.state, "tlp", PQgetvalue(a.res, 0, 5),
	    "severity", PQgetvalue(a.res, 0, 6), "queued_by", a.queued_by,
	    "queued_at", PQgetvalue(a.res, 0, 7), "document", a.doc);
	if (!PQgetisnull(a.res, 0, 8)) {
		json_object_set_new(o, "approved_by",
		    json_string(PQgetvalue(a.res, 0, 8)));
		json_object_set_new(o, "approved_at",
		    json_string(PQgetvalue(a.res, 0, 9)));
	}
	if (strcmp(a.state, "dispatched") == 0) {
		char        id[32];
		const char *params[1] = { id };
		PGresult   *res;
		json_t     *list = json_array();

		snprintf(id, sizeof(id), "%" PRId64, a.id);
		if ((res = tc_db_exec(db, "advisory messages", msgs, 1, params,
			 &j->err)) == NULL) {
			json_decref(o);
			json_decref(list);
			row_deinit(&a);
			return TC_EDB;
		}
		for (int i = 0; i < PQntuples(res); i++)
			json_array_append_new(list,
			    json_pack("{s:s, s:s, s:s, s:b}", "email",
				PQgetvalue(res, i, 0), "lang",
				PQgetvalue(res, i, 1), "message",
				PQgetvalue(res, i, 2), "encrypted",
				strcmp(PQgetvalue(res, i, 3), "t") == 0));
		json_object_set_new(o, "recipients",
		    json_integer((json_int_t)PQntuples(res)));
		json_object_set_new(o, "recipient_list", list);
		PQclear(res);
	} else {
		if ((n = tc_advisory_targets(db, a.doc, &rc_list, &j->err)) <
		    0) {
			/* e.g. a RED recipient removed from the registry */
			json_object_set_new(o, "recipients", json_integer(0));
			json_object_set_new(o, "targeting_error",
			    json_string(j->err.msg));
			n = 0;
		} else {
			for (int i = 0; i < n; i++)
				rc_list[i].lang =
				    tc_advisory_lang(a.doc, rc_list[i].lang);
			json_object_set_new(o, "recipients", json_integer(n));
			json_object_set_new(o, "recipient_list",
			    rcpt_json(rc_list, (size_t)n));
		}
	}
	j->result = o;
	tc_advisory_targets_free(rc_list, (size_t)n);
	row_deinit(&a);
	return 0;
}

void
ctl_advisory_show(struct ctl_req *r)
{
	job_start(r, show_fn);
}

/* --- advisory.approve ------------------------------------------------------
 *
 *   check (1 job: load, state, four eyes, targets sorted by language)
 *   → compose (gpg.workers jobs in parallel, each a contiguous slice of
 *   the recipients with its own thread's tc_pgp)
 *   → commit (1 job: the messages, the state change and the audit rows
 *   in one transaction, then publication)
 *   → the reply and the sender's kick, on the loop.
 *
 * Nothing but the four-eyes refusal's audit row is written before the
 * commit, so a failure at any stage, shutdown included, leaves the
 * advisory queued without a message.  A slice is composed APPROVE_BATCH
 * recipients at a time, the stop flag read between batches: each batch
 * signs once per language it holds (the recipients being sorted by
 * language, usually one), and a SIGTERM waits for one batch per worker,
 * not for the whole advisory.  The approval counts as one daemon job from
 * the first stage to the reply. */

#define APPROVE_BATCH 32 /* recipients composed between stop checks */

struct approve;

struct approve_slice {
	uv_work_t       req;
	struct approve *ap;
	size_t          slice, slices;
	size_t          from, to; /* recipients [from, to) */
	/* Written by slice_work only: */
	bool   stopped;  /* at shutdown, before the end of the slice */
	size_t composed; /* recipients done when it stopped */
};

struct approve {
	uv_work_t            req; /* the check, then the commit */
	struct ctl_req      *r;
	struct tc_config    *cfg;
	struct tc_templates *tpl;
	unsigned             generation;
	char                 user[TC_CONTROL_USER_MAX];
	unsigned             uid;
	char                *reference; /* as asked, NULL if none */
	atomic_bool         *stop;      /* the daemon's stop_requested */
	/* Set by the check, read-only while composing: */
	struct adv_row         a;
	struct tc_notify_rcpt *rcpt; /* slices write disjoint ranges */
	size_t                 n;
	time_t                 now; /* the Date of every mail */
	/* Loop thread, between the stages: */
	unsigned    composing; /* slice jobs in flight */
	const char *failed;    /* a slice job failed: why */
	bool        stopped;   /* a slice stopped early */
	/* Written by the check or the commit: */
	json_t       *result;
	struct tc_err err;
	int           rc;
	bool          kick; /* messages were queued */
};

static int
rcpt_by_lang(const void *x, const void *y)
{
	const struct tc_notify_rcpt *a = x, *b = y;

	return strcmp(a->lang, b->lang);
}

/* Answer the client (`error` NULL: the result), wake the sender when
 * messages were queued, free the approval.  Loop thread. */
static void
approve_end(struct approve *ap, const char *error)
{
	struct tc_daemon *d = ap->r->d;

	if (error != NULL)
		ctl_fail(ap->r, "%s", error);
	else
		ctl_ok(ap->r, ap->result);
	if (ap->kick)
		tc_sender_kick(d);
	json_decref(ap->result);
	tc_advisory_targets_free(ap->rcpt, ap->n);
	row_deinit(&ap->a);
	free(ap->reference);
	tc_templates_unref(ap->tpl);
	tc_config_unref(ap->cfg);
	free(ap);
	tc_daemon_job_done(d); /* may complete a shutdown */
}

/* At shutdown between stages or while composing: nothing was committed. */
static void
approve_stopped(struct approve *ap)
{
	tc_err_set(&ap->err, TC_ETEMPFAIL,
	    "tocsind is shutting down: %s was not approved, it stays queued",
	    ap->a.reference);
	approve_end(ap, ap->err.msg);
}

/* --- commit (pool) --- */

static int
approve_commit(struct approve *ap, struct tc_db *db)
{
	static const char upd[] =
	    "UPDATE advisory SET state = 'dispatched', approved_by = $2,"
	    "  approved_at = now() WHERE id = $1 AND state = 'queued'"
	    " RETURNING extract(epoch FROM approved_at)::bigint";
	struct adv_row  *a = &ap->a;
	struct tc_notify nt;
	struct tc_err    perr;
	const char      *params[2];
	char             id[32];
	PGresult        *res;
	int              rc, queued = 0;
	size_t           held = 0;
	time_t           released;

	for (size_t i = 0; i < ap->n; i++)
		held += ap->rcpt[i].held_reason != NULL;
	if ((rc = tc_db_begin(db, &ap->err)) < 0)
		return rc;
	snprintf(id, sizeof(id), "%" PRId64, a->id);
	params[0] = id;
	params[1] = ap->user;
	if ((res = tc_db_exec(db, "approve", upd, 2, params, &ap->err)) ==
	    NULL) {
		rc = TC_EDB;
		goto fail;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		rc = tc_err_set(&ap->err, TC_EINPUT,
		    "%s was approved or cancelled meanwhile", a->reference);
		goto fail;
	}
	released = (time_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	memset(&nt, 0, sizeof(nt));
	nt.kind = "advisory";
	nt.tlp = tc_advisory_tlp(a->doc);
	nt.reference = a->reference;
	nt.advisory_id = a->id;
	nt.rcpt = ap->rcpt;
	nt.n_rcpt = ap->n;
	if ((rc = queued = tc_notify_queue(db, &nt, &ap->err)) < 0)
		goto fail;
	if ((rc = audit(db, ap->user, "advisory.approved", a->reference,
		 json_pack("{s:s, s:i}", "queued_by", a->queued_by, "uid",
		     (int)ap->uid),
		 &ap->err)) < 0 ||
	    (rc = audit(db, "tocsind", "advisory.dispatched", a->reference,
		 json_pack("{s:i, s:i, s:s}", "messages", queued, "held",
		     (int)held, "tlp", tc_tlp_name(nt.tlp)),
		 &ap->err)) < 0)
		goto fail;
	if ((rc = tc_db_commit(db, &ap->err)) < 0)
		return rc;
	ap->kick = queued > 0;
	ap->result = json_pack("{s:s, s:s, s:i, s:i}", "reference",
	    a->reference, "state", "dispatched", "recipients", (int)ap->n,
	    "held", (int)held);
	tc_log_notice(TC_LOG_CTL,
	    "user=%s action=advisory.approved reference=%s recipients=%zu "
	    "held=%zu",
	    tc_esc(ap->user), a->reference, ap->n, held);
	/* Publication: TLP:CLEAR only; a failure does not undo the mail. */
	if (nt.tlp == TC_TLP_CLEAR && ap->cfg->paths.publish_dir != NULL) {
		struct tc_advisory_publisher pub;
		char                         ns[300];

		publisher(ap->cfg, &pub, ns, sizeof(ns));
		if (tc_advisory_publish(db, ap->cfg->paths.publish_dir, a->doc,
			a->reference, released, &pub, &perr) < 0) {
			tc_log_err(TC_LOG_CTL,
			    "reference=%s publish=failed err=\"%s\"",
			    a->reference, tc_esc(perr.msg));
			json_object_set_new(ap->result, "publish_error",
			    json_string(perr.msg));
		} else {
			(void)audit(db, "tocsind", "advisory.published",
			    a->reference,
			    json_pack("{s:s}", "dir",
				ap->cfg->paths.publish_dir),
			    &perr);
			json_object_set_new(ap->result, "published",
			    json_true());
		}
	}
	return 0;
fail:
	tc_db_rollback(db);
	return rc;
}

static void
commit_work(uv_work_t *req)
{
	struct approve *ap = container_of(req, struct approve, req);
	struct tc_db   *db;

	if ((ap->rc = tc_db_connect(ap->cfg->db.conninfo, "tocsind-advisory",
		 &db, &ap->err)) < 0)
		return;
	ap->rc = approve_commit(ap, db);
	tc_db_close(db);
}

static void
commit_done(uv_work_t *req, int status)
{
	struct approve *ap = container_of(req, struct approve, req);

	if (status < 0)
		approve_end(ap, "cancelled");
	else if (ap->rc < 0)
		approve_end(ap, ap->err.msg);
	else
		approve_end(ap, NULL);
}

static void
start_commit(struct approve *ap)
{
	struct tc_daemon *d = ap->r->d;

	if (d->stopping || ap->stopped) {
		approve_stopped(ap);
		return;
	}
	if (uv_queue_work(d->loop, &ap->req, commit_work, commit_done) < 0)
		approve_end(ap, "cannot queue work");
}

/* --- compose (pool, gpg.workers jobs) --- */

static void
slice_work(uv_work_t *req)
{
	struct approve_slice *job =
	    container_of(req, struct approve_slice, req);
	struct approve         *ap = job->ap;
	struct tc_advisory_mail m;
	struct tc_pgp          *pgp;
	struct tc_err           perr;

	memset(&perr, 0, sizeof(perr));
	pgp = tc_daemon_thread_pgp(ap->cfg, ap->generation, &perr);
	memset(&m, 0, sizeof(m));
	m.doc = ap->a.doc;
	m.reference = ap->a.reference;
	m.advisory_id = ap->a.id;
	m.from_addr = ap->cfg->smtp.from;
	m.from_name = ap->cfg->smtp.from_name;
	for (size_t i = job->from; i < job->to; i += APPROVE_BATCH) {
		size_t k =
		    job->to - i < APPROVE_BATCH ? job->to - i : APPROVE_BATCH;

		/* At shutdown the approval fails: stop early. */
		if (atomic_load(ap->stop)) {
			job->stopped = true;
			job->composed = i - job->from;
			return;
		}
		tc_advisory_compose(&m, ap->rcpt + i, k, pgp, perr.msg, ap->tpl,
		    ap->now);
	}
}

static void
slice_done(uv_work_t *req, int status)
{
	struct approve_slice *job =
	    container_of(req, struct approve_slice, req);
	struct approve *ap = job->ap;

	if (status < 0)
		ap->failed = "cancelled";
	if (job->stopped) {
		ap->stopped = true;
		tc_log_notice(TC_LOG_CTL,
		    "reference=%s action=advisory.compose_stopped slice=%zu/%zu"
		    " composed=%zu recipients=%zu",
		    ap->a.reference, job->slice + 1, job->slices, job->composed,
		    job->to - job->from);
	} else if (status >= 0) {
		tc_log_info(TC_LOG_CTL,
		    "reference=%s action=advisory.composed slice=%zu/%zu "
		    "recipients=%zu",
		    ap->a.reference, job->slice + 1, job->slices,
		    job->to - job->from);
	}
	free(job);
	if (--ap->composing > 0)
		return;
	if (ap->failed != NULL)
		approve_end(ap, ap->failed);
	else
		start_commit(ap);
}

static void
start_compose(struct approve *ap)
{
	struct tc_daemon *d = ap->r->d;
	size_t slices = ap->cfg->gpg.workers ? ap->cfg->gpg.workers : 1;

	if (ap->n == 0) {
		start_commit(ap); /* dispatched to nobody, as queued */
		return;
	}
	if (slices > ap->n)
		slices = ap->n;
	ap->now = time(NULL);
	for (size_t s = 0; s < slices; s++) {
		struct approve_slice *job = tc_xcalloc(1, sizeof(*job));

		job->ap = ap;
		job->slice = s;
		job->slices = slices;
		job->from = ap->n * s / slices;
		job->to = ap->n * (s + 1) / slices;
		if (uv_queue_work(d->loop, &job->req, slice_work, slice_done) <
		    0) {
			/* Its recipients would have no mail: fail it all. */
			free(job);
			ap->failed = "cannot queue work";
			continue;
		}
		ap->composing++;
	}
	if (ap->composing == 0) {
		approve_end(ap, ap->failed);
		return;
	}
	tc_log_info(TC_LOG_CTL,
	    "reference=%s action=advisory.composing slices=%u recipients=%zu",
	    ap->a.reference, ap->composing, ap->n);
}

/* --- check (pool) --- */

static int
approve_check(struct approve *ap, struct tc_db *db)
{
	struct adv_row *a = &ap->a;
	struct tc_err   perr;
	int             rc, n;

	if ((rc = row_load(db, ap->reference, a, &ap->err)) <= 0)
		return rc < 0 ? rc : TC_ENOTFOUND;
	if (strcmp(a->state, "queued") != 0)
		return tc_err_set(&ap->err, TC_EINPUT, "%s is %s, not queued",
		    a->reference, a->state);
	if (ap->cfg->service.four_eyes && strcmp(a->queued_by, ap->user) == 0) {
		rc = tc_err_set(&ap->err, TC_EDENIED,
		    "four eyes: %s was queued by %s, another analyst must "
		    "approve it",
		    a->reference, a->queued_by);
		(void)audit(db, ap->user, "advisory.approve_refused",
		    a->reference,
		    json_pack("{s:s, s:i}", "reason", "four eyes", "uid",
			(int)ap->uid),
		    &perr);
		return rc;
	}
	if ((n = tc_advisory_targets(db, a->doc, &ap->rcpt, &ap->err)) < 0)
		return n;
	ap->n = (size_t)n;
	/* Each slice then meets as few languages as the advisory allows. */
	for (size_t i = 0; i < ap->n; i++)
		ap->rcpt[i].lang = tc_advisory_lang(a->doc, ap->rcpt[i].lang);
	if (ap->n > 1)
		qsort(ap->rcpt, ap->n, sizeof(*ap->rcpt), rcpt_by_lang);
	return 0;
}

static void
check_work(uv_work_t *req)
{
	struct approve *ap = container_of(req, struct approve, req);
	struct tc_db   *db;

	if ((ap->rc = tc_db_connect(ap->cfg->db.conninfo, "tocsind-advisory",
		 &db, &ap->err)) < 0)
		return;
	ap->rc = approve_check(ap, db);
	tc_db_close(db);
}

static void
check_done(uv_work_t *req, int status)
{
	struct approve *ap = container_of(req, struct approve, req);

	if (status < 0)
		approve_end(ap, "cancelled");
	else if (ap->rc < 0)
		approve_end(ap, ap->err.msg);
	else if (ap->r->d->stopping)
		approve_stopped(ap);
	else
		start_compose(ap);
}

void
ctl_advisory_approve(struct ctl_req *r)
{
	struct tc_daemon *d = r->d;
	struct approve   *ap = tc_xcalloc(1, sizeof(*ap));
	const char       *ref = arg_str(r->args, "reference");

	ap->r = r;
	ap->cfg = tc_config_ref(d->cfg);
	ap->tpl = tc_templates_ref(d->tpl);
	ap->generation = d->generation;
	snprintf(ap->user, sizeof(ap->user), "%s", r->peer.user);
	ap->uid = (unsigned)r->peer.uid;
	ap->reference = ref != NULL ? tc_xstrdup(ref) : NULL;
	ap->stop = &d->stop_requested;
	tc_daemon_job_started(d);
	if (uv_queue_work(d->loop, &ap->req, check_work, check_done) < 0)
		approve_end(ap, "cannot queue work");
}

/* --- advisory.cancel -------------------------------------------------------
 */

static void
on_cancel(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct ctl_req *r = arg;
	json_t         *out;

	(void)q;
	(void)sqlstate;
	if (res == NULL) {
		ctl_fail(r, "advisory.cancel: %s", error);
		return;
	}
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		ctl_fail(r, "no advisory %s", arg_str(r->args, "reference"));
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		ctl_fail(r, "%s is %s, only a queued advisory can be cancelled",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2));
		return;
	}
	out = json_pack("{s:s, s:s}", "reference", PQgetvalue(res, 0, 0),
	    "state", "cancelled");
	ctl_ok(r, out);
	json_decref(out);
}

void
ctl_advisory_cancel(struct ctl_req *r)
{
	/* One statement: the state change and its audit row together. */
	static const char sql[] =
	    "WITH u AS (UPDATE advisory SET state = 'cancelled'"
	    "   WHERE reference = $1 AND state = 'queued' RETURNING reference),"
	    " a AS (INSERT INTO audit_log (actor, action, reference, detail)"
	    "   SELECT $2, 'advisory.cancelled', reference,"
	    "    jsonb_build_object('uid', $3::int) FROM u)"
	    " SELECT v.reference, EXISTS (SELECT 1 FROM u), v.state::text"
	    " FROM advisory v WHERE v.reference = $1";
	const char *ref = arg_str(r->args, "reference");
	const char *params[3];
	char        uid[16];

	if (ref == NULL) {
		ctl_fail(r, "advisory.cancel: no reference");
		return;
	}
	snprintf(uid, sizeof(uid), "%u", (unsigned)r->peer.uid);
	params[0] = ref;
	params[1] = r->peer.user;
	params[2] = uid;
	if (tc_dbq_exec(r->d->dbq, sql, 3, params, on_cancel, r) < 0)
		ctl_fail(r, "the database queue is full");
}

/* --- preview ---------------------------------------------------------------
 */

static int
preview_fn(struct adv_job *j, struct tc_db *db)
{
	const char               *contact = arg_str(j->args, "contact");
	struct adv_row            a;
	struct tc_notify_rcpt    *r = NULL;
	struct tc_compose_content cc;
	struct tc_buf             entity = TC_BUF_INIT;
	json_t                   *ctx = NULL;
	char                      want[256];
	int                       n = 0, rc, found = -1;

	if (contact == NULL || tc_strlcpy(want, contact, sizeof(want)) < 0)
		return tc_err_set(&j->err, TC_EINPUT, "preview: no contact");
	tc_str_lower(want);
	if ((rc = row_load(db, arg_str(j->args, "reference"), &a, &j->err)) <=
	    0) {
		row_deinit(&a);
		return rc < 0 ? rc : TC_ENOTFOUND;
	}
	if ((rc = n = tc_advisory_targets(db, a.doc, &r, &j->err)) < 0)
		goto out;
	for (int i = 0; i < n && found < 0; i++)
		if (strcmp(r[i].addr, want) == 0)
			found = i;
	if (found < 0) {
		rc = tc_err_set(&j->err, TC_ENOTFOUND,
		    "%s is not a recipient of %s (%d recipients)", want,
		    a.reference, n);
		goto out;
	}
	ctx = tc_compose_context(tc_advisory_tlp(a.doc), a.reference,
	    j->cfg->smtp.from, j->cfg->smtp.from_name, NULL, time(NULL));
	json_object_set_new(ctx, "advisory",
	    tc_advisory_context(a.doc, r[found].lang));
	memset(&cc, 0, sizeof(cc));
	cc.template_name = "advisory";
	cc.lang = tc_advisory_lang(a.doc, r[found].lang);
	cc.ctx = ctx;
	cc.tlp = tc_advisory_tlp(a.doc);
	cc.reference = a.reference;
	cc.from_addr = j->cfg->smtp.from;
	cc.from_name = j->cfg->smtp.from_name;
	if ((rc = tc_compose_preview(j->tpl, &cc, &entity, &j->err)) < 0)
		goto out;
	j->result = json_pack("{s:s, s:s, s:s, s:b, s:s%}", "reference",
	    a.reference, "contact", want, "lang", cc.lang, "encrypted",
	    tc_tlp_needs_encryption(cc.tlp), "entity", entity.data, entity.len);
	(void)audit(db, j->user, "advisory.previewed", a.reference,
	    json_pack("{s:s}", "contact", want), &j->err);
	rc = 0;
out:
	json_decref(ctx);
	tc_buf_deinit_secret(&entity);
	tc_advisory_targets_free(r, n > 0 ? (size_t)n : 0);
	row_deinit(&a);
	return rc;
}

void
ctl_preview(struct ctl_req *r)
{
	job_start(r, preview_fn);
}

/* daemon: set-up, signals, registry reloads and shutdown (daemon.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "stats.h"
#include "tocsin/config.h"
#include "tocsin/control.h"
#include "tocsin/db.h"
#include "tocsin/dbq.h"
#include "tocsin/esc.h"
#include "tocsin/index.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/outbox.h"
#include "tocsin/pgp.h"
#include "tocsin/pgpproc.h"
#include "tocsin/puller.h"
#include "tocsin/registry.h"
#include "tocsin/spool.h"
#include "tocsin/template.h"

#define INDEX_DEBOUNCE_MS 300
#define SEND_TICK_MS 1000

static _Thread_local struct tc_pgp *tl_pgp;
static _Thread_local unsigned       tl_gen;
/* The gpg helper processes, set before the first job and freed after the
 * last (NULL: gpg.helpers is false, gpg runs from tocsind). */
static struct tc_pgpproc *helpers;

struct tc_pgp *
tc_daemon_thread_pgp(const struct tc_config *cfg, unsigned generation,
    struct tc_err *err)
{
	if (tl_pgp != NULL && tl_gen == generation)
		return tl_pgp;
	tc_pgp_free(tl_pgp);
	tl_pgp = NULL;
	if (tc_pgp_new(cfg->gpg.homedir, cfg->gpg.signing_key, &tl_pgp, err) <
	    0)
		return NULL;
	if (helpers != NULL && cfg->gpg.helpers)
		tc_pgp_use_helpers(tl_pgp, helpers);
	tl_gen = generation;
	return tl_pgp;
}

unsigned long
tc_daemon_gpg_helpers_started(void)
{
	return helpers != NULL ? tc_pgpproc_spawned(helpers) : 0;
}

static void maybe_stopped(struct tc_daemon *d);

void
tc_daemon_job_started(struct tc_daemon *d)
{
	d->jobs++;
}

void
tc_daemon_job_done(struct tc_daemon *d)
{
	TC_REQUIRE(d->jobs > 0);
	d->jobs--;
	if (d->stopping)
		maybe_stopped(d);
}

/* --- registry index ---------------------------------------------------- */

struct index_job {
	uv_work_t         req;
	struct tc_daemon *d;
	struct tc_config *cfg;
	struct tc_index  *idx;
	struct tc_err     err;
};

static void
index_work(uv_work_t *req)
{
	struct index_job *job = container_of(req, struct index_job, req);
	struct tc_db     *db;

	if (tc_db_connect(job->cfg->db.conninfo, "tocsind-registry", &db,
		&job->err) < 0)
		return;
	job->idx = tc_registry_load(db, &job->err);
	tc_db_close(db);
}

static void index_schedule(struct tc_daemon *d);

static void
index_done(uv_work_t *req, int status)
{
	struct index_job *job = container_of(req, struct index_job, req);
	struct tc_daemon *d = job->d;

	d->index_loading = false;
	if (status == 0 && job->idx != NULL) {
		/* Jobs in flight keep the old one through their reference. */
		tc_index_unref(d->idx);
		d->idx = job->idx;
		tc_log_notice(TC_LOG_MATCH,
		    "result=index_swapped entities=%zu assets=%zu",
		    tc_index_entities(d->idx), tc_index_assets(d->idx));
	} else if (status == 0) {
		tc_log_err(TC_LOG_MATCH, "result=index_kept err=\"%s\"",
		    tc_esc(job->err.msg));
		d->index_dirty = true; /* try again later */
	}
	tc_config_unref(job->cfg);
	free(job);
	tc_daemon_job_done(d);
	if (d->index_dirty && !d->stopping) {
		d->index_dirty = false;
		index_schedule(d);
	}
}

static void
on_index_timer(uv_timer_t *t)
{
	struct tc_daemon *d = container_of(t, struct tc_daemon, index_timer);
	struct index_job *job;

	if (d->stopping)
		return;
	if (d->index_loading) {
		d->index_dirty = true;
		return;
	}
	job = tc_xcalloc(1, sizeof(*job));
	job->d = d;
	job->cfg = tc_config_ref(d->cfg);
	if (uv_queue_work(d->loop, &job->req, index_work, index_done) < 0) {
		tc_config_unref(job->cfg);
		free(job);
		return;
	}
	d->index_loading = true;
	tc_daemon_job_started(d);
}

static void
index_schedule(struct tc_daemon *d)
{
	/* Several NOTIFYs of one import arrive together: one rebuild. */
	uv_timer_start(&d->index_timer, on_index_timer, INDEX_DEBOUNCE_MS, 0);
}

static void
on_notify(struct tc_dbq *q, const char *channel, const char *payload, void *arg)
{
	struct tc_daemon *d = arg;

	(void)q;
	tc_log_info(TC_LOG_DB, "notify=%s payload=%s", tc_esc(channel),
	    tc_esc(payload ? payload : ""));
	index_schedule(d);
}

static void
on_db_state(struct tc_dbq *q, bool up, void *arg)
{
	struct tc_daemon *d = arg;

	(void)q;
	tc_log_notice(TC_LOG_DB, "result=%s", up ? "connected" : "lost");
	if (up && !d->stopping) {
		/* Changes made while we were away were not notified. */
		index_schedule(d);
		tc_sender_kick(d);
	}
}

/* --- spool ------------------------------------------------------------- */

static void
on_spool_file(struct tc_spool *sp, const char *path, const char *name,
    void *arg)
{
	struct tc_daemon *d = arg;

	(void)sp;
	if (d->stopping) {
		(void)tc_spool_postpone(d->spool, 1000, "shutting down");
		return;
	}
	tc_feedrun_start(d, path, name);
}

/* --- HTTP(S) pulls ----------------------------------------------------- */

static void
on_feed_stored(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	(void)q;
	(void)sqlstate;
	(void)arg;
	if (res == NULL)
		tc_log_warning(TC_LOG_FEED, "feed_state=unsaved err=\"%s\"",
		    tc_esc(error));
}

static void
on_pulled(const char *feed, int status, const char *file, const char *etag,
    const char *last_modified, const char *error, void *arg)
{
	/* The validators and the outcome survive a restart (feed table). */
	static const char sql[] =
	    "INSERT INTO feed (name, format, source, schedule_s, default_tlp,"
	    "  state, etag, last_modified, last_run_at, last_error)"
	    " VALUES ($1, $2, $3, $4::int, $5::tlp_label, $6, $7, $8, now(), "
	    "$9)"
	    " ON CONFLICT (name) DO UPDATE SET format = excluded.format,"
	    "  source = excluded.source, schedule_s = excluded.schedule_s,"
	    "  default_tlp = excluded.default_tlp, state = excluded.state,"
	    "  etag = coalesce(excluded.etag, feed.etag),"
	    "  last_modified = coalesce(excluded.last_modified,"
	    "   feed.last_modified),"
	    "  last_run_at = now(), last_error = excluded.last_error";
	struct tc_daemon            *d = arg;
	const struct tc_config_feed *f = NULL;
	char                         sched[16];

	for (size_t i = 0; i < d->cfg->n_feeds; i++)
		if (strcmp(d->cfg->feeds[i].name, feed) == 0)
			f = &d->cfg->feeds[i];
	if (status < 0)
		tc_log_warning(TC_LOG_FEED,
		    "feed=%s result=pull_failed err=\"%s\"", tc_esc(feed),
		    tc_esc(error ? error : tc_strerror(status)));
	else
		tc_log_info(TC_LOG_FEED, "feed=%s result=pulled file=%s",
		    tc_esc(feed), file ? tc_esc(file) : "(not modified)");
	if (f != NULL && d->dbq != NULL) {
		const char *params[9];

		snprintf(sched, sizeof(sched), "%u", f->schedule_s);
		params[0] = f->name;
		params[1] = f->format;
		params[2] = f->url ? f->url : "";
		params[3] = sched;
		params[4] = tc_tlp_name(f->default_tlp);
		params[5] = status < 0 ? "failed" : "idle";
		params[6] = etag;
		params[7] = last_modified;
		params[8] =
		    status < 0 ? (error ? error : tc_strerror(status)) : NULL;
		(void)tc_dbq_exec(d->dbq, sql, 9, params, on_feed_stored, d);
	}
	if (file != NULL && d->spool != NULL)
		tc_spool_kick(d->spool);
}

static void
start_puller(struct tc_daemon *d)
{
	struct tc_buf incoming = TC_BUF_INIT;
	struct tc_err err;

	tc_buf_printf(&incoming, "%s/incoming", d->cfg->paths.spool_dir);
	if (tc_puller_start(d->loop, d->cfg, incoming.data, on_pulled, d,
		&d->puller, &err) < 0) {
		tc_log_err(TC_LOG_FEED, "result=no_pulls err=\"%s\"",
		    tc_esc(err.msg));
		d->puller = NULL;
	}
	tc_buf_deinit(&incoming);
}

/* What the previous run knew of each feed (ETag, Last-Modified), then the
 * first pulls. */
static void
on_validators(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct tc_daemon *d = arg;

	(void)q;
	(void)sqlstate;
	if (d->stopping)
		return;
	start_puller(d);
	if (res == NULL) {
		tc_log_warning(TC_LOG_FEED, "validators=unread err=\"%s\"",
		    tc_esc(error));
		return;
	}
	for (int i = 0; d->puller && i < PQntuples(res); i++)
		tc_puller_set_validators(d->puller, PQgetvalue(res, i, 0),
		    PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
		    PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2));
}

static bool
any_pulled_feed(const struct tc_config *cfg)
{
	for (size_t i = 0; i < cfg->n_feeds; i++)
		if (cfg->feeds[i].url != NULL && cfg->feeds[i].schedule_s > 0)
			return true;
	return false;
}

static void
on_puller_closed(void *arg)
{
	(void)arg;
}

/* --- signals and shutdown ---------------------------------------------- */

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

static void
on_dbq_closed(struct tc_dbq *q, void *arg)
{
	(void)q;
	(void)arg;
}

static void
on_spool_closed(struct tc_spool *sp, void *arg)
{
	(void)sp;
	(void)arg;
}

static void
on_control_closed(void *arg)
{
	(void)arg;
}

static void
maybe_stopped(struct tc_daemon *d)
{
	if (d->closed || d->jobs > 0 || d->claiming || d->records_pending > 0 ||
	    d->feed_busy)
		return;
	d->closed = true;
	if (d->spool != NULL) {
		tc_spool_close(d->spool, on_spool_closed, d);
		d->spool = NULL;
	}
	if (d->puller != NULL) {
		tc_puller_close(d->puller, on_puller_closed, d);
		d->puller = NULL;
	}
	if (d->control != NULL) {
		tc_control_close(d->control, on_control_closed, d);
		d->control = NULL;
	}
	if (d->dbq != NULL) {
		tc_dbq_close(d->dbq, on_dbq_closed, d);
		d->dbq = NULL;
	}
	tc_stats_close(d);
	uv_close((uv_handle_t *)&d->sig_term, on_closed);
	uv_close((uv_handle_t *)&d->sig_int, on_closed);
	uv_close((uv_handle_t *)&d->sig_hup, on_closed);
	uv_close((uv_handle_t *)&d->send_timer, on_closed);
	uv_close((uv_handle_t *)&d->reap_timer, on_closed);
	uv_close((uv_handle_t *)&d->index_timer, on_closed);
	uv_close((uv_handle_t *)&d->relay_timer, on_closed);
	tc_log_notice(TC_LOG_BASE, "result=stopping handles=closing");
}

static void
on_stop_signal(uv_signal_t *s, int signum)
{
	struct tc_daemon *d = s->data;

	if (d->stopping)
		return;
	tc_log_notice(TC_LOG_BASE,
	    "signal=%d result=stopping jobs=%u "
	    "smtp_sessions=%u",
	    signum, d->jobs, d->sessions);
	d->stopping = true;
	atomic_store(&d->stop_requested, true);
	uv_timer_stop(&d->send_timer);
	uv_timer_stop(&d->reap_timer);
	uv_timer_stop(&d->index_timer);
	uv_timer_stop(&d->relay_timer);
	maybe_stopped(d);
}

static void
on_hup(uv_signal_t *s, int signum)
{
	struct tc_daemon    *d = s->data;
	struct tc_buf        errors = TC_BUF_INIT;
	struct tc_config    *cfg;
	struct tc_templates *tpl;
	struct tc_err        err;

	(void)signum;
	cfg = tc_config_load(d->config_path, &errors, &err);
	if (cfg == NULL) {
		tc_log_err(TC_LOG_CONFIG, "result=reload_refused err=\"%s\"",
		    tc_esc(errors.len ? errors.data : err.msg));
		tc_buf_deinit(&errors);
		return;
	}
	tc_buf_deinit(&errors);
	tpl = tc_templates_load(cfg->paths.templates_dir, &err);
	if (tpl == NULL) {
		tc_log_err(TC_LOG_RENDER, "result=reload_refused err=\"%s\"",
		    tc_esc(err.msg));
		tc_config_unref(cfg);
		return;
	}
	if (strcmp(cfg->db.conninfo, d->cfg->db.conninfo) != 0 ||
	    strcmp(cfg->paths.spool_dir, d->cfg->paths.spool_dir) != 0 ||
	    strcmp(cfg->service.control_socket,
		d->cfg->service.control_socket) != 0)
		tc_log_warning(TC_LOG_CONFIG,
		    "result=partial reason=\"db, spool and control socket "
		    "changes need a restart\"");
	tc_config_unref(d->cfg);
	d->cfg = cfg;
	tc_templates_unref(d->tpl);
	d->tpl = tpl;
	d->generation++;
	tc_log_set_level(tc_log_level_parse(cfg->log.level));
	tc_log_notice(TC_LOG_CONFIG, "result=reloaded generation=%u",
	    d->generation);
}

/* --- start ------------------------------------------------------------- */

static int
startup_checks(struct tc_daemon *d, struct tc_err *err)
{
	struct tc_db  *db;
	struct tc_pgp *pgp;
	int            rc;

	if ((rc = tc_db_connect(d->cfg->db.conninfo, "tocsind", &db, err)) < 0)
		return rc;
	if ((rc = tc_db_check_schema(db, err)) < 0) {
		tc_db_close(db);
		return rc;
	}
	d->idx = tc_registry_load(db, err);
	tc_db_close(db);
	if (d->idx == NULL)
		return TC_EDB;
	if ((d->tpl = tc_templates_load(d->cfg->paths.templates_dir, err)) ==
	    NULL)
		return TC_EINPUT;
	/* The signing key must work before any mail is composed. */
	if ((rc = tc_pgp_new(d->cfg->gpg.homedir, d->cfg->gpg.signing_key, &pgp,
		 err)) < 0)
		return rc;
	tc_pgp_free(pgp);
	return 0;
}

int
tc_daemon_run(const char *config_path, struct tc_config *cfg)
{
	struct tc_daemon d;
	uv_loop_t        loop;
	struct tc_err    err;
	char             host[64];
	int              rc;

	memset(&d, 0, sizeof(d));
	atomic_init(&d.stop_requested, false);
	d.cfg = cfg;
	d.config_path = config_path;
	d.loop = &loop;
	d.exit_code = 0;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(d.worker, sizeof(d.worker), "%s:%ld", host, (long)getpid());
	signal(SIGPIPE, SIG_IGN);
	if ((rc = uv_loop_init(&loop)) < 0)
		tc_fatalx("uv_loop_init: %s", uv_strerror(rc));
	if (startup_checks(&d, &err) < 0) {
		fprintf(stderr, "tocsind: %s\n", err.msg);
		tc_index_unref(d.idx);
		tc_templates_unref(d.tpl);
		uv_loop_close(&loop);
		return 1;
	}
	if (cfg->gpg.helpers) {
		/* The running binary, whatever replaced it on disk since. */
		char *const argv[] = { (char *)(uintptr_t) "tocsind",
			(char *)(uintptr_t) "--gpg-helper", NULL };

		helpers = tc_pgpproc_new("/proc/self/exe", argv,
		    cfg->gpg.workers, &err);
		TC_REQUIRE(helpers != NULL);
	}
	if (tc_dbq_new(&loop, cfg->db.conninfo, "tocsind", on_db_state, &d,
		&d.dbq, &err) < 0 ||
	    tc_dbq_listen(d.dbq, "registry", on_notify, &d) < 0 ||
	    tc_spool_start(&loop, cfg->paths.spool_dir, on_spool_file, &d,
		&d.spool, &err) < 0 ||
	    tc_control_start(&loop, cfg->service.control_socket,
		cfg->service.analysts_group, ctl_dispatch, &d, &d.control,
		&err) < 0 ||
	    tc_stats_start(&d, &err) < 0) {
		fprintf(stderr, "tocsind: %s\n", err.msg);
		tc_fatalx("tocsind: start-up failed");
	}
	if (any_pulled_feed(cfg) &&
	    tc_dbq_exec(d.dbq, "SELECT name, etag, last_modified FROM feed", 0,
		NULL, on_validators, &d) < 0)
		start_puller(&d);
	uv_signal_init(&loop, &d.sig_term);
	uv_signal_init(&loop, &d.sig_int);
	uv_signal_init(&loop, &d.sig_hup);
	d.sig_term.data = d.sig_int.data = d.sig_hup.data = &d;
	uv_signal_start(&d.sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&d.sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&d.sig_hup, on_hup, SIGHUP);
	uv_timer_init(&loop, &d.send_timer);
	uv_timer_init(&loop, &d.reap_timer);
	uv_timer_init(&loop, &d.index_timer);
	d.send_timer.data = d.reap_timer.data = &d;
	uv_timer_start(&d.send_timer, tc_sender_on_timer, 100, SEND_TICK_MS);
	{
		uint64_t reap_ms = (uint64_t)cfg->outbox.lease_s * 1000 / 4;

		uv_timer_start(&d.reap_timer, tc_sender_on_reap, 1000,
		    reap_ms < 5000 ? 5000 : reap_ms);
	}
	tc_relaytimer_start(&d);
	tc_log_notice(TC_LOG_BASE,
	    "result=started worker=%s entities=%zu spool=%s control=%s",
	    d.worker, tc_index_entities(d.idx), tc_esc(cfg->paths.spool_dir),
	    tc_esc(cfg->service.control_socket));
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&loop);
	if (rc != 0)
		tc_log_err(TC_LOG_BASE, "result=unclean handles=open err=%s",
		    uv_strerror(rc));
	tc_index_unref(d.idx);
	tc_templates_unref(d.tpl);
	tc_config_unref(d.cfg);
	tc_pgpproc_free(helpers);
	helpers = NULL;
	tc_log_notice(TC_LOG_BASE, "result=stopped");
	return d.exit_code;
}

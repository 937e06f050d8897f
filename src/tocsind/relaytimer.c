/* relaytimer: when the relay digests run (daemon.h), and the pool job
 * that runs them (relaydigest.h).
 *
 * The timer is one-shot, re-armed after each run for the next boundary
 * (relay.time + k * relay.schedule, UTC), so a reload's new schedule takes
 * effect from the next run and a clock change is followed.  At start-up
 * the last complete period runs at once: relay_run makes that a no-op when
 * it was sent before, and catches up one missed while tocsind was down.
 * With digests off the timer only looks again hourly, so a reload that
 * turns them on takes effect within the hour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "tocsin/config.h"
#include "tocsin/db.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/relaydigest.h"
#include "tocsin/template.h"

#define RELAY_STARTUP_DELAY_MS 2000
/* With digests off, how often a reload that turns them on is noticed. */
#define RELAY_OFF_CHECK_MS (3600 * 1000)
#define RELAY_ACTOR_MAX 64

struct relay_job {
	uv_work_t            req;
	struct tc_daemon    *d;
	struct tc_config    *cfg;
	struct tc_templates *tpl;
	unsigned             generation;
	int64_t              from, to;
	char                 actor[RELAY_ACTOR_MAX];
	tc_relay_done_cb     cb;
	void                *arg;
	int                  rc;
	json_t              *report;
	struct tc_err        err;
};

static void
relay_work(uv_work_t *req) /* pool thread */
{
	struct relay_job       *job = container_of(req, struct relay_job, req);
	const struct tc_config *c = job->cfg;
	struct tc_relaydigest_config rc;
	struct tc_db                *db;
	struct tc_pgp               *pgp;
	struct tc_err                perr;

	memset(&perr, 0, sizeof(perr));
	rc.reference_prefix = c->service.reference_prefix;
	rc.from_addr = c->smtp.from;
	rc.from_name = c->smtp.from_name;
	rc.csirt_url = NULL;
	rc.actor = job->actor;
	if ((job->rc = tc_db_connect(c->db.conninfo, "tocsind-relay", &db,
		 &job->err)) < 0)
		return;
	pgp = tc_daemon_thread_pgp(c, job->generation, &perr);
	job->rc = tc_relaydigest_run(db, pgp, perr.msg, job->tpl, &rc,
	    job->from, job->to, time(NULL), &job->report, &job->err);
	tc_db_close(db);
}

static void
relay_done(uv_work_t *req, int status) /* loop thread */
{
	struct relay_job *job = container_of(req, struct relay_job, req);
	struct tc_daemon *d = job->d;
	char from[TC_RELAYDIGEST_TIME_MAX], to[TC_RELAYDIGEST_TIME_MAX];

	if (status < 0) {
		job->rc = TC_ECANCELED;
		tc_err_set(&job->err, TC_ECANCELED, "cancelled");
	}
	tc_relaydigest_format_time(job->from, from, sizeof(from));
	tc_relaydigest_format_time(job->to, to, sizeof(to));
	if (job->rc < 0)
		tc_log_err(TC_LOG_OUTBOX,
		    "relay from=%s to=%s actor=%s result=failed err=\"%s\"",
		    from, to, tc_esc(job->actor), tc_esc(job->err.msg));
	else
		tc_log_info(TC_LOG_OUTBOX,
		    "relay from=%s to=%s actor=%s result=done digests=%d", from,
		    to, tc_esc(job->actor), job->rc);
	if (job->cb != NULL)
		job->cb(job->arg, job->rc, job->report,
		    job->rc < 0 ? job->err.msg : NULL);
	if (job->rc > 0)
		tc_sender_kick(d);
	json_decref(job->report);
	tc_templates_unref(job->tpl);
	tc_config_unref(job->cfg);
	free(job);
	tc_daemon_job_done(d); /* may complete a shutdown */
}

int
tc_relay_job_start(struct tc_daemon *d, int64_t from, int64_t to,
    const char *actor, tc_relay_done_cb cb, void *arg)
{
	struct relay_job *job;
	int               rc;

	if (d->stopping)
		return TC_ETEMPFAIL;
	if (from >= to)
		return TC_EINPUT;
	job = tc_xcalloc(1, sizeof(*job));
	job->d = d;
	job->cfg = tc_config_ref(d->cfg);
	job->tpl = tc_templates_ref(d->tpl);
	job->generation = d->generation;
	job->from = from;
	job->to = to;
	snprintf(job->actor, sizeof(job->actor), "%s", actor);
	job->cb = cb;
	job->arg = arg;
	tc_daemon_job_started(d);
	if ((rc = uv_queue_work(d->loop, &job->req, relay_work, relay_done)) <
	    0) {
		tc_templates_unref(job->tpl);
		tc_config_unref(job->cfg);
		free(job);
		tc_daemon_job_done(d);
		return TC_ETEMPFAIL;
	}
	return 0;
}

/* --- the timer ----------------------------------------------------------- */

static void arm(struct tc_daemon *d, uint64_t delay_ms);

static void
on_timer_run_done(void *arg, int rc, json_t *report, const char *error)
{
	struct tc_daemon *d = arg;
	int64_t           now = (int64_t)time(NULL), next;

	(void)rc;
	(void)report;
	(void)error;
	if (d->stopping)
		return;
	if (d->cfg->relay.schedule_s == 0) {
		arm(d, RELAY_OFF_CHECK_MS);
		return;
	}
	next = tc_relaydigest_next(now, d->cfg->relay.schedule_s,
	    d->cfg->relay.time_s);
	arm(d, (uint64_t)(next - now) * 1000);
}

static void
on_relay_timer(uv_timer_t *t)
{
	struct tc_daemon *d = container_of(t, struct tc_daemon, relay_timer);
	const struct tc_config *c = d->cfg;
	int64_t                 from, to;

	if (d->stopping)
		return;
	if (c->relay.schedule_s == 0) {
		arm(d, RELAY_OFF_CHECK_MS);
		return;
	}
	tc_relaydigest_last_period((int64_t)time(NULL), c->relay.schedule_s,
	    c->relay.time_s, &from, &to);
	if (tc_relay_job_start(d, from, to, "tocsind", on_timer_run_done, d) <
	    0) {
		tc_log_warning(TC_LOG_OUTBOX,
		    "relay result=postponed (cannot queue work)");
		arm(d, 60 * 1000);
	}
}

static void
arm(struct tc_daemon *d, uint64_t delay_ms)
{
	uv_timer_start(&d->relay_timer, on_relay_timer, delay_ms, 0);
}

void
tc_relaytimer_start(struct tc_daemon *d)
{
	const struct tc_config *c = d->cfg;

	uv_timer_init(d->loop, &d->relay_timer);
	if (c->relay.schedule_s == 0) {
		tc_log_notice(TC_LOG_OUTBOX,
		    "relay result=off (relay.schedule is 0: no digests)");
		arm(d, RELAY_OFF_CHECK_MS);
		return;
	}
	tc_log_info(TC_LOG_OUTBOX, "relay schedule=%us time=%02u:%02u",
	    c->relay.schedule_s, c->relay.time_s / 3600,
	    c->relay.time_s / 60 % 60);
	arm(d, RELAY_STARTUP_DELAY_MS);
}

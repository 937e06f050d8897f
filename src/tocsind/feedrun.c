/* feedrun: one spool file through the spear-warning pipeline (spear.h).
 *
 *   prepare (1 job) → for each chunk of FEEDRUN_CHUNK warnings: compose
 *   (gpg.workers jobs in parallel, each a slice of the chunk) → commit
 *   (1 job: the chunk's messages and sightings in one transaction, then
 *   their wire forms are freed and the sender is woken) → the file moves
 *   to done/ after the last chunk
 *
 * The stages overlap: while chunk k is committed, chunk k + 1 is composed,
 * so gpg is not idle during commits.  Commits stay in chunk order (the
 * last one writes the file's audit row), at most two chunks are held, and
 * pump() is the one place that decides what runs next.
 *
 * Chunks keep the daemon small while it composes a big file — gpgme forks
 * one gpg per operation, and a fork costs more the more memory the process
 * holds (bench/RESULTS.md) — and let delivery start while the rest is
 * still being composed.  A failure part-way leaves the chunks already
 * committed queued and postpones the file; when it is processed again,
 * their findings are within the suppression window, so nothing is sent
 * twice.
 *
 * A file that cannot be read or parsed at all goes to failed/ with the
 * reason; one whose records were all malformed too.  A database failure
 * postpones the file (it goes back to incoming/ and is tried again), since
 * nothing was committed.  At shutdown the file is postponed between
 * stages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "stats.h"
#include "tocsin/config.h"
#include "tocsin/db.h"
#include "tocsin/esc.h"
#include "tocsin/index.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/notify.h"
#include "tocsin/pgp.h"
#include "tocsin/puller.h"
#include "tocsin/spear.h"
#include "tocsin/spool.h"
#include "tocsin/template.h"

#define POSTPONE_MS 10000
#define FEEDRUN_CHUNK 256 /* warnings composed and committed together */

struct feedrun;

struct compose_job {
	uv_work_t       req;
	struct feedrun *run;
	size_t          slice, slices;
};

struct feedrun {
	uv_work_t              req;
	struct tc_daemon      *d;
	struct tc_config      *cfg;
	struct tc_index       *idx;
	struct tc_templates   *tpl;
	unsigned               generation;
	char                  *path, *name;
	enum tc_feed_format    fmt;
	struct tc_feed_opts    opts;
	char                  *feed_name;
	struct tc_spear_config sc;
	struct tc_spear_plan  *plan;
	int                    rc;
	int                    queued;
	struct tc_err          err;
	/* The pipeline (pump()): warnings [compose_from, compose_to) are
	 * being composed (composing jobs in flight) or are composed and wait
	 * (composed); [commit_from, commit_to) are being committed;
	 * next_from is the first warning not yet taken. */
	unsigned               composing;
	bool                   have_compose, composed, committing;
	size_t                 compose_from, compose_to;
	size_t                 commit_from, commit_to;
	size_t                 next_from;
	bool                   started; /* a chunk was taken (n == 0 too) */
	int                    fail_status; /* 0, or why the file stops */
	char                  *fail_reason;
	atomic_bool           *stop;      /* the daemon's stop_requested */
	uint64_t               started_ms;
	struct tc_feed_progress progress; /* written by prepare_work */
};

static void run_free(struct feedrun *run);
static void pump(struct feedrun *run);

static void
spear_config(struct feedrun *run)
{
	const struct tc_config *c = run->cfg;

	run->sc.reference_prefix = c->service.reference_prefix;
	run->sc.from_addr = c->smtp.from;
	run->sc.from_name = c->smtp.from_name;
	run->sc.csirt_url = NULL;
	run->sc.suppression_window_s = c->service.suppression_window_s;
}

/* The configured feed a file belongs to ("<feed>--rest"), if any. */
static const struct tc_config_feed *
feed_for(const struct tc_config *cfg, const char *name)
{
	size_t n = tc_puller_feed_of(name);

	for (size_t i = 0; n && i < cfg->n_feeds; i++)
		if (strlen(cfg->feeds[i].name) == n &&
		    strncmp(cfg->feeds[i].name, name, n) == 0)
			return &cfg->feeds[i];
	return NULL;
}

static void
finish(struct feedrun *run, int status, const char *reason)
{
	struct tc_daemon *d = run->d;

	if (status == TC_EDB || status == TC_ETEMPFAIL)
		(void)tc_spool_postpone(d->spool, POSTPONE_MS, reason);
	else
		(void)tc_spool_finish(d->spool, status, reason);
	tc_stats_feed_end(d, status);
	d->feed_busy = false;
	run_free(run);
	tc_sender_kick(d);
	tc_daemon_job_done(d); /* may complete a shutdown */
}

/* --- commit --------------------------------------------------------------- */

static void
commit_work(uv_work_t *req)
{
	struct feedrun *run = container_of(req, struct feedrun, req);
	struct tc_db   *db;

	if ((run->rc = tc_db_connect(run->cfg->db.conninfo, "tocsind-feed",
		 &db, &run->err)) < 0)
		return;
	{
		/* The chunk as a plan of its own (the commit reads w and n). */
		struct tc_spear_plan chunk = *run->plan;

		chunk.w = run->plan->w + run->commit_from;
		chunk.n = run->commit_to - run->commit_from;
		run->rc = tc_spear_commit(db, &chunk, &run->err);
	}
	if (run->rc >= 0)
		run->queued += run->rc;
	if (run->rc >= 0 && run->commit_to == run->plan->n) {
		/* The audit trail of the import itself. */
		static const char sql[] =
		    "INSERT INTO audit_log (actor, action, reference, detail)"
		    " VALUES ('tocsind', 'feed.processed', NULL,"
		    " jsonb_build_object('file', $1::text, 'feed', $2::text,"
		    "  'records', $3::bigint, 'events', $4::bigint,"
		    "  'skipped', $5::bigint, 'hits', $6::bigint,"
		    "  'warnings', $7::bigint, 'suppressed', $8::bigint,"
		    "  'messages', $9::bigint))";
		const struct tc_spear_plan *p = run->plan;
		char        v[7][24];
		const char *params[9];

		snprintf(v[0], sizeof(v[0]), "%zu", p->st.feed.records);
		snprintf(v[1], sizeof(v[1]), "%zu", p->st.feed.events);
		snprintf(v[2], sizeof(v[2]), "%zu", p->st.feed.skipped);
		snprintf(v[3], sizeof(v[3]), "%zu", p->st.hits);
		snprintf(v[4], sizeof(v[4]), "%zu", p->to_send);
		snprintf(v[5], sizeof(v[5]), "%zu", p->suppressed);
		snprintf(v[6], sizeof(v[6]), "%d", run->queued);
		params[0] = run->name;
		params[1] = run->feed_name;
		for (int i = 0; i < 7; i++)
			params[2 + i] = v[i];
		if (tc_db_run(db, "feed audit", sql, 9, params, &run->err) < 0)
			tc_log_warning(TC_LOG_FEED, "file=%s audit=failed err=\"%s\"",
			    tc_esc(run->name), tc_esc(run->err.msg));
	}
	if (run->rc > 0)
		run->rc = 0;
	tc_db_close(db);
}

/* Stop the file at the next chance: once no job is in flight, pump()
 * finishes it with this status.  The first reason is kept. */
static void
fail(struct feedrun *run, int status, const char *reason)
{
	if (run->fail_status != 0)
		return;
	run->fail_status = status;
	run->fail_reason = tc_xstrdup(reason);
}

static void
commit_done(uv_work_t *req, int status)
{
	struct feedrun *run = container_of(req, struct feedrun, req);

	run->committing = false;
	if (status < 0 || run->rc < 0) {
		fail(run, TC_EDB, status < 0 ? "cancelled" : run->err.msg);
	} else {
		/* Committed: the outbox has the wire forms now. */
		for (size_t i = run->commit_from; i < run->commit_to; i++)
			for (size_t j = 0; j < run->plan->w[i].n_contacts; j++)
				tc_notify_rcpt_deinit(&run->plan->w[i].rcpt[j]);
		tc_sender_kick(run->d);
	}
	pump(run);
}

static void
processed(struct feedrun *run)
{
	const struct tc_spear_plan *p = run->plan;

	tc_log_notice(TC_LOG_FEED,
	    "file=%s feed=%s result=processed records=%zu events=%zu "
	    "skipped=%zu hits=%zu warnings=%zu suppressed=%zu "
	    "no_contact=%zu messages=%d ms=%llu",
	    tc_esc(run->name), tc_esc(run->feed_name), p->st.feed.records,
	    p->st.feed.events, p->st.feed.skipped, p->st.hits, p->to_send,
	    p->suppressed, p->no_contact, run->queued,
	    (unsigned long long)(uv_now(run->d->loop) - run->started_ms));
	finish(run, 0, NULL);
}

/* --- compose -------------------------------------------------------------- */

static void
compose_work(uv_work_t *req)
{
	struct compose_job *job = container_of(req, struct compose_job, req);
	struct feedrun     *run = job->run;
	struct tc_err       err;
	struct tc_pgp      *pgp;
	time_t              now = time(NULL);

	pgp = tc_daemon_thread_pgp(run->cfg, run->generation, &err);
	if (pgp == NULL)
		tc_stats_gpg_error("compose");
	/* compose_from/to do not change while jobs are in flight. */
	for (size_t i = run->compose_from + job->slice; i < run->compose_to;
	     i += job->slices) {
		/* At shutdown the file is postponed: stop early. */
		if (atomic_load(run->stop))
			return;
		tc_spear_compose(&run->plan->w[i], pgp, err.msg, run->tpl,
		    &run->sc, now);
	}
}

static void
compose_done(uv_work_t *req, int status)
{
	struct compose_job *job = container_of(req, struct compose_job, req);
	struct feedrun     *run = job->run;

	if (status < 0)
		fail(run, TC_ETEMPFAIL, "cancelled");
	free(job);
	if (--run->composing == 0)
		run->composed = true;
	pump(run);
}

static void
start_compose(struct feedrun *run)
{
	size_t slices = run->cfg->gpg.workers ? run->cfg->gpg.workers : 1;
	size_t n = run->compose_to - run->compose_from;

	if (n < slices)
		slices = n ? n : 1;
	for (size_t s = 0; s < slices; s++) {
		struct compose_job *job = tc_xcalloc(1, sizeof(*job));

		job->run = run;
		job->slice = s;
		job->slices = slices;
		if (uv_queue_work(run->d->loop, &job->req, compose_work,
			compose_done) < 0) {
			free(job);
			continue;
		}
		run->composing++;
	}
	if (run->composing == 0) {
		run->composed = true; /* nothing runs: pump() sees the failure */
		fail(run, TC_ETEMPFAIL, "cannot queue work");
	}
}

/* Take the next chunk: composed if any of its warnings is to be sent,
 * else ready for its commit at once (sightings only). */
static void
take_chunk(struct feedrun *run)
{
	bool sending = false;

	run->started = true;
	run->have_compose = true;
	run->composed = false;
	run->compose_from = run->next_from;
	run->compose_to = run->compose_from + FEEDRUN_CHUNK;
	if (run->compose_to > run->plan->n)
		run->compose_to = run->plan->n;
	run->next_from = run->compose_to;
	for (size_t i = run->compose_from; i < run->compose_to && !sending;
	     i++)
		sending = run->plan->w[i].reference[0] != '\0';
	if (sending)
		start_compose(run);
	else
		run->composed = true;
}

/* What runs next.  Called after every stage ends. */
static void
pump(struct feedrun *run)
{
	if (run->fail_status == 0 &&
	    (run->d->stopping || atomic_load(run->stop)))
		fail(run, TC_ETEMPFAIL, "shutting down");
	if (run->fail_status != 0) {
		/* Jobs in flight point at run: wait for them. */
		if (run->composing == 0 && !run->committing) {
			char *why = run->fail_reason;

			run->fail_reason = NULL;
			finish(run, run->fail_status, why);
			free(why);
		}
		return;
	}
	/* A composed chunk goes to the commit as soon as it is free. */
	if (run->have_compose && run->composed && !run->committing) {
		run->commit_from = run->compose_from;
		run->commit_to = run->compose_to;
		run->have_compose = false;
		run->committing = true;
		if (uv_queue_work(run->d->loop, &run->req, commit_work,
			commit_done) < 0) {
			run->committing = false;
			fail(run, TC_ETEMPFAIL, "cannot queue work");
			pump(run);
			return;
		}
	}
	/* And the next chunk is composed meanwhile. */
	if (!run->have_compose &&
	    (run->next_from < run->plan->n || !run->started)) {
		take_chunk(run);
		if (run->composed || run->fail_status != 0) {
			pump(run); /* nothing to compose: maybe commit now */
			return;
		}
	}
	if (!run->have_compose && !run->committing &&
	    run->next_from >= run->plan->n && run->started)
		processed(run);
}

/* --- prepare -------------------------------------------------------------- */

static void
prepare_work(uv_work_t *req)
{
	struct feedrun *run = container_of(req, struct feedrun, req);
	struct tc_db   *db;

	if ((run->rc = tc_db_connect(run->cfg->db.conninfo, "tocsind-feed",
		 &db, &run->err)) < 0)
		return;
	run->rc = tc_spear_prepare(db, run->idx, run->path, run->fmt,
	    &run->opts, &run->sc, &run->plan, &run->err);
	tc_db_close(db);
}

static void
prepare_done(uv_work_t *req, int status)
{
	struct feedrun *run = container_of(req, struct feedrun, req);
	struct tc_spear_plan *p = run->plan;

	if (status < 0) {
		finish(run, TC_ETEMPFAIL, "cancelled");
		return;
	}
	if (run->rc < 0) {
		/* Unreadable or unparsable: failed/, with the reason. */
		finish(run, run->rc == TC_EDB ? TC_EDB : TC_EINPUT,
		    run->err.msg);
		return;
	}
	tc_stats_feed_matched(run->d, &p->st, p->to_send,
	    uv_now(run->d->loop) - run->started_ms);
	if (p->st.feed.skipped > 0) {
		tc_log_warning(TC_LOG_FEED,
		    "file=%s skipped=%zu first=\"%s\"", tc_esc(run->name),
		    p->st.feed.skipped, tc_esc(tc_buf_cstr(&p->report)));
		if (p->st.feed.events == 0) {
			struct tc_buf why = TC_BUF_INIT;

			tc_buf_printf(&why,
			    "%s: no usable record (%zu malformed):\n%s",
			    run->name, p->st.feed.skipped,
			    tc_buf_cstr(&p->report));
			finish(run, TC_EINPUT, why.data);
			tc_buf_deinit(&why);
			return;
		}
	}
	if (run->d->stopping) {
		finish(run, TC_ETEMPFAIL, "shutting down");
		return;
	}
	run->next_from = 0;
	pump(run);
}

void
tc_feedrun_start(struct tc_daemon *d, const char *path, const char *name)
{
	struct feedrun              *run = tc_xcalloc(1, sizeof(*run));
	const struct tc_config_feed *f;

	run->d = d;
	run->stop = &d->stop_requested;
	run->cfg = tc_config_ref(d->cfg);
	run->idx = tc_index_ref(d->idx);
	run->tpl = tc_templates_ref(d->tpl);
	run->generation = d->generation;
	run->path = tc_xstrdup(path);
	run->name = tc_xstrdup(name);
	run->started_ms = uv_now(d->loop);
	tc_feed_opts_init(&run->opts);
	run->fmt = TC_FEED_AUTO;
	f = feed_for(run->cfg, name);
	if (f != NULL) {
		enum tc_category cat;

		(void)tc_feed_format_parse(f->format, &run->fmt);
		run->opts.default_tlp = f->default_tlp;
		if (f->category && tc_category_parse(f->category, &cat) == 0)
			run->opts.category = (int)cat;
		run->feed_name = tc_xstrdup(f->name);
	} else {
		run->feed_name = tc_xstrdup(name);
	}
	run->opts.feed_name = run->feed_name;
	run->opts.progress = &run->progress;
	spear_config(run);
	d->feed_busy = true;
	tc_stats_feed_begin(d, name, &run->progress);
	tc_daemon_job_started(d);
	if (uv_queue_work(d->loop, &run->req, prepare_work, prepare_done) < 0)
		finish(run, TC_ETEMPFAIL, "cannot queue work");
}

static void
run_free(struct feedrun *run)
{
	free(run->fail_reason);
	tc_spear_plan_free(run->plan);
	tc_index_unref(run->idx);
	tc_templates_unref(run->tpl);
	tc_config_unref(run->cfg);
	free(run->path);
	free(run->name);
	free(run->feed_name);
	free(run);
}

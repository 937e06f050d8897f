/* daemon: tocsind's state, owned by the loop thread.
 *
 * Start here: main.c parses options and calls tc_daemon_run(), which sets
 * up the loop (daemon.c): the outbox connection (dbq), the spool watcher
 * and feed pipeline (feedrun.c), the sender (sender.c), the control socket,
 * signals.  Blocking work — parsing and matching a file, composing mail
 * (gpgme), SMTP sessions (libesmtp), loading the registry — runs on the
 * libuv thread pool; each job owns its inputs (a config and an index
 * reference, copies) and touches nothing shared.
 *
 * Shutdown (SIGTERM/SIGINT): stop taking files and claiming mail, let
 * running jobs finish (SMTP timeouts bound them), return unsent claimed
 * messages to the queue, close every handle; uv_loop_close() returns 0.
 * SIGHUP: reload the configuration and the templates; a bad new version is
 * reported and the old one stays. */
#ifndef TOCSIND_DAEMON_H
#define TOCSIND_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tocsin/err.h"

struct tc_config;
struct tc_control;
struct tc_dbq;
struct tc_puller;
struct tc_index;
struct tc_pgp;
struct tc_spool;
struct tc_stats;
struct tc_templates;

struct tc_daemon {
	uv_loop_t           *loop;
	struct tc_config    *cfg;   /* current snapshot; jobs hold refs */
	struct tc_templates *tpl;   /* current templates; jobs hold refs */
	struct tc_index     *idx;   /* current registry index */
	unsigned             generation; /* bumped on reload (pgp cache) */
	const char          *config_path;
	char                 worker[128]; /* "host:pid", the lease owner */

	struct tc_dbq     *dbq;
	struct tc_spool   *spool;
	struct tc_control *control;
	struct tc_puller  *puller;  /* NULL: no feed is pulled */
	struct tc_stats   *stats;   /* metrics and feed progress (stats.h) */

	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t  send_timer;   /* claims due messages */
	uv_timer_t  reap_timer;   /* returns expired leases */
	uv_timer_t  index_timer;  /* debounces registry NOTIFYs */
	uv_timer_t  relay_timer;  /* the next relay digest (relaytimer.c) */

	/* Sender. */
	unsigned sessions;        /* SMTP jobs running */
	bool     claiming;        /* a claim statement in flight */
	bool     more_due;        /* the last claim filled its batch */
	unsigned records_pending; /* record statements in flight */

	/* Feeds. */
	bool feed_busy;           /* a file is in the pipeline */
	bool index_loading;
	bool index_dirty;         /* NOTIFY arrived while loading */

	bool     stopping;
	/* Set with `stopping`; read by pool jobs that can end early. */
	atomic_bool stop_requested;
	bool     closed;          /* handles are closing */
	unsigned jobs;            /* pool jobs in flight */
	int      exit_code;
};

int tc_daemon_run(const char *config_path, struct tc_config *cfg);

/* daemon.c */
void tc_daemon_job_started(struct tc_daemon *d);
void tc_daemon_job_done(struct tc_daemon *d);
/* A pool thread's struct tc_pgp for the current configuration, or NULL
 * with err (e.g. the signing key is missing).  Pool threads only. */
struct tc_pgp *tc_daemon_thread_pgp(const struct tc_config *cfg,
    unsigned generation, struct tc_err *err);
/* gpg helper processes started so far (pgpproc.h); 0 with gpg.helpers
 * false.  Any thread. */
unsigned long tc_daemon_gpg_helpers_started(void);

/* feedrun.c: one spool file through prepare → compose → commit. */
void tc_feedrun_start(struct tc_daemon *d, const char *path,
    const char *name);

/* relaytimer.c: relay digests (relaydigest.h) at relay.time every
 * relay.schedule, and on demand.  tc_relaytimer_start() initialises
 * relay_timer (always, so shutdown closes it) and arms it unless digests
 * are off; the first run catches up the last period. */
struct json_t;
typedef void (*tc_relay_done_cb)(void *arg, int rc, struct json_t *report,
    const char *error);
void tc_relaytimer_start(struct tc_daemon *d);
/* Run the digests of [from, to) on the pool; `cb` runs once on the loop
 * with the report (borrowed) or rc < 0 and the error.  Returns 0, or a
 * negative TC_E* and then `cb` never runs. */
int tc_relay_job_start(struct tc_daemon *d, int64_t from, int64_t to,
    const char *actor, tc_relay_done_cb cb, void *arg);

/* sender.c */
void tc_sender_kick(struct tc_daemon *d);
void tc_sender_on_timer(uv_timer_t *t);
void tc_sender_on_reap(uv_timer_t *t);

#endif

/* sender: claim due messages, deliver them over SMTP on the pool, record
 * the outcome.
 *
 * Up to smtp.max_sessions SMTP jobs run at once, each carrying one claimed
 * batch over one session.  Before a message leaves, the job checks it again
 * (fail closed): content whose label demands encryption must be a
 * multipart/encrypted mail and its pinned key must still be usable — a key
 * revoked, expired or deleted while the message waited holds it with the
 * reason.  4xx → deferred with backoff (failed once outbox.max_attempts is
 * reached), 5xx → failed, for that message only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon.h"
#include "stats.h"
#include "tocsin/config.h"
#include "tocsin/dbq.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/outbox.h"
#include "tocsin/pgp.h"
#include "tocsin/retry.h"
#include "tocsin/smtp.h"

struct send_job {
	uv_work_t                req;
	struct tc_daemon        *d;
	struct tc_config        *cfg;
	unsigned                 generation;
	struct tc_outbox_batch  *batch;
	struct tc_outbox_result *res;   /* one per message */
	char                   **reply; /* owned strings behind res[].reply */
	int                     *code;
	int                      smtp_rc; /* tc_smtp_send's, 0 if not called */
	uint64_t                 claimed_ms; /* uv_now() at the claim */
};

/* An outcome record in flight.  When the database is unreachable it is
 * tried again every RECORD_RETRY_MS while the lease surely holds (until 3/4
 * of it from the claim): once the database is back the outcomes land, and
 * a message that was sent is not sent again at lease expiry. */
struct record_op {
	uv_timer_t               timer;
	struct tc_daemon        *d;
	size_t                   n;
	struct tc_outbox_result *res;   /* owned copy */
	char                   **reply; /* owned strings behind res[].reply */
	uint64_t                 deadline_ms;
	unsigned                 tries;
};

#define RECORD_RETRY_MS 1000

/* Is the header section of `body` that of a multipart/encrypted mail? */
static bool
wire_is_encrypted(const char *body, size_t len)
{
	const char *end = memmem(body, len, "\r\n\r\n", 4);
	const char *p = body;

	if (end == NULL)
		return false;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);

		if (eol == NULL)
			break;
		if ((size_t)(eol - p) >= 36 &&
		    strncasecmp(p, "Content-Type: multipart/encrypted;", 34) == 0)
			return true;
		p = eol + 2;
	}
	return false;
}

static void
set_result(struct send_job *job, size_t i, enum tc_outbox_outcome o,
    const char *reply, unsigned delay_s)
{
	free(job->reply[i]);
	job->reply[i] = reply ? tc_xstrdup(reply) : NULL;
	job->res[i].id = job->batch->msgs[i].id;
	job->res[i].outcome = o;
	job->res[i].reply = job->reply[i];
	job->res[i].delay_s = delay_s;
}

static uint32_t
rnd32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = 0x80000000u;
	return r;
}

static void
send_work(uv_work_t *req)
{
	struct send_job        *job = container_of(req, struct send_job, req);
	const struct tc_config *cfg = job->cfg;
	struct tc_outbox_batch *b = job->batch;
	struct tc_smtp_msg     *msgs = tc_xcalloc(b->n, sizeof(*msgs));
	size_t                 *map = tc_xcalloc(b->n, sizeof(*map));
	struct tc_retry_policy  rp = { cfg->outbox.backoff_base_s,
		 cfg->outbox.backoff_max_s, cfg->outbox.max_attempts };
	struct tc_smtp_params   sp;
	struct tc_err           err;
	struct tc_pgp          *pgp;
	size_t                  k = 0;

	pgp = tc_daemon_thread_pgp(cfg, job->generation, &err);
	if (pgp == NULL)
		tc_stats_gpg_error("send");
	for (size_t i = 0; i < b->n; i++) {
		struct tc_outbox_msg *m = &b->msgs[i];
		char                  why[TC_ERR_MSG_MAX + 64];

		if (m->body == NULL || m->body_len == 0) {
			set_result(job, i, TC_OUTBOX_HELD,
			    "refused before sending: no wire form", 0);
			continue;
		}
		if (tc_tlp_needs_encryption(m->tlp) &&
		    (!m->encrypted || !wire_is_encrypted(m->body, m->body_len))) {
			snprintf(why, sizeof(why),
			    "refused before sending: %s content is not "
			    "encrypted",
			    tc_tlp_label(m->tlp));
			set_result(job, i, TC_OUTBOX_HELD, why, 0);
			continue;
		}
		if (m->encrypted) {
			if (pgp == NULL) {
				snprintf(why, sizeof(why), "%s", err.msg);
				set_result(job, i, TC_OUTBOX_DEFERRED, why,
				    tc_retry_delay_s(&rp, m->attempts, rnd32()));
				continue;
			}
			if (m->fpr == NULL ||
			    tc_pgp_check_key(pgp, m->fpr, &err) < 0) {
				snprintf(why, sizeof(why),
				    "recipient key no longer usable: %s",
				    m->fpr ? err.msg : "no pinned key");
				set_result(job, i, TC_OUTBOX_HELD, why, 0);
				continue;
			}
		}
		msgs[k].from = cfg->smtp.from;
		msgs[k].rcpt = m->recipient;
		msgs[k].data = m->body;
		msgs[k].len = m->body_len;
		map[k++] = i;
	}
	if (k > 0) {
		memset(&sp, 0, sizeof(sp));
		sp.host = cfg->smtp.host;
		sp.port = cfg->smtp.port;
		sp.starttls = cfg->smtp.starttls;
		sp.username = cfg->smtp.username;
		sp.password = cfg->smtp.password;
		sp.helo = cfg->smtp.helo;
		sp.ca_file = cfg->smtp.ca_file;
		sp.timeout_s = cfg->smtp.timeout_s;
		job->smtp_rc = tc_smtp_send(&sp, msgs, k, &err);
		for (size_t j = 0; j < k; j++) {
			size_t                i = map[j];
			struct tc_outbox_msg *m = &b->msgs[i];
			char                  reply[300];

			snprintf(reply, sizeof(reply), "%s", msgs[j].reply);
			job->code[i] = msgs[j].code;
			switch (msgs[j].result) {
			case TC_SMTP_SENT:
				set_result(job, i, TC_OUTBOX_SENT, reply, 0);
				break;
			case TC_SMTP_TEMPFAIL:
				if (tc_retry_may_retry(&rp, m->attempts))
					set_result(job, i, TC_OUTBOX_DEFERRED,
					    reply,
					    tc_retry_delay_s(&rp, m->attempts,
						rnd32()));
				else
					set_result(job, i, TC_OUTBOX_FAILED,
					    reply, 0);
				break;
			case TC_SMTP_PERMFAIL:
				set_result(job, i, TC_OUTBOX_FAILED, reply, 0);
				break;
			}
		}
	}
	free(msgs);
	free(map);
}

static void
job_free(struct send_job *job)
{
	for (size_t i = 0; i < job->batch->n; i++)
		free(job->reply[i]);
	free(job->reply);
	free(job->res);
	free(job->code);
	tc_outbox_batch_free(job->batch);
	tc_config_unref(job->cfg);
	free(job);
}

static void record_try(struct record_op *op);

static void
record_op_closed(uv_handle_t *h)
{
	struct record_op *op = h->data;
	struct tc_daemon *d = op->d;

	for (size_t i = 0; i < op->n; i++)
		free(op->reply[i]);
	free(op->reply);
	free(op->res);
	free(op);
	tc_daemon_job_done(d);
	if (!d->stopping)
		tc_sender_kick(d);
}

static void
record_op_end(struct record_op *op)
{
	op->d->records_pending--;
	uv_close((uv_handle_t *)&op->timer, record_op_closed);
}

static void
on_record_timer(uv_timer_t *t)
{
	record_try(t->data);
}

static void
on_recorded(long count, const char *error, void *arg)
{
	struct record_op *op = arg;
	struct tc_daemon *d = op->d;

	if (error != NULL) {
		if (!d->stopping &&
		    uv_now(d->loop) + RECORD_RETRY_MS < op->deadline_ms) {
			tc_log_warning(TC_LOG_OUTBOX,
			    "result=unrecorded messages=%zu err=\"%s\" "
			    "retry_ms=%d try=%u",
			    op->n, tc_esc(error), RECORD_RETRY_MS, op->tries);
			uv_timer_start(&op->timer, on_record_timer,
			    RECORD_RETRY_MS, 0);
			return;
		}
		/* The lease expires and the messages are tried again: the
		 * ones that were sent may arrive twice, never zero times. */
		tc_log_err(TC_LOG_OUTBOX,
		    "result=unrecorded messages=%zu err=\"%s\" tries=%u", op->n,
		    tc_esc(error), op->tries);
	} else if ((size_t)count != op->n)
		tc_log_warning(TC_LOG_OUTBOX,
		    "result=lease_lost recorded=%ld of=%zu", count, op->n);
	else
		tc_log_debug(TC_LOG_OUTBOX, "result=recorded messages=%ld",
		    count);
	record_op_end(op);
}

static void
record_try(struct record_op *op)
{
	op->tries++;
	if (tc_outbox_record(op->d->dbq, op->d->worker, op->res, op->n,
		on_recorded, op) < 0) {
		tc_log_err(TC_LOG_OUTBOX,
		    "result=unrecorded messages=%zu err=\"queue full\"", op->n);
		record_op_end(op);
	}
}

static void
record(struct tc_daemon *d, const struct tc_outbox_result *res, size_t n,
    uint64_t claimed_ms)
{
	struct record_op *op = tc_xcalloc(1, sizeof(*op));

	op->d = d;
	op->n = n;
	op->res = tc_xcalloc(n ? n : 1, sizeof(*op->res));
	op->reply = tc_xcalloc(n ? n : 1, sizeof(*op->reply));
	for (size_t i = 0; i < n; i++) {
		op->res[i] = res[i];
		if (res[i].reply != NULL) {
			op->reply[i] = tc_xstrdup(res[i].reply);
			op->res[i].reply = op->reply[i];
		}
	}
	op->deadline_ms =
	    claimed_ms + (uint64_t)d->cfg->outbox.lease_s * 1000 * 3 / 4;
	uv_timer_init(d->loop, &op->timer);
	op->timer.data = op;
	tc_daemon_job_started(d); /* the record is part of the job */
	d->records_pending++;
	record_try(op);
}

static void
send_done(uv_work_t *req, int status)
{
	struct send_job  *job = container_of(req, struct send_job, req);
	struct tc_daemon *d = job->d;
	size_t            n = job->batch->n;

	d->sessions--;
	if (status == UV_ECANCELED) {
		for (size_t i = 0; i < n; i++)
			set_result(job, i, TC_OUTBOX_RELEASED, NULL, 0);
	}
	for (size_t i = 0; i < n; i++) {
		const struct tc_outbox_msg    *m = &job->batch->msgs[i];
		const struct tc_outbox_result *r = &job->res[i];
		char                           next[32] = "";

		if (r->outcome == TC_OUTBOX_DEFERRED)
			snprintf(next, sizeof(next), " next=%us", r->delay_s);
		tc_log_info(TC_LOG_SMTP,
		    "ref=%s msg=%lld rcpt=<%s> result=%s attempt=%u "
		    "smtp=\"%s\"%s",
		    m->reference, (long long)m->id, tc_esc(m->recipient),
		    tc_outbox_outcome_name(r->outcome), m->attempts,
		    tc_esc(r->reply ? r->reply : ""), next);
	}
	tc_stats_sent(job->smtp_rc, job->res, job->code, n);
	record(d, job->res, n, job->claimed_ms);
	job_free(job);
	tc_daemon_job_done(d);
}

static void
on_claimed(struct tc_outbox_batch *b, const char *error, void *arg)
{
	struct tc_daemon *d = arg;
	struct send_job  *job;
	unsigned          max = d->cfg->outbox.batch;

	d->claiming = false;
	if (b == NULL) {
		tc_log_err(TC_LOG_OUTBOX, "result=claim_failed err=\"%s\"",
		    tc_esc(error));
		tc_daemon_job_done(d);
		return;
	}
	if (b->n == 0) {
		d->more_due = false;
		tc_outbox_batch_free(b);
		tc_daemon_job_done(d);
		return;
	}
	if (max > d->cfg->smtp.max_messages_per_session)
		max = d->cfg->smtp.max_messages_per_session;
	d->more_due = b->n >= max;
	job = tc_xcalloc(1, sizeof(*job));
	job->d = d;
	job->cfg = tc_config_ref(d->cfg);
	job->generation = d->generation;
	job->batch = b;
	job->claimed_ms = uv_now(d->loop);
	job->res = tc_xcalloc(b->n, sizeof(*job->res));
	job->reply = tc_xcalloc(b->n, sizeof(*job->reply));
	job->code = tc_xcalloc(b->n, sizeof(*job->code));
	for (size_t i = 0; i < b->n; i++)
		set_result(job, i, TC_OUTBOX_RELEASED, NULL, 0);
	if (d->stopping ||
	    uv_queue_work(d->loop, &job->req, send_work, send_done) < 0) {
		/* Not attempted: back to the queue now, not at lease end. */
		record(d, job->res, b->n, job->claimed_ms);
		job_free(job);
		tc_daemon_job_done(d);
		return;
	}
	d->sessions++;
	/* The claim's job reference passes to the send job. */
	if (d->more_due)
		tc_sender_kick(d);
}

void
tc_sender_kick(struct tc_daemon *d)
{
	unsigned max;

	if (d->stopping || d->claiming || d->dbq == NULL ||
	    !tc_dbq_is_up(d->dbq) || d->sessions >= d->cfg->smtp.max_sessions)
		return;
	max = d->cfg->outbox.batch;
	if (max > d->cfg->smtp.max_messages_per_session)
		max = d->cfg->smtp.max_messages_per_session;
	tc_daemon_job_started(d);
	if (tc_outbox_claim(d->dbq, d->worker, max, d->cfg->outbox.lease_s,
		on_claimed, d) < 0) {
		tc_daemon_job_done(d);
		return;
	}
	d->claiming = true;
}

void
tc_sender_on_timer(uv_timer_t *t)
{
	tc_sender_kick(t->data);
}

static void
on_reaped(long count, const char *error, void *arg)
{
	struct tc_daemon *d = arg;

	if (error != NULL)
		tc_log_err(TC_LOG_OUTBOX, "result=reap_failed err=\"%s\"",
		    tc_esc(error));
	else if (count > 0) {
		tc_log_warning(TC_LOG_OUTBOX,
		    "result=leases_expired messages=%ld action=requeued", count);
		tc_sender_kick(d);
	}
	tc_daemon_job_done(d);
}

void
tc_sender_on_reap(uv_timer_t *t)
{
	struct tc_daemon *d = t->data;

	if (d->stopping || d->dbq == NULL || !tc_dbq_is_up(d->dbq))
		return;
	tc_daemon_job_started(d);
	if (tc_outbox_reap(d->dbq, on_reaped, d) < 0)
		tc_daemon_job_done(d);
}

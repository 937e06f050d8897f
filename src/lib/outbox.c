/* outbox: claims, leases and outcomes of the message table (outbox.h).
 *
 * Each operation is one SQL statement, sent through struct tc_dbq, so it is
 * atomic on its own: a claim marks rows 'sending' with the lease in the
 * same statement that selects them (FOR UPDATE SKIP LOCKED: concurrent
 * workers skip each other's rows), and a record updates the rows and
 * writes their audit entries together. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/buf.h"
#include "tocsin/db.h"
#include "tocsin/dbq.h"
#include "tocsin/err.h"
#include "tocsin/mem.h"
#include "tocsin/outbox.h"

/* The partial index message_claimable serves the inner SELECT. */
static const char claim_sql[] =
    "UPDATE message m SET state = 'sending', locked_by = $1,"
    "  locked_until = now() + make_interval(secs => $2::int),"
    "  attempts = m.attempts + 1"
    " FROM (SELECT id FROM message"
    "       WHERE state IN ('queued', 'deferred') AND next_attempt <= now()"
    "       ORDER BY priority, created_at, id"
    "       LIMIT $3 FOR UPDATE SKIP LOCKED) c"
    " WHERE m.id = c.id"
    " RETURNING m.id, m.reference, m.recipient, m.recipient_fpr,"
    "  m.encrypted, m.tlp, m.attempts, m.body, m.priority, m.created_at";

/* Outcomes in, rows and audit entries out.  Only rows still leased by
 * this worker change: a row reaped and claimed elsewhere is not ours. */
static const char record_sql[] =
    "WITH r AS (SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[],"
    "    $5::int[]) AS t(id, outcome, reply, delay_s)),"
    " u AS (UPDATE message m SET"
    "   state = CASE r.outcome WHEN 'released' THEN 'queued'"
    "           ELSE r.outcome END::message_state,"
    "   attempts = CASE r.outcome WHEN 'released' THEN"
    "              greatest(m.attempts - 1, 0) ELSE m.attempts END,"
    "   last_reply = coalesce(r.reply, m.last_reply),"
    "   held_reason = CASE r.outcome WHEN 'held' THEN"
    "                 coalesce(r.reply, 'held') ELSE m.held_reason END,"
    "   sent_at = CASE r.outcome WHEN 'sent' THEN now() ELSE m.sent_at END,"
    "   next_attempt = CASE r.outcome WHEN 'deferred' THEN"
    "                  now() + make_interval(secs => r.delay_s)"
    "                  ELSE m.next_attempt END,"
    "   locked_by = NULL, locked_until = NULL"
    "  FROM r WHERE m.id = r.id AND m.state = 'sending'"
    "   AND m.locked_by = $1"
    "  RETURNING m.id, m.reference, m.recipient, m.state, m.attempts,"
    "   r.reply, r.outcome),"
    " a AS (INSERT INTO audit_log (actor, action, reference, detail)"
    "  SELECT 'tocsind', 'message.' || u.outcome, u.reference,"
    "   jsonb_build_object('message', u.id, 'recipient', u.recipient,"
    "    'attempts', u.attempts, 'reply', u.reply, 'worker', $1::text)"
    "  FROM u WHERE u.outcome <> 'released')"
    " SELECT count(*) FROM u";

static const char reap_sql[] =
    "WITH u AS (UPDATE message SET state = 'queued', locked_by = NULL,"
    "   locked_until = NULL"
    "  WHERE state = 'sending' AND locked_until < now()"
    "  RETURNING id, reference, recipient),"
    " a AS (INSERT INTO audit_log (actor, action, reference, detail)"
    "  SELECT 'tocsind', 'message.lease_expired', reference,"
    "   jsonb_build_object('message', id, 'recipient', recipient) FROM u)"
    " SELECT count(*) FROM u";

static const char stats_sql[] =
    "SELECT json_build_object("
    " 'queued', count(*) FILTER (WHERE state = 'queued'),"
    " 'sending', count(*) FILTER (WHERE state = 'sending'),"
    " 'sent', count(*) FILTER (WHERE state = 'sent'),"
    " 'deferred', count(*) FILTER (WHERE state = 'deferred'),"
    " 'failed', count(*) FILTER (WHERE state = 'failed'),"
    " 'held', count(*) FILTER (WHERE state = 'held'),"
    " 'cancelled', count(*) FILTER (WHERE state = 'cancelled'),"
    " 'oldest_s', coalesce(extract(epoch FROM now() - min(created_at)"
    "   FILTER (WHERE state IN ('queued', 'deferred', 'sending')))::bigint,"
    "   0))::text FROM message";

const char *
tc_outbox_outcome_name(enum tc_outbox_outcome o)
{
	switch (o) {
	case TC_OUTBOX_SENT:
		return "sent";
	case TC_OUTBOX_DEFERRED:
		return "deferred";
	case TC_OUTBOX_FAILED:
		return "failed";
	case TC_OUTBOX_HELD:
		return "held";
	case TC_OUTBOX_RELEASED:
		return "released";
	}
	return "failed";
}

void
tc_outbox_batch_free(struct tc_outbox_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct tc_outbox_msg *m = &b->msgs[i];

		free(m->reference);
		free(m->recipient);
		free(m->fpr);
		if (m->body != NULL) {
			/* Encrypted or signed-only (CLEAR/GREEN): wiped anyway. */
			explicit_bzero(m->body, m->body_len);
			free(m->body);
		}
	}
	free(b->msgs);
	free(b);
}

struct op {
	tc_outbox_claim_cb claim_cb;
	tc_outbox_done_cb  done_cb;
	tc_outbox_stats_cb stats_cb;
	void              *arg;
};

static struct op *
op_new(void *arg)
{
	struct op *op = tc_xcalloc(1, sizeof(*op));

	op->arg = arg;
	return op;
}

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
					    tc_xstrdup(PQgetvalue(res, row, col));
}

static void
on_claim(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct op              *op = arg;
	struct tc_outbox_batch *b;
	int                     rows;

	(void)q;
	(void)sqlstate;
	if (res == NULL) {
		op->claim_cb(NULL, error, op->arg);
		free(op);
		return;
	}
	rows = PQntuples(res);
	b = tc_xcalloc(1, sizeof(*b));
	b->msgs = tc_xcalloc(rows > 0 ? (size_t)rows : 1, sizeof(*b->msgs));
	for (int i = 0; i < rows; i++) {
		struct tc_outbox_msg *m = &b->msgs[b->n];
		unsigned char        *raw;
		size_t                rawlen = 0;
		uint64_t              v;

		m->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		m->reference = tc_xstrdup(PQgetvalue(res, i, 1));
		m->recipient = tc_xstrdup(PQgetvalue(res, i, 2));
		m->fpr = dup_or_null(res, i, 3);
		m->encrypted = PQgetvalue(res, i, 4)[0] == 't';
		if (tc_tlp_parse(PQgetvalue(res, i, 5), &m->tlp) < 0)
			m->tlp = TC_TLP_RED; /* unknown: the strictest */
		v = strtoull(PQgetvalue(res, i, 6), NULL, 10);
		m->attempts = v > 1000000 ? 1000000 : (unsigned)v;
		if (!PQgetisnull(res, i, 7)) {
			raw = PQunescapeBytea(
			    (const unsigned char *)PQgetvalue(res, i, 7),
			    &rawlen);
			if (raw != NULL) {
				m->body = tc_xmalloc(rawlen + 1);
				memcpy(m->body, raw, rawlen);
				m->body[rawlen] = '\0';
				m->body_len = rawlen;
				explicit_bzero(raw, rawlen);
				PQfreemem(raw);
			}
		}
		b->n++;
	}
	op->claim_cb(b, NULL, op->arg);
	free(op);
}

int
tc_outbox_claim(struct tc_dbq *q, const char *worker, unsigned max,
    unsigned lease_s, tc_outbox_claim_cb cb, void *arg)
{
	char        lease[16], lim[16];
	const char *params[3] = { worker, lease, lim };
	struct op  *op;
	int         rc;

	snprintf(lease, sizeof(lease), "%u", lease_s);
	snprintf(lim, sizeof(lim), "%u", max);
	op = op_new(arg);
	op->claim_cb = cb;
	rc = tc_dbq_exec(q, claim_sql, 3, params, on_claim, op);
	if (rc < 0)
		free(op);
	return rc;
}

static void
on_count(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct op *op = arg;

	(void)q;
	(void)sqlstate;
	if (op->done_cb != NULL) {
		if (res == NULL)
			op->done_cb(-1, error, op->arg);
		else
			op->done_cb(PQntuples(res) > 0 ?
				strtol(PQgetvalue(res, 0, 0), NULL, 10) :
				0,
			    NULL, op->arg);
	}
	free(op);
}

int
tc_outbox_record(struct tc_dbq *q, const char *worker,
    const struct tc_outbox_result *r, size_t n, tc_outbox_done_cb cb,
    void *arg)
{
	struct tc_buf ids = TC_BUF_INIT, outcomes = TC_BUF_INIT,
		      replies = TC_BUF_INIT, delays = TC_BUF_INIT;
	const char   *params[5];
	char          num[32];
	struct op    *op;
	int           rc;

	tc_db_array_begin(&ids);
	tc_db_array_begin(&outcomes);
	tc_db_array_begin(&replies);
	tc_db_array_begin(&delays);
	for (size_t i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%" PRId64, r[i].id);
		tc_db_array_add(&ids, num);
		tc_db_array_add(&outcomes, tc_outbox_outcome_name(r[i].outcome));
		tc_db_array_add(&replies, r[i].reply);
		snprintf(num, sizeof(num), "%u", r[i].delay_s);
		tc_db_array_add(&delays, num);
	}
	tc_db_array_end(&ids);
	tc_db_array_end(&outcomes);
	tc_db_array_end(&replies);
	tc_db_array_end(&delays);
	params[0] = worker;
	params[1] = ids.data;
	params[2] = outcomes.data;
	params[3] = replies.data;
	params[4] = delays.data;
	op = op_new(arg);
	op->done_cb = cb;
	rc = tc_dbq_exec(q, record_sql, 5, params, on_count, op);
	if (rc < 0)
		free(op);
	tc_buf_deinit(&ids);
	tc_buf_deinit(&outcomes);
	tc_buf_deinit(&replies);
	tc_buf_deinit(&delays);
	return rc;
}

int
tc_outbox_reap(struct tc_dbq *q, tc_outbox_done_cb cb, void *arg)
{
	struct op *op = op_new(arg);
	int        rc;

	op->done_cb = cb;
	rc = tc_dbq_exec(q, reap_sql, 0, NULL, on_count, op);
	if (rc < 0)
		free(op);
	return rc;
}

static void
on_stats(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct op *op = arg;

	(void)q;
	(void)sqlstate;
	if (res == NULL || PQntuples(res) != 1)
		op->stats_cb(NULL, error ? error : "no result", op->arg);
	else
		op->stats_cb(PQgetvalue(res, 0, 0), NULL, op->arg);
	free(op);
}

int
tc_outbox_stats(struct tc_dbq *q, tc_outbox_stats_cb cb, void *arg)
{
	struct op *op = op_new(arg);
	int        rc;

	op->stats_cb = cb;
	rc = tc_dbq_exec(q, stats_sql, 0, NULL, on_stats, op);
	if (rc < 0)
		free(op);
	return rc;
}

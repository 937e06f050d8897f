/* outbox: the durable queue of messages (table "message").
 *
 * Owns state transitions and leases; never renders, signs or sends.  A
 * message row exists, with its wire form, before any SMTP happens:
 *
 *   queued ──claim──► sending ──► sent | deferred | failed | held
 *     ▲                  │            (deferred is claimable again at
 *     └── lease expired ─┘             next_attempt)
 *
 * A worker claims a batch with FOR UPDATE SKIP LOCKED in one statement
 * (several tocsind share one outbox without sending a message twice) and
 * leases it for lease_s seconds; a crashed worker's lease expires and
 * tc_outbox_reap() returns its messages to the queue.  Results are
 * recorded in one statement per batch, guarded by the lease owner, with an
 * audit row per message.  Claim order is priority (0 essential, 1 public
 * administration, 2 important, 3 others), then age.
 *
 * Every statement is a single SQL statement (atomic on its own), so a
 * lost connection never leaves a message half-claimed.  Loop thread only
 * (it drives struct tc_dbq). */
#ifndef TOCSIN_OUTBOX_H
#define TOCSIN_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/tlp.h"

struct tc_dbq;

/* A claimed message: everything the sender needs. */
struct tc_outbox_msg {
	int64_t     id;
	char       *reference;
	char       *recipient;
	char       *fpr;       /* pinned key it was encrypted to, or NULL */
	bool        encrypted;
	enum tc_tlp tlp;
	unsigned    attempts;  /* including this one */
	char       *body;      /* the wire form (owned) */
	size_t      body_len;
};

struct tc_outbox_batch {
	struct tc_outbox_msg *msgs;
	size_t                n;
};
void tc_outbox_batch_free(struct tc_outbox_batch *b);

enum tc_outbox_outcome {
	TC_OUTBOX_SENT,
	TC_OUTBOX_DEFERRED, /* temporary failure: again at now + delay_s */
	TC_OUTBOX_FAILED,   /* permanent failure, or attempts exhausted */
	TC_OUTBOX_HELD,     /* cannot be sent safely; reply = the reason */
	TC_OUTBOX_RELEASED, /* not attempted (shutdown): back to the queue */
};
const char *tc_outbox_outcome_name(enum tc_outbox_outcome o);

struct tc_outbox_result {
	int64_t                id;
	enum tc_outbox_outcome outcome;
	const char            *reply;   /* SMTP reply or reason; may be NULL */
	unsigned               delay_s; /* for DEFERRED */
};

/* `batch` is owned by the callback (NULL on error, with `error`). */
typedef void (*tc_outbox_claim_cb)(struct tc_outbox_batch *batch,
    const char *error, void *arg);
/* `count` rows changed, or error != NULL. */
typedef void (*tc_outbox_done_cb)(long count, const char *error, void *arg);

/* Claim up to `max` due messages for `worker`, leased for `lease_s`.
 * Returns 0 (cb runs once) or a negative TC_E* (cb never runs). */
int tc_outbox_claim(struct tc_dbq *q, const char *worker, unsigned max,
    unsigned lease_s, tc_outbox_claim_cb cb, void *arg);
/* Record the outcome of `n` claimed messages of `worker`.  Rows whose
 * lease was lost meanwhile (reaped and claimed by another) are left
 * alone.  The strings are copied before this returns. */
int tc_outbox_record(struct tc_dbq *q, const char *worker,
    const struct tc_outbox_result *r, size_t n, tc_outbox_done_cb cb,
    void *arg);
/* Return messages whose lease expired to the queue. */
int tc_outbox_reap(struct tc_dbq *q, tc_outbox_done_cb cb, void *arg);
/* Counts per state and the age of the oldest claimable message, as one
 * JSON object text {"queued":n,...,"oldest_s":n} (for status/metrics). */
typedef void (*tc_outbox_stats_cb)(const char *json, const char *error,
    void *arg);
int tc_outbox_stats(struct tc_dbq *q, tc_outbox_stats_cb cb, void *arg);

#endif

/* dbq: one PostgreSQL connection driven asynchronously on the loop.  A FIFO
 * of parameterised statements, one in flight; LISTEN channels; reconnection
 * with backoff.  Loop thread only.  Every statement is PQsendQueryParams with
 * text parameters: a value never reaches SQL text (a LISTEN channel is an
 * identifier checked against [a-z_][a-z0-9_]*, not a value).
 *
 * This module owns its PGconn, the uv_poll_t on its socket and two timers;
 * it never blocks the loop, with one exception the caller controls: libpq
 * resolves a host name synchronously when it starts connecting, so the
 * daemon's conninfo names a unix socket directory or an IP address.
 *
 * Connection loss (network, pg_terminate_backend, server restart) is seen
 * when the socket becomes readable and reading fails or the connection goes
 * bad, even while idle.  The statement in flight then fails with
 * "connection lost" (never retried here: the caller's statements are atomic
 * and idempotent); queued statements wait for the reconnection, which is
 * retried after TC_DBQ_BACKOFF_MIN_MS, doubling up to TC_DBQ_BACKOFF_MAX_MS.
 * On reconnection every LISTEN is issued again before the state callback
 * says "up" and before any queued statement runs. */
#ifndef TOCSIN_DBQ_H
#define TOCSIN_DBQ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "tocsin/err.h"

#define TC_DBQ_QUEUE_MAX 10000 /* statements waiting, in flight not counted */
#define TC_DBQ_PARAMS_MAX 1000 /* parameters of one statement */
#define TC_DBQ_LISTEN_MAX 64   /* tc_dbq_listen registrations */
#define TC_DBQ_CHANNEL_MAX 63  /* PostgreSQL's NAMEDATALEN - 1 */
#define TC_DBQ_BACKOFF_MIN_MS 100       /* first retry after a loss */
#define TC_DBQ_BACKOFF_MAX_MS 10000     /* retries never wait longer */
#define TC_DBQ_CONNECT_TIMEOUT_MS 10000 /* one connection attempt */

struct tc_dbq;

/* Runs exactly once per tc_dbq_exec that returned 0: with the result
 * (PGRES_TUPLES_OK / PGRES_COMMAND_OK; borrowed, cleared after the callback
 * returns) and error NULL; or with res NULL and error a message
 * ("connection lost", the server's message for an SQL error, with SQLSTATE
 * available through sqlstate, "" if none, "cancelled" at close).  The
 * strings are borrowed for the duration of the call. */
typedef void (*tc_dbq_result_cb)(struct tc_dbq *q, const PGresult *res,
    const char *error, const char *sqlstate, void *arg);
typedef void (*tc_dbq_notify_cb)(struct tc_dbq *q, const char *channel,
    const char *payload, void *arg);
/* Connection state changes (true = connected and LISTENs re-issued;
 * false = lost, reconnecting).  false is only reported after a true. */
typedef void (*tc_dbq_state_cb)(struct tc_dbq *q, bool up, void *arg);
typedef void (*tc_dbq_close_cb)(struct tc_dbq *q, void *arg);

/* Start connecting (conninfo "" = PG* environment, else a connection string,
 * a URI or a database name; application_name = app, NULL = "tocsin";
 * client_encoding UTF8).  Never blocks, but for a host name, which libpq
 * resolves synchronously when the attempt starts: use a unix socket or an
 * IP.  A server that is down is not an error: the attempt is retried with
 * backoff.  state_cb may be NULL.  Returns 0 and *out, or TC_EINPUT (a
 * malformed conninfo, err says why) or another negative TC_E*. */
int tc_dbq_new(uv_loop_t *loop, const char *conninfo, const char *app,
    tc_dbq_state_cb state_cb, void *arg, struct tc_dbq **out,
    struct tc_err *err);
/* LISTEN on `channel` (an identifier [a-z_][a-z0-9_]* of at most
 * TC_DBQ_CHANNEL_MAX bytes, else TC_EINPUT), now and after every
 * reconnection; `cb` gets every notification on it.  Several registrations
 * of one channel each get it.  Returns 0, TC_EINPUT, TC_ELIMIT (more than
 * TC_DBQ_LISTEN_MAX) or TC_ECANCELED (closing). */
int tc_dbq_listen(struct tc_dbq *q, const char *channel, tc_dbq_notify_cb cb,
    void *arg);
/* Queue a statement; sql and params are copied (NULL = SQL NULL).
 * Statements queued while disconnected wait for the reconnection (up to
 * TC_DBQ_QUEUE_MAX queued, then TC_ELIMIT).  A statement in flight when the
 * connection is lost fails with "connection lost" (never retried here: the
 * caller's statements are written to be atomic and idempotent, e.g. single
 * statements or CTEs).  `cb` never runs before this function returns.
 * Returns 0, or TC_EINPUT (no sql or cb, nparams outside
 * [0, TC_DBQ_PARAMS_MAX]), TC_ELIMIT or TC_ECANCELED (closing), and then cb
 * never runs. */
int tc_dbq_exec(struct tc_dbq *q, const char *sql, int nparams,
    const char *const *params, tc_dbq_result_cb cb, void *arg);
/* Connected and every LISTEN issued. */
bool tc_dbq_is_up(const struct tc_dbq *q);
/* Statements queued + in flight. */
size_t tc_dbq_pending(const struct tc_dbq *q);
/* Fail every queued statement with "cancelled" (the one in flight too: it
 * may or may not have run on the server) before returning, close the
 * connection and the handles; cb (may be NULL) runs once everything is
 * closed, then q is freed.  The state callback is not called.  May be called
 * from any callback of q; a second call is ignored. */
void tc_dbq_close(struct tc_dbq *q, tc_dbq_close_cb cb, void *arg);

#endif

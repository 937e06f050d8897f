/* dbq: see include/tocsin/dbq.h (one asynchronous connection on the loop).
 *
 * Design note.  The connection is in one of five states:
 *
 *   WAIT        no PGconn; the retry timer runs (backoff)
 *   CONNECTING  PQconnectPoll steps, each waiting on the socket it names
 *   LISTENING   connected; the LISTENs run first, ahead of the FIFO
 *   UP          connected, LISTENs done: state_cb(true) was reported
 *   CLOSING     tc_dbq_close ran; waiting for the handles' close callbacks
 *
 * The socket is watched by a uv_poll_t allocated on its own, so that a
 * handle being closed never delays the next one.  libpq may replace its
 * socket during a connection attempt (next address, SSL retry), and the new
 * socket often gets the old descriptor number: the watched socket is thus
 * identified by number and inode, and a handle is closed (uv_close stops
 * polling at once) before libpq closes its descriptor whenever we close it
 * (PQfinish), so no handle ever polls a closed descriptor.
 *
 * User callbacks may re-enter (exec, listen, close): after each callback
 * the caller checks that the connection it was using is still q->conn.
 * Statements are sent from a zero-delay timer or from the I/O callback,
 * never from tc_dbq_exec itself, so a result callback never runs before
 * tc_dbq_exec returns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tocsin/dbq.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

#define MSG_MAX 256

enum dbq_state { ST_WAIT, ST_CONNECTING, ST_LISTENING, ST_UP, ST_CLOSING };

struct stmt {
	struct stmt     *next;
	bool             internal; /* a LISTEN of ours: no user callback */
	tc_dbq_result_cb cb;
	void            *arg;
	char            *sql;
	int              nparams;
	char           **params;
};

struct listen {
	char             channel[TC_DBQ_CHANNEL_MAX + 1];
	tc_dbq_notify_cb cb;
	void            *arg;
};

struct pollh {
	uv_poll_t      h; /* container_of() */
	struct tc_dbq *q;
};

struct tc_dbq {
	uv_loop_t      *loop;
	char           *conninfo;
	char           *app;
	tc_dbq_state_cb state_cb;
	void           *state_arg;
	enum dbq_state  st;
	bool            reported_up;
	unsigned        backoff_ms;
	unsigned        attempt;

	PGconn       *conn;
	struct pollh *poll; /* NULL when not watching */
	int           poll_fd;
	ino_t         poll_ino;
	int           poll_events;
	uv_timer_t    timer; /* retry backoff, or the connect timeout */
	uv_timer_t    kick;  /* sends the head of the FIFO */
	size_t        nopen; /* handles whose close callback has not run */

	struct stmt *head, *tail;
	size_t       nqueued; /* user statements in the FIFO */
	struct stmt *inflight;
	PGresult    *res; /* result of the statement in flight so far */
	size_t       nlisten_pending;

	struct listen listens[TC_DBQ_LISTEN_MAX];
	size_t        nlistens;

	tc_dbq_close_cb close_cb;
	void           *close_arg;
};

static void on_io(uv_poll_t *h, int status, int events);
static void lost(struct tc_dbq *q, const char *why);

/* Copy a libpq message, cut if need be, on one line. */
static void
copy_msg(char *dst, size_t size, const char *src)
{
	size_t n;

	if (snprintf(dst, size, "%s", src ? src : "") < 0)
		dst[0] = '\0';
	for (char *s = dst; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
	n = strlen(dst);
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
}

static void
on_notice(void *arg, const char *message)
{
	(void)arg;
	tc_log_debug(TC_LOG_DB, "dbq=notice notice=\"%s\"", tc_esc(message));
}

static void
stmt_free(struct stmt *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->nparams; i++)
		free(s->params[i]);
	free(s->params);
	free(s->sql);
	free(s);
}

static void
finish_close(struct tc_dbq *q)
{
	tc_dbq_close_cb cb = q->close_cb;
	void           *arg = q->close_arg;

	if (cb != NULL)
		cb(q, arg);
	free(q->conninfo);
	free(q->app);
	free(q);
}

static void
handle_closed(struct tc_dbq *q)
{
	TC_REQUIRE(q->nopen > 0);
	if (--q->nopen == 0 && q->st == ST_CLOSING)
		finish_close(q);
}

static void
on_poll_closed(uv_handle_t *h)
{
	struct pollh  *p = container_of((uv_poll_t *)h, struct pollh, h);
	struct tc_dbq *q = p->q;

	free(p);
	handle_closed(q);
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct tc_dbq *q = h->data;

	handle_closed(q);
}

/* Stop watching the socket: at once, before its descriptor is closed. */
static void
unwatch(struct tc_dbq *q)
{
	if (q->poll == NULL)
		return;
	uv_close((uv_handle_t *)&q->poll->h, on_poll_closed);
	q->poll = NULL;
}

/* Watch the connection's current socket for `events`, replacing the handle
 * when libpq's socket is another one than the watched one. */
static int
watch(struct tc_dbq *q, int events)
{
	int           fd = PQsocket(q->conn);
	struct stat   sb;
	struct pollh *p;
	int           r;

	if (fd < 0)
		return TC_EBUG;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (q->poll != NULL && (q->poll_fd != fd || q->poll_ino != sb.st_ino))
		unwatch(q);
	if (q->poll == NULL) {
		p = tc_xcalloc(1, sizeof(*p));
		p->q = q;
		if ((r = uv_poll_init_socket(q->loop, &p->h, fd)) < 0) {
			free(p);
			return r;
		}
		q->nopen++;
		q->poll = p;
		q->poll_fd = fd;
		q->poll_ino = sb.st_ino;
		q->poll_events = 0;
	}
	if (events != q->poll_events) {
		if ((r = uv_poll_start(&q->poll->h, events, on_io)) < 0)
			return r;
		q->poll_events = events;
	}
	return 0;
}

static bool
connected(const struct tc_dbq *q)
{
	return q->st == ST_LISTENING || q->st == ST_UP;
}

static void
drop_conn(struct tc_dbq *q)
{
	unwatch(q); /* before PQfinish closes the descriptor */
	PQfinish(q->conn);
	q->conn = NULL;
	PQclear(q->res);
	q->res = NULL;
}

static void on_retry(uv_timer_t *t);

static void
schedule_retry(struct tc_dbq *q, const char *why)
{
	tc_log_warning(TC_LOG_DB,
	    "dbq=down attempt=%u error=\"%s\" retry_ms=%u", q->attempt,
	    tc_esc(why), q->backoff_ms);
	q->st = ST_WAIT;
	uv_timer_start(&q->timer, on_retry, q->backoff_ms, 0);
	q->backoff_ms = q->backoff_ms >= TC_DBQ_BACKOFF_MAX_MS / 2
	    ? TC_DBQ_BACKOFF_MAX_MS
	    : q->backoff_ms * 2;
}

static void
attempt_failed(struct tc_dbq *q, const char *why)
{
	char msg[MSG_MAX];

	copy_msg(msg, sizeof(msg), why);
	uv_timer_stop(&q->timer);
	drop_conn(q);
	schedule_retry(q, msg);
}

static void
go_up(struct tc_dbq *q)
{
	q->st = ST_UP;
	q->backoff_ms = TC_DBQ_BACKOFF_MIN_MS;
	q->attempt = 0;
	q->reported_up = true;
	tc_log_notice(TC_LOG_DB, "dbq=up listens=%zu queued=%zu", q->nlistens,
	    q->nqueued);
	if (q->state_cb != NULL)
		q->state_cb(q, true, q->state_arg);
}

static struct stmt *
listen_stmt(const char *channel)
{
	struct stmt *s = tc_xcalloc(1, sizeof(*s));
	/* "LISTEN " + quoted identifier: the channel was checked to be
	 * [a-z_][a-z0-9_]*, so quoting only keeps key words usable. */
	size_t size = sizeof("LISTEN \"\"") + strlen(channel);

	s->internal = true;
	s->sql = tc_xmalloc(size);
	TC_REQUIRE(
	    snprintf(s->sql, size, "LISTEN \"%s\"", channel) == (int)size - 1);
	return s;
}

static void
push_tail(struct tc_dbq *q, struct stmt *s)
{
	s->next = NULL;
	if (q->tail != NULL)
		q->tail->next = s;
	else
		q->head = s;
	q->tail = s;
}

static struct stmt *
pop_head(struct tc_dbq *q)
{
	struct stmt *s = q->head;

	if (s == NULL)
		return NULL;
	q->head = s->next;
	if (q->head == NULL)
		q->tail = NULL;
	s->next = NULL;
	if (!s->internal)
		q->nqueued--;
	return s;
}

/* Remove our LISTENs from the FIFO: the next connection issues them all. */
static void
drop_internal(struct tc_dbq *q)
{
	struct stmt **pp = &q->head;

	q->tail = NULL;
	while (*pp != NULL) {
		struct stmt *s = *pp;

		if (s->internal) {
			*pp = s->next;
			stmt_free(s);
		} else {
			q->tail = s;
			pp = &s->next;
		}
	}
	q->nlisten_pending = 0;
}

static void
flush(struct tc_dbq *q)
{
	int r = PQflush(q->conn);

	if (r < 0) {
		lost(q, PQerrorMessage(q->conn));
		return;
	}
	r = watch(q, r == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
	if (r < 0)
		lost(q, uv_strerror(r));
}

/* Send the head of the FIFO if nothing is in flight. */
static void
pump(struct tc_dbq *q)
{
	struct stmt *s;

	if (!connected(q) || q->inflight != NULL || q->head == NULL)
		return;
	s = pop_head(q);
	q->inflight = s;
	if (!PQsendQueryParams(q->conn, s->sql, s->nparams, NULL,
		(const char *const *)s->params, NULL, NULL, 0)) {
		/* Arguments are checked at tc_dbq_exec: only a connection
		 * gone bad refuses a command here. */
		lost(q, PQerrorMessage(q->conn));
		return;
	}
	flush(q);
}

static void
on_kick(uv_timer_t *t)
{
	pump(t->data);
}

static void
kick(struct tc_dbq *q)
{
	if (connected(q) && q->inflight == NULL && q->head != NULL)
		uv_timer_start(&q->kick, on_kick, 0, 0);
}

/* PQconnectPoll says the attempt is done. */
static void
on_connected(struct tc_dbq *q)
{
	struct stmt *first = NULL, *last = NULL;
	int          r;

	uv_timer_stop(&q->timer);
	if (PQsetnonblocking(q->conn, 1) != 0) {
		attempt_failed(q, PQerrorMessage(q->conn));
		return;
	}
	if ((r = watch(q, UV_READABLE)) < 0) {
		attempt_failed(q, uv_strerror(r));
		return;
	}
	tc_log_info(TC_LOG_DB, "dbq=connected attempt=%u backend_pid=%d",
	    q->attempt, PQbackendPID(q->conn));
	q->st = ST_LISTENING;
	/* LISTENs go ahead of the statements that waited for us. */
	for (size_t i = 0; i < q->nlistens; i++) {
		struct stmt *s = listen_stmt(q->listens[i].channel);

		if (last != NULL)
			last->next = s;
		else
			first = s;
		last = s;
	}
	if (first != NULL) {
		last->next = q->head;
		q->head = first;
		if (q->tail == NULL)
			q->tail = last;
		q->nlisten_pending = q->nlistens;
	} else {
		go_up(q);
		if (q->st != ST_UP)
			return; /* closed from state_cb */
	}
	pump(q);
}

static void
connect_step(struct tc_dbq *q, PostgresPollingStatusType ps)
{
	int r;

	switch (ps) {
	case PGRES_POLLING_OK:
		on_connected(q);
		return;
	case PGRES_POLLING_READING:
		r = watch(q, UV_READABLE);
		break;
	case PGRES_POLLING_WRITING:
		r = watch(q, UV_WRITABLE);
		break;
	default:
		attempt_failed(q, PQerrorMessage(q->conn));
		return;
	}
	if (r < 0)
		attempt_failed(q, uv_strerror(r));
}

static void
on_connect_timeout(uv_timer_t *t)
{
	attempt_failed(t->data, "connection attempt timed out");
}

static void
start_attempt(struct tc_dbq *q)
{
	const char *keys[] = { "dbname", "application_name", "client_encoding",
		NULL };
	const char *vals[] = { q->conninfo, q->app, "UTF8", NULL };

	q->attempt++;
	tc_log_info(TC_LOG_DB, "dbq=connect attempt=%u", q->attempt);
	/* expand_dbname=1: conninfo may be a whole connection string; the
	 * later keys apply where it says nothing else (as tc_db_connect). */
	q->conn = PQconnectStartParams(keys, vals, 1);
	if (q->conn == NULL) {
		schedule_retry(q, "out of memory");
		return;
	}
	if (PQstatus(q->conn) == CONNECTION_BAD) {
		attempt_failed(q, PQerrorMessage(q->conn));
		return;
	}
	PQsetNoticeProcessor(q->conn, on_notice, NULL);
	q->st = ST_CONNECTING;
	uv_timer_start(&q->timer, on_connect_timeout, TC_DBQ_CONNECT_TIMEOUT_MS,
	    0);
	connect_step(q, PGRES_POLLING_WRITING);
}

static void
on_retry(uv_timer_t *t)
{
	start_attempt(t->data);
}

/* The connection is gone: fail the statement in flight, report, retry. */
static void
lost(struct tc_dbq *q, const char *why)
{
	char         msg[MSG_MAX];
	struct stmt *s = q->inflight;
	bool         was_up = q->reported_up;

	copy_msg(msg, sizeof(msg), why);
	drop_conn(q);
	q->inflight = NULL;
	q->reported_up = false;
	drop_internal(q);
	uv_timer_stop(&q->kick);
	schedule_retry(q, msg);
	if (s != NULL && !s->internal)
		s->cb(q, NULL, "connection lost", "", s->arg);
	stmt_free(s);
	if (q->st == ST_CLOSING)
		return;
	if (was_up && q->state_cb != NULL)
		q->state_cb(q, false, q->state_arg);
}

/* The statement in flight has all its results. */
static void
deliver(struct tc_dbq *q)
{
	struct stmt   *s = q->inflight;
	PGresult      *res = q->res;
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	char           msg[MSG_MAX];
	char           state[6];
	const char    *v;
	bool           ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;

	q->inflight = NULL;
	q->res = NULL;
	if (!ok) {
		v = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (tc_strlcpy(state, v ? v : "", sizeof(state)) < 0)
			state[0] = '\0';
		v = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			: NULL;
		if (st == PGRES_EMPTY_QUERY)
			v = "empty query";
		else if (v == NULL && PQstatus(q->conn) == CONNECTION_BAD)
			v = "connection lost"; /* libpq's own, no SQLSTATE */
		else if (v == NULL)
			v = PQerrorMessage(q->conn);
		copy_msg(msg, sizeof(msg), v);
	}
	if (s->internal) {
		if (!ok)
			tc_log_err(TC_LOG_DB,
			    "dbq=listen sql=\"%s\" error=\"%s\"", s->sql,
			    tc_esc(msg));
		if (q->nlisten_pending > 0 && --q->nlisten_pending == 0 &&
		    q->st == ST_LISTENING)
			go_up(q);
	} else if (ok) {
		s->cb(q, res, NULL, NULL, s->arg);
	} else {
		s->cb(q, NULL, msg, state, s->arg);
	}
	PQclear(res);
	stmt_free(s);
}

static void
dispatch(struct tc_dbq *q, const PGnotify *n)
{
	/* By index: a callback may add registrations, or close q. */
	for (size_t i = 0; i < q->nlistens && q->st != ST_CLOSING; i++)
		if (strcmp(q->listens[i].channel, n->relname) == 0)
			q->listens[i].cb(q, n->relname, n->extra,
			    q->listens[i].arg);
}

static void
on_io(uv_poll_t *h, int status, int events)
{
	struct tc_dbq *q = container_of(h, struct pollh, h)->q;
	PGconn        *conn = q->conn;
	PGresult      *res;
	PGnotify      *n;
	int            r;

	if (q->st == ST_CONNECTING) {
		if (status < 0)
			attempt_failed(q, uv_strerror(status));
		else
			connect_step(q, PQconnectPoll(conn));
		return;
	}
	if (status < 0) {
		lost(q, uv_strerror(status));
		return;
	}
	if ((events & UV_READABLE) && !PQconsumeInput(conn)) {
		lost(q, PQerrorMessage(conn));
		return;
	}
	if (events & UV_WRITABLE) {
		if ((r = PQflush(conn)) < 0) {
			lost(q, PQerrorMessage(conn));
			return;
		}
		if (r == 0 && (r = watch(q, UV_READABLE)) < 0) {
			lost(q, uv_strerror(r));
			return;
		}
	}
	while (q->conn == conn && q->inflight != NULL && !PQisBusy(conn)) {
		res = PQgetResult(conn);
		if (res == NULL) {
			deliver(q);
			if (q->conn == conn)
				pump(q);
			continue;
		}
		r = PQresultStatus(res);
		if (r == PGRES_COPY_IN || r == PGRES_COPY_OUT ||
		    r == PGRES_COPY_BOTH) {
			PQclear(res);
			lost(q, "COPY is not supported");
			return;
		}
		/* One result per statement; should there be more, the
		 * first error wins, else the last result. */
		if (q->res != NULL &&
		    PQresultStatus(q->res) != PGRES_TUPLES_OK &&
		    PQresultStatus(q->res) != PGRES_COMMAND_OK) {
			PQclear(res);
		} else {
			PQclear(q->res);
			q->res = res;
		}
	}
	while (q->conn == conn && (n = PQnotifies(conn)) != NULL) {
		dispatch(q, n);
		PQfreemem(n);
	}
	if (q->conn == conn && PQstatus(conn) == CONNECTION_BAD)
		lost(q, PQerrorMessage(conn));
}

static bool
conninfo_is_string(const char *s)
{
	return strchr(s, '=') != NULL ||
	    tc_str_has_prefix(s, "postgresql://") ||
	    tc_str_has_prefix(s, "postgres://");
}

int
tc_dbq_new(uv_loop_t *loop, const char *conninfo, const char *app,
    tc_dbq_state_cb state_cb, void *arg, struct tc_dbq **out,
    struct tc_err *err)
{
	struct tc_dbq    *q;
	PQconninfoOption *opts;
	char             *errmsg = NULL;
	char              msg[MSG_MAX];

	if (loop == NULL || out == NULL)
		return tc_err_set(err, TC_EINPUT, "dbq: no loop or result");
	if (conninfo == NULL)
		conninfo = "";
	if (conninfo_is_string(conninfo)) {
		opts = PQconninfoParse(conninfo, &errmsg);
		if (opts == NULL) {
			/* libpq quotes the part it did not understand: never
			 * when that part might be a password. */
			copy_msg(msg, sizeof(msg),
			    strstr(conninfo, "password") != NULL
				? "malformed connection string"
				: errmsg ? errmsg
					 : "out of memory");
			PQfreemem(errmsg);
			return tc_err_set(err, TC_EINPUT, "db.conninfo: %s",
			    msg);
		}
		PQconninfoFree(opts);
	}
	q = tc_xcalloc(1, sizeof(*q));
	q->loop = loop;
	q->conninfo = tc_xstrdup(conninfo);
	q->app = tc_xstrdup(app ? app : "tocsin");
	q->state_cb = state_cb;
	q->state_arg = arg;
	q->backoff_ms = TC_DBQ_BACKOFF_MIN_MS;
	uv_timer_init(loop, &q->timer);
	uv_timer_init(loop, &q->kick);
	q->timer.data = q;
	q->kick.data = q;
	q->nopen = 2;
	start_attempt(q); /* runs no user callback */
	*out = q;
	return 0;
}

static bool
channel_is_valid(const char *c)
{
	size_t n = 0;

	if (c == NULL || !((c[0] >= 'a' && c[0] <= 'z') || c[0] == '_'))
		return false;
	for (; c[n]; n++)
		if (!((c[n] >= 'a' && c[n] <= 'z') ||
			(c[n] >= '0' && c[n] <= '9') || c[n] == '_'))
			return false;
	return n <= TC_DBQ_CHANNEL_MAX;
}

int
tc_dbq_listen(struct tc_dbq *q, const char *channel, tc_dbq_notify_cb cb,
    void *arg)
{
	struct listen *l;

	if (q->st == ST_CLOSING)
		return TC_ECANCELED;
	if (cb == NULL || !channel_is_valid(channel))
		return TC_EINPUT;
	if (q->nlistens >= TC_DBQ_LISTEN_MAX)
		return TC_ELIMIT;
	l = &q->listens[q->nlistens++];
	TC_REQUIRE(tc_strlcpy(l->channel, channel, sizeof(l->channel)) == 0);
	l->cb = cb;
	l->arg = arg;
	/* Not connected yet: on_connected issues every LISTEN. */
	if (connected(q)) {
		push_tail(q, listen_stmt(channel));
		kick(q);
	}
	return 0;
}

int
tc_dbq_exec(struct tc_dbq *q, const char *sql, int nparams,
    const char *const *params, tc_dbq_result_cb cb, void *arg)
{
	struct stmt *s;

	if (q->st == ST_CLOSING)
		return TC_ECANCELED;
	if (sql == NULL || cb == NULL || nparams < 0 ||
	    nparams > TC_DBQ_PARAMS_MAX || (nparams > 0 && params == NULL))
		return TC_EINPUT;
	if (q->nqueued >= TC_DBQ_QUEUE_MAX)
		return TC_ELIMIT;
	s = tc_xcalloc(1, sizeof(*s));
	s->cb = cb;
	s->arg = arg;
	s->sql = tc_xstrdup(sql);
	s->nparams = nparams;
	if (nparams > 0) {
		s->params = tc_xcalloc((size_t)nparams, sizeof(*s->params));
		for (int i = 0; i < nparams; i++)
			s->params[i] = params[i] ? tc_xstrdup(params[i]) : NULL;
	}
	push_tail(q, s);
	q->nqueued++;
	kick(q);
	return 0;
}

bool
tc_dbq_is_up(const struct tc_dbq *q)
{
	return q->st == ST_UP;
}

size_t
tc_dbq_pending(const struct tc_dbq *q)
{
	return q->nqueued +
	    (q->inflight != NULL && !q->inflight->internal ? 1 : 0);
}

void
tc_dbq_close(struct tc_dbq *q, tc_dbq_close_cb cb, void *arg)
{
	struct stmt *s;

	if (q == NULL || q->st == ST_CLOSING)
		return;
	q->st = ST_CLOSING;
	q->close_cb = cb;
	q->close_arg = arg;
	drop_conn(q);
	uv_close((uv_handle_t *)&q->timer, on_timer_closed);
	uv_close((uv_handle_t *)&q->kick, on_timer_closed);
	s = q->inflight;
	q->inflight = NULL;
	if (s == NULL)
		s = pop_head(q);
	while (s != NULL) {
		if (!s->internal)
			s->cb(q, NULL, "cancelled", "", s->arg);
		stmt_free(s);
		s = pop_head(q);
	}
	tc_log_info(TC_LOG_DB, "dbq=closed");
}

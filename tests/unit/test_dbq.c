/* Unit tests for dbq against a real PostgreSQL started for this run by
 * tests/services.sh: FIFO order under load, parameters that would break
 * pasted SQL, SQL errors with SQLSTATE, LISTEN/NOTIFY, a backend terminated
 * while idle, a full server restart, close with statements queued, and the
 * argument and limit checks.  Every test ends with a clean uv_loop_close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tocsin/db.h"
#include "tocsin/dbq.h"
#include "tocsin/mem.h"

static char svc_dir[256];

struct ctx {
	uv_loop_t      loop;
	struct tc_dbq *q;
	int            ups, downs, closed;
	int            done; /* result callbacks run */
	int            next; /* FIFO: index expected next */
	int            errors;
	char           error[256];
	char           sqlstate[6];
	char           value[256];
	int            notes;
	char           channel[64];
	char           payload[256];
};

static const char *
services_script(void)
{
	static char path[512];
	const char *data = getenv("TOCSIN_TEST_DATA");

	if (data == NULL)
		return "tests/services.sh";
	if (snprintf(path, sizeof(path), "%s/../services.sh", data) >=
	    (int)sizeof(path))
		return "tests/services.sh";
	return path;
}

static int
read_env(const char *dir)
{
	char  path[512], line[512];
	FILE *f;
	int   n = 0;

	if (snprintf(path, sizeof(path), "%s/env", dir) >= (int)sizeof(path))
		return -1;
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *v, *e;

		if (strncmp(k, "export ", 7) == 0)
			k += 7;
		if ((v = strchr(k, '=')) == NULL)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
		if (*v == '\'' && (e = strrchr(v + 1, '\'')) != NULL) {
			*e = '\0';
			v++;
		}
		if (strncmp(k, "PG", 2) == 0 && setenv(k, v, 1) == 0)
			n++;
	}
	fclose(f);
	return n == 4 ? 0 : -1;
}

static int
group_setup(void **state)
{
	char cmd[1024];
	(void)state;

	if (snprintf(svc_dir, sizeof(svc_dir), "/tmp/tocsin-dbq-XXXXXX") < 0 ||
	    mkdtemp(svc_dir) == NULL)
		return -1;
	if (snprintf(cmd, sizeof(cmd), "%s start %s >%s/services.log 2>&1",
		services_script(), svc_dir, svc_dir) >= (int)sizeof(cmd))
		return -1;
	if (system(cmd) != 0) {
		fprintf(stderr, "services failed to start, see %s\n", svc_dir);
		return -1;
	}
	unsetenv("PGPASSWORD");
	unsetenv("PGSERVICE");
	return read_env(svc_dir);
}

static int
group_teardown(void **state)
{
	char cmd[1024];
	(void)state;

	if (svc_dir[0] == '\0')
		return 0;
	if (snprintf(cmd, sizeof(cmd), "%s stop %s >/dev/null 2>&1; rm -rf %s",
		services_script(), svc_dir, svc_dir) >= (int)sizeof(cmd))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

static void
on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Run the loop until *counter >= target or timeout_ms; true if reached. */
static bool
run_until(struct ctx *c, const int *counter, int target, unsigned timeout_ms)
{
	uv_timer_t t;
	int        expired = 0;

	uv_timer_init(&c->loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_deadline, timeout_ms, 0);
	while (*counter < target && !expired)
		uv_run(&c->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&c->loop, UV_RUN_NOWAIT);
	return *counter >= target;
}

static void
on_state(struct tc_dbq *q, bool up, void *arg)
{
	struct ctx *c = arg;

	assert_ptr_equal(q, c->q);
	if (up)
		c->ups++;
	else
		c->downs++;
	assert_true(c->ups == c->downs + (up ? 1 : 0)); /* alternate */
}

static void
on_closed(struct tc_dbq *q, void *arg)
{
	struct ctx *c = arg;

	(void)q;
	c->closed++;
}

static void
ctx_open(struct ctx *c, const char *conninfo, bool wait_up)
{
	struct tc_err err;

	memset(c, 0, sizeof(*c));
	assert_int_equal(uv_loop_init(&c->loop), 0);
	assert_int_equal(tc_dbq_new(&c->loop, conninfo, "test_dbq", on_state, c,
			     &c->q, &err),
	    0);
	assert_false(tc_dbq_is_up(c->q));
	if (wait_up) {
		assert_true(run_until(c, &c->ups, 1, 10000));
		assert_true(tc_dbq_is_up(c->q));
	}
}

static void
ctx_close(struct ctx *c)
{
	if (c->q != NULL) {
		tc_dbq_close(c->q, on_closed, c);
		c->q = NULL;
		assert_true(run_until(c, &c->closed, 1, 5000));
	}
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(c->closed, 1);
	assert_int_equal(uv_loop_close(&c->loop), 0);
}

/* Records the outcome of one statement into its ctx. */
static void
on_result(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct ctx *c = arg;

	(void)q;
	c->done++;
	c->error[0] = c->sqlstate[0] = c->value[0] = '\0';
	if (res == NULL) {
		assert_non_null(error);
		assert_non_null(sqlstate);
		c->errors++;
		snprintf(c->error, sizeof(c->error), "%s", error);
		snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", sqlstate);
		return;
	}
	assert_null(error);
	if (PQntuples(res) > 0 && PQnfields(res) > 0)
		snprintf(c->value, sizeof(c->value), "%s",
		    PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
}

/* Run one statement to its end; returns 0 on success, -1 on an error. */
static int
run_sql(struct ctx *c, const char *sql, int n, const char *const *params)
{
	int before = c->done, errors = c->errors;

	assert_int_equal(tc_dbq_exec(c->q, sql, n, params, on_result, c), 0);
	assert_true(run_until(c, &c->done, before + 1, 10000));
	assert_int_equal(c->done, before + 1);
	return c->errors == errors ? 0 : -1;
}

/* --- FIFO ---------------------------------------------------------------- */

struct fifo_item {
	struct ctx *c;
	int         i;
};

static void
on_fifo(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct fifo_item *it = arg;

	(void)q;
	(void)sqlstate;
	assert_null(error);
	assert_non_null(res);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(it->i, it->c->next); /* FIFO order */
	assert_int_equal(strtol(PQgetvalue(res, 0, 0), NULL, 10), it->i + 1);
	it->c->next++;
}

static void
test_fifo_many(void **state)
{
	enum { N = 1000 };
	static struct fifo_item items[N];
	static char             num[N][12];
	struct ctx              c;
	(void)state;

	ctx_open(&c, "", true);
	for (int i = 0; i < N; i++) {
		const char *p[1] = { num[i] };

		snprintf(num[i], sizeof(num[i]), "%d", i);
		items[i].c = &c;
		items[i].i = i;
		assert_int_equal(tc_dbq_exec(c.q, "SELECT $1::int + 1", 1, p,
				     on_fifo, &items[i]),
		    0);
	}
	/* params were copied: overwrite ours before anything ran */
	memset(num, 'x', sizeof(num));
	assert_int_equal(tc_dbq_pending(c.q), N);
	assert_true(run_until(&c, &c.next, N, 20000));
	assert_int_equal(tc_dbq_pending(c.q), 0);
	ctx_close(&c);
}

/* --- parameters ---------------------------------------------------------- */

static void
test_params_roundtrip(void **state)
{
	static const char *vals[] = { "it's", "a\\b\\\\c", "\\x00",
		"'); DROP TABLE pg_class; --", "$1 $2 ?", "\"quoted\" ident",
		"%s%n%x", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xd0\x96",
		"line1\nline2\r\n\ttab", "", "E'\\n'", "/* c */ -- c", ";" };
	struct ctx         c;
	(void)state;

	ctx_open(&c, "", true);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		const char *p[1] = { vals[i] };

		assert_int_equal(run_sql(&c, "SELECT $1::text", 1, p), 0);
		assert_string_equal(c.value, vals[i]);
		/* the server saw the same bytes: its own length agrees */
		assert_int_equal(
		    run_sql(&c, "SELECT octet_length($1::text)", 1, p), 0);
		assert_int_equal(strtol(c.value, NULL, 10), strlen(vals[i]));
	}
	{
		const char *p[2] = { NULL, "x'y" };

		assert_int_equal(run_sql(&c, "SELECT $1::text", 1, p), 0);
		assert_string_equal(c.value, "(null)");
		assert_int_equal(
		    run_sql(&c, "SELECT coalesce($1::text, $2::text)", 2, p),
		    0);
		assert_string_equal(c.value, "x'y");
	}
	ctx_close(&c);
}

/* --- SQL errors ---------------------------------------------------------- */

static void
test_sql_error(void **state)
{
	const char *bad[1] = { "abc" };
	const char *ok[1] = { "41" };
	struct ctx  c;
	(void)state;

	ctx_open(&c, "", true);
	assert_int_equal(run_sql(&c, "SELECT 1/0", 0, NULL), -1);
	assert_string_equal(c.error, "division by zero");
	assert_string_equal(c.sqlstate, "22012");
	assert_int_equal(run_sql(&c, "SELECT $1::int + 1", 1, ok), 0);
	assert_string_equal(c.value, "42");

	assert_int_equal(run_sql(&c, "SELECT $1::int", 1, bad), -1);
	assert_non_null(
	    strstr(c.error, "invalid input syntax for type integer"));
	assert_string_equal(c.sqlstate, "22P02");
	assert_int_equal(run_sql(&c, "SELEC 1", 0, NULL), -1);
	assert_string_equal(c.sqlstate, "42601");
	assert_int_equal(run_sql(&c, "SELECT * FROM no_such_table", 0, NULL),
	    -1);
	assert_string_equal(c.sqlstate, "42P01");
	assert_non_null(strstr(c.error, "no_such_table"));
	assert_int_equal(run_sql(&c, "", 0, NULL), -1);
	assert_string_equal(c.error, "empty query");
	/* an error queued ahead of a success: the FIFO goes on */
	assert_int_equal(tc_dbq_exec(c.q, "SELECT 1/0", 0, NULL, on_result, &c),
	    0);
	assert_int_equal(
	    tc_dbq_exec(c.q, "SELECT 'after'", 0, NULL, on_result, &c), 0);
	assert_true(run_until(&c, &c.done, c.done + 2, 10000));
	assert_string_equal(c.value, "after");
	assert_int_equal(c.errors, 6);
	ctx_close(&c);
}

/* --- LISTEN / NOTIFY ----------------------------------------------------- */

static void
on_note(struct tc_dbq *q, const char *channel, const char *payload, void *arg)
{
	struct ctx *c = arg;

	(void)q;
	c->notes++;
	snprintf(c->channel, sizeof(c->channel), "%s", channel);
	snprintf(c->payload, sizeof(c->payload), "%s", payload);
}

static void
notify(const char *channel, const char *payload)
{
	struct tc_db *db;
	struct tc_err err;
	const char   *p[2] = { channel, payload };

	assert_int_equal(tc_db_connect("", "test_dbq_peer", &db, &err), 0);
	assert_int_equal(
	    tc_db_run(db, "notify", "SELECT pg_notify($1, $2)", 2, p, &err), 0);
	tc_db_close(db);
}

static void
test_listen_notify(void **state)
{
	static const char payload[] = "it's \"fine\" \\ caf\xc3\xa9; NOTIFY x";
	char              longname[TC_DBQ_CHANNEL_MAX + 2];
	struct ctx        c;
	(void)state;

	ctx_open(&c, "", true);
	assert_int_equal(tc_dbq_listen(c.q, "Tocsin", on_note, &c), TC_EINPUT);
	assert_int_equal(tc_dbq_listen(c.q, "1abc", on_note, &c), TC_EINPUT);
	assert_int_equal(tc_dbq_listen(c.q, "a-b", on_note, &c), TC_EINPUT);
	assert_int_equal(tc_dbq_listen(c.q, "a\"; DROP", on_note, &c),
	    TC_EINPUT);
	assert_int_equal(tc_dbq_listen(c.q, "", on_note, &c), TC_EINPUT);
	assert_int_equal(tc_dbq_listen(c.q, NULL, on_note, &c), TC_EINPUT);
	assert_int_equal(tc_dbq_listen(c.q, "ok", NULL, &c), TC_EINPUT);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(tc_dbq_listen(c.q, longname, on_note, &c), TC_EINPUT);
	longname[TC_DBQ_CHANNEL_MAX] = '\0'; /* exactly the limit */
	assert_int_equal(tc_dbq_listen(c.q, longname, on_note, &c), 0);

	assert_int_equal(tc_dbq_listen(c.q, "tocsin_registry", on_note, &c), 0);
	/* FIFO: once this ran, so did the LISTENs */
	assert_int_equal(run_sql(&c, "SELECT 1", 0, NULL), 0);
	notify("other_channel", "nope");
	notify("tocsin_registry", payload);
	assert_true(run_until(&c, &c.notes, 1, 5000));
	assert_string_equal(c.channel, "tocsin_registry");
	assert_string_equal(c.payload, payload);
	notify(longname, "");
	assert_true(run_until(&c, &c.notes, 2, 5000));
	assert_string_equal(c.channel, longname);
	assert_string_equal(c.payload, "");
	/* a NOTIFY from the dbq itself, in a statement */
	{
		const char *p[2] = { "tocsin_registry", "self" };

		assert_int_equal(run_sql(&c, "SELECT pg_notify($1, $2)", 2, p),
		    0);
	}
	assert_true(run_until(&c, &c.notes, 3, 5000));
	assert_string_equal(c.payload, "self");
	/* "other_channel" never came through */
	assert_int_equal(c.notes, 3);
	ctx_close(&c);
}

/* --- connection loss ----------------------------------------------------- */

static int
backend_pid(struct ctx *c)
{
	assert_int_equal(run_sql(c, "SELECT pg_backend_pid()", 0, NULL), 0);
	return (int)strtol(c->value, NULL, 10);
}

static void
test_terminate_backend(void **state)
{
	struct ctx    c;
	struct tc_db *db;
	struct tc_err err;
	char          pid[16];
	const char   *p[1] = { pid };
	const char   *n7[1] = { "7" };
	int           pid1, done;
	PGresult     *res;
	(void)state;

	ctx_open(&c, "", true);
	assert_int_equal(tc_dbq_listen(c.q, "tocsin_t", on_note, &c), 0);
	pid1 = backend_pid(&c);
	snprintf(pid, sizeof(pid), "%d", pid1);
	assert_int_equal(tc_db_connect("", "test_dbq_peer", &db, &err), 0);
	res = tc_db_exec(db, "terminate", "SELECT pg_terminate_backend($1)", 1,
	    p, &err);
	assert_non_null(res);
	assert_string_equal(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	tc_db_close(db);

	/* The next statement either ran before the backend went, failed
	 * with the loss, or waits for the reconnection. */
	done = c.done;
	assert_int_equal(
	    tc_dbq_exec(c.q, "SELECT $1::int", 1, n7, on_result, &c), 0);
	assert_true(run_until(&c, &c.downs, 1, 10000));
	assert_true(run_until(&c, &c.ups, 2, 10000));
	assert_true(run_until(&c, &c.done, done + 1, 10000));
	assert_int_equal(c.done, done + 1); /* exactly once */
	if (c.errors > 0)
		assert_true(strcmp(c.error, "connection lost") == 0 ||
		    strcmp(c.sqlstate, "57P01") == 0);
	else
		assert_string_equal(c.value, "7");
	assert_int_equal(c.downs, 1);
	assert_int_equal(c.ups, 2);
	assert_true(tc_dbq_is_up(c.q));
	assert_int_not_equal(backend_pid(&c), pid1);
	/* LISTEN was issued again */
	notify("tocsin_t", "after");
	assert_true(run_until(&c, &c.notes, 1, 5000));
	assert_string_equal(c.payload, "after");
	ctx_close(&c);
}

/* Terminated while a statement runs: it fails with "connection lost",
 * exactly once, and the next one runs on the new connection. */
static void
test_terminate_in_flight(void **state)
{
	struct ctx    c;
	struct tc_db *db;
	struct tc_err err;
	char          pid[16];
	const char   *p[1] = { pid };
	uv_timer_t    t;
	int           fired = 0;
	(void)state;

	ctx_open(&c, "", true);
	snprintf(pid, sizeof(pid), "%d", backend_pid(&c));
	assert_int_equal(
	    tc_dbq_exec(c.q, "SELECT pg_sleep(5)", 0, NULL, on_result, &c), 0);
	uv_timer_init(&c.loop, &t);
	t.data = &fired;
	uv_timer_start(&t, on_deadline, 50, 0); /* it is in flight */
	assert_true(run_until(&c, &fired, 1, 5000));
	uv_close((uv_handle_t *)&t, NULL);
	assert_int_equal(tc_db_connect("", "test_dbq_peer", &db, &err), 0);
	assert_int_equal(tc_db_run(db, "terminate",
			     "SELECT pg_terminate_backend($1)", 1, p, &err),
	    0);
	tc_db_close(db);
	assert_true(run_until(&c, &c.done, 2, 4000)); /* well before 5 s */
	assert_string_equal(c.error, "connection lost");
	assert_true(run_until(&c, &c.ups, 2, 10000));
	assert_int_equal(c.downs, 1);
	assert_int_equal(run_sql(&c, "SELECT 'again'", 0, NULL), 0);
	assert_string_equal(c.value, "again");
	assert_int_equal(c.done, 3);
	assert_int_equal(c.errors, 1);
	ctx_close(&c);
}

struct proc {
	uv_process_t h;
	int          exited;
	int64_t      status;
};

static void
on_proc_exit(uv_process_t *h, int64_t status, int sig)
{
	struct proc *p = container_of(h, struct proc, h);

	(void)sig;
	p->status = status;
	p->exited = 1;
	uv_close((uv_handle_t *)h, NULL);
}

static void
test_server_restart(void **state)
{
	struct ctx               c;
	struct proc              pr;
	uv_process_options_t     o;
	uv_stdio_container_t     stdio[3];
	char                     pgctl[512], data[512], log[512];
	const char              *pgbin = getenv("PGBIN");
	char                    *args[16];
	int                      n = 0;
	static const char *const nums[5] = { "1", "2", "3", "4", "5" };
	(void)state;

	if (pgbin == NULL)
		pgbin = "/usr/lib/postgresql/15/bin";
	snprintf(pgctl, sizeof(pgctl), "%s/pg_ctl", pgbin);
	snprintf(data, sizeof(data), "%s/pg/data", svc_dir);
	snprintf(log, sizeof(log), "%s/pg/server.log", svc_dir);
	if (geteuid() == 0) { /* as services.sh: postgres refuses root */
		args[n++] = "runuser";
		args[n++] = "-u";
		args[n++] = "postgres";
		args[n++] = "--";
	}
	args[n++] = pgctl;
	args[n++] = "-D";
	args[n++] = data;
	args[n++] = "-l";
	args[n++] = log;
	args[n++] = "-w";
	args[n++] = "-m";
	args[n++] = "fast";
	args[n++] = "restart";
	args[n] = NULL;

	ctx_open(&c, "", true);
	assert_int_equal(tc_dbq_listen(c.q, "tocsin_r", on_note, &c), 0);
	assert_int_equal(run_sql(&c, "SELECT 1", 0, NULL), 0);

	memset(&pr, 0, sizeof(pr));
	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 3; i++)
		stdio[i].flags = UV_IGNORE;
	o.file = args[0];
	o.args = args;
	o.exit_cb = on_proc_exit;
	o.stdio = stdio;
	o.stdio_count = 3;
	/* The loop keeps running while the server goes down and up. */
	assert_int_equal(uv_spawn(&c.loop, &pr.h, &o), 0);
	assert_true(run_until(&c, &c.downs, 1, 30000));
	assert_false(tc_dbq_is_up(c.q));
	for (int i = 0; i < 5; i++)
		assert_int_equal(tc_dbq_exec(c.q, "SELECT $1::int * 2", 1,
				     &nums[i], on_result, &c),
		    0);
	assert_int_equal(tc_dbq_pending(c.q), 5);
	assert_true(run_until(&c, &c.ups, 2, 30000));
	assert_true(run_until(&c, &c.done, 6, 10000));
	assert_int_equal(c.errors, 0);
	assert_string_equal(c.value, "10"); /* the last, in order */
	assert_true(run_until(&c, &pr.exited, 1, 30000));
	assert_int_equal(pr.status, 0);
	notify("tocsin_r", "restarted");
	assert_true(run_until(&c, &c.notes, 1, 5000));
	assert_string_equal(c.payload, "restarted");
	assert_int_equal(c.downs, 1);
	ctx_close(&c);
}

/* --- close --------------------------------------------------------------- */

struct cancel_item {
	struct ctx *c;
	int         calls;
	bool        cancelled;
};

static void
on_cancel(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct cancel_item *it = arg;

	it->calls++;
	it->cancelled = res == NULL && error != NULL &&
	    strcmp(error, "cancelled") == 0 && strcmp(sqlstate, "") == 0;
	it->c->done++;
	/* closing: nothing new is accepted, from inside a callback too */
	assert_int_equal(tc_dbq_exec(q, "SELECT 1", 0, NULL, on_result, it->c),
	    TC_ECANCELED);
	assert_int_equal(tc_dbq_listen(q, "late", on_note, it->c),
	    TC_ECANCELED);
}

static void
test_close_cancels(void **state)
{
	enum { N = TC_DBQ_QUEUE_MAX };
	static struct cancel_item items[N + 1];
	struct ctx                c;
	uv_timer_t                t;
	int                       fired = 0;
	(void)state;

	ctx_open(&c, "", true);
	memset(items, 0, sizeof(items));
	/* items[N] goes in flight first and sleeps */
	items[N].c = &c;
	assert_int_equal(tc_dbq_exec(c.q, "SELECT pg_sleep(0.3)", 0, NULL,
			     on_cancel, &items[N]),
	    0);
	uv_timer_init(&c.loop, &t);
	t.data = &fired;
	uv_timer_start(&t, on_deadline, 50, 0);
	assert_true(run_until(&c, &fired, 1, 5000));
	uv_close((uv_handle_t *)&t, NULL);
	assert_int_equal(tc_dbq_pending(c.q), 1);
	for (int i = 0; i < N; i++) {
		items[i].c = &c;
		assert_int_equal(
		    tc_dbq_exec(c.q, "SELECT 1", 0, NULL, on_cancel, &items[i]),
		    0);
	}
	/* the limit counts queued statements, not the one in flight */
	assert_int_equal(
	    tc_dbq_exec(c.q, "SELECT 1", 0, NULL, on_cancel, &items[0]),
	    TC_ELIMIT);
	assert_int_equal(tc_dbq_pending(c.q), N + 1);
	tc_dbq_close(c.q, on_closed, &c);
	tc_dbq_close(c.q, on_closed, &c); /* ignored */
	c.q = NULL;
	/* every callback ran once, before close returned */
	assert_int_equal(c.done, N + 1);
	for (int i = 0; i <= N; i++) {
		assert_int_equal(items[i].calls, 1);
		assert_true(items[i].cancelled);
	}
	assert_int_equal(c.closed, 0); /* handles still closing */
	ctx_close(&c);
	assert_int_equal(c.done, N + 1);
}

/* A result callback closes q: the statements behind it are cancelled and
 * nothing touches the connection afterwards. */
static void
on_result_close(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct ctx *c = arg;

	on_result(q, res, error, sqlstate, arg);
	assert_string_equal(c->value, "first");
	tc_dbq_close(q, on_closed, c);
	c->q = NULL;
	assert_int_equal(c->done, 3); /* the two behind, cancelled at once */
}

static void
test_close_from_callback(void **state)
{
	struct ctx c;
	(void)state;

	ctx_open(&c, "", true);
	assert_int_equal(
	    tc_dbq_exec(c.q, "SELECT 'first'", 0, NULL, on_result_close, &c),
	    0);
	assert_int_equal(tc_dbq_exec(c.q, "SELECT 2", 0, NULL, on_result, &c),
	    0);
	assert_int_equal(tc_dbq_exec(c.q, "SELECT 3", 0, NULL, on_result, &c),
	    0);
	assert_true(run_until(&c, &c.closed, 1, 10000));
	assert_int_equal(c.done, 3);
	assert_int_equal(c.errors, 2);
	assert_string_equal(c.error, "cancelled");
	ctx_close(&c);
	assert_int_equal(c.done, 3);
}

/* --- arguments, limits, a server that is not there ------------------------ */

static void
test_arguments_and_limits(void **state)
{
	enum { P = TC_DBQ_PARAMS_MAX };
	static char        sql[P * 16 + 64];
	static const char *params[P + 1];
	struct ctx         c;
	size_t             len;
	char               name[16];
	(void)state;

	ctx_open(&c, "", true);
	assert_int_equal(tc_dbq_exec(c.q, NULL, 0, NULL, on_result, &c),
	    TC_EINPUT);
	assert_int_equal(tc_dbq_exec(c.q, "SELECT 1", 0, NULL, NULL, &c),
	    TC_EINPUT);
	assert_int_equal(tc_dbq_exec(c.q, "SELECT 1", -1, NULL, on_result, &c),
	    TC_EINPUT);
	assert_int_equal(tc_dbq_exec(c.q, "SELECT $1", 1, NULL, on_result, &c),
	    TC_EINPUT);
	for (int i = 0; i <= P; i++)
		params[i] = "v";
	assert_int_equal(
	    tc_dbq_exec(c.q, "SELECT 1", P + 1, params, on_result, &c),
	    TC_EINPUT);
	assert_int_equal(tc_dbq_pending(c.q), 0); /* none of these queued */
	/* exactly TC_DBQ_PARAMS_MAX parameters work */
	len = (size_t)snprintf(sql, sizeof(sql), "SELECT array_length(ARRAY[");
	for (int i = 1; i <= P; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    "%s$%d::text", i > 1 ? "," : "", i);
	snprintf(sql + len, sizeof(sql) - len, "], 1)");
	assert_int_equal(run_sql(&c, sql, P, params), 0);
	assert_int_equal(strtol(c.value, NULL, 10), P);

	/* TC_DBQ_LISTEN_MAX registrations, then TC_ELIMIT */
	for (int i = 0; i < TC_DBQ_LISTEN_MAX; i++) {
		snprintf(name, sizeof(name), "ch_%d", i);
		assert_int_equal(tc_dbq_listen(c.q, name, on_note, &c), 0);
	}
	assert_int_equal(tc_dbq_listen(c.q, "one_more", on_note, &c),
	    TC_ELIMIT);
	assert_int_equal(run_sql(&c,
			     "SELECT count(*) FROM pg_listening_channels()", 0,
			     NULL),
	    0);
	assert_string_equal(c.value, "64");
	ctx_close(&c);
}

static void
test_bad_conninfo(void **state)
{
	uv_loop_t      loop;
	struct tc_dbq *q = NULL;
	struct tc_err  err;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(
	    tc_dbq_new(&loop, "dbname=x nonsense", "t", NULL, NULL, &q, &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "db.conninfo"));
	assert_non_null(strstr(err.msg, "nonsense"));
	assert_int_equal(
	    tc_dbq_new(&loop, "no_such_key=1", "t", NULL, NULL, &q, &err),
	    TC_EINPUT);
	assert_int_equal(tc_dbq_new(&loop, "password=s3cret junk", "t", NULL,
			     NULL, &q, &err),
	    TC_EINPUT);
	assert_null(strstr(err.msg, "s3cret"));
	assert_null(strstr(err.msg, "junk"));
	assert_null(q);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_server_absent(void **state)
{
	struct ctx c;
	uv_timer_t t;
	int        fired = 0;
	(void)state;

	/* A socket directory with no server: retried, never up, nothing
	 * lost; closing cancels what waited. */
	ctx_open(&c, "host=/nonexistent-tocsin port=1", false);
	assert_int_equal(tc_dbq_exec(c.q, "SELECT 1", 0, NULL, on_result, &c),
	    0);
	uv_timer_init(&c.loop, &t);
	t.data = &fired;
	uv_timer_start(&t, on_deadline, 400, 0); /* 100 + 200 ms of retries */
	assert_true(run_until(&c, &fired, 1, 5000));
	uv_close((uv_handle_t *)&t, NULL);
	assert_false(tc_dbq_is_up(c.q));
	assert_int_equal(c.ups + c.downs + c.done, 0);
	assert_int_equal(tc_dbq_pending(c.q), 1);
	tc_dbq_close(c.q, on_closed, &c);
	c.q = NULL;
	assert_int_equal(c.done, 1);
	assert_string_equal(c.error, "cancelled");
	ctx_close(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_conninfo),
		cmocka_unit_test(test_server_absent),
		cmocka_unit_test(test_fifo_many),
		cmocka_unit_test(test_params_roundtrip),
		cmocka_unit_test(test_sql_error),
		cmocka_unit_test(test_listen_notify),
		cmocka_unit_test(test_arguments_and_limits),
		cmocka_unit_test(test_close_cancels),
		cmocka_unit_test(test_close_from_callback),
		cmocka_unit_test(test_terminate_backend),
		cmocka_unit_test(test_terminate_in_flight),
		cmocka_unit_test(test_server_restart),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* db: see include/tocsin/db.h (blocking connection API). */
#include <stdlib.h>
#include <string.h>

#include "tocsin/db.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

struct tc_db {
	PGconn            *conn;
	struct tc_db_error last;
};

/* The server's message, on one line: ours go into error files and logs. */
static void
one_line(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/* Server notices ("relation already exists, skipping") are not errors:
 * they go to the debug log, not to the user's terminal. */
static void
on_notice(void *arg, const char *message)
{
	(void)arg;
	tc_log_debug(TC_LOG_DB, "notice=\"%s\"", tc_esc(message));
}

int
tc_db_connect(const char *conninfo, const char *app, struct tc_db **out,
    struct tc_err *err)
{
	const char *keys[] = { "dbname", "application_name",
		"client_encoding", NULL };
	const char *vals[] = { conninfo, app, "UTF8", NULL };
	struct tc_db *db;
	char          msg[TC_ERR_MSG_MAX];

	db = tc_xcalloc(1, sizeof(*db));
	/* expand_dbname=1: `conninfo` may be a full connection string; the
	 * later keys only apply where it does not say otherwise. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		tc_strlcpy(msg,
		    db->conn ? PQerrorMessage(db->conn) : "out of memory",
		    sizeof(msg));
		one_line(msg);
		PQfinish(db->conn);
		free(db);
		return tc_err_set(err, TC_EDB, "cannot connect to PostgreSQL: %s",
		    msg);
	}
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	*out = db;
	return 0;
}

void
tc_db_close(struct tc_db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db);
}

PGconn *
tc_db_conn(struct tc_db *db)
{
	return db->conn;
}

const struct tc_db_error *
tc_db_error(const struct tc_db *db)
{
	return &db->last;
}

static void
copy_field(const PGresult *res, int code, char *dst, size_t size)
{
	const char *v = res ? PQresultErrorField(res, code) : NULL;

	if (tc_strlcpy(dst, v ? v : "", size) < 0)
		dst[0] = '\0';
}

PGresult *
tc_db_exec(struct tc_db *db, const char *what, const char *sql, int nparams,
    const char *const *params, struct tc_err *err)
{
	PGresult      *res;
	ExecStatusType st;
	char           msg[TC_ERR_MSG_MAX];

	memset(&db->last, 0, sizeof(db->last));
	res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	copy_field(res, PG_DIAG_SQLSTATE, db->last.sqlstate,
	    sizeof(db->last.sqlstate));
	copy_field(res, PG_DIAG_CONSTRAINT_NAME, db->last.constraint,
	    sizeof(db->last.constraint));
	copy_field(res, PG_DIAG_COLUMN_NAME, db->last.column,
	    sizeof(db->last.column));
	copy_field(res, PG_DIAG_MESSAGE_DETAIL, db->last.detail,
	    sizeof(db->last.detail));
	one_line(db->last.detail);
	tc_strlcpy(msg,
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
		? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
		: PQerrorMessage(db->conn)
		: PQerrorMessage(db->conn),
	    sizeof(msg));
	one_line(msg);
	PQclear(res);
	tc_err_set(err, TC_EDB, "%s: %s%s%s", what, msg,
	    db->last.detail[0] ? " — " : "", db->last.detail);
	return NULL;
}

int
tc_db_run(struct tc_db *db, const char *what, const char *sql, int nparams,
    const char *const *params, struct tc_err *err)
{
	PGresult *res = tc_db_exec(db, what, sql, nparams, params, err);

	if (res == NULL)
		return TC_EDB;
	PQclear(res);
	return 0;
}

int
tc_db_begin(struct tc_db *db, struct tc_err *err)
{
	return tc_db_run(db, "begin", "BEGIN", 0, NULL, err);
}

int
tc_db_commit(struct tc_db *db, struct tc_err *err)
{
	return tc_db_run(db, "commit", "COMMIT", 0, NULL, err);
}

void
tc_db_rollback(struct tc_db *db)
{
	struct tc_err err;

	if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	if (tc_db_run(db, "rollback", "ROLLBACK", 0, NULL, &err) < 0)
		tc_log_err(TC_LOG_DB, "%s", err.msg);
}

void
tc_db_array_begin(struct tc_buf *out)
{
	tc_buf_reset(out);
	tc_buf_putc(out, '{');
}

void
tc_db_array_add(struct tc_buf *out, const char *s)
{
	if (out->len > 1)
		tc_buf_putc(out, ',');
	if (s == NULL) {
		tc_buf_puts(out, "NULL");
		return;
	}
	/* Array literal syntax: a quoted element escapes " and \ only. */
	tc_buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			tc_buf_putc(out, '\\');
		tc_buf_putc(out, *s);
	}
	tc_buf_putc(out, '"');
}

void
tc_db_array_end(struct tc_buf *out)
{
	tc_buf_putc(out, '}');
}

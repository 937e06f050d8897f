/* db: the PostgreSQL connection and the schema version.
 *
 * This module owns every PGconn.  The blocking API here serves tocsinctl and
 * pool-thread jobs, each with a connection of its own (a connection is never
 * shared between threads).  Every statement goes through PQexecParams with
 * parameters, never a value pasted into SQL.  A failure fills struct tc_err
 * with the server's message, and tc_db_error() gives the SQLSTATE and the
 * constraint or column the server named, so callers can point at the input
 * line that caused it.
 *
 * The schema is the numbered migrations of schema/, embedded at build time:
 * tc_db_migrate() applies what is missing in one transaction under an
 * advisory lock; tc_db_check_schema() refuses a database at any other
 * version than the one this build knows. */
#ifndef TOCSIN_DB_H
#define TOCSIN_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

struct tc_db;

/* What the server said about the last failure. */
struct tc_db_error {
	char sqlstate[6];    /* "23505"; "" if none */
	char constraint[64]; /* e.g. "asset_prefix_owner"; "" if none */
	char column[64];
	char detail[256];
};

/* Connect (blocking).  `conninfo` "" uses the PG* environment.  Sets
 * client_encoding UTF8 and application_name.  Returns 0 or TC_EDB. */
int tc_db_connect(const char *conninfo, const char *app, struct tc_db **out,
    struct tc_err *err);
void tc_db_close(struct tc_db *db);
/* The connection, for modules that stream results (registry_db.c). */
PGconn *tc_db_conn(struct tc_db *db);
const struct tc_db_error *tc_db_error(const struct tc_db *db);

/* Run one parameterised statement (text parameters; NULL = SQL NULL).
 * Returns the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK; the caller
 * PQclear()s it), or NULL with err filled "what: server message". */
PGresult *tc_db_exec(struct tc_db *db, const char *what, const char *sql,
    int nparams, const char *const *params, struct tc_err *err);
/* Same, for statements whose result is not needed: 0 or TC_EDB. */
int tc_db_run(struct tc_db *db, const char *what, const char *sql,
    int nparams, const char *const *params, struct tc_err *err);
int tc_db_begin(struct tc_db *db, struct tc_err *err);
int tc_db_commit(struct tc_db *db, struct tc_err *err);
/* Never fails in a way the caller can act on; logs. */
void tc_db_rollback(struct tc_db *db);

/* Build a PostgreSQL array literal to pass as one text parameter:
 * tc_db_array_begin(), then tc_db_array_add() per element (quoted and
 * escaped; NULL gives an SQL NULL element), then tc_db_array_end(). */
void tc_db_array_begin(struct tc_buf *out);
void tc_db_array_add(struct tc_buf *out, const char *s);
void tc_db_array_end(struct tc_buf *out);

/* The highest migration this build carries. */
int tc_db_schema_known(void);
/* Apply missing migrations.  `applied` gets how many (may be NULL).
 * Refuses (TC_ESCHEMA) a database newer than this build. */
int tc_db_migrate(struct tc_db *db, int *applied, struct tc_err *err);
/* The database's version: 0 if never migrated. */
int tc_db_schema_version(struct tc_db *db, int *version, struct tc_err *err);
/* 0 when the database is at exactly tc_db_schema_known(), else TC_ESCHEMA
 * with a message saying what to do. */
int tc_db_check_schema(struct tc_db *db, struct tc_err *err);

/* Embedded migrations (generated from the files of schema/). */
struct tc_db_migration {
	int         version;
	const char *name;
	const char *sql;
};
extern const struct tc_db_migration tc_db_migrations[];
extern const int                    tc_db_n_migrations;

#endif

/* db_migrate: apply the embedded migrations; check the schema version.
 * See include/tocsin/db.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/db.h"
#include "tocsin/log.h"
#include "tocsin/str.h"

/* Two concurrent `tocsinctl db migrate` serialise on this lock; the second
 * finds nothing left to do. */
#define MIGRATE_LOCK "7426183002"

int
tc_db_schema_known(void)
{
	int v = 0;

	for (int i = 0; i < tc_db_n_migrations; i++)
		if (tc_db_migrations[i].version > v)
			v = tc_db_migrations[i].version;
	return v;
}

int
tc_db_schema_version(struct tc_db *db, int *version, struct tc_err *err)
{
	PGresult *res;
	uint64_t  v = 0;

	res = tc_db_exec(db, "schema version",
	    "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL,
	    err);
	if (res == NULL)
		return TC_EDB;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		*version = 0;
		return 0;
	}
	PQclear(res);
	res = tc_db_exec(db, "schema version",
	    "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
	    err);
	if (res == NULL)
		return TC_EDB;
	(void)tc_parse_uint(PQgetvalue(res, 0, 0), 0, 1000000, &v);
	PQclear(res);
	*version = (int)v;
	return 0;
}

int
tc_db_check_schema(struct tc_db *db, struct tc_err *err)
{
	int have, want = tc_db_schema_known();

	if (tc_db_schema_version(db, &have, err) < 0)
		return TC_EDB;
	if (have == want)
		return 0;
	if (have == 0)
		return tc_err_set(err, TC_ESCHEMA,
		    "the database has no tocsin schema: run \"tocsinctl db "
		    "migrate\"");
	if (have < want)
		return tc_err_set(err, TC_ESCHEMA,
		    "the database schema is at version %d, this program needs "
		    "%d: run \"tocsinctl db migrate\"",
		    have, want);
	return tc_err_set(err, TC_ESCHEMA,
	    "the database schema is at version %d, newer than this program "
	    "knows (%d): upgrade tocsin",
	    have, want);
}

int
tc_db_migrate(struct tc_db *db, int *applied, struct tc_err *err)
{
	int  have, n = 0, rc;
	char num[16];

	if (applied)
		*applied = 0;
	if ((rc = tc_db_begin(db, err)) < 0)
		return rc;
	if ((rc = tc_db_run(db, "migrate lock",
		 "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", 0, NULL,
		 err)) < 0 ||
	    (rc = tc_db_run(db, "migrate",
		 "CREATE TABLE IF NOT EXISTS schema_migrations ("
		 " version integer PRIMARY KEY,"
		 " name text NOT NULL,"
		 " applied_at timestamptz NOT NULL DEFAULT now())",
		 0, NULL, err)) < 0 ||
	    (rc = tc_db_schema_version(db, &have, err)) < 0)
		goto fail;
	if (have > tc_db_schema_known()) {
		rc = tc_err_set(err, TC_ESCHEMA,
		    "the database schema is at version %d, newer than this "
		    "program knows (%d): upgrade tocsin",
		    have, tc_db_schema_known());
		goto fail;
	}
	for (int i = 0; i < tc_db_n_migrations; i++) {
		const struct tc_db_migration *m = &tc_db_migrations[i];
		const char                   *params[2];
		PGresult                     *res;
		char                          what[96];

		if (m->version <= have)
			continue;
		snprintf(what, sizeof(what), "migration %04d_%s", m->version,
		    m->name);
		/* Our own static SQL, several statements: PQexec is the way
		 * to run a script, and no value from outside is in it. */
		res = PQexec(tc_db_conn(db), m->sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK) {
			rc = tc_err_set(err, TC_EDB, "%s: %s", what,
			    PQresultErrorMessage(res));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
		snprintf(num, sizeof(num), "%d", m->version);
		params[0] = num;
		params[1] = m->name;
		if ((rc = tc_db_run(db, what,
			 "INSERT INTO schema_migrations (version, name) "
			 "VALUES ($1, $2)",
			 2, params, err)) < 0)
			goto fail;
		tc_log_notice(TC_LOG_DB, "migration=%04d_%s result=applied",
		    m->version, m->name);
		n++;
	}
	if ((rc = tc_db_commit(db, err)) < 0)
		goto fail;
	if (applied)
		*applied = n;
	return 0;
fail:
	tc_db_rollback(db);
	return rc;
}

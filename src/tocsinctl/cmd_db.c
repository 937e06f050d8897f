/* tocsinctl db migrate | db status */
#include <stdio.h>

#include "cmd.h"

int
cmd_db_migrate(struct ctx *ctx, int argc, char **argv)
{
	struct tc_err err;
	int           applied;
	char          detail[64];

	(void)argv;
	if (argc != 0)
		return EXIT_USAGE;
	if (ctx_db(ctx, true) == NULL)
		return EXIT_FAIL;
	if (tc_db_migrate(ctx->db, &applied, &err) < 0) {
		ctx_err("%s", err.msg);
		return EXIT_FAIL;
	}
	if (applied > 0) {
		snprintf(detail, sizeof(detail), "{\"applied\": %d}", applied);
		if (ctx_audit(ctx, "db.migrate", NULL, detail) < 0)
			return EXIT_FAIL;
	}
	if (ctx->json)
		printf("{\"applied\": %d, \"version\": %d}\n", applied,
		    tc_db_schema_known());
	else
		printf("schema at version %d (%d migration%s applied)\n",
		    tc_db_schema_known(), applied, applied == 1 ? "" : "s");
	return EXIT_OK;
}

int
cmd_db_status(struct ctx *ctx, int argc, char **argv)
{
	struct tc_err err;
	int           have;

	(void)argv;
	if (argc != 0)
		return EXIT_USAGE;
	if (ctx_db(ctx, true) == NULL)
		return EXIT_FAIL;
	if (tc_db_schema_version(ctx->db, &have, &err) < 0) {
		ctx_err("%s", err.msg);
		return EXIT_FAIL;
	}
	if (ctx->json)
		printf("{\"database\": %d, \"program\": %d, \"ok\": %s}\n", have,
		    tc_db_schema_known(),
		    have == tc_db_schema_known() ? "true" : "false");
	else
		printf("database schema version %d, this program %d: %s\n", have,
		    tc_db_schema_known(),
		    have == tc_db_schema_known() ? "up to date"
		    : have < tc_db_schema_known()
			? "run \"tocsinctl db migrate\""
			: "the database is newer: upgrade tocsin");
	return have == tc_db_schema_known() ? EXIT_OK : EXIT_FAIL;
}

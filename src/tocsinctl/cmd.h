/* tocsinctl: the command table and what every command shares.
 *
 * Adding a command is one handler in a cmd_<group>.c file and one row in
 * the table of cmd.c.  Exit codes: 0 ok, 1 refused or failed, 2 usage. */
#ifndef TOCSINCTL_CMD_H
#define TOCSINCTL_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "tocsin/config.h"
#include "tocsin/db.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* Privilege classes: what a command may touch. */
enum priv {
	PRIV_READ,   /* reads the database or the daemon */
	PRIV_WRITE,  /* changes the registry or the outbox (audited) */
	PRIV_DAEMON, /* acts on the running tocsind over the control socket */
};

struct ctx {
	const char       *config_path;
	bool              json; /* --json: one JSON object per line */
	struct tc_config *cfg;  /* loaded on demand */
	struct tc_db     *db;   /* connected on demand */
	const char       *user; /* OS account, for the audit log */
};

struct cmd {
	const char *group;
	const char *verb; /* NULL: the group is the command */
	const char *args; /* usage after "group verb" */
	const char *help; /* one line */
	enum priv   priv;
	int (*run)(struct ctx *ctx, int argc, char **argv);
	const char *more; /* longer help for `tocsinctl CMD --help`, or NULL */
};

extern const struct cmd cmds[];

/* Load the configuration (once); prints every error and returns NULL. */
struct tc_config *ctx_config(struct ctx *ctx);
/* Connect and check the schema (unless `any_schema`); prints the error. */
struct tc_db *ctx_db(struct ctx *ctx, bool any_schema);
/* "tocsinctl: " + message on stderr. */
void ctx_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write an audit_log row; returns 0 or prints the error and returns -1. */
int ctx_audit(struct ctx *ctx, const char *action, const char *reference,
    const char *detail_json);
/* Send `cmd` with `args` (may be NULL) to the running tocsind over the
 * control socket of the configuration and wait for its answer (at most
 * `timeout_ms`).  Returns the result (a new reference; an empty object
 * when the daemon sent none), or NULL after printing why: the daemon's
 * refusal, or that tocsind is not running. */
struct json_t;
struct json_t *ctx_call(struct ctx *ctx, const char *cmd,
    const struct json_t *args, unsigned timeout_ms);

/* Usage line of a command, on stderr; returns EXIT_USAGE. */
int cmd_usage(const struct cmd *c);

int cmd_db_migrate(struct ctx *ctx, int argc, char **argv);
int cmd_feed_import(struct ctx *ctx, int argc, char **argv);
int cmd_db_status(struct ctx *ctx, int argc, char **argv);
int cmd_entity_import(struct ctx *ctx, int argc, char **argv);
int cmd_entity_list(struct ctx *ctx, int argc, char **argv);
int cmd_entity_show(struct ctx *ctx, int argc, char **argv);
int cmd_key_import(struct ctx *ctx, int argc, char **argv);
int cmd_match(struct ctx *ctx, int argc, char **argv);
int cmd_config_check(struct ctx *ctx, int argc, char **argv);
int cmd_status(struct ctx *ctx, int argc, char **argv);
int cmd_relay_run(struct ctx *ctx, int argc, char **argv);
int cmd_advisory_queue(struct ctx *ctx, int argc, char **argv);
int cmd_advisory_list(struct ctx *ctx, int argc, char **argv);
int cmd_advisory_show(struct ctx *ctx, int argc, char **argv);
int cmd_advisory_approve(struct ctx *ctx, int argc, char **argv);
int cmd_advisory_cancel(struct ctx *ctx, int argc, char **argv);
int cmd_preview(struct ctx *ctx, int argc, char **argv);
int cmd_audit(struct ctx *ctx, int argc, char **argv);

#endif

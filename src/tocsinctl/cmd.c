/* tocsinctl: the command table and shared helpers.  See cmd.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tocsin/control.h"
#include "tocsin/esc.h"
#include "tocsin/proto.h"

const struct cmd cmds[] = {
	{ "db", "migrate", "", "apply missing schema migrations", PRIV_WRITE,
	    cmd_db_migrate,
	    "Applies the numbered migrations this build carries that the "
	    "database lacks,\nin one transaction; running it again does "
	    "nothing." },
	{ "db", "status", "", "show the schema version of the database and of "
	    "this build", PRIV_READ, cmd_db_status, NULL },
	{ "entity", "import", "FILE.yaml",
	    "insert or update entities, contacts, assets, subscriptions and "
	    "authorities",
	    PRIV_WRITE, cmd_entity_import,
	    "Upserts every entity of FILE (keyed by enterprise number) with "
	    "its contacts,\nassets and subscription, and the sector "
	    "authorities, in one transaction:\neither the whole file goes in "
	    "or nothing does.  For each entity named, the\nfile is the truth: "
	    "contacts and assets not in it are removed.  Every error\nnames "
	    "FILE:LINE:COLUMN and the field." },
	{ "entity", "list", "", "list entities", PRIV_READ, cmd_entity_list,
	    NULL },
	{ "entity", "show", "ENTERPRISE_NUMBER",
	    "show an entity, its contacts, assets and subscription", PRIV_READ,
	    cmd_entity_show, NULL },
	{ "key", "import", "FILE.asc",
	    "import public keys into the service keyring, print fingerprints",
	    PRIV_WRITE, cmd_key_import,
	    "Imports OpenPGP public keys into gpg.homedir (or GNUPGHOME with "
	    "--homedir DIR)\nand prints each key's fingerprint, user IDs and "
	    "expiry.  Secret keys are refused." },
	{ "match", NULL, "[--format FORMAT] FILE...",
	    "dry run: which entities a feed file concerns, one JSON line per "
	    "hit",
	    PRIV_READ, cmd_match,
	    "Loads the registry, parses each FILE (FORMAT: auto, shadowserver, "
	    "misp, stix,\ncsaf, kev, ioc, creds, cve) and prints one JSON object "
	    "per (event, entity) hit:\nentity, name, asset, asset_type, "
	    "indicator, category, format, tlp, line, file.\nChanges nothing.  "
	    "Malformed records are reported on stderr with file and\nline and "
	    "skipped; the exit status is then 1, as when a file cannot be "
	    "read." },
	{ "feed", "import", "[--feed NAME] FILE...",
	    "hand feed files to tocsind through its spool", PRIV_WRITE,
	    cmd_feed_import,
	    "Copies each FILE into the spool's incoming/ directory (as a dot-"
	    "file, then\nrenamed, as every producer does), so it goes through "
	    "exactly the parsing,\nmatching and delivery of every other feed; "
	    "with --feed NAME the file belongs\nto the configured feed NAME "
	    "(its format, default TLP and category).  Then\nasks tocsind to "
	    "look now.  The outcome is in spool/done/ or spool/failed/\n(with a "
	    ".error file) and in the log." },
	{ "relay", "run", "[--since TIME] [--until TIME]",
	    "send the sector authorities' digests of a period now",
	    PRIV_DAEMON, cmd_relay_run,
	    "Asks the running tocsind for the relay digests of [since, until) "
	    "(UTC,\nYYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z; default: the day up "
	    "to now) and\nprints one line per sector authority: queued or held "
	    "with its reference,\nempty (nothing to report, no mail) or "
	    "done_before (that period was sent\nalready).  A digest goes to "
	    "an authority once per period." },
	{ "config", "check", "", "check the configuration file", PRIV_READ,
	    cmd_config_check, NULL },
	{ "status", NULL, "",
	    "the running tocsind at a glance: outbox, counters, feed progress",
	    PRIV_DAEMON, cmd_status,
	    "Asks the running tocsind over the control socket and prints the "
	    "outbox by\nstate (from the database), the age of the oldest "
	    "waiting message, held\nmessages by reason, the counters since "
	    "start (deliveries, SMTP and gpg\nerrors, feed files and rows) "
	    "and the feed being processed with its progress\n(records, rate, "
	    "ETA).  The same figures as /metrics.  --json prints the\n"
	    "daemon's answer as one JSON object.  Exit status 1 when tocsind "
	    "is not\nrunning." },
	{ "advisory", "queue", "FILE.yaml",
	    "validate an advisory and queue it for approval", PRIV_DAEMON,
	    cmd_advisory_queue,
	    "Validates FILE (README \"Advisories\": content per language with "
	    "en required,\ntlp, severity, cves, products, sectors, references; "
	    "recipients for TLP:RED\nonly) and prints every error as "
	    "FILE:LINE:COLUMN: field: message.  A valid\nfile goes to tocsind, "
	    "which validates it again, checks that every TLP:RED\nrecipient is "
	    "a registered contact, and prints the new reference and the\n"
	    "number of recipients it would reach.  Nothing is sent before "
	    "approval." },
	{ "advisory", "list", "", "list advisories, newest first", PRIV_DAEMON,
	    cmd_advisory_list, NULL },
	{ "advisory", "show", "REF",
	    "show an advisory and the recipients it reaches", PRIV_DAEMON,
	    cmd_advisory_show, NULL },
	{ "advisory", "approve", "REF", "approve and dispatch an advisory",
	    PRIV_DAEMON, cmd_advisory_approve,
	    "With service.four_eyes (the default) the analyst who queued REF "
	    "cannot approve\nit.  Approval composes every mail (signed; "
	    "encrypted to each contact's pinned\nkey for TLP:AMBER and "
	    "stricter; held without a usable key) and queues them\nin one "
	    "transaction.  A TLP:CLEAR advisory is then published in "
	    "paths.publish_dir\n(advisories.atom and REF.json, CSAF 2.0)." },
	{ "advisory", "cancel", "REF", "cancel a queued advisory", PRIV_DAEMON,
	    cmd_advisory_cancel, NULL },
	{ "preview", NULL, "REF --contact EMAIL",
	    "print the advisory as EMAIL would read it, before encryption",
	    PRIV_DAEMON, cmd_preview,
	    "Prints the inner MIME entity (protected headers, text and HTML "
	    "parts) that\nEMAIL, a recipient of REF, would read once the mail "
	    "is decrypted; it is\nneither signed nor encrypted." },
	{ "audit", NULL, "[--since YYYY-MM-DD|Nd|Nh] [--ref REF]",
	    "show the audit log", PRIV_READ, cmd_audit,
	    "Prints the append-only audit log (who queued, approved, "
	    "cancelled, imported,\nand every message queued, held and sent), "
	    "oldest first, from the database;\n--json gives one object per "
	    "line." },
	{ NULL, NULL, NULL, NULL, PRIV_READ, NULL, NULL },
};

void
ctx_err(const char *fmt, ...)
{
	va_list ap;

	fputs("tocsinctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct tc_config *
ctx_config(struct ctx *ctx)
{
	struct tc_buf errors = TC_BUF_INIT;
	struct tc_err err;

	if (ctx->cfg != NULL)
		return ctx->cfg;
	ctx->cfg = tc_config_load(ctx->config_path, &errors, &err);
	if (ctx->cfg == NULL)
		fputs(errors.len ? errors.data : err.msg, stderr);
	tc_buf_deinit(&errors);
	return ctx->cfg;
}

struct tc_db *
ctx_db(struct ctx *ctx, bool any_schema)
{
	struct tc_err err;

	if (ctx->db != NULL)
		return ctx->db;
	if (ctx_config(ctx) == NULL)
		return NULL;
	if (tc_db_connect(ctx->cfg->db.conninfo, "tocsinctl", &ctx->db, &err) <
	    0) {
		ctx_err("%s", err.msg);
		return NULL;
	}
	if (!any_schema && tc_db_check_schema(ctx->db, &err) < 0) {
		ctx_err("%s", err.msg);
		tc_db_close(ctx->db);
		ctx->db = NULL;
		return NULL;
	}
	return ctx->db;
}

int
ctx_audit(struct ctx *ctx, const char *action, const char *reference,
    const char *detail_json)
{
	const char   *p[4] = { ctx->user, action, reference,
		  detail_json ? detail_json : "{}" };
	struct tc_err err;

	if (tc_db_run(ctx->db, "audit",
		"INSERT INTO audit_log (actor, action, reference, detail) "
		"VALUES ($1, $2, $3, $4::jsonb)",
		4, p, &err) < 0) {
		ctx_err("%s", err.msg);
		return -1;
	}
	return 0;
}

json_t *
ctx_call(struct ctx *ctx, const char *cmd, const json_t *args,
    unsigned timeout_ms)
{
	struct tc_proto_response resp;
	struct tc_err            err;
	json_t                  *res = NULL;

	if (ctx_config(ctx) == NULL)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	if (tc_control_call(ctx->cfg->service.control_socket, cmd, args,
		timeout_ms, &resp, &err) < 0) {
		ctx_err("%s", err.msg);
		return NULL;
	}
	if (!resp.ok)
		ctx_err("%s: %s", cmd, resp.error ? resp.error : "refused");
	else
		res = resp.result ? json_incref(resp.result) : json_object();
	tc_proto_response_deinit(&resp);
	return res;
}

int
cmd_usage(const struct cmd *c)
{
	fprintf(stderr, "usage: tocsinctl %s%s%s%s%s\n", c->group,
	    c->verb ? " " : "", c->verb ? c->verb : "", *c->args ? " " : "",
	    c->args);
	return EXIT_USAGE;
}

int
cmd_config_check(struct ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return EXIT_USAGE;
	if (ctx_config(ctx) == NULL)
		return EXIT_FAIL;
	printf("%s: configuration OK\n", ctx->config_path);
	return EXIT_OK;
}

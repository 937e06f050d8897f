/* ctl: the command table and the reply helpers (ctl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "stats.h"
#include "tocsin/dbq.h"
#include "tocsin/esc.h"
#include "tocsin/index.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/outbox.h"
#include "tocsin/spool.h"

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", false, ctl_status },
	{ "kick", false, ctl_kick },
	{ "relay.run", true, ctl_relay_run },
	{ "advisory.queue", true, ctl_advisory_queue },
	{ "advisory.list", false, ctl_advisory_list },
	{ "advisory.show", false, ctl_advisory_show },
	{ "advisory.approve", true, ctl_advisory_approve },
	{ "advisory.cancel", true, ctl_advisory_cancel },
	{ "preview", false, ctl_preview },
	{ NULL, false, NULL },
};

static void
req_free(struct ctl_req *r)
{
	json_decref(r->args);
	free(r);
}

void
ctl_ok(struct ctl_req *r, const json_t *result)
{
	tc_control_reply(r->conn, r->id, true, result, NULL);
	req_free(r);
}

void
ctl_fail(struct ctl_req *r, const char *fmt, ...)
{
	char    msg[TC_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tc_log_notice(TC_LOG_CTL, "user=%s cmd=%s result=refused err=\"%s\"",
	    tc_esc(r->peer.user), tc_esc(r->cmd), tc_esc(msg));
	tc_control_reply(r->conn, r->id, false, NULL, msg);
	req_free(r);
}

static void
on_audited(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	(void)q;
	(void)sqlstate;
	(void)arg;
	if (res == NULL)
		tc_log_err(TC_LOG_CTL, "audit=failed err=\"%s\"", tc_esc(error));
}

void
ctl_audit(struct tc_daemon *d, const char *actor, const char *action,
    const char *reference, const json_t *detail)
{
	static const char sql[] =
	    "INSERT INTO audit_log (actor, action, reference, detail)"
	    " VALUES ($1, $2, $3, coalesce($4::jsonb, '{}'))";
	char       *dj = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	const char *params[4] = { actor, action, reference, dj };

	if (d->dbq == NULL ||
	    tc_dbq_exec(d->dbq, sql, 4, params, on_audited, NULL) < 0)
		tc_log_err(TC_LOG_CTL, "audit=failed action=%s actor=%s",
		    tc_esc(action), tc_esc(actor));
	free(dj);
}

void
ctl_dispatch(struct tc_control_conn *conn, const struct tc_control_peer *peer,
    uint64_t id, const char *cmd, json_t *args, void *arg)
{
	struct tc_daemon *d = arg;
	struct ctl_req   *r;

	tc_log_info(TC_LOG_CTL, "user=%s uid=%u cmd=%s", tc_esc(peer->user),
	    (unsigned)peer->uid, tc_esc(cmd));
	r = tc_xcalloc(1, sizeof(*r));
	r->d = d;
	r->conn = conn;
	r->peer = *peer;
	r->id = id;
	snprintf(r->cmd, sizeof(r->cmd), "%s", cmd);
	r->args = args ? json_incref(args) : json_object();
	if (d->stopping) {
		ctl_fail(r, "tocsind is shutting down");
		return;
	}
	for (const struct ctl_cmd *c = ctl_cmds; c->name; c++)
		if (strcmp(c->name, cmd) == 0) {
			c->run(r);
			return;
		}
	ctl_fail(r, "unknown command \"%s\"", cmd);
}

/* --- status and kick ------------------------------------------------- */

static void
on_status(const char *json, const char *error, void *arg)
{
	struct ctl_req   *r = arg;
	struct tc_daemon *d = r->d;
	json_t           *res;
	json_error_t      je;

	if (json == NULL) {
		ctl_fail(r, "outbox: %s", error);
		return;
	}
	res = json_object();
	json_object_set_new(res, "outbox", json_loads(json, 0, &je));
	json_object_set_new(res, "worker", json_string(d->worker));
	json_object_set_new(res, "feed_busy", json_boolean(d->feed_busy));
	json_object_set_new(res, "smtp_sessions", json_integer(d->sessions));
	json_object_set_new(res, "entities",
	    json_integer((json_int_t)tc_index_entities(d->idx)));
	json_object_set_new(res, "assets",
	    json_integer((json_int_t)tc_index_assets(d->idx)));
	json_object_set_new(res, "db_connected",
	    json_boolean(d->dbq && tc_dbq_is_up(d->dbq)));
	tc_stats_status(d, res);
	ctl_ok(r, res);
	json_decref(res);
}

void
ctl_status(struct ctl_req *r)
{
	if (tc_outbox_stats(r->d->dbq, on_status, r) < 0)
		ctl_fail(r, "the database queue is full");
}

void
ctl_kick(struct ctl_req *r)
{
	tc_spool_kick(r->d->spool);
	tc_sender_kick(r->d);
	ctl_ok(r, NULL);
}

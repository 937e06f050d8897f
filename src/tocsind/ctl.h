/* ctl: the control-socket commands of tocsind, one table.
 *
 * Adding a command is a handler in a ctl_<group>.c file and one row in the
 * table of ctl.c.  A handler gets the request (who asks, from SO_PEERCRED,
 * and its arguments) and must answer exactly once, now or after a
 * database round trip, with ctl_ok() or ctl_fail(), which free the
 * request.  Mutating commands write an audit row (ctl_audit).  Loop
 * thread only. */
#ifndef TOCSIND_CTL_H
#define TOCSIND_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "tocsin/control.h"

struct ctl_req {
	struct tc_daemon       *d;
	struct tc_control_conn *conn;
	struct tc_control_peer  peer;
	uint64_t                id;
	char                    cmd[64];
	json_t                 *args; /* owned reference */
	void                   *data; /* the handler's own state */
};

struct ctl_cmd {
	const char *name;     /* "status", "advisory.queue" */
	bool        mutating; /* audited */
	void (*run)(struct ctl_req *r);
};

/* The socket's callback (daemon.c passes it to tc_control_start). */
void ctl_dispatch(struct tc_control_conn *conn,
    const struct tc_control_peer *peer, uint64_t id, const char *cmd,
    json_t *args, void *arg);
/* Answer and free `r`.  ctl_ok does not take `result`'s reference. */
void ctl_ok(struct ctl_req *r, const json_t *result);
void ctl_fail(struct ctl_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append an audit row (actor = the caller's account); fire and forget,
 * a failure is logged.  `detail` may be NULL. */
void ctl_audit(struct tc_daemon *d, const char *actor, const char *action,
    const char *reference, const json_t *detail);

/* Handlers, by file. */
void ctl_status(struct ctl_req *r);
void ctl_kick(struct ctl_req *r);
void ctl_relay_run(struct ctl_req *r); /* ctl_relay.c */
/* ctl_advisory.c */
void ctl_advisory_queue(struct ctl_req *r);
void ctl_advisory_list(struct ctl_req *r);
void ctl_advisory_show(struct ctl_req *r);
void ctl_advisory_approve(struct ctl_req *r);
void ctl_advisory_cancel(struct ctl_req *r);
void ctl_preview(struct ctl_req *r);

#endif

/* control: the control socket served by tocsind on its loop.
 *
 * A unix stream socket (mode 0660, group = the analysts' group) speaking the
 * line protocol of proto.h.  Each connection is identified once, at accept,
 * by SO_PEERCRED: uid, gid, pid and the user name.  Only members of the
 * analysts' group (primary or supplementary) and the daemon's own uid are
 * served; anyone else gets one refusal line and is disconnected.  At most
 * TC_CONTROL_PER_UID_MAX connections per uid and TC_CONTROL_CONN_MAX in all.
 * Handlers may answer later (after a database round trip): a connection
 * closed meanwhile stays allocated until its last pending reply is dropped.
 * Loop thread only. */
#ifndef TOCSIN_CONTROL_H
#define TOCSIN_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "tocsin/err.h"

#define TC_CONTROL_CONN_MAX 256
#define TC_CONTROL_PER_UID_MAX 16
#define TC_CONTROL_USER_MAX 64

struct tc_control;
struct tc_control_conn;

/* Who is asking, from SO_PEERCRED. */
struct tc_control_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char  user[TC_CONTROL_USER_MAX]; /* login name, or "uid:N" */
};

/* One request.  The handler must call tc_control_reply() exactly once for
 * `id`, now or later; `args` is borrowed for the duration of the call. */
typedef void (*tc_control_cmd_cb)(struct tc_control_conn *conn,
    const struct tc_control_peer *peer, uint64_t id, const char *cmd,
    json_t *args, void *arg);
typedef void (*tc_control_close_cb)(void *arg);

/* Bind `path` (a stale socket file is replaced; anything else there is an
 * error), chmod 0660, chgrp `group` (NULL: leave the group), listen.  Returns
 * 0 or a negative TC_E* with err naming the path or group. */
int tc_control_start(uv_loop_t *loop, const char *path, const char *group,
    tc_control_cmd_cb cb, void *arg, struct tc_control **out,
    struct tc_err *err);

/* Answer request `id` on `conn`: ok with `result` (may be NULL; a reference
 * is NOT taken: the caller keeps its own), or an error message. */
void tc_control_reply(struct tc_control_conn *conn, uint64_t id, bool ok,
    const json_t *result, const char *error);

/* Close every connection and the listener, unlink the socket; `cb` runs when
 * all handles are closed, then the control is freed. */
void tc_control_close(struct tc_control *ctl, tc_control_close_cb cb,
    void *arg);

/* Pure helper for the policy: is `uid`/`gid` (user `user`) a member of
 * group `gid_allowed`?  Looks at supplementary groups via getgrouplist(). */
bool tc_control_is_member(const char *user, uid_t uid, gid_t gid,
    gid_t gid_allowed);

/* --- client side (tocsinctl), blocking ----------------------------------- */

/* Connect to `path`, send one request, wait for its response (at most
 * `timeout_ms`).  Returns 0 with *out filled (the daemon's ok/error), or a
 * negative TC_E* with err saying why, e.g. "tocsind is not running (no
 * socket at /run/tocsin/control.sock)". */
struct tc_proto_response;
int tc_control_call(const char *path, const char *cmd, const json_t *args,
    unsigned timeout_ms, struct tc_proto_response *out, struct tc_err *err);

#endif

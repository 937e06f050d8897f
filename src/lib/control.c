/* control: see include/tocsin/control.h.
 *
 * Design note.  Identity is taken once, at accept, from the kernel
 * (SO_PEERCRED), never from anything the client says; the group check uses
 * the account database (getpwuid_r/getgrouplist), which may block on NSS —
 * acceptable at accept time on a local socket, and the reason connections
 * are capped.  A connection is reference-counted: the handle holds one, each
 * pending request one, so a handler that answers after the client left
 * writes nowhere and frees the connection. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tocsin/buf.h"
#include "tocsin/control.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/proto.h"
#include "tocsin/str.h"

struct tc_control {
	uv_loop_t          *loop;
	uv_pipe_t           listener;
	char               *path;
	gid_t               gid;
	bool                have_gid;
	tc_control_cmd_cb   cb;
	void               *arg;
	struct tc_control_conn *conns;
	unsigned            n_conns;
	unsigned            open_handles;
	bool                closing;
	tc_control_close_cb close_cb;
	void               *close_arg;
};

struct tc_control_conn {
	uv_pipe_t               pipe;
	struct tc_control      *ctl;
	struct tc_control_conn *next, **prevp;
	struct tc_control_peer  peer;
	struct tc_proto_reader  reader;
	unsigned                refs;
	bool                    closed;
};

struct write_req {
	uv_write_t req;
	char      *data;
};

static void
conn_unref(struct tc_control_conn *c)
{
	if (--c->refs > 0)
		return;
	tc_proto_reader_deinit(&c->reader);
	free(c);
}

static void
maybe_free(struct tc_control *ctl)
{
	if (!ctl->closing || ctl->open_handles > 0)
		return;
	if (ctl->close_cb)
		ctl->close_cb(ctl->close_arg);
	free(ctl->path);
	free(ctl);
}

static void
on_conn_closed(uv_handle_t *h)
{
	struct tc_control_conn *c = container_of((uv_pipe_t *)h,
	    struct tc_control_conn, pipe);
	struct tc_control      *ctl = c->ctl;

	ctl->open_handles--;
	conn_unref(c);
	maybe_free(ctl);
}

static void
conn_close(struct tc_control_conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	if (c->next)
		c->next->prevp = c->prevp;
	*c->prevp = c->next;
	c->ctl->n_conns--;
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void
on_written(uv_write_t *req, int status)
{
	struct write_req *w = container_of(req, struct write_req, req);

	(void)status;
	free(w->data);
	free(w);
}

static void
conn_write(struct tc_control_conn *c, struct tc_buf *line)
{
	struct write_req *w;
	uv_buf_t          b;

	if (c->closed) {
		tc_buf_deinit(line);
		return;
	}
	w = tc_xcalloc(1, sizeof(*w));
	w->data = tc_buf_steal(line, &b.len);
	b.base = w->data;
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) <
	    0) {
		free(w->data);
		free(w);
		conn_close(c);
	}
}

void
tc_control_reply(struct tc_control_conn *c, uint64_t id, bool ok,
    const json_t *result, const char *error)
{
	struct tc_buf line = TC_BUF_INIT;

	tc_proto_response_format(&line, id, ok, result, error);
	conn_write(c, &line);
	conn_unref(c); /* the pending request's reference */
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct tc_control_conn *c = req->data;

	(void)status;
	free(req);
	conn_close(c);
	conn_unref(c);
}

/* Send one refusal line, then close once it is out: uv_close() alone would
 * cancel the pending write and the client would never learn why. */
static void
refuse(struct tc_control_conn *c, const char *why)
{
	struct tc_buf   line = TC_BUF_INIT;
	uv_shutdown_t *req;

	tc_proto_response_format(&line, 0, false, NULL, why);
	conn_write(c, &line);
	if (c->closed)
		return;
	uv_read_stop((uv_stream_t *)&c->pipe);
	req = tc_xcalloc(1, sizeof(*req));
	req->data = c;
	c->refs++;
	if (uv_shutdown(req, (uv_stream_t *)&c->pipe, on_shutdown) < 0) {
		free(req);
		conn_close(c);
		conn_unref(c);
	}
}

static int
on_line(const char *line, size_t len, void *arg)
{
	struct tc_control_conn *c = arg;
	struct tc_proto_request req;
	struct tc_err           err;
	int                     rc;

	rc = tc_proto_request_parse(line, len, &req, &err);
	if (rc < 0) {
		tc_log_warning(TC_LOG_CTL, "user=%s pid=%d result=refused "
		    "err=\"%s\"", c->peer.user, (int)c->peer.pid,
		    tc_esc(err.msg));
		refuse(c, err.msg);
		return rc;
	}
	tc_log_debug(TC_LOG_CTL, "user=%s pid=%d cmd=%s id=%llu",
	    c->peer.user, (int)c->peer.pid, req.cmd,
	    (unsigned long long)req.id);
	c->refs++; /* until tc_control_reply() */
	c->ctl->cb(c, &c->peer, req.id, req.cmd, req.args, c->ctl->arg);
	tc_proto_request_deinit(&req);
	return 0;
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	if (hint > 65536)
		hint = 65536;
	buf->base = tc_xmalloc(hint);
	buf->len = hint;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct tc_control_conn *c = container_of((uv_pipe_t *)s,
	    struct tc_control_conn, pipe);
	struct tc_err           err;

	if (n < 0) {
		free(buf->base);
		conn_close(c);
		return;
	}
	c->refs++; /* a handler may close c meanwhile */
	if (tc_proto_reader_feed(&c->reader, buf->base, (size_t)n, on_line, c,
		&err) == TC_ELIMIT)
		refuse(c, err.msg);
	free(buf->base);
	conn_unref(c);
}

bool
tc_control_is_member(const char *user, uid_t uid, gid_t gid,
    gid_t gid_allowed)
{
	gid_t groups[256];
	int   n = (int)TC_NELEM(groups);

	(void)uid;
	if (gid == gid_allowed)
		return true;
	if (user == NULL || getgrouplist(user, gid, groups, &n) < 0)
		return false; /* more than 256 groups: refuse, fail closed */
	for (int i = 0; i < n; i++)
		if (groups[i] == gid_allowed)
			return true;
	return false;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct tc_control      *ctl = container_of((uv_pipe_t *)server,
	    struct tc_control, listener);
	struct tc_control_conn *c;
	struct ucred            cred;
	socklen_t               len = sizeof(cred);
	uv_os_fd_t              fd;
	struct passwd           pw, *pwp = NULL;
	char                    pwbuf[4096];
	unsigned                same_uid = 0;
	bool                    allowed;

	if (status < 0 || ctl->closing)
		return;
	c = tc_xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->refs = 1;
	tc_proto_reader_init(&c->reader);
	uv_pipe_init(ctl->loop, &c->pipe, 0);
	ctl->open_handles++;
	c->next = ctl->conns;
	if (c->next)
		c->next->prevp = &c->next;
	c->prevp = &ctl->conns;
	ctl->conns = c;
	ctl->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		conn_close(c);
		return;
	}
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.pid = cred.pid;
	if (getpwuid_r(cred.uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 &&
	    pwp != NULL && tc_strlcpy(c->peer.user, pw.pw_name,
			       sizeof(c->peer.user)) == 0) {
		/* name set */
	} else {
		snprintf(c->peer.user, sizeof(c->peer.user), "uid:%u",
		    (unsigned)cred.uid);
		pwp = NULL;
	}
	for (struct tc_control_conn *o = ctl->conns; o; o = o->next)
		if (o->peer.uid == cred.uid)
			same_uid++;
	allowed = cred.uid == getuid() ||
	    (ctl->have_gid && tc_control_is_member(pwp ? c->peer.user : NULL,
				  cred.uid, cred.gid, ctl->gid));
	if (!allowed) {
		tc_log_warning(TC_LOG_CTL,
		    "user=%s uid=%u pid=%d result=refused "
		    "reason=\"not in the analysts' group\"",
		    c->peer.user, (unsigned)cred.uid, (int)cred.pid);
		refuse(c, "permission denied: not a member of the analysts' "
			  "group");
		return;
	}
	if (ctl->n_conns > TC_CONTROL_CONN_MAX ||
	    same_uid > TC_CONTROL_PER_UID_MAX) {
		refuse(c, "too many control connections");
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void
on_listener_closed(uv_handle_t *h)
{
	struct tc_control *ctl = container_of((uv_pipe_t *)h,
	    struct tc_control, listener);

	ctl->open_handles--;
	maybe_free(ctl);
}

int
tc_control_start(uv_loop_t *loop, const char *path, const char *group,
    tc_control_cmd_cb cb, void *arg, struct tc_control **out,
    struct tc_err *err)
{
	struct tc_control *ctl;
	struct stat        st;
	struct group       gr, *grp = NULL;
	char               grbuf[4096];
	int                rc;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return tc_err_set(err, TC_EINPUT,
		    "%s: control socket path too long", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return tc_err_set(err, TC_EINPUT,
			    "%s: exists and is not a socket", path);
		(void)unlink(path); /* stale, from a previous run */
	}
	ctl = tc_xcalloc(1, sizeof(*ctl));
	ctl->loop = loop;
	ctl->cb = cb;
	ctl->arg = arg;
	ctl->path = tc_xstrdup(path);
	if (group != NULL) {
		if (getgrnam_r(group, &gr, grbuf, sizeof(grbuf), &grp) != 0 ||
		    grp == NULL) {
			free(ctl->path);
			free(ctl);
			return tc_err_set(err, TC_EINPUT,
			    "analysts' group \"%s\" does not exist",
			    tc_esc(group));
		}
		ctl->gid = gr.gr_gid;
		ctl->have_gid = true;
	}
	uv_pipe_init(loop, &ctl->listener, 0);
	ctl->open_handles = 1;
	if ((rc = uv_pipe_bind(&ctl->listener, path)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&ctl->listener, 64,
		 on_connection)) < 0) {
		tc_err_set(err, rc, "%s: %s", path, uv_strerror(rc));
		/* Freed when the loop runs the close callback. */
		ctl->closing = true;
		uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
		return rc;
	}
	if (chmod(path, 0660) != 0 ||
	    (ctl->have_gid && chown(path, (uid_t)-1, ctl->gid) != 0)) {
		rc = -errno;
		tc_err_set(err, rc, "%s: cannot set mode 0660 and group: %s",
		    path, strerror(errno));
		tc_control_close(ctl, NULL, NULL);
		return rc;
	}
	*out = ctl;
	return 0;
}

void
tc_control_close(struct tc_control *ctl, tc_control_close_cb cb, void *arg)
{
	ctl->closing = true;
	ctl->close_cb = cb;
	ctl->close_arg = arg;
	while (ctl->conns != NULL)
		conn_close(ctl->conns);
	(void)unlink(ctl->path);
	uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
}

/* --- client ---------------------------------------------------------------- */

static int
remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long       ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

struct client_ctx {
	struct tc_proto_response *out;
	struct tc_err            *err;
	int                       done;
	int                       rc;
};

static int
client_line(const char *line, size_t len, void *arg)
{
	struct client_ctx *cc = arg;

	cc->rc = tc_proto_response_parse(line, len, cc->out, cc->err);
	cc->done = 1;
	return -1; /* one response is all we wait for */
}

int
tc_control_call(const char *path, const char *cmd, const json_t *args,
    unsigned timeout_ms, struct tc_proto_response *out, struct tc_err *err)
{
	struct sockaddr_un     sa = { .sun_family = AF_UNIX };
	struct tc_buf          req = TC_BUF_INIT;
	struct tc_proto_reader rd;
	struct client_ctx      cc = { out, err, 0, 0 };
	struct timespec        deadline;
	int                    fd, rc = 0;
	size_t                 off = 0;
	char                   buf[65536];

	memset(out, 0, sizeof(*out));
	if (tc_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return tc_err_set(err, TC_EINPUT, "%s: path too long", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tc_err_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		if (errno == ENOENT || errno == ECONNREFUSED)
			tc_err_set(err, rc,
			    "tocsind is not running (no one listens on %s)",
			    path);
		else
			tc_err_set(err, rc, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	tc_proto_request_format(&req, 1, cmd, args);
	while (off < req.len) {
		ssize_t n = send(fd, req.data + off, req.len - off,
		    MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			break; /* refused at accept: read why below */
		if (n < 0) {
			rc = tc_err_set(err, -errno, "%s: send: %s", path,
			    strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	tc_proto_reader_init(&rd);
	while (!cc.done) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t       n;
		int           p = poll(&pfd, 1, remaining_ms(&deadline));

		if (p < 0 && errno == EINTR)
			continue;
		if (p == 0) {
			rc = tc_err_set(err, TC_ETEMPFAIL,
			    "tocsind did not answer within %u ms", timeout_ms);
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = tc_err_set(err, TC_ETEMPFAIL,
			    "tocsind closed the connection without an answer");
			break;
		}
		(void)tc_proto_reader_feed(&rd, buf, (size_t)n, client_line,
		    &cc, err);
	}
	tc_proto_reader_deinit(&rd);
	if (cc.done)
		rc = cc.rc;
out:
	tc_buf_deinit(&req);
	close(fd);
	return rc;
}

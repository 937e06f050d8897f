/* pgpproc: gpg helper processes (see pgpproc.h for the why and the wire
 * format).
 *
 * Design note.  Each helper is one process serving one request at a time
 * with one gpgme context, so n helpers give n gpg runs in parallel, which
 * is what n compose workers need.  The client keeps a table of helpers
 * under a mutex; a call marks one busy, talks to it without the lock, and
 * marks it idle again.  posix_spawn is used rather than fork because it is
 * safe from a multi-threaded process and copies nothing of the caller (glibc
 * spawns with CLONE_VM|CLONE_VFORK), so a helper can be (re)started from a
 * pool thread at any time.  The helper gets its socket as fd 3, /dev/null on
 * stdin and stdout, the daemon's stderr, an empty signal mask (libuv's pool
 * threads block every signal) and its own process group, so a terminal's
 * ^C reaches the daemon, which then stops its helpers itself. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/pgp.h"
#include "tocsin/pgpproc.h"

extern char **environ;

struct helper {
	pid_t pid; /* 0: not running */
	int   fd;  /* our end of the socketpair, -1 when not running */
	int   busy;
};

struct tc_pgpproc {
	pthread_mutex_t mu;
	pthread_cond_t  idle;
	char           *path;
	char          **argv;
	unsigned        n;
	unsigned long   spawned;
	struct helper   h[];
};

/* --- codec ---------------------------------------------------------------- */

static uint32_t
get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int
tc_pgpproc_parse_header(const unsigned char hdr[16], struct tc_pgpproc_req *req,
    uint32_t *body_len, struct tc_err *err)
{
	uint32_t magic = get_u32(hdr), op = get_u32(hdr + 4),
		 nf = get_u32(hdr + 8), len = get_u32(hdr + 12);

	if (magic != TC_PGPPROC_MAGIC)
		return tc_err_set(err, TC_EINPUT,
		    "gpg helper request: bad magic 0x%08x", (unsigned)magic);
	if (op == TC_PGPPROC_SIGN) {
		if (nf != 3)
			return tc_err_set(err, TC_EINPUT,
			    "gpg helper request: sign takes 3 fields, not %u",
			    (unsigned)nf);
	} else if (op == TC_PGPPROC_ENCRYPT) {
		if (nf < 4 || nf > TC_PGPPROC_FIELDS_MAX)
			return tc_err_set(err, TC_EINPUT,
			    "gpg helper request: encrypt takes 4 to %d "
			    "fields, not %u",
			    TC_PGPPROC_FIELDS_MAX, (unsigned)nf);
	} else {
		return tc_err_set(err, TC_EINPUT,
		    "gpg helper request: unknown operation %u", (unsigned)op);
	}
	if (len > TC_PGPPROC_FRAME_MAX)
		return tc_err_set(err, TC_EINPUT,
		    "gpg helper request: body of %u bytes is above the limit",
		    (unsigned)len);
	req->op = op;
	req->nfields = nf;
	*body_len = len;
	return 0;
}

int
tc_pgpproc_parse_body(const char *body, size_t len, struct tc_pgpproc_req *req,
    struct tc_err *err)
{
	size_t at = 0;

	for (uint32_t i = 0; i < req->nfields; i++) {
		uint32_t flen;

		if (len - at < 4)
			return tc_err_set(err, TC_EINPUT,
			    "gpg helper request: field %u is cut short",
			    (unsigned)i);
		flen = get_u32((const unsigned char *)body + at);
		at += 4;
		if (flen > len - at)
			return tc_err_set(err, TC_EINPUT,
			    "gpg helper request: field %u of %u bytes "
			    "overruns the body",
			    (unsigned)i, (unsigned)flen);
		req->f[i].data = body + at;
		req->f[i].len = flen;
		/* The entity (field 2) is checked by pgp.c; the others
		 * become C strings and must not hide a NUL. */
		if (i != 2 && memchr(body + at, '\0', flen) != NULL)
			return tc_err_set(err, TC_EINPUT,
			    "gpg helper request: field %u contains NUL",
			    (unsigned)i);
		at += flen;
	}
	if (at != len)
		return tc_err_set(err, TC_EINPUT,
		    "gpg helper request: %zu bytes after the last field",
		    len - at);
	return 0;
}

/* --- I/O ------------------------------------------------------------------ */

/* Write all of iov; -1 on error (errno set), never SIGPIPE. */
static int
write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t       w = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Read exactly len bytes: 1, 0 at EOF before the first byte, -1 on error or
 * EOF part-way. */
static int
read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

/* --- client --------------------------------------------------------------- */

struct tc_pgpproc *
tc_pgpproc_new(const char *path, char *const argv[], unsigned n,
    struct tc_err *err)
{
	struct tc_pgpproc *pp;
	size_t             argc = 0;

	if (n == 0 || n > TC_PGPPROC_HELPERS_MAX) {
		tc_err_set(err, TC_EINPUT, "%u gpg helpers: must be 1 to %d", n,
		    TC_PGPPROC_HELPERS_MAX);
		return NULL;
	}
	while (argv[argc] != NULL)
		argc++;
	pp = tc_xcalloc(1, sizeof(*pp) + n * sizeof(pp->h[0]));
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->idle, NULL);
	pp->path = tc_xstrdup(path);
	pp->argv = tc_xcalloc(argc + 1, sizeof(*pp->argv));
	for (size_t i = 0; i < argc; i++)
		pp->argv[i] = tc_xstrdup(argv[i]);
	pp->n = n;
	for (unsigned i = 0; i < n; i++)
		pp->h[i].fd = -1;
	return pp;
}

unsigned long
tc_pgpproc_spawned(struct tc_pgpproc *pp)
{
	unsigned long n;

	pthread_mutex_lock(&pp->mu);
	n = pp->spawned;
	pthread_mutex_unlock(&pp->mu);
	return n;
}

/* Close a helper's socket and reap it, killing it if it does not exit
 * within `grace_ms` (0: kill at once). */
static void
helper_stop(struct helper *h, int grace_ms)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (h->pid <= 0)
		return;
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(h->pid, NULL, WNOHANG);

		if (r == h->pid || (r < 0 && errno != EINTR))
			break;
		if (waited >= grace_ms) {
			kill(h->pid, SIGKILL);
			while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
				;
			break;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	h->pid = 0;
}

static int
helper_spawn(struct tc_pgpproc *pp, struct helper *h, struct tc_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t          attr;
	sigset_t                   none, dfl;
	int                        sv[2], rc;
	pid_t                      pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return tc_err_set(err, TC_ETEMPFAIL,
		    "gpg helper: socketpair: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], TC_PGPPROC_FD);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, TC_PGPPROC_FD + 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
		POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, pp->path, &fa, &attr, pp->argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return tc_err_set(err, TC_ETEMPFAIL,
		    "gpg helper: cannot start %s: %s", pp->path, strerror(rc));
	}
	h->pid = pid;
	h->fd = sv[0];
	pthread_mutex_lock(&pp->mu);
	pp->spawned++;
	pthread_mutex_unlock(&pp->mu);
	tc_log_debug(TC_LOG_PGP, "gpg_helper=started pid=%ld", (long)pid);
	return 0;
}

static struct helper *
checkout(struct tc_pgpproc *pp)
{
	struct helper *h = NULL;

	pthread_mutex_lock(&pp->mu);
	for (;;) {
		/* A running idle helper first, then one to spawn. */
		for (unsigned i = 0; i < pp->n && h == NULL; i++)
			if (!pp->h[i].busy && pp->h[i].pid > 0)
				h = &pp->h[i];
		for (unsigned i = 0; i < pp->n && h == NULL; i++)
			if (!pp->h[i].busy)
				h = &pp->h[i];
		if (h != NULL)
			break;
		pthread_cond_wait(&pp->idle, &pp->mu);
	}
	h->busy = 1;
	pthread_mutex_unlock(&pp->mu);
	return h;
}

static void
checkin(struct tc_pgpproc *pp, struct helper *h)
{
	pthread_mutex_lock(&pp->mu);
	h->busy = 0;
	pthread_cond_signal(&pp->idle);
	pthread_mutex_unlock(&pp->mu);
}

/* One exchange with a running helper: 0 with *result, the message and the
 * output filled, or -1 when the helper is gone (errno set). */
static int
exchange(struct helper *h, struct iovec *iov, int niov, int *result,
    struct tc_err *err, struct tc_buf *out)
{
	unsigned char hdr[16];
	uint32_t      msglen, outlen;
	int32_t       res;
	char          msg[TC_ERR_MSG_MAX];

	if (write_all(h->fd, iov, niov) < 0 ||
	    read_all(h->fd, hdr, sizeof(hdr)) != 1)
		return -1;
	msglen = get_u32(hdr + 8);
	outlen = get_u32(hdr + 12);
	memcpy(&res, hdr + 4, sizeof(res));
	if (get_u32(hdr) != TC_PGPPROC_MAGIC || msglen >= sizeof(msg) ||
	    outlen > TC_PGPPROC_FRAME_MAX || res > 0 ||
	    (res == 0 && msglen != 0)) {
		errno = EPROTO;
		return -1;
	}
	if (msglen > 0 && read_all(h->fd, msg, msglen) != 1)
		return -1;
	msg[msglen] = '\0';
	tc_buf_reserve(out, outlen);
	if (outlen > 0 && read_all(h->fd, out->data + out->len, outlen) != 1)
		return -1;
	if (res < 0) {
		/* An error answer appends nothing, as in process. */
		if (outlen != 0) {
			errno = EPROTO;
			return -1;
		}
		tc_err_set(err, res, "%s", msg);
	} else {
		out->len += outlen;
		out->data[out->len] = '\0';
	}
	*result = res;
	return 0;
}

static int
call(struct tc_pgpproc *pp, uint32_t op, const char *homedir,
    const char *signer, const char *const *fprs, size_t n, const char *entity,
    size_t len, struct tc_buf *out, struct tc_err *err)
{
	struct tc_pgpproc_field f[TC_PGPPROC_FIELDS_MAX];
	uint32_t                lens[TC_PGPPROC_FIELDS_MAX];
	uint32_t                hdr[4];
	struct iovec            iov[1 + 2 * TC_PGPPROC_FIELDS_MAX];
	size_t                  nf = 3 + n, body = 0;
	int                     niov = 0, result = 0;
	struct helper          *h;

	if (nf > TC_PGPPROC_FIELDS_MAX)
		return tc_err_set(err, TC_ELIMIT,
		    "%zu recipient keys are above the limit of %d", n,
		    TC_PGP_RECIPIENTS_MAX);
	if (len > TC_PGP_ENTITY_MAX)
		return tc_err_set(err, TC_ELIMIT,
		    "entity of %zu bytes is above the limit of %u bytes", len,
		    TC_PGP_ENTITY_MAX);
	f[0] = (struct tc_pgpproc_field){ homedir ? homedir : "",
		(uint32_t)(homedir ? strlen(homedir) : 0) };
	f[1] = (struct tc_pgpproc_field){ signer, (uint32_t)strlen(signer) };
	f[2] = (struct tc_pgpproc_field){ entity, (uint32_t)len };
	for (size_t i = 0; i < n; i++)
		f[3 + i] = (struct tc_pgpproc_field){ fprs[i],
			(uint32_t)strlen(fprs[i]) };
	for (size_t i = 0; i < nf; i++)
		body += 4 + f[i].len;
	hdr[0] = TC_PGPPROC_MAGIC;
	hdr[1] = op;
	hdr[2] = (uint32_t)nf;
	hdr[3] = (uint32_t)body;

	/* Twice at most: a helper found dead is replaced once. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int saved;

		niov = 0;
		iov[niov++] = (struct iovec){ hdr, sizeof(hdr) };
		for (size_t i = 0; i < nf; i++) {
			lens[i] = f[i].len;
			iov[niov++] = (struct iovec){ &lens[i], 4 };
			iov[niov++] =
			    (struct iovec){ (void *)(uintptr_t)f[i].data,
				    f[i].len };
		}
		h = checkout(pp);
		if (h->pid <= 0 && helper_spawn(pp, h, err) < 0) {
			checkin(pp, h);
			return TC_ETEMPFAIL;
		}
		if (exchange(h, iov, niov, &result, err, out) == 0) {
			checkin(pp, h);
			return result;
		}
		saved = errno;
		tc_log_warning(TC_LOG_PGP,
		    "gpg_helper=lost pid=%ld err=\"%s\" attempt=%d",
		    (long)h->pid, strerror(saved), attempt + 1);
		helper_stop(h, 0);
		checkin(pp, h);
		errno = saved;
	}
	return tc_err_set(err, TC_ETEMPFAIL,
	    "gpg helper process lost twice: %s", strerror(errno));
}

int
tc_pgpproc_sign(struct tc_pgpproc *pp, const char *homedir, const char *signer,
    const char *entity, size_t len, struct tc_buf *out, struct tc_err *err)
{
	return call(pp, TC_PGPPROC_SIGN, homedir, signer, NULL, 0, entity, len,
	    out, err);
}

int
tc_pgpproc_encrypt(struct tc_pgpproc *pp, const char *homedir,
    const char *signer, const char *const *fprs, size_t n, const char *entity,
    size_t len, struct tc_buf *out, struct tc_err *err)
{
	if (n == 0)
		return tc_err_set(err, TC_EKEY, "no recipient key given");
	return call(pp, TC_PGPPROC_ENCRYPT, homedir, signer, fprs, n, entity,
	    len, out, err);
}

void
tc_pgpproc_free(struct tc_pgpproc *pp)
{
	if (pp == NULL)
		return;
	/* EOF first on all of them, so they exit in parallel. */
	for (unsigned i = 0; i < pp->n; i++) {
		TC_REQUIRE(!pp->h[i].busy);
		if (pp->h[i].fd >= 0)
			shutdown(pp->h[i].fd, SHUT_WR);
	}
	for (unsigned i = 0; i < pp->n; i++)
		helper_stop(&pp->h[i], 2000);
	for (size_t i = 0; pp->argv[i] != NULL; i++)
		free(pp->argv[i]);
	free(pp->argv);
	free(pp->path);
	pthread_cond_destroy(&pp->idle);
	pthread_mutex_destroy(&pp->mu);
	free(pp);
}

/* --- helper --------------------------------------------------------------- */

struct served {
	struct tc_pgp *pgp;
	char          *home;   /* NULL: gpg's default */
	char          *signer; /* what pgp was made for */
};

static char *
field_str(const struct tc_pgpproc_field *f)
{
	char *s = tc_xmalloc((size_t)f->len + 1);

	memcpy(s, f->data, f->len);
	s[f->len] = '\0';
	return s;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The struct tc_pgp for this request, made again when the homedir or the
 * signer changed (a reload), or when making it failed last time (gpg-agent
 * down).  0, or what tc_pgp_new() returned with err set. */
static int
served_pgp(struct served *s, const struct tc_pgpproc_req *req,
    struct tc_err *err)
{
	char *home = req->f[0].len ? field_str(&req->f[0]) : NULL;
	char *signer = field_str(&req->f[1]);

	if (s->pgp != NULL && same(s->home, home) && same(s->signer, signer)) {
		free(home);
		free(signer);
		return 0;
	}
	tc_pgp_free(s->pgp);
	free(s->home);
	free(s->signer);
	s->pgp = NULL;
	s->home = home;
	s->signer = signer;
	return tc_pgp_new(home, signer, &s->pgp, err);
}

static int
serve_one(int fd, struct served *s, struct tc_buf *body, struct tc_buf *out)
{
	struct tc_pgpproc_req req;
	struct tc_err         err;
	unsigned char         hdr[16];
	uint32_t              blen, rhdr[4];
	struct iovec          iov[3];
	const char           *fprs[TC_PGPPROC_FIELDS_MAX];
	char                 *owned[TC_PGPPROC_FIELDS_MAX];
	int                   r, rc;
	size_t                msglen = 0;

	if ((r = read_all(fd, hdr, sizeof(hdr))) <= 0)
		return r < 0 ? -1 : 0;
	if (tc_pgpproc_parse_header(hdr, &req, &blen, &err) < 0) {
		tc_log_err(TC_LOG_PGP, "gpg_helper=protocol err=\"%s\"",
		    err.msg);
		return -1;
	}
	tc_buf_reset(body);
	tc_buf_reserve(body, blen);
	if (blen > 0 && read_all(fd, body->data, blen) != 1)
		return -1;
	body->len = blen;
	if (tc_pgpproc_parse_body(body->data, blen, &req, &err) < 0) {
		tc_log_err(TC_LOG_PGP, "gpg_helper=protocol err=\"%s\"",
		    err.msg);
		return -1;
	}
	tc_buf_reset(out);
	tc_err_clear(&err);
	if ((rc = served_pgp(s, &req, &err)) < 0) {
		/* err names the key or the set-up that failed */
	} else if (req.op == TC_PGPPROC_SIGN) {
		rc = tc_pgp_sign_entity(s->pgp, req.f[2].data, req.f[2].len,
		    out, &err);
	} else {
		for (uint32_t i = 3; i < req.nfields; i++)
			fprs[i - 3] = owned[i - 3] = field_str(&req.f[i]);
		rc = tc_pgp_encrypt_entity(s->pgp, fprs, req.nfields - 3,
		    req.f[2].data, req.f[2].len, out, &err);
		for (uint32_t i = 3; i < req.nfields; i++)
			free(owned[i - 3]);
	}
	if (rc > 0)
		rc = 0;
	if (rc < 0)
		msglen = strlen(err.msg);
	rhdr[0] = TC_PGPPROC_MAGIC;
	memcpy(&rhdr[1], &rc, sizeof(rc));
	rhdr[2] = (uint32_t)msglen;
	rhdr[3] = rc < 0 ? 0 : (uint32_t)out->len;
	iov[0] = (struct iovec){ rhdr, sizeof(rhdr) };
	iov[1] = (struct iovec){ err.msg, msglen };
	iov[2] = (struct iovec){ out->data, rhdr[3] };
	if (write_all(fd, iov, 3) < 0)
		return -1;
	return 1;
}

int
tc_pgpproc_serve(int fd)
{
	struct served s = { 0 };
	struct tc_buf body = TC_BUF_INIT, out = TC_BUF_INIT;
	int           r;

	signal(SIGPIPE, SIG_IGN);
	tc_pgp_global_init();
	while ((r = serve_one(fd, &s, &body, &out)) > 0)
		;
	/* The entities were mail in clear: wipe them. */
	tc_buf_deinit_secret(&body);
	tc_buf_deinit_secret(&out);
	tc_pgp_free(s.pgp);
	free(s.home);
	free(s.signer);
	close(fd);
	return r < 0 ? 1 : 0;
}

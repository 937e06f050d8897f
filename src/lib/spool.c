/* spool: see include/tocsin/spool.h.
 *
 * Design note.  The state machine is tiny: IDLE (nothing handed out) →
 * SCANNING (a uv_fs_scandir of incoming/ is in flight) → BUSY (one file
 * handed to the owner) → IDLE.  Any fs event or the rescan timer while not
 * IDLE only sets `rescan`, so a burst of renames causes one scan after the
 * current file, not one scan per event.  Moves are rename(2) inside one file
 * system, which is atomic: a crash leaves a file either in incoming/ (it
 * will be processed again) or in done/ / failed/, never lost.  The .error
 * file is written before the rename into failed/, so a failed file is never
 * without its reason.
 *
 * Several processes may share one spool directory (scale-out).  A file is
 * claimed by rename(2) from incoming/<name> into this spool's own directory
 * incoming/.claimed-XXXXXX/<name>: rename is atomic, so exactly one process
 * wins and the others see ENOENT and try the next name.  Each claim
 * directory holds a ".lock" file that its owner keeps flock()ed for its
 * whole life; the kernel drops the lock when the owner dies, however it
 * dies.  At start and every TC_SPOOL_RECOVER_TICKS rescans, every claim
 * directory whose lock can be taken belongs to a dead spool: its files go
 * back to incoming/ (under a suffixed name if that one is taken) and the
 * directory is removed.  A claim directory is created as ".claiming-XXXXXX"
 * and renamed once locked, so recovery never sees one that is not yet
 * locked. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tocsin/buf.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/spool.h"
#include "tocsin/str.h"

enum spool_state { SPOOL_IDLE, SPOOL_SCANNING, SPOOL_BUSY, SPOOL_CLOSING };

struct tc_spool {
	uv_loop_t        *loop;
	uv_fs_event_t     watch;
	uv_timer_t        timer;
	uv_fs_t           scan_req;
	enum spool_state  state;
	bool              rescan;
	bool              watching;
	bool              scan_pending; /* scan_req in flight */
	int               open_handles;
	char             *dir;
	char             *incoming;
	char             *claimdir;     /* incoming/.claimed-XXXXXX */
	int               lock_fd;      /* claimdir/.lock, flock()ed */
	unsigned          ticks;        /* rescans since the last recovery */
	char             *current;      /* name handed out, while BUSY */
	char             *current_path; /* claimdir/<name> */
	tc_spool_file_cb  cb;
	void             *arg;
	tc_spool_close_cb close_cb;
	void             *close_arg;
	uint64_t          hold_until; /* uv_now(): no scan before (postpone) */
};

static void spool_scan(struct tc_spool *sp);
static void spool_maybe_free(struct tc_spool *sp);

static char *
path_join(const char *a, const char *b)
{
	struct tc_buf p = TC_BUF_INIT;

	tc_buf_printf(&p, "%s/%s", a, b);
	return tc_buf_steal(&p, NULL);
}

#define CLAIMED_PREFIX ".claimed-"
#define CLAIMING_PREFIX ".claiming-"
#define LOCK_NAME ".lock"

/* Put `from` back as incoming/<name>, or incoming/<name>.recovered.<n> if
 * that name is taken: link(2) fails rather than overwrite, so a concurrent
 * drop or another worker's recovery is never clobbered.  Directories (which
 * cannot be linked) are renamed.  Returns 0 or -errno. */
static int
return_to_incoming(const char *incoming, const char *from, const char *name)
{
	struct tc_buf dst = TC_BUF_INIT;
	int           rc = -EEXIST;

	for (unsigned n = 0; n < 1000; n++) {
		tc_buf_reset(&dst);
		if (n == 0)
			tc_buf_printf(&dst, "%s/%s", incoming, name);
		else
			tc_buf_printf(&dst, "%s/%s.recovered.%u", incoming,
			    name, n);
		if (link(from, dst.data) == 0) {
			rc = unlink(from) == 0 ? 0 : -errno;
			break;
		}
		if (errno == EEXIST)
			continue;
		if (errno == EPERM || errno == EMLINK) {
			struct stat st;

			if (lstat(dst.data, &st) == 0)
				continue;
			rc = rename(from, dst.data) == 0 ? 0 : -errno;
			break;
		}
		rc = -errno;
		break;
	}
	tc_buf_deinit(&dst);
	return rc;
}

/* Return the files of claim directory `cd` (whose lock the caller holds)
 * to incoming/ and remove it.  Returns how many files went back. */
static unsigned
recover_dir(const char *incoming, const char *cd)
{
	DIR           *dh;
	struct dirent *de;
	unsigned       n = 0;
	char          *lock;

	if ((dh = opendir(cd)) == NULL)
		return 0; /* removed meanwhile by another worker */
	while ((de = readdir(dh)) != NULL) {
		char *from;
		int   rc;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, LOCK_NAME) == 0)
			continue;
		from = path_join(cd, de->d_name);
		rc = return_to_incoming(incoming, from, de->d_name);
		if (rc < 0)
			tc_log_err(TC_LOG_FEED,
			    "file=%s result=unrecovered err=\"%s\"",
			    tc_esc(from), tc_strerror(rc));
		else
			n++;
		free(from);
	}
	closedir(dh);
	lock = path_join(cd, LOCK_NAME);
	(void)unlink(lock);
	if (rmdir(cd) != 0 && errno != ENOENT) {
		/* Something could not go back: keep the directory lockable so
		 * that a later recovery tries again. */
		int fd =
		    open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0)
			close(fd);
	}
	free(lock);
	return n;
}

/* Return the files claimed by dead spools (their lock is free) to
 * incoming/.  Synchronous: a readdir of incoming/ and of each claim
 * directory, at start and every TC_SPOOL_RECOVER_TICKS rescans. */
static void
spool_recover(struct tc_spool *sp)
{
	DIR           *dh;
	struct dirent *de;

	if ((dh = opendir(sp->incoming)) == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		char    *cd, *lock;
		int      fd;
		unsigned n;

		if (strncmp(de->d_name, CLAIMED_PREFIX,
			sizeof(CLAIMED_PREFIX) - 1) != 0)
			continue;
		cd = path_join(sp->incoming, de->d_name);
		if (sp->claimdir != NULL && strcmp(cd, sp->claimdir) == 0) {
			free(cd);
			continue;
		}
		lock = path_join(cd, LOCK_NAME);
		fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		free(lock);
		if (fd < 0) {
			free(cd);
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			n = recover_dir(sp->incoming, cd);
			tc_log_warning(TC_LOG_FEED,
			    "dir=%s result=recovered files=%u "
			    "reason=\"its worker is gone\"",
			    tc_esc(de->d_name), n);
			if (n > 0)
				sp->rescan = true;
		}
		close(fd);
		free(cd);
	}
	closedir(dh);
}

/* Create and lock this spool's claim directory. */
static int
claimdir_create(struct tc_spool *sp, struct tc_err *err)
{
	struct tc_buf tmpl = TC_BUF_INIT, fin = TC_BUF_INIT;
	char         *lock = NULL;
	int           rc = 0, fd = -1;

	tc_buf_printf(&tmpl, "%s/" CLAIMING_PREFIX "XXXXXX", sp->incoming);
	if (mkdtemp(tmpl.data) == NULL) {
		rc = tc_err_set(err, -errno, "%s: cannot create: %s", tmpl.data,
		    strerror(errno));
		goto out;
	}
	lock = path_join(tmpl.data, LOCK_NAME);
	fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = tc_err_set(err, -errno, "%s: cannot lock: %s", lock,
		    strerror(errno));
		goto out;
	}
	tc_buf_printf(&fin, "%s/" CLAIMED_PREFIX "%s", sp->incoming,
	    tmpl.data + tmpl.len - 6);
	if (rename(tmpl.data, fin.data) != 0) {
		rc = tc_err_set(err, -errno, "%s: cannot rename: %s", tmpl.data,
		    strerror(errno));
		goto out;
	}
	sp->claimdir = tc_buf_steal(&fin, NULL);
	sp->lock_fd = fd;
	fd = -1;
out:
	if (fd >= 0) {
		close(fd);
		(void)unlink(lock);
		(void)rmdir(tmpl.data);
	}
	free(lock);
	tc_buf_deinit(&tmpl);
	tc_buf_deinit(&fin);
	return rc;
}

/* Drop this spool's claim: the file handed out (if any) back to incoming/,
 * the directory removed, the lock released. */
static void
claimdir_release(struct tc_spool *sp)
{
	if (sp->claimdir == NULL)
		return;
	if (sp->current_path != NULL) {
		int rc = return_to_incoming(sp->incoming, sp->current_path,
		    sp->current);

		if (rc < 0)
			tc_log_err(TC_LOG_FEED,
			    "file=%s result=unreturned err=\"%s\"",
			    tc_esc(sp->current_path), tc_strerror(rc));
	}
	(void)recover_dir(sp->incoming, sp->claimdir);
	close(sp->lock_fd);
	sp->lock_fd = -1;
	free(sp->claimdir);
	sp->claimdir = NULL;
}

/* Create `path` with `mode` (whatever the umask), or check that it is a
 * directory; one we own gets `mode` again. */
static int
ensure_dir(const char *path, mode_t mode, struct tc_err *err)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return tc_err_set(err, -errno, "%s: cannot create: %s", path,
		    strerror(errno));
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return tc_err_set(err, TC_EINPUT, "%s: not a directory", path);
	if (st.st_uid == geteuid() && (st.st_mode & 07777) != mode &&
	    chmod(path, mode) != 0)
		return tc_err_set(err, -errno, "%s: cannot chmod: %s", path,
		    strerror(errno));
	return 0;
}

/* Move incoming/<name> into <sub>/, never overwriting.  Returns 0 or
 * -errno; *final gets the name used (owned). */
static int
move_into(struct tc_spool *sp, const char *name, const char *sub,
    char **final)
{
	struct tc_buf dst = TC_BUF_INIT;
	int           rc = 0;

	for (unsigned n = 0; n < 1000; n++) {
		struct stat st;

		tc_buf_reset(&dst);
		if (n == 0)
			tc_buf_printf(&dst, "%s/%s/%s", sp->dir, sub, name);
		else
			tc_buf_printf(&dst, "%s/%s/%s.%lld.%u", sp->dir, sub,
			    name, (long long)time(NULL), n);
		if (lstat(dst.data, &st) == 0)
			continue;
		if (errno != ENOENT) {
			rc = -errno;
			break;
		}
		if (rename(sp->current_path, dst.data) != 0) {
			rc = -errno;
			break;
		}
		*final = tc_buf_steal(&dst, NULL);
		return 0;
	}
	if (rc == 0)
		rc = -EEXIST;
	tc_buf_deinit(&dst);
	return rc;
}

static int
write_error_file(const char *path, const char *reason)
{
	int     fd;
	size_t  len = strlen(reason), off = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd < 0)
		return -errno;
	while (off < len) {
		n = write(fd, reason + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		off += (size_t)n;
	}
	if ((len == 0 || reason[len - 1] != '\n') && write(fd, "\n", 1) != 1) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	if (close(fd) != 0)
		return -errno;
	return 0;
}

int
tc_spool_finish(struct tc_spool *sp, int status, const char *reason)
{
	char *final = NULL, *errpath = NULL, *base;
	int   rc;

	if (tc_fails_assert(sp->state == SPOOL_BUSY ||
		(sp->state == SPOOL_CLOSING && sp->current != NULL)))
		return TC_EBUG;
	if (status >= 0) {
		rc = move_into(sp, sp->current, "done", &final);
	} else {
		/* Reserve the final name first, so that the .error file sits
		 * beside the file it explains. */
		rc = move_into(sp, sp->current, "failed", &final);
		if (rc == 0) {
			struct tc_buf e = TC_BUF_INIT;

			tc_buf_printf(&e, "%s.error", final);
			errpath = tc_buf_steal(&e, NULL);
			rc = write_error_file(errpath,
			    reason != NULL ? reason : tc_strerror(status));
			if (rc < 0)
				tc_log_err(TC_LOG_FEED,
				    "file=%s error-file=%s result=unwritten "
				    "err=\"%s\"",
				    tc_esc(final), tc_esc(errpath),
				    tc_strerror(rc));
			rc = 0; /* the file itself was moved */
		}
	}
	if (rc < 0) {
		tc_log_err(TC_LOG_FEED,
		    "file=%s result=unmoved err=\"%s\" retry=yes",
		    tc_esc(sp->current_path), tc_strerror(rc));
		(void)return_to_incoming(sp->incoming, sp->current_path,
		    sp->current);
	} else {
		base = strrchr(final, '/');
		tc_log_info(TC_LOG_FEED, "file=%s result=%s moved=%s",
		    tc_esc(sp->current), status >= 0 ? "done" : "failed",
		    tc_esc(base ? base + 1 : final));
	}
	free(final);
	free(errpath);
	free(sp->current);
	free(sp->current_path);
	sp->current = sp->current_path = NULL;
	if (sp->state == SPOOL_BUSY) {
		sp->state = SPOOL_IDLE;
		/* Whatever else is waiting: look again right away. */
		spool_scan(sp);
	}
	return rc;
}

int
tc_spool_postpone(struct tc_spool *sp, unsigned delay_ms, const char *reason)
{
	int rc;

	if (tc_fails_assert(sp->state == SPOOL_BUSY ||
		(sp->state == SPOOL_CLOSING && sp->current != NULL)))
		return TC_EBUG;
	tc_log_warning(TC_LOG_FEED, "file=%s result=postponed retry=%ums "
				    "reason=\"%s\"",
	    tc_esc(sp->current), delay_ms, tc_esc(reason ? reason : ""));
	/* Back into incoming/, where any worker may take it. */
	rc = return_to_incoming(sp->incoming, sp->current_path, sp->current);
	if (rc < 0)
		tc_log_err(TC_LOG_FEED, "file=%s result=unreturned err=\"%s\"",
		    tc_esc(sp->current_path), tc_strerror(rc));
	free(sp->current);
	free(sp->current_path);
	sp->current = sp->current_path = NULL;
	if (sp->state == SPOOL_BUSY) {
		sp->state = SPOOL_IDLE;
		sp->hold_until = uv_now(sp->loop) + delay_ms;
	}
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
fail_now(struct tc_spool *sp, const char *reason)
{
	sp->state = SPOOL_BUSY;
	(void)tc_spool_finish(sp, TC_EINPUT, reason);
}

static void
on_scandir(uv_fs_t *req)
{
	struct tc_spool *sp = container_of(req, struct tc_spool, scan_req);
	uv_dirent_t      ent;
	char           **names = NULL;
	size_t           n = 0, cap = 0;

	sp->scan_pending = false;
	if (sp->state == SPOOL_CLOSING) {
		uv_fs_req_cleanup(req);
		spool_maybe_free(sp);
		return;
	}
	if (req->result < 0) {
		tc_log_err(TC_LOG_FEED, "dir=%s result=scan_failed err=\"%s\"",
		    tc_esc(sp->incoming), uv_strerror((int)req->result));
		uv_fs_req_cleanup(req);
		sp->state = SPOOL_IDLE;
		return;
	}
	while (uv_fs_scandir_next(req, &ent) != UV_EOF) {
		if (ent.name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = tc_xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = tc_xstrdup(ent.name);
	}
	uv_fs_req_cleanup(req);
	sp->state = SPOOL_IDLE;
	if (n == 0) {
		free(names);
		if (sp->rescan) {
			sp->rescan = false;
			spool_scan(sp);
		}
		return;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	/* Claim the first name no other worker takes first; the rest are
	 * found again by the scan that follows tc_spool_finish(). */
	for (size_t i = 0; i < n; i++) {
		char *from;

		if (sp->current != NULL) {
			free(names[i]);
			continue;
		}
		from = path_join(sp->incoming, names[i]);
		sp->current_path = path_join(sp->claimdir, names[i]);
		if (rename(from, sp->current_path) == 0) {
			sp->current = names[i];
		} else {
			if (errno != ENOENT) /* ENOENT: another worker won */
				tc_log_err(TC_LOG_FEED,
				    "file=%s result=unclaimed err=\"%s\"",
				    tc_esc(names[i]), strerror(errno));
			free(sp->current_path);
			sp->current_path = NULL;
			free(names[i]);
		}
		free(from);
	}
	free(names);
	sp->rescan = false;
	if (sp->current == NULL)
		return;

	if (strlen(sp->current) > TC_SPOOL_NAME_MAX) {
		fail_now(sp, "file name longer than 200 bytes");
		return;
	}
	{
		struct stat st;

		if (lstat(sp->current_path, &st) != 0 || !S_ISREG(st.st_mode)) {
			fail_now(sp, "not a regular file (symlinks, devices "
				     "and directories are refused)");
			return;
		}
	}
	sp->state = SPOOL_BUSY;
	tc_log_info(TC_LOG_FEED, "file=%s result=picked",
	    tc_esc(sp->current));
	sp->cb(sp, sp->current_path, sp->current, sp->arg);
}

static void
spool_scan(struct tc_spool *sp)
{
	int rc;

	if (sp->state != SPOOL_IDLE) {
		sp->rescan = true;
		return;
	}
	if (uv_now(sp->loop) < sp->hold_until)
		return; /* postponed: the periodic rescan comes back later */
	sp->state = SPOOL_SCANNING;
	rc = uv_fs_scandir(sp->loop, &sp->scan_req, sp->incoming, 0,
	    on_scandir);
	if (rc < 0) {
		tc_log_err(TC_LOG_FEED, "dir=%s result=scan_failed err=\"%s\"",
		    tc_esc(sp->incoming), uv_strerror(rc));
		sp->state = SPOOL_IDLE;
		return;
	}
	sp->scan_pending = true;
}

static void
on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct tc_spool *sp = container_of(h, struct tc_spool, watch);

	(void)filename;
	(void)events;
	if (status < 0)
		tc_log_warning(TC_LOG_FEED, "dir=%s result=watch_error err=\"%s\"",
		    tc_esc(sp->incoming), uv_strerror(status));
	spool_scan(sp);
}

static void
on_timer(uv_timer_t *t)
{
	struct tc_spool *sp = container_of(t, struct tc_spool, timer);

	if (++sp->ticks >= TC_SPOOL_RECOVER_TICKS) {
		sp->ticks = 0;
		spool_recover(sp);
	}
	spool_scan(sp);
}

void
tc_spool_kick(struct tc_spool *sp)
{
	spool_scan(sp);
}

int
tc_spool_start(uv_loop_t *loop, const char *dir, tc_spool_file_cb cb,
    void *arg, struct tc_spool **out, struct tc_err *err)
{
	static const char *const subs[] = { "incoming", "done", "failed" };
	/* The service's group (the analysts) may read everything and drop
	 * files into incoming/ (tocsinctl feed import); setgid keeps the
	 * dropped files in the service's group. */
	static const mode_t modes[] = { 02770, 0750, 0750 };
	struct tc_spool    *sp;
	int                 rc;

	if ((rc = ensure_dir(dir, 0750, err)) < 0)
		return rc;
	for (size_t i = 0; i < TC_NELEM(subs); i++) {
		char *p = path_join(dir, subs[i]);

		rc = ensure_dir(p, modes[i], err);
		free(p);
		if (rc < 0)
			return rc;
	}
	sp = tc_xcalloc(1, sizeof(*sp));
	sp->loop = loop;
	sp->dir = tc_xstrdup(dir);
	sp->incoming = path_join(dir, "incoming");
	sp->cb = cb;
	sp->arg = arg;
	sp->lock_fd = -1;
	spool_recover(sp);
	if ((rc = claimdir_create(sp, err)) < 0) {
		free(sp->incoming);
		free(sp->dir);
		free(sp);
		return rc;
	}
	uv_timer_init(loop, &sp->timer);
	sp->open_handles = 1;
	if (uv_fs_event_init(loop, &sp->watch) == 0) {
		sp->open_handles++;
		rc = uv_fs_event_start(&sp->watch, on_fs_event, sp->incoming,
		    0);
		if (rc < 0)
			tc_log_warning(TC_LOG_FEED,
			    "dir=%s result=unwatched err=\"%s\" rescan_ms=%d",
			    tc_esc(sp->incoming), uv_strerror(rc),
			    TC_SPOOL_RESCAN_MS);
		else
			sp->watching = true;
	}
	uv_timer_start(&sp->timer, on_timer, TC_SPOOL_RESCAN_MS,
	    TC_SPOOL_RESCAN_MS);
	spool_scan(sp);
	*out = sp;
	return 0;
}

static void
spool_maybe_free(struct tc_spool *sp)
{
	if (sp->open_handles > 0 || sp->scan_pending)
		return;
	claimdir_release(sp);
	if (sp->close_cb != NULL)
		sp->close_cb(sp, sp->close_arg);
	free(sp->current);
	free(sp->current_path);
	free(sp->incoming);
	free(sp->dir);
	free(sp);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct tc_spool *sp = h->data;

	sp->open_handles--;
	spool_maybe_free(sp);
}

void
tc_spool_close(struct tc_spool *sp, tc_spool_close_cb cb, void *arg)
{
	sp->close_cb = cb;
	sp->close_arg = arg;
	if (sp->scan_pending)
		uv_cancel((uv_req_t *)&sp->scan_req); /* cb runs either way */
	sp->state = SPOOL_CLOSING;
	sp->timer.data = sp;
	sp->watch.data = sp;
	uv_close((uv_handle_t *)&sp->timer, on_handle_closed);
	if (sp->open_handles > 1)
		uv_close((uv_handle_t *)&sp->watch, on_handle_closed);
}

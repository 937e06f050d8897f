/* spool: the feed drop directory, watched on the loop.
 *
 * Layout under the spool directory: incoming/ (producers write elsewhere and
 * rename() complete files in here), done/ (processed), failed/ (rejected,
 * each with a <name>.error file saying why).  A file is handed to the owner
 * once; the owner processes it however it likes (a pool job) and reports the
 * outcome with tc_spool_finish(), which moves the file.  Files are handled one
 * at a time in name order, so a bad file never blocks the others: it fails,
 * moves to failed/, and the next one starts.  Names beginning with "." are
 * ignored (in-progress copies); anything that is not a regular file fails.
 *
 * Several processes (tocsind workers) may share one spool directory: a file
 * is claimed by rename(2) from incoming/<name> into the spool's own claim
 * directory incoming/.claimed-XXXXXX/ (atomic: exactly one worker wins, the
 * others move on to the next name), and goes from there to done/ or failed/.
 * Each claim directory holds a .lock kept flock()ed by its owner for its
 * whole life; the kernel releases it when the owner dies (kill -9 too).  At
 * start and every TC_SPOOL_RECOVER_TICKS rescans, the files of claim
 * directories whose lock is free (their worker is gone) go back to
 * incoming/ (as <name>.recovered.<n> if the name was taken meanwhile), so a
 * crash never loses a file; it is processed again.  The spool directory must
 * be on a local file system (flock, link and rename semantics).
 *
 * Discovery uses uv_fs_event plus a periodic rescan (events can be missed,
 * and files may already be there at start).  Loop thread only. */
#ifndef TOCSIN_SPOOL_H
#define TOCSIN_SPOOL_H

#include <uv.h>

#include "tocsin/err.h"

struct tc_spool;

/* A file is ready: `path` is incoming/.claimed-XXXXXX/<name> (claimed by
 * this spool alone), valid until tc_spool_finish() or tc_spool_postpone().
 * The owner must eventually call tc_spool_finish() exactly once. */
typedef void (*tc_spool_file_cb)(struct tc_spool *sp, const char *path,
    const char *name, void *arg);
typedef void (*tc_spool_close_cb)(struct tc_spool *sp, void *arg);

#define TC_SPOOL_RESCAN_MS 2000
#define TC_SPOOL_NAME_MAX 200     /* longer names fail with a reason */
#define TC_SPOOL_RECOVER_TICKS 15 /* rescans between dead-claim recoveries */

/* Create incoming/ (mode 02770: the service's group, the analysts, may drop
 * files there), done/ and failed/ (0750) if missing, return the files of
 * dead workers' claim directories to incoming/, create and lock this
 * spool's claim directory, and start watching.  Returns 0 and sets *out, or
 * a negative TC_E* (err says which directory). */
int tc_spool_start(uv_loop_t *loop, const char *dir, tc_spool_file_cb cb,
    void *arg, struct tc_spool **out, struct tc_err *err);

/* Report the outcome of the file handed out last.  status >= 0 moves it to
 * done/; status < 0 moves it to failed/ and writes failed/<name>.error with
 * `reason` (may hold several lines).  A name already taken in done/ or
 * failed/ gets a ".<unix time>.<n>" suffix: nothing is overwritten or lost.
 * Returns 0 or a negative errno (the file then goes back to incoming/ and is
 * retried at the next rescan). */
int tc_spool_finish(struct tc_spool *sp, int status, const char *reason);

/* Put the file handed out last back into incoming/ (where any worker may
 * take it) and scan again no sooner than `delay_ms` from now (a temporary
 * failure, e.g. the database is down: the file is neither done nor
 * failed).  Returns 0 or TC_EBUG. */
int tc_spool_postpone(struct tc_spool *sp, unsigned delay_ms,
    const char *reason);
/* Trigger a scan now (e.g. after `tocsinctl feed import` dropped a file). */
void tc_spool_kick(struct tc_spool *sp);

/* Stop watching; `cb` runs once all handles are closed, then `sp` is freed
 * and its claim directory removed.  A file being processed goes back to
 * incoming/ unless finished before. */
void tc_spool_close(struct tc_spool *sp, tc_spool_close_cb cb, void *arg);

#endif

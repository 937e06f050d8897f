/* log: one line per event, key=value, to stderr or syslog.
 *
 * Groups let an operator turn debug on for one area at run time.  A line is
 * built in a local buffer and written with one write(2), so pool threads may
 * log.  The level is tested before the arguments are evaluated.  Feed text
 * must pass through tc_esc() before it reaches a log line. */
#ifndef TOCSIN_LOG_H
#define TOCSIN_LOG_H

#include <stdbool.h>

enum tc_log_group {
	TC_LOG_BASE,
	TC_LOG_CONFIG,
	TC_LOG_DB,
	TC_LOG_FEED,
	TC_LOG_MATCH,
	TC_LOG_OUTBOX,
	TC_LOG_RENDER,
	TC_LOG_PGP,
	TC_LOG_SMTP,
	TC_LOG_CTL,
	TC_LOG_NGROUPS
};

enum tc_log_level {
	TC_LOG_CRIT,
	TC_LOG_ERR,
	TC_LOG_WARNING,
	TC_LOG_NOTICE,
	TC_LOG_INFO,
	TC_LOG_DEBUG
};

/* Where lines go: stderr (default) or syslog (ident "tocsind"). */
void tc_log_open(const char *ident, bool use_syslog);
/* Lines above `level` are dropped, except debug lines of groups switched on. */
void tc_log_set_level(enum tc_log_level level);
/* "crit" ... "debug" (the names of log.level); info for anything else. */
enum tc_log_level tc_log_level_parse(const char *name);
void tc_log_set_debug(enum tc_log_group group, bool on);
/* Parse "smtp", "db", ... into a group; returns -1 if unknown. */
int tc_log_group_parse(const char *name);
const char *tc_log_group_name(enum tc_log_group group);
bool tc_log_enabled(enum tc_log_group group, enum tc_log_level level);

void tc_log_write(enum tc_log_group group, enum tc_log_level level,
    bool with_errno, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define TC_LOG_(g, l, e, ...)                                                  \
	do {                                                                   \
		if (tc_log_enabled((g), (l)))                                  \
			tc_log_write((g), (l), (e), __VA_ARGS__);              \
	} while (0)

#define tc_log_crit(g, ...) TC_LOG_(g, TC_LOG_CRIT, false, __VA_ARGS__)
#define tc_log_err(g, ...) TC_LOG_(g, TC_LOG_ERR, false, __VA_ARGS__)
#define tc_log_warning(g, ...) TC_LOG_(g, TC_LOG_WARNING, false, __VA_ARGS__)
#define tc_log_notice(g, ...) TC_LOG_(g, TC_LOG_NOTICE, false, __VA_ARGS__)
#define tc_log_info(g, ...) TC_LOG_(g, TC_LOG_INFO, false, __VA_ARGS__)
#define tc_log_debug(g, ...) TC_LOG_(g, TC_LOG_DEBUG, false, __VA_ARGS__)
#define tc_log_err_errno(g, ...) TC_LOG_(g, TC_LOG_ERR, true, __VA_ARGS__)
#define tc_log_warning_errno(g, ...)                                           \
	TC_LOG_(g, TC_LOG_WARNING, true, __VA_ARGS__)

/* Log and exit(1); tc_fatal appends strerror(errno), tc_fatalx does not.
 * Only at startup or on a broken invariant, never on input. */
void tc_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void tc_fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif

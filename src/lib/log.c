/* log: see include/tocsin/log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "tocsin/log.h"

#define LOG_LINE_MAX 2048

static atomic_int  log_level = TC_LOG_INFO;
static atomic_bool log_debug[TC_LOG_NGROUPS];
static atomic_bool log_syslog;

static const char *const group_names[TC_LOG_NGROUPS] = {
	"base", "config", "db", "feed", "match", "outbox", "render", "pgp",
	"smtp", "ctl",
};

static const char *const level_names[] = {
	"crit", "err", "warning", "notice", "info", "debug",
};

static const int level_syslog[] = {
	LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG,
};

void
tc_log_open(const char *ident, bool use_syslog)
{
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_syslog, use_syslog);
}

enum tc_log_level
tc_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++)
		if (name != NULL && strcmp(name, level_names[i]) == 0)
			return (enum tc_log_level)i;
	return TC_LOG_INFO;
}

void
tc_log_set_level(enum tc_log_level level)
{
	atomic_store(&log_level, (int)level);
}

void
tc_log_set_debug(enum tc_log_group group, bool on)
{
	if (group < TC_LOG_NGROUPS)
		atomic_store(&log_debug[group], on);
}

int
tc_log_group_parse(const char *name)
{
	for (int i = 0; i < TC_LOG_NGROUPS; i++)
		if (strcasecmp(name, group_names[i]) == 0)
			return i;
	return -1;
}

const char *
tc_log_group_name(enum tc_log_group group)
{
	return group < TC_LOG_NGROUPS ? group_names[group] : "?";
}

bool
tc_log_enabled(enum tc_log_group group, enum tc_log_level level)
{
	if ((int)level <= atomic_load(&log_level))
		return true;
	return level == TC_LOG_DEBUG && group < TC_LOG_NGROUPS &&
	    atomic_load(&log_debug[group]);
}

static void log_vwrite(enum tc_log_group group, enum tc_log_level level,
    int errnum, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
log_vwrite(enum tc_log_group group, enum tc_log_level level, int errnum,
    const char *fmt, va_list ap)
{
	char      line[LOG_LINE_MAX];
	size_t    len = 0;
	int       n;
	struct tm tm;
	time_t    now;

	if (!atomic_load(&log_syslog)) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	n = snprintf(line + len, sizeof(line) - len, "%s %s: ",
	    level_names[level], tc_log_group_name(group));
	if (n > 0)
		len += (size_t)n < sizeof(line) - len ? (size_t)n
						      : sizeof(line) - len - 1;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < sizeof(line) - len ? (size_t)n
						      : sizeof(line) - len - 1;
	if (errnum != 0 && len < sizeof(line) - 1) {
		char eb[128];
		n = snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror_r(errnum, eb, sizeof(eb)));
		if (n > 0)
			len += (size_t)n < sizeof(line) - len
			    ? (size_t)n
			    : sizeof(line) - len - 1;
	}
	/* One event, one line: a newline inside the text would forge a
	 * second log event, so any control character is replaced. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (atomic_load(&log_syslog)) {
		line[len] = '\0';
		syslog(level_syslog[level], "%s", line);
		return;
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}

void
tc_log_write(enum tc_log_group group, enum tc_log_level level,
    bool with_errno, const char *fmt, ...)
{
	va_list ap;
	int     saved = errno;

	va_start(ap, fmt);
	log_vwrite(group, level, with_errno ? saved : 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
tc_fatal(const char *fmt, ...)
{
	va_list ap;
	int     saved = errno;

	va_start(ap, fmt);
	log_vwrite(TC_LOG_BASE, TC_LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
tc_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(TC_LOG_BASE, TC_LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* err: error codes and messages.  See include/tocsin/err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/err.h"
#include "tocsin/log.h"

const char *
tc_strerror(int code)
{
	static __thread char buf[64];

	switch (code) {
	case 0:
		return "success";
	case TC_EINPUT:
		return "invalid input";
	case TC_ETLP:
		return "forbidden by TLP policy";
	case TC_EKEY:
		return "no usable PGP key";
	case TC_ETEMPFAIL:
		return "temporary failure";
	case TC_EPERMFAIL:
		return "permanent failure";
	case TC_EBUG:
		return "internal error (bug)";
	case TC_ELIMIT:
		return "limit exceeded";
	case TC_ESCHEMA:
		return "unknown database schema version";
	case TC_ECANCELED:
		return "cancelled";
	case TC_EDB:
		return "database error";
	case TC_ENOTFOUND:
		return "not found";
	case TC_EDENIED:
		return "permission denied";
	}
	if (code < 0 && code > -1000)
		return strerror_r(-code, buf, sizeof(buf));
	if (snprintf(buf, sizeof(buf), "unknown error %d", code) < 0)
		return "unknown error";
	return buf;
}

int
tc_err_set(struct tc_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int     n;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	else if ((size_t)n >= sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	return code;
}

void
tc_err_clear(struct tc_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

void
tc__require_fail(const char *expr, const char *file, int line)
{
	tc_log_crit(TC_LOG_BASE, "requirement failed: %s at %s:%d", expr, file,
	    line);
	abort();
}

bool
tc__assert_fail(const char *expr, const char *file, int line)
{
	const char *dbg = getenv("TOCSIN_DEBUG_ABORT");

	tc_log_err(TC_LOG_BASE, "assertion failed: %s at %s:%d", expr, file,
	    line);
	if (dbg != NULL && strcmp(dbg, "1") == 0)
		abort();
	return true;
}

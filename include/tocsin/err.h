/* err: error codes and the human-facing error record.
 *
 * Results are int: >= 0 success (0 or a count), < 0 a TC_E* code, which is a
 * negated errno or one of ours below -1000.  Errors a human must fix (bad
 * config, bad feed line) also fill a struct tc_err: code, where, message.
 * Pure module; any thread. */
#ifndef TOCSIN_ERR_H
#define TOCSIN_ERR_H

#include <stdbool.h>
#include <stddef.h>

enum {
	TC_EINPUT = -1001,     /* malformed input: feed, YAML, CLI argument */
	TC_ETLP = -1002,       /* TLP policy forbids this */
	TC_EKEY = -1003,       /* no usable PGP key */
	TC_ETEMPFAIL = -1004,  /* temporary failure, retry later */
	TC_EPERMFAIL = -1005,  /* permanent failure */
	TC_EBUG = -1006,       /* broken invariant */
	TC_ELIMIT = -1007,     /* a named limit was exceeded */
	TC_ESCHEMA = -1008,    /* database schema version unknown */
	TC_ECANCELED = -1009,  /* work cancelled before it ran */
	TC_EDB = -1010,        /* database error */
	TC_ENOTFOUND = -1011,  /* named object does not exist */
	TC_EDENIED = -1012,    /* caller not allowed */
};

#define TC_ERR_MSG_MAX 512

struct tc_err {
	int  code;
	char msg[TC_ERR_MSG_MAX]; /* "file:line: field: what is wrong" */
};

/* Human-readable text for a TC_E* or negated errno.  Never NULL. */
const char *tc_strerror(int code);

/* Fill `err` (may be NULL) and return `code`, so that a parser can end with
 * `return tc_err_set(err, TC_EINPUT, "%s:%zu: ...", ...)`.  A message that
 * does not fit is truncated with "...". */
int tc_err_set(struct tc_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset `err` to "no error". */
void tc_err_clear(struct tc_err *err);

/* Always-on invariant check: logs and aborts. */
#define TC_REQUIRE(x)                                                          \
	do {                                                                   \
		if (!(x))                                                      \
			tc__require_fail(#x, __FILE__, __LINE__);              \
	} while (0)

/* Recoverable invariant check: logs; aborts only in debug builds
 * (TOCSIN_DEBUG_ABORT=1 in the environment); returns true when `x` failed,
 * so callers write `if (tc_fails_assert(x)) return TC_EBUG;`. */
#define tc_fails_assert(x) (!(x) && tc__assert_fail(#x, __FILE__, __LINE__))

void tc__require_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));
bool tc__assert_fail(const char *expr, const char *file, int line);

#endif

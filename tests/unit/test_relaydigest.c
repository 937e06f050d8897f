/* Unit tests for the pure part of relaydigest: UTC times (every accepted
 * form, every refusal) and the digest periods (boundaries, exactly at a
 * boundary, before the time of day, schedules other than a day). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/relaydigest.h"

/* 2026-12-01T00:00:00Z */
#define DEC1 INT64_C(1796083200)

static int64_t
t_ok(const char *s)
{
	struct tc_err err;
	int64_t       t = -1;

	if (tc_relaydigest_parse_time(s, &t, &err) != 0)
		fail_msg("%s: %s", s, err.msg);
	return t;
}

static void
t_bad(const char *s)
{
	struct tc_err err;
	int64_t       t = 42;

	assert_int_equal(tc_relaydigest_parse_time(s, &t, &err), TC_EINPUT);
	assert_int_equal(t, 42); /* untouched */
	assert_non_null(strstr(err.msg, "is not a UTC time"));
}

static void
test_parse_time(void **state)
{
	(void)state;
	assert_int_equal(t_ok("2026-12-01"), DEC1);
	assert_int_equal(t_ok("2026-12-01Z"), DEC1);
	assert_int_equal(t_ok("2026-12-01T06:00"), DEC1 + 6 * 3600);
	assert_int_equal(t_ok("2026-12-01T06:00Z"), DEC1 + 6 * 3600);
	assert_int_equal(t_ok("2026-12-01 06:00:59"), DEC1 + 6 * 3600 + 59);
	assert_int_equal(t_ok("2026-12-01T23:59:59Z"), DEC1 + 86399);
	assert_int_equal(t_ok("2000-01-01"), INT64_C(946684800));
	/* Leap days. */
	assert_int_equal(t_ok("2028-02-29") - t_ok("2028-02-28"), 86400);
	assert_int_equal(t_ok("2000-02-29") - t_ok("2000-02-28"), 86400);
	t_bad("2026-02-29");
	t_bad("2100-02-29");
	t_bad("");
	t_bad("Z");
	t_bad("2026-12-1");
	t_bad("2026/12/01");
	t_bad("2026-13-01");
	t_bad("2026-00-01");
	t_bad("2026-04-31");
	t_bad("2026-12-00");
	t_bad("1999-12-31");
	t_bad("2026-12-01T24:00");
	t_bad("2026-12-01T06:60");
	t_bad("2026-12-01T06:00:60");
	t_bad("2026-12-01T6:00");
	t_bad("2026-12-01X06:00");
	t_bad("2026-12-01T06:00+01:00");
	t_bad("2026-12-01T06:00ZZ");
	t_bad("+026-12-01");
	t_bad("2026-12-01T06-00");
}

static void
test_format_time(void **state)
{
	char b[TC_RELAYDIGEST_TIME_MAX];

	(void)state;
	tc_relaydigest_format_time(DEC1 + 6 * 3600 + 7, b, sizeof(b));
	assert_string_equal(b, "2026-12-01T06:00:07Z");
	/* Round trip. */
	assert_int_equal(t_ok(b), DEC1 + 6 * 3600 + 7);
	assert_int_equal(sizeof(b), strlen("2026-12-01T06:00:07Z") + 1);
}

static void
test_periods(void **state)
{
	int64_t from, to;

	(void)state;
	/* Daily at 06:00: at 21:30 the last period ended this morning. */
	tc_relaydigest_last_period(DEC1 + 21 * 3600 + 1800, 86400, 6 * 3600,
	    &from, &to);
	assert_int_equal(to, DEC1 + 6 * 3600);
	assert_int_equal(from, DEC1 - 18 * 3600);
	assert_int_equal(tc_relaydigest_next(DEC1 + 21 * 3600, 86400, 6 * 3600),
	    DEC1 + 30 * 3600);
	/* At 03:00 it ended yesterday morning. */
	tc_relaydigest_last_period(DEC1 + 3 * 3600, 86400, 6 * 3600, &from,
	    &to);
	assert_int_equal(to, DEC1 - 18 * 3600);
	assert_int_equal(tc_relaydigest_next(DEC1 + 3 * 3600, 86400, 6 * 3600),
	    DEC1 + 6 * 3600);
	/* Exactly at the boundary: that period is complete; the next run is
	 * a whole schedule later, never now again. */
	tc_relaydigest_last_period(DEC1 + 6 * 3600, 86400, 6 * 3600, &from,
	    &to);
	assert_int_equal(to, DEC1 + 6 * 3600);
	assert_int_equal(tc_relaydigest_next(DEC1 + 6 * 3600, 86400, 6 * 3600),
	    DEC1 + 30 * 3600);
	/* One second before it. */
	assert_int_equal(
	    tc_relaydigest_next(DEC1 + 6 * 3600 - 1, 86400, 6 * 3600),
	    DEC1 + 6 * 3600);
	/* Every 6 hours from 06:00: 00:00 06:00 12:00 18:00. */
	tc_relaydigest_last_period(DEC1 + 13 * 3600, 6 * 3600, 6 * 3600, &from,
	    &to);
	assert_int_equal(to, DEC1 + 12 * 3600);
	assert_int_equal(from, DEC1 + 6 * 3600);
	tc_relaydigest_last_period(DEC1 + 1, 6 * 3600, 6 * 3600, &from, &to);
	assert_int_equal(to, DEC1);
	/* Weekly: periods are contiguous, each one schedule long. */
	tc_relaydigest_last_period(DEC1, 7 * 86400, 0, &from, &to);
	assert_true(to <= DEC1 && DEC1 - to < 7 * 86400);
	assert_int_equal(to - from, 7 * 86400);
	assert_int_equal(tc_relaydigest_next(DEC1, 7 * 86400, 0),
	    to + 7 * 86400);
	/* Before the epoch's first boundary (floor, not truncation). */
	tc_relaydigest_last_period(3600, 86400, 6 * 3600, &from, &to);
	assert_int_equal(to, 6 * 3600 - 86400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_periods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

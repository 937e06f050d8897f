/* retry: backoff bounds, doubling, the cap, jitter range, attempt limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tocsin/retry.h"

static void
test_doubling_and_cap(void **state)
{
	struct tc_retry_policy p = { 60, 3600, 12 };

	(void)state;
	/* The top of the jitter range is the plain exponential delay. */
	assert_int_equal(tc_retry_delay_s(&p, 1, UINT32_MAX), 60);
	assert_int_equal(tc_retry_delay_s(&p, 2, UINT32_MAX), 120);
	assert_int_equal(tc_retry_delay_s(&p, 3, UINT32_MAX), 240);
	assert_int_equal(tc_retry_delay_s(&p, 6, UINT32_MAX), 1920);
	assert_int_equal(tc_retry_delay_s(&p, 7, UINT32_MAX), 3600);
	assert_int_equal(tc_retry_delay_s(&p, 1000, UINT32_MAX), 3600);
	/* The bottom is half of it. */
	assert_int_equal(tc_retry_delay_s(&p, 1, 0), 30);
	assert_int_equal(tc_retry_delay_s(&p, 7, 0), 1800);
	/* Attempt 0 is treated as the first. */
	assert_int_equal(tc_retry_delay_s(&p, 0, UINT32_MAX), 60);
}

static void
test_jitter_range(void **state)
{
	struct tc_retry_policy p = { 10, 100, 5 };
	uint32_t               x = 2463534242u;
	unsigned               seen_lo = 1000, seen_hi = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		unsigned d;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d = tc_retry_delay_s(&p, 3, x); /* 40 s before jitter */
		assert_true(d >= 20 && d <= 40);
		seen_lo = d < seen_lo ? d : seen_lo;
		seen_hi = d > seen_hi ? d : seen_hi;
	}
	/* The spread is really used, not a constant. */
	assert_true(seen_lo <= 21);
	assert_true(seen_hi >= 39);
}

static void
test_small_base_never_zero(void **state)
{
	struct tc_retry_policy p = { 1, 1, 3 };

	(void)state;
	for (unsigned a = 1; a < 10; a++) {
		assert_int_equal(tc_retry_delay_s(&p, a, 0), 1);
		assert_int_equal(tc_retry_delay_s(&p, a, UINT32_MAX), 1);
	}
	p.base_s = 0; /* treated as 1 */
	assert_int_equal(tc_retry_delay_s(&p, 1, 12345), 1);
}

static void
test_attempt_limit(void **state)
{
	struct tc_retry_policy p = { 60, 3600, 3 };

	(void)state;
	assert_true(tc_retry_may_retry(&p, 1));
	assert_true(tc_retry_may_retry(&p, 2));
	assert_false(tc_retry_may_retry(&p, 3));
	assert_false(tc_retry_may_retry(&p, 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling_and_cap),
		cmocka_unit_test(test_jitter_range),
		cmocka_unit_test(test_small_base_never_zero),
		cmocka_unit_test(test_attempt_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

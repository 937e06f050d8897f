/* Unit tests for the base modules: buf, str, esc, tlp, err. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"
#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/str.h"
#include "tocsin/tlp.h"

static void
test_buf_grows_and_stays_terminated(void **state)
{
	struct tc_buf b = TC_BUF_INIT;
	(void)state;

	assert_string_equal(tc_buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		tc_buf_printf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_true(tc_str_has_prefix(b.data, "0,1,2,"));
	assert_true(tc_str_has_suffix(b.data, "998,999,"));
	tc_buf_append(&b, "\0x", 2); /* binary-safe */
	assert_int_equal(b.data[b.len - 2], '\0');
	assert_int_equal(b.data[b.len], '\0');
	tc_buf_reset(&b);
	assert_int_equal(b.len, 0);
	tc_buf_deinit(&b);
	assert_null(b.data);
}

static void
test_buf_steal(void **state)
{
	struct tc_buf b = TC_BUF_INIT;
	size_t        len;
	char         *s;
	(void)state;

	s = tc_buf_steal(&b, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	tc_buf_puts(&b, "abc");
	s = tc_buf_steal(&b, &len);
	assert_string_equal(s, "abc");
	assert_int_equal(len, 3);
	assert_null(b.data);
	free(s);
}

static void
test_strlcpy_truncation_is_error(void **state)
{
	char d[4];
	(void)state;

	assert_int_equal(tc_strlcpy(d, "abc", sizeof(d)), 0);
	assert_string_equal(d, "abc");
	assert_int_equal(tc_strlcpy(d, "abcd", sizeof(d)), -E2BIG);
	assert_string_equal(d, "");
}

static void
test_parse_uint_bounds(void **state)
{
	uint64_t v = 7;
	(void)state;

	assert_int_equal(tc_parse_uint("16", 1, 16, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(tc_parse_uint("17", 1, 16, &v), TC_EINPUT);
	assert_int_equal(tc_parse_uint("0", 1, 16, &v), TC_EINPUT);
	assert_int_equal(tc_parse_uint("", 0, 16, &v), TC_EINPUT);
	assert_int_equal(tc_parse_uint("-1", 0, 16, &v), TC_EINPUT);
	assert_int_equal(tc_parse_uint("+1", 0, 16, &v), TC_EINPUT);
	assert_int_equal(tc_parse_uint("1x", 0, 16, &v), TC_EINPUT);
	assert_int_equal(tc_parse_uint("18446744073709551615", 0, UINT64_MAX,
			     &v),
	    0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(tc_parse_uint("18446744073709551616", 0, UINT64_MAX,
			     &v),
	    TC_EINPUT);
}

static void
test_utf8_validation(void **state)
{
	(void)state;
	assert_true(tc_utf8_is_valid("caf\xc3\xa9 \xe2\x82\xac", 9));
	assert_false(tc_utf8_is_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(tc_utf8_is_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(tc_utf8_is_valid("\xe2\x82", 2));         /* truncated */
	assert_false(tc_utf8_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(tc_utf8_is_valid("\xff", 1));
}

static void
test_esc_neutralises_controls(void **state)
{
	(void)state;
	assert_string_equal(tc_esc("a\r\nb"), "a\\x0d\\x0ab");
	assert_string_equal(tc_esc("x\\y"), "x\\x5cy");
	assert_string_equal(tc_esc("caf\xc3\xa9"), "caf\xc3\xa9");
	assert_string_equal(tc_esc("\xff\x1b[31m"), "\\xff\\x1b[31m");
	assert_string_equal(tc_esc(NULL), "(null)");
}

static void
test_esc_long_input_is_cut(void **state)
{
	char        in[2000];
	const char *out;
	(void)state;

	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	out = tc_esc(in);
	assert_true(strlen(out) < TC_ESC_MAX);
	assert_true(tc_str_has_suffix(out, "..."));
}

static void
test_tlp_parse_and_format(void **state)
{
	enum tc_tlp t;
	(void)state;

	assert_int_equal(tc_tlp_parse("TLP:AMBER+STRICT", &t), 0);
	assert_int_equal(t, TC_TLP_AMBER_STRICT);
	assert_string_equal(tc_tlp_label(t), "TLP:AMBER+STRICT");
	assert_int_equal(tc_tlp_parse("tlp:white", &t), 0);
	assert_int_equal(t, TC_TLP_CLEAR);
	assert_int_equal(tc_tlp_parse("WHITE", &t), 0);
	assert_int_equal(t, TC_TLP_CLEAR);
	assert_int_equal(tc_tlp_parse("TLP: amber", &t), 0);
	assert_int_equal(t, TC_TLP_AMBER);
	assert_int_equal(tc_tlp_parse("red", &t), 0);
	assert_int_equal(t, TC_TLP_RED);
	assert_int_equal(tc_tlp_parse("TLP:YELLOW", &t), TC_EINPUT);
	assert_int_equal(tc_tlp_parse("TLP:EX:CHR", &t), TC_EINPUT);
	assert_int_equal(tc_tlp_parse("TLP:AMBER extra", &t), TC_EINPUT);
	assert_int_equal(tc_tlp_parse("", &t), TC_EINPUT);
	assert_string_equal(tc_tlp_colour(TC_TLP_RED), "#FF2B2B");
	assert_string_equal(tc_tlp_colour(TC_TLP_AMBER_STRICT), "#FFC000");
}

static void
test_tlp_policy(void **state)
{
	(void)state;
	assert_int_equal(tc_tlp_max(TC_TLP_GREEN, TC_TLP_AMBER), TC_TLP_AMBER);
	assert_int_equal(tc_tlp_max(TC_TLP_RED, TC_TLP_AMBER), TC_TLP_RED);
	assert_true(tc_tlp_allows(TC_TLP_AMBER, TC_TLP_GREEN));
	assert_false(tc_tlp_allows(TC_TLP_AMBER, TC_TLP_AMBER_STRICT));
	assert_true(tc_tlp_needs_encryption(TC_TLP_AMBER));
	assert_false(tc_tlp_needs_encryption(TC_TLP_GREEN));
}

static void
test_err_set_truncates(void **state)
{
	struct tc_err err;
	char          big[1000];
	(void)state;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tc_err_set(&err, TC_EINPUT, "f:1: %s", big),
	    TC_EINPUT);
	assert_int_equal(err.code, TC_EINPUT);
	assert_true(tc_str_has_suffix(err.msg, "..."));
	assert_int_equal(tc_err_set(NULL, TC_EKEY, "x"), TC_EKEY);
	assert_string_equal(tc_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(tc_strerror(TC_ETLP), "forbidden by TLP policy");
}

static void
test_log_level_names(void **state)
{
	(void)state;
	assert_int_equal(tc_log_level_parse("crit"), TC_LOG_CRIT);
	assert_int_equal(tc_log_level_parse("warning"), TC_LOG_WARNING);
	assert_int_equal(tc_log_level_parse("debug"), TC_LOG_DEBUG);
	assert_int_equal(tc_log_level_parse("loud"), TC_LOG_INFO);
	assert_int_equal(tc_log_level_parse(NULL), TC_LOG_INFO);
}

/* tc_esc() keeps TC_ESC_SLOTS results alive, so one log line may escape
 * several values. */
static void
test_esc_slots(void **state)
{
	const char *a, *b, *c, *d;

	(void)state;
	a = tc_esc("one");
	b = tc_esc("two\n");
	c = tc_esc("three");
	d = tc_esc("four");
	assert_string_equal(a, "one");
	assert_string_equal(b, "two\\x0a");
	assert_string_equal(c, "three");
	assert_string_equal(d, "four");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_stays_terminated),
		cmocka_unit_test(test_buf_steal),
		cmocka_unit_test(test_strlcpy_truncation_is_error),
		cmocka_unit_test(test_parse_uint_bounds),
		cmocka_unit_test(test_utf8_validation),
		cmocka_unit_test(test_esc_neutralises_controls),
		cmocka_unit_test(test_esc_long_input_is_cut),
		cmocka_unit_test(test_tlp_parse_and_format),
		cmocka_unit_test(test_tlp_policy),
		cmocka_unit_test(test_err_set_truncates),
		cmocka_unit_test(test_log_level_names),
		cmocka_unit_test(test_esc_slots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

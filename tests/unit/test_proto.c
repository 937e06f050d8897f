/* Unit tests for proto: framing, versions, limits, bad frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/proto.h"

struct lines {
	int  n;
	char got[4][64];
};

static int
collect(const char *line, size_t len, void *arg)
{
	struct lines *l = arg;

	assert_true(l->n < 4);
	assert_true(len < sizeof(l->got[0]));
	memcpy(l->got[l->n], line, len);
	l->got[l->n][len] = '\0';
	l->n++;
	return 0;
}

static void
test_reader_splits_across_reads(void **state)
{
	struct tc_proto_reader r;
	struct lines           l = { 0 };
	struct tc_err          err;
	(void)state;

	tc_proto_reader_init(&r);
	assert_int_equal(tc_proto_reader_feed(&r, "ab", 2, collect, &l, &err),
	    0);
	assert_int_equal(l.n, 0);
	assert_int_equal(tc_proto_reader_feed(&r, "c\nde\n\nf", 7, collect, &l,
			     &err),
	    0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.got[0], "abc");
	assert_string_equal(l.got[1], "de");
	assert_string_equal(l.got[2], "");
	assert_int_equal(tc_proto_reader_feed(&r, "g\n", 2, collect, &l, &err),
	    0);
	assert_string_equal(l.got[3], "fg");
	tc_proto_reader_deinit(&r);
}

static void
test_reader_line_limit(void **state)
{
	struct tc_proto_reader r;
	struct lines           l = { 0 };
	struct tc_err          err;
	char                  *big = malloc(TC_PROTO_LINE_MAX + 1);
	(void)state;

	memset(big, 'x', TC_PROTO_LINE_MAX + 1);
	tc_proto_reader_init(&r);
	/* Exactly at the limit is fine. */
	assert_int_equal(tc_proto_reader_feed(&r, big, TC_PROTO_LINE_MAX,
			     collect, &l, &err),
	    0);
	assert_int_equal(tc_proto_reader_feed(&r, "y", 1, collect, &l, &err),
	    TC_ELIMIT);
	assert_non_null(strstr(err.msg, "longer than"));
	tc_proto_reader_deinit(&r);
	free(big);
}

static void
test_request_roundtrip(void **state)
{
	struct tc_buf           b = TC_BUF_INIT;
	struct tc_proto_request req;
	struct tc_err           err;
	json_t                 *args = json_pack("{s:s}", "ref", "X-2026-000001");
	(void)state;

	tc_proto_request_format(&b, 42, "advisory.approve", args);
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_int_equal(
	    tc_proto_request_parse(b.data, b.len - 1, &req, &err), 0);
	assert_int_equal(req.id, 42);
	assert_string_equal(req.cmd, "advisory.approve");
	assert_string_equal(json_string_value(json_object_get(req.args, "ref")),
	    "X-2026-000001");
	tc_proto_request_deinit(&req);
	json_decref(args);
	tc_buf_deinit(&b);
}

static void
check_bad_request(const char *line, int code, const char *msg)
{
	struct tc_proto_request req;
	struct tc_err           err;

	assert_int_equal(tc_proto_request_parse(line, strlen(line), &req, &err),
	    code);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", err.msg, msg);
	assert_null(req.args);
}

static void
test_bad_requests(void **state)
{
	(void)state;
	check_bad_request("{\"v\":2,\"id\":1,\"cmd\":\"x\"}", TC_EPERMFAIL,
	    "version 2");
	check_bad_request("{\"id\":1,\"cmd\":\"x\"}", TC_EINPUT, "\"v\"");
	check_bad_request("{\"v\":1,\"cmd\":\"x\"}", TC_EINPUT, "\"id\"");
	check_bad_request("{\"v\":1,\"id\":-1,\"cmd\":\"x\"}", TC_EINPUT,
	    "\"id\"");
	check_bad_request("{\"v\":1,\"id\":1,\"cmd\":\"X;rm\"}", TC_EINPUT,
	    "\"cmd\"");
	check_bad_request("{\"v\":1,\"id\":1,\"cmd\":\"x\",\"args\":[]}",
	    TC_EINPUT, "\"args\"");
	check_bad_request("[1]", TC_EINPUT, "not a JSON object");
	check_bad_request("{\"v\":1,", TC_EINPUT, "control frame");
	check_bad_request("{\"v\":1,\"v\":1,\"id\":1,\"cmd\":\"x\"}", TC_EINPUT,
	    "duplicate");
}

static void
test_response_roundtrip(void **state)
{
	struct tc_buf            b = TC_BUF_INIT;
	struct tc_proto_response r;
	struct tc_err            err;
	json_t                  *res = json_pack("{s:i}", "recipients", 12);
	(void)state;

	tc_proto_response_format(&b, 3, true, res, NULL);
	assert_int_equal(tc_proto_response_parse(b.data, b.len - 1, &r, &err),
	    0);
	assert_true(r.ok);
	assert_int_equal(json_integer_value(json_object_get(r.result,
			     "recipients")),
	    12);
	assert_null(r.error);
	tc_proto_response_deinit(&r);
	tc_buf_reset(&b);
	/* An error message that is not UTF-8 still says "failed". */
	tc_proto_response_format(&b, 4, false, NULL, "bad \xff");
	assert_int_equal(tc_proto_response_parse(b.data, b.len - 1, &r, &err),
	    0);
	assert_false(r.ok);
	assert_non_null(strstr(r.error, "not valid UTF-8"));
	tc_proto_response_deinit(&r);
	json_decref(res);
	tc_buf_deinit(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_splits_across_reads),
		cmocka_unit_test(test_reader_line_limit),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_response_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for fetch against a tiny HTTP server on 127.0.0.1 run by the same
 * libuv loop: conditional GET (ETag → 304), size limit, HTTP errors sorted
 * into temporary and permanent, protocols other than http(s) refused, a
 * server that never answers times out, and close cancels. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <cmocka.h>

#include "tocsin/buf.h"
#include "tocsin/fetch.h"
#include "tocsin/mem.h"
#include "http_server.h"

static int server_port;

/* ---- the tests ---------------------------------------------------------- */

struct outcome {
	int                    status;
	int                    calls;
	struct tc_fetch_result res;
};

static void
on_fetched(int status, const struct tc_fetch_result *res, void *arg)
{
	struct outcome *o = arg;

	o->status = status;
	o->calls++;
	o->res = *res;
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		http_server_close_handle(h);
}

/* Run one transfer of `path` to completion; returns the outcome. */
static struct outcome
fetch_once(const char *path, const char *etag, uint64_t max_bytes,
    unsigned timeout_s, const char *dest)
{
	uv_loop_t           loop;
	struct tc_fetch    *f;
	struct outcome      o = { 0 };
	struct tc_err       err;
	char                url[128];
	struct tc_fetch_req req = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	server_port = http_server_start(&loop);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", server_port, path);
	req.url = url;
	req.dest_path = dest;
	req.etag = etag;
	req.max_bytes = max_bytes;
	req.timeout_s = timeout_s;
	assert_int_equal(tc_fetch_new(&loop, &f), 0);
	assert_int_equal(tc_fetch_start(f, &req, on_fetched, &o, &err), 0);
	while (o.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	tc_fetch_close(f, NULL, NULL);
	uv_walk(&loop, close_walk, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(o.calls, 1);
	return o;
}

static bool
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static char dest[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dest, sizeof(dest), "/tmp/tocsin-fetch-%d.part", getpid());
	unlink(dest);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(dest);
	return 0;
}

static void
test_get_then_not_modified(void **state)
{
	struct outcome o;
	FILE          *fp;
	char           body[32] = { 0 };
	(void)state;

	o = fetch_once("/feed.csv", NULL, 0, 10, dest);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.res.http_code, 200);
	assert_false(o.res.not_modified);
	assert_int_equal(o.res.bytes, 9);
	assert_string_equal(o.res.etag, "\"v1\"");
	assert_string_equal(o.res.last_modified,
	    "Mon, 23 Nov 2026 08:00:00 GMT");
	fp = fopen(dest, "r");
	assert_non_null(fp);
	assert_int_equal(fread(body, 1, sizeof(body) - 1, fp), 9);
	fclose(fp);
	assert_string_equal(body, "ip,port\r\n");
	unlink(dest);

	o = fetch_once("/feed.csv", "\"v1\"", 0, 10, dest);
	assert_string_equal(http_server_last_if_none_match, "\"v1\"");
	assert_int_equal(o.status, 0);
	assert_int_equal(o.res.http_code, 304);
	assert_true(o.res.not_modified);
	assert_false(exists(dest)); /* nothing left behind */
}

static void
test_size_limit(void **state)
{
	struct outcome o;
	(void)state;

	o = fetch_once("/big", NULL, 1000, 10, dest);
	assert_int_equal(o.status, TC_ELIMIT);
	assert_non_null(strstr(o.res.error, "1000 bytes"));
	assert_false(exists(dest));
	o = fetch_once("/chunked-big", NULL, 1000, 10, dest);
	assert_int_equal(o.status, TC_ELIMIT);
	assert_false(exists(dest));
}

static void
test_http_errors(void **state)
{
	struct outcome o;
	(void)state;

	o = fetch_once("/down", NULL, 0, 10, dest);
	assert_int_equal(o.status, TC_ETEMPFAIL);
	assert_string_equal(o.res.error, "HTTP status 503");
	assert_false(exists(dest));
	o = fetch_once("/nope", NULL, 0, 10, dest);
	assert_int_equal(o.status, TC_EPERMFAIL);
	assert_int_equal(o.res.http_code, 404);
	o = fetch_once("/ftp", NULL, 0, 10, dest);
	assert_int_equal(o.status, TC_EPERMFAIL);
	assert_false(exists(dest));
}

static void
test_timeout(void **state)
{
	struct outcome o;
	(void)state;

	o = fetch_once("/silent", NULL, 0, 1, dest);
	assert_int_equal(o.status, TC_ETEMPFAIL);
	assert_non_null(strstr(o.res.error, "imeout"));
	assert_false(exists(dest));
}

static void
test_refusals_before_start(void **state)
{
	uv_loop_t           loop;
	struct tc_fetch    *f;
	struct tc_err       err;
	struct outcome      o = { 0 };
	struct tc_fetch_req req = { .url = "file:///etc/passwd",
		.dest_path = dest };
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(tc_fetch_new(&loop, &f), 0);
	assert_int_equal(tc_fetch_start(f, &req, on_fetched, &o, &err),
	    TC_EPERMFAIL);
	assert_non_null(strstr(err.msg, "only http:// and https://"));
	req.url = "http://127.0.0.1:1/x";
	req.etag = "\"v1\"\r\nX-Evil: 1";
	assert_int_equal(tc_fetch_start(f, &req, on_fetched, &o, &err),
	    TC_EINPUT);
	req.etag = NULL;
	/* An existing destination is never overwritten. */
	fclose(fopen(dest, "w"));
	assert_true(tc_fetch_start(f, &req, on_fetched, &o, &err) < 0);
	unlink(dest);
	tc_fetch_close(f, NULL, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(o.calls, 0);
}

static void
test_close_cancels(void **state)
{
	uv_loop_t           loop;
	struct tc_fetch    *f;
	struct tc_err       err;
	struct outcome      o = { 0 };
	char                url[128];
	struct tc_fetch_req req = { 0 };
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	server_port = http_server_start(&loop);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/silent", server_port);
	req.url = url;
	req.dest_path = dest;
	assert_int_equal(tc_fetch_new(&loop, &f), 0);
	assert_int_equal(tc_fetch_start(f, &req, on_fetched, &o, &err), 0);
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(tc_fetch_active(f), 1);
	tc_fetch_close(f, NULL, NULL);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, TC_ECANCELED);
	assert_false(exists(dest));
	uv_walk(&loop, close_walk, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_then_not_modified,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_before_start,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_cancels, setup,
		    teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

/* Unit tests for metrics: exposition format, label escaping, limits, and the
 * loopback-only HTTP endpoint. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "tocsin/metrics.h"

static int
reset(void **state)
{
	(void)state;
	tc_metrics_reset();
	return 0;
}

static void
test_format_and_escape(void **state)
{
	struct tc_buf      b = TC_BUF_INIT;
	const char *const  sent[] = { "state", "sent", NULL };
	const char *const  held[] = { "reason", "key \"X\" expired\nnext", NULL };
	(void)state;

	assert_int_equal(tc_metrics_declare("tocsin_messages",
			     TC_METRIC_GAUGE, "Messages by state."),
	    0);
	assert_int_equal(tc_metrics_declare("tocsin_held_total",
			     TC_METRIC_COUNTER, "Messages held, by reason."),
	    0);
	tc_metrics_set("tocsin_messages", sent, 12);
	tc_metrics_add("tocsin_held_total", held, 1);
	tc_metrics_add("tocsin_held_total", held, 2);
	tc_metrics_add("undeclared", NULL, 1); /* ignored */
	assert_true(tc_metrics_get("tocsin_held_total", held) == 3);
	tc_metrics_format(&b);
	assert_string_equal(b.data,
	    "# HELP tocsin_messages Messages by state.\n"
	    "# TYPE tocsin_messages gauge\n"
	    "tocsin_messages{state=\"sent\"} 12\n"
	    "# HELP tocsin_held_total Messages held, by reason.\n"
	    "# TYPE tocsin_held_total counter\n"
	    "tocsin_held_total{reason=\"key \\\"X\\\" expired\\nnext\"} 3\n");
	tc_buf_deinit(&b);
}

static void
test_series_limit(void **state)
{
	char               v[16];
	const char *const  l[] = { "n", v, NULL };
	(void)state;

	tc_metrics_declare("m", TC_METRIC_COUNTER, "x");
	for (int i = 0; i < TC_METRICS_MAX + 10; i++) {
		snprintf(v, sizeof(v), "%d", i);
		tc_metrics_add("m", l, 1);
	}
	snprintf(v, sizeof(v), "%d", TC_METRICS_MAX - 1);
	assert_true(tc_metrics_get("m", l) == 1);
	snprintf(v, sizeof(v), "%d", TC_METRICS_MAX + 5);
	assert_true(tc_metrics_get("m", l) == 0); /* dropped, not crashed */
}

struct client {
	int  port;
	char req[128];
	char resp[4096];
	uv_async_t *done;
};

static void *
client_main(void *arg)
{
	struct client     *c = arg;
	struct sockaddr_in a = { .sin_family = AF_INET };
	int                fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t             off = 0;
	ssize_t            n;

	a.sin_port = htons((uint16_t)c->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, c->req, strlen(c->req)) > 0)
		while ((n = read(fd, c->resp + off,
			    sizeof(c->resp) - off - 1)) > 0)
			off += (size_t)n;
	c->resp[off] = '\0';
	close(fd);
	uv_async_send(c->done);
	return NULL;
}

static void
on_done(uv_async_t *a)
{
	uv_close((uv_handle_t *)a, NULL);
	uv_stop(a->loop); /* the listener keeps the loop alive */
}

static void
request(int port, const char *req, char *resp, size_t size)
{
	uv_loop_t *loop = uv_default_loop();
	uv_async_t done;
	pthread_t  t;
	struct client c = { .port = port, .done = &done };

	snprintf(c.req, sizeof(c.req), "%s", req);
	uv_async_init(loop, &done, on_done);
	pthread_create(&t, NULL, client_main, &c);
	uv_run(loop, UV_RUN_DEFAULT); /* until the client is done */
	uv_run(loop, UV_RUN_NOWAIT);  /* finish closing `done` */
	pthread_join(t, NULL);
	snprintf(resp, size, "%s", c.resp);
}

static void
test_endpoint(void **state)
{
	struct tc_metrics_http *m;
	struct tc_err           err;
	char                    resp[4096];
	const char *const       l[] = { "state", "queued", NULL };
	(void)state;

	tc_metrics_declare("tocsin_messages", TC_METRIC_GAUGE, "By state.");
	tc_metrics_set("tocsin_messages", l, 5);
	assert_int_equal(tc_metrics_http_start(uv_default_loop(),
			     "127.0.0.1:0", &m, &err),
	    0);
	request(tc_metrics_http_port(m), "GET /metrics HTTP/1.0\r\n\r\n",
	    resp, sizeof(resp));
	assert_non_null(strstr(resp, "HTTP/1.0 200 OK\r\n"));
	assert_non_null(strstr(resp, "text/plain; version=0.0.4"));
	assert_non_null(strstr(resp, "tocsin_messages{state=\"queued\"} 5\n"));
	request(tc_metrics_http_port(m), "GET /other HTTP/1.0\r\n\r\n", resp,
	    sizeof(resp));
	assert_non_null(strstr(resp, "404"));
	request(tc_metrics_http_port(m), "POST /metrics HTTP/1.0\r\n\r\n", resp,
	    sizeof(resp));
	assert_non_null(strstr(resp, "405"));
	tc_metrics_http_close(m);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(uv_default_loop()), 0);
}

static void
test_refuses_non_loopback(void **state)
{
	struct tc_metrics_http *m;
	struct tc_err           err;
	uv_loop_t               loop;
	(void)state;

	uv_loop_init(&loop);
	assert_int_equal(tc_metrics_http_start(&loop, "0.0.0.0:9464", &m, &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "not a loopback address"));
	assert_int_equal(tc_metrics_http_start(&loop, "[::]:9464", &m, &err),
	    TC_EINPUT);
	assert_int_equal(tc_metrics_http_start(&loop, "localhost", &m, &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "ADDRESS:PORT"));
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_format_and_escape, reset),
		cmocka_unit_test_setup(test_series_limit, reset),
		cmocka_unit_test_setup(test_endpoint, reset),
		cmocka_unit_test_setup(test_refuses_non_loopback, reset),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tc_metrics_reset();
	return rc;
}

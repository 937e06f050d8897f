/* Tests for puller: a configured feed is pulled at start into incoming/
 * under its "<feed>--" name, validators are kept, a temporary failure is
 * retried with backoff, and closing releases everything. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <cmocka.h>

#include "http_server.h"
#include "tocsin/mem.h"
#include "tocsin/puller.h"

struct seen {
	int  calls, ok, temp;
	char file[256];
	char etag[64];
	uv_loop_t *loop;
	int  want;
};

static void
on_pulled(const char *feed, int status, const char *file, const char *etag,
    const char *lm, const char *error, void *arg)
{
	struct seen *s = arg;

	(void)lm;
	(void)error;
	assert_non_null(feed);
	s->calls++;
	if (status == 0)
		s->ok++;
	if (status == TC_ETEMPFAIL)
		s->temp++;
	if (file)
		snprintf(s->file, sizeof(s->file), "%s", file);
	snprintf(s->etag, sizeof(s->etag), "%s", etag ? etag : "");
	if (s->calls >= s->want)
		uv_stop(s->loop);
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	http_server_close_handle(h);
}

static struct tc_config *
config(int port, const char *path)
{
	char          yaml[1024];
	struct tc_err err;
	struct tc_buf e = TC_BUF_INIT;
	struct tc_config *c;

	snprintf(yaml, sizeof(yaml),
	    "smtp: {from: a@b.example}\n"
	    "gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567}\n"
	    "paths: {spool_dir: /tmp}\n"
	    "feeds:\n"
	    "  - {name: ss, format: shadowserver, url: "
	    "\"http://127.0.0.1:%d%s\", schedule: 1h}\n"
	    "  - {name: manual}\n",
	    port, path);
	c = tc_config_parse("t.yaml", yaml, strlen(yaml), &e, &err);
	if (c == NULL)
		fail_msg("%s", tc_buf_cstr(&e));
	tc_buf_deinit(&e);
	return c;
}

static void
run(const char *path, int want, struct seen *s, char *dir, size_t dirsize)
{
	uv_loop_t         loop;
	struct tc_puller *p;
	struct tc_config *cfg;
	struct tc_err     err;
	int               port;

	snprintf(dir, dirsize, "/tmp/tocsin-pull.XXXXXX");
	assert_non_null(mkdtemp(dir));
	uv_loop_init(&loop);
	port = http_server_start(&loop);
	cfg = config(port, path);
	memset(s, 0, sizeof(*s));
	s->loop = &loop;
	s->want = want;
	assert_int_equal(tc_puller_start(&loop, cfg, dir, on_pulled, s, &p,
			     &err),
	    0);
	tc_config_unref(cfg); /* the puller keeps its own reference */
	tc_puller_set_retry_base(p, 20);
	uv_run(&loop, UV_RUN_DEFAULT);
	tc_puller_close(p, NULL, NULL);
	uv_walk(&loop, close_walk, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_pull_into_incoming(void **state)
{
	struct seen    s;
	char           dir[64], path[512];
	FILE          *fp;
	char           body[32] = { 0 };
	DIR           *d;
	struct dirent *de;
	int            files = 0;
	(void)state;

	run("/feed.csv", 1, &s, dir, sizeof(dir));
	assert_int_equal(s.ok, 1);
	assert_true(strncmp(s.file, "ss--", 4) == 0);
	assert_non_null(strstr(s.file, "-feed.csv"));
	assert_string_equal(s.etag, "\"v1\"");
	snprintf(path, sizeof(path), "%s/%s", dir, s.file);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_true(fread(body, 1, sizeof(body) - 1, fp) == 9);
	fclose(fp);
	assert_string_equal(body, "ip,port\r\n");
	/* Nothing else left behind (no .part file). */
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strstr(de->d_name, ".part"))
			files++;
	closedir(d);
	assert_int_equal(files, 1);
	unlink(path);
	rmdir(dir);
}

static void
test_temporary_failure_is_retried(void **state)
{
	struct seen s;
	char        dir[64];
	(void)state;

	/* 503: retried after 20 ms, 40 ms, ...: three calls, all temporary. */
	run("/down", 3, &s, dir, sizeof(dir));
	assert_int_equal(s.temp, 3);
	assert_int_equal(s.ok, 0);
	rmdir(dir);
}

static void
test_helpers(void **state)
{
	(void)state;
	assert_int_equal(tc_puller_feed_of("ss--20261123T010203Z-x.csv"), 2);
	assert_int_equal(tc_puller_feed_of("no-feed.csv"), 0);
	assert_int_equal(tc_puller_feed_of("--x"), 0);
	assert_int_equal(tc_puller_feed_of("a/b--x"), 0);
	assert_int_equal(tc_puller_retry_ms(60000, 1, 3600000), 60000);
	assert_int_equal(tc_puller_retry_ms(60000, 3, 3600000), 240000);
	assert_int_equal(tc_puller_retry_ms(60000, 10, 3600000), 3600000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pull_into_incoming),
		cmocka_unit_test(test_temporary_failure_is_retried),
		cmocka_unit_test(test_helpers),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

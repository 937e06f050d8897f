/* Unit tests for spool: files move to done/ or failed/ with a reason, one
 * bad file does not block the others, nothing is overwritten or lost. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tocsin/buf.h"
#include "tocsin/mem.h"
#include "tocsin/spool.h"

struct ctx {
	uv_loop_t        loop;
	uv_timer_t       guard;
	struct tc_spool *sp;
	char             dir[64];
	int              seen;
	int              expect;
	char             order[8][32];
	bool             closed;
};

static char *
pth(const struct ctx *c, const char *rel)
{
	static char p[256];

	assert_true(snprintf(p, sizeof(p), "%s/%s", c->dir, rel) <
	    (int)sizeof(p));
	return p;
}

static void
put(const struct ctx *c, const char *rel, const char *content)
{
	FILE *fp = fopen(pth(c, rel), "w");

	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static bool
exists(const struct ctx *c, const char *rel)
{
	struct stat st;

	return lstat(pth(c, rel), &st) == 0;
}

static char *
slurp(const struct ctx *c, const char *rel)
{
	static char buf[512];
	FILE       *fp = fopen(pth(c, rel), "r");
	size_t      n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
on_closed(struct tc_spool *sp, void *arg)
{
	struct ctx *c = arg;

	(void)sp;
	c->closed = true;
}

static void
on_file(struct tc_spool *sp, const char *path, const char *name, void *arg)
{
	struct ctx *c = arg;

	assert_true(strstr(path, "/incoming/") != NULL);
	assert_true(c->seen < 8);
	snprintf(c->order[c->seen], sizeof(c->order[0]), "%s", name);
	c->seen++;
	if (strcmp(name, "b.csv") == 0)
		assert_int_equal(tc_spool_finish(sp, TC_EINPUT,
				     "b.csv:3: column \"ip\": not an IP"),
		    0);
	else
		assert_int_equal(tc_spool_finish(sp, 0, NULL), 0);
	if (c->seen == c->expect) {
		uv_timer_stop(&c->guard);
		tc_spool_close(sp, on_closed, c);
	}
}

static void
on_guard(uv_timer_t *t)
{
	struct ctx *c = container_of(t, struct ctx, guard);

	/* Timed out: close so that the test fails on its asserts. */
	tc_spool_close(c->sp, on_closed, c);
}

static void
run(struct ctx *c)
{
	struct tc_err err;

	uv_timer_init(&c->loop, &c->guard);
	uv_timer_start(&c->guard, on_guard, 10000, 0);
	assert_int_equal(
	    tc_spool_start(&c->loop, c->dir, on_file, c, &c->sp, &err), 0);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&c->guard, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	assert_true(c->closed);
}

static void
setup_dir(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/tocsin-spool.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	assert_int_equal(uv_loop_init(&c->loop), 0);
	assert_int_equal(mkdir(pth(c, "incoming"), 0750), 0);
}

static void
cleanup_dir(struct ctx *c)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_bad_file_fails_with_reason_and_others_go_on(void **state)
{
	struct ctx c;
	(void)state;

	setup_dir(&c);
	put(&c, "incoming/a.csv", "ok\n");
	put(&c, "incoming/b.csv", "bad\n");
	put(&c, "incoming/c.csv", "ok\n");
	put(&c, "incoming/.partial", "still being copied\n");
	assert_int_equal(symlink("/etc/passwd", pth(&c, "incoming/d.lnk")), 0);
	c.expect = 3; /* d.lnk fails without reaching the owner */
	run(&c);

	assert_int_equal(c.seen, 3);
	assert_string_equal(c.order[0], "a.csv"); /* name order */
	assert_string_equal(c.order[1], "b.csv");
	assert_string_equal(c.order[2], "c.csv");
	assert_true(exists(&c, "done/a.csv"));
	assert_true(exists(&c, "done/c.csv"));
	assert_true(exists(&c, "failed/b.csv"));
	assert_string_equal(slurp(&c, "failed/b.csv.error"),
	    "b.csv:3: column \"ip\": not an IP\n");
	assert_string_equal(slurp(&c, "failed/b.csv"), "bad\n");
	assert_true(exists(&c, "incoming/.partial"));
	assert_false(exists(&c, "incoming/a.csv"));
	cleanup_dir(&c);
}

static void
test_symlink_refused(void **state)
{
	struct ctx c;
	(void)state;

	setup_dir(&c);
	assert_int_equal(symlink("/etc/passwd", pth(&c, "incoming/x.lnk")), 0);
	put(&c, "incoming/z.csv", "ok\n");
	c.expect = 1;
	run(&c);
	assert_true(exists(&c, "failed/x.lnk"));
	assert_true(strstr(slurp(&c, "failed/x.lnk.error"),
			"not a regular file") != NULL);
	assert_true(exists(&c, "done/z.csv"));
	cleanup_dir(&c);
}

static void
test_same_name_twice_is_kept(void **state)
{
	struct ctx c;
	(void)state;

	setup_dir(&c);
	assert_int_equal(mkdir(pth(&c, "done"), 0750), 0);
	put(&c, "done/a.csv", "first\n");
	put(&c, "incoming/a.csv", "second\n");
	c.expect = 1;
	run(&c);
	assert_string_equal(slurp(&c, "done/a.csv"), "first\n");
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd),
		    "test $(ls '%s/done' | grep -c '^a\\.csv\\.') = 1", c.dir);
		assert_int_equal(system(cmd), 0);
	}
	cleanup_dir(&c);
}

static void
test_missing_parent_is_an_error(void **state)
{
	uv_loop_t        loop;
	struct tc_spool *sp = NULL;
	struct tc_err    err;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_true(tc_spool_start(&loop, "/nonexistent/tocsin/spool", on_file,
			NULL, &sp, &err) < 0);
	assert_non_null(strstr(err.msg, "/nonexistent/tocsin/spool"));
	assert_null(sp);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_file_fails_with_reason_and_others_go_on),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_same_name_twice_is_kept),
		cmocka_unit_test(test_missing_parent_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

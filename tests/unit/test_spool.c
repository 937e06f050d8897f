/* Unit tests for spool: files move to done/ or failed/ with a reason, one
 * bad file does not block the others, nothing is overwritten or lost; two
 * spools on one directory each take a file exactly once; files claimed by
 * a dead worker come back, those of a live one do not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
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

/* --- two spools on one directory ---------------------------------------- */

#define SHARED_FILES 60

struct shared {
	uv_loop_t        loop;
	uv_timer_t       guard;
	struct tc_spool *sp[2];
	char             dir[64];
	int count[SHARED_FILES]; /* times each file was handed out */
	int by[2];               /* files per spool */
	int total;
	int closed;
};

static void
on_shared_closed(struct tc_spool *sp, void *arg)
{
	struct shared *s = arg;

	(void)sp;
	s->closed++;
}

static void
shared_close_all(struct shared *s)
{
	uv_timer_stop(&s->guard);
	for (int i = 0; i < 2; i++)
		if (s->sp[i] != NULL) {
			tc_spool_close(s->sp[i], on_shared_closed, s);
			s->sp[i] = NULL;
		}
}

static void
on_shared_file(struct tc_spool *sp, const char *path, const char *name,
    void *arg)
{
	struct shared *s = arg;
	unsigned       k;
	int            who = sp == s->sp[0] ? 0 : 1;

	assert_true(strstr(path, "/incoming/.claimed-") != NULL);
	assert_int_equal(sscanf(name, "f%03u.csv", &k), 1);
	assert_true(k < SHARED_FILES);
	s->count[k]++;
	s->by[who]++;
	s->total++;
	assert_int_equal(tc_spool_finish(sp, 0, NULL), 0);
	if (s->total == SHARED_FILES)
		shared_close_all(s);
}

static void
on_shared_guard(uv_timer_t *t)
{
	shared_close_all(container_of(t, struct shared, guard));
}

static int
count_entries(const char *dir, const char *prefix)
{
	DIR           *dh = opendir(dir);
	struct dirent *de;
	int            n = 0;

	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(dh);
	return n;
}

static void
test_two_spools_take_each_file_once(void **state)
{
	struct shared s;
	struct ctx    c; /* for its path helpers */
	struct tc_err err;
	char          name[32];
	(void)state;

	setup_dir(&c);
	assert_int_equal(uv_loop_close(&c.loop), 0); /* s.loop is used */
	memset(&s, 0, sizeof(s));
	memcpy(s.dir, c.dir, sizeof(s.dir));
	for (unsigned i = 0; i < SHARED_FILES; i++) {
		snprintf(name, sizeof(name), "incoming/f%03u.csv", i);
		put(&c, name, "x\n");
	}
	assert_int_equal(uv_loop_init(&s.loop), 0);
	uv_timer_init(&s.loop, &s.guard);
	uv_timer_start(&s.guard, on_shared_guard, 20000, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(tc_spool_start(&s.loop, s.dir, on_shared_file,
				     &s, &s.sp[i], &err),
		    0);
	/* Both claim directories exist and are locked. */
	assert_int_equal(count_entries(pth(&c, "incoming"), ".claimed-"), 2);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&s.guard, NULL);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&s.loop), 0);
	assert_int_equal(s.closed, 2);

	assert_int_equal(s.total, SHARED_FILES);
	for (unsigned i = 0; i < SHARED_FILES; i++) {
		assert_int_equal(s.count[i], 1);
		snprintf(name, sizeof(name), "done/f%03u.csv", i);
		assert_true(exists(&c, name));
	}
	assert_int_equal(count_entries(pth(&c, "done"), "f"), SHARED_FILES);
	assert_int_equal(count_entries(pth(&c, "incoming"), "f"), 0);
	/* Closed spools leave no claim directory behind. */
	assert_int_equal(count_entries(pth(&c, "incoming"), ".claimed-"), 0);
	cleanup_dir(&c);
}

/* A dead worker's claim (lock free) comes back and is processed; a live
 * worker's (lock held, here by this test) is left alone. */
static void
test_dead_claims_come_back(void **state)
{
	struct ctx c;
	int        fd;
	(void)state;

	setup_dir(&c);
	assert_int_equal(mkdir(pth(&c, "incoming/.claimed-dead01"), 0700), 0);
	put(&c, "incoming/.claimed-dead01/.lock", "");
	put(&c, "incoming/.claimed-dead01/a.csv", "from a dead worker\n");
	assert_int_equal(mkdir(pth(&c, "incoming/.claimed-live01"), 0700), 0);
	put(&c, "incoming/.claimed-live01/.lock", "");
	put(&c, "incoming/.claimed-live01/b.csv", "being processed\n");
	fd = open(pth(&c, "incoming/.claimed-live01/.lock"), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	put(&c, "incoming/c.csv", "new\n");
	c.expect = 2;
	run(&c);
	close(fd);

	assert_int_equal(c.seen, 2);
	assert_string_equal(c.order[0], "a.csv");
	assert_string_equal(c.order[1], "c.csv");
	assert_string_equal(slurp(&c, "done/a.csv"), "from a dead worker\n");
	assert_false(exists(&c, "incoming/.claimed-dead01"));
	assert_true(exists(&c, "incoming/.claimed-live01/b.csv"));
	assert_false(exists(&c, "done/b.csv"));
	cleanup_dir(&c);
}

/* A file handed out but neither finished nor postponed when the spool
 * closes goes back to incoming/; a postponed one too. */
static void
on_file_close_unfinished(struct tc_spool *sp, const char *path,
    const char *name, void *arg)
{
	struct ctx *c = arg;

	(void)path;
	snprintf(c->order[c->seen], sizeof(c->order[0]), "%s", name);
	c->seen++;
	if (strcmp(name, "a.csv") == 0)
		assert_int_equal(tc_spool_postpone(sp, 60000, "db down"), 0);
	uv_timer_stop(&c->guard);
	tc_spool_close(sp, on_closed, c);
}

static void
test_unfinished_file_goes_back(void **state)
{
	struct ctx    c;
	struct tc_err err;
	(void)state;

	setup_dir(&c);
	put(&c, "incoming/a.csv", "x\n");
	uv_timer_init(&c.loop, &c.guard);
	uv_timer_start(&c.guard, on_guard, 10000, 0);
	assert_int_equal(tc_spool_start(&c.loop, c.dir,
			     on_file_close_unfinished, &c, &c.sp, &err),
	    0);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&c.guard, NULL);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c.loop), 0);
	assert_int_equal(c.seen, 1);
	assert_string_equal(slurp(&c, "incoming/a.csv"), "x\n");
	assert_int_equal(count_entries(pth(&c, "incoming"), ".claimed-"), 0);

	/* Closed without postponing: back as well. */
	memset(c.order, 0, sizeof(c.order));
	c.seen = 0;
	c.closed = false;
	{
		char from[256];

		snprintf(from, sizeof(from), "%s", pth(&c, "incoming/a.csv"));
		assert_int_equal(rename(from, pth(&c, "incoming/b.csv")), 0);
	}
	assert_int_equal(uv_loop_init(&c.loop), 0);
	uv_timer_init(&c.loop, &c.guard);
	uv_timer_start(&c.guard, on_guard, 10000, 0);
	assert_int_equal(tc_spool_start(&c.loop, c.dir,
			     on_file_close_unfinished, &c, &c.sp, &err),
	    0);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&c.guard, NULL);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c.loop), 0);
	assert_true(c.closed);
	assert_string_equal(slurp(&c, "incoming/b.csv"), "x\n");
	assert_int_equal(count_entries(pth(&c, "incoming"), ".claimed-"), 0);
	cleanup_dir(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_file_fails_with_reason_and_others_go_on),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_same_name_twice_is_kept),
		cmocka_unit_test(test_missing_parent_is_an_error),
		cmocka_unit_test(test_two_spools_take_each_file_once),
		cmocka_unit_test(test_dead_claims_come_back),
		cmocka_unit_test(test_unfinished_file_goes_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the CSV reader: RFC 4180 quoting, line ends, BOM, limits,
 * recovery after a bad record, and reading through small pipe writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tocsin/buf.h"
#include "tocsin/csv.h"

/* Render every record as "f1|f2|...\n", errors as "!line:code\n". */
static void
dump(struct tc_csv *c, struct tc_buf *out)
{
	const struct tc_csv_field *f;
	size_t                     n;
	int                        r;
	struct tc_err              err;

	while ((r = tc_csv_next(c, &f, &n, &err)) != 0) {
		if (r < 0) {
			tc_buf_printf(out, "!%zu:%s\n", tc_csv_line(c), err.msg);
			if (r != TC_EINPUT && r != TC_ELIMIT)
				break;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(strlen(f[i].s) <= f[i].len, 1);
			tc_buf_printf(out, "%s%.*s", i ? "|" : "", (int)f[i].len,
			    f[i].s);
		}
		tc_buf_printf(out, "@%zu\n", tc_csv_line(c));
	}
}

static void
check(const char *in, const char *want)
{
	struct tc_buf  out = TC_BUF_INIT;
	struct tc_csv *c = tc_csv_new_mem(in, strlen(in), "t.csv");

	dump(c, &out);
	tc_csv_free(c);
	if (strcmp(tc_buf_cstr(&out), want) != 0)
		fail_msg("input:\n%s\ngot:\n%s\nwant:\n%s", in, tc_buf_cstr(&out),
		    want);
	tc_buf_deinit(&out);
}

static void
test_rfc4180(void **state)
{
	(void)state;
	check("a,b,c\n1,2,3\n", "a|b|c@1\n1|2|3@2\n");
	check("a,b\r\n1,2\r\n", "a|b@1\n1|2@2\n");
	check("a,b", "a|b@1\n"); /* no final newline */
	check("\"x,y\",\"say \"\"hi\"\"\",z\n", "x,y|say \"hi\"|z@1\n");
	check("\"multi\nline\",2\nnext,3\n", "multi\nline|2@1\nnext|3@3\n");
	check(",,\n", "||@1\n");
	check("\xef\xbb\xbfip,port\n", "ip|port@1\n"); /* BOM */
	check("\"\"\n", "@1\n");
	check("a,\"b\r\nc\"\r\n", "a|b\r\nc@1\n");
}

static void
test_bad_records_are_skipped(void **state)
{
	(void)state;
	check("a,b\n\"bad\"x,1\nc,d\n",
	    "a|b@1\n!2:t.csv:2: text after a closing quote\nc|d@3\n");
	check("a\n\"open,1\n",
	    "a@1\n!2:t.csv:2: quoted field not closed at the end of the "
	    "file\n");
}

static void
test_field_limit(void **state)
{
	struct tc_buf in = TC_BUF_INIT, want = TC_BUF_INIT;
	(void)state;

	/* Exactly the limit is fine. */
	for (int i = 0; i < TC_CSV_FIELDS_MAX; i++)
		tc_buf_puts(&in, i ? ",x" : "x");
	tc_buf_puts(&in, "\n");
	for (int i = 0; i < TC_CSV_FIELDS_MAX; i++)
		tc_buf_puts(&want, i ? "|x" : "x");
	tc_buf_puts(&want, "@1\n");
	check(in.data, want.data);
	/* One more is refused, and the next record still comes. */
	tc_buf_reset(&in);
	for (int i = 0; i <= TC_CSV_FIELDS_MAX; i++)
		tc_buf_puts(&in, i ? ",x" : "x");
	tc_buf_puts(&in, "\nok\n");
	check(in.data, "!1:t.csv:1: more than 512 fields\nok@2\n");
	tc_buf_deinit(&in);
	tc_buf_deinit(&want);
}

static void
test_stream_through_pipe(void **state)
{
	int            fds[2];
	pid_t          pid;
	struct tc_csv *c;
	struct tc_buf  out = TC_BUF_INIT;
	(void)state;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		/* Tiny writes split quotes, escapes and CRLFs across reads. */
		const char *s = "h1,h2\r\n\"a\"\"b\",\"c\r\nd\"\r\n";

		close(fds[0]);
		for (const char *p = s; *p; p++)
			if (write(fds[1], p, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	c = tc_csv_new_fd(fds[0], "pipe");
	dump(c, &out);
	tc_csv_free(c);
	close(fds[0]);
	assert_string_equal(out.data, "h1|h2@1\na\"b|c\r\nd@2\n");
	tc_buf_deinit(&out);
}

/* The progress counter sees every byte read from the descriptor, and only
 * once: 3 MiB through the 1 MiB buffer. */
static void
test_progress_counts_bytes(void **state)
{
	char                       tmpl[] = "/tmp/tocsin-csv-XXXXXX";
	struct tc_buf              in = TC_BUF_INIT;
	atomic_ullong              bytes = 0;
	const struct tc_csv_field *f;
	struct tc_csv             *c;
	size_t                     n, rows = 0;
	int                        fd;
	(void)state;

	for (int i = 0; in.len < 3 * 1024 * 1024; i++)
		tc_buf_printf(&in, "row%d,%d\n", i, i * 7);
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(write(fd, in.data, in.len), (ssize_t)in.len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	c = tc_csv_new_fd(fd, "progress");
	tc_csv_set_progress(c, &bytes);
	assert_int_equal(tc_csv_next(c, &f, &n, NULL), 1);
	rows++;
	/* One read so far: at most the buffer, not the whole file. */
	assert_true(atomic_load(&bytes) > 0);
	assert_true(atomic_load(&bytes) <= TC_CSV_BUF + TC_CSV_RECORD_MAX);
	while (tc_csv_next(c, &f, &n, NULL) == 1)
		rows++;
	assert_int_equal(atomic_load(&bytes), in.len);
	assert_true(rows > 100000);
	/* Without a counter nothing is written (NULL is allowed). */
	tc_csv_set_progress(c, NULL);
	assert_int_equal(tc_csv_next(c, &f, &n, NULL), 0);
	tc_csv_free(c);
	close(fd);
	tc_buf_deinit(&in);
}

static void
test_long_record_limit(void **state)
{
	int            fds[2];
	pid_t          pid;
	struct tc_csv *c;
	struct tc_buf  out = TC_BUF_INIT;
	(void)state;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		static char big[64 * 1024];

		close(fds[0]);
		memset(big, 'z', sizeof(big));
		if (write(fds[1], "a\n", 2) != 2)
			_exit(1);
		for (int i = 0; i < 40; i++) /* 2.5 MiB in one record */
			if (write(fds[1], big, sizeof(big)) != (ssize_t)sizeof(big))
				_exit(1);
		if (write(fds[1], "\nb\n", 3) != 3)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	c = tc_csv_new_fd(fds[0], "big");
	dump(c, &out);
	tc_csv_free(c);
	close(fds[0]);
	assert_string_equal(out.data,
	    "a@1\n!2:big:2: record longer than 1048576 bytes\nb@3\n");
	tc_buf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4180),
		cmocka_unit_test(test_bad_records_are_skipped),
		cmocka_unit_test(test_field_limit),
		cmocka_unit_test(test_stream_through_pipe),
		cmocka_unit_test(test_long_record_limit),
		cmocka_unit_test(test_progress_counts_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

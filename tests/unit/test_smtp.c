/* Unit tests for smtp against a real Postfix smtp-sink that each test starts
 * on a free 127.0.0.1 port: many messages in one session arrive byte for
 * byte, dot-stuffing, 4xx/5xx per message, connection refused, a server
 * that never answers, STARTTLS required but not offered, AUTH, and the
 * messages refused before any byte is sent. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tocsin/buf.h"
#include "tocsin/smtp.h"

#define SINK "/usr/sbin/smtp-sink"

struct sink {
	pid_t    pid;
	unsigned port;
	char     dir[64];  /* temp dir */
	char     mail[96]; /* dump dir */
	char     log[96];  /* smtp-sink -v output */
};

/* A loopback port nobody listens on right now. */
static unsigned
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t          alen = sizeof a;
	int                fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool
port_open(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int                fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	close(fd);
	return rc == 0;
}

/* Start smtp-sink with `extra` options (NULL-terminated, may be NULL). */
static void
sink_start(struct sink *k, const char *const *extra)
{
	char        dump[160], listen_on[32];
	const char *argv[32];
	size_t      ac = 0;

	memset(k, 0, sizeof *k);
	strncpy(k->dir, "/tmp/tocsin-smtp.XXXXXX", sizeof k->dir - 1);
	assert_non_null(mkdtemp(k->dir));
	assert_int_equal(chmod(k->dir, 0755), 0);
	assert_true(snprintf(k->mail, sizeof k->mail, "%s/mail", k->dir) > 0);
	assert_true(snprintf(k->log, sizeof k->log, "%s/sink.log", k->dir) > 0);
	assert_int_equal(mkdir(k->mail, 0755), 0);
	k->port = free_port();
	assert_true(
	    snprintf(dump, sizeof dump, "%s/%%Y%%m%%d%%H%%M%%S.", k->mail) > 0);
	assert_true(
	    snprintf(listen_on, sizeof listen_on, "127.0.0.1:%u", k->port) > 0);
	argv[ac++] = SINK;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");

		assert_non_null(pw);
		assert_int_equal(chown(k->mail, pw->pw_uid, pw->pw_gid), 0);
		argv[ac++] = "-u";
		argv[ac++] = "nobody";
	}
	argv[ac++] = "-v";
	argv[ac++] = "-d";
	argv[ac++] = dump;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[ac++] = extra[i];
	argv[ac++] = listen_on;
	argv[ac++] = "64";
	argv[ac] = NULL;

	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		int fd = open(k->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(SINK, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port_open(k->port); i++)
		usleep(50 * 1000);
	assert_true(port_open(k->port));
}

static char  *read_file(const char *path, size_t *len);
static size_t count_in(const char *hay, const char *needle);

/* Stop the sink once every session it accepted has ended (it may still be
 * reading pipelined commands after we closed), so its log is complete;
 * files stay until sink_rm. */
static void
sink_stop(struct sink *k)
{
	for (int i = 0; k->pid > 0 && i < 100; i++) {
		char *log = read_file(k->log, NULL);
		bool  done = count_in(log, ": connect (") ==
		    count_in(log, ": disconnect");

		free(log);
		if (done)
			break;
		usleep(50 * 1000);
	}
	if (k->pid > 0) {
		kill(k->pid, SIGTERM);
		waitpid(k->pid, NULL, 0);
		k->pid = 0;
	}
}

static void
rm_dir(const char *path)
{
	DIR           *d = opendir(path);
	struct dirent *e;
	char           p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) >=
		    (int)sizeof p)
			continue;
		if (unlink(p) != 0 && errno == EISDIR)
			rm_dir(p);
	}
	closedir(d);
	rmdir(path);
}

static void
sink_rm(struct sink *k)
{
	sink_stop(k);
	if (k->dir[0] != '\0')
		rm_dir(k->dir);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE         *f = fopen(path, "rb");
	struct tc_buf b = TC_BUF_INIT;
	char          chunk[4096];
	size_t        n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		tc_buf_append(&b, chunk, n);
	fclose(f);
	return tc_buf_steal(&b, len);
}

/* Names of the dump files, NULL-terminated; returns how many. */
static size_t
dumps(const struct sink *k, char **out, size_t max)
{
	DIR           *d = opendir(k->mail);
	struct dirent *e;
	size_t         n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char p[256];

		if (e->d_name[0] == '.')
			continue;
		assert_true(n < max);
		assert_true(snprintf(p, sizeof p, "%s/%s", k->mail, e->d_name) <
		    (int)sizeof p);
		out[n++] = strdup(p);
	}
	closedir(d);
	return n;
}

static size_t
count_in(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The message as smtp-sink dumps it: its X- lines and Received: header
 * first, then the message with LF line ends and dots un-stuffed, then an
 * empty line.  Returns the part after the Received: header. */
static const char *
dump_body(const char *dump)
{
	const char *p = strstr(dump, "\nReceived: ");

	assert_non_null(p);
	p++;
	do { /* skip the Received: line and its continuation lines */
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	} while (*p == '\t' || *p == ' ');
	return p;
}

static char *
crlf_to_lf(const char *s)
{
	struct tc_buf b = TC_BUF_INIT;

	for (; *s; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			tc_buf_putc(&b, *s);
	return tc_buf_steal(&b, NULL);
}

static char *
mk_msg(const char *id, const char *extra_headers, const char *body)
{
	struct tc_buf b = TC_BUF_INIT;

	tc_buf_printf(&b,
	    "Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n"
	    "From: \"CSIRT\" <cert@csirt.example>\r\n"
	    "To: soc@org.example\r\n"
	    "Message-ID: <%s@csirt.example>\r\n"
	    "Subject: [TLP:AMBER] test %s\r\n"
	    "%s"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "\r\n"
	    "%s",
	    id, id, extra_headers, body);
	return tc_buf_steal(&b, NULL);
}

static void
msg_init(struct tc_smtp_msg *m, char *data)
{
	memset(m, 0, sizeof *m);
	m->from = "bounces@csirt.example";
	m->rcpt = "soc@org.example";
	m->data = data;
	m->len = strlen(data);
	m->result = TC_SMTP_SENT; /* must be overwritten */
	m->code = -1;
}

static struct tc_smtp_params
params(unsigned port)
{
	struct tc_smtp_params p = { .host = "127.0.0.1",
		.port = port,
		.starttls = TC_STARTTLS_OFF,
		.timeout_s = 5 };

	return p;
}

static void
test_batch_one_session_byte_exact(void **state)
{
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m[3];
	struct tc_err         err = { 0 };
	char                 *data[3], *files[8], *log;
	bool                  seen[3] = { false, false, false };
	(void)state;

	data[0] = mk_msg("m0", "", "first message\r\nline two\r\n");
	data[1] = mk_msg("m1", "X-Tocsin-Ref: CCB-EWS-2026-000042\r\n",
	    ".a line that starts with a dot\r\n"
	    "..two dots\r\n"
	    ".\r\n"
	    "after a lone dot\r\n");
	data[2] = mk_msg("m2", "Received: from a (b)\r\nReceived: from c\r\n",
	    "caf\xc3\xa9 " /* 8-bit bytes pass untouched */
	    "\tend\r\n");
	for (int i = 0; i < 3; i++)
		msg_init(&m[i], data[i]);
	sink_start(&k, NULL);
	p = params(k.port);

	assert_int_equal(tc_smtp_send(&p, m, 3, &err), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(m[i].result, TC_SMTP_SENT);
		assert_int_equal(m[i].code, 250);
		assert_true(m[i].reply[0] != '\0');
	}
	sink_stop(&k);

	assert_int_equal(dumps(&k, files, 8), 3);
	for (int f = 0; f < 3; f++) {
		char       *dump = read_file(files[f], NULL);
		const char *body = dump_body(dump);
		const char *subj = strstr(body, "Subject: [TLP:AMBER] test m");
		struct tc_buf w = TC_BUF_INIT;
		char         *want;
		int           i;

		assert_non_null(subj);
		i = subj[27] - '0';
		assert_true(i >= 0 && i < 3 && !seen[i]);
		seen[i] = true;
		want = crlf_to_lf(data[i]);
		tc_buf_puts(&w, want);
		tc_buf_puts(&w, "\n"); /* smtp-sink's closing empty line */
		assert_string_equal(body, w.data);
		tc_buf_deinit(&w);
		free(want);
		free(dump);
		free(files[f]);
	}
	/* One TCP session, three transactions. */
	log = read_file(k.log, NULL);
	assert_int_equal(count_in(log, ": EHLO "), 1);
	assert_int_equal(count_in(log, ": MAIL FROM:<bounces@csirt.example>"),
	    3);
	free(log);
	sink_rm(&k);
	for (int i = 0; i < 3; i++)
		free(data[i]);
}

/* Messages of a few KB, as encrypted mail is: libesmtp writes them in 2 KB
 * pieces, and without TCP_NODELAY the last piece waits for the server's
 * delayed ACK (40 ms a message, so at least 1.6 s for 40).  With it the
 * session takes milliseconds; 1.2 s leaves room for a loaded machine. */
static void
test_large_messages_do_not_stall(void **state)
{
	enum { N = 40 };
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m[N];
	struct tc_err         err = { 0 };
	struct tc_buf         body = TC_BUF_INIT;
	struct timespec       t0, t1;
	char                 *data, *files[N + 1];
	double                secs;
	(void)state;

	for (int i = 0; i < 60; i++)
		tc_buf_puts(&body, "wcFMA5N0aXZ1bGF0aW9uIGRlIGxhIHN1cmZhY2UgZCdhdHRhcXVl"
				   "IGV4cG9zw6llIGF1IHJpc3F1ZS4uLi4\r\n");
	data = mk_msg("big", "", body.data);
	assert_true(strlen(data) > 4096);
	for (int i = 0; i < N; i++)
		msg_init(&m[i], data);
	sink_start(&k, NULL);
	p = params(k.port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(tc_smtp_send(&p, m, N, &err), N);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < N; i++)
		assert_int_equal(m[i].result, TC_SMTP_SENT);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs >= 1.2)
		fail_msg("%d messages of %zu bytes took %.2f s", N, strlen(data),
		    secs);
	sink_stop(&k);
	assert_int_equal(dumps(&k, files, N + 1), N);
	for (int i = 0; i < N; i++)
		free(files[i]);
	sink_rm(&k);
	tc_buf_deinit(&body);
	free(data);
}

static void
test_connect_refused(void **state)
{
	struct tc_smtp_params p = params(free_port());
	struct tc_smtp_msg    m[2];
	struct tc_err         err = { 0 };
	char                 *d0 = mk_msg("r0", "", "x\r\n");
	char                 *d1 = mk_msg("r1", "", "y\r\n");
	int                   rc;
	(void)state;

	msg_init(&m[0], d0);
	msg_init(&m[1], d1);
	rc = tc_smtp_send(&p, m, 2, &err);
	assert_true(rc < 0);
	assert_int_equal(err.code, rc);
	assert_non_null(strstr(err.msg, "127.0.0.1:"));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(m[i].result, TC_SMTP_TEMPFAIL);
		assert_int_equal(m[i].code, 0);
		assert_non_null(strstr(m[i].reply, "127.0.0.1:"));
	}
	free(d0);
	free(d1);
}

/* One message against a sink started with `opts`; checks result and code,
 * returns the reply in `reply`. */
static void
one_against(const char *const *opts, enum tc_smtp_result want, int code,
    char *reply, size_t reply_size)
{
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                 *d = mk_msg("inj", "", "body\r\n");

	msg_init(&m, d);
	sink_start(&k, opts);
	p = params(k.port);
	assert_int_equal(tc_smtp_send(&p, &m, 1, &err),
	    want == TC_SMTP_SENT ? 1 : 0);
	assert_int_equal(m.result, want);
	assert_int_equal(m.code, code);
	if (reply != NULL)
		assert_true(snprintf(reply, reply_size, "%s", m.reply) >= 0);
	sink_rm(&k);
	free(d);
}

static void
test_rcpt_4xx_tempfail(void **state)
{
	const char *opts[] = { "-r", "RCPT", NULL };
	char        reply[256];
	(void)state;

	one_against(opts, TC_SMTP_TEMPFAIL, 450, reply, sizeof reply);
	assert_string_equal(reply, "450 4.3.0 Error: command failed");
}

static void
test_rcpt_5xx_permfail(void **state)
{
	const char *opts[] = { "-f", "RCPT", NULL };
	(void)state;

	one_against(opts, TC_SMTP_PERMFAIL, 500, NULL, 0);
}

static void
test_mail_4xx_tempfail(void **state)
{
	const char *opts[] = { "-r", "MAIL", NULL };
	(void)state;

	one_against(opts, TC_SMTP_TEMPFAIL, 450, NULL, 0);
}

static void
test_data_end_5xx_permfail(void **state)
{
	const char *opts[] = { "-f", ".", NULL };
	(void)state;

	one_against(opts, TC_SMTP_PERMFAIL, 500, NULL, 0);
}

static void
test_reply_sanitised(void **state)
{
	const char *opts[] = { "-r", "RCPT", "-b",
		"451 4.7.1 caf\xc3\xa9 \x1b[31mred", NULL };
	char        reply[256];
	(void)state;

	one_against(opts, TC_SMTP_TEMPFAIL, 451, reply, sizeof reply);
	assert_non_null(strstr(reply, "451 4.7.1 caf?? ?[31mred"));
	for (const char *c = reply; *c; c++)
		assert_true(*c >= 0x20 && *c <= 0x7e);
}

/* A listening socket the test never serves: the kernel completes the
 * handshake, no greeting ever comes. */
static void
test_no_greeting_times_out(void **state)
{
	struct sockaddr_in    a = { .sin_family = AF_INET };
	socklen_t             alen = sizeof a;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	struct timespec       t0, t1;
	char                 *d = mk_msg("slow", "", "x\r\n");
	int                   fd = socket(AF_INET, SOCK_STREAM, 0), rc;
	(void)state;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	p = params(ntohs(a.sin_port));
	p.timeout_s = 1;
	msg_init(&m, d);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tc_smtp_send(&p, &m, 1, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(rc < 0);
	assert_true(t1.tv_sec - t0.tv_sec <= 4);
	assert_int_equal(m.result, TC_SMTP_TEMPFAIL);
	assert_true(m.reply[0] != '\0');
	close(fd);
	free(d);
}

/* smtp-sink never offers STARTTLS: with REQUIRED nothing may be sent. */
static void
test_starttls_required_not_offered(void **state)
{
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m[2];
	struct tc_err         err = { 0 };
	char                 *d0 = mk_msg("t0", "", "secret\r\n");
	char                 *d1 = mk_msg("t1", "", "secret\r\n");
	char                 *files[4], *log, want[128];
	int                   rc;
	(void)state;

	msg_init(&m[0], d0);
	msg_init(&m[1], d1);
	sink_start(&k, NULL);
	p = params(k.port);
	p.starttls = TC_STARTTLS_REQUIRED;
	rc = tc_smtp_send(&p, m, 2, &err);
	assert_int_equal(rc, TC_ETEMPFAIL);
	assert_true(snprintf(want, sizeof want,
			"STARTTLS required but not offered by 127.0.0.1:%u",
			k.port) > 0);
	assert_non_null(strstr(err.msg, want));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(m[i].result, TC_SMTP_TEMPFAIL);
		assert_int_equal(m[i].code, 0);
		assert_string_equal(m[i].reply, want);
	}
	sink_stop(&k);
	assert_int_equal(dumps(&k, files, 4), 0);
	log = read_file(k.log, NULL);
	assert_int_equal(count_in(log, ": EHLO "), 1); /* it did talk */
	assert_int_equal(count_in(log, ": MAIL FROM:"), 0);
	free(log);
	sink_rm(&k);
	free(d0);
	free(d1);
}

/* OPTIONAL: a server without STARTTLS gets the mail in clear. */
static void
test_starttls_optional_not_offered(void **state)
{
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                 *d = mk_msg("o0", "", "x\r\n");
	char                 *files[4];
	(void)state;

	msg_init(&m, d);
	sink_start(&k, NULL);
	p = params(k.port);
	p.starttls = TC_STARTTLS_OPTIONAL;
	assert_int_equal(tc_smtp_send(&p, &m, 1, &err), 1);
	assert_int_equal(m.result, TC_SMTP_SENT);
	sink_stop(&k);
	assert_int_equal(dumps(&k, files, 4), 1);
	free(files[0]);
	sink_rm(&k);
	free(d);
}

/* Messages libesmtp would rewrite, or that could smuggle SMTP, never reach
 * the wire; the good one in the same batch does. */
static void
test_refused_before_sending(void **state)
{
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m[8];
	struct tc_err         err = { 0 };
	struct tc_buf         longline = TC_BUF_INIT;
	char                 *d[8], *files[8], *log;
	size_t                nf;
	(void)state;

	d[0] = mk_msg("good", "", "fine\r\n");
	d[1] = strdup("Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n"
		      "From: cert@csirt.example\r\n\r\nno Message-ID\r\n");
	d[2] = mk_msg("lf", "", "bare\nLF\r\n.\r\nMAIL FROM:<x@y>\r\n");
	d[3] = mk_msg("rp", "Return-Path: <x@y.example>\r\n", "x\r\n");
	d[4] = mk_msg("to2", "To: other@org.example\r\n", "x\r\n");
	d[5] = mk_msg("rcpt", "", "x\r\n");
	for (int i = 0; i < 999; i++)
		tc_buf_putc(&longline, 'a');
	tc_buf_puts(&longline, "\r\n");
	d[6] = mk_msg("long", "", longline.data);
	d[7] = mk_msg("nocrlf", "", "no CRLF at the end");
	for (int i = 0; i < 8; i++)
		msg_init(&m[i], d[i]);
	m[5].rcpt = "soc@org.example>\r\nRCPT TO:<evil@x.example";
	sink_start(&k, NULL);
	p = params(k.port);

	assert_int_equal(tc_smtp_send(&p, m, 8, &err), 1);
	assert_int_equal(m[0].result, TC_SMTP_SENT);
	for (int i = 1; i < 8; i++) {
		assert_int_equal(m[i].result, TC_SMTP_PERMFAIL);
		assert_int_equal(m[i].code, 0);
		assert_non_null(strstr(m[i].reply, "refused before sending"));
	}
	assert_non_null(strstr(m[1].reply, "Message-ID"));
	assert_non_null(strstr(m[2].reply, "bare LF"));
	assert_non_null(strstr(m[3].reply, "Return-Path"));
	assert_non_null(strstr(m[4].reply, "To header"));
	assert_non_null(strstr(m[5].reply, "recipient"));
	assert_non_null(strstr(m[6].reply, "998"));
	assert_non_null(strstr(m[7].reply, "CRLF"));
	sink_stop(&k);
	nf = dumps(&k, files, 8);
	assert_int_equal(nf, 1);
	free(files[0]);
	log = read_file(k.log, NULL);
	assert_int_equal(count_in(log, ": MAIL FROM:"), 1);
	assert_int_equal(count_in(log, "evil"), 0);
	free(log);
	sink_rm(&k);
	tc_buf_deinit(&longline);
	for (int i = 0; i < 8; i++)
		free(d[i]);
}

/* Nothing valid to send: no connection at all, result 0. */
static void
test_nothing_to_send(void **state)
{
	struct tc_smtp_params p = params(free_port());
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                 *d = strdup("Subject: x\r\n\r\nno Date\r\n");
	(void)state;

	msg_init(&m, d);
	assert_int_equal(tc_smtp_send(&p, &m, 1, &err), 0);
	assert_int_equal(m.result, TC_SMTP_PERMFAIL);
	assert_int_equal(tc_smtp_send(&p, NULL, 0, &err), 0);
	p.host = NULL;
	assert_int_equal(tc_smtp_send(&p, &m, 1, &err), TC_EINPUT);
	free(d);
}

/* An unreadable CA file is a set-up error: nothing is attempted. */
static void
test_bad_ca_file(void **state)
{
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                 *d = mk_msg("ca", "", "x\r\n");
	char                 *log;
	(void)state;

	msg_init(&m, d);
	sink_start(&k, NULL);
	p = params(k.port);
	p.starttls = TC_STARTTLS_REQUIRED;
	p.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(tc_smtp_send(&p, &m, 1, &err), TC_EINPUT);
	assert_non_null(strstr(err.msg, "cannot load CA /nonexistent/ca.pem"));
	assert_int_equal(m.result, TC_SMTP_TEMPFAIL);
	assert_non_null(strstr(m.reply, "cannot load CA"));
	sink_stop(&k);
	log = read_file(k.log, NULL);
	assert_int_equal(count_in(log, ": EHLO "), 0);
	free(log);
	sink_rm(&k);
	free(d);
}

/* smtp-sink accepts any AUTH; -a hides AUTH, -f AUTH refuses it. */
static void
auth_case(const char *const *opts, int want_rc)
{
	struct sink           k;
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                 *d = mk_msg("auth", "", "x\r\n");
	char                 *log;
	int                   rc;

	msg_init(&m, d);
	sink_start(&k, opts);
	p = params(k.port);
	p.username = "tocsin";
	p.password = "s3cret-Pa55";
	rc = tc_smtp_send(&p, &m, 1, &err);
	assert_int_equal(rc, want_rc);
	assert_null(strstr(err.msg, p.password));
	assert_null(strstr(m.reply, p.password));
	if (want_rc < 0)
		assert_non_null(strstr(err.msg, "AUTH as tocsin"));
	sink_stop(&k);
	log = read_file(k.log, NULL);
	if (opts == NULL)
		assert_int_equal(count_in(log, ": AUTH "), 1);
	else if (strcmp(opts[0], "-a") == 0)
		assert_int_equal(count_in(log, ": AUTH "), 0);
	else /* refused: libesmtp tries each mechanism the server offers */
		assert_true(count_in(log, ": AUTH ") >= 1);
	free(log);
	sink_rm(&k);
	free(d);
}

static void
test_auth_ok(void **state)
{
	(void)state;
	auth_case(NULL, 1);
}

static void
test_auth_not_offered(void **state)
{
	const char *opts[] = { "-a", NULL };
	(void)state;
	auth_case(opts, TC_ETEMPFAIL);
}

static void
test_auth_refused(void **state)
{
	const char *opts[] = { "-f", "AUTH", NULL };
	(void)state;
	auth_case(opts, TC_EPERMFAIL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_one_session_byte_exact),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_rcpt_4xx_tempfail),
		cmocka_unit_test(test_rcpt_5xx_permfail),
		cmocka_unit_test(test_mail_4xx_tempfail),
		cmocka_unit_test(test_data_end_5xx_permfail),
		cmocka_unit_test(test_reply_sanitised),
		cmocka_unit_test(test_no_greeting_times_out),
		cmocka_unit_test(test_starttls_required_not_offered),
		cmocka_unit_test(test_starttls_optional_not_offered),
		cmocka_unit_test(test_refused_before_sending),
		cmocka_unit_test(test_nothing_to_send),
		cmocka_unit_test(test_bad_ca_file),
		cmocka_unit_test(test_auth_ok),
		cmocka_unit_test(test_auth_not_offered),
		cmocka_unit_test(test_auth_refused),
		cmocka_unit_test(test_large_messages_do_not_stall),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

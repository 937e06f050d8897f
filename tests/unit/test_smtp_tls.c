/* STARTTLS tests for smtp against the private Postfix of tests/mta.sh.
 *
 * Needs a real MTA, so it runs for real only from the integration scenario
 * tests/integration/test_smtp_tls.sh, which sets TOCSIN_SMTP_TLS_PORT,
 * TOCSIN_SMTP_PLAIN_PORT, TOCSIN_SMTP_CA, TOCSIN_SMTP_WRONG_CA and
 * TOCSIN_SMTP_MAILDIR; without them every test is skipped, saying why.
 * Each message carries a unique Message-ID so that the test finds it among
 * the files the MTA relayed to its sink (or proves it never arrived). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "tocsin/buf.h"
#include "tocsin/smtp.h"

struct env {
	unsigned    tls_port, plain_port;
	const char *ca, *wrong_ca, *maildir;
};

static struct env E;
static unsigned   seq;

static bool
env_load(void)
{
	const char *tls = getenv("TOCSIN_SMTP_TLS_PORT");
	const char *plain = getenv("TOCSIN_SMTP_PLAIN_PORT");

	E.ca = getenv("TOCSIN_SMTP_CA");
	E.wrong_ca = getenv("TOCSIN_SMTP_WRONG_CA");
	E.maildir = getenv("TOCSIN_SMTP_MAILDIR");
	if (tls == NULL || plain == NULL || E.ca == NULL ||
	    E.wrong_ca == NULL || E.maildir == NULL)
		return false;
	E.tls_port = (unsigned)strtoul(tls, NULL, 10);
	E.plain_port = (unsigned)strtoul(plain, NULL, 10);
	return E.tls_port > 0 && E.plain_port > 0;
}

#define NEED_MTA()                                                           \
	do {                                                                 \
		if (!env_load()) {                                           \
			print_message("skipped: TOCSIN_SMTP_TLS_PORT etc. "  \
				      "unset; run tests/integration/run.sh " \
				      "test_smtp_tls\n");                    \
			skip();                                              \
		}                                                            \
	} while (0)

/* A message with a Message-ID unique to this run; its id in `id`. */
static char *
mk_msg(char *id, size_t id_size)
{
	struct tc_buf b = TC_BUF_INIT;

	assert_true(snprintf(id, id_size, "tls-%ld-%d-%u@csirt.example",
			(long)time(NULL), (int)getpid(), seq++) < (int)id_size);
	tc_buf_printf(&b,
	    "Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n"
	    "From: cert@csirt.example\r\n"
	    "To: soc@org.example\r\n"
	    "Message-ID: <%s>\r\n"
	    "Subject: [TLP:AMBER+STRICT] spear warning\r\n"
	    "MIME-Version: 1.0\r\n"
	    "\r\n"
	    "confidential\r\n"
	    ".starts with a dot\r\n",
	    id);
	return tc_buf_steal(&b, NULL);
}

static char *
read_file(const char *path)
{
	FILE         *f = fopen(path, "rb");
	struct tc_buf b = TC_BUF_INIT;
	char          chunk[4096];
	size_t        n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		tc_buf_append(&b, chunk, n);
	fclose(f);
	return tc_buf_steal(&b, NULL);
}

/* The dump holding Message-ID `id`, or NULL after `secs` seconds. */
static char *
wait_for(const char *id, int secs)
{
	for (int i = 0; i <= secs * 10; i++) {
		DIR           *d = opendir(E.maildir);
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d)) != NULL) {
			char p[512], *s;

			if (e->d_name[0] == '.' ||
			    snprintf(p, sizeof p, "%s/%s", E.maildir,
				e->d_name) >= (int)sizeof p)
				continue;
			s = read_file(p);
			if (s != NULL && strstr(s, id) != NULL) {
				closedir(d);
				return s;
			}
			free(s);
		}
		closedir(d);
		if (i < secs * 10)
			usleep(100 * 1000);
	}
	return NULL;
}

static struct tc_smtp_params
params(const char *host, unsigned port, enum tc_starttls mode, const char *ca)
{
	struct tc_smtp_params p = { .host = host,
		.port = port,
		.starttls = mode,
		.ca_file = ca,
		.timeout_s = 10 };

	return p;
}

/* Send one message; returns tc_smtp_send's result, the message id in id. */
static int
send_one(const struct tc_smtp_params *p, struct tc_smtp_msg *m, char **data,
    char *id, size_t id_size, struct tc_err *err)
{
	*data = mk_msg(id, id_size);
	memset(m, 0, sizeof *m);
	m->from = "bounces@csirt.example";
	m->rcpt = "soc@org.example";
	m->data = *data;
	m->len = strlen(*data);
	m->code = -1;
	return tc_smtp_send(p, m, 1, err);
}

/* The message arrived, unchanged, after Postfix's Received: header. */
static void
check_delivered(const char *id, const char *data, bool want_tls)
{
	char         *dump = wait_for(id, 30);
	struct tc_buf lf = TC_BUF_INIT;
	const char   *at;

	assert_non_null(dump);
	for (const char *s = data; *s; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			tc_buf_putc(&lf, *s);
	tc_buf_puts(&lf, "\n"); /* the sink's closing empty line */
	at = strstr(dump, lf.data);
	assert_non_null(at);
	assert_string_equal(at, lf.data);
	if (want_tls)
		assert_non_null(strstr(dump, "(using TLSv1."));
	else
		assert_null(strstr(dump, "(using TLS"));
	tc_buf_deinit(&lf);
	free(dump);
}

static void
test_required_with_ca_ip(void **state)
{
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                  id[128], *data;
	(void)state;

	NEED_MTA();
	p = params("127.0.0.1", E.tls_port, TC_STARTTLS_REQUIRED, E.ca);
	assert_int_equal(send_one(&p, &m, &data, id, sizeof id, &err), 1);
	assert_int_equal(m.result, TC_SMTP_SENT);
	assert_int_equal(m.code, 250);
	check_delivered(id, data, true);
	free(data);
}

static void
test_required_with_ca_name(void **state)
{
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                  id[128], *data;
	(void)state;

	NEED_MTA();
	p = params("localhost", E.tls_port, TC_STARTTLS_REQUIRED, E.ca);
	assert_int_equal(send_one(&p, &m, &data, id, sizeof id, &err), 1);
	assert_int_equal(m.result, TC_SMTP_SENT);
	check_delivered(id, data, true);
	free(data);
}

static void
test_optional_uses_tls_when_offered(void **state)
{
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                  id[128], *data;
	(void)state;

	NEED_MTA();
	p = params("127.0.0.1", E.tls_port, TC_STARTTLS_OPTIONAL, E.ca);
	assert_int_equal(send_one(&p, &m, &data, id, sizeof id, &err), 1);
	check_delivered(id, data, true);
	free(data);
}

/* A refused certificate: nothing sent.  A good message sent afterwards
 * through the same MTA arrives, so the refused one would have by then. */
static void
refused(const struct tc_smtp_params *p, const char *why)
{
	struct tc_smtp_params good;
	struct tc_smtp_msg    m, g;
	struct tc_err         err = { 0 };
	char                  id[128], gid[128], *data, *gdata, *dump;
	int                   rc;

	rc = send_one(p, &m, &data, id, sizeof id, &err);
	assert_int_equal(rc, TC_ETEMPFAIL);
	assert_int_equal(err.code, TC_ETEMPFAIL);
	assert_int_equal(m.result, TC_SMTP_TEMPFAIL);
	assert_int_equal(m.code, 0);
	assert_non_null(strstr(m.reply, "STARTTLS"));
	if (strstr(m.reply, why) == NULL)
		fail_msg("reply \"%s\" lacks \"%s\"", m.reply, why);

	good = params("127.0.0.1", E.tls_port, TC_STARTTLS_REQUIRED, E.ca);
	assert_int_equal(send_one(&good, &g, &gdata, gid, sizeof gid, &err), 1);
	dump = wait_for(gid, 30);
	assert_non_null(dump);
	free(dump);
	assert_null(wait_for(id, 0));
	free(data);
	free(gdata);
}

static void
test_wrong_ca_refused(void **state)
{
	struct tc_smtp_params p;
	(void)state;

	NEED_MTA();
	p = params("127.0.0.1", E.tls_port, TC_STARTTLS_REQUIRED, E.wrong_ca);
	refused(&p, "certificate verify failed");
}

/* OPTIONAL does not fall back to clear text after a failed handshake. */
static void
test_wrong_ca_optional_refused(void **state)
{
	struct tc_smtp_params p;
	(void)state;

	NEED_MTA();
	p = params("127.0.0.1", E.tls_port, TC_STARTTLS_OPTIONAL, E.wrong_ca);
	refused(&p, "certificate verify failed");
}

/* The system store does not know the test CA. */
static void
test_system_store_refused(void **state)
{
	struct tc_smtp_params p;
	(void)state;

	NEED_MTA();
	p = params("127.0.0.1", E.tls_port, TC_STARTTLS_REQUIRED, NULL);
	refused(&p, "certificate verify failed");
}

/* The certificate names localhost and 127.0.0.1; this machine's own name
 * also reaches the MTA when it resolves to 127.0.0.1, but the certificate
 * does not cover it. */
static void
test_wrong_name_refused(void **state)
{
	struct tc_smtp_params p;
	struct addrinfo       hints = { .ai_family = AF_INET }, *ai = NULL;
	char                  host[256];
	bool                  loopback;
	(void)state;

	NEED_MTA();
	assert_int_equal(gethostname(host, sizeof host), 0);
	host[sizeof host - 1] = '\0';
	if (strcmp(host, "localhost") == 0 ||
	    getaddrinfo(host, NULL, &hints, &ai) != 0) {
		print_message("skipped: host name %s unusable here\n", host);
		skip();
	}
	loopback = ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr ==
	    htonl(INADDR_LOOPBACK);
	freeaddrinfo(ai);
	if (!loopback) {
		print_message("skipped: %s does not resolve to 127.0.0.1\n",
		    host);
		skip();
	}
	p = params(host, E.tls_port, TC_STARTTLS_REQUIRED, E.ca);
	refused(&p, "certificate verify failed");
}

/* libesmtp 1.1 cannot parse an IPv6 literal: refused up front. */
static void
test_ipv6_literal_refused(void **state)
{
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                  id[128], *data;
	(void)state;

	NEED_MTA();
	p = params("::1", E.tls_port, TC_STARTTLS_REQUIRED, E.ca);
	assert_int_equal(send_one(&p, &m, &data, id, sizeof id, &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "IPv6"));
	free(data);
}

static void
test_plain_server_required(void **state)
{
	struct tc_smtp_params p;
	char                  want[96];
	(void)state;

	NEED_MTA();
	p = params("127.0.0.1", E.plain_port, TC_STARTTLS_REQUIRED, E.ca);
	assert_true(snprintf(want, sizeof want,
			"STARTTLS required but not offered by 127.0.0.1:%u",
			E.plain_port) > 0);
	refused(&p, want);
}

static void
test_plain_server_optional(void **state)
{
	struct tc_smtp_params p;
	struct tc_smtp_msg    m;
	struct tc_err         err = { 0 };
	char                  id[128], *data;
	(void)state;

	NEED_MTA();
	p = params("127.0.0.1", E.plain_port, TC_STARTTLS_OPTIONAL, E.ca);
	assert_int_equal(send_one(&p, &m, &data, id, sizeof id, &err), 1);
	check_delivered(id, data, false);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required_with_ca_ip),
		cmocka_unit_test(test_required_with_ca_name),
		cmocka_unit_test(test_optional_uses_tls_when_offered),
		cmocka_unit_test(test_wrong_ca_refused),
		cmocka_unit_test(test_wrong_ca_optional_refused),
		cmocka_unit_test(test_system_store_refused),
		cmocka_unit_test(test_wrong_name_refused),
		cmocka_unit_test(test_ipv6_literal_refused),
		cmocka_unit_test(test_plain_server_required),
		cmocka_unit_test(test_plain_server_optional),
	};

	signal(SIGPIPE, SIG_IGN); /* as tocsind does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}

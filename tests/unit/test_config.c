/* Unit tests for config: every key parsed, defaults, every error class with
 * its file:line:col text, all errors at once, limits, secret-file checks. */
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

#include "tocsin/config.h"
#include "tocsin/str.h"

static const char good[] =
    "db:\n"
    "  conninfo: \"host=/run/postgresql dbname=tocsin\"\n"
    "smtp:\n"
    "  host: mx.example.be\n"
    "  port: 587\n"
    "  starttls: required\n"
    "  from: cert@example.be\n"
    "  from_name: \"CERT \xc3\xa9quipe\"\n"
    "  timeout: 2m\n"
    "  max_sessions: 4\n"
    "gpg:\n"
    "  homedir: /var/lib/tocsin/gnupg\n"
    "  signing_key: \"0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567\"\n"
    "paths:\n"
    "  spool_dir: /var/spool/tocsin\n"
    "service:\n"
    "  reference_prefix: CCB-EWS\n"
    "  four_eyes: no\n"
    "  suppression_window: 2d\n"
    "metrics:\n"
    "  listen: 127.0.0.1:9464\n"
    "feeds:\n"
    "  - name: shadowserver-scan\n"
    "    format: shadowserver\n"
    "    url: https://feeds.example/ss.csv\n"
    "    schedule: 1h\n"
    "    default_tlp: \"TLP:AMBER+STRICT\"\n"
    "  - name: manual\n";

static struct tc_config *
parse(const char *text, struct tc_buf *errors)
{
	struct tc_err err;

	tc_buf_reset(errors);
	return tc_config_parse("t.yaml", text, strlen(text), errors, &err);
}

static void
test_good_config(void **state)
{
	struct tc_buf     e = TC_BUF_INIT;
	struct tc_config *c = parse(good, &e);
	(void)state;

	if (c == NULL)
		fail_msg("%s", tc_buf_cstr(&e));
	assert_string_equal(c->db.conninfo, "host=/run/postgresql dbname=tocsin");
	assert_string_equal(c->smtp.host, "mx.example.be");
	assert_int_equal(c->smtp.port, 587);
	assert_int_equal(c->smtp.starttls, TC_STARTTLS_REQUIRED);
	assert_string_equal(c->smtp.from, "cert@example.be");
	assert_int_equal(c->smtp.timeout_s, 120);
	assert_int_equal(c->smtp.max_sessions, 4);
	assert_string_equal(c->gpg.signing_key,
	    "0123456789ABCDEF0123456789ABCDEF01234567");
	assert_null(c->gpg.archive_key);
	assert_string_equal(c->service.reference_prefix, "CCB-EWS");
	assert_false(c->service.four_eyes);
	assert_int_equal(c->service.suppression_window_s, 2 * 86400);
	assert_string_equal(c->metrics.listen, "127.0.0.1:9464");
	/* Defaults. */
	assert_string_equal(c->paths.templates_dir, "templates");
	assert_int_equal(c->outbox.lease_s, 300);
	assert_int_equal(c->outbox.batch, 50);
	assert_int_equal(c->outbox.backoff_max_s, 6 * 3600);
	assert_string_equal(c->service.analysts_group, "tocsin");
	assert_string_equal(c->log.level, "info");
	assert_null(c->smtp.username);
	/* Feeds. */
	assert_int_equal(c->n_feeds, 2);
	assert_string_equal(c->feeds[0].name, "shadowserver-scan");
	assert_int_equal(c->feeds[0].schedule_s, 3600);
	assert_int_equal(c->feeds[0].default_tlp, TC_TLP_AMBER_STRICT);
	assert_string_equal(c->feeds[1].format, "auto");
	assert_null(c->feeds[1].url);
	assert_int_equal(c->feeds[1].default_tlp, TC_TLP_AMBER);
	assert_ptr_equal(tc_config_ref(c), c);
	tc_config_unref(c);
	tc_config_unref(c);
	tc_buf_deinit(&e);
}

static void
expect_errors(const char *text, const char *want)
{
	struct tc_buf e = TC_BUF_INIT;

	assert_null(parse(text, &e));
	if (strcmp(tc_buf_cstr(&e), want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", tc_buf_cstr(&e), want);
	tc_buf_deinit(&e);
}

#define BASE                                                                   \
	"smtp: {from: cert@example.be}\n"                                      \
	"gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567}\n"       \
	"paths: {spool_dir: /s}\n"

static void
test_each_error_names_line_column_and_key(void **state)
{
	(void)state;
	expect_errors(BASE "smtp2: {x: 1}\n",
	    "t.yaml:4:1: smtp2: unknown key\n");
	expect_errors(BASE "outbox:\n  lease: 10s\n  batch: many\n"
			   "  bogus: 1\n",
	    "t.yaml:5:10: outbox.lease: 10s is below 30\n"
	    "t.yaml:6:10: outbox.batch: \"many\" is not a whole number\n"
	    "t.yaml:7:3: outbox.bogus: unknown key\n");
	expect_errors("smtp:\n  max_sessions: 40\n  from: cert@example.be\n"
		      "gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567}\n"
		      "paths: {spool_dir: /s}\n",
	    "t.yaml:2:17: smtp.max_sessions: 40 is above 16\n");
	expect_errors(BASE "service: {four_eyes: [a, b]}\n",
	    "t.yaml:4:22: service.four_eyes: must be a scalar, not a list\n");
	expect_errors(BASE "log: warning\n",
	    "t.yaml:4:6: log: must be a mapping, not a scalar\n");
	expect_errors("smtp: {from: not-an-address}\n"
		      "gpg: {signing_key: 0123}\n",
	    "t.yaml:1:14: smtp.from: \"not-an-address\" is not an email "
	    "address\n"
	    "t.yaml:2:20: gpg.signing_key: \"0123\" is not a fingerprint of "
	    "40 hex digits\n"
	    "t.yaml: paths.spool_dir: is required\n");
	expect_errors(BASE "feeds:\n  - {name: a, format: pdf}\n"
			   "  - {name: a, url: ftp://x, colour: red}\n",
	    "t.yaml:5:23: feeds[0].format: \"pdf\" is not one of auto "
	    "shadowserver misp stix csaf kev ioc creds cve\n"
	    "t.yaml:6:20: feeds[1].url: must be an http(s):// URL\n"
	    "t.yaml:6:29: feeds[1].colour: unknown key\n"
	    "t.yaml:6:5: feeds[1]: feed name \"a\" used twice\n");
	expect_errors(BASE "smtp2: 1\nsmtp2: 2\n",
	    "t.yaml:4:1: smtp2: unknown key\n"
	    "t.yaml:5:1: smtp2: unknown key\n");
	expect_errors(BASE "metrics: {listen: nowhere}\n",
	    "t.yaml:4:19: metrics.listen: \"nowhere\" is not ADDRESS:PORT\n");
	expect_errors(BASE "service: {reference_prefix: ccb ews}\n",
	    "t.yaml:4:29: service.reference_prefix: \"ccb ews\" is not a "
	    "prefix of 1-20 A-Z, 0-9 and -\n");
}

static void
test_yaml_syntax_error(void **state)
{
	struct tc_buf e = TC_BUF_INIT;
	(void)state;

	assert_null(parse("smtp:\n  from: [unclosed\n", &e));
	assert_true(strncmp(tc_buf_cstr(&e), "t.yaml:3:1: YAML: ", 18) == 0);
	assert_null(parse("", &e));
	assert_string_equal(tc_buf_cstr(&e),
	    "t.yaml: empty configuration\n"
	    "t.yaml: smtp.from: is required\n"
	    "t.yaml: gpg.signing_key: is required\n"
	    "t.yaml: paths.spool_dir: is required\n");
	assert_null(parse("- a\n- b\n", &e));
	assert_true(tc_str_has_prefix(tc_buf_cstr(&e),
	    "t.yaml:1:1: the top level must be a mapping\n"));
	tc_buf_deinit(&e);
}

static void
test_duplicate_key_and_pairing(void **state)
{
	(void)state;
	expect_errors(BASE "smtp: {port: 26}\n",
	    "t.yaml:4:1: smtp: given twice\n");
	expect_errors(BASE "outbox: {lease: 60s, lease: 90s}\n",
	    "t.yaml:4:22: outbox.lease: given twice\n");
	expect_errors("smtp: {from: cert@example.be, username: u}\n"
		      "gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567}\n"
		      "paths: {spool_dir: /s}\n",
	    "t.yaml: smtp: username and password go together\n");
	expect_errors(
	    "smtp: {from: cert@example.be, username: u, password: p,"
	    " starttls: optional}\n"
	    "gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567}\n"
	    "paths: {spool_dir: /s}\n",
	    "t.yaml: smtp.starttls: must be required when smtp.password is "
	    "set (AUTH would go in clear)\n");
	expect_errors(
	    "smtp: {from: cert@example.be, username: u, password: p,"
	    " starttls: off}\n"
	    "gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567}\n"
	    "paths: {spool_dir: /s}\n",
	    "t.yaml: smtp.starttls: must be required when smtp.password is "
	    "set (AUTH would go in clear)\n");
}

static void
test_limits(void **state)
{
	struct tc_buf e = TC_BUF_INIT;
	struct tc_buf t = TC_BUF_INIT;
	struct tc_config *c;
	(void)state;

	/* Exactly the maximum of feeds is fine, one more is not. */
	tc_buf_puts(&t, BASE "feeds:\n");
	for (int i = 0; i < 256; i++)
		tc_buf_printf(&t, "  - {name: f%d}\n", i);
	c = parse(t.data, &e);
	assert_non_null(c);
	assert_int_equal(c->n_feeds, 256);
	tc_config_unref(c);
	tc_buf_puts(&t, "  - {name: f256}\n");
	assert_null(parse(t.data, &e));
	assert_non_null(strstr(e.data, "feeds: more than 256 feeds"));
	/* A string longer than 4096 bytes. */
	tc_buf_reset(&t);
	tc_buf_puts(&t, BASE "smtp: {helo: ");
	for (int i = 0; i < 4097; i++)
		tc_buf_putc(&t, 'h');
	tc_buf_puts(&t, "}\n");
	assert_null(parse(t.data, &e));
	tc_buf_deinit(&t);
	tc_buf_deinit(&e);
}

static void
test_durations_and_booleans(void **state)
{
	struct tc_buf     e = TC_BUF_INIT;
	struct tc_config *c;
	(void)state;

	c = parse(BASE "outbox: {lease: 30, backoff_base: 1s, backoff_max: 7d}\n"
		       "service: {four_eyes: On}\n",
	    &e);
	assert_non_null(c);
	assert_int_equal(c->outbox.lease_s, 30);
	assert_int_equal(c->outbox.backoff_max_s, 7 * 86400);
	assert_true(c->service.four_eyes);
	tc_config_unref(c);
	expect_errors(BASE "outbox: {backoff_base: 2h, backoff_max: 1h}\n",
	    "t.yaml: outbox.backoff_base: is above outbox.backoff_max\n");
	expect_errors(BASE "outbox: {lease: 5 minutes}\n",
	    "t.yaml:4:17: outbox.lease: \"5 minutes\" is not a duration (e.g. "
	    "300s, 5m, 2h, 1d)\n");
	tc_buf_deinit(&e);
}

static void
test_secret_file_permissions(void **state)
{
	char              path[64];
	FILE             *fp;
	struct tc_buf     e = TC_BUF_INIT;
	struct tc_err     err;
	struct tc_config *c;
	(void)state;

	snprintf(path, sizeof(path), "/tmp/tocsin-cfg-%d.yaml", getpid());
	fp = fopen(path, "w");
	fputs("smtp: {from: cert@example.be, username: u, password: s3cret}\n"
	      "gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567}\n"
	      "paths: {spool_dir: /s}\n",
	    fp);
	fclose(fp);
	chmod(path, 0644);
	assert_null(tc_config_load(path, &e, &err));
	assert_non_null(strstr(err.msg, "readable by group or others"));
	chmod(path, 0600);
	c = tc_config_load(path, &e, &err);
	assert_non_null(c);
	assert_string_equal(c->smtp.password, "s3cret");
	tc_buf_reset(&e);
	tc_config_dump(c, &e);
	assert_non_null(strstr(e.data, "smtp.password: ********\n"));
	assert_null(strstr(e.data, "s3cret"));
	tc_config_unref(c);
	/* A password inside the libpq string is not printed either. */
	c = parse("db: {conninfo: \"host=db password=pgs3cret\"}\n" BASE, &e);
	assert_non_null(c);
	tc_buf_reset(&e);
	tc_config_dump(c, &e);
	assert_null(strstr(e.data, "pgs3cret"));
	assert_non_null(strstr(e.data, "db.conninfo: (contains a password"));
	tc_config_unref(c);
	/* Missing file. */
	unlink(path);
	assert_null(tc_config_load(path, &e, &err));
	assert_non_null(strstr(err.msg, "No such file"));
	/* err may be NULL: the reason still reaches `errors`. */
	tc_buf_reset(&e);
	assert_null(tc_config_load(path, &e, NULL));
	assert_non_null(strstr(tc_buf_cstr(&e), "No such file"));
	tc_buf_deinit(&e);
}

static void
test_relay_schedule_and_time(void **state)
{
	struct tc_buf     e = TC_BUF_INIT;
	struct tc_config *c;
	(void)state;

	/* Defaults: daily, at 06:00 UTC. */
	c = parse(BASE, &e);
	assert_non_null(c);
	assert_int_equal(c->relay.schedule_s, 86400);
	assert_int_equal(c->relay.time_s, 6 * 3600);
	tc_config_unref(c);
	c = parse(BASE "relay: {schedule: 12h, time: \"23:59\"}\n", &e);
	assert_non_null(c);
	assert_int_equal(c->relay.schedule_s, 12 * 3600);
	assert_int_equal(c->relay.time_s, 23 * 3600 + 59 * 60);
	tc_buf_reset(&e);
	tc_config_dump(c, &e);
	assert_non_null(strstr(e.data, "relay.schedule: 43200s\n"));
	assert_non_null(strstr(e.data, "relay.time: \"23:59\"\n"));
	tc_config_unref(c);
	c = parse(BASE "relay: {schedule: off, time: \"00:00\"}\n", &e);
	assert_non_null(c);
	assert_int_equal(c->relay.schedule_s, 0);
	assert_int_equal(c->relay.time_s, 0);
	tc_config_unref(c);
	c = parse(BASE "relay: {schedule: 0}\n", &e);
	assert_non_null(c);
	assert_int_equal(c->relay.schedule_s, 0);
	tc_config_unref(c);
	tc_buf_deinit(&e);
	/* "off" only for durations that may be 0. */
	expect_errors(BASE "outbox: {lease: off}\n",
	    "t.yaml:4:17: outbox.lease: \"off\" is not a duration (e.g. 300s, "
	    "5m, 2h, 1d)\n");
	expect_errors(BASE "relay: {schedule: 32d}\n",
	    "t.yaml:4:19: relay.schedule: 32d is above 2678400\n");
	expect_errors(BASE "relay: {time: \"24:00\"}\n",
	    "t.yaml:4:15: relay.time: \"24:00\" is not a time of day HH:MM "
	    "(UTC)\n");
	expect_errors(BASE "relay: {time: \"6:00\"}\n",
	    "t.yaml:4:15: relay.time: \"6:00\" is not a time of day HH:MM "
	    "(UTC)\n");
	expect_errors(BASE "relay: {time: \"06:60\"}\n",
	    "t.yaml:4:15: relay.time: \"06:60\" is not a time of day HH:MM "
	    "(UTC)\n");
}

static void
test_shipped_samples_parse(void **state)
{
	struct tc_buf     e = TC_BUF_INIT;
	struct tc_err     err;
	struct tc_config *c;
	(void)state;

	/* The tests run from the repository root. */
	c = tc_config_load("etc/tocsin.yaml.sample", &e, &err);
	if (c == NULL)
		fail_msg("%s", tc_buf_cstr(&e));
	assert_int_equal(c->n_feeds, 1);
	tc_config_unref(c);
	c = tc_config_load("etc/tocsin.yaml", &e, &err);
	assert_non_null(c);
	tc_config_unref(c);
	tc_buf_deinit(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_each_error_names_line_column_and_key),
		cmocka_unit_test(test_relay_schedule_and_time),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_duplicate_key_and_pairing),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_durations_and_booleans),
		cmocka_unit_test(test_secret_file_permissions),
		cmocka_unit_test(test_shipped_samples_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

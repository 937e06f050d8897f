/* config: tocsin.yaml → one immutable, validated, refcounted snapshot.
 *
 * One option table (src/lib/config.c) drives parsing, bounds, defaults,
 * `tocsind -n` and tocsin.yaml(5).  Errors name file, line, column and key:
 * "tocsin.yaml:12:3: smtp.max_sessions: 40 is above 16".  Unknown keys, wrong
 * types and missing required values are errors; all are reported.  A file that
 * holds a secret (smtp.password) must be ours and not group/world-readable.
 * A snapshot is never modified after tc_config_load() returns, so any thread
 * may read it while it holds a reference; reload builds a new one. */
#ifndef TOCSIN_CONFIG_H
#define TOCSIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"
#include "tocsin/tlp.h"

enum tc_starttls {
	TC_STARTTLS_REQUIRED, /* default: no TLS, no mail */
	TC_STARTTLS_OPTIONAL,
	TC_STARTTLS_OFF,
};

/* A feed declared in the config (pulled or watched). */
struct tc_config_feed {
	char       *name;     /* [A-Za-z0-9_.-]{1,64} */
	char       *format;   /* auto shadowserver misp stix csaf kev ioc creds */
	char       *url;      /* http(s) URL to pull, or NULL (spool only) */
	unsigned    schedule_s; /* pull period; 0 = not pulled */
	enum tc_tlp default_tlp;
	char       *category; /* override, or NULL */
	uint64_t    max_bytes;
};

struct tc_config {
	char *path; /* the file it came from */

	struct {
		char *conninfo; /* "" = libpq's PG* environment */
	} db;
	struct {
		char            *host;
		unsigned         port;
		enum tc_starttls starttls;
		char            *username; /* NULL: no AUTH */
		char            *password; /* secret; NULL when no AUTH */
		char            *helo;     /* NULL: gethostname() */
		char            *from;     /* envelope and header From address */
		char            *from_name;
		unsigned         timeout_s;
		unsigned         max_sessions;
		unsigned         max_messages_per_session;
		char            *ca_file; /* extra CA for STARTTLS, or NULL */
	} smtp;
	struct {
		char    *homedir;     /* GNUPGHOME of the service keyring */
		char    *signing_key; /* 40-hex fingerprint of the CSIRT key */
		char    *archive_key; /* 40-hex, also encrypted to; or NULL */
		unsigned workers;
		bool     helpers; /* gpg runs in pgpproc.h helpers */
	} gpg;
	struct {
		char *spool_dir;     /* has incoming/ done/ failed/ */
		char *templates_dir; /* templates/<lang>/... */
		char *publish_dir;   /* Atom + CSAF output, or NULL */
	} paths;
	struct {
		char    *reference_prefix; /* "CCB-EWS" → CCB-EWS-2026-000042 */
		char    *control_socket;
		char    *analysts_group;
		bool     four_eyes;
		unsigned suppression_window_s;
	} service;
	struct {
		unsigned lease_s;
		unsigned batch;
		unsigned max_attempts;
		unsigned backoff_base_s;
		unsigned backoff_max_s;
	} outbox;
	struct {
		unsigned schedule_s; /* 0: no digests */
		unsigned time_s;     /* seconds after midnight UTC */
	} relay;
	struct {
		bool  syslog;
		char *level; /* crit err warning notice info debug */
	} log;
	struct {
		char *listen; /* "127.0.0.1:9464", or NULL: off */
	} metrics;

	struct tc_config_feed *feeds;
	size_t                 n_feeds;
};

/* Parse and validate `path`.  On error returns NULL, err->code TC_EINPUT
 * and every problem, one per line, in `errors` (may be NULL): each line is
 * "file:line:col: key: what is wrong".  The result has one reference. */
struct tc_config *tc_config_load(const char *path, struct tc_buf *errors,
    struct tc_err *err);
/* Same, from bytes in memory (`name` is used in messages); for tests and
 * the fuzzer.  No file-permission checks. */
struct tc_config *tc_config_parse(const char *name, const char *data,
    size_t len, struct tc_buf *errors, struct tc_err *err);
struct tc_config *tc_config_ref(struct tc_config *cfg);
/* Drops a reference; the last one frees (secrets are wiped).  NULL ok. */
void tc_config_unref(struct tc_config *cfg);
/* Print the effective configuration, secrets masked (tocsind -n -v). */
void tc_config_dump(const struct tc_config *cfg, struct tc_buf *out);

#endif

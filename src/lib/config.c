/* config: see include/tocsin/config.h.
 *
 * Design note.  The YAML file is loaded as a libyaml document (every node
 * keeps its line and column), then walked against one option table: each
 * row names a dotted key, its type, bounds, default and whether it is
 * required, and where it lands in struct tc_config.  Walking reports every
 * unknown key, wrong type and bad value, and a pass over the table reports
 * what is missing; only when the list is empty does a snapshot come out.
 * The same table documents the keys in tocsin.yaml(5). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "tocsin/config.h"
#include "tocsin/esc.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"
#include "tocsin/yamldoc.h"

#define CFG_FILE_MAX (1024 * 1024)
#define CFG_STR_MAX 4096
#define CFG_FEEDS_MAX 256
#define CFG_ERRORS_MAX 100

enum cfg_type {
	CFG_STR,   /* any string up to CFG_STR_MAX */
	CFG_UINT,  /* integer in [min, max] */
	CFG_SECS,  /* duration: 300, 300s, 5m, 2h, 1d, in [min, max] s */
	CFG_BOOL,  /* true/false/yes/no/on/off */
	CFG_FPR,   /* OpenPGP fingerprint: 40 hex, spaces dropped, upper */
	CFG_TLS,   /* required | optional | off */
	CFG_EMAIL, /* local@domain */
	CFG_PREFIX,/* [A-Z0-9-]{1,20} */
	CFG_LEVEL, /* log level name */
	CFG_HOSTPORT, /* ADDRESS:PORT */
	CFG_TOD,   /* time of day UTC "HH:MM", stored as seconds */
};

struct cfg_opt {
	const char   *key;
	enum cfg_type type;
	uint64_t      min, max;
	const char   *def;      /* NULL: no default */
	bool          required;
	size_t        off;
	const char   *doc;
};

#define OFF(f) offsetof(struct tc_config, f)

static const struct cfg_opt cfg_opts[] = {
	{ "db.conninfo", CFG_STR, 0, 0, "", false, OFF(db.conninfo),
	    "libpq connection string; empty uses the PG* environment" },
	{ "smtp.host", CFG_STR, 0, 0, "127.0.0.1", false, OFF(smtp.host),
	    "SMTP relay host" },
	{ "smtp.port", CFG_UINT, 1, 65535, "25", false, OFF(smtp.port),
	    "SMTP relay port" },
	{ "smtp.starttls", CFG_TLS, 0, 0, "required", false,
	    OFF(smtp.starttls), "required, optional or off" },
	{ "smtp.username", CFG_STR, 0, 0, NULL, false, OFF(smtp.username),
	    "AUTH user; absent: no AUTH" },
	{ "smtp.password", CFG_STR, 0, 0, NULL, false, OFF(smtp.password),
	    "AUTH password (the file must then be mode 0600 or stricter)" },
	{ "smtp.helo", CFG_STR, 0, 0, NULL, false, OFF(smtp.helo),
	    "EHLO name; absent: the host name" },
	{ "smtp.from", CFG_EMAIL, 0, 0, NULL, true, OFF(smtp.from),
	    "envelope and header From address" },
	{ "smtp.from_name", CFG_STR, 0, 0, "", false, OFF(smtp.from_name),
	    "display name of the From address" },
	{ "smtp.timeout", CFG_SECS, 5, 600, "60s", false, OFF(smtp.timeout_s),
	    "timeout of each SMTP step" },
	{ "smtp.max_sessions", CFG_UINT, 1, 16, "2", false,
	    OFF(smtp.max_sessions), "parallel SMTP sessions" },
	{ "smtp.max_messages_per_session", CFG_UINT, 1, 10000, "100", false,
	    OFF(smtp.max_messages_per_session), "messages per session" },
	{ "smtp.ca_file", CFG_STR, 0, 0, NULL, false, OFF(smtp.ca_file),
	    "extra CA bundle for STARTTLS" },
	{ "gpg.homedir", CFG_STR, 0, 0, "/var/lib/tocsin/gnupg", false,
	    OFF(gpg.homedir),
	    "GNUPGHOME of the service keyring" },
	{ "gpg.signing_key", CFG_FPR, 0, 0, NULL, true, OFF(gpg.signing_key),
	    "fingerprint of the CSIRT signing key" },
	{ "gpg.archive_key", CFG_FPR, 0, 0, NULL, false, OFF(gpg.archive_key),
	    "fingerprint also encrypted to, so sent mail stays readable" },
	{ "gpg.workers", CFG_UINT, 1, 16, "2", false, OFF(gpg.workers),
	    "parallel signing/encryption jobs" },
	{ "gpg.helpers", CFG_BOOL, 0, 0, "true", false, OFF(gpg.helpers),
	    "run gpg from small helper processes (false: from tocsind)" },
	{ "paths.spool_dir", CFG_STR, 0, 0, NULL, true, OFF(paths.spool_dir),
	    "feed spool with incoming/ done/ failed/" },
	{ "paths.templates_dir", CFG_STR, 0, 0, "templates", false,
	    OFF(paths.templates_dir), "templates/<lang>/..." },
	{ "paths.publish_dir", CFG_STR, 0, 0, NULL, false,
	    OFF(paths.publish_dir), "Atom and CSAF output of TLP:CLEAR advisories" },
	{ "service.reference_prefix", CFG_PREFIX, 0, 0, "CSIRT-EWS", false,
	    OFF(service.reference_prefix), "reference prefix, e.g. CCB-EWS" },
	{ "service.control_socket", CFG_STR, 0, 0, "/run/tocsin/control.sock",
	    false, OFF(service.control_socket), "control socket path" },
	{ "service.analysts_group", CFG_STR, 0, 0, "tocsin", false,
	    OFF(service.analysts_group), "group allowed on the control socket" },
	{ "service.four_eyes", CFG_BOOL, 0, 0, "true", false,
	    OFF(service.four_eyes), "advisories need a second analyst" },
	{ "service.suppression_window", CFG_SECS, 0, 366 * 86400, "7d", false,
	    OFF(service.suppression_window_s),
	    "a finding is not re-sent within this window" },
	{ "outbox.lease", CFG_SECS, 30, 3600, "300s", false, OFF(outbox.lease_s),
	    "claim lease of a batch" },
	{ "outbox.batch", CFG_UINT, 1, 1000, "50", false, OFF(outbox.batch),
	    "messages claimed at once" },
	{ "outbox.max_attempts", CFG_UINT, 1, 100, "12", false,
	    OFF(outbox.max_attempts), "attempts before a message fails" },
	{ "outbox.backoff_base", CFG_SECS, 1, 86400, "60s", false,
	    OFF(outbox.backoff_base_s), "first retry delay" },
	{ "outbox.backoff_max", CFG_SECS, 1, 7 * 86400, "6h", false,
	    OFF(outbox.backoff_max_s), "longest retry delay" },
	{ "relay.schedule", CFG_SECS, 0, 31 * 86400, "1d", false,
	    OFF(relay.schedule_s),
	    "how often the sector authorities get a digest; 0 or off: never" },
	{ "relay.time", CFG_TOD, 0, 0, "06:00", false, OFF(relay.time_s),
	    "time of day (UTC, HH:MM) a digest period ends and it is sent" },
	{ "log.syslog", CFG_BOOL, 0, 0, "false", false, OFF(log.syslog),
	    "log to syslog instead of stderr" },
	{ "log.level", CFG_LEVEL, 0, 0, "info", false, OFF(log.level),
	    "crit, err, warning, notice, info or debug" },
	{ "metrics.listen", CFG_HOSTPORT, 0, 0, NULL, false,
	    OFF(metrics.listen), "loopback ADDRESS:PORT of /metrics; absent: off" },
};

/* Keys of one feed entry (feeds: [ ... ]). */
enum feed_key { FK_NAME, FK_FORMAT, FK_URL, FK_SCHEDULE, FK_TLP, FK_CATEGORY,
	FK_MAX_BYTES, FK_COUNT };
static const char *const feed_keys[FK_COUNT] = { "name", "format", "url",
	"schedule", "default_tlp", "category", "max_bytes" };
static const char *const feed_formats[] = { "auto", "shadowserver", "misp",
	"stix", "csaf", "kev", "ioc", "creds", "cve", NULL };
static const char *const categories[] = { "vulnerable_service",
	"exposed_service", "compromised_host", "compromised_website",
	"malicious_infra", "leaked_credentials", "vulnerable_product", "other",
	NULL };

struct refcounted {
	atomic_uint      refs;
	struct tc_config cfg;
};

struct parse {
	const char    *name;
	yaml_document_t doc;
	struct tc_buf *errors;
	unsigned       n_errors;
	bool           seen[TC_NELEM(cfg_opts)];
	struct tc_config *cfg;
};

static void
perr(struct parse *p, const yaml_node_t *n, const char *key, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
perr(struct parse *p, const yaml_node_t *n, const char *key, const char *fmt,
    ...)
{
	va_list ap;

	p->n_errors++;
	if (p->errors == NULL || p->n_errors > CFG_ERRORS_MAX)
		return;
	if (n != NULL)
		tc_buf_printf(p->errors, "%s:%zu:%zu: ", p->name,
		    n->start_mark.line + 1, n->start_mark.column + 1);
	else
		tc_buf_printf(p->errors, "%s: ", p->name);
	if (key != NULL)
		tc_buf_printf(p->errors, "%s: ", key);
	va_start(ap, fmt);
	tc_buf_vprintf(p->errors, fmt, ap);
	va_end(ap);
	tc_buf_putc(p->errors, '\n');
}

static const char *
scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
					   : NULL;
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "empty";
	}
}

/* Durations: "300", "300s", "5m", "2h", "1d". */
static int
parse_secs(const char *s, uint64_t *out)
{
	size_t   n = strlen(s);
	uint64_t mul = 1, v;

	if (n == 0)
		return TC_EINPUT;
	switch (s[n - 1]) {
	case 's':
		n--;
		break;
	case 'm':
		mul = 60, n--;
		break;
	case 'h':
		mul = 3600, n--;
		break;
	case 'd':
		mul = 86400, n--;
		break;
	}
	if (tc_parse_uint_n(s, n, 0, UINT32_MAX, &v) < 0)
		return TC_EINPUT;
	*out = v * mul;
	return 0;
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };

	for (int i = 0; yes[i]; i++)
		if (tc_str_case_eq(s, yes[i]))
			return *out = true, true;
	for (int i = 0; no[i]; i++)
		if (tc_str_case_eq(s, no[i]))
			return *out = false, true;
	return false;
}

/* Fingerprint: 40 hex digits, spaces allowed on input; upper-cased. */
static char *
parse_fpr(const char *s)
{
	char   out[41];
	size_t n = 0;

	for (; *s; s++) {
		if (*s == ' ')
			continue;
		if (n == 40 || !((*s >= '0' && *s <= '9') ||
				   (*s >= 'a' && *s <= 'f') ||
				   (*s >= 'A' && *s <= 'F')))
			return NULL;
		out[n++] = (*s >= 'a' && *s <= 'f') ? (char)(*s - 32) : *s;
	}
	if (n != 40)
		return NULL;
	out[40] = '\0';
	return tc_xstrdup(out);
}

static bool
email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || strchr(at + 1, '@') || at[1] == '\0' ||
	    strlen(s) > 254)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '<' ||
		    *s == '>' || *s == '"' || *s == ',' || *s == ';' ||
		    *s == '\\' || *s == '(' || *s == ')')
			return false;
	return strchr(at, '.') != NULL;
}

static bool
prefix_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 20)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
			*s == '-'))
			return false;
	return true;
}

static bool
in_list(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static const char *const levels[] = { "crit", "err", "warning", "notice",
	"info", "debug", NULL };

static bool
hostport_ok(const char *s)
{
	const char *c = strrchr(s, ':');
	uint64_t    port;

	return c != NULL && c != s &&
	    tc_parse_uint(c + 1, 0, 65535, &port) == 0;
}

/* Store `value` (text from the file or a default) into the field of `o`.
 * `n` is NULL for defaults. */
static void
set_value(struct parse *p, const struct cfg_opt *o, const yaml_node_t *n,
    const char *value)
{
	char    *base = (char *)p->cfg + o->off;
	uint64_t v, mins;
	bool     b;

	if (strlen(value) > CFG_STR_MAX) {
		perr(p, n, o->key, "longer than %d bytes", CFG_STR_MAX);
		return;
	}
	switch (o->type) {
	case CFG_STR:
		if (strchr(value, '\n') || strchr(value, '\r')) {
			perr(p, n, o->key, "must be a single line");
			return;
		}
		free(*(char **)base);
		*(char **)base = tc_xstrdup(value);
		return;
	case CFG_UINT:
		if (tc_parse_uint(value, 0, UINT32_MAX, &v) < 0) {
			perr(p, n, o->key, "\"%s\" is not a whole number",
			    tc_esc(value));
			return;
		}
		goto range;
	case CFG_SECS:
		/* "off" is 0 for the durations that may be 0. */
		if (o->min == 0 && strcmp(value, "off") == 0) {
			*(unsigned *)base = 0;
			return;
		}
		if (parse_secs(value, &v) < 0) {
			perr(p, n, o->key,
			    "\"%s\" is not a duration (e.g. 300s, 5m, 2h, 1d)",
			    tc_esc(value));
			return;
		}
	range:
		if (v < o->min) {
			perr(p, n, o->key, "%s is below %llu", tc_esc(value),
			    (unsigned long long)o->min);
			return;
		}
		if (v > o->max) {
			perr(p, n, o->key, "%s is above %llu", tc_esc(value),
			    (unsigned long long)o->max);
			return;
		}
		*(unsigned *)base = (unsigned)v;
		return;
	case CFG_TOD:
		if (strlen(value) != 5 || value[2] != ':' ||
		    tc_parse_uint_n(value, 2, 0, 23, &v) < 0 ||
		    tc_parse_uint_n(value + 3, 2, 0, 59, &mins) < 0) {
			perr(p, n, o->key,
			    "\"%s\" is not a time of day HH:MM (UTC)",
			    tc_esc(value));
			return;
		}
		*(unsigned *)base = (unsigned)(v * 3600 + mins * 60);
		return;
	case CFG_BOOL:
		if (!parse_bool(value, &b)) {
			perr(p, n, o->key, "\"%s\" is not true or false",
			    tc_esc(value));
			return;
		}
		*(bool *)base = b;
		return;
	case CFG_FPR: {
		char *f = parse_fpr(value);

		if (f == NULL) {
			perr(p, n, o->key,
			    "\"%s\" is not a fingerprint of 40 hex digits",
			    tc_esc(value));
			return;
		}
		free(*(char **)base);
		*(char **)base = f;
		return;
	}
	case CFG_TLS:
		if (strcmp(value, "required") == 0)
			*(enum tc_starttls *)base = TC_STARTTLS_REQUIRED;
		else if (strcmp(value, "optional") == 0)
			*(enum tc_starttls *)base = TC_STARTTLS_OPTIONAL;
		else if (strcmp(value, "off") == 0)
			*(enum tc_starttls *)base = TC_STARTTLS_OFF;
		else
			perr(p, n, o->key,
			    "\"%s\" is not required, optional or off",
			    tc_esc(value));
		return;
	case CFG_EMAIL:
	case CFG_PREFIX:
	case CFG_LEVEL:
	case CFG_HOSTPORT:
		if ((o->type == CFG_EMAIL && !email_ok(value)) ||
		    (o->type == CFG_PREFIX && !prefix_ok(value)) ||
		    (o->type == CFG_LEVEL && !in_list(value, levels)) ||
		    (o->type == CFG_HOSTPORT && !hostport_ok(value))) {
			perr(p, n, o->key, "\"%s\" is not %s", tc_esc(value),
			    o->type == CFG_EMAIL    ? "an email address"
			    : o->type == CFG_PREFIX ? "a prefix of 1-20 A-Z, "
						      "0-9 and -"
			    : o->type == CFG_LEVEL  ? "a log level"
						    : "ADDRESS:PORT");
			return;
		}
		free(*(char **)base);
		*(char **)base = tc_xstrdup(value);
		return;
	}
}

static const struct cfg_opt *
opt_find(const char *key, size_t *idx)
{
	for (size_t i = 0; i < TC_NELEM(cfg_opts); i++)
		if (strcmp(cfg_opts[i].key, key) == 0) {
			*idx = i;
			return &cfg_opts[i];
		}
	return NULL;
}

static bool
is_section(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < TC_NELEM(cfg_opts); i++)
		if (strncmp(cfg_opts[i].key, name, n) == 0 &&
		    cfg_opts[i].key[n] == '.')
			return true;
	return false;
}

static void
walk_feed(struct parse *p, const yaml_node_t *n, size_t idx)
{
	struct tc_config_feed *f = &p->cfg->feeds[idx];
	char                   where[64];
	bool                   seen[FK_COUNT] = { false };

	snprintf(where, sizeof(where), "feeds[%zu]", idx);
	f->default_tlp = TC_TLP_AMBER;
	if (n->type != YAML_MAPPING_NODE) {
		perr(p, n, where, "must be a mapping, not %s", node_kind(n));
		return;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&p->doc, pr->value);
		const char  *ks = scalar(k), *vs = scalar(v);
		char         key[96];
		int          fk = -1;
		uint64_t     u;

		for (int i = 0; ks && i < FK_COUNT; i++)
			if (strcmp(ks, feed_keys[i]) == 0)
				fk = i;
		snprintf(key, sizeof(key), "%s.%s", where, ks ? tc_esc(ks) : "?");
		if (fk < 0) {
			perr(p, k, key, "unknown key");
			continue;
		}
		if (seen[fk]) {
			perr(p, k, key, "given twice");
			continue;
		}
		seen[fk] = true;
		if (vs == NULL) {
			perr(p, v, key, "must be a scalar, not %s",
			    node_kind(v));
			continue;
		}
		switch (fk) {
		case FK_NAME: {
			bool ok = *vs && strlen(vs) <= 64;

			for (const char *c = vs; ok && *c; c++)
				ok = (*c >= 'a' && *c <= 'z') ||
				    (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || *c == '_' ||
				    *c == '.' || (*c == '-' && c[1] != '-');
			if (!ok)
				perr(p, v, key,
				    "\"%s\" is not 1-64 of A-Z a-z 0-9 _ . - "
				    "(no \"--\")",
				    tc_esc(vs));
			else
				f->name = tc_xstrdup(vs);
			break;
		}
		case FK_FORMAT:
			if (!in_list(vs, feed_formats))
				perr(p, v, key,
				    "\"%s\" is not one of auto shadowserver "
				    "misp stix csaf kev ioc creds cve",
				    tc_esc(vs));
			else
				f->format = tc_xstrdup(vs);
			break;
		case FK_URL:
			if (!tc_str_has_prefix(vs, "http://") &&
			    !tc_str_has_prefix(vs, "https://"))
				perr(p, v, key, "must be an http(s):// URL");
			else if (strlen(vs) > 2048)
				perr(p, v, key, "longer than 2048 bytes");
			else
				f->url = tc_xstrdup(vs);
			break;
		case FK_SCHEDULE:
			if (parse_secs(vs, &u) < 0 || u < 60 || u > 7 * 86400)
				perr(p, v, key,
				    "\"%s\" is not a duration from 60s to 7d",
				    tc_esc(vs));
			else
				f->schedule_s = (unsigned)u;
			break;
		case FK_TLP:
			if (tc_tlp_parse(vs, &f->default_tlp) < 0)
				perr(p, v, key, "\"%s\" is not a TLP 2.0 label",
				    tc_esc(vs));
			break;
		case FK_CATEGORY:
			if (!in_list(vs, categories))
				perr(p, v, key, "\"%s\" is not a category",
				    tc_esc(vs));
			else
				f->category = tc_xstrdup(vs);
			break;
		case FK_MAX_BYTES:
			if (tc_parse_uint(vs, 1, UINT64_MAX / 2, &u) < 0)
				perr(p, v, key, "\"%s\" is not a byte count",
				    tc_esc(vs));
			else
				f->max_bytes = u;
			break;
		}
	}
	if (!seen[FK_NAME])
		perr(p, n, where, "name is required");
	if (!seen[FK_FORMAT])
		f->format = tc_xstrdup("auto");
	if (f->url != NULL && f->schedule_s == 0)
		perr(p, n, where, "a feed with a url needs a schedule");
	if (f->max_bytes == 0)
		f->max_bytes = 4ULL << 30; /* 4 GiB */
	for (size_t i = 0; f->name && i < idx; i++)
		if (p->cfg->feeds[i].name &&
		    strcmp(p->cfg->feeds[i].name, f->name) == 0)
			perr(p, n, where, "feed name \"%s\" used twice",
			    f->name);
}

static void
walk_feeds(struct parse *p, const yaml_node_t *n)
{
	size_t count;

	if (n->type != YAML_SEQUENCE_NODE) {
		perr(p, n, "feeds", "must be a list, not %s", node_kind(n));
		return;
	}
	count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (count > CFG_FEEDS_MAX) {
		perr(p, n, "feeds", "more than %d feeds", CFG_FEEDS_MAX);
		return;
	}
	p->cfg->feeds = tc_xcalloc(count + 1, sizeof(*p->cfg->feeds));
	p->cfg->n_feeds = count;
	for (size_t i = 0; i < count; i++)
		walk_feed(p,
		    yaml_document_get_node(&p->doc,
			n->data.sequence.items.start[i]),
		    i);
}

static void
walk_section(struct parse *p, const char *section, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE) {
		perr(p, n, section, "must be a mapping, not %s", node_kind(n));
		return;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t          *k = yaml_document_get_node(&p->doc, pr->key);
		yaml_node_t          *v = yaml_document_get_node(&p->doc,
                    pr->value);
		const char           *ks = scalar(k), *vs;
		const struct cfg_opt *o;
		char                  key[128];
		size_t                idx;

		snprintf(key, sizeof(key), "%s.%s", section,
		    ks ? tc_esc(ks) : "?");
		if (ks == NULL || (o = opt_find(key, &idx)) == NULL) {
			perr(p, k, key, "unknown key");
			continue;
		}
		if (p->seen[idx]) {
			perr(p, k, key, "given twice");
			continue;
		}
		p->seen[idx] = true;
		if ((vs = scalar(v)) == NULL) {
			perr(p, v, key, "must be a scalar, not %s",
			    node_kind(v));
			continue;
		}
		if (*vs == '\0' && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    o->type != CFG_STR) {
			perr(p, v, key, "has no value");
			continue;
		}
		set_value(p, o, v, vs);
	}
}

static void
config_free_fields(struct tc_config *c)
{
	for (size_t i = 0; i < TC_NELEM(cfg_opts); i++) {
		enum cfg_type t = cfg_opts[i].type;
		char         *base = (char *)c + cfg_opts[i].off;

		if (t == CFG_STR || t == CFG_FPR || t == CFG_EMAIL ||
		    t == CFG_PREFIX || t == CFG_LEVEL || t == CFG_HOSTPORT) {
			char **s = (char **)base;

			if (*s != NULL && s == &c->smtp.password)
				explicit_bzero(*s, strlen(*s));
			free(*s);
			*s = NULL;
		}
	}
	for (size_t i = 0; i < c->n_feeds; i++) {
		free(c->feeds[i].name);
		free(c->feeds[i].format);
		free(c->feeds[i].url);
		free(c->feeds[i].category);
	}
	free(c->feeds);
	free(c->path);
}

struct tc_config *
tc_config_parse(const char *name, const char *data, size_t len,
    struct tc_buf *errors, struct tc_err *err)
{
	struct refcounted *rc = tc_xcalloc(1, sizeof(*rc));
	struct parse       p = { 0 };
	yaml_node_t       *root;

	p.name = name;
	p.errors = errors;
	p.cfg = &rc->cfg;
	rc->cfg.path = tc_xstrdup(name);
	if (len > CFG_FILE_MAX) {
		perr(&p, NULL, NULL, "larger than %d bytes", CFG_FILE_MAX);
		goto fail;
	}
	if (tc_yaml_load(name, data, len, &p.doc, errors) < 0) {
		p.n_errors++;
		goto fail;
	}
	root = yaml_document_get_root_node(&p.doc);
	if (root == NULL) {
		perr(&p, NULL, NULL, "empty configuration");
	} else if (root->type != YAML_MAPPING_NODE) {
		perr(&p, root, NULL, "the top level must be a mapping");
	} else {
		bool        feeds_seen = false;
		const char *sections[32];
		size_t      n_sections = 0;

		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&p.doc,
			    pr->key);
			yaml_node_t *v = yaml_document_get_node(&p.doc,
			    pr->value);
			const char  *ks = scalar(k);

			if (ks != NULL && strcmp(ks, "feeds") == 0) {
				if (feeds_seen)
					perr(&p, k, "feeds", "given twice");
				else
					walk_feeds(&p, v);
				feeds_seen = true;
			} else if (ks != NULL && is_section(ks)) {
				bool twice = false;

				for (size_t i = 0; i < n_sections; i++)
					twice |= strcmp(sections[i], ks) == 0;
				if (twice) {
					perr(&p, k, ks, "given twice");
					continue;
				}
				if (n_sections < TC_NELEM(sections))
					sections[n_sections++] = ks;
				walk_section(&p, ks, v);
			} else {
				perr(&p, k, ks ? tc_esc(ks) : "?",
				    "unknown key");
			}
		}
	}
	/* Defaults, then what is missing. */
	for (size_t i = 0; i < TC_NELEM(cfg_opts); i++) {
		if (p.seen[i])
			continue;
		if (cfg_opts[i].required)
			perr(&p, NULL, cfg_opts[i].key, "is required");
		else if (cfg_opts[i].def != NULL)
			set_value(&p, &cfg_opts[i], NULL, cfg_opts[i].def);
	}
	if ((rc->cfg.smtp.username == NULL) != (rc->cfg.smtp.password == NULL))
		perr(&p, NULL, "smtp", "username and password go together");
	/* AUTH over a connection that may be clear would show the password
	 * to the network. */
	if (rc->cfg.smtp.password != NULL &&
	    rc->cfg.smtp.starttls != TC_STARTTLS_REQUIRED)
		perr(&p, NULL, "smtp.starttls",
		    "must be required when smtp.password is set (AUTH would "
		    "go in clear)");
	if (rc->cfg.outbox.backoff_base_s > rc->cfg.outbox.backoff_max_s)
		perr(&p, NULL, "outbox.backoff_base",
		    "is above outbox.backoff_max");
	yaml_document_delete(&p.doc);
fail:
	if (p.n_errors > CFG_ERRORS_MAX && errors)
		tc_buf_printf(errors, "%s: ... and %u more errors\n", name,
		    p.n_errors - CFG_ERRORS_MAX);
	if (p.n_errors > 0) {
		config_free_fields(&rc->cfg);
		free(rc);
		tc_err_set(err, TC_EINPUT, "%s: %u error%s in the configuration",
		    name, p.n_errors, p.n_errors == 1 ? "" : "s");
		return NULL;
	}
	atomic_init(&rc->refs, 1);
	return &rc->cfg;
}

struct tc_config *
tc_config_load(const char *path, struct tc_buf *errors, struct tc_err *err)
{
	struct tc_config *cfg;
	struct stat       st;
	struct tc_buf     data = TC_BUF_INIT;
	char              chunk[65536];
	ssize_t           n;
	int               fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;

		tc_err_set(err, -e, "%s: %s", path, strerror(e));
		if (errors)
			tc_buf_printf(errors, "%s: %s\n", path, strerror(e));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		tc_err_set(err, TC_EINPUT, "%s: not a regular file", path);
		if (errors)
			tc_buf_printf(errors, "%s: not a regular file\n", path);
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		tc_buf_append(&data, chunk, (size_t)n);
		if (data.len > CFG_FILE_MAX)
			break;
	}
	if (n < 0) {
		int e = errno;

		close(fd);
		tc_buf_deinit_secret(&data);
		tc_err_set(err, -e, "%s: read: %s", path, strerror(e));
		if (errors)
			tc_buf_printf(errors, "%s: read: %s\n", path, strerror(e));
		return NULL;
	}
	close(fd);
	cfg = tc_config_parse(path, tc_buf_cstr(&data), data.len, errors, err);
	tc_buf_deinit_secret(&data);
	/* A file holding a secret must be ours and not readable by others
	 * (smtpd's check_file_secrecy). */
	if (cfg != NULL && cfg->smtp.password != NULL &&
	    (st.st_uid != geteuid() || (st.st_mode & 077) != 0)) {
		const char *why = st.st_uid != geteuid()
		    ? "owned by another user"
		    : "readable by group or others";

		tc_config_unref(cfg);
		tc_err_set(err, TC_EINPUT,
		    "%s: holds smtp.password but is %s: chmod 600 and chown "
		    "to the service user",
		    path, why);
		if (errors)
			tc_buf_printf(errors,
			    "%s: holds smtp.password but is %s: chmod 600 and "
			    "chown to the service user\n",
			    path, why);
		return NULL;
	}
	return cfg;
}

struct tc_config *
tc_config_ref(struct tc_config *cfg)
{
	struct refcounted *rc = container_of(cfg, struct refcounted, cfg);

	atomic_fetch_add(&rc->refs, 1);
	return cfg;
}

void
tc_config_unref(struct tc_config *cfg)
{
	struct refcounted *rc;

	if (cfg == NULL)
		return;
	rc = container_of(cfg, struct refcounted, cfg);
	if (atomic_fetch_sub(&rc->refs, 1) != 1)
		return;
	config_free_fields(cfg);
	free(rc);
}

void
tc_config_dump(const struct tc_config *cfg, struct tc_buf *out)
{
	for (size_t i = 0; i < TC_NELEM(cfg_opts); i++) {
		const struct cfg_opt *o = &cfg_opts[i];
		const char           *base = (const char *)cfg + o->off;

		tc_buf_printf(out, "%s: ", o->key);
		switch (o->type) {
		case CFG_UINT:
		case CFG_SECS:
			tc_buf_printf(out, "%u%s\n", *(const unsigned *)base,
			    o->type == CFG_SECS ? "s" : "");
			break;
		case CFG_BOOL:
			tc_buf_printf(out, "%s\n",
			    *(const bool *)base ? "true" : "false");
			break;
		case CFG_TOD: {
			unsigned t = *(const unsigned *)base;

			tc_buf_printf(out, "\"%02u:%02u\"\n", t / 3600,
			    t / 60 % 60);
			break;
		}
		case CFG_TLS: {
			enum tc_starttls t = *(const enum tc_starttls *)base;

			tc_buf_printf(out, "%s\n",
			    t == TC_STARTTLS_REQUIRED   ? "required"
			    : t == TC_STARTTLS_OPTIONAL ? "optional"
							: "off");
			break;
		}
		default: {
			const char *s = *(char *const *)base;

			if (s != NULL && strcmp(o->key, "smtp.password") == 0)
				s = "********";
			if (s != NULL && strcmp(o->key, "db.conninfo") == 0 &&
			    strstr(s, "password") != NULL)
				/* A libpq string may carry a password: never
				 * print it. */
				s = "(contains a password: not shown)";
			tc_buf_printf(out, "%s\n", s ? tc_esc(s) : "~");
		}
		}
	}
	for (size_t i = 0; i < cfg->n_feeds; i++)
		tc_buf_printf(out,
		    "feeds[%zu]: name=%s format=%s url=%s schedule=%us "
		    "default_tlp=%s category=%s max_bytes=%llu\n",
		    i, cfg->feeds[i].name, cfg->feeds[i].format,
		    cfg->feeds[i].url ? tc_esc(cfg->feeds[i].url) : "~",
		    cfg->feeds[i].schedule_s,
		    tc_tlp_label(cfg->feeds[i].default_tlp),
		    cfg->feeds[i].category ? cfg->feeds[i].category : "~",
		    (unsigned long long)cfg->feeds[i].max_bytes);
}

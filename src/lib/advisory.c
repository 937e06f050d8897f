/* advisory: parse and validate an advisory file, its template context,
 * its mail and its public documents (advisory.h).  The database and file
 * side is advisory_db.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "tocsin/advisory.h"
#include "tocsin/compose.h"
#include "tocsin/event.h"
#include "tocsin/index.h"
#include "tocsin/mem.h"
#include "tocsin/mime.h"
#include "tocsin/str.h"
#include "tocsin/yamldoc.h"

/* The schema's nis2_sector enum (schema/0001_registry.sql). */
static const char *const sectors[] = { "energy", "transport", "banking",
	"financial_market_infrastructure", "health", "drinking_water",
	"waste_water", "digital_infrastructure", "ict_service_management",
	"public_administration", "space", "postal_and_courier",
	"waste_management", "chemicals", "food", "manufacturing",
	"digital_providers", "research", NULL };
static const char *const langs[] = { "en", "fr", "nl", "de", NULL };

struct parse {
	const char     *name;
	yaml_document_t doc;
	struct tc_buf  *errors;
	unsigned        n_errors;
	enum tc_tlp     tlp;
	bool            have_tlp;
};

static void perr(struct parse *p, const yaml_node_t *n, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
perr(struct parse *p, const yaml_node_t *n, const char *field, const char *fmt,
    ...)
{
	va_list ap;

	if (++p->n_errors > TC_ADVISORY_ERRORS_MAX || p->errors == NULL)
		return;
	va_start(ap, fmt);
	tc_yaml_verror(p->errors, p->name, n, field, fmt, ap);
	va_end(ap);
}

static yaml_node_t *
node(struct parse *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static bool
in_set(const char *const *set, const char *s)
{
	for (; *set; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

/* A scalar's value (NUL-free, valid UTF-8), or NULL after an error. */
static const char *
scalar(struct parse *p, const yaml_node_t *n, const char *field)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE) {
		perr(p, n, field, "expected a string");
		return NULL;
	}
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length ||
	    !tc_utf8_is_valid(s, n->data.scalar.length)) {
		perr(p, n, field, "not valid UTF-8 text");
		return NULL;
	}
	return s;
}

/* Control characters: C0 (but for the allowed newline and tab), DEL and
 * C1 (U+0080..U+009F), the line and paragraph separators. */
static bool
has_control(const char *s, bool multiline)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u; u++) {
		if (*u < 0x20 && !(multiline && (*u == '\n' || *u == '\t')))
			return true;
		if (*u == 0x7f)
			return true;
		if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			return true;
		if (u[0] == 0xe2 && u[1] == 0x80 &&
		    (u[2] == 0xa8 || u[2] == 0xa9))
			return true;
	}
	return false;
}

static json_t *
text(struct parse *p, const yaml_node_t *n, const char *field, size_t max,
    bool multiline)
{
	const char *s = scalar(p, n, field);
	size_t      len;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len == 0) {
		perr(p, n, field, "empty");
		return NULL;
	}
	if (len > max) {
		perr(p, n, field, "longer than %zu bytes", max);
		return NULL;
	}
	if (has_control(s, multiline)) {
		perr(p, n, field, "control characters are not allowed%s",
		    multiline ? "" : " (it becomes a mail subject)");
		return NULL;
	}
	return json_string(s);
}

static bool
is_cve(const char *s)
{
	size_t n = strlen(s), digits = 0;

	if (n < 13 || n > 20 || strncasecmp(s, "CVE-", 4) != 0)
		return false;
	for (size_t i = 4; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (s[8] != '-')
		return false;
	for (size_t i = 9; i < n; i++, digits++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return digits >= 4;
}

static bool
is_email(const char *s)
{
	const char *at = strchr(s, '@');
	size_t      n = strlen(s);

	if (n < 3 || n > 254 || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f ||
		    strchr("<>\",;()[]\\", *c) != NULL)
			return false;
	return strchr(at + 1, '.') != NULL && at[strlen(at) - 1] != '.';
}

static bool
is_url(const char *s)
{
	const char *host;

	if (tc_str_has_prefix(s, "https://"))
		host = s + 8;
	else if (tc_str_has_prefix(s, "http://"))
		host = s + 7;
	else
		return false;
	if (*host == '\0' || *host == '/')
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f ||
		    *c == '"' || *c == '<' || *c == '>')
			return false;
	return true;
}

/* "cpe:2.3:a:vendor:product:version:..." split into its 13 components;
 * vendor and product neither empty nor "*".  0 or -1. */
static int
cpe_split(const char *cpe, char parts[13][TC_ADVISORY_CPE_MAX + 1])
{
	size_t k = 0, j = 0;

	if (!tc_str_has_prefix(cpe, "cpe:2.3:") ||
	    strlen(cpe) > TC_ADVISORY_CPE_MAX)
		return -1;
	for (const char *c = cpe;; c++) {
		if (*c == '\\' && c[1] != '\0') { /* an escaped character */
			if (!ispunct((unsigned char)c[1]))
				return -1;
			parts[k][j++] = *c++;
			parts[k][j++] = *c;
			continue;
		}
		if (*c == ':' || *c == '\0') {
			parts[k][j] = '\0';
			if (*c == '\0')
				break;
			if (++k == 13)
				return -1;
			j = 0;
			continue;
		}
		/* CPE 2.3 formatted string: other punctuation is escaped. */
		if (!isalnum((unsigned char)*c) && !strchr("._-*?", *c))
			return -1;
		parts[k][j++] = (char)tolower((unsigned char)*c);
	}
	if (k != 12 || strlen(parts[2]) != 1 || !strchr("aho", parts[2][0]))
		return -1;
	for (int i = 3; i <= 4; i++)
		if (parts[i][0] == '\0' || strcmp(parts[i], "*") == 0 ||
		    strcmp(parts[i], "-") == 0)
			return -1;
	return 0;
}

static bool
version_ok(const char *v)
{
	if (*v == '\0' || strlen(v) > 100)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("._+~-", *v))
			return false;
	return true;
}

/* ">= 2.0, < 2.4.1", "= 1.2", "1.2", "<= 3": clauses separated by commas,
 * at most one lower and one upper bound, or one exact version.  Fills `p`
 * (may be NULL).  0 or -1. */
static int
range_parse(const char *s, struct tc_product *p)
{
	char  buf[256];
	char *c, *next;
	int   lower = 0, upper = 0, exact = 0;

	if (tc_strlcpy(buf, s, sizeof(buf)) < 0)
		return -1;
	for (c = buf; c != NULL; c = next) {
		char *t;
		char  op = 0;
		bool  incl = false;

		next = strchr(c, ',');
		if (next != NULL)
			*next++ = '\0';
		t = tc_str_trim(c);
		if (*t == '<' || *t == '>') {
			op = *t++;
			if (*t == '=')
				incl = true, t++;
		} else if (*t == '=') {
			t++;
		}
		t = tc_str_trim(t);
		if (!version_ok(t))
			return -1;
		if (op == '<') {
			if (upper++)
				return -1;
			if (p) {
				p->version_end = tc_xstrdup(t);
				p->end_incl = incl;
			}
		} else if (op == '>') {
			if (lower++)
				return -1;
			if (p) {
				p->version_start = tc_xstrdup(t);
				p->start_incl = incl;
			}
		} else {
			if (exact++)
				return -1;
			if (p)
				p->version = tc_xstrdup(t);
		}
	}
	if (exact && (lower || upper))
		return -1;
	return 0;
}

static void
product_deinit(struct tc_product *p)
{
	free(p->version);
	free(p->version_start);
	free(p->version_end);
	memset(p, 0, sizeof(*p));
}

/* A sequence of at most TC_ADVISORY_LIST_MAX items, or NULL. */
static const yaml_node_t *
seq(struct parse *p, const yaml_node_t *n, const char *field)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(p, n, field, "expected a list");
		return NULL;
	}
	if (n->data.sequence.items.top - n->data.sequence.items.start >
	    TC_ADVISORY_LIST_MAX) {
		perr(p, n, field, "more than %d items", TC_ADVISORY_LIST_MAX);
		return NULL;
	}
	return n;
}

#define SEQ_EACH(n, it)                                             \
	for (yaml_node_item_t *it = (n)->data.sequence.items.start; \
	     it < (n)->data.sequence.items.top; it++)
#define MAP_EACH(n, pr)                                            \
	for (yaml_node_pair_t *pr = (n)->data.mapping.pairs.start; \
	     pr < (n)->data.mapping.pairs.top; pr++)

static json_t *
strings(struct parse *p, const yaml_node_t *n, const char *field,
    bool (*ok)(const char *), const char *what, bool lower, bool upper)
{
	json_t *a = json_array();
	char    f[64];
	size_t  i = 0;

	if (seq(p, n, field) == NULL)
		return a;
	SEQ_EACH(n, it)
	{
		yaml_node_t *v = node(p, *it);
		const char  *s;
		char        *c;
		bool         dup = false;
		size_t       k;
		json_t      *e;

		snprintf(f, sizeof(f), "%s[%zu]", field, i++);
		if ((s = scalar(p, v, f)) == NULL)
			continue;
		if (!ok(s)) {
			perr(p, v, f, "\"%s\" is not %s", s, what);
			continue;
		}
		c = tc_xstrdup(s);
		for (char *q = c; *q; q++)
			*q = lower  ? (char)tolower((unsigned char)*q)
			    : upper ? (char)toupper((unsigned char)*q)
				    : *q;
		json_array_foreach(a, k,
		    e) if (strcmp(json_string_value(e), c) == 0) dup = true;
		if (dup)
			perr(p, v, f, "\"%s\" is listed twice", c);
		else
			json_array_append_new(a, json_string(c));
		free(c);
	}
	return a;
}

static bool
sector_ok(const char *s)
{
	return in_set(sectors, s);
}

static json_t *
products(struct parse *p, const yaml_node_t *n)
{
	json_t *a = json_array();
	char    f[64];
	size_t  i = 0;

	if (seq(p, n, "products") == NULL)
		return a;
	SEQ_EACH(n, it)
	{
		yaml_node_t *v = node(p, *it);
		json_t      *o;
		bool         have_cpe = false, bad = false;

		snprintf(f, sizeof(f), "products[%zu]", i++);
		if (v->type != YAML_MAPPING_NODE) {
			perr(p, v, f,
			    "expected a mapping with cpe and versions");
			continue;
		}
		o = json_object();
		MAP_EACH(v, pr)
		{
			yaml_node_t *k = node(p, pr->key),
				    *val = node(p, pr->value);
			const char *key = k->type == YAML_SCALAR_NODE
			    ? (const char *)k->data.scalar.value
			    : "";
			char        ff[96];
			const char *s;

			snprintf(ff, sizeof(ff), "%s.%s", f, key);
			if (strcmp(key, "cpe") == 0) {
				char(*pp)[TC_ADVISORY_CPE_MAX + 1] =
				    tc_xcalloc(13, sizeof(*pp));

				have_cpe = true;
				if ((s = scalar(p, val, ff)) == NULL) {
					bad = true;
				} else if (cpe_split(s, pp) < 0) {
					perr(p, val, ff,
					    "\"%s\" is not a CPE 2.3 name "
					    "(cpe:2.3:part:vendor:product:...: "
					    "13 "
					    "fields, vendor and product named)",
					    s);
					bad = true;
				} else {
					char *low = tc_xstrdup(s);

					tc_str_lower(low);
					json_object_set_new(o, "cpe",
					    json_string(low));
					free(low);
				}
				free(pp);
			} else if (strcmp(key, "versions") == 0) {
				if ((s = scalar(p, val, ff)) == NULL) {
					bad = true;
				} else if (range_parse(s, NULL) < 0) {
					perr(p, val, ff,
					    "\"%s\" is not a version range "
					    "(e.g. \">= 2.0, < 2.4.1\")",
					    s);
					bad = true;
				} else {
					json_object_set_new(o, "versions",
					    json_string(s));
				}
			} else {
				perr(p, k, ff, "unknown field");
				bad = true;
			}
		}
		if (!have_cpe) {
			perr(p, v, f, "cpe is required");
			bad = true;
		}
		if (bad)
			json_decref(o);
		else
			json_array_append_new(a, o);
	}
	return a;
}

static json_t *
content(struct parse *p, const yaml_node_t *n)
{
	json_t *c = json_object();

	if (n->type != YAML_MAPPING_NODE) {
		perr(p, n, "content",
		    "expected a mapping of languages (en "
		    "fr nl de)");
		return c;
	}
	MAP_EACH(n, pr)
	{
		yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
		const char  *lang = k->type == YAML_SCALAR_NODE
		     ? (const char *)k->data.scalar.value
		     : "";
		char         f[64];
		json_t      *o;
		bool         title = false, body = false;

		snprintf(f, sizeof(f), "content.%s", lang);
		if (!in_set(langs, lang)) {
			perr(p, k, f, "unknown language (en fr nl de)");
			continue;
		}
		if (json_object_get(c, lang) != NULL) {
			perr(p, k, f, "given twice");
			continue;
		}
		if (v->type != YAML_MAPPING_NODE) {
			perr(p, v, f,
			    "expected a mapping with title, summary "
			    "and body");
			continue;
		}
		o = json_object();
		MAP_EACH(v, q)
		{
			yaml_node_t *kk = node(p, q->key),
				    *vv = node(p, q->value);
			const char *key = kk->type == YAML_SCALAR_NODE
			    ? (const char *)kk->data.scalar.value
			    : "";
			char        ff[96];
			json_t     *t = NULL;

			snprintf(ff, sizeof(ff), "%s.%s", f, key);
			if (strcmp(key, "title") == 0) {
				title = true;
				t = text(p, vv, ff, TC_ADVISORY_TITLE_MAX,
				    false);
			} else if (strcmp(key, "summary") == 0) {
				t = text(p, vv, ff, TC_ADVISORY_SUMMARY_MAX,
				    true);
			} else if (strcmp(key, "body") == 0) {
				body = true;
				t = text(p, vv, ff, TC_ADVISORY_BODY_MAX, true);
			} else {
				perr(p, kk, ff, "unknown field");
			}
			if (t != NULL)
				json_object_set_new(o, key, t);
		}
		if (!title)
			perr(p, v, f, "title is required");
		if (!body)
			perr(p, v, f, "body is required");
		json_object_set_new(c, lang, o);
	}
	if (json_object_get(c, "en") == NULL)
		perr(p, n, "content", "en is required");
	return c;
}

static int
parse_doc(struct parse *p, json_t **out, struct tc_err *err)
{
	yaml_node_t       *root = yaml_document_get_root_node(&p->doc);
	json_t            *d = json_object();
	const yaml_node_t *recipients = NULL;
	bool               have_sev = false, have_content = false;

	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		perr(p, root, "advisory", "expected a mapping");
		goto done;
	}
	MAP_EACH(root, pr)
	{
		yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
		const char  *key = k->type == YAML_SCALAR_NODE
		     ? (const char *)k->data.scalar.value
		     : "";
		const char  *s;

		if (json_object_get(d, key) != NULL ||
		    (strcmp(key, "recipients") == 0 && recipients != NULL)) {
			perr(p, k, key, "given twice");
			continue;
		}
		if (strcmp(key, "content") == 0) {
			have_content = true;
			json_object_set_new(d, key, content(p, v));
		} else if (strcmp(key, "tlp") == 0) {
			if ((s = scalar(p, v, key)) == NULL)
				continue;
			if (tc_tlp_parse(s, &p->tlp) < 0) {
				perr(p, v, key,
				    "\"%s\" is not a TLP 2.0 label (CLEAR "
				    "GREEN "
				    "AMBER AMBER+STRICT RED)",
				    s);
				continue;
			}
			p->have_tlp = true;
			json_object_set_new(d, key,
			    json_string(tc_tlp_name(p->tlp)));
		} else if (strcmp(key, "severity") == 0) {
			enum tc_severity sev;

			if ((s = scalar(p, v, key)) == NULL)
				continue;
			if (tc_severity_parse(s, &sev) < 0) {
				perr(p, v, key,
				    "\"%s\" is not a severity (info low medium "
				    "high critical)",
				    s);
				continue;
			}
			have_sev = true;
			json_object_set_new(d, key,
			    json_string(tc_severity_name(sev)));
		} else if (strcmp(key, "cves") == 0) {
			json_object_set_new(d, key,
			    strings(p, v, key, is_cve,
				"a CVE id (CVE-YYYY-NNNN)", false, true));
		} else if (strcmp(key, "products") == 0) {
			json_object_set_new(d, key, products(p, v));
		} else if (strcmp(key, "sectors") == 0) {
			json_object_set_new(d, key,
			    strings(p, v, key, sector_ok, "a NIS2 sector",
				false, false));
		} else if (strcmp(key, "references") == 0) {
			json_object_set_new(d, key,
			    strings(p, v, key, is_url, "an http(s) URL", false,
				false));
		} else if (strcmp(key, "recipients") == 0) {
			recipients = v;
		} else {
			perr(p, k, key, "unknown field");
		}
	}
	if (!have_content)
		perr(p, root, "content", "required (en at least)");
	if (!p->have_tlp && json_object_get(d, "tlp") == NULL)
		perr(p, root, "tlp", "required");
	if (!have_sev && json_object_get(d, "severity") == NULL)
		perr(p, root, "severity", "required");
	if (p->have_tlp && p->tlp == TC_TLP_RED) {
		if (recipients == NULL) {
			perr(p, root, "recipients",
			    "required for TLP:RED (the named people only)");
		} else {
			json_t *r = strings(p, recipients, "recipients",
			    is_email, "an email address", true, false);

			if (json_array_size(r) == 0 &&
			    recipients->type == YAML_SEQUENCE_NODE)
				perr(p, recipients, "recipients",
				    "at least one for TLP:RED");
			json_object_set_new(d, "recipients", r);
		}
	} else if (recipients != NULL && p->have_tlp) {
		perr(p, recipients, "recipients",
		    "only allowed for TLP:RED (%s goes by subscription)",
		    tc_tlp_label(p->tlp));
	}
	for (const char *const *l = (const char *const[]){ "cves", "products",
		 "sectors", "references", NULL };
	     *l; l++)
		if (json_object_get(d, *l) == NULL)
			json_object_set_new(d, *l, json_array());
done:
	if (p->n_errors > 0) {
		if (p->n_errors > TC_ADVISORY_ERRORS_MAX && p->errors)
			tc_buf_printf(p->errors, "%s: ... %u errors in all\n",
			    p->name, p->n_errors);
		json_decref(d);
		*out = NULL;
		return tc_err_set(err, TC_EINPUT, "%s: %u error%s", p->name,
		    p->n_errors, p->n_errors == 1 ? "" : "s");
	}
	*out = d;
	return 0;
}

int
tc_advisory_parse(const char *name, const char *data, size_t len, json_t **out,
    struct tc_buf *errors, struct tc_err *err)
{
	struct parse p;
	int          rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.errors = errors;
	if (len > TC_ADVISORY_FILE_MAX) {
		if (errors)
			tc_buf_printf(errors, "%s: larger than %d bytes\n",
			    name, TC_ADVISORY_FILE_MAX);
		return tc_err_set(err, TC_ELIMIT, "%s: larger than %d bytes",
		    name, TC_ADVISORY_FILE_MAX);
	}
	if (tc_yaml_load(name, data, len, &p.doc, errors) < 0)
		return tc_err_set(err, TC_EINPUT, "%s: not valid YAML", name);
	rc = parse_doc(&p, out, err);
	yaml_document_delete(&p.doc);
	return rc;
}

int
tc_advisory_check(const json_t *doc, json_t **out, struct tc_buf *errors,
    struct tc_err *err)
{
	char *s;
	int   rc;

	*out = NULL;
	if (!json_is_object(doc))
		return tc_err_set(err, TC_EINPUT, "advisory: not an object");
	/* JSON is YAML: the same validator, on the same structure. */
	s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (s == NULL)
		return tc_err_set(err, TC_EINPUT, "advisory: not serialisable");
	rc = tc_advisory_parse("advisory", s, strlen(s), out, errors, err);
	free(s);
	return rc;
}

/* --- accessors ------------------------------------------------------------ */

enum tc_tlp
tc_advisory_tlp(const json_t *doc)
{
	enum tc_tlp t = TC_TLP_RED; /* fail closed */

	(void)tc_tlp_parse(json_string_value(json_object_get(doc, "tlp")), &t);
	return t;
}

const char *
tc_advisory_severity(const json_t *doc)
{
	const char *s = json_string_value(json_object_get(doc, "severity"));

	return s ? s : "critical";
}

static const json_t *
lang_content(const json_t *doc, const char *lang)
{
	const json_t *c = json_object_get(doc, "content");

	return json_object_get(c, tc_advisory_lang(doc, lang));
}

const char *
tc_advisory_title(const json_t *doc)
{
	const char *t = json_string_value(
	    json_object_get(lang_content(doc, "en"), "title"));

	return t ? t : "";
}

const char *
tc_advisory_lang(const json_t *doc, const char *lang)
{
	const json_t *c = json_object_get(doc, "content");

	for (const char *const *l = langs; *l; l++)
		if (lang && strcmp(*l, lang) == 0 && json_object_get(c, *l))
			return *l;
	return "en";
}

json_t *
tc_advisory_context(const json_t *doc, const char *lang)
{
	const json_t *c = lang_content(doc, lang);
	json_t       *a = json_object();
	const char   *keys[] = { "cves", "products", "references", "sectors" };

	json_object_set(a, "title", json_object_get(c, "title"));
	if (json_object_get(c, "summary"))
		json_object_set(a, "summary", json_object_get(c, "summary"));
	json_object_set(a, "body", json_object_get(c, "body"));
	json_object_set_new(a, "severity",
	    json_string(tc_advisory_severity(doc)));
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(doc, keys[i]);

		json_object_set_new(a, keys[i],
		    v ? json_deep_copy(v) : json_array());
	}
	return a;
}

bool
tc_advisory_product_matches(const json_t *doc, const char *cpe)
{
	char(*asset)[TC_ADVISORY_CPE_MAX + 1] = tc_xcalloc(13, sizeof(*asset));
	char(*adv)[TC_ADVISORY_CPE_MAX + 1] = tc_xcalloc(13, sizeof(*adv));
	const json_t *prods = json_object_get(doc, "products"), *pr;
	bool          hit = false;
	size_t        i;

	if (cpe == NULL || cpe_split(cpe, asset) < 0)
		goto out;
	json_array_foreach(prods, i, pr)
	{
		const char *v =
		    json_string_value(json_object_get(pr, "versions"));
		struct tc_product p;
		const char       *have;

		if (cpe_split(json_string_value(json_object_get(pr, "cpe")),
			adv) < 0)
			continue;
		if (strcmp(asset[2], adv[2]) != 0 ||
		    strcmp(asset[3], adv[3]) != 0 ||
		    strcmp(asset[4], adv[4]) != 0)
			continue;
		memset(&p, 0, sizeof(p));
		/* The advisory's CPE may name one version itself. */
		if (v != NULL)
			(void)range_parse(v, &p);
		else if (strcmp(adv[5], "*") != 0 && strcmp(adv[5], "-") != 0 &&
		    adv[5][0] != '\0')
			p.version = tc_xstrdup(adv[5]);
		have = asset[5];
		if (*have == '\0' || strcmp(have, "*") == 0 ||
		    strcmp(have, "-") == 0)
			have = NULL;
		hit = tc_version_in(have, &p) > 0;
		product_deinit(&p);
		if (hit)
			break;
	}
out:
	free(asset);
	free(adv);
	return hit;
}

/* --- mail ------------------------------------------------------------------
 */

static int
by_lang(const void *a, const void *b)
{
	const struct tc_notify_rcpt *x = a, *y = b;

	return strcmp(x->lang, y->lang);
}

void
tc_advisory_compose(const struct tc_advisory_mail *m,
    struct tc_notify_rcpt *rcpt, size_t n, struct tc_pgp *pgp,
    const char *pgp_error, const struct tc_templates *tpl, time_t now)
{
	enum tc_tlp tlp = tc_advisory_tlp(m->doc);

	for (size_t i = 0; i < n; i++)
		rcpt[i].lang = tc_advisory_lang(m->doc, rcpt[i].lang);
	qsort(rcpt, n, sizeof(*rcpt), by_lang);
	for (size_t i = 0; i < n;) {
		size_t           j = i;
		struct tc_notify nt;
		json_t          *ctx;

		while (j < n && strcmp(rcpt[j].lang, rcpt[i].lang) == 0)
			j++;
		ctx = tc_compose_context(tlp, m->reference, m->from_addr,
		    m->from_name, NULL, now);
		json_object_set_new(ctx, "advisory",
		    tc_advisory_context(m->doc, rcpt[i].lang));
		memset(&nt, 0, sizeof(nt));
		nt.kind = "advisory";
		nt.template_name = "advisory";
		nt.tlp = tlp;
		nt.reference = m->reference;
		nt.advisory_id = m->advisory_id;
		nt.ctx = ctx;
		nt.from_addr = m->from_addr;
		nt.from_name = m->from_name;
		nt.rcpt = rcpt + i;
		nt.n_rcpt = j - i;
		tc_notify_compose(&nt, pgp, pgp_error, tpl, now);
		json_decref(ctx);
		i = j;
	}
}

/* --- public documents ------------------------------------------------------
 */

static void
iso_time(char *out, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
note(const char *category, const char *title, const char *textv)
{
	return json_pack("{s:s, s:s, s:s}", "category", category, "title",
	    title, "text", textv);
}

json_t *
tc_advisory_csaf(const json_t *doc, const char *reference, time_t released,
    const struct tc_advisory_publisher *pub)
{
	const json_t *en = lang_content(doc, "en"), *v;
	const char   *title = tc_advisory_title(doc);
	json_t       *d, *root, *notes, *refs, *fpn, *ids, *vulns;
	char          when[32];
	size_t        i;

	iso_time(when, sizeof(when), released);
	notes = json_array();
	if (json_string_value(json_object_get(en, "summary")))
		json_array_append_new(notes,
		    note("summary", "Summary",
			json_string_value(json_object_get(en, "summary"))));
	json_array_append_new(notes,
	    note("description", "Description",
		json_string_value(json_object_get(en, "body"))));
	refs = json_array();
	json_array_foreach(json_object_get(doc, "references"), i, v)
	    json_array_append_new(refs,
		json_pack("{s:s, s:s, s:s}", "category", "external", "summary",
		    json_string_value(v), "url", json_string_value(v)));
	d = json_pack(
	    "{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:{s:s, s:s}},"
	    " s:s, s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}],"
	    " s:s, s:{s:{s:s}, s:s}}, s:o, s:{s:s}}",
	    "category", "csaf_security_advisory", "csaf_version", "2.0",
	    "title", title, "publisher", "category", "coordinator", "name",
	    pub->name, "namespace", pub->namespace, "distribution", "text",
	    "TLP:CLEAR", "tlp", "label", "WHITE", "url",
	    "https://www.first.org/tlp/", "lang", "en", "tracking", "id",
	    reference, "status", "final", "version", "1",
	    "initial_release_date", when, "revision_history", "date", when,
	    "number", "1", "summary", "Initial release.",
	    "current_release_date", when, "generator", "engine", "name",
	    "tocsin", "date", when, "notes", notes, "aggregate_severity",
	    "text", tc_advisory_severity(doc));
	if (json_array_size(refs) > 0)
		json_object_set_new(d, "references", refs);
	else
		json_decref(refs);
	fpn = json_array();
	ids = json_array();
	json_array_foreach(json_object_get(doc, "products"), i, v)
	{
		const char *cpe = json_string_value(json_object_get(v, "cpe"));
		const char *ver =
		    json_string_value(json_object_get(v, "versions"));
		char pid[32], name[TC_ADVISORY_CPE_MAX + 300];

		snprintf(pid, sizeof(pid), "CSAFPID-%04zu", i + 1);
		snprintf(name, sizeof(name), "%s%s%s", cpe, ver ? " " : "",
		    ver ? ver : "");
		json_array_append_new(fpn,
		    json_pack("{s:s, s:s, s:{s:s}}", "name", name, "product_id",
			pid, "product_identification_helper", "cpe", cpe));
		json_array_append_new(ids, json_string(pid));
	}
	root = json_pack("{s:o}", "document", d);
	if (json_array_size(fpn) > 0)
		json_object_set_new(root, "product_tree",
		    json_pack("{s:o}", "full_product_names", fpn));
	else
		json_decref(fpn);
	vulns = json_array();
	json_array_foreach(json_object_get(doc, "cves"), i, v)
	{
		json_t *vu = json_pack("{s:O, s:[{s:s, s:s, s:s}]}", "cve", v,
		    "notes", "category", "description", "title", "Description",
		    "text", title);

		if (json_array_size(ids) > 0)
			json_object_set_new(vu, "product_status",
			    json_pack("{s:O}", "known_affected", ids));
		json_array_append_new(vulns, vu);
	}
	if (json_array_size(vulns) == 0) {
		json_t *vu = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "title",
		    title, "notes", "category", "description", "title",
		    "Description", "text", title);

		if (json_array_size(ids) > 0)
			json_object_set_new(vu, "product_status",
			    json_pack("{s:O}", "known_affected", ids));
		json_array_append_new(vulns, vu);
	}
	json_decref(ids);
	json_object_set_new(root, "vulnerabilities", vulns);
	return root;
}

static void
xml_text(struct tc_buf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			tc_buf_puts(out, "&amp;");
			break;
		case '<':
			tc_buf_puts(out, "&lt;");
			break;
		case '>':
			tc_buf_puts(out, "&gt;");
			break;
		case '"':
			tc_buf_puts(out, "&quot;");
			break;
		default:
			/* XML 1.0 allows tab and newline only below space. */
			if ((unsigned char)*s >= 0x20 || *s == '\n' ||
			    *s == '\t')
				tc_buf_putc(out, *s);
		}
	}
}

void
tc_advisory_atom(const struct tc_advisory_entry *entries, size_t n,
    const struct tc_advisory_publisher *pub, time_t now, struct tc_buf *out)
{
	char when[32];

	iso_time(when, sizeof(when), n > 0 ? entries[0].released : now);
	tc_buf_puts(out,
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
	    "  <id>");
	xml_text(out, pub->namespace);
	tc_buf_puts(out, "/advisories</id>\n  <title>");
	xml_text(out, pub->name);
	tc_buf_puts(out, " advisories (TLP:CLEAR)</title>\n  <updated>");
	tc_buf_puts(out, when);
	tc_buf_puts(out, "</updated>\n  <author><name>");
	xml_text(out, pub->name);
	tc_buf_puts(out, "</name>");
	if (pub->email) {
		tc_buf_puts(out, "<email>");
		xml_text(out, pub->email);
		tc_buf_puts(out, "</email>");
	}
	tc_buf_puts(out, "</author>\n  <link rel=\"self\" href=\"");
	xml_text(out, pub->namespace);
	tc_buf_puts(out, "/advisories.atom\"/>\n");
	for (size_t i = 0; i < n; i++) {
		const struct tc_advisory_entry *e = &entries[i];
		const json_t                   *en = lang_content(e->doc, "en");
		const char                     *sum =
		    json_string_value(json_object_get(en, "summary"));

		iso_time(when, sizeof(when), e->released);
		tc_buf_puts(out, "  <entry>\n    <id>");
		xml_text(out, pub->namespace);
		tc_buf_puts(out, "/advisories/");
		xml_text(out, e->reference);
		tc_buf_puts(out, "</id>\n    <title>[");
		xml_text(out, e->reference);
		tc_buf_puts(out, "] ");
		xml_text(out, tc_advisory_title(e->doc));
		tc_buf_printf(out,
		    "</title>\n    <updated>%s</updated>\n"
		    "    <published>%s</published>\n",
		    when, when);
		tc_buf_puts(out,
		    "    <link rel=\"alternate\" "
		    "type=\"application/json\" href=\"");
		xml_text(out, e->reference);
		tc_buf_puts(out, ".json\"/>\n    <category term=\"");
		xml_text(out, tc_advisory_severity(e->doc));
		tc_buf_puts(out, "\" label=\"severity\"/>\n    <summary>");
		xml_text(out,
		    sum ? sum : json_string_value(json_object_get(en, "body")));
		tc_buf_puts(out, "</summary>\n  </entry>\n");
	}
	tc_buf_puts(out, "</feed>\n");
}

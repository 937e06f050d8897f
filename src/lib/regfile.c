/* regfile: parse and validate the registry import file.
 * See include/tocsin/regfile.h. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "tocsin/esc.h"
#include "tocsin/indicator.h"
#include "tocsin/mem.h"
#include "tocsin/regfile.h"
#include "tocsin/str.h"
#include "tocsin/yamldoc.h"
#include "tocsin/tlp.h"

#define ERRORS_MAX 200

/* The same sets as the schema's enum types (schema/0001_registry.sql). */
static const char *const kinds[] = { "essential", "important",
	"public_admin", "other", NULL };
static const char *const sectors[] = { "energy", "transport", "banking",
	"financial_market_infrastructure", "health", "drinking_water",
	"waste_water", "digital_infrastructure", "ict_service_management",
	"public_administration", "space", "postal_and_courier",
	"waste_management", "chemicals", "food", "manufacturing",
	"digital_providers", "research", NULL };
static const char *const langs[] = { "en", "fr", "nl", "de", NULL };
static const char *const receives[] = { "spear", "advisory", "relay", NULL };
static const char *const severities[] = { "info", "low", "medium", "high",
	"critical", NULL };
static const char *const categories[] = { "vulnerable_service",
	"exposed_service", "compromised_host", "compromised_website",
	"malicious_infra", "leaked_credentials", "vulnerable_product", "other",
	NULL };
static const char *const asset_types[] = { "ipv4", "ipv6", "asn", "domain",
	"email_domain", "product", NULL };

struct parse {
	const char     *name;
	yaml_document_t doc;
	struct tc_buf  *errors;
	unsigned        n_errors;
};

static void
perr(struct parse *p, const yaml_node_t *n, const char *path, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
perr(struct parse *p, const yaml_node_t *n, const char *path, const char *fmt,
    ...)
{
	va_list ap;

	if (++p->n_errors > ERRORS_MAX || p->errors == NULL)
		return;
	va_start(ap, fmt);
	tc_yaml_verror(p->errors, p->name, n, path, fmt, ap);
	va_end(ap);
}

/* Field paths like "entities[2].assets[1].ipv4": a path that does not fit
 * is cut, which only shortens a message. */
static void
path_fmt(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
path_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		dst[0] = '\0';
}

static struct tc_reg_pos
pos_of(const yaml_node_t *n)
{
	struct tc_reg_pos r = { n->start_mark.line + 1,
		n->start_mark.column + 1 };

	return r;
}

static yaml_node_t *
node(struct parse *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static const char *
kind_of(const yaml_node_t *n)
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

static const char *
scalar(struct parse *p, const yaml_node_t *n, const char *path)
{
	if (n->type != YAML_SCALAR_NODE) {
		perr(p, n, path, "must be a scalar, not %s", kind_of(n));
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static bool
one_of(const char *s, const char *const *set)
{
	for (int i = 0; set[i]; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static void
list_set(struct tc_buf *b, const char *const *set)
{
	for (int i = 0; set[i]; i++)
		tc_buf_printf(b, "%s%s", i ? ", " : "", set[i]);
}

/* A scalar from a fixed set; returns an owned copy or NULL. */
static char *
enum_value(struct parse *p, const yaml_node_t *n, const char *path,
    const char *const *set)
{
	const char   *s = scalar(p, n, path);
	struct tc_buf b = TC_BUF_INIT;

	if (s == NULL)
		return NULL;
	if (one_of(s, set))
		return tc_xstrdup(s);
	list_set(&b, set);
	perr(p, n, path, "\"%s\" is not one of %s", tc_esc(s), b.data);
	tc_buf_deinit(&b);
	return NULL;
}

/* A list of scalars from a set → "{a,b}"; NULL on error. */
static char *
enum_array(struct parse *p, const yaml_node_t *n, const char *path,
    const char *const *set)
{
	struct tc_buf b = TC_BUF_INIT;
	bool          ok = true;

	if (n->type != YAML_SEQUENCE_NODE) {
		perr(p, n, path, "must be a list, not %s", kind_of(n));
		return NULL;
	}
	tc_buf_putc(&b, '{');
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		char  sub[256];
		char *v;

		path_fmt(sub, sizeof(sub), "%s[%zu]", path,
		    (size_t)(it - n->data.sequence.items.start));
		v = enum_value(p, node(p, *it), sub, set);
		if (v == NULL) {
			ok = false;
			continue;
		}
		tc_buf_printf(&b, "%s%s", b.len > 1 ? "," : "", v);
		free(v);
	}
	tc_buf_putc(&b, '}');
	if (!ok) {
		tc_buf_deinit(&b);
		return NULL;
	}
	return tc_buf_steal(&b, NULL);
}

static char *
text_value(struct parse *p, const yaml_node_t *n, const char *path,
    size_t max)
{
	const char *s = scalar(p, n, path);

	if (s == NULL)
		return NULL;
	if (*s == '\0' || strlen(s) > max) {
		perr(p, n, path, "must be 1 to %zu bytes", max);
		return NULL;
	}
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			perr(p, n, path, "control characters are not allowed");
			return NULL;
		}
	if (!tc_utf8_is_valid(s, strlen(s))) {
		perr(p, n, path, "not valid UTF-8");
		return NULL;
	}
	return tc_xstrdup(s);
}

int
tc_regfile_enterprise_number(const char *s, char out[13])
{
	char   d[10];
	size_t n = 0;

	if ((s[0] == 'B' || s[0] == 'b') && (s[1] == 'E' || s[1] == 'e'))
		s += 2;
	for (; *s; s++) {
		if (*s == '.' || *s == ' ')
			continue;
		if (*s < '0' || *s > '9' || n == 10)
			return TC_EINPUT;
		d[n++] = *s;
	}
	if (n != 10)
		return TC_EINPUT;
	snprintf(out, 13, "%.4s.%.3s.%.3s", d, d + 4, d + 7);
	return 0;
}

int
tc_regfile_fingerprint(const char *s, char out[41])
{
	size_t n = 0;

	for (; *s; s++) {
		char c = *s;

		if (c == ' ')
			continue;
		if (c >= 'a' && c <= 'f')
			c = (char)(c - 32);
		if (n == 40 || !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return TC_EINPUT;
		out[n++] = c;
	}
	if (n != 40)
		return TC_EINPUT;
	out[40] = '\0';
	return 0;
}

static char *
email_value(struct parse *p, const yaml_node_t *n, const char *path)
{
	const char   *s = scalar(p, n, path), *at;
	struct tc_buf dom = TC_BUF_INIT, out = TC_BUF_INIT;
	struct tc_err err;

	if (s == NULL)
		return NULL;
	at = strrchr(s, '@');
	if (at == NULL || at == s || (size_t)(at - s) > 64 ||
	    strlen(s) > 254) {
		perr(p, n, path, "\"%s\" is not an email address", tc_esc(s));
		return NULL;
	}
	for (const char *c = s; c < at; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '<' ||
		    *c == '>' || *c == '"' || *c == ',' || *c == ';' ||
		    *c == '\\' || *c == '(' || *c == ')' || *c == '@' ||
		    (unsigned char)*c >= 0x80) {
			perr(p, n, path, "\"%s\" is not an email address",
			    tc_esc(s));
			return NULL;
		}
	if (tc_domain_normalise(at + 1, strlen(at + 1), &dom, &err) < 0 ||
	    strchr(dom.data, '.') == NULL) {
		perr(p, n, path, "\"%s\" is not an email address%s%s",
		    tc_esc(s), err.msg[0] ? ": " : "", err.msg);
		tc_buf_deinit(&dom);
		return NULL;
	}
	tc_buf_append(&out, s, (size_t)(at - s));
	tc_str_lower(out.data);
	tc_buf_printf(&out, "@%s", dom.data);
	tc_buf_deinit(&dom);
	return tc_buf_steal(&out, NULL);
}

static char *
fpr_value(struct parse *p, const yaml_node_t *n, const char *path)
{
	const char *s = scalar(p, n, path);
	char        f[41];

	if (s == NULL)
		return NULL;
	if (tc_regfile_fingerprint(s, f) < 0) {
		perr(p, n, path,
		    "\"%s\" is not an OpenPGP fingerprint of 40 hex digits",
		    tc_esc(s));
		return NULL;
	}
	return tc_xstrdup(f);
}

static char *
tlp_value(struct parse *p, const yaml_node_t *n, const char *path)
{
	const char *s = scalar(p, n, path);
	enum tc_tlp t;

	if (s == NULL)
		return NULL;
	if (tc_tlp_parse(s, &t) < 0) {
		perr(p, n, path,
		    "\"%s\" is not a TLP 2.0 label (CLEAR, GREEN, AMBER, "
		    "AMBER+STRICT, RED)",
		    tc_esc(s));
		return NULL;
	}
	return tc_xstrdup(tc_tlp_name(t));
}

/* CPE 2.3 formatted string: "cpe:2.3:" then 11 colon-separated fields
 * (part first), backslash escapes allowed. */
static bool
cpe23_ok(const char *s)
{
	int fields = 0;

	if (strncmp(s, "cpe:2.3:", 8) != 0 || strlen(s) > 1000)
		return false;
	s += 8;
	if (!(*s == 'a' || *s == 'o' || *s == 'h' || *s == '*') || s[1] != ':')
		return false;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
		if (*s == ':')
			fields++;
	}
	return fields == 10;
}

static void
asset_parse(struct parse *p, const yaml_node_t *n, const char *path,
    struct tc_reg_entity *e)
{
	yaml_node_pair_t   *pr;
	yaml_node_t        *k, *v;
	const char         *type, *s;
	struct tc_reg_asset a = { 0 };
	char                sub[256], txt[INET6_ADDRSTRLEN + 8];
	struct tc_err       err;

	if (n->type != YAML_MAPPING_NODE ||
	    n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1) {
		perr(p, n, path,
		    "must be one \"type: value\" pair (ipv4, ipv6, asn, domain, "
		    "email_domain, product)");
		return;
	}
	pr = n->data.mapping.pairs.start;
	k = node(p, pr->key);
	v = node(p, pr->value);
	if ((type = scalar(p, k, path)) == NULL)
		return;
	path_fmt(sub, sizeof(sub), "%s.%s", path, tc_esc(type));
	if (!one_of(type, asset_types)) {
		perr(p, k, sub,
		    "unknown asset type (ipv4, ipv6, asn, domain, "
		    "email_domain, product)");
		return;
	}
	if ((s = scalar(p, v, sub)) == NULL)
		return;
	if (strcmp(type, "ipv4") == 0 || strcmp(type, "ipv6") == 0) {
		int      fam;
		uint8_t  addr[16];
		unsigned plen;

		if (tc_ip_parse_prefix(s, &fam, addr, &plen, &err) < 0) {
			perr(p, v, sub, "%s", err.msg);
			return;
		}
		if ((fam == 4) != (type[3] == '4')) {
			perr(p, v, sub, "\"%s\" is not an %s prefix", tc_esc(s),
			    type);
			return;
		}
		tc_ip_format(fam, addr, fam == 4 ? 32 : 128, txt, sizeof(txt));
		snprintf(txt + strlen(txt), sizeof(txt) - strlen(txt), "/%u",
		    plen);
		a.value = tc_xstrdup(txt);
	} else if (strcmp(type, "asn") == 0) {
		uint64_t asn;
		const char *d = s;

		if (strncasecmp(d, "AS", 2) == 0)
			d += 2;
		if (tc_parse_uint(d, 1, 4294967295ULL, &asn) < 0) {
			perr(p, v, sub, "\"%s\" is not an AS number", tc_esc(s));
			return;
		}
		snprintf(txt, sizeof(txt), "%llu", (unsigned long long)asn);
		a.value = tc_xstrdup(txt);
	} else if (strcmp(type, "product") == 0) {
		if (!cpe23_ok(s)) {
			perr(p, v, sub,
			    "\"%s\" is not a CPE 2.3 formatted string "
			    "(cpe:2.3:part:vendor:product:version:...)",
			    tc_esc(s));
			return;
		}
		a.value = tc_xstrdup(s);
		tc_str_lower(a.value);
	} else {
		struct tc_buf dom = TC_BUF_INIT;

		if (tc_domain_normalise(s, strlen(s), &dom, &err) < 0) {
			perr(p, v, sub, "%s", err.msg);
			tc_buf_deinit(&dom);
			return;
		}
		a.value = tc_buf_steal(&dom, NULL);
	}
	a.type = tc_xstrdup(type);
	a.path = tc_xstrdup(sub);
	a.pos = pos_of(v);
	for (size_t i = 0; i < e->n_assets; i++)
		if (strcmp(e->assets[i].type, a.type) == 0 &&
		    strcmp(e->assets[i].value, a.value) == 0) {
			perr(p, v, sub, "\"%s\" is listed twice", a.value);
			free(a.type), free(a.value), free(a.path);
			return;
		}
	e->assets[e->n_assets++] = a;
}

/* Walk a mapping: for each pair, find the key in `keys` (unknown and
 * duplicate keys are errors) and call `fn`. */
typedef void (*field_fn)(struct parse *p, int key, yaml_node_t *v,
    const char *path, void *obj);

static void
walk_map(struct parse *p, const yaml_node_t *n, const char *path,
    const char *const *keys, bool *seen, field_fn fn, void *obj)
{
	if (n->type != YAML_MAPPING_NODE) {
		perr(p, n, path, "must be a mapping, not %s", kind_of(n));
		return;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
		const char  *ks = k->type == YAML_SCALAR_NODE
			 ? (const char *)k->data.scalar.value
			 : NULL;
		char         sub[256];
		int          idx = -1;

		for (int i = 0; ks && keys[i]; i++)
			if (strcmp(ks, keys[i]) == 0)
				idx = i;
		path_fmt(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "",
		    ks ? tc_esc(ks) : "?");
		if (idx < 0) {
			perr(p, k, sub, "unknown key");
			continue;
		}
		if (seen[idx]) {
			perr(p, k, sub, "given twice");
			continue;
		}
		seen[idx] = true;
		fn(p, idx, v, sub, obj);
	}
}

enum { C_EMAIL, C_NAME, C_ROLE, C_LANG, C_FPR, C_RECEIVES, C_N };
static const char *const contact_keys[] = { "email", "name", "role",
	"language", "pgp_fingerprint", "receives", NULL };

static void
contact_field(struct parse *p, int key, yaml_node_t *v, const char *path,
    void *obj)
{
	struct tc_reg_contact *c = obj;

	switch (key) {
	case C_EMAIL:
		c->email = email_value(p, v, path);
		break;
	case C_NAME:
		c->name = text_value(p, v, path, 200);
		break;
	case C_ROLE:
		c->role = text_value(p, v, path, 100);
		break;
	case C_LANG:
		c->language = enum_value(p, v, path, langs);
		break;
	case C_FPR:
		c->fingerprint = fpr_value(p, v, path);
		break;
	case C_RECEIVES:
		c->receives = enum_array(p, v, path, receives);
		if (c->receives && strcmp(c->receives, "{}") == 0) {
			perr(p, v, path, "must list at least one of spear, "
					 "advisory, relay");
			free(c->receives);
			c->receives = NULL;
		}
		break;
	}
}

enum { S_CLEARANCE, S_SECTORS, S_CATEGORIES, S_MINSEV, S_N };
static const char *const sub_keys[] = { "clearance", "sectors", "categories",
	"min_severity", NULL };

static void
sub_field(struct parse *p, int key, yaml_node_t *v, const char *path,
    void *obj)
{
	struct tc_reg_entity *e = obj;

	switch (key) {
	case S_CLEARANCE:
		e->clearance = tlp_value(p, v, path);
		break;
	case S_SECTORS:
		e->sectors = enum_array(p, v, path, sectors);
		break;
	case S_CATEGORIES:
		e->categories = enum_array(p, v, path, categories);
		break;
	case S_MINSEV:
		e->min_severity = enum_value(p, v, path, severities);
		break;
	}
}

enum { E_NAME, E_ENTNUM, E_KIND, E_SECTOR, E_LANG, E_CONTACTS, E_ASSETS,
	E_SUB, E_N };
static const char *const entity_keys[] = { "name", "enterprise_number",
	"kind", "sector", "language", "contacts", "assets", "subscription",
	NULL };

static size_t
seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
}

static void
entity_field(struct parse *p, int key, yaml_node_t *v, const char *path,
    void *obj)
{
	struct tc_reg_entity *e = obj;
	char                  sub[256];
	const char           *s;
	char                  en[13];

	switch (key) {
	case E_NAME:
		e->name = text_value(p, v, path, 300);
		break;
	case E_ENTNUM:
		if ((s = scalar(p, v, path)) == NULL)
			break;
		if (tc_regfile_enterprise_number(s, en) < 0)
			perr(p, v, path,
			    "\"%s\" is not an enterprise number (10 digits, "
			    "e.g. 0123.456.789)",
			    tc_esc(s));
		else
			e->enterprise_number = tc_xstrdup(en);
		break;
	case E_KIND:
		e->kind = enum_value(p, v, path, kinds);
		break;
	case E_SECTOR:
		e->sector = enum_value(p, v, path, sectors);
		break;
	case E_LANG:
		e->language = enum_value(p, v, path, langs);
		break;
	case E_CONTACTS:
		if (v->type != YAML_SEQUENCE_NODE) {
			perr(p, v, path, "must be a list, not %s", kind_of(v));
			break;
		}
		if (seq_len(v) > TC_REGFILE_ITEMS_MAX) {
			perr(p, v, path, "more than %d contacts",
			    TC_REGFILE_ITEMS_MAX);
			break;
		}
		e->contacts = tc_xcalloc(seq_len(v) + 1, sizeof(*e->contacts));
		for (size_t i = 0; i < seq_len(v); i++) {
			yaml_node_t           *cn = node(p,
                            v->data.sequence.items.start[i]);
			struct tc_reg_contact *c = &e->contacts[e->n_contacts];
			bool                   seen[C_N] = { false };

			path_fmt(sub, sizeof(sub), "%s[%zu]", path, i);
			c->pos = pos_of(cn);
			walk_map(p, cn, sub, contact_keys, seen, contact_field,
			    c);
			if (cn->type == YAML_MAPPING_NODE && !seen[C_EMAIL])
				perr(p, cn, sub, "email is required");
			for (size_t k = 0; c->email && k < e->n_contacts; k++)
				if (e->contacts[k].email &&
				    strcmp(e->contacts[k].email, c->email) == 0)
					perr(p, cn, sub,
					    "contact %s is listed twice",
					    c->email);
			e->n_contacts++;
		}
		break;
	case E_ASSETS:
		if (v->type != YAML_SEQUENCE_NODE) {
			perr(p, v, path, "must be a list, not %s", kind_of(v));
			break;
		}
		if (seq_len(v) > TC_REGFILE_ITEMS_MAX) {
			perr(p, v, path, "more than %d assets",
			    TC_REGFILE_ITEMS_MAX);
			break;
		}
		e->assets = tc_xcalloc(seq_len(v) + 1, sizeof(*e->assets));
		for (size_t i = 0; i < seq_len(v); i++) {
			path_fmt(sub, sizeof(sub), "%s[%zu]", path, i);
			asset_parse(p, node(p, v->data.sequence.items.start[i]),
			    sub, e);
		}
		break;
	case E_SUB: {
		bool seen[S_N] = { false };

		e->has_subscription = 1;
		walk_map(p, v, path, sub_keys, seen, sub_field, e);
		break;
	}
	}
}

enum { A_NAME, A_SECTORS, A_EMAIL, A_FPR, A_LANG, A_CLEARANCE, A_N };
static const char *const auth_keys[] = { "name", "sectors", "email",
	"pgp_fingerprint", "language", "clearance", NULL };

static void
auth_field(struct parse *p, int key, yaml_node_t *v, const char *path,
    void *obj)
{
	struct tc_reg_authority *a = obj;

	switch (key) {
	case A_NAME:
		a->name = text_value(p, v, path, 300);
		break;
	case A_SECTORS:
		a->sectors = enum_array(p, v, path, sectors);
		if (a->sectors && strcmp(a->sectors, "{}") == 0) {
			perr(p, v, path, "must list at least one sector");
			free(a->sectors);
			a->sectors = NULL;
		}
		break;
	case A_EMAIL:
		a->email = email_value(p, v, path);
		break;
	case A_FPR:
		a->fingerprint = fpr_value(p, v, path);
		break;
	case A_LANG:
		a->language = enum_value(p, v, path, langs);
		break;
	case A_CLEARANCE:
		a->clearance = tlp_value(p, v, path);
		if (a->clearance && strcmp(a->clearance, "CLEAR") &&
		    strcmp(a->clearance, "GREEN") &&
		    strcmp(a->clearance, "AMBER")) {
			perr(p, v, path,
			    "an authority is cleared for at most AMBER: "
			    "AMBER+STRICT and RED are never relayed");
			free(a->clearance);
			a->clearance = NULL;
		}
		break;
	}
}

static void
entity_free(struct tc_reg_entity *e)
{
	for (size_t i = 0; i < e->n_contacts; i++) {
		struct tc_reg_contact *c = &e->contacts[i];

		free(c->email), free(c->name), free(c->role);
		free(c->language), free(c->fingerprint), free(c->receives);
	}
	for (size_t i = 0; i < e->n_assets; i++)
		free(e->assets[i].type), free(e->assets[i].value),
		    free(e->assets[i].path);
	free(e->contacts), free(e->assets);
	free(e->name), free(e->enterprise_number), free(e->kind);
	free(e->sector), free(e->language), free(e->clearance);
	free(e->sectors), free(e->categories), free(e->min_severity);
}

void
tc_regfile_free(struct tc_regfile *rf)
{
	if (rf == NULL)
		return;
	for (size_t i = 0; i < rf->n_entities; i++)
		entity_free(&rf->entities[i]);
	for (size_t i = 0; i < rf->n_authorities; i++) {
		struct tc_reg_authority *a = &rf->authorities[i];

		free(a->name), free(a->sectors), free(a->email);
		free(a->fingerprint), free(a->language), free(a->clearance);
	}
	free(rf->entities);
	free(rf->authorities);
	free(rf->name);
	free(rf);
}

static void
top_level(struct parse *p, struct tc_regfile *rf, yaml_node_t *root)
{
	bool seen_e = false, seen_a = false;

	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
		const char  *ks = k->type == YAML_SCALAR_NODE
			 ? (const char *)k->data.scalar.value
			 : "?";
		bool         ent = strcmp(ks, "entities") == 0;
		char         sub[256];

		if (!ent && strcmp(ks, "authorities") != 0) {
			perr(p, k, tc_esc(ks),
			    "unknown key (entities, authorities)");
			continue;
		}
		if (ent ? seen_e : seen_a) {
			perr(p, k, ks, "given twice");
			continue;
		}
		*(ent ? &seen_e : &seen_a) = true;
		if (v->type != YAML_SEQUENCE_NODE) {
			perr(p, v, ks, "must be a list, not %s", kind_of(v));
			continue;
		}
		if (ent && seq_len(v) > TC_REGFILE_ENTITIES_MAX) {
			perr(p, v, ks, "more than %d entities",
			    TC_REGFILE_ENTITIES_MAX);
			continue;
		}
		if (ent) {
			rf->entities = tc_xcalloc(seq_len(v) + 1,
			    sizeof(*rf->entities));
		} else {
			rf->authorities = tc_xcalloc(seq_len(v) + 1,
			    sizeof(*rf->authorities));
		}
		for (size_t i = 0; i < seq_len(v); i++) {
			yaml_node_t *n = node(p, v->data.sequence.items.start[i]);

			path_fmt(sub, sizeof(sub), "%s[%zu]", ks, i);
			if (ent) {
				struct tc_reg_entity *e =
				    &rf->entities[rf->n_entities++];
				bool seen[E_N] = { false };

				e->pos = pos_of(n);
				walk_map(p, n, sub, entity_keys, seen,
				    entity_field, e);
				if (n->type != YAML_MAPPING_NODE)
					continue;
				for (int r = E_NAME; r <= E_SECTOR; r++)
					if (!seen[r])
						perr(p, n, sub, "%s is required",
						    entity_keys[r]);
				for (size_t j = 0; e->enterprise_number &&
				     j + 1 < rf->n_entities;
				     j++)
					if (rf->entities[j].enterprise_number &&
					    strcmp(rf->entities[j]
						       .enterprise_number,
						e->enterprise_number) == 0)
						perr(p, n, sub,
						    "enterprise number %s is "
						    "already used by "
						    "entities[%zu] (line %zu)",
						    e->enterprise_number, j,
						    rf->entities[j].pos.line);
			} else {
				struct tc_reg_authority *a =
				    &rf->authorities[rf->n_authorities++];
				bool seen[A_N] = { false };

				a->pos = pos_of(n);
				walk_map(p, n, sub, auth_keys, seen, auth_field,
				    a);
				if (n->type != YAML_MAPPING_NODE)
					continue;
				for (int r = A_NAME; r <= A_FPR; r++)
					if (!seen[r])
						perr(p, n, sub, "%s is required",
						    auth_keys[r]);
			}
		}
	}
}

struct tc_regfile *
tc_regfile_parse(const char *name, const char *data, size_t len,
    struct tc_buf *errors, struct tc_err *err)
{
	struct parse       p;
	struct tc_regfile *rf = tc_xcalloc(1, sizeof(*rf));
	yaml_node_t       *root;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.errors = errors;
	rf->name = tc_xstrdup(name);
	if (len > TC_REGFILE_MAX) {
		perr(&p, NULL, NULL, "larger than %d bytes", TC_REGFILE_MAX);
		goto out;
	}
	if (tc_yaml_load(name, data, len, &p.doc, errors) < 0) {
		p.n_errors++;
		goto out;
	}
	root = yaml_document_get_root_node(&p.doc);
	if (root == NULL)
		perr(&p, NULL, NULL, "empty file");
	else if (root->type != YAML_MAPPING_NODE)
		perr(&p, root, NULL,
		    "the top level must be a mapping with entities and/or "
		    "authorities");
	else
		top_level(&p, rf, root);
	yaml_document_delete(&p.doc);
out:
	if (p.n_errors > ERRORS_MAX && errors)
		tc_buf_printf(errors, "%s: ... and %u more errors\n", name,
		    p.n_errors - ERRORS_MAX);
	if (p.n_errors > 0) {
		tc_regfile_free(rf);
		tc_err_set(err, TC_EINPUT, "%s: %u error%s", name, p.n_errors,
		    p.n_errors == 1 ? "" : "s");
		return NULL;
	}
	return rf;
}

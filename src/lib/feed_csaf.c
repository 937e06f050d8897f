/* feed_csaf: CSAF 2.0 (and 2.1 draft) security advisories.
 *
 * The product tree is walked recursively (vendor → product_name →
 * product_version or product_version_range, full_product_names,
 * relationships) into a table of product ids with vendor, product, version
 * or range and CPE (2.3 formatted strings and 2.2 URIs).  Each vulnerability
 * becomes one event with its CVE and the products of its
 * known_affected/first_affected/last_affected status (fixed and
 * known_not_affected products are not concerned), severity from the highest
 * CVSS 3 base score, the advisory's TLP (WHITE read as CLEAR) and its
 * self/external reference as link. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/esc.h"
#include "tocsin/feed.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

#define CSAF_PRODUCTS_MAX 100000
#define CSAF_DEPTH_MAX 32

struct prod {
	char             *id;
	struct tc_product p;
};

struct tree {
	struct prod *v;
	size_t       n, cap;
};

/* Parse "<=4.1.5", "< 2.43.7", ">= 2.44.0-rc0, < 2.44.4", "vers:x/>=1|<2"
 * into the bounds of `p`.  Returns 0, or -1 if nothing was understood. */
int
tc_feed__range(const char *s, struct tc_product *p)
{
	char  buf[256], *save = NULL, *tok;
	int   found = 0;

	if (tc_str_has_prefix(s, "vers:")) {
		const char *slash = strchr(s, '/');

		if (slash == NULL)
			return -1;
		s = slash + 1;
	}
	if (tc_strlcpy(buf, s, sizeof(buf)) < 0)
		return -1;
	for (tok = strtok_r(buf, ",|", &save); tok;
	     tok = strtok_r(NULL, ",|", &save)) { /* lint: allow */
		char *t = tc_str_trim(tok);
		int   incl = 0;
		char  op = 0;

		if (t[0] == '<' || t[0] == '>') {
			op = t[0];
			t++;
			if (*t == '=')
				incl = 1, t++;
		} else if (t[0] == '=') {
			t++;
		}
		t = tc_str_trim(t);
		if (*t == '\0' || strchr(t, ' ') != NULL)
			continue;
		if (op == '<') {
			free(p->version_end);
			p->version_end = tc_xstrdup(t);
			p->end_incl = incl;
		} else if (op == '>') {
			free(p->version_start);
			p->version_start = tc_xstrdup(t);
			p->start_incl = incl;
		} else {
			free(p->version);
			p->version = tc_xstrdup(t);
		}
		found = 1;
	}
	return found ? 0 : -1;
}

/* CPE 2.3 "cpe:2.3:a:vendor:product:version:..." or 2.2 "cpe:/a:v:p:ver". */
static void
parse_cpe(const char *cpe, struct tc_product *p)
{
	char        f[4][128];
	const char *s;
	int         n = 0;
	size_t      k = 0;

	if (tc_str_has_prefix(cpe, "cpe:2.3:"))
		s = cpe + 8;
	else if (tc_str_has_prefix(cpe, "cpe:/"))
		s = cpe + 5;
	else
		return;
	memset(f, 0, sizeof(f));
	for (; *s && n < 4; s++) {
		if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == ':') {
			f[n][k] = '\0';
			n++;
			k = 0;
			continue;
		}
		if (k + 1 < sizeof(f[0]))
			f[n][k++] = *s;
	}
	if (n < 4 && k < sizeof(f[0]))
		f[n][k] = '\0';
	free(p->cpe);
	p->cpe = tc_xstrdup(cpe);
	if (f[1][0] && strcmp(f[1], "*") != 0) {
		free(p->vendor);
		p->vendor = tc_feed__token(f[1]);
	}
	if (f[2][0] && strcmp(f[2], "*") != 0) {
		free(p->product);
		p->product = tc_feed__token(f[2]);
	}
	if (f[3][0] && strcmp(f[3], "*") != 0 && strcmp(f[3], "-") != 0 &&
	    p->version == NULL && p->version_end == NULL) {
		p->version = tc_xstrdup(f[3]);
	}
}

static void
add_product(struct tree *t, json_t *prod, const char *vendor,
    const char *product, const char *version, const char *range)
{
	const char *id = json_string_value(json_object_get(prod, "product_id"));
	json_t     *helper = json_object_get(prod, "product_identification_helper");
	const char *cpe = json_string_value(json_object_get(helper, "cpe"));
	struct prod *p;

	if (id == NULL || t->n >= CSAF_PRODUCTS_MAX)
		return;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = tc_xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	p = &t->v[t->n++];
	memset(p, 0, sizeof(*p));
	p->id = tc_xstrdup(id);
	if (vendor)
		p->p.vendor = tc_feed__token(vendor);
	if (product)
		p->p.product = tc_feed__token(product);
	if (version)
		p->p.version = tc_xstrdup(version);
	if (range)
		(void)tc_feed__range(range, &p->p);
	if (cpe)
		parse_cpe(cpe, &p->p);
	if (p->p.product == NULL) {
		/* A full product name without branches: its name. */
		p->p.product = tc_feed__token(
		    json_string_value(json_object_get(prod, "name")));
	}
}

static void
walk(struct tree *t, json_t *branches, const char *vendor, const char *product,
    int depth)
{
	size_t  i;
	json_t *b;

	if (depth > CSAF_DEPTH_MAX)
		return;
	json_array_foreach(branches, i, b)
	{
		const char *cat = json_string_value(json_object_get(b, "category"));
		const char *name = json_string_value(json_object_get(b, "name"));
		const char *v = vendor, *pr = product;
		json_t     *prod = json_object_get(b, "product");

		if (cat && name) {
			if (strcmp(cat, "vendor") == 0)
				v = name;
			else if (strcmp(cat, "product_name") == 0 ||
			    strcmp(cat, "product_family") == 0)
				pr = name;
		}
		if (json_is_object(prod))
			add_product(t, prod, v, pr,
			    cat && strcmp(cat, "product_version") == 0 ? name
								       : NULL,
			    cat && strcmp(cat, "product_version_range") == 0
				? name
				: NULL);
		walk(t, json_object_get(b, "branches"), v, pr, depth + 1);
	}
}

static const struct prod *
find(const struct tree *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].id, id) == 0)
			return &t->v[i];
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s ? tc_xstrdup(s) : NULL;
}

static void
copy_product(struct tc_event *ev, const struct tc_product *src)
{
	struct tc_product p = { dup_or_null(src->vendor),
		dup_or_null(src->product), dup_or_null(src->cpe),
		dup_or_null(src->version), dup_or_null(src->version_start),
		dup_or_null(src->version_end), src->start_incl, src->end_incl };

	tc_event_add_product(ev, &p);
}

int
tc_feed__csaf(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	static const char *const affected[] = { "known_affected",
		"first_affected", "last_affected", NULL };
	json_t         *root, *doc, *vulns, *v, *pt, *x;
	struct tree     t = { 0 };
	struct tc_event ev;
	enum tc_tlp     tlp = TC_TLP_AMBER;
	bool            tlp_set = false;
	const char     *label, *track, *title, *self_url = NULL;
	size_t          i, k;
	int             rc = 0;

	if ((root = tc_feed__json_load(data, len, fc, err)) == NULL)
		return TC_EINPUT;
	doc = json_object_get(root, "document");
	vulns = json_object_get(root, "vulnerabilities");
	if (!json_is_object(doc) || !json_is_string(json_object_get(doc,
				       "csaf_version"))) {
		json_decref(root);
		return tc_err_set(err, TC_EINPUT,
		    "%s: not a CSAF document: no document.csaf_version",
		    fc->name);
	}
	label = json_string_value(json_object_get(
	    json_object_get(json_object_get(doc, "distribution"), "tlp"),
	    "label"));
	if (label && tc_tlp_parse(label, &tlp) == 0)
		tlp_set = true;
	track = json_string_value(
	    json_object_get(json_object_get(doc, "tracking"), "id"));
	title = json_string_value(json_object_get(doc, "title"));
	json_array_foreach(json_object_get(doc, "references"), i, x)
	{
		const char *c = json_string_value(json_object_get(x, "category"));

		if (c && strcmp(c, "self") == 0)
			self_url = json_string_value(json_object_get(x, "url"));
	}
	pt = json_object_get(root, "product_tree");
	walk(&t, json_object_get(pt, "branches"), NULL, NULL, 0);
	json_array_foreach(json_object_get(pt, "full_product_names"), i, x)
		add_product(&t, x, NULL, NULL, NULL, NULL);
	json_array_foreach(json_object_get(pt, "relationships"), i, x)
	{
		const char  *ref = json_string_value(
		    json_object_get(x, "product_reference"));
		json_t      *full = json_object_get(x, "full_product_name");
		const char  *fid = json_string_value(
		    json_object_get(full, "product_id"));
		const struct prod *base = ref ? find(&t, ref) : NULL;

		if (base != NULL && fid != NULL && t.n < CSAF_PRODUCTS_MAX) {
			struct prod copy = *base;

			add_product(&t, full, copy.p.vendor, copy.p.product,
			    copy.p.version, NULL);
		}
	}
	tc_feed__event_init(&ev, fc, "csaf");
	json_array_foreach(vulns, i, v)
	{
		const char *cve = json_string_value(json_object_get(v, "cve"));
		json_t     *ps = json_object_get(v, "product_status");
		double      score = 0;
		json_t     *s;

		fc->st->records++;
		tc_event_reset(&ev);
		ev.line = i + 1;
		ev.category = TC_CAT_VULNERABLE_PRODUCT;
		ev.tlp = tlp;
		ev.tlp_set = tlp_set;
		tc_event_set_str(&ev.report_type, "csaf");
		tc_event_set_str(&ev.title, title);
		if (track)
			tc_event_add_field(&ev, "advisory", track);
		if (cve && tc_event_add_cve(&ev, cve) < 0) {
			tc_err_set(err, TC_EINPUT,
			    "%s: vulnerabilities[%zu].cve: \"%s\" is not a CVE "
			    "id",
			    fc->name, i, tc_esc(cve));
			if ((rc = tc_feed__skip(fc, err)) < 0)
				break;
			continue;
		}
		for (int a = 0; affected[a]; a++)
			json_array_foreach(json_object_get(ps, affected[a]), k, x)
			{
				const char        *id = json_string_value(x);
				const struct prod *p = id ? find(&t, id) : NULL;

				if (p != NULL)
					copy_product(&ev, &p->p);
			}
		json_array_foreach(json_object_get(v, "scores"), k, s)
		{
			json_t *b = json_object_get(json_object_get(s, "cvss_v3"),
			    "baseScore");

			if (json_is_number(b) && json_number_value(b) > score)
				score = json_number_value(b);
		}
		json_array_foreach(json_object_get(v, "metrics"), k, s)
		{
			json_t *b = json_object_get(json_object_get(
				json_object_get(s, "content"), "cvss_v3"),
			    "baseScore");

			if (json_is_number(b) && json_number_value(b) > score)
				score = json_number_value(b);
		}
		ev.severity = tc_severity_from_cvss(score, TC_SEV_MEDIUM);
		tc_event_set_str(&ev.url, self_url);
		json_array_foreach(json_object_get(v, "references"), k, x)
		{
			if (ev.url == NULL)
				tc_event_set_str(&ev.url, json_string_value(
				    json_object_get(x, "url")));
		}
		if (ev.n_prod == 0)
			continue; /* nothing affected: nothing to match */
		if ((rc = tc_feed__emit(fc, &ev)) < 0)
			break;
	}
	tc_event_deinit(&ev);
	for (size_t j = 0; j < t.n; j++) {
		free(t.v[j].id);
		tc_product_deinit(&t.v[j].p);
	}
	free(t.v);
	json_decref(root);
	return rc < 0 ? rc : 0;
}

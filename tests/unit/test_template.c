/* Unit tests for template: the repository's own templates/ rendered in every
 * language against a full context, the per-name fallback to en, escaping,
 * the one-line subject, and refusals (missing en file, syntax error with
 * file:line, missing partial, limits).  Templates come from TOCSIN_TEMPLATES
 * or ./templates (tests run from the repository root). */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tocsin/event.h"
#include "tocsin/relay.h"
#include "tocsin/str.h"
#include "tocsin/template.h"
#include "tocsin/tlp.h"

static const char *const langs[] = { "en", "fr", "nl", "de" };
/* A phrase of the AMBER+STRICT banner, and a word of the footer. */
static const char *const strict_phrase[] = { "own organisation",
	"propre organisation", "eigen organisatie", "eigenen Organisation" };
static const char *const ref_word[] = { "Reference: ", "Référence : ",
	"Referentie: ", "Referenz: " };

static const char *
templates_dir(void)
{
	const char *d = getenv("TOCSIN_TEMPLATES");

	return d != NULL && *d ? d : "templates";
}

static struct tc_templates *
load_repo(void)
{
	struct tc_err        err = { 0 };
	struct tc_templates *t = tc_templates_load(templates_dir(), &err);

	if (t == NULL)
		fail_msg("load %s: %s", templates_dir(), err.msg);
	return t;
}

static json_t *
common_ctx(void)
{
	json_t *c =
	    json_pack("{s:s, s:{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b},"
		      " s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:s}",
		"reference", "CCB-EWS-2026-000042", "tlp", "label",
		"TLP:AMBER+STRICT", "name", "AMBER+STRICT", "colour", "#FFC000",
		"clear", 0, "green", 0, "amber", 0, "amber_strict", 1, "red", 0,
		"csirt", "name", "CSIRT Early Warning", "email",
		"cert@csirt.example", "url", "https://csirt.example/",
		"recipient", "name", "Jan Peeters", "email",
		"soc@voorbeeld.example", "date", "2026-12-01 21:30 UTC");

	assert_non_null(c);
	return c;
}

static json_t *
item(const char *ind, const char *ip, int port)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s,"
			      " s:s, s:s, s:s, s:b}",
	    "indicator", ind, "ip", ip, "hostname", "vpn.voorbeeld.example",
	    "asn", 64500, "port", port, "protocol", "tcp", "first_seen",
	    "2026-11-23 04:12 UTC", "last_seen", "2026-11-30 18:01 UTC", "what",
	    "scan_ssl_vpn", "cve", "CVE-2024-3400, CVE-2024-0012", "product",
	    "paloaltonetworks pan-os 10.2.9", "url",
	    "https://security.paloaltonetworks.example/CVE-2024-3400",
	    "exploited", 1);

	assert_non_null(o);
	return o;
}

static json_t *
spear_ctx(const char *cat)
{
	json_t *c = common_ctx(), *items = json_array();

	json_array_append_new(items, item("192.0.2.10", "192.0.2.10", 4443));
	json_array_append_new(items, item("2001:db8::7", "2001:db8::7", 3389));
	json_object_set_new(c, "entity",
	    json_pack("{s:s, s:s}", "name", "Voorbeeld Energie NV",
		"enterprise_number", "0123.456.789"));
	json_object_set_new(c, "category", json_string(cat));
	json_object_set_new(c, "severity", json_string("high"));
	json_object_set_new(c, "count", json_integer(5));
	json_object_set_new(c, "shown", json_integer(2));
	json_object_set_new(c, "truncated", json_true());
	json_object_set_new(c, "attachment", json_string("findings.csv"));
	json_object_set_new(c, "items", items);
	return c;
}

static json_t *
advisory_ctx(void)
{
	json_t *c = common_ctx();

	json_object_set_new(c, "advisory",
	    json_pack("{s:s, s:s, s:s, s:s, s:[s,s], s:[{s:s, s:s}], s:[s],"
		      " s:[s]}",
		"title", "Critical vulnerability in PAN-OS GlobalProtect",
		"summary", "Patch now: exploited in the wild.", "body",
		"First paragraph.\n\nSecond paragraph with <b>markup</b>.",
		"severity", "critical", "cves", "CVE-2024-3400",
		"CVE-2024-0012", "products", "cpe",
		"cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*", "versions",
		"< 10.2.9-h1", "references",
		"https://security.paloaltonetworks.example/CVE-2024-3400",
		"sectors", "energy"));
	return c;
}

/* The relay view comes from tc_relay_build, completed with the common
 * keys as the caller does. */
static json_t *
relay_ctx(void)
{
	const char               *sectors[] = { "energy" };
	const char               *ind_a[] = { "192.0.2.10:4443/tcp" };
	const char               *ind_s[] = { "198.51.100.99" };
	struct tc_relay_authority auth = { "Energy Regulator", sectors, 1,
		TC_TLP_AMBER };
	struct tc_relay_item      items[] = {
		     { "Voorbeeld Energie NV", "0123.456.789", "energy",
			 TC_CAT_VULNERABLE_SERVICE, TC_TLP_AMBER, 1, ind_a, 1 },
		     { "Geheim Netbeheer NV", "0987.654.321", "energy",
			 TC_CAT_COMPROMISED_HOST, TC_TLP_AMBER_STRICT, 3, ind_s, 1 },
	};
	enum tc_tlp label;
	size_t      n;
	json_t *v = tc_relay_build(&auth, items, 2, "2026-11-24", "2026-11-30",
	    &label, &n);
	json_t *c = common_ctx();

	assert_int_equal(n, 2);
	json_object_update(v, c); /* reference, csirt, recipient, date, tlp */
	json_decref(c);
	return v;
}

static void
assert_has(const struct tc_buf *b, const char *s, const char *what)
{
	if (strstr(tc_buf_cstr(b), s) == NULL)
		fail_msg("%s: \"%s\" not found in:\n%s", what, s,
		    tc_buf_cstr(b));
}

static void
assert_lacks(const struct tc_buf *b, const char *s, const char *what)
{
	if (strstr(tc_buf_cstr(b), s) != NULL)
		fail_msg("%s: \"%s\" found in:\n%s", what, s, tc_buf_cstr(b));
}

/* The HTML banner is the first element of the body. */
static void
assert_html_banner_first(const struct tc_buf *html, const char *label)
{
	const char *body = strstr(tc_buf_cstr(html), "<body"), *gt, *p, *end;
	char        want[64];

	assert_non_null(body);
	gt = strchr(body, '>');
	assert_non_null(gt);
	p = gt + 1;
	while (*p == '\n' || *p == ' ')
		p++;
	assert_true(strncmp(p, "<p style=\"", 10) == 0);
	assert_non_null(strstr(p, "background-color:#000000;color:#FFC000"));
	end = strstr(p, "</p>");
	assert_non_null(end);
	assert_true(snprintf(want, sizeof(want), ">%s</p>", label) > 0);
	assert_true(strncmp(end - strlen(label) - 1, want, strlen(want)) == 0);
}

static void
check_common(const struct tc_rendered *r, size_t li, const char *what)
{
	assert_string_equal(r->lang, langs[li]);
	assert_true(
	    tc_str_has_prefix(tc_buf_cstr(&r->text), "TLP:AMBER+STRICT\n"));
	assert_true(
	    tc_str_has_prefix(tc_buf_cstr(&r->html), "<!DOCTYPE html>"));
	assert_html_banner_first(&r->html, "TLP:AMBER+STRICT");
	assert_has(&r->html, "</html>", what);
	for (const struct tc_buf *b = &r->text; b != NULL;
	     b = b == &r->text ? &r->html : NULL) {
		assert_has(b, "CCB-EWS-2026-000042", what);
		assert_has(b, "cert@csirt.example", what);
		assert_has(b, strict_phrase[li], what);
		assert_lacks(b, "{{", what); /* no tag left unexpanded */
		assert_lacks(b, "}}", what);
	}
	assert_has(&r->text, ref_word[li], what);
	assert_true(r->subject.len > 0);
	assert_null(strpbrk(tc_buf_cstr(&r->subject), "\r\n\t"));
	assert_true(r->subject.data[0] != ' ' &&
	    r->subject.data[r->subject.len - 1] != ' ');
	assert_true(tc_utf8_is_valid(r->text.data, r->text.len));
	assert_true(tc_utf8_is_valid(r->html.data, r->html.len));
}

static void
test_names_match_categories(void **state)
{
	size_t n = 0;
	char   want[64];
	(void)state;

	assert_string_equal(TC_TEMPLATE_NAMES[0], "advisory");
	assert_string_equal(TC_TEMPLATE_NAMES[1], "relay");
	for (int c = 0; c < TC_CAT_COUNT; c++) {
		assert_true(snprintf(want, sizeof(want), "spear-%s",
				tc_category_name((enum tc_category)c)) > 0);
		assert_string_equal(TC_TEMPLATE_NAMES[2 + c], want);
	}
	while (TC_TEMPLATE_NAMES[n] != NULL)
		n++;
	assert_int_equal(n, 2 + TC_CAT_COUNT);
}

static void
test_every_name_every_language(void **state)
{
	struct tc_templates *t = load_repo();
	struct tc_err        err;
	char                 what[128];
	(void)state;

	for (size_t li = 0; li < (sizeof(langs) / sizeof(langs[0])); li++) {
		for (size_t ni = 0; TC_TEMPLATE_NAMES[ni] != NULL; ni++) {
			const char        *name = TC_TEMPLATE_NAMES[ni];
			struct tc_rendered r = { 0 };
			json_t            *ctx;

			if (strcmp(name, "advisory") == 0)
				ctx = advisory_ctx();
			else if (strcmp(name, "relay") == 0)
				ctx = relay_ctx();
			else
				ctx = spear_ctx(name + strlen("spear-"));
			assert_true(snprintf(what, sizeof(what), "%s/%s",
					langs[li], name) > 0);
			if (tc_templates_render(t, name, langs[li], ctx, &r,
				&err) != 0)
				fail_msg("%s: %s", what, err.msg);
			check_common(&r, li, what);
			if (strncmp(name, "spear-", 6) == 0) {
				for (const struct tc_buf *b = &r.text; b;
				     b = b == &r.text ? &r.html : NULL) {
					assert_has(b, "192.0.2.10", what);
					assert_has(b, "4443", what);
					assert_has(b, "2001:db8::7", what);
					assert_has(b, "3389", what);
					assert_has(b, "Voorbeeld Energie NV",
					    what);
					assert_has(b, "findings.csv", what);
				}
				assert_has(&r.subject, "Voorbeeld Energie NV",
				    what);
			} else if (strcmp(name, "advisory") == 0) {
				assert_string_equal(r.subject.data,
				    "Critical vulnerability in PAN-OS "
				    "GlobalProtect");
				assert_has(&r.text, "CVE-2024-0012", what);
				assert_has(&r.text,
				    "Second paragraph with <b>markup</b>.",
				    what);
				assert_has(&r.html,
				    "with &lt;b&gt;markup&lt;/b&gt;.", what);
				assert_has(&r.html, "white-space:pre-wrap",
				    what);
			} else {
				assert_has(&r.subject, "Energy Regulator",
				    what);
				assert_has(&r.text, "192.0.2.10:4443/tcp",
				    what);
				assert_has(&r.text, "Geheim Netbeheer NV",
				    what);
				assert_has(&r.html, "192.0.2.10:4443/tcp",
				    what);
			}
			tc_rendered_deinit(&r);
			json_decref(ctx);
		}
	}
	tc_templates_unref(t);
}

/* A word only the right language has, in a spear warning. */
static void
test_language_text(void **state)
{
	static const char *const word[] = { "What we recommend",
		"Ce que nous vous recommandons", "Wat we u aanraden",
		"Was wir Ihnen empfehlen" };
	struct tc_templates     *t = load_repo();
	json_t                  *ctx = spear_ctx("compromised_host");
	struct tc_err            err;
	(void)state;

	for (size_t li = 0; li < (sizeof(langs) / sizeof(langs[0])); li++) {
		struct tc_rendered r = { 0 };

		assert_int_equal(tc_templates_render(t,
				     "spear-compromised_host", langs[li], ctx,
				     &r, &err),
		    0);
		for (size_t k = 0; k < (sizeof(langs) / sizeof(langs[0])); k++)
			if (k == li)
				assert_has(&r.text, word[k], langs[li]);
			else
				assert_lacks(&r.text, word[k], langs[li]);
		tc_rendered_deinit(&r);
	}
	/* Unknown and missing languages give en; case does not matter. */
	for (int i = 0; i < 3; i++) {
		struct tc_rendered r = { 0 };
		const char        *l = i == 0 ? "xx" : i == 1 ? NULL : "FR";

		assert_int_equal(tc_templates_render(t,
				     "spear-compromised_host", l, ctx, &r,
				     &err),
		    0);
		assert_string_equal(r.lang, i == 2 ? "fr" : "en");
		assert_has(&r.text, word[i == 2 ? 1 : 0], "fallback");
		tc_rendered_deinit(&r);
	}
	json_decref(ctx);
	tc_templates_unref(t);
}

/* ---- temporary template trees ---- */

static void
put(const char *dir, const char *rel, const char *content)
{
	char  path[1024];
	FILE *f;

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, rel) <
	    (int)sizeof(path));
	for (char *s = strchr(path + strlen(dir) + 1, '/'); s != NULL;
	     s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
put_name(const char *dir, const char *lang, const char *name,
    const char *subject, const char *txt, const char *html)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "%s/%s.subject.mustache", lang, name);
	put(dir, rel, subject);
	snprintf(rel, sizeof(rel), "%s/%s.txt.mustache", lang, name);
	put(dir, rel, txt);
	snprintf(rel, sizeof(rel), "%s/%s.html.mustache", lang, name);
	put(dir, rel, html);
}

/* en with every name: "<lang> subject {{reference}}" etc. */
static void
put_min_en(const char *dir)
{
	for (size_t i = 0; TC_TEMPLATE_NAMES[i] != NULL; i++)
		put_name(dir, "en", TC_TEMPLATE_NAMES[i], "en {{reference}}\n",
		    "{{> banner}}\nen text {{reference}}\n",
		    "<p>en {{reference}}</p>\n");
	put(dir, "en/partials/banner.mustache", "EN-BANNER {{tlp.label}}\n");
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static char *
tmpdir(void)
{
	char  tmpl[] = "/tmp/test_template.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void
rmtree(char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

static void
test_fallback_to_en(void **state)
{
	char                *dir = tmpdir();
	struct tc_err        err;
	struct tc_templates *t;
	struct tc_rendered   r = { 0 };
	json_t              *ctx = common_ctx();
	(void)state;

	put_min_en(dir);
	t = tc_templates_load(dir, &err);
	if (t == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(
	    tc_templates_render(t, "advisory", "fr", ctx, &r, &err), 0);
	assert_string_equal(r.lang, "en");
	assert_string_equal(r.subject.data, "en CCB-EWS-2026-000042");
	assert_string_equal(r.text.data,
	    "EN-BANNER TLP:AMBER+STRICT\nen text CCB-EWS-2026-000042\n");
	tc_rendered_deinit(&r);
	tc_templates_unref(t);

	/* fr has one name, no partials: that name is fr with en's partial;
	 * the others stay en. */
	put_name(dir, "fr", "relay", "fr {{reference}}\n",
	    "{{> banner}}\nfr texte\n", "<p>fr</p>\n");
	t = tc_templates_load(dir, &err);
	assert_non_null(t);
	assert_int_equal(tc_templates_render(t, "relay", "fr", ctx, &r, &err),
	    0);
	assert_string_equal(r.lang, "fr");
	assert_string_equal(r.text.data,
	    "EN-BANNER TLP:AMBER+STRICT\nfr texte\n");
	tc_rendered_deinit(&r);
	assert_int_equal(
	    tc_templates_render(t, "spear-other", "fr", ctx, &r, &err), 0);
	assert_string_equal(r.lang, "en");
	tc_rendered_deinit(&r);

	/* A partial of the template's own language wins over en's. */
	put(dir, "fr/partials/banner.mustache", "BANDEAU {{tlp.label}}\n");
	tc_templates_unref(tc_templates_ref(t)); /* still one reference */
	tc_templates_unref(t);
	t = tc_templates_load(dir, &err);
	assert_non_null(t);
	assert_int_equal(tc_templates_render(t, "relay", "fr", ctx, &r, &err),
	    0);
	assert_string_equal(r.text.data,
	    "BANDEAU TLP:AMBER+STRICT\nfr texte\n");
	tc_rendered_deinit(&r);
	tc_templates_unref(t);

	/* A language with only some parts of a name is refused. */
	put(dir, "de/spear-other.subject.mustache", "x\n");
	assert_null(tc_templates_load(dir, &err));
	assert_int_equal(err.code, TC_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/de/spear-other.txt.mustache"));

	json_decref(ctx);
	rmtree(dir);
}

static void
test_missing_en_refused(void **state)
{
	char         *dir = tmpdir();
	char          path[1024];
	struct tc_err err;
	(void)state;

	put_min_en(dir);
	snprintf(path, sizeof(path),
	    "%s/en/spear-leaked_credentials.html.mustache", dir);
	assert_int_equal(unlink(path), 0);
	assert_null(tc_templates_load(dir, &err));
	assert_int_equal(err.code, TC_ENOTFOUND);
	assert_non_null(strstr(err.msg, path));
	rmtree(dir);

	assert_null(tc_templates_load("/nonexistent/templates", &err));
	assert_int_equal(err.code, TC_ENOTFOUND);
	assert_null(tc_templates_load(NULL, &err));
	assert_int_equal(err.code, TC_EINPUT);
	tc_templates_unref(NULL);
}

static void
test_syntax_error_refused(void **state)
{
	char         *dir = tmpdir();
	struct tc_err err;
	(void)state;

	put_min_en(dir);
	put(dir, "en/advisory.txt.mustache", "line one\nline two {{title\n");
	assert_null(tc_templates_load(dir, &err));
	assert_int_equal(err.code, TC_EINPUT);
	assert_non_null(strstr(err.msg, "/en/advisory.txt.mustache:2:"));

	/* In a partial too. */
	put(dir, "en/advisory.txt.mustache", "ok\n");
	put(dir, "en/partials/bad.mustache", "a\nb\n{{#open}}\n");
	assert_null(tc_templates_load(dir, &err));
	assert_non_null(strstr(err.msg, "/en/partials/bad.mustache:3:"));
	rmtree(dir);
}

static void
test_missing_partial_refused(void **state)
{
	char                *dir = tmpdir();
	struct tc_err        err;
	struct tc_templates *t;
	struct tc_rendered   r = { 0 };
	json_t              *ctx = common_ctx();
	(void)state;

	put_min_en(dir);
	put(dir, "en/spear-other.html.mustache", "{{> tlp_baner_html}}\n");
	assert_null(tc_templates_load(dir, &err));
	assert_int_equal(err.code, TC_ENOTFOUND);
	assert_non_null(strstr(err.msg, "tlp_baner_html"));
	assert_non_null(strstr(err.msg, "spear-other.html.mustache"));

	/* Inside a section it is only seen when rendering: still refused,
	 * and `out` is left empty. */
	put(dir, "en/spear-other.html.mustache",
	    "<p>x</p>{{#items}}{{> nope}}{{/items}}\n");
	t = tc_templates_load(dir, &err);
	assert_non_null(t);
	json_object_set_new(ctx, "items",
	    json_pack("[{s:s}]", "indicator", "x"));
	assert_int_equal(
	    tc_templates_render(t, "spear-other", "en", ctx, &r, &err),
	    TC_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nope"));
	assert_int_equal(r.subject.len + r.text.len + r.html.len, 0);
	assert_null(r.text.data);
	tc_templates_unref(t);
	json_decref(ctx);
	rmtree(dir);
}

static void
test_render_errors(void **state)
{
	char                *dir = tmpdir();
	struct tc_err        err;
	struct tc_templates *t;
	struct tc_rendered   r = { 0 };
	json_t              *ctx = common_ctx(), *arr = json_array();
	(void)state;

	put_min_en(dir);
	/* Partials calling themselves: the depth limit, at render time. */
	put(dir, "en/partials/loop.mustache", "{{> loop}}");
	put(dir, "en/spear-other.txt.mustache",
	    "{{#deep}}{{> loop}}{{/deep}}\n");
	put(dir, "en/relay.subject.mustache", "{{#empty}}{{x}}{{/empty}} \n\n");
	t = tc_templates_load(dir, &err);
	assert_non_null(t);
	json_object_set_new(ctx, "deep", json_true());
	assert_int_equal(
	    tc_templates_render(t, "spear-other", "en", ctx, &r, &err),
	    TC_ELIMIT);
	assert_int_equal(r.subject.len + r.text.len + r.html.len, 0);
	assert_int_equal(tc_templates_render(t, "nosuch", "en", ctx, &r, &err),
	    TC_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nosuch"));
	assert_int_equal(
	    tc_templates_render(t, "advisory", "en", arr, &r, &err), TC_EINPUT);
	assert_int_equal(
	    tc_templates_render(t, "advisory", "en", NULL, &r, &err),
	    TC_EINPUT);
	assert_int_equal(tc_templates_render(t, NULL, "en", ctx, &r, &err),
	    TC_EINPUT);
	/* A subject that renders to blanks only is refused. */
	assert_int_equal(tc_templates_render(t, "relay", "en", ctx, &r, &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "empty subject"));
	assert_int_equal(r.subject.len + r.text.len + r.html.len, 0);
	tc_templates_unref(t);
	json_decref(arr);
	json_decref(ctx);
	rmtree(dir);
}

static void
test_html_escaping(void **state)
{
	struct tc_templates *t = load_repo();
	json_t              *ctx = spear_ctx("compromised_website");
	json_t *it = json_array_get(json_object_get(ctx, "items"), 0);
	struct tc_rendered r = { 0 };
	struct tc_err      err;
	(void)state;

	json_object_set_new(it, "what",
	    json_string("<script>alert(1)</script>"));
	json_object_set_new(it, "hostname", json_string("x\" onmouseover=\"y"));
	json_object_set_new(it, "url", json_string("javascript:\"><b>"));
	assert_int_equal(tc_templates_render(t, "spear-compromised_website",
			     "nl", ctx, &r, &err),
	    0);
	assert_lacks(&r.html, "<script>", "html");
	assert_has(&r.html, "&lt;script&gt;alert(1)&lt;/script&gt;", "html");
	assert_lacks(&r.html, "x\" onmouseover", "html");
	assert_has(&r.html, "x&quot; onmouseover=&quot;y", "html");
	assert_lacks(&r.html, "\"><b>", "html");
	/* The text part is not HTML and keeps the value as it is. */
	assert_has(&r.text, "<script>alert(1)</script>", "text");
	tc_rendered_deinit(&r);
	json_decref(ctx);
	tc_templates_unref(t);
}

static void
test_subject_one_line(void **state)
{
	struct tc_templates *t = load_repo();
	json_t              *ctx = spear_ctx("exposed_service");
	json_t              *adv;
	struct tc_rendered   r = { 0 };
	struct tc_err        err;
	char                *big;
	(void)state;

	json_object_set_new(json_object_get(ctx, "entity"), "name",
	    json_string("Evil\r\nBcc: victim@example.com\x1b[31m \t\n end"));
	assert_int_equal(tc_templates_render(t, "spear-exposed_service", "de",
			     ctx, &r, &err),
	    0);
	for (size_t i = 0; i < r.subject.len; i++)
		assert_true((unsigned char)r.subject.data[i] >= 0x20 &&
		    r.subject.data[i] != 0x7f);
	assert_has(&r.subject, "Evil? Bcc: victim@example.com?[31m end",
	    "subj");
	assert_null(strstr(r.subject.data, "  "));
	/* The body keeps the newline but no escape character. */
	assert_null(strchr(r.text.data, '\x1b'));
	assert_null(strchr(r.text.data, '\r'));
	tc_rendered_deinit(&r);
	json_decref(ctx);

	/* A very long title is cut at a UTF-8 boundary. */
	ctx = advisory_ctx();
	adv = json_object_get(ctx, "advisory");
	big = malloc(3001);
	assert_non_null(big);
	for (int i = 0; i < 1500; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	big[3000] = '\0';
	json_object_set_new(adv, "title", json_string(big));
	free(big);
	assert_int_equal(
	    tc_templates_render(t, "advisory", "fr", ctx, &r, &err), 0);
	assert_true(r.subject.len <= TC_TEMPLATE_SUBJECT_MAX);
	assert_true(r.subject.len > TC_TEMPLATE_SUBJECT_MAX - 8);
	assert_true(tc_str_has_suffix(r.subject.data, "..."));
	assert_true(tc_utf8_is_valid(r.subject.data, r.subject.len));
	tc_rendered_deinit(&r);
	json_decref(ctx);
	tc_templates_unref(t);
}

static void
test_no_password_rendered(void **state)
{
	struct tc_templates *t = load_repo();
	json_t              *ctx = spear_ctx("leaked_credentials");
	json_t              *items = json_object_get(ctx, "items");
	struct tc_err        err;
	(void)state;

	json_array_append_new(items,
	    json_pack("{s:s, s:s, s:s, s:s}", "indicator",
		"j.peeters@voorbeeld.example", "password", "Hunter2-Secret!",
		"pass", "Hunter2-Secret!", "what", "infostealer log"));
	for (size_t li = 0; li < (sizeof(langs) / sizeof(langs[0])); li++) {
		struct tc_rendered r = { 0 };

		assert_int_equal(tc_templates_render(t,
				     "spear-leaked_credentials", langs[li], ctx,
				     &r, &err),
		    0);
		assert_has(&r.text, "j.peeters@voorbeeld.example", langs[li]);
		assert_has(&r.html, "j.peeters@voorbeeld.example", langs[li]);
		assert_lacks(&r.subject, "Hunter2", langs[li]);
		assert_lacks(&r.text, "Hunter2", langs[li]);
		assert_lacks(&r.html, "Hunter2", langs[li]);
		tc_rendered_deinit(&r);
	}
	json_decref(ctx);
	tc_templates_unref(t);
}

static void
test_relay_withheld_not_described(void **state)
{
	struct tc_templates     *t = load_repo();
	json_t                  *ctx = relay_ctx();
	struct tc_err            err;
	static const char *const phrase[] = { "details not shareable",
		"détails non partageables", "details niet deelbaar",
		"Details nicht weitergebbar" };
	(void)state;

	/* A caller that wrongly left details on an undescribed item. */
	json_object_set_new(json_array_get(json_object_get(ctx, "items"), 1),
	    "details", json_pack("[s]", "203.0.113.66"));
	for (size_t li = 0; li < (sizeof(langs) / sizeof(langs[0])); li++) {
		struct tc_rendered r = { 0 };
		char               want[128];

		assert_int_equal(
		    tc_templates_render(t, "relay", langs[li], ctx, &r, &err),
		    0);
		assert_true(
		    snprintf(want, sizeof(want), "3 %s (TLP:AMBER+STRICT — %s)",
			li == 0       ? "findings"
			    : li == 1 ? "constats"
			    : li == 2 ? "vaststellingen"
				      : "Feststellungen",
			phrase[li]) > 0);
		assert_has(&r.text, want, langs[li]);
		assert_has(&r.html, want, langs[li]);
		for (const struct tc_buf *b = &r.text; b;
		     b = b == &r.text ? &r.html : NULL) {
			assert_lacks(b, "198.51.100.99", langs[li]);
			assert_lacks(b, "203.0.113.66", langs[li]);
			assert_has(b, "192.0.2.10:4443/tcp", langs[li]);
		}
		tc_rendered_deinit(&r);
	}
	json_decref(ctx);
	tc_templates_unref(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_match_categories),
		cmocka_unit_test(test_every_name_every_language),
		cmocka_unit_test(test_language_text),
		cmocka_unit_test(test_fallback_to_en),
		cmocka_unit_test(test_missing_en_refused),
		cmocka_unit_test(test_syntax_error_refused),
		cmocka_unit_test(test_missing_partial_refused),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_html_escaping),
		cmocka_unit_test(test_subject_one_line),
		cmocka_unit_test(test_no_password_rendered),
		cmocka_unit_test(test_relay_withheld_not_described),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

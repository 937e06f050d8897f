/* Unit tests for advisory: the YAML file validated into its document,
 * every error with its line:col, the document validated again the same
 * way, product ranges, and the CSAF and Atom documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/advisory.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long  n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

static json_t *
parse_ok(const char *yaml)
{
	struct tc_buf errors = TC_BUF_INIT;
	struct tc_err err;
	json_t       *doc = NULL;
	int rc = tc_advisory_parse("t.yaml", yaml, strlen(yaml), &doc, &errors,
	    &err);

	if (rc != 0)
		fail_msg("refused: %s", tc_buf_cstr(&errors));
	tc_buf_deinit(&errors);
	return doc;
}

/* Parse `yaml`, expect a refusal whose error lines are exactly `want`
 * (each "t.yaml:L:C: field: message", in order). */
static void
parse_fails(const char *yaml, const char *want)
{
	struct tc_buf errors = TC_BUF_INIT;
	struct tc_err err;
	json_t       *doc = (json_t *)1;
	int rc = tc_advisory_parse("t.yaml", yaml, strlen(yaml), &doc, &errors,
	    &err);

	assert_int_equal(rc, TC_EINPUT);
	assert_null(doc);
	if (strcmp(tc_buf_cstr(&errors), want) != 0)
		fail_msg("errors:\n%s\nwanted:\n%s", tc_buf_cstr(&errors),
		    want);
	tc_buf_deinit(&errors);
}

static void
test_good_file(void **state)
{
	struct tc_buf errors = TC_BUF_INIT;
	struct tc_err err;
	json_t       *doc, *again, *ctx;
	size_t        len;
	char         *y = slurp("tests/data/advisory/good.yaml", &len);

	(void)state;
	assert_int_equal(
	    tc_advisory_parse("good.yaml", y, len, &doc, &errors, &err), 0);
	assert_int_equal(errors.len, 0);
	assert_int_equal(tc_advisory_tlp(doc), TC_TLP_AMBER);
	assert_string_equal(json_string_value(json_object_get(doc, "tlp")),
	    "AMBER");
	assert_string_equal(tc_advisory_severity(doc), "high");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(doc, "cves"), 0)),
	    "CVE-2025-48384");
	assert_string_equal(tc_advisory_title(doc),
	    "Git: remote code execution when cloning (CVE-2025-48384)");
	assert_int_equal(json_array_size(json_object_get(doc, "recipients")),
	    0);
	/* The daemon validates the JSON document with the same rules. */
	assert_int_equal(tc_advisory_check(doc, &again, &errors, &err), 0);
	assert_true(json_equal(doc, again));
	/* Per language, falling back to English. */
	assert_string_equal(tc_advisory_lang(doc, "fr"), "fr");
	assert_string_equal(tc_advisory_lang(doc, "nl"), "en");
	ctx = tc_advisory_context(doc, "fr");
	assert_non_null(strstr(json_string_value(json_object_get(ctx, "title")),
	    "exécution"));
	assert_null(json_object_get(ctx, "summary")); /* none in fr */
	assert_string_equal(json_string_value(json_object_get(ctx, "severity")),
	    "high");
	json_decref(ctx);
	ctx = tc_advisory_context(doc, "de");
	assert_string_equal(json_string_value(json_object_get(ctx, "summary")),
	    "Update Git to 2.43.7 or later.");
	json_decref(ctx);
	json_decref(again);
	json_decref(doc);
	free(y);
	tc_buf_deinit(&errors);
}

static void
test_every_error_at_once(void **state)
{
	(void)state;
	parse_fails(
	    "content:\n"
	    "  en:\n"
	    "    title: \"bad\\x07title\"\n"
	    "    body: ok\n"
	    "  xx: {title: a, body: b}\n"
	    "  fr: {body: b}\n"
	    "tlp: ORANGE\n"
	    "severity: urgent\n"
	    "cves: [CVE-2025-1, CVE-2025-12345, cve-2025-12345]\n"
	    "products:\n"
	    "  - cpe: cpe:2.3:a:*:git:*:*:*:*:*:*:*:*\n"
	    "  - {cpe: \"cpe:2.3:a:git-scm:git:*:*:*:*:*:*:*:*\", "
	    "versions: \">= 2 <3\"}\n"
	    "  - versions: \"< 2\"\n"
	    "sectors: [health, nuclear]\n"
	    "references: [\"javascript:alert(1)\", https://ok.example/]\n"
	    "colour: blue\n",
	    "t.yaml:3:12: content.en.title: control characters are not allowed "
	    "(it becomes a mail subject)\n"
	    "t.yaml:5:3: content.xx: unknown language (en fr nl de)\n"
	    "t.yaml:6:7: content.fr: title is required\n"
	    "t.yaml:7:6: tlp: \"ORANGE\" is not a TLP 2.0 label (CLEAR GREEN "
	    "AMBER AMBER+STRICT RED)\n"
	    "t.yaml:8:11: severity: \"urgent\" is not a severity (info low "
	    "medium high critical)\n"
	    "t.yaml:9:8: cves[0]: \"CVE-2025-1\" is not a CVE id "
	    "(CVE-YYYY-NNNN)\n"
	    "t.yaml:9:36: cves[2]: \"CVE-2025-12345\" is listed twice\n"
	    "t.yaml:11:10: products[0].cpe: "
	    "\"cpe:2.3:a:*:git:*:*:*:*:*:*:*:*\" "
	    "is not a CPE 2.3 name (cpe:2.3:part:vendor:product:...: 13 "
	    "fields, vendor and product named)\n"
	    "t.yaml:12:62: products[1].versions: \">= 2 <3\" is not a version "
	    "range (e.g. \">= 2.0, < 2.4.1\")\n"
	    "t.yaml:13:5: products[2]: cpe is required\n"
	    "t.yaml:14:19: sectors[1]: \"nuclear\" is not a NIS2 sector\n"
	    "t.yaml:15:14: references[0]: \"javascript:alert(1)\" is not an "
	    "http(s) URL\n"
	    "t.yaml:16:1: colour: unknown field\n"
	    "t.yaml:1:1: tlp: required\n"
	    "t.yaml:1:1: severity: required\n");
}

static void
test_required_and_red(void **state)
{
	json_t *doc;

	(void)state;
	parse_fails("tlp: GREEN\nseverity: low\n",
	    "t.yaml:1:1: content: required (en at least)\n");
	parse_fails("content: {fr: {title: t, body: b}}\ntlp: GREEN\n"
		    "severity: low\n",
	    "t.yaml:1:10: content: en is required\n");
	parse_fails("content: {en: {title: t, body: b}}\ntlp: RED\n"
		    "severity: low\n",
	    "t.yaml:1:1: recipients: required for TLP:RED (the named people "
	    "only)\n");
	parse_fails("content: {en: {title: t, body: b}}\ntlp: AMBER\n"
		    "severity: low\nrecipients: [a@b.example]\n",
	    "t.yaml:4:13: recipients: only allowed for TLP:RED (TLP:AMBER goes "
	    "by subscription)\n");
	parse_fails("content: {en: {title: t, body: b}}\ntlp: RED\n"
		    "severity: low\nrecipients: [a@b.example, nobody]\n",
	    "t.yaml:4:27: recipients[1]: \"nobody\" is not an email address\n");
	parse_fails("content: {en: {title: t, body: b}}\ntlp: RED\n"
		    "severity: low\nrecipients: []\n",
	    "t.yaml:4:13: recipients: at least one for TLP:RED\n");
	parse_fails("content: [\n",
	    "t.yaml:2:1: YAML: did not find expected "
	    "node content while parsing a flow node\n");
	doc = parse_ok("content: {en: {title: t, body: b}}\ntlp: tlp:red\n"
		       "severity: low\nrecipients: [A@B.Example]\n");
	assert_int_equal(tc_advisory_tlp(doc), TC_TLP_RED);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(doc, "recipients"), 0)),
	    "a@b.example");
	json_decref(doc);
}

static void
test_limits(void **state)
{
	struct tc_buf y = TC_BUF_INIT, errors = TC_BUF_INIT;
	struct tc_err err;
	json_t       *doc;

	(void)state;
	/* A title of exactly the limit passes, one byte more does not. */
	tc_buf_puts(&y, "content: {en: {body: b, title: ");
	for (int i = 0; i < TC_ADVISORY_TITLE_MAX; i++)
		tc_buf_putc(&y, 'x');
	tc_buf_puts(&y, "}}\ntlp: CLEAR\nseverity: info\n");
	doc = parse_ok(y.data);
	json_decref(doc);
	tc_buf_reset(&y);
	tc_buf_puts(&y, "content: {en: {body: b, title: ");
	for (int i = 0; i <= TC_ADVISORY_TITLE_MAX; i++)
		tc_buf_putc(&y, 'x');
	tc_buf_puts(&y, "}}\ntlp: CLEAR\nseverity: info\n");
	parse_fails(y.data,
	    "t.yaml:1:32: content.en.title: longer than 200 "
	    "bytes\n");
	/* Lists are bounded. */
	tc_buf_reset(&y);
	tc_buf_puts(&y,
	    "content: {en: {title: t, body: b}}\ntlp: CLEAR\n"
	    "severity: info\nsectors: [");
	for (int i = 0; i <= TC_ADVISORY_LIST_MAX; i++)
		tc_buf_puts(&y, "health, ");
	tc_buf_puts(&y, "energy]\n");
	parse_fails(y.data, "t.yaml:4:10: sectors: more than 200 items\n");
	/* A file too large is refused before parsing. */
	assert_int_equal(tc_advisory_parse("big.yaml", y.data,
			     TC_ADVISORY_FILE_MAX + 1, &doc, &errors, &err),
	    TC_ELIMIT);
	assert_null(doc);
	assert_non_null(strstr(errors.data, "larger than"));
	/* Not an object for the daemon. */
	assert_int_equal(tc_advisory_check(json_null(), &doc, NULL, &err),
	    TC_EINPUT);
	tc_buf_deinit(&y);
	tc_buf_deinit(&errors);
}

static void
test_products(void **state)
{
	json_t *doc;

	(void)state;
	doc = parse_ok(
	    "content: {en: {title: t, body: b}}\ntlp: CLEAR\n"
	    "severity: high\nproducts:\n"
	    "  - {cpe: \"cpe:2.3:a:git-scm:git:*:*:*:*:*:*:*:*\", "
	    "versions: \">= 2.0, < 2.43.7\"}\n"
	    "  - {cpe: \"cpe:2.3:a:paloaltonetworks:pan-os:10.2.9:*:*:*:"
	    "*:*:*:*\"}\n");
	assert_true(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:git-scm:git:2.43.0:*:*:*:*:*:*:*"));
	assert_true(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:git-scm:git:2.0:*:*:*:*:*:*:*"));
	assert_false(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:git-scm:git:2.43.7:*:*:*:*:*:*:*"));
	assert_false(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:git-scm:git:1.9:*:*:*:*:*:*:*"));
	/* An inventory entry without a version is inside. */
	assert_true(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:git-scm:git:*:*:*:*:*:*:*:*"));
	assert_false(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:other:git:2.43.0:*:*:*:*:*:*:*"));
	assert_false(tc_advisory_product_matches(doc,
	    "cpe:2.3:o:git-scm:git:2.43.0:*:*:*:*:*:*:*"));
	/* The version in the advisory's CPE itself. */
	assert_true(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:paloaltonetworks:pan-os:10.2.9:*:*:*:*:*:*:*"));
	assert_false(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:paloaltonetworks:pan-os:10.2.8:*:*:*:*:*:*:*"));
	assert_false(tc_advisory_product_matches(doc, "not a cpe"));
	json_decref(doc);
}

static void
test_csaf_and_atom(void **state)
{
	struct tc_advisory_publisher pub = { "Test <CSIRT>",
		"https://csirt.example", "cert@csirt.example" };
	struct tc_advisory_entry     e;
	struct tc_buf                atom = TC_BUF_INIT;
	json_t                      *doc, *c, *d, *t;

	(void)state;
	doc = parse_ok("content: {en: {title: \"A & B <x>\", body: b}}\n"
		       "tlp: CLEAR\nseverity: high\ncves: [CVE-2026-0001]\n"
		       "products: [{cpe: \"cpe:2.3:a:v:p:*:*:*:*:*:*:*:*\", "
		       "versions: \"< 2\"}]\n");
	c = tc_advisory_csaf(doc, "TEST-2026-000001", 1767225600, &pub);
	d = json_object_get(c, "document");
	assert_string_equal(json_string_value(json_object_get(d, "category")),
	    "csaf_security_advisory");
	assert_string_equal(
	    json_string_value(json_object_get(d, "csaf_version")), "2.0");
	t = json_object_get(d, "tracking");
	assert_string_equal(json_string_value(json_object_get(t, "id")),
	    "TEST-2026-000001");
	assert_string_equal(json_string_value(json_object_get(t, "status")),
	    "final");
	assert_string_equal(
	    json_string_value(json_object_get(t, "initial_release_date")),
	    "2026-01-01T00:00:00Z");
	assert_int_equal(
	    json_array_size(json_object_get(t, "revision_history")), 1);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(d, "distribution"), "tlp"),
		"label")),
	    "WHITE");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(c, "vulnerabilities"), 0),
		"cve")),
	    "CVE-2026-0001");
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(c, "product_tree"),
		"full_product_names")),
	    1);
	json_decref(c);
	e.reference = "TEST-2026-000001";
	e.doc = doc;
	e.released = 1767225600;
	tc_advisory_atom(&e, 1, &pub, 1767225600, &atom);
	assert_non_null(strstr(atom.data,
	    "<title>[TEST-2026-000001] A &amp; "
	    "B &lt;x&gt;</title>"));
	assert_non_null(strstr(atom.data, "<name>Test &lt;CSIRT&gt;</name>"));
	assert_non_null(strstr(atom.data, "<updated>2026-01-01T00:00:00Z"));
	assert_null(strstr(atom.data, "<x>"));
	tc_buf_deinit(&atom);
	json_decref(doc);
}

/* What the daemon receives is validated again: a document that did not
 * come from tc_advisory_parse gets the same refusals. */
static void
test_check_tampered(void **state)
{
	struct tc_buf errors = TC_BUF_INIT;
	struct tc_err err;
	json_t       *doc, *out = (json_t *)1;

	(void)state;
	doc = json_pack("{s:{s:{s:s, s:s}}, s:s, s:s}", "content", "en",
	    "title", "Bell\a in the subject", "body", "b", "tlp", "RED",
	    "severity", "high");
	assert_int_equal(tc_advisory_check(doc, &out, &errors, &err),
	    TC_EINPUT);
	assert_null(out);
	assert_non_null(strstr(errors.data,
	    "content.en.title: control "
	    "characters are not allowed"));
	assert_non_null(strstr(errors.data,
	    "recipients: required for "
	    "TLP:RED"));
	json_decref(doc);
	tc_buf_reset(&errors);
	/* A number where a string belongs. */
	doc = json_pack("{s:{s:{s:s, s:s}}, s:s, s:i}", "content", "en",
	    "title", "t", "body", "b", "tlp", "GREEN", "severity", 3);
	assert_int_equal(tc_advisory_check(doc, &out, &errors, &err),
	    TC_EINPUT);
	assert_non_null(strstr(errors.data,
	    "severity: \"3\" is not a "
	    "severity"));
	json_decref(doc);
	tc_buf_deinit(&errors);
}

static void
test_cpe_charset(void **state)
{
	json_t *doc;

	(void)state;
	parse_fails(
	    "content: {en: {title: t, body: b}}\ntlp: CLEAR\n"
	    "severity: low\nproducts: [{cpe: \"cpe:2.3:a:v:p!:*:*:*:*:*:*:*:*"
	    "\"}, {cpe: \"cpe:2.3:a:v:p q:*:*:*:*:*:*:*:*\"}, "
	    "{cpe: \"cpe:2.3:x:v:p:*:*:*:*:*:*:*:*\"}, "
	    "{cpe: \"cpe:2.3:a:v:p:*:*:*:*:*:*:*\"}]\n",
	    "t.yaml:4:18: products[0].cpe: \"cpe:2.3:a:v:p!:*:*:*:*:*:*:*:*\" "
	    "is "
	    "not a CPE 2.3 name (cpe:2.3:part:vendor:product:...: 13 fields, "
	    "vendor and product named)\n"
	    "t.yaml:4:59: products[1].cpe: \"cpe:2.3:a:v:p q:*:*:*:*:*:*:*:*\" "
	    "is not a CPE 2.3 name (cpe:2.3:part:vendor:product:...: 13 "
	    "fields, vendor and product named)\n"
	    "t.yaml:4:101: products[2].cpe: \"cpe:2.3:x:v:p:*:*:*:*:*:*:*:*\" "
	    "is not a CPE 2.3 name (cpe:2.3:part:vendor:product:...: 13 "
	    "fields, vendor and product named)\n"
	    "t.yaml:4:141: products[3].cpe: \"cpe:2.3:a:v:p:*:*:*:*:*:*:*\" is "
	    "not a CPE 2.3 name (cpe:2.3:part:vendor:product:...: 13 fields, "
	    "vendor and product named)\n");
	/* Escaped punctuation is part of the name; case does not matter. */
	doc = parse_ok(
	    "content: {en: {title: t, body: b}}\ntlp: CLEAR\n"
	    "severity: low\nproducts: [{cpe: 'cpe:2.3:a:V:p\\!:*:*:*:*:"
	    "*:*:*:*'}]\n");
	assert_true(tc_advisory_product_matches(doc,
	    "cpe:2.3:a:v:p\\!:1.0:*:*:*:*:*:*:*"));
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_every_error_at_once),
		cmocka_unit_test(test_required_and_red),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_products),
		cmocka_unit_test(test_csaf_and_atom),
		cmocka_unit_test(test_check_tampered),
		cmocka_unit_test(test_cpe_charset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* spear: the template context and the CSV attachment of a warning (pure
 * parts; the database and gpg steps run in tests/integration/test_spear.sh):
 * only due findings, the AS number as a number, only web links, the
 * truncation flags, CSV quoting and spreadsheet-formula neutralising,
 * invalid UTF-8 from a feed kept visible, and the priority classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tocsin/spear.h"

static struct tc_aggregate_item items[3];
static struct tc_aggregate_group group;
static bool due[3];
static struct tc_spear_warning w;
static const struct tc_spear_config sc = { "TEST-EWS", "cert@csirt.example",
	"CSIRT", NULL, 86400 };

static void
setup_warning(void)
{
	memset(items, 0, sizeof(items));
	items[0].indicator = "192.0.2.10";
	items[0].ip = "192.0.2.10";
	items[0].asn = "AS64501";
	items[0].port = 3389;
	items[0].protocol = "tcp";
	items[0].first_seen = 1763859723; /* 2025-11-23 01:02:03 */
	items[0].what = "=HYPERLINK(\"http://evil.example\")";
	items[0].url = "javascript:alert(1)";
	items[1].indicator = "192.0.2.11";
	items[1].ip = "192.0.2.11";
	items[1].what = "rdp, \"quoted\"";
	items[1].url = "https://vendor.example/advisory";
	items[2].indicator = "192.0.2.12";
	items[2].what = "caf\xe9"; /* Latin-1 from a feed */
	memset(&group, 0, sizeof(group));
	group.entity_id = 7;
	group.category = TC_CAT_EXPOSED_SERVICE;
	group.tlp = TC_TLP_AMBER;
	group.items = items;
	group.n_items = 3;
	memset(&w, 0, sizeof(w));
	w.group = &group;
	w.entity_name = "Voorbeeld Energie NV";
	w.enterprise_number = "0123.456.789";
	w.tlp = TC_TLP_AMBER_STRICT;
	w.due = due;
	due[0] = due[1] = due[2] = true;
	w.n_due = 3;
	snprintf(w.reference, sizeof(w.reference), "TEST-EWS-2026-000001");
}

static void
test_context(void **state)
{
	json_t *ctx, *it;

	(void)state;
	setup_warning();
	due[2] = false; /* already notified: not in this warning */
	w.n_due = 2;
	ctx = tc_spear_context(&w, &sc, 1764600000);
	assert_string_equal(json_string_value(json_object_get(ctx, "reference")),
	    "TEST-EWS-2026-000001");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(ctx, "tlp"), "label")),
	    "TLP:AMBER+STRICT");
	assert_true(json_is_true(json_object_get(json_object_get(ctx, "tlp"),
	    "amber_strict")));
	assert_false(json_is_true(json_object_get(json_object_get(ctx, "tlp"),
	    "amber")));
	assert_int_equal(json_array_size(json_object_get(ctx, "items")), 2);
	assert_int_equal(json_integer_value(json_object_get(ctx, "count")), 2);
	assert_false(json_is_true(json_object_get(ctx, "truncated")));
	assert_null(json_object_get(ctx, "attachment"));
	it = json_array_get(json_object_get(ctx, "items"), 0);
	assert_int_equal(json_integer_value(json_object_get(it, "asn")), 64501);
	assert_int_equal(json_integer_value(json_object_get(it, "port")), 3389);
	assert_string_equal(json_string_value(json_object_get(it, "first_seen")),
	    "2025-11-23 01:02 UTC");
	/* A javascript: link never becomes a link. */
	assert_null(json_object_get(it, "url"));
	it = json_array_get(json_object_get(ctx, "items"), 1);
	assert_string_equal(json_string_value(json_object_get(it, "url")),
	    "https://vendor.example/advisory");
	assert_null(json_object_get(it, "port"));
	json_decref(ctx);
}

static void
test_context_truncated_and_bad_utf8(void **state)
{
	json_t *ctx, *it;

	(void)state;
	setup_warning();
	group.dropped = 60; /* more than the body lists */
	ctx = tc_spear_context(&w, &sc, 1764600000);
	assert_int_equal(json_integer_value(json_object_get(ctx, "count")), 63);
	assert_int_equal(json_integer_value(json_object_get(ctx, "shown")), 3);
	assert_true(json_is_true(json_object_get(ctx, "truncated")));
	assert_string_equal(json_string_value(json_object_get(ctx, "attachment")),
	    "findings.csv");
	it = json_array_get(json_object_get(ctx, "items"), 2);
	assert_string_equal(json_string_value(json_object_get(it, "what")),
	    "caf?");
	json_decref(ctx);
}

static void
test_csv(void **state)
{
	struct tc_buf b = TC_BUF_INIT;

	(void)state;
	setup_warning();
	due[1] = false;
	tc_spear_csv(&w, &b);
	assert_true(strncmp(b.data, "indicator,ip,hostname,asn,port,", 31) == 0);
	/* The formula is neutralised and quoted. */
	assert_non_null(strstr(b.data,
	    "\"'=HYPERLINK(\"\"http://evil.example\"\")\""));
	assert_non_null(strstr(b.data, "192.0.2.10,192.0.2.10,,AS64501,3389,tcp,"));
	/* Not due: not in the attachment either. */
	assert_null(strstr(b.data, "192.0.2.11"));
	assert_non_null(strstr(b.data, "192.0.2.12"));
	/* Every line ends in CRLF. */
	for (const char *p = b.data; (p = strchr(p, '\n')) != NULL; p++)
		assert_int_equal(p[-1], '\r');
	tc_buf_deinit(&b);
}

static void
test_priority(void **state)
{
	(void)state;
	assert_int_equal(tc_spear_priority("essential"), 0);
	assert_int_equal(tc_spear_priority("public_admin"), 1);
	assert_int_equal(tc_spear_priority("important"), 2);
	assert_int_equal(tc_spear_priority("other"), 3);
	assert_int_equal(tc_spear_priority(NULL), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_context_truncated_and_bad_utf8),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_priority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for relay digests: AMBER+STRICT and RED items are counted but
 * never described, other sectors are left out, clearance is honoured. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/relay.h"

/* The test links without the parsers: tc_category_name is theirs. */
static const char *ips_a[] = { "192.0.2.10", "192.0.2.11" };
static const char *ips_s[] = { "198.51.100.7" };
static const char *ips_r[] = { "203.0.113.5" };
static const char *energy[] = { "energy" };

static const struct tc_relay_item items[] = {
	{ "Voorbeeld Energie NV", "0123.456.789", "energy",
	    TC_CAT_VULNERABLE_SERVICE, TC_TLP_AMBER, 2, ips_a, 2 },
	{ "Voorbeeld Energie NV", "0123.456.789", "energy",
	    TC_CAT_COMPROMISED_HOST, TC_TLP_AMBER_STRICT, 1, ips_s, 1 },
	{ "Exemple Réseau SA", "0987.654.321", "energy",
	    TC_CAT_MALICIOUS_INFRA, TC_TLP_RED, 1, ips_r, 1 },
	{ "Hospital", "0111.222.333", "health", TC_CAT_VULNERABLE_SERVICE,
	    TC_TLP_GREEN, 4, ips_a, 2 },
};

static bool
dump_has(json_t *v, const char *needle)
{
	char *s = json_dumps(v, 0);
	bool  r = strstr(s, needle) != NULL;

	free(s);
	return r;
}

static void
test_strict_and_red_are_counted_not_described(void **state)
{
	struct tc_relay_authority a = { "Energy Authority", energy, 1,
		TC_TLP_AMBER };
	enum tc_tlp               label;
	size_t                    n;
	json_t                   *v, *it;
	(void)state;

	v = tc_relay_build(&a, items, 4, "2026-11-22", "2026-11-23", &label,
	    &n);
	assert_int_equal(n, 3); /* the health item is another sector's */
	assert_int_equal(label, TC_TLP_AMBER);
	assert_int_equal(json_integer_value(json_object_get(v, "entities")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(v, "total")), 4);
	assert_int_equal(json_integer_value(json_object_get(v, "withheld")),
	    2);
	it = json_array_get(json_object_get(v, "items"), 0);
	assert_true(json_is_true(json_object_get(it, "described")));
	assert_int_equal(json_array_size(json_object_get(it, "details")), 2);
	it = json_array_get(json_object_get(v, "items"), 1);
	assert_false(json_is_true(json_object_get(it, "described")));
	assert_null(json_object_get(it, "details"));
	assert_string_equal(json_string_value(json_object_get(it, "tlp")),
	    "TLP:AMBER+STRICT");
	/* No byte of a withheld indicator anywhere in the view. */
	assert_false(dump_has(v, "198.51.100.7"));
	assert_false(dump_has(v, "203.0.113.5"));
	assert_false(dump_has(v, "Hospital"));
	assert_true(dump_has(v, "192.0.2.11"));
	json_decref(v);
}

static void
test_clearance_green_withholds_amber(void **state)
{
	struct tc_relay_authority a = { "Energy Authority", energy, 1,
		TC_TLP_GREEN };
	enum tc_tlp               label;
	size_t                    n;
	json_t                   *v;
	(void)state;

	v = tc_relay_build(&a, items, 4, "a", "b", &label, &n);
	assert_int_equal(n, 3);
	assert_int_equal(label, TC_TLP_CLEAR); /* nothing described */
	assert_false(dump_has(v, "192.0.2.10"));
	assert_int_equal(json_integer_value(json_object_get(v, "withheld")),
	    4);
	json_decref(v);
}

static void
test_may_describe_table(void **state)
{
	(void)state;
	assert_true(tc_relay_may_describe(TC_TLP_AMBER, TC_TLP_CLEAR));
	assert_true(tc_relay_may_describe(TC_TLP_AMBER, TC_TLP_GREEN));
	assert_true(tc_relay_may_describe(TC_TLP_AMBER, TC_TLP_AMBER));
	assert_false(tc_relay_may_describe(TC_TLP_AMBER, TC_TLP_AMBER_STRICT));
	assert_false(tc_relay_may_describe(TC_TLP_RED, TC_TLP_AMBER_STRICT));
	assert_false(tc_relay_may_describe(TC_TLP_RED, TC_TLP_RED));
	assert_false(tc_relay_may_describe(TC_TLP_GREEN, TC_TLP_AMBER));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_and_red_are_counted_not_described),
		cmocka_unit_test(test_clearance_green_withholds_amber),
		cmocka_unit_test(test_may_describe_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

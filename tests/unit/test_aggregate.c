/* Unit tests for aggregate: one group per (entity, category), each holding
 * only that entity's items, duplicates merged, limits counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "tocsin/aggregate.h"

/* Events are filled by hand: this test must not depend on the parsers. */
struct fake {
	struct tc_event     ev;
	struct tc_indicator ind[2];
	struct tc_field     fld[2];
	char               *cve[1];
};

static void
fake_ip(struct fake *f, enum tc_category cat, char *ip, uint16_t port,
    char *tag, int64_t seen)
{
	memset(f, 0, sizeof(*f));
	f->ev.format = "shadowserver";
	f->ev.source = "2026-11-23-scan_rdp-be.csv";
	f->ev.line = 7;
	f->ev.category = cat;
	f->ev.severity = TC_SEV_MEDIUM;
	f->ev.first_seen = f->ev.last_seen = seen;
	f->ev.port = port;
	f->ev.protocol = (char *)"tcp";
	f->ev.report_type = (char *)"scan_rdp";
	f->ind[0].type = strchr(ip, ':') ? TC_IND_IPV6 : TC_IND_IPV4;
	f->ind[0].text = ip;
	f->ind[1].type = TC_IND_ASN;
	f->ind[1].text = (char *)"AS64500";
	f->ev.ind = f->ind;
	f->ev.n_ind = 2;
	f->fld[0].key = (char *)"tag";
	f->fld[0].value = tag;
	f->fld[1].key = (char *)"hostname";
	f->fld[1].value = (char *)"rdp.voorbeeld.example";
	f->ev.field = f->fld;
	f->ev.n_field = 2;
}

static void
test_groups_per_entity_and_category(void **state)
{
	struct tc_aggregate             *agg = tc_aggregate_new();
	const struct tc_aggregate_group *g;
	struct fake                      f;
	size_t                           n;
	(void)state;

	fake_ip(&f, TC_CAT_VULNERABLE_SERVICE, "192.0.2.10", 3389, "rdp",
	    1000);
	assert_int_equal(tc_aggregate_add(agg, 2, &f.ev, 0, TC_TLP_AMBER), 1);
	fake_ip(&f, TC_CAT_VULNERABLE_SERVICE, "192.0.2.9", 3389, "rdp", 900);
	assert_int_equal(tc_aggregate_add(agg, 2, &f.ev, 0, TC_TLP_GREEN), 1);
	fake_ip(&f, TC_CAT_VULNERABLE_SERVICE, "198.51.100.7", 3389, "rdp",
	    900);
	assert_int_equal(tc_aggregate_add(agg, 1, &f.ev, 0, TC_TLP_AMBER), 1);
	fake_ip(&f, TC_CAT_COMPROMISED_HOST, "192.0.2.10", 0, "mirai", 950);
	f.ev.severity = TC_SEV_HIGH;
	assert_int_equal(
	    tc_aggregate_add(agg, 2, &f.ev, 0, TC_TLP_AMBER_STRICT), 1);

	g = tc_aggregate_groups(agg, &n);
	assert_int_equal(n, 3);
	assert_int_equal(tc_aggregate_count(agg), 4);
	/* Sorted by entity, then category. */
	assert_int_equal(g[0].entity_id, 1);
	assert_int_equal(g[0].n_items, 1);
	assert_string_equal(g[0].items[0].ip, "198.51.100.7");
	assert_int_equal(g[1].entity_id, 2);
	assert_int_equal(g[1].category, TC_CAT_VULNERABLE_SERVICE);
	assert_int_equal(g[1].n_items, 2);
	/* Items sorted by indicator: .10 < .9 as strings. */
	assert_string_equal(g[1].items[0].indicator, "192.0.2.10");
	assert_string_equal(g[1].items[1].indicator, "192.0.2.9");
	assert_int_equal(g[1].tlp, TC_TLP_AMBER); /* max of AMBER, GREEN */
	assert_int_equal(g[1].items[0].port, 3389);
	assert_string_equal(g[1].items[0].protocol, "tcp");
	assert_string_equal(g[1].items[0].asn, "AS64500");
	assert_string_equal(g[1].items[0].hostname, "rdp.voorbeeld.example");
	assert_string_equal(g[1].items[0].what, "rdp");
	assert_int_equal(g[1].items[0].line, 7);
	assert_int_equal(g[2].category, TC_CAT_COMPROMISED_HOST);
	assert_int_equal(g[2].tlp, TC_TLP_AMBER_STRICT);
	assert_int_equal(g[2].severity, TC_SEV_HIGH);
	assert_string_equal(g[2].items[0].what, "mirai");
	tc_aggregate_free(agg);
}

static void
test_duplicates_merge_and_widen_time(void **state)
{
	struct tc_aggregate             *agg = tc_aggregate_new();
	const struct tc_aggregate_group *g;
	struct fake                      f;
	size_t                           n;
	(void)state;

	fake_ip(&f, TC_CAT_EXPOSED_SERVICE, "2001:db8::1", 23, "telnet", 500);
	assert_int_equal(tc_aggregate_add(agg, 5, &f.ev, 0, TC_TLP_AMBER), 1);
	fake_ip(&f, TC_CAT_EXPOSED_SERVICE, "2001:db8::1", 23, "telnet", 700);
	assert_int_equal(tc_aggregate_add(agg, 5, &f.ev, 0, TC_TLP_AMBER), 0);
	fake_ip(&f, TC_CAT_EXPOSED_SERVICE, "2001:db8::1", 23, "telnet", 100);
	assert_int_equal(tc_aggregate_add(agg, 5, &f.ev, 0, TC_TLP_AMBER), 0);
	/* Another port of the same host is another finding. */
	fake_ip(&f, TC_CAT_EXPOSED_SERVICE, "2001:db8::1", 2323, "telnet", 100);
	assert_int_equal(tc_aggregate_add(agg, 5, &f.ev, 0, TC_TLP_AMBER), 1);
	g = tc_aggregate_groups(agg, &n);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].n_items, 2);
	assert_int_equal(g[0].items[0].first_seen, 100);
	assert_int_equal(g[0].items[0].last_seen, 700);
	/* Adding after reading still merges (the hash was rebuilt). */
	fake_ip(&f, TC_CAT_EXPOSED_SERVICE, "2001:db8::1", 23, "telnet", 900);
	assert_int_equal(tc_aggregate_add(agg, 5, &f.ev, 0, TC_TLP_AMBER), 0);
	g = tc_aggregate_groups(agg, &n);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].n_items, 2);
	assert_int_equal(g[0].items[0].last_seen, 900);
	tc_aggregate_free(agg);
}

static void
test_many_entities_never_mix(void **state)
{
	struct tc_aggregate             *agg = tc_aggregate_new();
	const struct tc_aggregate_group *g;
	struct fake                      f;
	char                             ip[32];
	size_t                           n;
	(void)state;

	for (int e = 0; e < 300; e++) {
		for (int h = 0; h < 10; h++) {
			snprintf(ip, sizeof(ip), "10.%d.%d.%d", e / 250, e % 250,
			    h);
			fake_ip(&f, TC_CAT_VULNERABLE_SERVICE, ip, 443, "ssl",
			    1);
			assert_int_equal(
			    tc_aggregate_add(agg, e, &f.ev, 0, TC_TLP_AMBER),
			    1);
		}
	}
	g = tc_aggregate_groups(agg, &n);
	assert_int_equal(n, 300);
	for (size_t i = 0; i < n; i++) {
		char prefix[32];

		assert_int_equal(g[i].n_items, 10);
		snprintf(prefix, sizeof(prefix), "10.%d.%d.",
		    (int)g[i].entity_id / 250, (int)g[i].entity_id % 250);
		for (size_t k = 0; k < g[i].n_items; k++)
			assert_true(strncmp(g[i].items[k].indicator, prefix,
					strlen(prefix)) == 0);
	}
	tc_aggregate_free(agg);
}

static void
test_group_limit_counts_dropped(void **state)
{
	struct tc_aggregate             *agg = tc_aggregate_new();
	const struct tc_aggregate_group *g;
	struct fake                      f;
	char                             ip[32];
	size_t                           n;
	(void)state;

	for (unsigned i = 0; i < TC_AGGREGATE_GROUP_MAX + 5; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		fake_ip(&f, TC_CAT_VULNERABLE_SERVICE, ip, 443, "ssl", 1);
		tc_aggregate_add(agg, 1, &f.ev, 0, TC_TLP_AMBER);
	}
	g = tc_aggregate_groups(agg, &n);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].n_items, TC_AGGREGATE_GROUP_MAX);
	assert_int_equal(g[0].dropped, 5);
	tc_aggregate_free(agg);
}

static void
test_long_detail_is_cut_and_still_merges(void **state)
{
	struct tc_aggregate             *agg = tc_aggregate_new();
	const struct tc_aggregate_group *g;
	struct fake                      f;
	char                             tag[2000];
	size_t                           n;
	(void)state;

	memset(tag, 'x', sizeof(tag) - 1);
	tag[sizeof(tag) - 1] = '\0';
	fake_ip(&f, TC_CAT_OTHER, "192.0.2.1", 80, tag, 1);
	assert_int_equal(tc_aggregate_add(agg, 1, &f.ev, 0, TC_TLP_AMBER), 1);
	assert_int_equal(tc_aggregate_add(agg, 1, &f.ev, 0, TC_TLP_AMBER), 0);
	g = tc_aggregate_groups(agg, &n);
	assert_int_equal(strlen(g[0].items[0].what), TC_AGGREGATE_TEXT_MAX);
	tc_aggregate_free(agg);
}

/* A file without a single hit: no groups, and sorting nothing is fine
 * (UBSan: qsort must not get a null array). */
static void
test_empty_has_no_groups(void **state)
{
	struct tc_aggregate             *agg = tc_aggregate_new();
	const struct tc_aggregate_group *g;
	size_t                           n = 99;
	(void)state;

	g = tc_aggregate_groups(agg, &n);
	assert_int_equal(n, 0);
	(void)g;
	tc_aggregate_free(agg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_per_entity_and_category),
		cmocka_unit_test(test_empty_has_no_groups),
		cmocka_unit_test(test_duplicates_merge_and_widen_time),
		cmocka_unit_test(test_many_entities_never_mix),
		cmocka_unit_test(test_group_limit_counts_dropped),
		cmocka_unit_test(test_long_detail_is_cut_and_still_merges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

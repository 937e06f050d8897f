/* Unit tests for the index: longest-prefix match at the edges, IPv6,
 * mapped addresses, suffix boundaries, IDN and odd case, ASN hits beside
 * prefix hits, one hit per entity, products with version ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/index.h"

static struct tc_index *
build(void)
{
	struct tc_index_builder *b = tc_index_builder_new();
	struct tc_err            err;
	struct tc_index         *idx;
	static const struct {
		int64_t     id;
		const char *type, *value;
	} assets[] = {
		{ 1, "ipv4", "10.0.0.0/8" },       /* ISP */
		{ 1, "asn", "64500" },
		{ 2, "ipv4", "10.1.0.0/16" },      /* customer */
		{ 3, "ipv4", "10.1.2.0/28" },      /* sub-customer */
		{ 4, "ipv4", "0.0.0.0/0" },        /* catch-all */
		{ 5, "ipv4", "192.0.2.255/32" },
		{ 5, "ipv6", "2001:db8::/32" },
		{ 6, "ipv6", "2001:db8:1::/48" },
		{ 6, "ipv6", "2001:db8:1:2::1/128" },
		{ 7, "domain", "example.be" },
		{ 8, "domain", "ample.be" },
		{ 8, "domain", "b.a.example.be" },
		{ 7, "email_domain", "mail.example.be" },
		{ 9, "domain", "xn--bcher-kva.example" },
		{ 2, "product", "cpe:2.3:a:git-scm:git:2.43.0:*:*:*:*:*:*:*" },
		{ 3, "product", "cpe:2.3:a:paloaltonetworks:pan-os:10.2.9-h1:*:*:*:*:*:*:*" },
		{ 5, "product", "cpe:2.3:a:vendor:anyver:*:*:*:*:*:*:*:*" },
	};

	for (int64_t id = 1; id <= 9; id++) {
		char en[16], name[16];

		snprintf(en, sizeof(en), "0000.000.%03d", (int)id);
		snprintf(name, sizeof(name), "E%d", (int)id);
		assert_int_equal(tc_index_builder_entity(b, id, en, name,
				     "other", "energy", "en", &err),
		    0);
	}
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (tc_index_builder_asset(b, assets[i].id, assets[i].type,
			assets[i].value, &err) < 0)
			fail_msg("%s: %s", assets[i].value, err.msg);
	idx = tc_index_build(b, &err);
	if (idx == NULL)
		fail_msg("%s", err.msg);
	return idx;
}

/* Collect hits as "name:asset;..." in hit order. */
static int
collect(const struct tc_event *ev, const struct tc_index_hit *h, void *arg)
{
	char *out = arg;
	(void)ev;
	snprintf(out + strlen(out), 512 - strlen(out), "%s%s:%s",
	    *out ? ";" : "", h->entity->name, h->asset);
	return 0;
}

static const char *
match(const struct tc_index *idx, struct tc_event *ev)
{
	static char out[512];

	out[0] = '\0';
	assert_true(tc_index_match_event(idx, ev, collect, out) >= 0);
	return out;
}

static const char *
one(const struct tc_index *idx, const char *indicator)
{
	struct tc_event ev;
	struct tc_err   err;
	const char     *r;

	tc_event_init(&ev);
	if (tc_event_add_indicator(&ev, -1, indicator, strlen(indicator),
		&err) < 0) {
		tc_event_deinit(&ev);
		return "error";
	}
	r = match(idx, &ev);
	tc_event_deinit(&ev);
	return r;
}

/* An empty registry (a fresh installation) builds an index that matches
 * nothing. */
static void
test_empty_index(void **state)
{
	struct tc_index_builder *b = tc_index_builder_new();
	struct tc_index         *idx;
	struct tc_err            err;
	(void)state;

	idx = tc_index_build(b, &err);
	assert_non_null(idx);
	assert_int_equal(tc_index_entities(idx), 0);
	assert_string_equal(one(idx, "10.1.2.3"), "");
	assert_string_equal(one(idx, "2001:db8::1"), "");
	assert_string_equal(one(idx, "www.example.org"), "");
	tc_index_unref(idx);
}

static void
test_ipv4_longest_prefix(void **state)
{
	struct tc_index *idx = build();
	(void)state;

	assert_string_equal(one(idx, "10.1.2.3"), "E3:10.1.2.0/28");
	assert_string_equal(one(idx, "10.1.2.15"), "E3:10.1.2.0/28");
	assert_string_equal(one(idx, "10.1.2.16"), "E2:10.1.0.0/16");
	assert_string_equal(one(idx, "10.1.255.255"), "E2:10.1.0.0/16");
	assert_string_equal(one(idx, "10.2.0.0"), "E1:10.0.0.0/8");
	assert_string_equal(one(idx, "10.0.0.0"), "E1:10.0.0.0/8");
	assert_string_equal(one(idx, "10.255.255.255"), "E1:10.0.0.0/8");
	assert_string_equal(one(idx, "11.0.0.0"), "E4:0.0.0.0/0");
	assert_string_equal(one(idx, "9.255.255.255"), "E4:0.0.0.0/0");
	assert_string_equal(one(idx, "0.0.0.0"), "E4:0.0.0.0/0");
	assert_string_equal(one(idx, "255.255.255.255"), "E4:0.0.0.0/0");
	assert_string_equal(one(idx, "192.0.2.255"), "E5:192.0.2.255/32");
	assert_string_equal(one(idx, "192.0.2.254"), "E4:0.0.0.0/0");
	/* An IPv4-mapped IPv6 address is the IPv4 address. */
	assert_string_equal(one(idx, "::ffff:10.1.2.3"), "E3:10.1.2.0/28");
	/* Defanged and odd spellings. */
	assert_string_equal(one(idx, "10[.]1[.]2[.]3"), "E3:10.1.2.0/28");
	tc_index_unref(idx);
}

static void
test_ipv6(void **state)
{
	struct tc_index *idx = build();
	(void)state;

	assert_string_equal(one(idx, "2001:db8:1:2::1"), "E6:2001:db8:1:2::1/128");
	assert_string_equal(one(idx, "2001:DB8:1:2:0:0:0:2"),
	    "E6:2001:db8:1::/48");
	assert_string_equal(one(idx, "2001:db8:2::1"), "E5:2001:db8::/32");
	assert_string_equal(one(idx, "2001:db9::1"), "");
	assert_string_equal(one(idx, "::"), "");
	assert_string_equal(one(idx, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    "");
	tc_index_unref(idx);
}

static void
test_domain_suffix_on_label_boundaries(void **state)
{
	struct tc_index *idx = build();
	(void)state;

	assert_string_equal(one(idx, "example.be"), "E7:example.be");
	assert_string_equal(one(idx, "www.a.example.be"), "E7:example.be");
	assert_string_equal(one(idx, "WWW.Example.BE."), "E7:example.be");
	/* ample.be is a different name, not a suffix of example.be. */
	assert_string_equal(one(idx, "ample.be"), "E8:ample.be");
	assert_string_equal(one(idx, "xample.be"), "");
	assert_string_equal(one(idx, "be"), "");
	/* The most specific registration wins. */
	assert_string_equal(one(idx, "c.b.a.example.be"), "E8:b.a.example.be");
	assert_string_equal(one(idx, "hxxps://x.b.a.example[.]be/path"),
	    "E8:b.a.example.be");
	assert_string_equal(one(idx, "bücher.example"),
	    "E9:xn--bcher-kva.example");
	assert_string_equal(one(idx, "www.BÜCHER.example"),
	    "E9:xn--bcher-kva.example");
	/* Emails: the email_domain asset first, else the domain. */
	assert_string_equal(one(idx, "Jan@Mail.Example.be"),
	    "E7:mail.example.be");
	assert_string_equal(one(idx, "jan[@]b.a.example.be"),
	    "E8:b.a.example.be");
	tc_index_unref(idx);
}

static void
test_asn_and_one_hit_per_entity(void **state)
{
	struct tc_index    *idx = build();
	struct tc_event     ev;
	struct tc_err       err;
	(void)state;

	tc_event_init(&ev);
	/* A customer's host announced by the ISP's AS: the customer by
	 * prefix, the ISP by ASN. */
	assert_int_equal(tc_event_add_indicator(&ev, -1, "10.1.2.3", 8, &err),
	    0);
	assert_int_equal(tc_event_add_indicator(&ev, -1, "AS64500", 7, &err),
	    0);
	assert_string_equal(match(idx, &ev),
	    "E3:10.1.2.0/28;E1:AS64500");
	tc_event_reset(&ev);
	/* The ISP's own host: one hit, the prefix (more specific than the
	 * ASN). */
	assert_int_equal(tc_event_add_indicator(&ev, -1, "10.200.0.1", 10,
			     &err),
	    0);
	assert_int_equal(tc_event_add_indicator(&ev, -1, "as64500", 7, &err),
	    0);
	assert_string_equal(match(idx, &ev), "E1:10.0.0.0/8");
	tc_event_deinit(&ev);
	tc_index_unref(idx);
}

static const char *
product(const struct tc_index *idx, const char *vendor, const char *prod,
    const char *version, const char *start, int si, const char *end, int ei)
{
	struct tc_event   ev;
	struct tc_product p = { 0 };
	const char       *r;

	tc_event_init(&ev);
	p.vendor = strdup(vendor);
	p.product = strdup(prod);
	p.version = version ? strdup(version) : NULL;
	p.version_start = start ? strdup(start) : NULL;
	p.version_end = end ? strdup(end) : NULL;
	p.start_incl = si;
	p.end_incl = ei;
	tc_event_add_product(&ev, &p);
	r = match(idx, &ev);
	tc_event_deinit(&ev);
	return r;
}

#define GIT "E2:cpe:2.3:a:git-scm:git:2.43.0:*:*:*:*:*:*:*"
#define PAN "E3:cpe:2.3:a:paloaltonetworks:pan-os:10.2.9-h1:*:*:*:*:*:*:*"

static void
test_products_and_versions(void **state)
{
	struct tc_index *idx = build();
	(void)state;

	/* KEV names no version: every inventory version is concerned; its
	 * words match CPE tokens. */
	assert_string_equal(product(idx, "Git", "Git", 0, 0, 0, 0, 0), GIT);
	assert_string_equal(product(idx, "Palo Alto Networks", "PAN-OS", 0, 0,
				0, 0, 0),
	    PAN);
	/* Ranges. */
	assert_string_equal(product(idx, "git-scm", "git", 0, "2.43.0", 1,
				"2.43.7", 0),
	    GIT);
	assert_string_equal(product(idx, "git-scm", "git", 0, "2.43.0", 0,
				"2.43.7", 0),
	    ""); /* start excluded */
	assert_string_equal(product(idx, "git-scm", "git", 0, 0, 0, "2.43.0",
				1),
	    GIT);
	assert_string_equal(product(idx, "git-scm", "git", 0, 0, 0, "2.43.0",
				0),
	    "");
	assert_string_equal(product(idx, "git-scm", "git", "2.43.0", 0, 0, 0,
				0),
	    GIT);
	assert_string_equal(product(idx, "git-scm", "git", "2.44.0", 0, 0, 0,
				0),
	    "");
	/* 10.2.9-h1 is after 10.2.9 (hotfix), before 10.2.10. */
	assert_string_equal(product(idx, "paloaltonetworks", "pan-os", 0, 0, 0,
				"10.2.9", 1),
	    "");
	assert_string_equal(product(idx, "paloaltonetworks", "pan-os", 0, 0, 0,
				"10.2.10", 0),
	    PAN);
	/* An inventory entry without version hears of every range. */
	assert_string_equal(product(idx, "vendor", "anyver", 0, "1.0", 1, "2.0",
				0),
	    "E5:cpe:2.3:a:vendor:anyver:*:*:*:*:*:*:*:*");
	assert_string_equal(product(idx, "other", "git", 0, 0, 0, 0, 0), "");
	tc_index_unref(idx);
}

static void
test_version_order(void **state)
{
	(void)state;
	assert_true(tc_version_cmp("2.43.7", "2.43.10") < 0);
	assert_true(tc_version_cmp("2.44.0-rc0", "2.44.0") < 0);
	assert_true(tc_version_cmp("2.44.0-rc1", "2.44.0-rc0") > 0);
	assert_true(tc_version_cmp("10.2.9-h1", "10.2.9") > 0);
	assert_true(tc_version_cmp("10.2.9-h1", "10.2.10") < 0);
	assert_true(tc_version_cmp("1.0", "1.0.0") < 0);
	assert_true(tc_version_cmp("01.2", "1.2") == 0);
	assert_true(tc_version_cmp("1.0-alpha", "1.0-beta") < 0);
	assert_true(tc_version_cmp("4.1.5", "4.1.5") == 0);
	assert_true(tc_version_cmp("", "") == 0);
}

static void
test_build_refuses_duplicates(void **state)
{
	struct tc_index_builder *b = tc_index_builder_new();
	struct tc_err            err;
	(void)state;

	tc_index_builder_entity(b, 1, "a", "A", "other", "food", "en", &err);
	tc_index_builder_entity(b, 2, "b", "B", "other", "food", "en", &err);
	assert_int_equal(tc_index_builder_asset(b, 1, "ipv4", "192.0.2.0/24",
			     &err),
	    0);
	assert_int_equal(tc_index_builder_asset(b, 2, "ipv4", "192.0.2.0/24",
			     &err),
	    0);
	assert_int_equal(tc_index_builder_asset(b, 3, "ipv4", "192.0.3.0/24",
			     &err),
	    TC_EINPUT); /* unknown entity */
	assert_int_equal(tc_index_builder_asset(b, 1, "ipv4", "192.0.2.1/24",
			     &err),
	    TC_EINPUT); /* host bits */
	assert_null(tc_index_build(b, &err));
	assert_non_null(strstr(err.msg, "192.0.2.0/24 is registered twice"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_index),
		cmocka_unit_test(test_ipv4_longest_prefix),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_domain_suffix_on_label_boundaries),
		cmocka_unit_test(test_asn_and_one_hit_per_entity),
		cmocka_unit_test(test_products_and_versions),
		cmocka_unit_test(test_version_order),
		cmocka_unit_test(test_build_refuses_duplicates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

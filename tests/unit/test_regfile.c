/* Unit tests for regfile: normalisation and every bad-input class, with the
 * exact file:line:col message, without a database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/regfile.h"

static struct tc_regfile *
parse(const char *text, struct tc_buf *errors)
{
	struct tc_err err;

	tc_buf_reset(errors);
	return tc_regfile_parse("r.yaml", text, strlen(text), errors, &err);
}

static void
test_normalises(void **state)
{
	struct tc_buf      e = TC_BUF_INIT;
	struct tc_regfile *rf;
	(void)state;

	rf = parse("entities:\n"
		   "  - name: X\n"
		   "    enterprise_number: be 0123 456 789\n"
		   "    kind: other\n"
		   "    sector: food\n"
		   "    contacts: [{email: SOC@Bücher.Example., receives: [relay],"
		   " pgp_fingerprint: 'aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa "
		   "aaaa aaaa'}]\n"
		   "    assets:\n"
		   "      - ipv6: 2001:DB8:0:0::/64\n"
		   "      - asn: as64500\n"
		   "      - domain: WWW.Example.\n"
		   "    subscription: {clearance: 'tlp:white', sectors: [food]}\n",
	    &e);
	if (rf == NULL)
		fail_msg("%s", e.data);
	assert_int_equal(rf->n_entities, 1);
	assert_string_equal(rf->entities[0].enterprise_number, "0123.456.789");
	assert_string_equal(rf->entities[0].contacts[0].email,
	    "soc@xn--bcher-kva.example");
	assert_string_equal(rf->entities[0].contacts[0].fingerprint,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_string_equal(rf->entities[0].contacts[0].receives, "{relay}");
	assert_int_equal(rf->entities[0].n_assets, 3);
	tc_regfile_free(rf);
	rf = parse("entities:\n"
		   "  - name: X\n"
		   "    enterprise_number: '0123456789'\n"
		   "    kind: other\n"
		   "    sector: food\n"
		   "    assets:\n"
		   "      - ipv6: 2001:DB8:0:0::/64\n"
		   "      - asn: as64500\n"
		   "      - domain: WWW.Example.\n"
		   "    subscription: {clearance: 'tlp:white', sectors: [food]}\n",
	    &e);
	assert_non_null(rf);
	assert_string_equal(rf->entities[0].assets[0].value, "2001:db8::/64");
	assert_string_equal(rf->entities[0].assets[1].value, "64500");
	assert_string_equal(rf->entities[0].assets[2].value, "www.example");
	assert_string_equal(rf->entities[0].clearance, "CLEAR");
	assert_string_equal(rf->entities[0].sectors, "{food}");
	assert_int_equal(rf->entities[0].assets[0].pos.line, 7);
	assert_string_equal(rf->entities[0].assets[0].path,
	    "entities[0].assets[0].ipv6");
	tc_regfile_free(rf);
	tc_buf_deinit(&e);
}

static void
expect(const char *text, const char *want)
{
	struct tc_buf e = TC_BUF_INIT;

	assert_null(parse(text, &e));
	if (strstr(tc_buf_cstr(&e), want) == NULL)
		fail_msg("got:\n%s\nwant a line:\n%s", tc_buf_cstr(&e), want);
	tc_buf_deinit(&e);
}

#define ENT "entities:\n  - name: X\n    enterprise_number: '0123456789'\n" \
	    "    kind: other\n    sector: food\n"

static void
test_errors(void **state)
{
	(void)state;
	expect(ENT "    assets: [{ipv4: 10.0.0.1/8}]\n",
	    "r.yaml:6:21: entities[0].assets[0].ipv4: \"10.0.0.1/8\" has host "
	    "bits set\n");
	expect(ENT "    assets: [{ipv4: 10.0.0.0/33}]\n",
	    "entities[0].assets[0].ipv4: \"10.0.0.0/33\": prefix length must "
	    "be 0..32");
	expect(ENT "    assets: [{ipv4: 10.0.0.0/8}, {ipv4: 10.0.0.0/8}]\n",
	    "r.yaml:6:41: entities[0].assets[1].ipv4: \"10.0.0.0/8\" is listed "
	    "twice");
	expect(ENT "    assets: [{ipv4: 10.0.0.0/8, asn: 1}]\n",
	    "r.yaml:6:14: entities[0].assets[0]: must be one \"type: value\" "
	    "pair");
	/* An IPv4-mapped IPv6 prefix is IPv4, so not an ipv6 asset. */
	expect(ENT "    assets: [{ipv6: '::ffff:192.0.2.0/120'}]\n",
	    "\"::ffff:192.0.2.0/120\" is not an ipv6 prefix");
	expect(ENT "    assets: [{mac: 00:11}]\n",
	    "r.yaml:6:15: entities[0].assets[0].mac: unknown asset type");
	expect(ENT "    assets: [{domain: -bad.example}]\n",
	    "a label starts or ends with '-'");
	expect(ENT "    contacts: [{name: x}]\n",
	    "r.yaml:6:16: entities[0].contacts[0]: email is required");
	expect(ENT "    contacts: [{email: a@b.example}, {email: A@B.example}]\n",
	    "contact a@b.example is listed twice");
	expect(ENT "    contacts: [{email: a@b.example, receives: []}]\n",
	    "must list at least one of spear, advisory, relay");
	expect(ENT "    contacts: [{email: \"a\\nBcc: x@y.example\"}]\n",
	    "is not an email address");
	expect(ENT "    subscription: {clearance: YELLOW}\n",
	    "\"YELLOW\" is not a TLP 2.0 label");
	expect(ENT "    name: Y\n", "r.yaml:6:5: entities[0].name: given twice");
	expect("entities:\n  - name: X\n", "entities[0]: enterprise_number is "
					   "required");
	expect("entities:\n  - {name: \"a\\tb\", enterprise_number: "
	       "'0123456789', kind: other, sector: food}\n",
	    "entities[0].name: control characters are not allowed");
	expect("authorities:\n  - {name: A, sectors: [energy], email: "
	       "a@b.example, pgp_fingerprint: "
	       "'1111111111111111111111111111111111111111', clearance: RED}\n",
	    "an authority is cleared for at most AMBER");
	expect("people: []\n", "r.yaml:1:1: people: unknown key");
	expect("entities: {}\n", "r.yaml:1:11: entities: must be a list");
	expect("", "r.yaml: empty file");
}

static void
test_helpers(void **state)
{
	char en[13], fpr[41];
	(void)state;

	assert_int_equal(tc_regfile_enterprise_number("0123.456.789", en), 0);
	assert_string_equal(en, "0123.456.789");
	assert_int_equal(tc_regfile_enterprise_number("BE0123456789", en), 0);
	assert_int_equal(tc_regfile_enterprise_number("123456789", en),
	    TC_EINPUT);
	assert_int_equal(tc_regfile_enterprise_number("01234567890", en),
	    TC_EINPUT);
	assert_int_equal(tc_regfile_enterprise_number("0123-456-789", en),
	    TC_EINPUT);
	assert_int_equal(tc_regfile_fingerprint(
			     "0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567",
			     fpr),
	    0);
	assert_string_equal(fpr, "0123456789ABCDEF0123456789ABCDEF01234567");
	assert_int_equal(tc_regfile_fingerprint("0123", fpr), TC_EINPUT);
	assert_int_equal(tc_regfile_fingerprint(
			     "0123456789ABCDEF0123456789ABCDEF0123456G", fpr),
	    TC_EINPUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalises),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

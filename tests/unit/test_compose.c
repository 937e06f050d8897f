/* compose and notify with real keys made by the test: the wire form of an
 * AMBER+STRICT warning (neutral outer subject, multipart/encrypted, no
 * clear text outside), the protected headers inside, sign once for two
 * recipients, GREEN signed only, no key → TC_EKEY and nothing appended,
 * refused header values, the attachment; and notify holding a recipient
 * without a usable key while the others get their mail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tocsin/compose.h"
#include "tocsin/notify.h"
#include "tocsin/pgp.h"
#include "tocsin/str.h"
#include "tocsin/template.h"

static char                 root[64], home_s[96], home_a[96], home_b[96];
static char                 fpr_s[41], fpr_a[41], fpr_b[41];
static struct tc_templates *tpl;
static struct tc_pgp       *pgp;

static void
read_fpr(const char *name, char out[41])
{
	char  path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.fpr", root, name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(out, 41, fp));
	fclose(fp);
	assert_int_equal(strlen(out), 40);
}

static int
setup(void **state)
{
	char          cmd[2048];
	struct tc_err err;
	const char   *dir = getenv("TOCSIN_TEMPLATES");

	(void)state;
	tc_pgp_global_init();
	tc_strlcpy(root, "/tmp/tocsin-compose.XXXXXX", sizeof(root));
	assert_non_null(mkdtemp(root));
	snprintf(home_s, sizeof(home_s), "%s/s", root);
	snprintf(home_a, sizeof(home_a), "%s/a", root);
	snprintf(home_b, sizeof(home_b), "%s/b", root);
	snprintf(cmd, sizeof(cmd),
	    "set -e; cd %s; for h in s a b; do mkdir -m 700 $h;"
	    " echo no-random-seed-file >$h/gpg.conf; done;"
	    " k() { GNUPGHOME=$1 gpg --batch --quiet --pinentry-mode loopback"
	    "  --passphrase '' --quick-gen-key \"$2 <$2@example.test>\" ed25519"
	    "  sign,cert 1y 2>/dev/null;"
	    "  f=$(GNUPGHOME=$1 gpg --batch --with-colons --list-keys"
	    "  \"<$2@example.test>\" | awk -F: '/^fpr:/ {print $10; exit}');"
	    "  GNUPGHOME=$1 gpg --batch --quiet --pinentry-mode loopback"
	    "  --passphrase '' --quick-add-key $f cv25519 encr 1y 2>/dev/null;"
	    "  printf %%s $f >$2.fpr; };"
	    " k s csirt; k a alice; k b bob;"
	    " GNUPGHOME=a gpg --batch --export $(cat alice.fpr) |"
	    "  GNUPGHOME=s gpg --batch --quiet --import 2>/dev/null;"
	    " GNUPGHOME=b gpg --batch --export $(cat bob.fpr) |"
	    "  GNUPGHOME=s gpg --batch --quiet --import 2>/dev/null;"
	    " GNUPGHOME=s gpg --batch --export $(cat csirt.fpr) |"
	    "  GNUPGHOME=a gpg --batch --quiet --import 2>/dev/null",
	    root);
	assert_int_equal(system(cmd), 0);
	read_fpr("csirt", fpr_s);
	read_fpr("alice", fpr_a);
	read_fpr("bob", fpr_b);
	assert_int_equal(tc_pgp_new(home_s, fpr_s, &pgp, &err), 0);
	tpl = tc_templates_load(dir ? dir : "templates", &err);
	if (tpl == NULL)
		fail_msg("templates: %s", err.msg);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	tc_pgp_free(pgp);
	tc_templates_unref(tpl);
	snprintf(cmd, sizeof(cmd),
	    "for h in s a b; do gpgconf --homedir %s/$h --kill all "
	    "2>/dev/null; done; rm -rf %s",
	    root, root);
	return system(cmd) == 0 ? 0 : -1;
}

static json_t *
context(enum tc_tlp tlp, const char *ref)
{
	json_t *ctx = tc_compose_context(tlp, ref, "cert@csirt.example",
	    "CSIRT Early Warning", NULL, 1764600000);
	json_t *items = json_array(), *it = json_object();

	json_object_set_new(ctx, "entity",
	    json_pack("{s:s, s:s}", "name", "Réseau Exemple SA",
		"enterprise_number", "0987.654.321"));
	json_object_set_new(it, "indicator", json_string("198.51.100.10"));
	json_object_set_new(it, "ip", json_string("198.51.100.10"));
	json_object_set_new(it, "port", json_integer(3389));
	json_object_set_new(it, "what", json_string("rdp"));
	json_array_append_new(items, it);
	json_object_set_new(ctx, "items", items);
	json_object_set_new(ctx, "count", json_integer(1));
	json_object_set_new(ctx, "shown", json_integer(1));
	json_object_set_new(ctx, "truncated", json_false());
	json_object_set_new(ctx, "category", json_string("exposed_service"));
	json_object_set_new(ctx, "severity", json_string("medium"));
	return ctx;
}

static void
content(struct tc_compose_content *c, const json_t *ctx, enum tc_tlp tlp)
{
	memset(c, 0, sizeof(*c));
	c->template_name = "spear-exposed_service";
	c->lang = "fr";
	c->ctx = ctx;
	c->tlp = tlp;
	c->reference = "TEST-EWS-2026-000042";
	c->from_addr = "cert@csirt.example";
	c->from_name = "CSIRT Early Warning";
}

/* Decrypt `wire` (a whole mail) with the keyring `home`: 0 on success. */
static int
decrypt(const char *home, const struct tc_buf *wire, struct tc_buf *plain)
{
	char   path[160], cmd[512];
	FILE  *fp;
	char   buf[4096];
	size_t n;
	int    rc;

	snprintf(path, sizeof(path), "%s/mail.eml", root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(wire->data, 1, wire->len, fp), wire->len);
	fclose(fp);
	snprintf(cmd, sizeof(cmd),
	    "sed -n '/^-----BEGIN PGP MESSAGE-----/,/^-----END PGP MESSAGE/p' "
	    "%s | tr -d '\\r' | GNUPGHOME=%s gpg --batch --quiet --decrypt "
	    "2>/dev/null",
	    path, home);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		tc_buf_append(plain, buf, n);
	rc = pclose(fp);
	return rc == 0 && plain->len > 0 ? 0 : -1;
}

static void
test_encrypted_wire(void **state)
{
	struct tc_compose_content c;
	struct tc_compose_signed  s;
	struct tc_compose_rcpt    r = { "alice@example.test", "Alice", fpr_a };
	struct tc_buf             wire = TC_BUF_INIT, plain = TC_BUF_INIT;
	struct tc_err             err;
	json_t *ctx = context(TC_TLP_AMBER_STRICT, "TEST-EWS-2026-000042");
	bool    enc;

	(void)state;
	content(&c, ctx, TC_TLP_AMBER_STRICT);
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), 0);
	assert_string_equal(s.lang, "fr");
	assert_true(tc_str_has_prefix(s.subject.data,
	    "[TLP:AMBER+STRICT] [TEST-EWS-2026-000042] "));
	assert_int_equal(
	    tc_compose_wrap(pgp, &s, &r, 1764600000, &wire, &enc, &err), 0);
	assert_true(enc);
	/* Outer headers: neutral subject, label and reference in ASCII. */
	assert_non_null(strstr(wire.data,
	    "\r\nSubject: [TLP:AMBER+STRICT] [TEST-EWS-2026-000042] "
	    "[...]\r\n"));
	assert_true(tc_str_has_prefix(wire.data,
	    "From: \"CSIRT Early Warning\" <cert@csirt.example>\r\n"));
	assert_non_null(
	    strstr(wire.data, "\r\nTo: \"Alice\" <alice@example.test>\r\n"));
	assert_non_null(
	    strstr(wire.data, "\r\nAuto-Submitted: auto-generated\r\n"));
	assert_non_null(strstr(wire.data, "\r\nX-TLP: TLP:AMBER+STRICT\r\n"));
	assert_non_null(strstr(wire.data, "\r\nDate: "));
	assert_non_null(strstr(wire.data, "\r\nMessage-ID:"));
	assert_non_null(
	    strstr(wire.data, "Content-Type: multipart/encrypted; boundary="));
	/* Nothing of the content outside the encryption. */
	assert_null(strstr(wire.data, "198.51.100.10"));
	assert_null(strstr(wire.data, "seau"));
	/* Inside: the signed entity with the protected headers. */
	assert_int_equal(decrypt(home_a, &wire, &plain), 0);
	assert_true(tc_str_has_prefix(plain.data,
	    "Content-Type: multipart/signed; boundary="));
	assert_non_null(strstr(plain.data, "hp=\"cipher\""));
	assert_non_null(strstr(plain.data, "protected-headers=\"v1\""));
	assert_non_null(strstr(plain.data,
	    "Subject: [TLP:AMBER+STRICT] [TEST-EWS-2026-000042]"));
	assert_non_null(strstr(plain.data,
	    "HP-Outer: Subject: [TLP:AMBER+STRICT] [TEST-EWS-2026-000042] "
	    "[...]"));
	assert_non_null(strstr(plain.data, "application/pgp-signature"));
	assert_null(strstr(plain.data, "\r\nTo:"));
	/* Bob cannot read it. */
	tc_buf_reset(&plain);
	assert_int_not_equal(decrypt(home_b, &wire, &plain), 0);
	tc_buf_deinit(&plain);
	tc_buf_deinit(&wire);
	tc_compose_signed_deinit(&s);
	json_decref(ctx);
}

static void
test_sign_once_two_recipients(void **state)
{
	struct tc_compose_content c;
	struct tc_compose_signed  s;
	struct tc_compose_rcpt    ra = { "alice@example.test", NULL, fpr_a };
	struct tc_compose_rcpt    rb = { "bob@example.test", NULL, fpr_b };
	struct tc_buf wa = TC_BUF_INIT, wb = TC_BUF_INIT, pa = TC_BUF_INIT,
		      pb = TC_BUF_INIT;
	struct tc_err err;
	json_t       *ctx = context(TC_TLP_AMBER, "TEST-EWS-2026-000043");
	bool          enc;
	char          bhome[96];

	(void)state;
	content(&c, ctx, TC_TLP_AMBER);
	c.reference = "TEST-EWS-2026-000043";
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), 0);
	assert_int_equal(tc_compose_wrap(pgp, &s, &ra, 1, &wa, &enc, &err), 0);
	assert_int_equal(tc_compose_wrap(pgp, &s, &rb, 2, &wb, &enc, &err), 0);
	assert_int_equal(decrypt(home_a, &wa, &pa), 0);
	snprintf(bhome, sizeof(bhome), "%s", home_b);
	assert_int_equal(decrypt(bhome, &wb, &pb), 0);
	/* The same signed bytes for both: signed once. */
	assert_int_equal(pa.len, pb.len);
	assert_memory_equal(pa.data, pb.data, pa.len);
	assert_int_equal(pa.len, s.entity.len);
	tc_buf_deinit(&wa);
	tc_buf_deinit(&wb);
	tc_buf_deinit(&pa);
	tc_buf_deinit(&pb);
	tc_compose_signed_deinit(&s);
	json_decref(ctx);
}

static void
test_green_signed_only(void **state)
{
	struct tc_compose_content c;
	struct tc_compose_signed  s;
	struct tc_compose_rcpt    r = { "alice@example.test", NULL, NULL };
	struct tc_buf             wire = TC_BUF_INIT;
	struct tc_err             err;
	json_t *ctx = context(TC_TLP_GREEN, "TEST-EWS-2026-000044");
	bool    enc = true;

	(void)state;
	content(&c, ctx, TC_TLP_GREEN);
	c.reference = "TEST-EWS-2026-000044";
	c.lang = "en";
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), 0);
	assert_int_equal(tc_compose_wrap(pgp, &s, &r, 1, &wire, &enc, &err), 0);
	assert_false(enc);
	assert_non_null(strstr(wire.data, "Content-Type: multipart/signed;"));
	assert_null(strstr(wire.data, "multipart/encrypted"));
	assert_non_null(strstr(wire.data, "hp=\"clear\""));
	/* The real subject outside, since nothing is hidden. */
	assert_null(strstr(wire.data, "[...]"));
	assert_non_null(strstr(wire.data, "\r\nX-TLP: TLP:GREEN\r\n"));
	tc_buf_deinit(&wire);
	tc_compose_signed_deinit(&s);
	json_decref(ctx);
}

static void
test_no_key_nothing_appended(void **state)
{
	struct tc_compose_content c;
	struct tc_compose_signed  s;
	struct tc_compose_rcpt    none = { "alice@example.test", NULL, NULL };
	struct tc_compose_rcpt    wrong = { "alice@example.test", NULL,
		   "0000000000000000000000000000000000000001" };
	struct tc_buf             wire = TC_BUF_INIT;
	struct tc_err             err;
	json_t *ctx = context(TC_TLP_RED, "TEST-EWS-2026-000045");
	bool    enc;

	(void)state;
	content(&c, ctx, TC_TLP_RED);
	c.reference = "TEST-EWS-2026-000045";
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), 0);
	assert_int_equal(tc_compose_wrap(pgp, &s, &none, 1, &wire, &enc, &err),
	    TC_EKEY);
	assert_non_null(strstr(err.msg, "no PGP key is pinned"));
	assert_int_equal(wire.len, 0);
	assert_int_equal(tc_compose_wrap(pgp, &s, &wrong, 1, &wire, &enc, &err),
	    TC_EKEY);
	assert_non_null(strstr(err.msg, "no key with fingerprint"));
	assert_int_equal(wire.len, 0);
	tc_buf_deinit(&wire);
	tc_compose_signed_deinit(&s);
	json_decref(ctx);
}

static void
test_refused_values(void **state)
{
	struct tc_compose_content c;
	struct tc_compose_signed  s;
	struct tc_compose_rcpt    r = {
		   "alice@example.test\r\nBcc: x@evil.example", NULL, fpr_a
	};
	struct tc_buf wire = TC_BUF_INIT;
	struct tc_err err;
	json_t       *ctx = context(TC_TLP_AMBER, "TEST-EWS-2026-000046");
	bool          enc;

	(void)state;
	content(&c, ctx, TC_TLP_AMBER);
	c.reference = "TEST-EWS-2026-000046";
	c.from_name = "CSIRT\r\nBcc: x@evil.example";
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), TC_EINPUT);
	c.from_name = "CSIRT";
	c.reference = "REF\r\nX: y";
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), TC_EINPUT);
	c.reference = "TEST-EWS-2026-000046";
	c.attachment_name = "../../etc/passwd";
	c.attachment = "x";
	c.attachment_len = 1;
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), TC_EINPUT);
	c.attachment_name = NULL;
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), 0);
	assert_int_equal(tc_compose_wrap(pgp, &s, &r, 1, &wire, &enc, &err),
	    TC_EINPUT);
	assert_int_equal(wire.len, 0);
	tc_buf_deinit(&wire);
	tc_compose_signed_deinit(&s);
	json_decref(ctx);
}

static void
test_attachment_inside(void **state)
{
	struct tc_compose_content c;
	struct tc_compose_signed  s;
	struct tc_err             err;
	json_t    *ctx = context(TC_TLP_AMBER, "TEST-EWS-2026-000047");
	const char csv[] = "ip,port\r\n198.51.100.10,3389\r\n";

	(void)state;
	content(&c, ctx, TC_TLP_AMBER);
	c.reference = "TEST-EWS-2026-000047";
	c.attachment_name = "findings.csv";
	c.attachment_type = "text/csv";
	c.attachment = csv;
	c.attachment_len = sizeof(csv) - 1;
	assert_int_equal(tc_compose_sign(pgp, tpl, &c, &s, &err), 0);
	assert_non_null(strstr(s.entity.data, "multipart/mixed"));
	assert_non_null(strstr(s.entity.data,
	    "Content-Disposition: attachment; filename=\"findings.csv\""));
	/* base64 of "ip,port\r\n198.51.100.10,3389\r\n" */
	assert_non_null(
	    strstr(s.entity.data, "aXAscG9ydA0KMTk4LjUxLjEwMC4xMCwzMzg5DQo="));
	tc_compose_signed_deinit(&s);
	json_decref(ctx);
}

/* on_composed sees each recipient once, already final. */
struct seen {
	int  n;
	char who[4][32];
	int  final[4];
};

static void
on_composed(struct tc_notify_rcpt *r, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 4);
	snprintf(s->who[s->n], sizeof(s->who[0]), "%s", r->addr);
	s->final[s->n] = r->held_reason != NULL ||
	    (r->wire.len > 0 && r->outer_subject != NULL);
	s->n++;
}

static void
test_notify_holds_without_key(void **state)
{
	struct seen           seen = { 0 };
	struct tc_notify_rcpt r[3];
	struct tc_notify      n;
	json_t *ctx = context(TC_TLP_AMBER_STRICT, "TEST-EWS-2026-000048");

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].addr = "alice@example.test";
	r[0].lang = "fr";
	r[0].fpr = fpr_a;
	r[1].addr = "carol@example.test";
	r[1].lang = "fr";
	r[1].fpr = NULL; /* no key */
	r[2].addr = "bob@example.test";
	r[2].lang = "de";
	r[2].fpr = fpr_b;
	memset(&n, 0, sizeof(n));
	n.kind = "spear";
	n.template_name = "spear-exposed_service";
	n.tlp = TC_TLP_AMBER_STRICT;
	n.reference = "TEST-EWS-2026-000048";
	n.ctx = ctx;
	n.from_addr = "cert@csirt.example";
	n.from_name = "CSIRT";
	n.rcpt = r;
	n.n_rcpt = 3;
	n.on_composed = on_composed;
	n.on_composed_arg = &seen;
	tc_notify_compose(&n, pgp, NULL, tpl, 1);
	/* fr (alice, carol: held inside), then de (bob), each once. */
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.who[0], "alice@example.test");
	assert_string_equal(seen.who[1], "carol@example.test");
	assert_string_equal(seen.who[2], "bob@example.test");
	for (int i = 0; i < 3; i++)
		assert_true(seen.final[i]);
	assert_null(r[0].held_reason);
	assert_true(r[0].encrypted);
	assert_true(r[0].wire.len > 0);
	assert_string_equal(r[0].used_lang, "fr");
	assert_non_null(r[1].held_reason);
	assert_int_equal(r[1].wire.len, 0);
	assert_null(r[2].held_reason);
	assert_string_equal(r[2].used_lang, "de");
	assert_string_equal(r[2].outer_subject,
	    "[TLP:AMBER+STRICT] [TEST-EWS-2026-000048] [...]");
	/* Without a signing key, everyone is held with the reason. */
	for (int i = 0; i < 3; i++)
		tc_notify_rcpt_deinit(&r[i]);
	memset(r, 0, sizeof(r));
	r[0].addr = "alice@example.test";
	r[0].fpr = fpr_a;
	n.n_rcpt = 1;
	seen.n = 0;
	tc_notify_compose(&n, NULL, "signing key gone", tpl, 1);
	assert_string_equal(r[0].held_reason, "signing key gone");
	assert_int_equal(seen.n, 1);
	assert_true(seen.final[0]);
	tc_notify_rcpt_deinit(&r[0]);
	json_decref(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encrypted_wire),
		cmocka_unit_test(test_sign_once_two_recipients),
		cmocka_unit_test(test_green_signed_only),
		cmocka_unit_test(test_no_key_nothing_appended),
		cmocka_unit_test(test_refused_values),
		cmocka_unit_test(test_attachment_inside),
		cmocka_unit_test(test_notify_holds_without_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

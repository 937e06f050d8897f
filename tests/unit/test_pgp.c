/* Unit tests for pgp, against real gpg: keys are made by the test in temp
 * homedirs (the service keyring S with the CSIRT key and the bad keys, and
 * one homedir per recipient A and B, whose public keys are imported into
 * S).  Signatures are verified and ciphertexts decrypted with the gpg CLI,
 * as a recipient would.  With TOCSIN_PGP_SAMPLES=DIR the signed and the
 * encrypted sample mails and the keys needed to read them are written to
 * DIR for tests/integration/test_mailread.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tocsin/mem.h"
#include "tocsin/mime.h"
#include "tocsin/pgp.h"
#include "tocsin/pgpproc.h"
#include "tocsin/str.h"

#define ARGS_MAX 32

/* Every test that signs or encrypts runs twice: in process, and through
 * gpg helper processes (this binary started with --gpg-helper), whose
 * results and errors must be the same. */
static struct tc_pgpproc *helpers;
static int                in_process = 0, via_helpers = 1;

static int
uses_helpers(void **state)
{
	return *state != NULL && *(const int *)*state == via_helpers;
}

static char root[64], home_s[96], home_a[96], home_b[96];
static char fpr_csirt[41], fpr_a[41], fpr_b[41], fpr_expired[41],
    fpr_revoked[41], fpr_disabled[41], fpr_signonly[41], subfpr_a[41];

/* Run argv with stdin from `in_path` (or /dev/null), stdout into `out` (may
 * be NULL), stderr to /dev/null.  Returns the exit status, -1 if killed. */
static int
run(const char *const *argv, const char *in_path, struct tc_buf *out)
{
	int   fds[2], status;
	pid_t pid;
	char  chunk[4096];

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		int in = in_path ? open(in_path, O_RDONLY) : devnull;

		if (devnull < 0 || in < 0)
			_exit(126);
		dup2(in, 0);
		dup2(fds[1], 1);
		dup2(devnull, 2);
		close(fds[0]);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));

		if (n <= 0)
			break;
		if (out != NULL)
			tc_buf_append(out, chunk, (size_t)n);
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* gpg --homedir HOME --batch ... ARGS (NULL-terminated). */
static int
gpg(const char *home, const char *in_path, struct tc_buf *out, ...)
{
	const char *argv[ARGS_MAX] = { "gpg", "--homedir", home, "--batch",
		"--quiet", "--no-tty", "--pinentry-mode", "loopback",
		"--passphrase", "" };
	size_t      n = 10;
	va_list     ap;
	const char *a;

	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(n < ARGS_MAX - 1);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return run(argv, in_path, out);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
read_file(const char *path, struct tc_buf *b)
{
	FILE  *f = fopen(path, "rb");
	char   chunk[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tc_buf_append(b, chunk, n);
	fclose(f);
}

/* The n-th (0 = primary) fingerprint of the key of `email` in `home`. */
static void
fpr_of(const char *home, const char *email, int nth, char out[41])
{
	struct tc_buf b = TC_BUF_INIT;
	const char   *s;
	int           seen = 0;

	assert_int_equal(
	    gpg(home, NULL, &b, "--with-colons", "--list-keys", email, NULL),
	    0);
	for (s = b.data; (s = strstr(s, "\nfpr:::::::::")) != NULL; s++)
		if (seen++ == nth)
			break;
	assert_non_null(s);
	memcpy(out, s + 13, 40);
	out[40] = '\0';
	tc_buf_deinit(&b);
}

/* An Ed25519 key (plus a Cv25519 encryption subkey when `encr`), no
 * passphrase; `faked` (may be NULL) is gpg's --faked-system-time. */
static void
gen_key(const char *home, const char *name, int encr, const char *faked,
    const char *expiry, char fpr[41])
{
	char uid[128], email[96];

	snprintf(email, sizeof(email), "<%s@example.test>", name);
	snprintf(uid, sizeof(uid), "%s %s", name, email);
	if (faked != NULL)
		assert_int_equal(gpg(home, NULL, NULL, "--faked-system-time",
				     faked, "--quick-gen-key", uid, "ed25519",
				     "sign,cert", expiry, NULL),
		    0);
	else
		assert_int_equal(gpg(home, NULL, NULL, "--quick-gen-key", uid,
				     "ed25519", "sign,cert", expiry, NULL),
		    0);
	fpr_of(home, email, 0, fpr);
	if (!encr)
		return;
	if (faked != NULL)
		assert_int_equal(gpg(home, NULL, NULL, "--faked-system-time",
				     faked, "--quick-add-key", fpr, "cv25519",
				     "encr", expiry, NULL),
		    0);
	else
		assert_int_equal(gpg(home, NULL, NULL, "--quick-add-key", fpr,
				     "cv25519", "encr", expiry, NULL),
		    0);
}

static void
make_home(char *out, size_t size, const char *name)
{
	char path[128];

	assert_true((size_t)snprintf(out, size, "%s/%s", root, name) < size);
	assert_int_equal(mkdir(out, 0700), 0);
	snprintf(path, sizeof(path), "%s/gpg.conf", out);
	write_file(path, "no-random-seed-file\n", 20);
	snprintf(path, sizeof(path), "%s/gpg-agent.conf", out);
	write_file(path, "allow-loopback-pinentry\n", 24);
}

/* Export the public key `fpr` of `from` into the keyring `to`. */
static void
copy_public(const char *from, const char *to, const char *fpr)
{
	char          path[128];
	struct tc_buf b = TC_BUF_INIT;

	assert_int_equal(gpg(from, NULL, &b, "--armor", "--export", fpr, NULL),
	    0);
	snprintf(path, sizeof(path), "%s/pub.asc", root);
	write_file(path, b.data, b.len);
	assert_int_equal(gpg(to, NULL, NULL, "--import", path, NULL), 0);
	tc_buf_deinit(&b);
}

static int
setup_keys(void **state)
{
	char          path[160];
	struct tc_buf rev = TC_BUF_INIT;
	char         *colon;
	(void)state;

	tc_pgp_global_init();
	tc_strlcpy(root, "/tmp/tocsin-pgp.XXXXXX", sizeof(root));
	assert_non_null(mkdtemp(root));
	make_home(home_s, sizeof(home_s), "s");
	make_home(home_a, sizeof(home_a), "a");
	make_home(home_b, sizeof(home_b), "b");

	gen_key(home_s, "csirt", 1, NULL, "1y", fpr_csirt);
	gen_key(home_a, "alice", 1, NULL, "1y", fpr_a);
	fpr_of(home_a, "<alice@example.test>", 1, subfpr_a);
	gen_key(home_b, "bob", 1, NULL, "1y", fpr_b);
	copy_public(home_a, home_s, fpr_a);
	copy_public(home_b, home_s, fpr_b);
	/* Valid for one day from 2020-01-01: expired on 2020-01-02. */
	gen_key(home_s, "expired", 1, "20200101T000000", "1d", fpr_expired);
	gen_key(home_s, "signonly", 0, NULL, "1y", fpr_signonly);
	gen_key(home_s, "disabled", 1, NULL, "1y", fpr_disabled);
	assert_int_equal(gpg(home_s, NULL, NULL, "--yes", "--edit-key",
			     fpr_disabled, "disable", "quit", NULL),
	    0);
	/* A real key revocation: import the certificate gpg made with the
	 * key, once its anti-accident ':' is removed. */
	gen_key(home_s, "revoked", 1, NULL, "1y", fpr_revoked);
	snprintf(path, sizeof(path), "%s/openpgp-revocs.d/%s.rev", home_s,
	    fpr_revoked);
	read_file(path, &rev);
	colon = strstr(rev.data, ":-----BEGIN PGP PUBLIC KEY BLOCK-----");
	assert_non_null(colon);
	snprintf(path, sizeof(path), "%s/revoke.asc", root);
	write_file(path, colon + 1, rev.len - (size_t)(colon + 1 - rev.data));
	assert_int_equal(gpg(home_s, NULL, NULL, "--import", path, NULL), 0);
	tc_buf_deinit(&rev);
	return 0;
}

static int
teardown_keys(void **state)
{
	const char *homes[] = { home_s, home_a, home_b };
	(void)state;

	for (size_t i = 0; i < 3; i++) {
		const char *kill[] = { "gpgconf", "--homedir", homes[i],
			"--kill", "all", NULL };

		run(kill, NULL, NULL);
	}
	const char *rm[] = { "rm", "-rf", root, NULL };
	run(rm, NULL, NULL);
	return 0;
}

/* A protected-headers entity like a spear warning's, CRLF, 7-bit. */
static void
make_entity(struct tc_buf *e)
{
	struct tc_err err;
	const char   *text = "TLP:AMBER+STRICT\n"
			     "Votre système 192.0.2.10 expose RDP.\n"
			     "From here on, act quickly.  \n"
			     ".\n"
			     "--- end of TLP:AMBER+STRICT information ---\n";
	const char   *html = "<p>TLP:AMBER+STRICT</p><p>Votre système "
			     "192.0.2.10 expose RDP.</p>\n";
	const char   *csv = "ip,port\n192.0.2.10,3389\n";

	tc_buf_puts(e,
	    "Content-Type: multipart/mixed; boundary=\"=-in-77c2\";"
	    "\r\n protected-headers=\"v1\"\r\n");
	assert_int_equal(tc_mime_header(e, "Subject",
			     "[TLP:AMBER+STRICT] [TEST-EWS-2026-000042] ",
			     "Système vulnérable détecté", &err),
	    0);
	assert_int_equal(tc_mime_address(e, "From", "CSIRT Early Warning",
			     "cert@csirt.example", &err),
	    0);
	tc_buf_puts(e,
	    "\r\n--=-in-77c2\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	tc_mime_qp(e, text, strlen(text));
	tc_buf_puts(e,
	    "--=-in-77c2\r\n"
	    "Content-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	tc_mime_qp(e, html, strlen(html));
	tc_buf_puts(e,
	    "--=-in-77c2\r\n"
	    "Content-Type: text/csv; charset=UTF-8; "
	    "name=\"evidence.csv\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; "
	    "filename=\"evidence.csv\"\r\n\r\n");
	tc_mime_base64(e, csv, strlen(csv));
	tc_buf_puts(e, "--=-in-77c2--\r\n");
}

/* The value of parameter `name` in the first header line(s) of `s`. */
static void
param(const char *s, const char *name, char *out, size_t size)
{
	const char *hdr_end = strstr(s, "\r\n\r\n");
	const char *p = strstr(s, name);
	size_t      n = 0;

	assert_non_null(p);
	assert_true(p < hdr_end);
	p += strlen(name);
	if (*p == '"')
		p++;
	while (p[n] && p[n] != '"' && p[n] != ';' && p[n] != '\r') {
		assert_true(n + 1 < size);
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
}

/* Every line of `s` ends in CRLF, no bare CR/LF. */
static void
assert_crlf(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			assert_true(i > 0 && s[i - 1] == '\r');
		if (s[i] == '\r')
			assert_true(i + 1 < len && s[i + 1] == '\n');
	}
}

/* gpg --verify of `sig` over `data` in `home`; the status lines in
 * `status`.  Returns gpg's exit code. */
static int
verify(const char *home, const char *data, size_t dlen, const char *sig,
    size_t slen, struct tc_buf *status)
{
	char dpath[128], spath[128];

	snprintf(dpath, sizeof(dpath), "%s/part1", root);
	snprintf(spath, sizeof(spath), "%s/sig.asc", root);
	write_file(dpath, data, dlen);
	write_file(spath, sig, slen);
	return gpg(home, NULL, status, "--status-fd", "1", "--verify", spath,
	    dpath, NULL);
}

/* Decrypt the armored message in `mail` with `home`'s secret keys. */
static int
decrypt(const char *home, const char *mail, struct tc_buf *plain)
{
	const char *b = strstr(mail, "-----BEGIN PGP MESSAGE-----");
	const char *e = strstr(mail, "-----END PGP MESSAGE-----");
	char        path[128];

	assert_non_null(b);
	assert_non_null(e);
	snprintf(path, sizeof(path), "%s/msg.asc", root);
	write_file(path, b, (size_t)(e - b) + 25);
	return gpg(home, NULL, plain, "--decrypt", path, NULL);
}

/* Split a multipart/signed result into its two parts (pointers into
 * `m`) and check its framing. */
static void
split_signed(const char *m, size_t mlen, char bound[64], const char **p1,
    size_t *p1len, const char **sig, size_t *siglen)
{
	char        open[80], mid[84], close[84];
	const char *body, *end;

	param(m, "boundary=", bound, 64);
	snprintf(open, sizeof(open), "\r\n--%s\r\n", bound);
	snprintf(close, sizeof(close), "\r\n--%s--\r\n", bound);
	body = strstr(m, "\r\n\r\n");
	assert_non_null(body);
	body = strstr(body, open);
	assert_non_null(body);
	*p1 = body + strlen(open);
	snprintf(mid, sizeof(mid), "\r\n--%s\r\n", bound);
	end = strstr(*p1, mid);
	assert_non_null(end);
	*p1len = (size_t)(end - *p1);
	*sig = strstr(end + strlen(mid), "-----BEGIN PGP SIGNATURE-----");
	assert_non_null(*sig);
	end = strstr(*sig, close);
	assert_non_null(end);
	assert_true(end + strlen(close) == m + mlen); /* nothing after */
	*siglen = (size_t)(end - *sig);
	assert_true(strncmp(*p1 + *p1len + strlen(mid),
			"Content-Type: application/pgp-signature;", 40) == 0);
}

static void
hash_field(const char *status, char *out, size_t size)
{
	/* VALIDSIG fpr date ts expire version reserved pkalgo HASH ... */
	const char *v = strstr(status, "[GNUPG:] VALIDSIG ");
	int         field = 0;
	size_t      n = 0;

	assert_non_null(v);
	v += 18;
	while (*v && field < 7)
		if (*v++ == ' ')
			field++;
	while (v[n] && v[n] != ' ' && n + 1 < size) {
		out[n] = v[n];
		n++;
	}
	out[n] = '\0';
}

/* The CSIRT's struct tc_pgp, in process or using the helpers. */
static int
new_csirt_pgp(void **state, struct tc_pgp **p, struct tc_err *err)
{
	int rc = tc_pgp_new(home_s, fpr_csirt, p, err);

	if (rc == 0 && uses_helpers(state))
		tc_pgp_use_helpers(*p, helpers);
	return rc;
}

static void
test_new_refuses_unusable_signing_keys(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	char           wrong[41];
	(void)state;

	assert_int_equal(tc_pgp_new(home_s, fpr_a, &p, &err), TC_EKEY);
	assert_null(p);
	assert_non_null(strstr(err.msg, "no secret key in"));
	assert_non_null(strstr(err.msg, home_s));
	assert_non_null(strstr(err.msg, fpr_a));

	assert_int_equal(tc_pgp_new(home_s, fpr_revoked, &p, &err), TC_EKEY);
	assert_non_null(strstr(err.msg, "is revoked"));
	assert_int_equal(tc_pgp_new(home_s, fpr_expired, &p, &err), TC_EKEY);
	assert_non_null(strstr(err.msg, "expired on 2020-01-02"));
	assert_int_equal(tc_pgp_new(home_s, fpr_disabled, &p, &err), TC_EKEY);
	assert_non_null(strstr(err.msg, "is disabled"));

	memcpy(wrong, fpr_csirt, 41);
	wrong[39] = wrong[39] == '0' ? '1' : '0';
	assert_int_equal(tc_pgp_new(home_s, wrong, &p, &err), TC_EKEY);
	assert_non_null(strstr(err.msg, "no key with this fingerprint"));
	assert_int_equal(tc_pgp_new(home_s, fpr_csirt + 24, &p, &err),
	    TC_EKEY); /* a long key ID is not a pin */
	assert_non_null(strstr(err.msg, "not a 40-hex fingerprint"));
	assert_int_equal(tc_pgp_new(home_s, NULL, &p, &err), TC_EKEY);
	assert_null(p);

	/* The CSIRT key works, in lower case too. */
	for (size_t i = 0; i < 40; i++)
		wrong[i] = (char)(fpr_csirt[i] >= 'A' ? fpr_csirt[i] + 32
						      : fpr_csirt[i]);
	assert_int_equal(tc_pgp_new(home_s, wrong, &p, &err), 0);
	assert_non_null(p);
	tc_pgp_free(p);
	tc_pgp_free(NULL);
}

static void
expect_bad(struct tc_pgp *p, const char *fpr, const char *why)
{
	struct tc_err err;

	tc_err_clear(&err);
	assert_int_equal(tc_pgp_check_key(p, fpr, &err), TC_EKEY);
	if (strstr(err.msg, why) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", fpr ? fpr : "NULL",
		    err.msg, why);
}

static void
test_check_key_reasons(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	char           buf[128], lower[41];
	(void)state;

	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	assert_int_equal(tc_pgp_check_key(p, fpr_a, &err), 0);
	assert_int_equal(tc_pgp_check_key(p, fpr_b, &err), 0);
	for (size_t i = 0; i < 41; i++)
		lower[i] = (char)(fpr_a[i] >= 'A' ? fpr_a[i] + 32 : fpr_a[i]);
	assert_int_equal(tc_pgp_check_key(p, lower, &err), 0);

	snprintf(buf, sizeof(buf), "key %s is revoked", fpr_revoked);
	expect_bad(p, fpr_revoked, buf);
	snprintf(buf, sizeof(buf), "key %s expired on 2020-01-02", fpr_expired);
	expect_bad(p, fpr_expired, buf);
	snprintf(buf, sizeof(buf), "key %s is disabled", fpr_disabled);
	expect_bad(p, fpr_disabled, buf);
	snprintf(buf, sizeof(buf), "key %s has no valid encryption subkey",
	    fpr_signonly);
	expect_bad(p, fpr_signonly, buf);

	/* Pinning: one digit off, A's encryption subkey, a short ID. */
	memcpy(lower, fpr_a, 41);
	lower[0] = lower[0] == 'F' ? 'E' : 'F';
	snprintf(buf, sizeof(buf), "no key with fingerprint %s in the keyring",
	    lower);
	expect_bad(p, lower, buf);
	snprintf(buf, sizeof(buf), "no key with fingerprint %s in the keyring",
	    subfpr_a);
	expect_bad(p, subfpr_a, buf);
	expect_bad(p, fpr_a + 24, "not a 40-hex fingerprint");
	snprintf(buf, sizeof(buf), "%.20s %s", fpr_a, fpr_a + 20);
	expect_bad(p, buf, "not a 40-hex fingerprint");
	snprintf(buf, sizeof(buf), "%s0", fpr_a);
	expect_bad(p, buf, "not a 40-hex fingerprint");
	expect_bad(p, "<alice@example.test>", "not a 40-hex fingerprint");
	expect_bad(p, NULL, "no fingerprint given");
	tc_pgp_free(p);
}

static void
test_sign_entity(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  e = TC_BUF_INIT, out = TC_BUF_INIT, st = TC_BUF_INIT;
	char           bound[64], micalg[32], hash[8], want[64];
	const char    *p1, *sig;
	size_t         p1len, siglen;
	(void)state;

	make_entity(&e);
	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	tc_buf_puts(&out, "Subject: kept\r\n"); /* appended after this */
	assert_int_equal(tc_pgp_sign_entity(p, e.data, e.len, &out, &err), 0);
	assert_true(strncmp(out.data,
			"Subject: kept\r\nContent-Type: multipart/signed; "
			"boundary=\"",
			57) == 0);
	assert_crlf(out.data, out.len);
	param(out.data, "micalg=", micalg, sizeof(micalg));
	param(out.data, "protocol=", want, sizeof(want));
	assert_string_equal(want, "application/pgp-signature");
	split_signed(out.data, out.len, bound, &p1, &p1len, &sig, &siglen);
	assert_int_equal(p1len, e.len);
	assert_memory_equal(p1, e.data, e.len); /* byte for byte */

	/* A recipient verifies the exact first-part bytes. */
	assert_int_equal(verify(home_s, p1, p1len, sig, siglen, &st), 0);
	snprintf(want, sizeof(want), " %s\n", fpr_csirt);
	assert_non_null(strstr(st.data, "[GNUPG:] GOODSIG "));
	assert_non_null(strstr(st.data, want)); /* VALIDSIG primary fpr */
	hash_field(st.data, hash, sizeof(hash));
	/* RFC 4880 hash IDs: 8 SHA256, 9 SHA384, 10 SHA512, 11 SHA224. */
	if (strcmp(hash, "8") == 0)
		assert_string_equal(micalg, "pgp-sha256");
	else if (strcmp(hash, "10") == 0)
		assert_string_equal(micalg, "pgp-sha512");
	else
		fail_msg("unexpected hash %s, micalg %s", hash, micalg);

	/* One byte changed: the signature no longer verifies. */
	{
		char *copy = tc_xstrndup(p1, p1len);

		copy[p1len / 2] ^= 1;
		tc_buf_reset(&st);
		assert_int_not_equal(
		    verify(home_s, copy, p1len, sig, siglen, &st), 0);
		assert_non_null(strstr(st.data, "[GNUPG:] BADSIG "));
		free(copy);
	}
	tc_pgp_free(p);
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
	tc_buf_deinit(&st);
}

/* micalg is read from gpg's result: force SHA384 through gpg.conf. */
static void
test_micalg_follows_gpg(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  e = TC_BUF_INIT, out = TC_BUF_INIT, st = TC_BUF_INIT;
	char           path[128], bound[64], micalg[32], hash[8];
	const char    *conf = "no-random-seed-file\ndigest-algo SHA384\n";
	const char    *p1, *sig;
	size_t         p1len, siglen;
	(void)state;

	snprintf(path, sizeof(path), "%s/gpg.conf", home_s);
	write_file(path, conf, strlen(conf));
	make_entity(&e);
	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	assert_int_equal(tc_pgp_sign_entity(p, e.data, e.len, &out, &err), 0);
	write_file(path, "no-random-seed-file\n", 20);
	param(out.data, "micalg=", micalg, sizeof(micalg));
	assert_string_equal(micalg, "pgp-sha384");
	split_signed(out.data, out.len, bound, &p1, &p1len, &sig, &siglen);
	assert_int_equal(verify(home_s, p1, p1len, sig, siglen, &st), 0);
	hash_field(st.data, hash, sizeof(hash));
	assert_string_equal(hash, "9");
	tc_pgp_free(p);
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
	tc_buf_deinit(&st);
}

static void
test_sign_refuses_bad_entities(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  out = TC_BUF_INIT, longline = TC_BUF_INIT;
	const char     nul[] = "Content-Type: text/plain\r\n\r\na\0b\r\n";
	(void)state;

	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	tc_buf_puts(&out, "prefix");
#define BAD(s_, n_, code, why)                                              \
	do {                                                                \
		assert_int_equal(tc_pgp_sign_entity(p, s_, n_, &out, &err), \
		    code);                                                  \
		assert_non_null(strstr(err.msg, why));                      \
		assert_int_equal(out.len, 6);                               \
	} while (0)
	BAD("Content-Type: text/plain\n\nbare LF\n", 36, TC_EINPUT, "bare LF");
	BAD("Content-Type: text/plain\r\n\r\nbare\rCR\r\n", 37, TC_EINPUT,
	    "bare CR");
	BAD("Content-Type: text/plain\r\n\r\ncaf\xc3\xa9\r\n", 35, TC_EINPUT,
	    "8-bit byte at offset 31");
	BAD(nul, sizeof(nul) - 1, TC_EINPUT, "NUL byte");
	BAD("", 0, TC_EINPUT, "empty");
	tc_buf_puts(&longline, "Content-Type: text/plain\r\n\r\n");
	for (int i = 0; i < 999; i++)
		tc_buf_putc(&longline, 'x');
	tc_buf_puts(&longline, "\r\n");
	BAD(longline.data, longline.len, TC_EINPUT, "longer than 998");
	BAD("x", (size_t)TC_PGP_ENTITY_MAX + 1, TC_ELIMIT, "above the limit");
	/* 998 octets is allowed. */
	tc_buf_reset(&longline);
	tc_buf_puts(&longline, "Content-Type: text/plain\r\n\r\n");
	for (int i = 0; i < 998; i++)
		tc_buf_putc(&longline, 'x');
	tc_buf_puts(&longline, "\r\n");
	assert_int_equal(
	    tc_pgp_sign_entity(p, longline.data, longline.len, &out, &err), 0);
#undef BAD
	tc_pgp_free(p);
	tc_buf_deinit(&out);
	tc_buf_deinit(&longline);
}

/* The outer headers of a sample mail. */
static void
outer_headers(struct tc_buf *m, const char *subject, const char *tag)
{
	tc_buf_printf(m,
	    "From: CSIRT Early Warning <cert@csirt.example>\r\n"
	    "To: alice@example.test\r\n"
	    "Subject: %s\r\n"
	    "Date: Tue, 24 Nov 2026 09:30:00 +0000\r\n"
	    "Message-ID: <sample.%s@csirt.example>\r\n"
	    "MIME-Version: 1.0\r\n",
	    subject, tag);
}

static void
write_samples(const char *dir, const struct tc_buf *signed_ent,
    const struct tc_buf *enc)
{
	struct tc_buf m = TC_BUF_INIT, k = TC_BUF_INIT;
	char          path[512];

	outer_headers(&m, "[TLP:AMBER+STRICT] [TEST-EWS-2026-000042] signed",
	    "sig");
	tc_buf_append(&m, signed_ent->data, signed_ent->len);
	snprintf(path, sizeof(path), "%s/signed.eml", dir);
	write_file(path, m.data, m.len);
	tc_buf_reset(&m);
	outer_headers(&m, "[...]", "enc");
	tc_buf_append(&m, enc->data, enc->len);
	snprintf(path, sizeof(path), "%s/encrypted.eml", dir);
	write_file(path, m.data, m.len);
	assert_int_equal(
	    gpg(home_s, NULL, &k, "--armor", "--export", fpr_csirt, NULL), 0);
	snprintf(path, sizeof(path), "%s/csirt.pub.asc", dir);
	write_file(path, k.data, k.len);
	tc_buf_reset(&k);
	assert_int_equal(gpg(home_a, NULL, &k, "--armor",
			     "--export-secret-keys", fpr_a, NULL),
	    0);
	snprintf(path, sizeof(path), "%s/recipient.sec.asc", dir);
	write_file(path, k.data, k.len);
	snprintf(path, sizeof(path), "%s/csirt.fpr", dir);
	write_file(path, fpr_csirt, 40);
	snprintf(path, sizeof(path), "%s/recipient.fpr", dir);
	write_file(path, fpr_a, 40);
	tc_buf_deinit(&m);
	tc_buf_deinit(&k);
}

static void
test_encrypt_signed_entity(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  e = TC_BUF_INIT, s = TC_BUF_INIT, enc = TC_BUF_INIT,
		      plain = TC_BUF_INIT;
	const char *to_a[] = { fpr_a };
	char        bound[64], want[128];
	const char *samples = getenv("TOCSIN_PGP_SAMPLES");
	(void)state;

	make_entity(&e);
	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	assert_int_equal(tc_pgp_sign_entity(p, e.data, e.len, &s, &err), 0);
	assert_int_equal(
	    tc_pgp_encrypt_entity(p, to_a, 1, s.data, s.len, &enc, &err), 0);
	assert_true(
	    strncmp(enc.data, "Content-Type: multipart/encrypted; boundary=\"",
		45) == 0);
	assert_crlf(enc.data, enc.len);
	param(enc.data, "protocol=", want, sizeof(want));
	assert_string_equal(want, "application/pgp-encrypted");
	param(enc.data, "boundary=", bound, sizeof(bound));
	snprintf(want, sizeof(want),
	    "\r\n--%s\r\nContent-Type: application/pgp-encrypted\r\n", bound);
	assert_non_null(strstr(enc.data, want));
	assert_non_null(strstr(enc.data, "\r\n\r\nVersion: 1\r\n"));
	snprintf(want, sizeof(want),
	    "\r\n--%s\r\nContent-Type: application/octet-stream;", bound);
	assert_non_null(strstr(enc.data, want));
	snprintf(want, sizeof(want),
	    "-----END PGP MESSAGE-----\r\n\r\n--%s--\r\n", bound);
	assert_true(enc.len > strlen(want));
	assert_string_equal(enc.data + enc.len - strlen(want), want);
	/* Nothing of the clear text shows. */
	assert_null(strstr(enc.data, "TLP:AMBER"));
	assert_null(strstr(enc.data, "multipart/signed"));

	assert_int_equal(decrypt(home_a, enc.data, &plain), 0);
	assert_int_equal(plain.len, s.len);
	assert_memory_equal(plain.data, s.data, s.len);
	tc_buf_reset(&plain);
	assert_int_not_equal(decrypt(home_b, enc.data, &plain), 0);
	assert_int_equal(plain.len, 0);

	if (samples != NULL && samples[0] != '\0')
		write_samples(samples, &s, &enc);
	tc_pgp_free(p);
	tc_buf_deinit(&e);
	tc_buf_deinit(&s);
	tc_buf_deinit(&enc);
	tc_buf_deinit(&plain);
}

static void
test_encrypt_two_recipients(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  e = TC_BUF_INIT, enc = TC_BUF_INIT, plain = TC_BUF_INIT;
	const char    *to[] = { fpr_a, fpr_b };
	(void)state;

	make_entity(&e);
	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	assert_int_equal(
	    tc_pgp_encrypt_entity(p, to, 2, e.data, e.len, &enc, &err), 0);
	assert_int_equal(decrypt(home_a, enc.data, &plain), 0);
	assert_int_equal(plain.len, e.len);
	assert_memory_equal(plain.data, e.data, e.len);
	tc_buf_reset(&plain);
	assert_int_equal(decrypt(home_b, enc.data, &plain), 0);
	assert_int_equal(plain.len, e.len);
	assert_memory_equal(plain.data, e.data, e.len);
	tc_pgp_free(p);
	tc_buf_deinit(&e);
	tc_buf_deinit(&enc);
	tc_buf_deinit(&plain);
}

static void
test_encrypt_refuses_bad_keys(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  e = TC_BUF_INIT, out = TC_BUF_INIT;
	char           wrong[41];
	const char    *bad[] = { fpr_revoked, fpr_expired, fpr_disabled,
		   fpr_signonly, wrong, subfpr_a, "0xDEADBEEF" };
	const char    *why[] = { "is revoked", "expired on 2020-01-02",
		   "is disabled", "has no valid encryption subkey",
		   "no key with fingerprint", "no key with fingerprint",
		   "not a 40-hex fingerprint" };
	(void)state;

	memcpy(wrong, fpr_b, 41);
	wrong[20] = wrong[20] == 'A' ? 'B' : 'A';
	make_entity(&e);
	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	tc_buf_puts(&out, "untouched");
	for (size_t i = 0; i < TC_NELEM(bad); i++) {
		const char *to[] = { fpr_a, bad[i] };

		assert_int_equal(
		    tc_pgp_encrypt_entity(p, to, 2, e.data, e.len, &out, &err),
		    TC_EKEY);
		if (strstr(err.msg, why[i]) == NULL)
			fail_msg("%s: \"%s\"", why[i], err.msg);
		assert_string_equal(out.data, "untouched");
	}
	assert_int_equal(
	    tc_pgp_encrypt_entity(p, NULL, 0, e.data, e.len, &out, &err),
	    TC_EKEY);
	assert_non_null(strstr(err.msg, "no recipient"));
	{
		const char *to[] = { fpr_a };

		assert_int_equal(
		    tc_pgp_encrypt_entity(p, to, 1, "a\nb", 3, &out, &err),
		    TC_EINPUT);
		assert_int_equal(tc_pgp_encrypt_entity(p, to,
				     TC_PGP_RECIPIENTS_MAX + 1, e.data, e.len,
				     &out, &err),
		    TC_ELIMIT);
	}
	assert_string_equal(out.data, "untouched");
	tc_pgp_free(p);
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
}

/* Import into `to` the revocation certificate gpg made in `from` for `fpr`,
 * once its anti-accident ':' is removed. */
static void
import_revocation(const char *from, const char *fpr, const char *to)
{
	char          path[160];
	struct tc_buf rev = TC_BUF_INIT;
	char         *colon;

	snprintf(path, sizeof(path), "%s/openpgp-revocs.d/%s.rev", from, fpr);
	read_file(path, &rev);
	colon = strstr(rev.data, ":-----BEGIN PGP PUBLIC KEY BLOCK-----");
	assert_non_null(colon);
	snprintf(path, sizeof(path), "%s/revoke2.asc", root);
	write_file(path, colon + 1, rev.len - (size_t)(colon + 1 - rev.data));
	assert_int_equal(gpg(to, NULL, NULL, "--import", path, NULL), 0);
	tc_buf_deinit(&rev);
}

/* One struct tc_pgp answers from a snapshot of the keyring: a key imported,
 * revoked or disabled after it was made is seen at the next check and the
 * next encryption, never answered from the old state. */
static void
test_keyring_changes_are_seen(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  e = TC_BUF_INIT, out = TC_BUF_INIT;
	char           fpr_c[41], buf[128];
	(void)state;

	make_entity(&e);
	/* A new key each run (the test runs twice). */
	gen_key(home_a, uses_helpers(state) ? "dave" : "carol", 1, NULL, "1y",
	    fpr_c);
	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	assert_int_equal(tc_pgp_check_key(p, fpr_b, &err), 0);
	snprintf(buf, sizeof(buf), "no key with fingerprint %s", fpr_c);
	expect_bad(p, fpr_c, buf);

	copy_public(home_a, home_s, fpr_c);
	assert_int_equal(tc_pgp_check_key(p, fpr_c, &err), 0);
	{
		const char *to[] = { fpr_c };

		assert_int_equal(
		    tc_pgp_encrypt_entity(p, to, 1, e.data, e.len, &out, &err),
		    0);
		assert_non_null(strstr(out.data, "BEGIN PGP MESSAGE"));
		import_revocation(home_a, fpr_c, home_s);
		tc_buf_reset(&out);
		assert_int_equal(
		    tc_pgp_encrypt_entity(p, to, 1, e.data, e.len, &out, &err),
		    TC_EKEY);
		assert_int_equal(out.len, 0);
	}
	snprintf(buf, sizeof(buf), "key %s is revoked", fpr_c);
	expect_bad(p, fpr_c, buf);

	/* Disabling changes only the trustdb. */
	assert_int_equal(gpg(home_s, NULL, NULL, "--yes", "--edit-key", fpr_b,
			     "disable", "quit", NULL),
	    0);
	snprintf(buf, sizeof(buf), "key %s is disabled", fpr_b);
	expect_bad(p, fpr_b, buf);
	assert_int_equal(gpg(home_s, NULL, NULL, "--yes", "--edit-key", fpr_b,
			     "enable", "quit", NULL),
	    0);
	assert_int_equal(tc_pgp_check_key(p, fpr_b, &err), 0);
	/* The old answers still hold from the same snapshot. */
	snprintf(buf, sizeof(buf), "key %s is revoked", fpr_revoked);
	expect_bad(p, fpr_revoked, buf);
	expect_bad(p, subfpr_a, "no key with fingerprint");
	tc_pgp_free(p);
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
}

/* --- through the gpg helpers ------------------------------------------- */

/* Our children that are gpg helpers, by their command line. */
static size_t
helper_children(pid_t *out, size_t max)
{
	DIR           *dir = opendir("/proc");
	struct dirent *de;
	size_t         n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL && n < max) {
		char        path[300], buf[512];
		const char *rp;
		long        ppid = 0;
		ssize_t     len;
		int         fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* pid (comm) state ppid ... */
		if ((rp = strrchr(buf, ')')) == NULL ||
		    sscanf(rp + 1, " %*c %ld", &ppid) != 1 ||
		    ppid != (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		if (memmem(buf, (size_t)len, "--gpg-helper", 12) != NULL)
			out[n++] = (pid_t)strtol(de->d_name, NULL, 10);
	}
	closedir(dir);
	return n;
}

/* The helper checks keys on its own snapshot too, and its errors come back
 * as they were made there; nothing is appended on error. */
static void
test_helper_checks_keys_itself(void **state)
{
	struct tc_err err;
	struct tc_buf e = TC_BUF_INIT, out = TC_BUF_INIT;
	char          want[128];
	(void)state;

	make_entity(&e);
	tc_buf_puts(&out, "untouched");
	{
		const char *to[] = { fpr_revoked };

		assert_int_equal(tc_pgpproc_encrypt(helpers, home_s, fpr_csirt,
				     to, 1, e.data, e.len, &out, &err),
		    TC_EKEY);
		snprintf(want, sizeof(want), "key %s is revoked", fpr_revoked);
		assert_non_null(strstr(err.msg, want));
	}
	{
		const char *to[] = { subfpr_a };

		assert_int_equal(tc_pgpproc_encrypt(helpers, home_s, fpr_csirt,
				     to, 1, e.data, e.len, &out, &err),
		    TC_EKEY);
		assert_non_null(strstr(err.msg, "no key with fingerprint"));
	}
	/* A signer without its secret key in the homedir. */
	assert_int_equal(
	    tc_pgpproc_sign(helpers, home_s, fpr_a, e.data, e.len, &out, &err),
	    TC_EKEY);
	snprintf(want, sizeof(want), "signing key %s: no secret key", fpr_a);
	assert_non_null(strstr(err.msg, want));
	/* Not CRLF text: refused by pgp.c inside the helper. */
	assert_int_equal(
	    tc_pgpproc_sign(helpers, home_s, fpr_csirt, "a\nb", 3, &out, &err),
	    TC_EINPUT);
	assert_string_equal(out.data, "untouched");
	/* And the right signer again works (its tc_pgp made anew). */
	assert_int_equal(tc_pgpproc_sign(helpers, home_s, fpr_csirt, e.data,
			     e.len, &out, &err),
	    0);
	assert_true(strncmp(out.data, "untouchedContent-Type: multipart/signed",
			39) == 0);
	assert_non_null(strstr(out.data, "-----END PGP SIGNATURE-----"));
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
}

/* A helper killed between two calls is replaced, and the call works. */
static void
test_helper_replaced_after_kill(void **state)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;
	struct tc_buf  e = TC_BUF_INIT, out = TC_BUF_INIT;
	pid_t          kids[8];
	size_t         n;
	unsigned long  spawned;

	make_entity(&e);
	assert_int_equal(new_csirt_pgp(state, &p, &err), 0);
	assert_int_equal(tc_pgp_sign_entity(p, e.data, e.len, &out, &err), 0);
	n = helper_children(kids, 8);
	assert_true(n >= 1 && n <= 2); /* never more than asked for */
	spawned = tc_pgpproc_spawned(helpers);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(kill(kids[i], SIGKILL), 0);
	for (int i = 0; i < 2 * (int)n; i++) {
		tc_buf_reset(&out);
		assert_int_equal(
		    tc_pgp_sign_entity(p, e.data, e.len, &out, &err), 0);
		assert_non_null(strstr(out.data, "BEGIN PGP SIGNATURE"));
	}
	assert_true(tc_pgpproc_spawned(helpers) > spawned);
	/* The dead ones were reaped: only live helpers are our children. */
	n = helper_children(kids, 8);
	assert_true(n >= 1 && n <= 2);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(kill(kids[i], 0), 0);
	tc_pgp_free(p);
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
}

struct par_arg {
	struct tc_pgp *p;
	int            fails;
	unsigned char  done;
	char           why[TC_ERR_MSG_MAX];
};

static void *
par_thread(void *arg)
{
	struct par_arg *a = arg;
	struct tc_err   err;
	struct tc_buf   e = TC_BUF_INIT, out = TC_BUF_INIT;
	const char     *to[] = { fpr_a };

	make_entity(&e);
	for (int i = 0; i < 4; i++) {
		tc_buf_reset(&out);
		if (tc_pgp_sign_entity(a->p, e.data, e.len, &out, &err) != 0 ||
		    tc_pgp_encrypt_entity(a->p, to, 1, out.data, out.len, &out,
			&err) != 0) {
			a->fails++;
			snprintf(a->why, sizeof(a->why), "%s", err.msg);
		}
	}
	a->done = 1;
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
	return NULL;
}

/* Four threads share two helpers: every call is answered, and no more
 * than two helpers ever run.  Each thread's struct tc_pgp is made and its
 * key snapshot taken here first, so that the threads only talk to the
 * helpers. */
static void
test_helpers_shared_by_threads(void **state)
{
	pthread_t      t[4];
	struct par_arg a[4];
	struct tc_err  err;
	pid_t          kids[8];

	memset(a, 0, sizeof(a));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(new_csirt_pgp(state, &a[i].p, &err), 0);
		assert_int_equal(tc_pgp_check_key(a[i].p, fpr_a, &err), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, par_thread, &a[i]),
		    0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		if (a[i].fails != 0)
			fail_msg("thread %d: %d failures, last: %s", i,
			    a[i].fails, a[i].why);
		assert_int_equal(a[i].done, 1);
		tc_pgp_free(a[i].p);
	}
	assert_int_equal(helper_children(kids, 8), 2);
}

/* tc_pgpproc_free() stops its helpers: none is left running or a zombie. */
static void
test_helpers_stopped_when_freed(void **state)
{
	struct tc_pgpproc *pp;
	struct tc_err      err;
	struct tc_buf      e = TC_BUF_INIT, out = TC_BUF_INIT;
	pid_t              before[8], after[8];
	size_t             nb, na;
	char               exe[256];
	ssize_t     len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *const argv[] = { exe, (char *)(uintptr_t) "--gpg-helper", NULL };
	(void)state;

	assert_true(len > 0);
	exe[len] = '\0';
	assert_null(tc_pgpproc_new(exe, argv, 0, &err));
	assert_non_null(strstr(err.msg, "must be 1 to"));
	pp = tc_pgpproc_new(exe, argv, 1, &err);
	assert_non_null(pp);
	nb = helper_children(before, 8);
	make_entity(&e);
	assert_int_equal(
	    tc_pgpproc_sign(pp, home_s, fpr_csirt, e.data, e.len, &out, &err),
	    0);
	assert_int_equal(helper_children(after, 8), nb + 1);
	tc_pgpproc_free(pp);
	na = helper_children(after, 8);
	assert_int_equal(na, nb);
	/* A program that is not there: a temporary failure, said so. */
	{
		char *const bad[] = { (char *)(uintptr_t) "nope", NULL };

		pp = tc_pgpproc_new("/nonexistent/tocsind", bad, 1, &err);
		assert_non_null(pp);
		tc_buf_reset(&out);
		assert_int_equal(tc_pgpproc_sign(pp, home_s, fpr_csirt, e.data,
				     e.len, &out, &err),
		    TC_ETEMPFAIL);
		assert_non_null(strstr(err.msg, "gpg helper"));
		assert_int_equal(out.len, 0);
		tc_pgpproc_free(pp);
	}
	tc_buf_deinit(&e);
	tc_buf_deinit(&out);
}

static int
setup_all(void **state)
{
	char        exe[256];
	ssize_t     len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *const argv[] = { exe, (char *)(uintptr_t) "--gpg-helper", NULL };
	struct tc_err err;

	if (setup_keys(state) != 0 || len <= 0)
		return -1;
	exe[len] = '\0';
	/* The real path, not /proc/self/exe: under valgrind that would be
	 * valgrind itself. */
	helpers = tc_pgpproc_new(exe, argv, 2, &err);
	return helpers == NULL ? -1 : 0;
}

static int
teardown_all(void **state)
{
	tc_pgpproc_free(helpers);
	helpers = NULL;
	return teardown_keys(state);
}

#define BOTH(f)                                                  \
	{ #f, f, NULL, NULL, &in_process },                      \
	{                                                        \
#f " (gpg helpers)", f, NULL, NULL, &via_helpers \
	}
#define HELPERS(f)                              \
	{                                       \
#f, f, NULL, NULL, &via_helpers \
	}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_refuses_unusable_signing_keys),
		cmocka_unit_test(test_check_key_reasons),
		BOTH(test_sign_entity),
		BOTH(test_micalg_follows_gpg),
		BOTH(test_sign_refuses_bad_entities),
		BOTH(test_encrypt_signed_entity),
		BOTH(test_encrypt_two_recipients),
		BOTH(test_encrypt_refuses_bad_keys),
		BOTH(test_keyring_changes_are_seen),
		HELPERS(test_helper_checks_keys_itself),
		HELPERS(test_helper_replaced_after_kill),
		HELPERS(test_helpers_shared_by_threads),
		HELPERS(test_helpers_stopped_when_freed),
	};

	if (argc == 2 && strcmp(argv[1], "--gpg-helper") == 0)
		return tc_pgpproc_serve(TC_PGPPROC_FD);
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}

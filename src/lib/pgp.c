/* pgp: PGP/MIME (RFC 3156) with gpgme.
 *
 * Design note.  One gpgme context per struct tc_pgp, set up once: OpenPGP,
 * the service homedir, armor on, offline (no key lookups on the network),
 * local key listing, and the CSIRT key as the only signer.  Recipient keys
 * are looked up by their pinned primary fingerprint and nothing else: gpg is
 * given the 40-hex pattern, and of what it lists only a key whose primary
 * fingerprint is exactly the pin is accepted, so a subkey fingerprint, a
 * short key ID or a user ID never selects a key.  Because every key used
 * passed that check, encryption uses GPGME_ENCRYPT_ALWAYS_TRUST: the pin is
 * our trust decision, not the web of trust.
 *
 * Key snapshot.  Listing one key forks gpg (about as costly as the
 * encryption itself), so each struct tc_pgp lists the whole public keyring
 * once and answers lookups from that snapshot, sorted by primary
 * fingerprint.  The snapshot is taken again when the keyring or the
 * trustdb changed (inode, size or modification time of pubring.kbx,
 * pubring.gpg and trustdb.gpg: an import, a revocation, a disabled key) or
 * is older than KEYS_TTL_S, and expiry dates are compared with the clock at
 * every lookup, so a check never answers from stale key state.  gpg checks
 * the key again when it encrypts.  Without a known homedir, or when the
 * listing fails, each lookup lists its key as before.
 *
 * The plaintext is handed to gpgme in place (gpgme_data_new_from_mem with
 * copy = 0), so this file keeps no copy of it.  gpg writes armor with LF line
 * ends; they are turned into CRLF here, as RFC 3156 wants the whole message
 * in canonical form. */
#include <ctype.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <gpgme.h>

#include "tocsin/mem.h"
#include "tocsin/mime.h"
#include "tocsin/pgp.h"
#include "tocsin/pgpproc.h"
#include "tocsin/str.h"

#define LINE_MAX_OCTETS 998 /* RFC 5322 §2.1.1 */

#define KEYS_TTL_S 60
#define KEYS_FILES 3

/* What says that the keyring changed. */
struct file_stamp {
	ino_t           ino;
	off_t           size;
	struct timespec mtime;
	int             present;
};

struct tc_pgp {
	gpgme_ctx_t ctx;
	char        signer[TC_PGP_FPR_LEN + 1]; /* upper case */
	char       *home;                       /* for messages */
	char       *files[KEYS_FILES];          /* NULL: no snapshot */
	/* The snapshot: public keys sorted by primary fingerprint. */
	gpgme_key_t      *keys;
	size_t            n_keys;
	int               have_keys;
	time_t            keys_at;
	struct file_stamp stamps[KEYS_FILES];
	/* Non-NULL: gpg runs in these helpers (tc_pgp_use_helpers). */
	struct tc_pgpproc *helpers;
	char              *homedir; /* as given to tc_pgp_new, may be NULL */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init_once(void)
{
	gpgme_check_version(NULL);
	gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
#ifdef LC_MESSAGES
	gpgme_set_locale(NULL, LC_MESSAGES, setlocale(LC_MESSAGES, NULL));
#endif
}

void
tc_pgp_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

/* gpgme's message for `e`, in `buf`. */
static const char *
gerr(gpgme_error_t e, char *buf, size_t size)
{
	if (gpgme_strerror_r(e, buf, size) != 0 && buf[0] == '\0')
		tc_strlcpy(buf, "unknown gpgme error", size);
	return buf;
}

/* Copy a 40-hex fingerprint to `up` in upper case.  0 or TC_EKEY. */
static int
parse_fpr(const char *fpr, char up[TC_PGP_FPR_LEN + 1], const char *what,
    struct tc_err *err)
{
	size_t i;

	if (fpr == NULL)
		return tc_err_set(err, TC_EKEY, "%s: no fingerprint given",
		    what);
	for (i = 0; fpr[i] != '\0' && i < TC_PGP_FPR_LEN; i++) {
		if (!isxdigit((unsigned char)fpr[i]))
			break;
		up[i] = (char)toupper((unsigned char)fpr[i]);
	}
	if (i != TC_PGP_FPR_LEN || fpr[i] != '\0')
		return tc_err_set(err, TC_EKEY,
		    "%s: \"%.60s\" is not a 40-hex fingerprint", what, fpr);
	up[i] = '\0';
	return 0;
}

/* Find the key whose primary fingerprint is exactly `fpr` (upper-case hex).
 * 1 found (*out owned by the caller), 0 not found, TC_EPERMFAIL. */
static int
find_key(struct tc_pgp *p, const char *fpr, int secret, gpgme_key_t *out,
    struct tc_err *err)
{
	gpgme_error_t e;
	gpgme_key_t   key;
	char          msg[256];

	*out = NULL;
	e = gpgme_op_keylist_start(p->ctx, fpr, secret);
	if (e != 0)
		return tc_err_set(err, TC_EPERMFAIL,
		    "key %s: cannot list keys in %s: %s", fpr, p->home,
		    gerr(e, msg, sizeof(msg)));
	while ((e = gpgme_op_keylist_next(p->ctx, &key)) == 0) {
		const char *kf = key->subkeys ? key->subkeys->fpr : NULL;

		if (*out == NULL && kf != NULL && strcasecmp(kf, fpr) == 0)
			*out = key;
		else
			gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(p->ctx);
	if (gpg_err_code(e) != GPG_ERR_EOF) {
		if (*out != NULL)
			gpgme_key_unref(*out);
		*out = NULL;
		return tc_err_set(err, TC_EPERMFAIL,
		    "key %s: listing keys in %s failed: %s", fpr, p->home,
		    gerr(e, msg, sizeof(msg)));
	}
	return *out != NULL;
}

static void
stamp_of(const char *path, struct file_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) == 0) {
		st->present = 1;
		st->ino = sb.st_ino;
		st->size = sb.st_size;
		st->mtime = sb.st_mtim;
	}
}

static int
stamp_same(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->present == b->present && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void
snapshot_drop(struct tc_pgp *p)
{
	for (size_t i = 0; i < p->n_keys; i++)
		gpgme_key_unref(p->keys[i]);
	free(p->keys);
	p->keys = NULL;
	p->n_keys = 0;
	p->have_keys = 0;
}

static int
key_cmp(const void *a, const void *b)
{
	gpgme_key_t ka = *(const gpgme_key_t *)a, kb = *(const gpgme_key_t *)b;

	return strcasecmp(ka->subkeys->fpr, kb->subkeys->fpr);
}

/* Make the snapshot current: 1 usable, 0 not (the caller lists the key
 * itself). */
static int
snapshot_fresh(struct tc_pgp *p)
{
	struct file_stamp now_st[KEYS_FILES];
	gpgme_error_t     e;
	gpgme_key_t       key;
	size_t            cap = 0;
	time_t            now = time(NULL);
	int               same = p->have_keys;

	if (p->files[0] == NULL)
		return 0;
	for (size_t i = 0; i < KEYS_FILES; i++) {
		stamp_of(p->files[i], &now_st[i]);
		same = same && stamp_same(&now_st[i], &p->stamps[i]);
	}
	if (same && now - p->keys_at < KEYS_TTL_S && now >= p->keys_at)
		return 1;
	snapshot_drop(p);
	if (gpgme_op_keylist_start(p->ctx, NULL, 0) != 0)
		return 0;
	while ((e = gpgme_op_keylist_next(p->ctx, &key)) == 0) {
		if (key->subkeys == NULL || key->subkeys->fpr == NULL) {
			gpgme_key_unref(key);
			continue;
		}
		if (p->n_keys == cap) {
			cap = cap ? cap * 2 : 64;
			p->keys = tc_xrealloc(p->keys, cap * sizeof(*p->keys));
		}
		p->keys[p->n_keys++] = key;
	}
	gpgme_op_keylist_end(p->ctx);
	if (gpg_err_code(e) != GPG_ERR_EOF) {
		snapshot_drop(p);
		return 0;
	}
	if (p->n_keys > 1)
		qsort(p->keys, p->n_keys, sizeof(*p->keys), key_cmp);
	memcpy(p->stamps, now_st, sizeof(now_st));
	p->keys_at = now;
	p->have_keys = 1;
	return 1;
}

/* find_key for public keys, from the snapshot when there is one. */
static int
find_public_key(struct tc_pgp *p, const char *fpr, gpgme_key_t *out,
    struct tc_err *err)
{
	size_t lo = 0, hi;

	if (!snapshot_fresh(p))
		return find_key(p, fpr, 0, out, err);
	*out = NULL;
	hi = p->n_keys;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int    c = strcasecmp(p->keys[mid]->subkeys->fpr, fpr);

		if (c == 0) {
			gpgme_key_ref(p->keys[mid]);
			*out = p->keys[mid];
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void
format_day(char out[16], long t)
{
	time_t    tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		tc_strlcpy(out, "?", 16);
}

/* Why the primary key itself is unusable, or NULL.  `day` receives the
 * expiry date when that is the reason. */
static const char *
key_state(gpgme_key_t key, char day[16])
{
	long exp = key->subkeys ? key->subkeys->expires : 0;

	if (key->revoked)
		return "is revoked";
	if (key->expired || (exp > 0 && exp <= (long)time(NULL))) {
		format_day(day, key->subkeys ? key->subkeys->expires : 0);
		return "expired on";
	}
	if (key->disabled)
		return "is disabled";
	if (key->invalid)
		return "is invalid";
	return NULL;
}

static int
subkey_usable(gpgme_subkey_t sk)
{
	return !sk->revoked && !sk->expired && !sk->disabled && !sk->invalid &&
	    (sk->expires <= 0 || sk->expires > (long)time(NULL));
}

/* tc_pgp_check_key, handing the usable key to the caller when `keep` is
 * not NULL. */
static int
usable_key(struct tc_pgp *p, const char *fpr, gpgme_key_t *keep,
    struct tc_err *err)
{
	char           up[TC_PGP_FPR_LEN + 1];
	char           day[16] = "";
	gpgme_key_t    key = NULL;
	gpgme_subkey_t sk;
	const char    *why;
	int            rc;

	if ((rc = parse_fpr(fpr, up, "recipient key", err)) < 0)
		return rc;
	rc = find_public_key(p, up, &key, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		rc = tc_err_set(err, TC_EKEY,
		    "no key with fingerprint %s in the keyring", up);
		goto out;
	}
	if ((why = key_state(key, day)) != NULL) {
		rc = tc_err_set(err, TC_EKEY, "key %s %s%s%s", up, why,
		    day[0] ? " " : "", day);
		goto out;
	}
	for (sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_encrypt && subkey_usable(sk))
			break;
	if (sk == NULL) {
		rc = tc_err_set(err, TC_EKEY,
		    "key %s has no valid encryption subkey", up);
		goto out;
	}
	rc = 0;
	if (keep != NULL) {
		*keep = key;
		key = NULL;
	}
out:
	if (key != NULL)
		gpgme_key_unref(key);
	return rc;
}

int
tc_pgp_check_key(struct tc_pgp *p, const char *fpr, struct tc_err *err)
{
	return usable_key(p, fpr, NULL, err);
}

/* Check the CSIRT key and make it the only signer of p->ctx. */
static int
set_signer(struct tc_pgp *p, struct tc_err *err)
{
	gpgme_key_t    key = NULL;
	gpgme_subkey_t sk;
	gpgme_error_t  e;
	char           day[16] = "";
	char           msg[256];
	const char    *why;
	int            rc;

	rc = find_key(p, p->signer, 1, &key, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		rc = find_key(p, p->signer, 0, &key, err);
		if (rc < 0)
			goto out;
		rc = tc_err_set(err, TC_EKEY,
		    rc == 1
			? "signing key %s: no secret key in %s"
			: "signing key %s: no key with this fingerprint in %s",
		    p->signer, p->home);
		goto out;
	}
	if ((why = key_state(key, day)) != NULL) {
		rc = tc_err_set(err, TC_EKEY, "signing key %s %s%s%s in %s",
		    p->signer, why, day[0] ? " " : "", day, p->home);
		goto out;
	}
	for (sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_sign && sk->secret && subkey_usable(sk))
			break;
	if (sk == NULL) {
		rc = tc_err_set(err, TC_EKEY,
		    "signing key %s has no valid signing subkey with its "
		    "secret "
		    "in %s",
		    p->signer, p->home);
		goto out;
	}
	gpgme_signers_clear(p->ctx);
	if ((e = gpgme_signers_add(p->ctx, key)) != 0) {
		rc = tc_err_set(err, TC_EKEY, "signing key %s: %s", p->signer,
		    gerr(e, msg, sizeof(msg)));
		goto out;
	}
	rc = 0;
out:
	if (key != NULL)
		gpgme_key_unref(key);
	return rc;
}

int
tc_pgp_new(const char *homedir, const char *signing_fpr, struct tc_pgp **out,
    struct tc_err *err)
{
	struct tc_pgp *p;
	gpgme_error_t  e;
	const char    *home;
	char           msg[256];
	int            rc;

	tc_pgp_global_init();
	p = tc_xcalloc(1, sizeof(*p));
	if ((rc = parse_fpr(signing_fpr, p->signer, "signing key", err)) < 0)
		goto out;
	home = homedir ? homedir : gpgme_get_dirinfo("homedir");
	p->home = tc_xstrdup(home ? home : "the default GnuPG home");
	p->homedir = homedir ? tc_xstrdup(homedir) : NULL;
	if (home != NULL) {
		static const char *const names[KEYS_FILES] = { "pubring.kbx",
			"pubring.gpg", "trustdb.gpg" };
		struct tc_buf            b = TC_BUF_INIT;

		for (size_t i = 0; i < KEYS_FILES; i++) {
			tc_buf_printf(&b, "%s/%s", home, names[i]);
			p->files[i] = tc_buf_steal(&b, NULL);
		}
	}
	if ((e = gpgme_new(&p->ctx)) != 0 ||
	    (e = gpgme_set_protocol(p->ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (e = gpgme_ctx_set_engine_info(p->ctx, GPGME_PROTOCOL_OpenPGP, NULL,
		 homedir)) != 0 ||
	    (e = gpgme_set_keylist_mode(p->ctx, GPGME_KEYLIST_MODE_LOCAL)) !=
		0) {
		rc = tc_err_set(err, TC_EPERMFAIL, "gpgme set-up for %s: %s",
		    p->home, gerr(e, msg, sizeof(msg)));
		goto out;
	}
	gpgme_set_armor(p->ctx, 1);
	gpgme_set_textmode(p->ctx, 0); /* we give canonical CRLF already */
	gpgme_set_offline(p->ctx, 1);
	if ((rc = set_signer(p, err)) < 0)
		goto out;
	*out = p;
	p = NULL;
	rc = 0;
out:
	tc_pgp_free(p);
	return rc;
}

void
tc_pgp_free(struct tc_pgp *p)
{
	if (p == NULL)
		return;
	snapshot_drop(p);
	if (p->ctx != NULL)
		gpgme_release(p->ctx);
	for (size_t i = 0; i < KEYS_FILES; i++)
		free(p->files[i]);
	free(p->home);
	free(p->homedir);
	free(p);
}

void
tc_pgp_use_helpers(struct tc_pgp *p, struct tc_pgpproc *helpers)
{
	p->helpers = helpers;
}

/* An entity we may sign or encrypt: not empty, bounded, no NUL, every line
 * ended by CRLF (no bare CR or LF) and at most 998 octets, and 7-bit when
 * `seven_bit` (RFC 3156 §3: signed data must survive any relay). */
static int
check_entity(const char *s, size_t len, int seven_bit, struct tc_err *err)
{
	size_t col = 0;

	if (s == NULL || len == 0)
		return tc_err_set(err, TC_EINPUT, "empty MIME entity");
	if (len > TC_PGP_ENTITY_MAX)
		return tc_err_set(err, TC_ELIMIT,
		    "MIME entity of %zu bytes is above the limit of %u", len,
		    TC_PGP_ENTITY_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return tc_err_set(err, TC_EINPUT,
			    "MIME entity: NUL byte at offset %zu", i);
		if (c >= 0x80 && seven_bit)
			return tc_err_set(err, TC_EINPUT,
			    "MIME entity: 8-bit byte at offset %zu (encode the "
			    "part as quoted-printable or base64 before "
			    "signing)",
			    i);
		if (c == '\r' && (i + 1 == len || s[i + 1] != '\n'))
			return tc_err_set(err, TC_EINPUT,
			    "MIME entity: bare CR at offset %zu", i);
		if (c == '\n' && (i == 0 || s[i - 1] != '\r'))
			return tc_err_set(err, TC_EINPUT,
			    "MIME entity: bare LF at offset %zu (CRLF line "
			    "ends "
			    "are required)",
			    i);
		if (c == '\n')
			col = 0;
		else if (c != '\r' && ++col > LINE_MAX_OCTETS)
			return tc_err_set(err, TC_EINPUT,
			    "MIME entity: line longer than %d octets at offset "
			    "%zu",
			    LINE_MAX_OCTETS, i);
	}
	return 0;
}

/* Append `n` bytes of gpg output with every bare LF turned into CRLF. */
static void
append_crlf(struct tc_buf *out, const char *s, size_t n)
{
	tc_buf_reserve(out, n + n / 32 + 2);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			tc_buf_putc(out, '\r');
		tc_buf_putc(out, s[i]);
	}
	if (n > 0 && s[n - 1] != '\n')
		tc_buf_puts(out, "\r\n");
}

/* Move gpgme's output buffer into `b` as CRLF text; releases `d`. */
static void
take_output(gpgme_data_t d, struct tc_buf *b)
{
	size_t n = 0;
	char  *m = gpgme_data_release_and_get_mem(d, &n);

	if (m != NULL) {
		append_crlf(b, m, n);
		gpgme_free(m);
	}
}

static const char *
micalg_name(gpgme_hash_algo_t h)
{
	switch (h) {
	case GPGME_MD_SHA256:
		return "pgp-sha256";
	case GPGME_MD_SHA384:
		return "pgp-sha384";
	case GPGME_MD_SHA512:
		return "pgp-sha512";
	case GPGME_MD_SHA224:
		return "pgp-sha224";
	case GPGME_MD_SHA1:
		return "pgp-sha1";
	case GPGME_MD_RMD160:
		return "pgp-ripemd160";
	case GPGME_MD_MD5:
		return "pgp-md5";
	default:
		return NULL;
	}
}

static int
sign_error_code(gpgme_error_t e)
{
	switch (gpg_err_code(e)) {
	case GPG_ERR_NO_SECKEY:
	case GPG_ERR_UNUSABLE_SECKEY:
	case GPG_ERR_BAD_PASSPHRASE:
	case GPG_ERR_NO_PASSPHRASE:
	case GPG_ERR_NO_PIN_ENTRY:
	case GPG_ERR_CANCELED:
	case GPG_ERR_KEY_EXPIRED:
	case GPG_ERR_CERT_REVOKED:
	case GPG_ERR_WRONG_KEY_USAGE:
		return TC_EKEY;
	default:
		return TC_EPERMFAIL;
	}
}

int
tc_pgp_sign_entity(struct tc_pgp *p, const char *entity, size_t len,
    struct tc_buf *out, struct tc_err *err)
{
	gpgme_data_t        in = NULL, sigd = NULL;
	gpgme_sign_result_t res;
	gpgme_error_t       e;
	struct tc_buf       sig = TC_BUF_INIT;
	const char         *micalg;
	const char         *contents[1];
	char                bound[48];
	char                msg[256];
	int                 rc;

	if ((rc = check_entity(entity, len, 1, err)) < 0)
		goto out;
	if (p->helpers != NULL) {
		rc = tc_pgpproc_sign(p->helpers, p->homedir, p->signer, entity,
		    len, out, err);
		goto out;
	}
	if ((e = gpgme_data_new_from_mem(&in, entity, len, 0)) != 0 ||
	    (e = gpgme_data_new(&sigd)) != 0) {
		rc = tc_err_set(err, TC_EPERMFAIL, "signing: %s",
		    gerr(e, msg, sizeof(msg)));
		goto out;
	}
	e = gpgme_op_sign(p->ctx, in, sigd, GPGME_SIG_MODE_DETACH);
	res = gpgme_op_sign_result(p->ctx);
	if (e != 0 || res == NULL) {
		rc = tc_err_set(err, e ? sign_error_code(e) : TC_EPERMFAIL,
		    "signing with key %s (%s): %s", p->signer, p->home,
		    e ? gerr(e, msg, sizeof(msg)) : "no result");
		goto out;
	}
	if (res->invalid_signers != NULL) {
		rc = tc_err_set(err, TC_EKEY, "signing key %s (%s) refused: %s",
		    p->signer, p->home,
		    gerr(res->invalid_signers->reason, msg, sizeof(msg)));
		goto out;
	}
	if (res->signatures == NULL || res->signatures->next != NULL ||
	    res->signatures->type != GPGME_SIG_MODE_DETACH) {
		rc = tc_err_set(err, TC_EPERMFAIL,
		    "signing with key %s: gpg did not make exactly one "
		    "detached signature",
		    p->signer);
		goto out;
	}
	if ((micalg = micalg_name(res->signatures->hash_algo)) == NULL) {
		rc = tc_err_set(err, TC_EPERMFAIL,
		    "signing with key %s: hash %s has no RFC 3156 micalg",
		    p->signer,
		    gpgme_hash_algo_name(res->signatures->hash_algo)
			? gpgme_hash_algo_name(res->signatures->hash_algo)
			: "?");
		goto out;
	}
	take_output(sigd, &sig);
	sigd = NULL;
	if (sig.len == 0) {
		rc = tc_err_set(err, TC_EPERMFAIL,
		    "signing with key %s: empty signature", p->signer);
		goto out;
	}
	/* The boundary must occur in neither part; the entity is not NUL
	 * terminated, so it is checked here rather than copied. */
	contents[0] = sig.data;
	do
		tc_mime_boundary(bound, contents, 1);
	while (memmem(entity, len, bound, strlen(bound)) != NULL);

	tc_buf_printf(out,
	    "Content-Type: multipart/signed; boundary=\"%s\";\r\n"
	    " micalg=%s; protocol=\"application/pgp-signature\"\r\n"
	    "\r\n"
	    "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n"
	    "--%s\r\n",
	    bound, micalg, bound);
	tc_buf_append(out, entity, len);
	tc_buf_printf(out,
	    "\r\n--%s\r\n"
	    "Content-Type: application/pgp-signature; "
	    "name=\"signature.asc\"\r\n"
	    "Content-Description: OpenPGP digital signature\r\n"
	    "Content-Disposition: attachment; filename=\"signature.asc\"\r\n"
	    "\r\n",
	    bound);
	tc_buf_append(out, sig.data, sig.len);
	tc_buf_printf(out, "\r\n--%s--\r\n", bound);
	rc = 0;
out:
	if (sigd != NULL)
		gpgme_data_release(sigd);
	if (in != NULL)
		gpgme_data_release(in);
	tc_buf_deinit(&sig);
	return rc;
}

int
tc_pgp_encrypt_entity(struct tc_pgp *p, const char *const *fprs, size_t n,
    const char *entity, size_t len, struct tc_buf *out, struct tc_err *err)
{
	gpgme_key_t           *keys = NULL;
	gpgme_data_t           in = NULL, ct = NULL;
	gpgme_encrypt_result_t res;
	gpgme_error_t          e;
	struct tc_buf          armor = TC_BUF_INIT;
	const char            *contents[1];
	char                   bound[48];
	char                   msg[256];
	size_t                 i;
	int                    rc;

	if (n == 0)
		return tc_err_set(err, TC_EKEY, "no recipient key given");
	if (n > TC_PGP_RECIPIENTS_MAX)
		return tc_err_set(err, TC_ELIMIT,
		    "%zu recipient keys are above the limit of %d", n,
		    TC_PGP_RECIPIENTS_MAX);
	if ((rc = check_entity(entity, len, 0, err)) < 0)
		return rc;
	keys = tc_xcalloc(n + 1, sizeof(*keys));
	for (i = 0; i < n; i++)
		if ((rc = usable_key(p, fprs[i], &keys[i], err)) < 0)
			goto out;
	/* Checked here against this snapshot, and again in the helper. */
	if (p->helpers != NULL) {
		rc = tc_pgpproc_encrypt(p->helpers, p->homedir, p->signer, fprs,
		    n, entity, len, out, err);
		goto out;
	}
	if ((e = gpgme_data_new_from_mem(&in, entity, len, 0)) != 0 ||
	    (e = gpgme_data_new(&ct)) != 0) {
		rc = tc_err_set(err, TC_EPERMFAIL, "encrypting: %s",
		    gerr(e, msg, sizeof(msg)));
		goto out;
	}
	e = gpgme_op_encrypt(p->ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, in, ct);
	res = gpgme_op_encrypt_result(p->ctx);
	if (res != NULL && res->invalid_recipients != NULL) {
		rc = tc_err_set(err, TC_EKEY, "key %s refused by gpg: %s",
		    res->invalid_recipients->fpr ? res->invalid_recipients->fpr
						 : "?",
		    gerr(res->invalid_recipients->reason, msg, sizeof(msg)));
		goto out;
	}
	if (e != 0) {
		rc = tc_err_set(err,
		    gpg_err_code(e) == GPG_ERR_UNUSABLE_PUBKEY ? TC_EKEY
							       : TC_EPERMFAIL,
		    "encrypting in %s: %s", p->home, gerr(e, msg, sizeof(msg)));
		goto out;
	}
	take_output(ct, &armor);
	ct = NULL;
	if (armor.len == 0) {
		rc = tc_err_set(err, TC_EPERMFAIL,
		    "encrypting: gpg wrote no ciphertext");
		goto out;
	}
	contents[0] = armor.data;
	tc_mime_boundary(bound, contents, 1);
	tc_buf_printf(out,
	    "Content-Type: multipart/encrypted; boundary=\"%s\";\r\n"
	    " protocol=\"application/pgp-encrypted\"\r\n"
	    "\r\n"
	    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
	    "--%s\r\n"
	    "Content-Type: application/pgp-encrypted\r\n"
	    "Content-Description: PGP/MIME version identification\r\n"
	    "\r\n"
	    "Version: 1\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
	    "Content-Description: OpenPGP encrypted message\r\n"
	    "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
	    "\r\n",
	    bound, bound, bound);
	tc_buf_append(out, armor.data, armor.len);
	tc_buf_printf(out, "\r\n--%s--\r\n", bound);
	rc = 0;
out:
	if (ct != NULL)
		gpgme_data_release(ct);
	if (in != NULL)
		gpgme_data_release(in);
	if (keys != NULL) {
		for (i = 0; i < n; i++)
			if (keys[i] != NULL)
				gpgme_key_unref(keys[i]);
		free(keys);
	}
	tc_buf_deinit(&armor);
	return rc;
}

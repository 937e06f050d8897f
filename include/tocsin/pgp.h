/* pgp: PGP/MIME (RFC 3156) with gpgme.  Signs with the CSIRT key (its secret
 * stays in gpg-agent), encrypts to recipients' keys looked up by their pinned
 * fingerprint only.  Owns the gpgme context and the key checks; never builds
 * headers (mime.c does) nor sends.
 *
 * Blocking (gpgme forks gpg): pool threads only; one struct tc_pgp per
 * thread, never shared.  main() calls tc_pgp_global_init() once before any
 * thread uses gpgme. */
#ifndef TOCSIN_PGP_H
#define TOCSIN_PGP_H

#include <stddef.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_PGP_FPR_LEN 40                     /* v4 fingerprint, hex */
#define TC_PGP_ENTITY_MAX (64u * 1024 * 1024) /* bytes signed or encrypted */
#define TC_PGP_RECIPIENTS_MAX 64              /* keys per encryption */

struct tc_pgp;

/* Initialise gpgme (gpgme_check_version, locale).  Idempotent and safe from
 * any thread; main() calls it before starting the pool. */
void tc_pgp_global_init(void);

/* homedir: the GNUPGHOME of the service keyring (NULL = gpg's default);
 * signing_fpr: 40 hex of the CSIRT key, which must have a usable secret
 * signing key (checked here: missing, no secret, expired, revoked, disabled
 * → TC_EKEY with a clear reason).  *out is set only on success. */
int tc_pgp_new(const char *homedir, const char *signing_fpr,
    struct tc_pgp **out, struct tc_err *err);
/* NULL is a no-op. */
void tc_pgp_free(struct tc_pgp *p);

struct tc_pgpproc;
/* From now on run p's signatures and encryptions in these gpg helper
 * processes (pgpproc.h), which must outlive p; key checks stay here, on
 * p's snapshot, and are made again in the helper.  Results and errors are
 * the same as in process. */
void tc_pgp_use_helpers(struct tc_pgp *p, struct tc_pgpproc *helpers);

/* Is the public key with this exact primary fingerprint (40 hex,
 * case-insensitive, no spaces) usable for encryption?  0, or TC_EKEY with
 * err->msg naming the fingerprint: "no key with fingerprint X in the
 * keyring", "key X is revoked", "key X expired on 2026-11-30", "key X is
 * disabled", "key X is invalid", "key X has no valid encryption subkey",
 * "X is not a 40-hex fingerprint".  A key found only by a shorter ID, a
 * subkey fingerprint or a different fingerprint is never used (pinning). */
int tc_pgp_check_key(struct tc_pgp *p, const char *fpr, struct tc_err *err);

/* Sign a MIME entity: `entity` is header lines + CRLF + body, CRLF line
 * ends, 7-bit (quoted-printable/base64 parts), no NUL.  Appends to `out` a
 * complete multipart/signed entity: a Content-Type header (boundary, micalg
 * naming the hash gpg really used, protocol="application/pgp-signature"),
 * folded at its parameters, a blank line, then the body whose first part is
 * `entity` byte for byte and whose second part is the ASCII-armored detached
 * signature.  Returns 0, TC_EINPUT (entity not 7-bit CRLF text), TC_ELIMIT
 * (above TC_PGP_ENTITY_MAX), TC_EKEY (signing key unusable) or TC_EPERMFAIL;
 * on error nothing is appended. */
int tc_pgp_sign_entity(struct tc_pgp *p, const char *entity, size_t len,
    struct tc_buf *out, struct tc_err *err);

/* Encrypt an entity (normally the output of tc_pgp_sign_entity: CRLF line
 * ends, no NUL) to `n` recipients given by pinned fingerprint, each checked
 * with tc_pgp_check_key first.  Appends a complete multipart/encrypted
 * entity (RFC 3156 §4): Content-Type header with boundary and
 * protocol="application/pgp-encrypted", a blank line, the
 * application/pgp-encrypted part "Version: 1" and the
 * application/octet-stream part with the ASCII-armored ciphertext.  Returns
 * 0, TC_EKEY (n == 0 or any unusable key), TC_ELIMIT (n or len too large),
 * TC_EINPUT or TC_EPERMFAIL; on error nothing is appended.  No copy of the
 * plaintext is made: gpgme reads `entity` in place. */
int tc_pgp_encrypt_entity(struct tc_pgp *p, const char *const *fprs, size_t n,
    const char *entity, size_t len, struct tc_buf *out, struct tc_err *err);

#endif

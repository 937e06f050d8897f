/* compose: one notification's mail, as it goes on the wire.
 *
 *   render (templates) → MIME entity (multipart/alternative text + HTML, a
 *   CSV attachment when there is one, protected headers) → sign (always)
 *   → encrypt to the recipient's pinned key (when the TLP demands it) →
 *   outer headers.
 *
 * Sign once, encrypt many: tc_compose_sign() renders and signs the inner
 * entity of one notification in one language.  That entity carries no
 * per-recipient header (its protected headers are Subject and From only,
 * RFC 9788 hp="cipher"/"clear" plus the legacy protected-headers="v1"), so
 * every recipient of that language gets the same signed bytes, and
 * tc_compose_wrap() only encrypts them and adds the outer headers.
 *
 * Policy enforced here, whatever the caller asks: content labelled AMBER,
 * AMBER+STRICT or RED is never wrapped without encryption to a key that
 * passed the pin check (TC_EKEY otherwise, with the reason, so the caller
 * holds the message); the outer Subject of an encrypted mail is neutral
 * ("[TLP:AMBER] [REF] [...]"), the real one is only inside.  Every value
 * reaches a header through mime.c.
 *
 * Blocking (gpgme forks gpg): pool threads, each with its own struct
 * tc_pgp.  The templates are shared read-only. */
#ifndef TOCSIN_COMPOSE_H
#define TOCSIN_COMPOSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"
#include "tocsin/tlp.h"

struct tc_pgp;
struct tc_templates;

#define TC_COMPOSE_REF_MAX 64
#define TC_COMPOSE_SUBJECT_MAX 300 /* characters of the real subject */
/* The outer Subject of an encrypted mail after the label and reference. */
#define TC_COMPOSE_OBSCURED "[...]"

/* What one notification says, before it is addressed. */
struct tc_compose_content {
	const char   *template_name; /* "spear-compromised_host", "advisory" */
	const char   *lang;          /* fr nl de en; others fall back to en */
	const json_t *ctx;           /* the template context (template.h) */
	enum tc_tlp   tlp;
	/* Encrypt whatever the label (relay digests are always encrypted,
	 * DESIGN.md); otherwise the label decides. */
	bool          encrypt;
	const char   *reference;     /* "CCB-EWS-2026-000042" */
	const char   *from_addr;     /* the CSIRT's address */
	const char   *from_name;     /* its display name, may be "" */
	/* Optional attachment inside the signature (and the encryption). */
	const char   *attachment_name; /* "findings.csv", or NULL */
	const char   *attachment_type; /* "text/csv" */
	const char   *attachment;
	size_t        attachment_len;
};

/* A rendered and signed inner entity, shared by the recipients of one
 * language.  Wiped when freed (it is the clear text). */
struct tc_compose_signed {
	struct tc_buf entity;  /* the multipart/signed entity */
	struct tc_buf subject; /* "[TLP:AMBER] [REF] real subject" (UTF-8) */
	char          reference[TC_COMPOSE_REF_MAX];
	char          lang[3]; /* the language really used */
	enum tc_tlp   tlp;
	bool          encrypt; /* tc_compose_content.encrypt */
	char          from_addr[256];
	char          from_name[256];
};

struct tc_compose_rcpt {
	const char *addr; /* plain addr-spec */
	const char *name; /* display name or NULL */
	const char *fpr;  /* pinned fingerprint (40 hex) or NULL */
};

/* Render `c` and sign the result.  Returns 0, or TC_EINPUT (template or
 * header value refused), TC_EKEY (the signing key), TC_EPERMFAIL; err
 * says why.  `out` is initialised here. */
int tc_compose_sign(struct tc_pgp *pgp, const struct tc_templates *tpl,
    const struct tc_compose_content *c, struct tc_compose_signed *out,
    struct tc_err *err);
void tc_compose_signed_deinit(struct tc_compose_signed *s);
/* The inner entity of `c` exactly as tc_compose_sign() would sign it
 * (protected headers, text and HTML parts), appended to `entity`: what the
 * recipient reads once the mail is decrypted.  Neither signs nor encrypts.
 * Returns 0 or TC_EINPUT (template or header value refused). */
int tc_compose_preview(const struct tc_templates *tpl,
    const struct tc_compose_content *c, struct tc_buf *entity,
    struct tc_err *err);

/* The wire form for one recipient, appended to `wire` (CRLF, 7-bit).
 * Encrypted when the label demands it (AMBER, AMBER+STRICT, RED) or the
 * content asked for it, signed only otherwise (DESIGN.md); `*encrypted`
 * says which.
 * Returns 0; TC_EKEY when
 * the label demands encryption and there is no usable pinned key (err has
 * the reason, nothing is appended); TC_EINPUT for a bad address. */
int tc_compose_wrap(struct tc_pgp *pgp, const struct tc_compose_signed *s,
    const struct tc_compose_rcpt *r, time_t now, struct tc_buf *wire,
    bool *encrypted, struct tc_err *err);

/* The context keys every template shares (template.h): reference, tlp
 * {label name colour and one true flag}, csirt {name email url}, date.
 * `url` may be NULL.  A new object. */
json_t *tc_compose_context(enum tc_tlp tlp, const char *reference,
    const char *from_addr, const char *from_name, const char *url,
    time_t now);

/* The outer Subject line's value of a wire message for `s`: the real
 * subject when not encrypted, "[TLP:X] [REF] [...]" when encrypted. */
void tc_compose_outer_subject(const struct tc_compose_signed *s,
    bool encrypted, struct tc_buf *out);

#endif

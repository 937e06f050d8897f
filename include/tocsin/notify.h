/* notify: one notification to its recipients, composed and queued.
 *
 * A notification (a spear warning to an entity, an advisory, a relay
 * digest) has one reference, one label and one template context; each
 * recipient gets a message row of its own.  tc_notify_compose() signs the
 * content once per language and encrypts it to each recipient's pinned key
 * (compose.h); a recipient it cannot be sent to safely (no key, a key
 * revoked, expired or not the pinned one, a template that fails) gets a
 * held row with the reason instead, never mail in clear.
 * tc_notify_queue() inserts the rows and one audit row each, inside the
 * caller's transaction.
 *
 * Blocking (gpgme, libpq): pool threads. */
#ifndef TOCSIN_NOTIFY_H
#define TOCSIN_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"
#include "tocsin/tlp.h"

struct tc_db;
struct tc_pgp;
struct tc_templates;

struct tc_notify_rcpt {
	const char *addr;
	const char *name; /* display name, may be NULL */
	const char *lang; /* fr nl de en (others fall back to en) */
	const char *fpr;  /* pinned fingerprint, or NULL */
	int64_t     entity_id, contact_id, authority_id; /* 0: none */
	int         priority; /* 0 essential .. 3 others (spear.h) */
	/* Filled by tc_notify_compose(): */
	struct tc_buf wire;
	bool          encrypted;
	char         *held_reason;   /* non-NULL: held, no wire form */
	char         *outer_subject; /* as on the wire */
	char          used_lang[3];
};

struct tc_notify {
	const char   *kind;          /* "spear" "advisory" "relay" */
	const char   *template_name; /* "spear-exposed_service", "advisory" */
	enum tc_tlp   tlp;
	bool          encrypt; /* whatever the label (relay digests) */
	const char   *reference;
	const char   *category;    /* for spear warnings, else NULL */
	int64_t       advisory_id; /* 0: none */
	const json_t *ctx;         /* the template context */
	const char   *from_addr;
	const char   *from_name;
	/* Optional attachment, inside the signature and the encryption. */
	const char            *attachment_name;
	const char            *attachment_type;
	const char            *attachment;
	size_t                 attachment_len;
	struct tc_notify_rcpt *rcpt;
	size_t                 n_rcpt;
	/* Optional: called by tc_notify_compose(), on its thread, as soon as
	 * one recipient's mail (or its held reason) is final, so that a
	 * caller can send it while the others are still composed: signing
	 * stays once per language.  Recipients held before the call are not
	 * reported.  NULL: not called. */
	void (*on_composed)(struct tc_notify_rcpt *r, void *arg);
	void *on_composed_arg;
};

/* Compose every recipient's mail (or its held reason).  `pgp` NULL means
 * no signing key could be used: every recipient is held with `pgp_error`. */
void tc_notify_compose(struct tc_notify *n, struct tc_pgp *pgp,
    const char *pgp_error, const struct tc_templates *tpl, time_t now);
/* Insert the rows (queued or held) and their audit rows in the caller's
 * transaction.  Returns the number of rows, or TC_EDB. */
int tc_notify_queue(struct tc_db *db, const struct tc_notify *n,
    struct tc_err *err);
/* Release what tc_notify_compose() filled in a recipient. */
void tc_notify_rcpt_deinit(struct tc_notify_rcpt *r);

/* `count` consecutive references "<prefix>-<year>-<6 digits>" of this
 * year, written to refs[0..count-1].  The counter row is locked by the
 * statement, so concurrent workers never share one.  0 or TC_EDB. */
int tc_notify_references(struct tc_db *db, const char *prefix, size_t count,
    time_t now, char (*refs)[64], struct tc_err *err);

#endif

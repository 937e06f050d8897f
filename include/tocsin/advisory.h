/* advisory: an advisory from its YAML file to its recipients and its
 * public documents.
 *
 *   tc_advisory_parse()    the analyst's YAML → the validated JSON
 *                          document stored in advisory.document (every
 *                          error "FILE:LINE:COL: field: message", all at
 *                          once).  The document is itself valid input
 *                          (JSON is YAML), so tocsind validates what
 *                          tocsinctl sends with the same code.
 *   tc_advisory_targets()  who receives it (advisory_db.c, one SQL
 *                          statement plus the version check in C).
 *   tc_advisory_compose()  the mail, per language, through notify.h.
 *   tc_advisory_csaf(),    the public documents of a TLP:CLEAR advisory
 *   tc_advisory_atom()     (pure), written by tc_advisory_publish().
 *
 * Targeting (non-RED): contacts with 'advisory' in receives, of entities
 * whose subscription has clearance >= the advisory's label, min_severity
 * <= its severity, categories empty or containing vulnerable_product (an
 * advisory is about vulnerable products), and whose subscription sectors
 * overlap the advisory's sectors OR who own a product asset of the same
 * vendor:product whose version is in the advisory's range.  An advisory
 * naming neither sectors nor products concerns every subscriber that
 * passes the other filters.  An entity without a subscription row gets no
 * advisory.  TLP:RED: exactly the listed recipients, each of which must be
 * a registered contact (the explicit list is the analyst's decision; the
 * other filters do not apply), and nobody else.  One copy per address.
 *
 * Parsing and the documents are pure (any thread); advisory_db.c blocks
 * on libpq and the file system (pool threads, tocsinctl). */
#ifndef TOCSIN_ADVISORY_H
#define TOCSIN_ADVISORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"
#include "tocsin/notify.h"
#include "tocsin/tlp.h"

struct tc_db;
struct tc_pgp;
struct tc_templates;

#define TC_ADVISORY_FILE_MAX (1024 * 1024) /* bytes of YAML */
#define TC_ADVISORY_TITLE_MAX 200          /* bytes; it becomes a Subject */
#define TC_ADVISORY_SUMMARY_MAX 2000
#define TC_ADVISORY_BODY_MAX (64 * 1024)
#define TC_ADVISORY_LIST_MAX 200 /* cves, products, sectors, recipients... */
#define TC_ADVISORY_URL_MAX 2000
#define TC_ADVISORY_CPE_MAX 1000
#define TC_ADVISORY_ERRORS_MAX 100 /* error lines reported */
#define TC_ADVISORY_ATOM_MAX 50    /* entries in advisories.atom */

/* Parse and validate an advisory file.  Returns 0 and *out (a new
 * object), or TC_EINPUT with one line per problem appended to `errors`
 * (may be NULL) and err saying how many. */
int tc_advisory_parse(const char *name, const char *data, size_t len,
    json_t **out, struct tc_buf *errors, struct tc_err *err);
/* Validate a document again (e.g. received over the control socket):
 * 0 and *out the normalised copy, or TC_EINPUT as above. */
int tc_advisory_check(const json_t *doc, json_t **out, struct tc_buf *errors,
    struct tc_err *err);

/* Accessors of a validated document. */
enum tc_tlp tc_advisory_tlp(const json_t *doc);
const char *tc_advisory_severity(const json_t *doc); /* "high" */
/* The English title (always present). */
const char *tc_advisory_title(const json_t *doc);
/* The language a recipient of language `lang` reads it in: `lang` when
 * the advisory has content in it, else "en". */
const char *tc_advisory_lang(const json_t *doc, const char *lang);
/* The template object "advisory" (template.h) in `lang` (see
 * tc_advisory_lang).  A new reference. */
json_t *tc_advisory_context(const json_t *doc, const char *lang);
/* Does a product asset's CPE fall under one of the advisory's products
 * (same part, vendor and product; its version in the range, a CPE with no
 * version being inside)? */
bool tc_advisory_product_matches(const json_t *doc, const char *cpe);

/* The recipients of an advisory, deep copies (free with
 * tc_advisory_targets_free).  For TLP:RED an address of the list that is
 * no registered contact fails with TC_EINPUT naming it.  Returns the count
 * or TC_EDB / TC_EINPUT. */
int  tc_advisory_targets(struct tc_db *db, const json_t *doc,
     struct tc_notify_rcpt **out, struct tc_err *err);
void tc_advisory_targets_free(struct tc_notify_rcpt *r, size_t n);

struct tc_advisory_mail {
	const json_t *doc;
	const char   *reference;
	int64_t       advisory_id;
	const char   *from_addr;
	const char   *from_name;
};
/* Compose every recipient's mail (notify.h), each in its language (the
 * recipients' `lang` is replaced by tc_advisory_lang; the array is
 * reordered by language). */
void tc_advisory_compose(const struct tc_advisory_mail *m,
    struct tc_notify_rcpt *rcpt, size_t n, struct tc_pgp *pgp,
    const char *pgp_error, const struct tc_templates *tpl, time_t now);

/* The publisher of the public documents. */
struct tc_advisory_publisher {
	const char *name;      /* the CSIRT */
	const char *namespace; /* https URL of the CSIRT */
	const char *email;
};
/* A CSAF 2.0 csaf_security_advisory document of a TLP:CLEAR advisory
 * dispatched at `released`.  A new object. */
json_t *tc_advisory_csaf(const json_t *doc, const char *reference,
    time_t released, const struct tc_advisory_publisher *pub);
/* One entry of the Atom feed. */
struct tc_advisory_entry {
	const char   *reference;
	const json_t *doc;
	time_t        released;
};
/* An Atom feed (RFC 4287) of `entries` (newest first), appended to out. */
void tc_advisory_atom(const struct tc_advisory_entry *entries, size_t n,
    const struct tc_advisory_publisher *pub, time_t now, struct tc_buf *out);
/* Write <dir>/<reference>.json and regenerate <dir>/advisories.atom from
 * the dispatched TLP:CLEAR advisories of the database (each file through
 * a temporary file and rename).  Anything but CLEAR is refused
 * (TC_ETLP).  0, TC_EDB, TC_ETLP or a negative errno. */
int tc_advisory_publish(struct tc_db *db, const char *dir, const json_t *doc,
    const char *reference, time_t released,
    const struct tc_advisory_publisher *pub, struct tc_err *err);

#endif

/* event: the normalised finding that every feed parser produces and the
 * matcher consumes.  An event is built by a parser, handed to a callback that
 * borrows it for the duration of the call, then reset for the next record, so
 * a 2 GB feed never sits in memory.  Pure; not shared between threads.
 *
 * Glossary: an *indicator* is something we can match against the registry
 * (IP, ASN, domain, URL, email); a *product* is a CPE-like vendor/product with
 * a version or version range; *fields* are the original record's columns, kept
 * for the message body (a parser never stores a password in them). */
#ifndef TOCSIN_EVENT_H
#define TOCSIN_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/tlp.h"

/* What kind of finding this is; picks the spear-warning template.  The
 * mapping from feed report types to categories lives in one table in
 * src/lib/category.c, apart from the templates. */
enum tc_category {
	TC_CAT_VULNERABLE_SERVICE,
	TC_CAT_EXPOSED_SERVICE,
	TC_CAT_COMPROMISED_HOST,
	TC_CAT_COMPROMISED_WEBSITE,
	TC_CAT_MALICIOUS_INFRA,
	TC_CAT_LEAKED_CREDENTIALS,
	TC_CAT_VULNERABLE_PRODUCT,
	TC_CAT_OTHER,
	TC_CAT_COUNT
};

enum tc_severity {
	TC_SEV_INFO,
	TC_SEV_LOW,
	TC_SEV_MEDIUM,
	TC_SEV_HIGH,
	TC_SEV_CRITICAL,
};

/* "vulnerable_service", ...: the names used in the DB, JSON and templates. */
const char *tc_category_name(enum tc_category cat);
int tc_category_parse(const char *s, enum tc_category *out);
/* "info" "low" "medium" "high" "critical" (case-insensitive on input). */
const char *tc_severity_name(enum tc_severity sev);
/* CVSS base score → severity (9 critical, 7 high, 4 medium, >0 low);
 * `none` when there is no score (0). */
enum tc_severity tc_severity_from_cvss(double score, enum tc_severity none);
int tc_severity_parse(const char *s, enum tc_severity *out);

enum tc_ind_type {
	TC_IND_IPV4,
	TC_IND_IPV6,
	TC_IND_ASN,
	TC_IND_DOMAIN,
	TC_IND_URL,
	TC_IND_EMAIL,
};

/* One matchable indicator, parsed at the edge into types (see indicator.h):
 * IPv4 in addr[0..3], IPv6 in addr[0..15] (an IPv4-mapped IPv6 address is
 * stored as IPv4); `domain` is the lower-case A-label host of a DOMAIN, URL or
 * EMAIL without trailing dot; `text` is the normalised text form (RFC 5952
 * IPv6, "AS64500", refanged URL, lower-case email). */
struct tc_indicator {
	enum tc_ind_type type;
	uint8_t          family; /* 4 or 6 when addr holds an address (IP
				  * indicators, URLs whose host is an IP) */
	uint8_t          addr[16];
	uint8_t          plen;   /* IP prefix length: 32/128 for an address;
				  * shorter for a listed network (blocklists),
				  * matched by its network address */
	uint32_t         asn;
	char            *domain; /* owned; NULL for IP and ASN */
	char            *text;   /* owned; never NULL */
};

/* A product concerned by the event (CSAF, KEV, CVE, STIX vulnerability).
 * Versions are strings compared with tc_version_cmp() (index_cpe.h); a
 * NULL bound is open.  `version` alone means exactly that version. */
struct tc_product {
	char *vendor;  /* lower-case CPE vendor, or the KEV vendorProject */
	char *product; /* lower-case CPE product, or the KEV product */
	char *cpe;     /* original CPE string if the feed gave one, else NULL */
	char *version; /* exact version, or NULL */
	char *version_start;
	char *version_end;
	bool  start_incl;
	bool  end_incl;
};

/* An original column of the record, for the message body. */
struct tc_field {
	char *key;
	char *value;
};

struct tc_event {
	const char      *format; /* "shadowserver", "misp", ...: static */
	const char      *source; /* file path or feed name: borrowed */
	size_t           line;   /* line (CSV, IOC) or record number (JSON) */
	enum tc_category category;
	enum tc_severity severity;
	enum tc_tlp      tlp;     /* the record's or the feed's label */
	bool             tlp_set; /* false: the feed default applies */
	int64_t          first_seen; /* Unix seconds; 0 unknown */
	int64_t          last_seen;
	char            *report_type; /* "scan_rdp", MISP event info, ... */
	char            *title;       /* advisory title, CVE name, ... */
	char            *url;         /* vendor advisory / reference link */
	bool             exploited;   /* known exploited (KEV) */
	uint16_t         port;        /* 0 unknown */
	char            *protocol;    /* "tcp", ...; NULL unknown */

	struct tc_indicator *ind;
	size_t               n_ind, cap_ind;
	struct tc_product   *prod;
	size_t               n_prod, cap_prod;
	char               **cve; /* "CVE-2024-3400", upper case */
	size_t               n_cve, cap_cve;
	struct tc_field     *field;
	size_t               n_field, cap_field;
};

/* A parser hands each event to this callback, which borrows it.  Returning
 * a negative value stops the parse with that code. */
typedef int (*tc_event_cb)(const struct tc_event *ev, void *arg);
/* A malformed record is reported here (err->msg names file and line) and
 * skipped; the parse goes on.  Returning negative stops the parse. */
typedef int (*tc_event_skip_cb)(const struct tc_err *err, void *arg);

void tc_event_init(struct tc_event *ev);
/* Free everything the event owns and re-init it (keeps format/source). */
void tc_event_reset(struct tc_event *ev);
void tc_event_deinit(struct tc_event *ev);

/* Add an indicator from text; the type is guessed when `hint` is negative,
 * defanged forms are refanged.  Returns 0, or TC_EINPUT (err filled with the
 * reason, without location: the caller prefixes file and line). */
int tc_event_add_indicator(struct tc_event *ev, int hint, const char *s,
    size_t len, struct tc_err *err);
void tc_event_add_field(struct tc_event *ev, const char *key,
    const char *value);
/* Adds "CVE-YYYY-N..." (normalised to upper case); TC_EINPUT if not a CVE. */
int tc_event_add_cve(struct tc_event *ev, const char *cve);
/* Takes ownership of the strings in `p` (which is then zeroed). */
void tc_event_add_product(struct tc_event *ev, struct tc_product *p);
void tc_product_deinit(struct tc_product *p);
/* Replace a string member, e.g. tc_event_set_str(&ev->title, "x"). */
void tc_event_set_str(char **member, const char *value);

#endif

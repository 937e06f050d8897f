/* indicator: parse and normalise indicators at the edge (IP, ASN, domain,
 * URL, email), refanging defanged forms ("hxxp://", "[.]", "(.)", "[@]").
 * Domains become lower-case A-labels (IDN via libidn2 / UTS 46) without a
 * trailing dot; IPv6 text is RFC 5952; an IPv4-mapped IPv6 address becomes an
 * IPv4 address.  Pure; any thread. */
#ifndef TOCSIN_INDICATOR_H
#define TOCSIN_INDICATOR_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/buf.h"
#include "tocsin/event.h"

#define TC_DOMAIN_MAX 253
#define TC_INDICATOR_MAX 4096 /* longest indicator text we accept (URLs) */

/* Parse `len` bytes as an indicator of type `hint` (an enum tc_ind_type), or
 * guess the type when `hint` < 0.  Fills `out` (owned strings: release with
 * tc_indicator_deinit).  Returns 0 or TC_EINPUT with err->msg saying why. */
int tc_indicator_parse(int hint, const char *s, size_t len,
    struct tc_indicator *out, struct tc_err *err);
void tc_indicator_deinit(struct tc_indicator *ind);

/* Copy `len` bytes into `out` with defanging undone. */
void tc_indicator_refang(const char *s, size_t len, struct tc_buf *out);

/* Normalise a domain into `out` (lower-case A-label, no trailing dot, labels
 * 1..63, total <= 253).  Returns 0 or TC_EINPUT. */
int tc_domain_normalise(const char *s, size_t len, struct tc_buf *out,
    struct tc_err *err);

/* Parse an IP address or CIDR prefix: family 4 or 6, address bytes, prefix
 * length (32/128 when absent).  Host bits set in a prefix are an error.
 * An IPv4-mapped IPv6 address/prefix is returned as IPv4. */
int tc_ip_parse_prefix(const char *s, int *family, uint8_t addr[16],
    unsigned *plen, struct tc_err *err);
/* Text form: dotted quad or RFC 5952; "/len" appended when plen is not the
 * full length.  `out` must hold INET6_ADDRSTRLEN + 4 bytes. */
void tc_ip_format(int family, const uint8_t addr[16], unsigned plen,
    char *out, size_t size);

#endif

/* mime: building RFC 5322 / MIME messages — the only way a header is made.
 *
 * A header value from a feed, the registry or an analyst goes through
 * tc_mime_header(): CR, LF, NUL and other control characters are refused,
 * so a value can never start a new header line; non-ASCII text becomes RFC
 * 2047 encoded words (UTF-8, Q or B, each at most 75 characters) and lines
 * are folded at 78.  Bodies are quoted-printable UTF-8 (RFC 2045, with the
 * RFC 3156 rules for signed content: trailing blanks, "From " and a leading
 * dot encoded) or base64; everything uses CRLF.  Pure; any thread. */
#ifndef TOCSIN_MIME_H
#define TOCSIN_MIME_H

#include <stddef.h>
#include <time.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_MIME_HEADER_MAX 998     /* RFC 5322 line limit, unfolded value */
#define TC_MIME_LINE_SOFT 78       /* fold headers before this */
#define TC_MIME_QP_LINE 76         /* RFC 2045 */

/* Append "Name: value\r\n" (folded, encoded as needed) to `out`.
 * `ascii_prefix` (may be NULL) is written literally before the value, e.g.
 * "[TLP:AMBER] [CCB-EWS-2026-000042] ", so filters can match it; it must be
 * printable ASCII.  Returns 0 or TC_EINPUT (err says why: bad name, control
 * character, too long). */
int tc_mime_header(struct tc_buf *out, const char *name,
    const char *ascii_prefix, const char *value, struct tc_err *err);

/* Append "Name: Display Name <addr>\r\n"; the display name is quoted or
 * encoded as needed; the address must be a plain addr-spec (no blanks,
 * quotes, angle brackets, controls).  0 or TC_EINPUT. */
int tc_mime_address(struct tc_buf *out, const char *name,
    const char *display, const char *addr, struct tc_err *err);

/* RFC 5322 date ("Tue, 24 Nov 2026 01:02:03 +0000") for time `t`. */
void tc_mime_date(struct tc_buf *out, time_t t);

/* Quoted-printable of `len` bytes (line ends normalised to CRLF). */
void tc_mime_qp(struct tc_buf *out, const char *s, size_t len);
/* Base64 in lines of 76 characters, CRLF. */
void tc_mime_base64(struct tc_buf *out, const void *data, size_t len);

/* A boundary that does not occur in any of the `n` contents. */
void tc_mime_boundary(char out[48], const char *const *contents, size_t n);

#endif

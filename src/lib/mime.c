/* mime: see include/tocsin/mime.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tocsin/mime.h"
#include "tocsin/str.h"

static const char hexd[] = "0123456789ABCDEF";

static int
name_ok(const char *n)
{
	if (*n == '\0' || strlen(n) > 76)
		return 0;
	for (; *n; n++)
		if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') ||
			(*n >= '0' && *n <= '9') || *n == '-'))
			return 0;
	return 1;
}

static int
value_ok(const char *v, struct tc_err *err)
{
	size_t n = strlen(v);

	if (n > TC_MIME_HEADER_MAX)
		return tc_err_set(err, TC_EINPUT,
		    "header value longer than %d bytes", TC_MIME_HEADER_MAX);
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return tc_err_set(err, TC_EINPUT,
			    "control character 0x%02x in a header value", *c);
	if (!tc_utf8_is_valid(v, n))
		return tc_err_set(err, TC_EINPUT,
		    "header value is not valid UTF-8");
	return 0;
}

static int
is_ascii(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v >= 0x80)
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence starting at s (1 for ASCII). */
static size_t
seq_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Append value as encoded words "=?UTF-8?Q?...?=", each at most 75
 * characters, separated by CRLF SP (folding); never splits a UTF-8
 * sequence across words (RFC 2047 §5). */
static void
encode_words(struct tc_buf *out, const char *v, size_t *col)
{
	const unsigned char *s = (const unsigned char *)v;

	while (*s) {
		struct tc_buf w = TC_BUF_INIT;

		tc_buf_puts(&w, "=?UTF-8?Q?");
		while (*s) {
			size_t n = seq_len(*s), need = 0;

			for (size_t i = 0; i < n; i++) {
				unsigned char c = s[i];

				need += (c == ' ' || (c >= '0' && c <= '9') ||
					    (c >= 'A' && c <= 'Z') ||
					    (c >= 'a' && c <= 'z'))
				    ? 1
				    : 3;
			}
			if (w.len + need + 2 > 75)
				break;
			for (size_t i = 0; i < n; i++) {
				unsigned char c = s[i];

				if (c == ' ')
					tc_buf_putc(&w, '_');
				else if ((c >= '0' && c <= '9') ||
				    (c >= 'A' && c <= 'Z') ||
				    (c >= 'a' && c <= 'z'))
					tc_buf_putc(&w, (char)c);
				else {
					char e[3] = { '=', hexd[c >> 4],
						hexd[c & 15] };
					tc_buf_append(&w, e, 3);
				}
			}
			s += n;
		}
		tc_buf_puts(&w, "?=");
		if (*col + 1 + w.len > TC_MIME_LINE_SOFT) {
			/* The folding blank is the separator: a blank just
			 * written before it would double on unfolding. */
			if (out->len > 0 && out->data[out->len - 1] == ' ')
				out->data[--out->len] = '\0';
			tc_buf_puts(out, "\r\n ");
			*col = 1;
		} else if (*col > 0 && out->len > 0 &&
		    out->data[out->len - 1] != ' ') {
			tc_buf_putc(out, ' ');
			(*col)++;
		}
		tc_buf_append(out, w.data, w.len);
		*col += w.len;
		tc_buf_deinit(&w);
	}
}

/* Plain ASCII value, folded at blanks before TC_MIME_LINE_SOFT. */
static void
fold_ascii(struct tc_buf *out, const char *v, size_t *col)
{
	while (*v) {
		const char *sp = strchr(v, ' ');
		size_t      wl = sp ? (size_t)(sp - v) + 1 : strlen(v);

		if (*col + wl > TC_MIME_LINE_SOFT && *col > 1) {
			/* Fold at the blank already written: unfolding gives
			 * back exactly one blank, never two. */
			if (out->len > 0 && out->data[out->len - 1] == ' ')
				out->data[--out->len] = '\0';
			tc_buf_puts(out, "\r\n ");
			*col = 1;
		}
		tc_buf_append(out, v, wl);
		*col += wl;
		v += wl;
	}
}

int
tc_mime_header(struct tc_buf *out, const char *name,
    const char *ascii_prefix, const char *value, struct tc_err *err)
{
	size_t col;
	int    rc;

	if (!name_ok(name))
		return tc_err_set(err, TC_EINPUT, "\"%s\" is not a header name",
		    name);
	if ((rc = value_ok(value, err)) < 0)
		return rc;
	if (ascii_prefix != NULL) {
		if ((rc = value_ok(ascii_prefix, err)) < 0)
			return rc;
		if (!is_ascii(ascii_prefix))
			return tc_err_set(err, TC_EINPUT,
			    "header prefix must be ASCII");
	}
	tc_buf_printf(out, "%s: ", name);
	col = strlen(name) + 2;
	if (ascii_prefix)
		fold_ascii(out, ascii_prefix, &col);
	/* Plain text unless it is not ASCII, looks like an encoded word,
	 * or could make a line longer than RFC 5322 allows when it has no
	 * blank to fold at (encoded words always fold). */
	if (is_ascii(value) && strstr(value, "=?") == NULL &&
	    col + strlen(value) <= TC_MIME_HEADER_MAX)
		fold_ascii(out, value, &col);
	else
		/* Also encode ASCII text that looks like an encoded word,
		 * so that a reader does not decode what was never encoded. */
		encode_words(out, value, &col);
	tc_buf_puts(out, "\r\n");
	return 0;
}

static int
addr_ok(const char *a)
{
	const char *at = strrchr(a, '@');

	if (at == NULL || at == a || at[1] == '\0' || strlen(a) > 254)
		return 0;
	for (; *a; a++)
		if ((unsigned char)*a <= 0x20 || (unsigned char)*a >= 0x7f ||
		    strchr("<>\"(),;:\\[]", *a) != NULL)
			return 0;
	return 1;
}

int
tc_mime_address(struct tc_buf *out, const char *name, const char *display,
    const char *addr, struct tc_err *err)
{
	struct tc_buf v = TC_BUF_INIT;
	size_t        col;
	int           rc;

	if (!name_ok(name))
		return tc_err_set(err, TC_EINPUT, "\"%s\" is not a header name",
		    name);
	if (!addr_ok(addr))
		return tc_err_set(err, TC_EINPUT,
		    "\"%s\" is not a plain email address", addr);
	if (display != NULL && *display != '\0' &&
	    (rc = value_ok(display, err)) < 0)
		return rc;
	tc_buf_printf(out, "%s: ", name);
	col = strlen(name) + 2;
	if (display != NULL && *display != '\0') {
		size_t quoted = strlen(display) * 2 + 2;

		if (is_ascii(display) && strstr(display, "=?") == NULL &&
		    col + quoted + strlen(addr) + 3 <= TC_MIME_HEADER_MAX) {
			/* A quoted-string: escape \ and ". */
			tc_buf_putc(&v, '"');
			for (const char *c = display; *c; c++) {
				if (*c == '"' || *c == '\\')
					tc_buf_putc(&v, '\\');
				tc_buf_putc(&v, *c);
			}
			tc_buf_putc(&v, '"');
			fold_ascii(out, v.data, &col);
		} else {
			encode_words(out, display, &col);
		}
		tc_buf_putc(out, ' ');
		col++;
	}
	if (col + strlen(addr) + 2 > TC_MIME_LINE_SOFT && col > 1)
		tc_buf_puts(out, "\r\n ");
	tc_buf_printf(out, "<%s>\r\n", addr);
	tc_buf_deinit(&v);
	return 0;
}

void
tc_mime_date(struct tc_buf *out, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	tc_buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
tc_mime_qp(struct tc_buf *out, const char *s, size_t len)
{
	size_t col = 0;

	tc_buf_reserve(out, len + len / 8);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char          enc[3];
		size_t        w;
		int           literal;

		if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue; /* CRLF: the LF emits the line end */
		if (c == '\n' || c == '\r') {
			tc_buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		/* Encode: non-printable, '=', a blank before a line end, "From "
		 * and '.' at a line start (RFC 3156 §3). */
		literal = (c >= 0x20 && c < 0x7f && c != '=') || c == '\t';
		if ((c == ' ' || c == '\t') &&
		    (i + 1 == len || s[i + 1] == '\n' || s[i + 1] == '\r'))
			literal = 0;
		if (col == 0 && (c == '.' || (c == 'F' && len - i >= 5 &&
					      memcmp(s + i, "From ", 5) == 0)))
			literal = 0;
		w = literal ? 1 : 3;
		if (col + w > TC_MIME_QP_LINE - 1) {
			tc_buf_puts(out, "=\r\n");
			col = 0;
			if (c == '.' || (c == 'F' && len - i >= 5 &&
					    memcmp(s + i, "From ", 5) == 0))
				literal = 0, w = 3;
		}
		if (literal) {
			tc_buf_putc(out, (char)c);
		} else {
			enc[0] = '=';
			enc[1] = hexd[c >> 4];
			enc[2] = hexd[c & 15];
			tc_buf_append(out, enc, 3);
		}
		col += w;
	}
}

void
tc_mime_base64(struct tc_buf *out, const void *data, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t               col = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		char     q[4];

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		tc_buf_append(out, q, 4);
		col += 4;
		if (col == 76) {
			tc_buf_puts(out, "\r\n");
			col = 0;
		}
	}
	if (col > 0)
		tc_buf_puts(out, "\r\n");
}

void
tc_mime_boundary(char out[48], const char *const *contents, size_t n)
{
	static atomic_ulong counter;
	static const char   hexd_l[] = "0123456789abcdef";

	for (;;) {
		unsigned char r[12];
		char          rnd[25];
		size_t        got = 0;
		int           clash = 0;

		/* 96 random bits (STANDARDS.md §3.5), and a counter so that
		 * two boundaries of one process never repeat. */
		while (got < sizeof(r)) {
			ssize_t k = getrandom(r + got, sizeof(r) - got, 0);

			if (k > 0)
				got += (size_t)k;
		}
		for (size_t i = 0; i < sizeof(r); i++) {
			rnd[2 * i] = hexd_l[r[i] >> 4];
			rnd[2 * i + 1] = hexd_l[r[i] & 15];
		}
		rnd[24] = '\0';
		/* "=_" cannot occur in quoted-printable or base64 text. */
		snprintf(out, 48, "=_tocsin_%s_%lu", rnd,
		    (unsigned long)atomic_fetch_add(&counter, 1) + 1);
		for (size_t i = 0; i < n && !clash; i++)
			clash = contents[i] && strstr(contents[i], out) != NULL;
		if (!clash)
			return;
	}
}

/* csv: see include/tocsin/csv.h.
 *
 * Design note.  The buffer holds [pos, end) of unread input.  A record is
 * parsed in place: fields are unescaped by writing behind the read cursor
 * (unescaped text is never longer), and each field is NUL-terminated where
 * its delimiter was.  When the record runs past `end`, the unread part is
 * moved to the front, more is read, and the record is parsed again from its
 * start; records longer than TC_CSV_RECORD_MAX are refused rather than
 * growing the buffer without bound. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tocsin/csv.h"
#include "tocsin/mem.h"

struct tc_csv {
	int                 fd; /* -1: memory */
	const char         *name;
	char               *buf;
	size_t              cap, pos, end;
	size_t              consumed; /* bytes before buf[0] */
	size_t              line;     /* line of the next record */
	size_t              rec_line; /* line of the last record */
	int                 eof;
	int                 bom_checked;
	int                 raw; /* lines: no quotes, no splitting */
	atomic_ullong      *progress; /* bytes read, or NULL */
	struct tc_csv_field fields[TC_CSV_FIELDS_MAX];
};

static struct tc_csv *
csv_alloc(const char *name)
{
	struct tc_csv *c = tc_xcalloc(1, sizeof(*c));

	c->name = name;
	c->line = 1;
	c->fd = -1;
	return c;
}

struct tc_csv *
tc_csv_new_fd(int fd, const char *name)
{
	struct tc_csv *c = csv_alloc(name);

	c->fd = fd;
	c->cap = TC_CSV_BUF + TC_CSV_RECORD_MAX + 1;
	c->buf = tc_xmalloc(c->cap);
	return c;
}

struct tc_csv *
tc_csv_new_mem(const char *data, size_t len, const char *name)
{
	struct tc_csv *c = csv_alloc(name);

	/* A private copy: fields are unescaped in place. */
	c->cap = len + 1;
	c->buf = tc_xmalloc(c->cap);
	memcpy(c->buf, data, len);
	c->end = len;
	c->eof = 1;
	return c;
}

void
tc_csv_free(struct tc_csv *c)
{
	if (c == NULL)
		return;
	free(c->buf);
	free(c);
}

void
tc_csv_set_raw(struct tc_csv *c, int raw)
{
	c->raw = raw;
}

size_t
tc_csv_line(const struct tc_csv *c)
{
	return c->rec_line;
}

void
tc_csv_set_progress(struct tc_csv *c, atomic_ullong *bytes)
{
	c->progress = bytes;
}

size_t
tc_csv_offset(const struct tc_csv *c)
{
	return c->consumed + c->pos;
}

/* Move unread bytes to the front and read more.  Returns 1 if bytes were
 * added, 0 at EOF, -errno on error. */
static int
refill(struct tc_csv *c)
{
	ssize_t n;

	if (c->eof)
		return 0;
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->end - c->pos);
		c->consumed += c->pos;
		c->end -= c->pos;
		c->pos = 0;
	}
	if (c->end >= c->cap - 1)
		return 0; /* full: the record is too long */
	do {
		n = read(c->fd, c->buf + c->end, c->cap - 1 - c->end);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0) {
		c->eof = 1;
		return 0;
	}
	c->end += (size_t)n;
	if (c->progress != NULL)
		atomic_fetch_add(c->progress, (unsigned long long)n);
	return 1;
}

/* Find the end of the record at c->pos without touching the bytes: a
 * newline outside quotes ends it ("" toggles twice, so it needs no special
 * case here).  Returns 1 and sets *rec_end (after the newline, or `end` at
 * EOF) and *lines; 0 when more input is needed; -1 for a quote left open at
 * EOF. */
static int
find_end(const struct tc_csv *c, size_t *rec_end, size_t *lines)
{
	const char *p = c->buf + c->pos, *e = c->buf + c->end;
	int         in_q = 0;

	*lines = 0;
	for (; p < e; p++) {
		if (*p == '"' && !c->raw) {
			in_q = !in_q;
		} else if (*p == '\n') {
			(*lines)++;
			if (!in_q) {
				*rec_end = (size_t)(p + 1 - c->buf);
				return 1;
			}
		}
	}
	if (!c->eof)
		return 0;
	if (in_q)
		return -1;
	*rec_end = c->end;
	return 1;
}

/* Split the complete record [c->pos, rec_end) into fields, unescaping in
 * place.  Returns the field count, or -1 (why set) / -2 (too many). */
static int
split(struct tc_csv *c, size_t rec_end, const char **why)
{
	char  *p = c->buf + c->pos, *e = c->buf + rec_end;
	size_t n = 0;

	/* Drop the record's line end: LF or CRLF. */
	if (e > p && e[-1] == '\n')
		e--;
	if (e > p && e[-1] == '\r')
		e--;
	if (c->raw) {
		c->fields[0].s = p;
		c->fields[0].len = (size_t)(e - p);
		*e = '\0';
		return 1;
	}
	for (;;) {
		char *start = p, *w = p;

		if (n == TC_CSV_FIELDS_MAX)
			return -2;
		if (p < e && *p == '"') {
			start = w = ++p;
			for (;;) {
				if (p >= e) {
					*why = "quoted field not closed";
					return -1;
				}
				if (*p == '"') {
					if (p + 1 < e && p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				/* Tolerance: some producers escape a quote
				 * with a backslash (\"), which RFC 4180 does
				 * not know.  Read it as a quote unless it
				 * ends the field ("C:\dir\" stays as is). */
				if (*p == '\\' && p + 2 < e && p[1] == '"' &&
				    p[2] != ',') {
					*w++ = '"';
					p += 2;
					continue;
				}
				*w++ = *p++;
			}
			if (p < e && *p != ',') {
				*why = "text after a closing quote";
				return -1;
			}
		} else {
			while (p < e && *p != ',')
				p++;
			w = p;
		}
		c->fields[n].s = start;
		c->fields[n].len = (size_t)(w - start);
		n++;
		/* NUL-terminate where the delimiter or line end was; the
		 * buffer has a spare byte for the very last field. */
		*w = '\0';
		if (p >= e)
			return (int)n;
		p++; /* the comma */
	}
}

/* Skip to after the next newline (used after a bad record). */
static int
resync(struct tc_csv *c)
{
	for (;;) {
		char *nl = memchr(c->buf + c->pos, '\n', c->end - c->pos);

		if (nl != NULL) {
			c->pos = (size_t)(nl + 1 - c->buf);
			c->line++;
			return 0;
		}
		c->pos = c->end;
		int r = refill(c);

		if (r < 0)
			return r;
		if (r == 0 && c->pos == c->end)
			return 0;
	}
}

int
tc_csv_next(struct tc_csv *c, const struct tc_csv_field **fields, size_t *n,
    struct tc_err *err)
{
	for (;;) {
		size_t      next = 0, lines = 0;
		const char *why = "malformed record";
		int         r, rr, nfields;

		if (!c->bom_checked) {
			if (c->end - c->pos < 3 && !c->eof) {
				if ((rr = refill(c)) < 0)
					return tc_err_set(err, rr, "%s: read: %s",
					    c->name, strerror(-rr));
				continue;
			}
			c->bom_checked = 1;
			if (c->end - c->pos >= 3 &&
			    memcmp(c->buf + c->pos, "\xef\xbb\xbf", 3) == 0)
				c->pos += 3;
		}
		if (c->pos >= c->end) {
			if ((rr = refill(c)) < 0)
				return tc_err_set(err, rr, "%s: read: %s",
				    c->name, strerror(-rr));
			if (rr == 0 && c->pos >= c->end)
				return 0;
		}
		r = find_end(c, &next, &lines);
		if (r == 0) {
			if (c->end - c->pos > TC_CSV_RECORD_MAX) {
				c->rec_line = c->line;
				resync(c);
				return tc_err_set(err, TC_ELIMIT,
				    "%s:%zu: record longer than %d bytes",
				    c->name, c->rec_line, TC_CSV_RECORD_MAX);
			}
			if ((rr = refill(c)) < 0)
				return tc_err_set(err, rr, "%s: read: %s",
				    c->name, strerror(-rr));
			continue;
		}
		c->rec_line = c->line;
		if (r < 0) {
			c->pos = c->end;
			return tc_err_set(err, TC_EINPUT,
			    "%s:%zu: quoted field not closed at the end of the "
			    "file",
			    c->name, c->rec_line);
		}
		nfields = split(c, next, &why);
		c->pos = next;
		c->line += lines;
		if (nfields >= 0) {
			*fields = c->fields;
			*n = (size_t)nfields;
			return 1;
		}
		if (nfields == -2)
			return tc_err_set(err, TC_ELIMIT,
			    "%s:%zu: more than %d fields", c->name, c->rec_line,
			    TC_CSV_FIELDS_MAX);
		return tc_err_set(err, TC_EINPUT, "%s:%zu: %s", c->name,
		    c->rec_line, why);
	}
}

/* csv: a streaming RFC 4180 reader.
 *
 * Reads a file descriptor (or bytes in memory) through one buffer and hands
 * out one record at a time as NUL-terminated fields that point into that
 * buffer, valid until the next call: no allocation per row, so a 2 GB feed
 * streams in constant memory.  Quoted fields may hold commas, "" escapes and
 * newlines; CRLF and LF both end records; a UTF-8 BOM is skipped.  A
 * malformed record is an error naming its line, and the reader resumes at
 * the next line, so the caller can report and skip it.  Pure; one thread. */
#ifndef TOCSIN_CSV_H
#define TOCSIN_CSV_H

#include <stdatomic.h>
#include <stddef.h>

#include "tocsin/err.h"

#define TC_CSV_RECORD_MAX (1024 * 1024) /* bytes of one record */
#define TC_CSV_FIELDS_MAX 512
#define TC_CSV_BUF (1024 * 1024)        /* read size */

struct tc_csv;

struct tc_csv_field {
	const char *s;
	size_t      len;
};

/* Read `fd` (not closed by the reader).  `name` is used in messages. */
struct tc_csv *tc_csv_new_fd(int fd, const char *name);
/* Read `len` bytes at `data` (borrowed until tc_csv_free). */
struct tc_csv *tc_csv_new_mem(const char *data, size_t len, const char *name);
void tc_csv_free(struct tc_csv *c);

/* Next record: 1 with fields and n set, 0 at the end, or a negative TC_E*
 * (err: "name:line: what"); after TC_EINPUT/TC_ELIMIT the bad record is
 * skipped and the next call goes on; after -errno (read error) stop. */
int tc_csv_next(struct tc_csv *c, const struct tc_csv_field **fields,
    size_t *n, struct tc_err *err);
/* Raw mode: every line is one field, quotes mean nothing (IOC lists). */
void tc_csv_set_raw(struct tc_csv *c, int raw);
/* Line on which the last record returned (or refused) started, 1-based. */
size_t tc_csv_line(const struct tc_csv *c);
/* Add every byte read from the descriptor to `*bytes` (borrowed until
 * tc_csv_free; NULL: none), for another thread to watch. */
void tc_csv_set_progress(struct tc_csv *c, atomic_ullong *bytes);
/* Bytes consumed so far (progress). */
size_t tc_csv_offset(const struct tc_csv *c);

#endif

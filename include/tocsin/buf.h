/* buf: a growable, binary-safe byte buffer (data, len, cap), always NUL
 * terminated after `len` so that text can be passed to C string functions.
 * Text built from input lives here.  Pure; not shared between threads. */
#ifndef TOCSIN_BUF_H
#define TOCSIN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct tc_buf {
	char  *data; /* NULL until the first append; then NUL after len */
	size_t len;
	size_t cap;
};

#define TC_BUF_INIT { NULL, 0, 0 }

void tc_buf_init(struct tc_buf *b);
/* Release the memory; the buffer is empty and reusable afterwards. */
void tc_buf_deinit(struct tc_buf *b);
/* Like tc_buf_deinit, but wipes the bytes first (clear bodies, secrets). */
void tc_buf_deinit_secret(struct tc_buf *b);
/* Make room for `extra` more bytes (plus the NUL). */
void tc_buf_reserve(struct tc_buf *b, size_t extra);
void tc_buf_append(struct tc_buf *b, const void *data, size_t len);
void tc_buf_puts(struct tc_buf *b, const char *s);
void tc_buf_putc(struct tc_buf *b, char c);
void tc_buf_printf(struct tc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tc_buf_vprintf(struct tc_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Keep the allocation, drop the content. */
void tc_buf_reset(struct tc_buf *b);
/* Hand the bytes to the caller (free() them); the buffer becomes empty.
 * Never returns NULL: an empty buffer yields "". */
char *tc_buf_steal(struct tc_buf *b, size_t *len);
/* A read-only view: "" for an empty buffer. */
const char *tc_buf_cstr(const struct tc_buf *b);

#endif

/* buf: see include/tocsin/buf.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/buf.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"

void
tc_buf_init(struct tc_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
tc_buf_deinit(struct tc_buf *b)
{
	free(b->data);
	tc_buf_init(b);
}

void
tc_buf_deinit_secret(struct tc_buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	tc_buf_deinit(b);
}

void
tc_buf_reserve(struct tc_buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		tc_fatalx("buffer size overflow");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = tc_xrealloc(b->data, cap);
	if (b->cap == 0)
		b->data[0] = '\0'; /* a new buffer is "" at once */
	b->cap = cap;
}

void
tc_buf_append(struct tc_buf *b, const void *data, size_t len)
{
	tc_buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
tc_buf_puts(struct tc_buf *b, const char *s)
{
	tc_buf_append(b, s, strlen(s));
}

void
tc_buf_putc(struct tc_buf *b, char c)
{
	tc_buf_append(b, &c, 1);
}

void
tc_buf_vprintf(struct tc_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int     n;

	va_copy(ap2, ap);
	tc_buf_reserve(b, 64);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	if (n < 0)
		tc_fatalx("vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		tc_buf_reserve(b, (size_t)n);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
		if (n < 0)
			tc_fatalx("vsnprintf failed");
	}
	va_end(ap2);
	b->len += (size_t)n;
}

void
tc_buf_printf(struct tc_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tc_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
tc_buf_reset(struct tc_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
tc_buf_steal(struct tc_buf *b, size_t *len)
{
	char *p;

	if (b->data == NULL)
		tc_buf_reserve(b, 0), b->data[0] = '\0';
	p = b->data;
	if (len != NULL)
		*len = b->len;
	tc_buf_init(b);
	return p;
}

const char *
tc_buf_cstr(const struct tc_buf *b)
{
	return b->data != NULL ? b->data : "";
}

/* Fuzz target: the MIME header and body encoders.  A header either is
 * refused or is lines of at most 78 characters joined by CRLF followed by a
 * blank (folding): no input can make a second header.  Quoted-printable
 * lines stay within 76 characters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *s, size_t max, int header)
{
	const char *line = s;

	for (const char *c = s; *c; c++) {
		if (*c == '\n' && (c == s || c[-1] != '\r'))
			abort(); /* bare LF */
		if (*c == '\r' && c[1] != '\n')
			abort(); /* bare CR */
		if (*c == '\n') {
			if ((size_t)(c - 1 - line) > max)
				abort();
			/* In a header, every new line is a continuation. */
			if (header && c[1] != '\0' && c[1] != ' ')
				abort();
			line = c + 1;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char         *v = malloc(size + 1);
	struct tc_buf b = TC_BUF_INIT;
	struct tc_err err;

	memcpy(v, data, size);
	v[size] = '\0';
	if (tc_mime_header(&b, "Subject", "[TLP:RED] ", v, &err) == 0)
		check(b.data, 998, 1);
	tc_buf_reset(&b);
	if (tc_mime_address(&b, "To", v, "a@b.example", &err) == 0)
		check(b.data, 998, 1);
	tc_buf_reset(&b);
	tc_mime_qp(&b, (const char *)data, size);
	if (b.data)
		check(b.data, 76, 0);
	tc_buf_deinit(&b);
	free(v);
	return 0;
}

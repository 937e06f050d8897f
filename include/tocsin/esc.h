/* esc: make untrusted text safe to show in a log line or a terminal.
 * Control characters, DEL, backslash and invalid UTF-8 bytes become \xNN, so
 * feed text can never forge a log line or drive a terminal.  Pure. */
#ifndef TOCSIN_ESC_H
#define TOCSIN_ESC_H

#include <stddef.h>

#include "tocsin/buf.h"

/* Append the escaped form of `len` bytes of `s` to `out`. */
void tc_esc_append(struct tc_buf *out, const char *s, size_t len);

/* Escape a NUL-terminated string into a thread-local buffer of at most
 * TC_ESC_MAX bytes (longer input is cut and ends in "...").  Valid until
 * the next tc_esc() call on the same thread; for log arguments. */
#define TC_ESC_MAX 512
const char *tc_esc(const char *s);

#endif

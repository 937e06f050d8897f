/* esc: make untrusted text safe to show in a log line or a terminal.
 * Control characters, DEL, backslash and invalid UTF-8 bytes become \xNN, so
 * feed text can never forge a log line or drive a terminal.  Pure. */
#ifndef TOCSIN_ESC_H
#define TOCSIN_ESC_H

#include <stddef.h>

#include "tocsin/buf.h"

/* Append the escaped form of `len` bytes of `s` to `out`. */
void tc_esc_append(struct tc_buf *out, const char *s, size_t len);

/* Escape a NUL-terminated string into one of TC_ESC_SLOTS thread-local
 * buffers of at most TC_ESC_MAX bytes (longer input is cut and ends in
 * "...").  Valid until TC_ESC_SLOTS more tc_esc() calls on the same thread,
 * so one log line may escape up to that many arguments. */
#define TC_ESC_MAX 512
#define TC_ESC_SLOTS 4
const char *tc_esc(const char *s);

#endif

/* str: bounded string helpers and number parsing.  Pure; any thread. */
#ifndef TOCSIN_STR_H
#define TOCSIN_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy `src` into `dst` of `size` bytes, always NUL-terminated.  Returns 0,
 * or -E2BIG when `src` did not fit (truncation is an error: dst is then ""). */
int tc_strlcpy(char *dst, const char *src, size_t size);

/* Parse a whole decimal string into [min, max].  Returns 0, or TC_EINPUT for
 * empty input, a sign, junk or a value outside the range. */
int tc_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Same, for `len` bytes that need not be NUL-terminated. */
int tc_parse_uint_n(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out);

/* ASCII-only, locale-independent helpers. */
bool tc_str_has_prefix(const char *s, const char *prefix);
bool tc_str_has_suffix(const char *s, const char *suffix);
bool tc_str_case_eq(const char *a, const char *b);
void tc_str_lower(char *s);
/* Trim ASCII blanks in place; returns s advanced past leading blanks. */
char *tc_str_trim(char *s);
/* True when `len` bytes are valid UTF-8 (no overlongs, no surrogates). */
bool tc_utf8_is_valid(const char *s, size_t len);

#endif

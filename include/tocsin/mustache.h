/* mustache: a Mustache template engine (the official spec minus lambdas).
 *
 * A template is compiled once into an immutable tree — so one compiled
 * template can be rendered from many threads — and rendered against a
 * context of jansson values.  Supported: variables (HTML-escaped with
 * {{x}}, raw with {{{x}}} and {{& x}}), dotted names and the implicit
 * iterator, sections, inverted sections, comments, partials with
 * standalone indentation, set delimiters, and the spec's standalone-line
 * whitespace rules.  Two output modes: HTML (escape & < > ") and text (no
 * escaping, but C0 control characters other than tab and newline in values
 * become '?', so a feed value cannot smuggle escape sequences into a mail).
 * Pure; any thread for rendering, one thread while compiling. */
#ifndef TOCSIN_MUSTACHE_H
#define TOCSIN_MUSTACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_MUSTACHE_SIZE_MAX (1024 * 1024) /* template bytes */
#define TC_MUSTACHE_DEPTH_MAX 64           /* nested sections */
#define TC_MUSTACHE_PARTIAL_DEPTH_MAX 16   /* partials within partials */
#define TC_MUSTACHE_OUTPUT_MAX (64 * 1024 * 1024)

struct tc_mustache;

enum tc_mustache_mode { TC_MUSTACHE_HTML, TC_MUSTACHE_TEXT };

/* Looks up a partial by name: returns a compiled template (borrowed for the
 * render) or NULL (a missing partial renders as nothing, per the spec). */
typedef const struct tc_mustache *(*tc_mustache_partial_cb)(const char *name,
    void *arg);

/* Compile `len` bytes; `name` is used in errors ("advisory.txt:12:
 * unclosed section \"hosts\"").  NULL on error with err filled. */
struct tc_mustache *tc_mustache_compile(const char *name, const char *src,
    size_t len, struct tc_err *err);
void tc_mustache_free(struct tc_mustache *t);

/* Render with `ctx` appended to `out`.  Returns 0, or TC_ELIMIT (output or
 * partial depth limit). */
int tc_mustache_render(const struct tc_mustache *t, const json_t *ctx,
    enum tc_mustache_mode mode, tc_mustache_partial_cb partial, void *arg,
    struct tc_buf *out, struct tc_err *err);

#endif

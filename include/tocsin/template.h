/* template: the message templates of a directory templates/<lang>/, loaded
 * and compiled once, rendered into a subject, a text/plain body and a
 * text/html body.
 *
 * Layout: dir/<lang>/<name>.<part>.mustache with part subject, txt or html,
 * and partials in dir/<lang>/partials/<partial>.mustache.  Languages are
 * en fr nl de; every name of tc_template_names must exist in en with its
 * three parts, another language gives all three parts of a name or none
 * (then en is used for that name).  A partial is looked up in the
 * template's own language first, then in en.  The module owns the compiled
 * templates; it never builds the context (the caller does: see README.md,
 * "Templates") and never adds the "[TLP:..] [REF] " subject prefix or any
 * header (mime.c does).  Pure.  Loading runs on one thread; the loaded set is
 * immutable and refcounted, and any thread may render with it. */
#ifndef TOCSIN_TEMPLATE_H
#define TOCSIN_TEMPLATE_H

#include <jansson.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_TEMPLATE_PARTIALS_MAX 64 /* partials per language */
#define TC_TEMPLATE_SUBJECT_MAX 998 /* bytes, RFC 5322 line limit */

/* The template names, NULL-terminated: "advisory", "relay" and
 * "spear-<category>" for every category of event.h. */
extern const char *const tc_template_names[];
#define TC_TEMPLATE_NAMES tc_template_names

struct tc_templates; /* immutable once loaded, refcounted */

struct tc_rendered {
	struct tc_buf subject; /* one line, no CR/LF, without the prefix */
	struct tc_buf text;    /* text/plain body, UTF-8, LF line ends */
	struct tc_buf html;    /* text/html body, a complete HTML document */
	char          lang[3]; /* the language actually used ("en" after
				* fallback) */
};

/* Load and compile every template under `dir`.  A missing en template, an
 * incomplete language, an unreadable or oversized file, or a compile error
 * (which names the file and line) is refused.  Returns a new reference, or
 * NULL with err filled. */
struct tc_templates *tc_templates_load(const char *dir, struct tc_err *err);
/* Take one more reference; returns `t`. */
struct tc_templates *tc_templates_ref(struct tc_templates *t);
/* Drop one reference; the last frees everything.  NULL is a no-op. */
void tc_templates_unref(struct tc_templates *t);

/* Render template `name` in `lang` ("fr" "nl" "de" "en"; NULL or anything
 * else means en; a name the language lacks falls back to en) against the
 * JSON object `ctx`.  The subject is rendered in text mode, then every run
 * of control characters and blanks becomes one space and the ends are
 * trimmed, and a subject over TC_TEMPLATE_SUBJECT_MAX bytes is cut at a
 * UTF-8 boundary and ends in "..."; the text body in text mode, the HTML body
 * in HTML mode.  `out` must have been zeroed or initialised by the caller; its
 * buffers are appended to.  Returns 0, or TC_EINPUT (bad argument, ctx not an
 * object, empty subject), TC_ENOTFOUND (unknown name) or TC_ELIMIT (output or
 * partial depth limit), with err filled and `out` left empty. */
int tc_templates_render(const struct tc_templates *t, const char *name,
    const char *lang, const json_t *ctx, struct tc_rendered *out,
    struct tc_err *err);

/* Wipe the rendered bytes (confidential content), then free them.  The
 * struct is empty and reusable afterwards. */
void tc_rendered_deinit(struct tc_rendered *r);

#endif

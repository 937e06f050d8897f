/* yamldoc: load one YAML document from bytes with libyaml, reporting a
 * syntax error as "name:line:col: YAML: problem context".  Shared by the
 * configuration, registry and advisory file parsers.  Pure; any thread. */
#ifndef TOCSIN_YAMLDOC_H
#define TOCSIN_YAMLDOC_H

#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

/* Returns 0 with `doc` loaded (release with yaml_document_delete), or
 * TC_EINPUT with one line appended to `errors` (may be NULL). */
int tc_yaml_load(const char *name, const char *data, size_t len,
    yaml_document_t *doc, struct tc_buf *errors);

/* Append one error line "name:line:col: field: message\n" (without the
 * position when `n` is NULL, without "field: " when it is NULL or "") to
 * `errors`.  The one format of every YAML parser's errors. */
void tc_yaml_verror(struct tc_buf *errors, const char *name,
    const yaml_node_t *n, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

#endif

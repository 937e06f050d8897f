/* yamldoc: load one YAML document from bytes with libyaml, reporting a
 * syntax error as "name:line:col: YAML: problem context".  Shared by the
 * configuration and the registry file parsers.  Pure; any thread. */
#ifndef TOCSIN_YAMLDOC_H
#define TOCSIN_YAMLDOC_H

#include <stddef.h>
#include <yaml.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

/* Returns 0 with `doc` loaded (release with yaml_document_delete), or
 * TC_EINPUT with one line appended to `errors` (may be NULL). */
int tc_yaml_load(const char *name, const char *data, size_t len,
    yaml_document_t *doc, struct tc_buf *errors);

#endif

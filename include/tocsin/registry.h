/* registry: load the registry from PostgreSQL into an index.
 *
 * Blocking: for tocsinctl and for a pool thread of tocsind with a
 * connection of its own (the result is immutable and can be handed to the
 * loop).  Two queries, streamed row by row into the index builder. */
#ifndef TOCSIN_REGISTRY_H
#define TOCSIN_REGISTRY_H

#include "tocsin/err.h"
#include "tocsin/index.h"

struct tc_db;

/* Returns a new index (one reference) or NULL with err filled. */
struct tc_index *tc_registry_load(struct tc_db *db, struct tc_err *err);

#endif

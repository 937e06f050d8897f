/* registry_db: load the registry into an index.  See registry.h. */
#include <stdlib.h>

#include "tocsin/db.h"
#include "tocsin/registry.h"

struct tc_index *
tc_registry_load(struct tc_db *db, struct tc_err *err)
{
	struct tc_index_builder *b = tc_index_builder_new();
	PGresult                *res;

	res = tc_db_exec(db, "registry",
	    "SELECT id, enterprise_number, name, kind, sector, language "
	    "FROM entity ORDER BY id",
	    0, NULL, err);
	if (res == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++) {
		if (tc_index_builder_entity(b,
			strtoll(PQgetvalue(res, r, 0), NULL, 10),
			PQgetvalue(res, r, 1), PQgetvalue(res, r, 2),
			PQgetvalue(res, r, 3), PQgetvalue(res, r, 4),
			PQgetvalue(res, r, 5), err) < 0) {
			PQclear(res);
			goto fail;
		}
	}
	PQclear(res);
	res = tc_db_exec(db, "registry",
	    "SELECT entity_id, type, coalesce(prefix::text, asn::text, domain, "
	    "cpe) FROM asset ORDER BY entity_id, id",
	    0, NULL, err);
	if (res == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++) {
		if (tc_index_builder_asset(b,
			strtoll(PQgetvalue(res, r, 0), NULL, 10),
			PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), err) < 0) {
			PQclear(res);
			goto fail;
		}
	}
	PQclear(res);
	return tc_index_build(b, err);
fail:
	tc_index_builder_free(b);
	return NULL;
}

/* regfile: the registry import file (tocsinctl entity import).
 *
 * Parses and validates the whole YAML file first, so that every error is
 * reported at once with FILE:LINE:COLUMN and the field path
 * ("entities[2].assets[1].ipv4"), before the database is touched.  Values
 * come out normalised: enterprise numbers as NNNN.NNN.NNN, emails and domains
 * lower-case (IDN as A-labels), fingerprints as 40 upper-case hex digits,
 * prefixes in canonical text, set-valued fields as PostgreSQL array
 * literals.  Each item keeps its line, so a database refusal can be reported
 * against the file.  Pure; any thread. */
#ifndef TOCSIN_REGFILE_H
#define TOCSIN_REGFILE_H

#include <stddef.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_REGFILE_MAX (64 * 1024 * 1024) /* bytes */
#define TC_REGFILE_ENTITIES_MAX 200000
#define TC_REGFILE_ITEMS_MAX 100000 /* contacts or assets per entity */

struct tc_reg_pos {
	size_t line, col;
};

struct tc_reg_contact {
	char             *email, *name, *role, *language, *fingerprint;
	char             *receives; /* "{spear,advisory}" */
	struct tc_reg_pos pos;
};

struct tc_reg_asset {
	char             *type;  /* ipv4 ipv6 asn domain email_domain product */
	char             *value; /* normalised */
	char             *path;  /* "entities[2].assets[1].ipv4" */
	struct tc_reg_pos pos;
};

struct tc_reg_entity {
	char                  *name, *enterprise_number, *kind, *sector,
	    *language;
	struct tc_reg_contact *contacts;
	size_t                 n_contacts;
	struct tc_reg_asset   *assets;
	size_t                 n_assets;
	int                    has_subscription;
	char                  *clearance, *sectors, *categories, *min_severity;
	struct tc_reg_pos      pos;
};

struct tc_reg_authority {
	char             *name, *sectors, *email, *fingerprint, *language,
	    *clearance;
	struct tc_reg_pos pos;
};

struct tc_regfile {
	char                    *name; /* file name, for messages */
	struct tc_reg_entity    *entities;
	size_t                   n_entities;
	struct tc_reg_authority *authorities;
	size_t                   n_authorities;
};

/* Parse and validate.  On error returns NULL, err->code TC_EINPUT, and
 * every problem, one per line, in `errors`. */
struct tc_regfile *tc_regfile_parse(const char *name, const char *data,
    size_t len, struct tc_buf *errors, struct tc_err *err);
void tc_regfile_free(struct tc_regfile *rf);

/* Normalise an enterprise number ("0123456789", "BE0123.456.789",
 * "0123 456 789") to "0123.456.789" into out[13].  0 or TC_EINPUT. */
int tc_regfile_enterprise_number(const char *s, char out[13]);
/* 40 hex digits, spaces allowed, into out[41] upper-case.  0 or TC_EINPUT. */
int tc_regfile_fingerprint(const char *s, char out[41]);

#endif

/* --- storing (regfile_db.c) ----------------------------------------------- */

struct tc_db;

struct tc_regfile_stats {
	unsigned entities_inserted, entities_updated, entities_unchanged;
	unsigned contacts_added, contacts_removed;
	unsigned assets_added, assets_removed;
	unsigned authorities;
};

/* Upsert everything in ONE transaction; on any error nothing is committed
 * and err names the file position and field of the item the database
 * refused ("reg.yaml:14:15: entities[1].assets[0].ipv4: 198.51.100.0/24 is
 * already registered to 0123.456.789").  Writes one audit_log row. */
int tc_regfile_store(struct tc_db *db, const struct tc_regfile *rf,
    const char *actor, struct tc_regfile_stats *stats, struct tc_err *err);

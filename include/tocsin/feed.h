/* feed: turn a feed file into normalised events, whatever its format.
 *
 * One entry point per source (a file, or bytes in memory for tests and the
 * fuzzers) dispatches to the parser of the format, given or detected from the
 * file name and first bytes.  CSV and line formats stream (constant memory
 * for any size); JSON formats are read whole, up to TC_FEED_JSON_MAX.
 * Each event goes to `cb` (borrowed for the call); each malformed record to
 * `skip` with "file:line: why", and the parse goes on.  Pure apart from
 * reading the file; one thread. */
#ifndef TOCSIN_FEED_H
#define TOCSIN_FEED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "tocsin/event.h"

#define TC_FEED_JSON_MAX (256u * 1024 * 1024)
#define TC_FEED_LINE_MAX (64 * 1024)

enum tc_feed_format {
	TC_FEED_AUTO,
	TC_FEED_SHADOWSERVER,
	TC_FEED_MISP,
	TC_FEED_STIX,
	TC_FEED_CSAF,
	TC_FEED_KEV,
	TC_FEED_IOC,
	TC_FEED_CREDS,
	TC_FEED_CVE, /* CVE JSON 5 records */
};

/* How far a parse has gone, written by the parsing thread and read by
 * another one while it runs (tocsind's status): every field is atomic.
 * `bytes` counts what was read from the file (CSV: a buffer ahead of the
 * records; JSON: the whole document before its records), `total` is the
 * file's size once it is open, `records` the events and skipped records
 * handed out so far (match.c). */
struct tc_feed_progress {
	atomic_ullong records;
	atomic_ullong bytes;
	atomic_ullong total;
};

struct tc_feed_opts {
	enum tc_tlp default_tlp; /* for records without a label */
	const char *feed_name;   /* NULL: the file name */
	int         category;    /* an enum tc_category override, or -1 */
	bool        misp_all;    /* MISP: also attributes without to_ids */
	struct tc_feed_progress *progress; /* NULL: not reported */
};

struct tc_feed_stats {
	size_t records; /* rows / objects read */
	size_t events;  /* events handed to cb */
	size_t skipped; /* malformed records reported to skip */
};

/* Everything a parser needs, bundled. */
struct tc_feed_ctx {
	const char                *name; /* file name for messages */
	const struct tc_feed_opts *opts;
	tc_event_cb                cb;
	tc_event_skip_cb           skip;
	void                      *arg;
	struct tc_feed_stats      *st;
};

const char *tc_feed_format_name(enum tc_feed_format f);
int tc_feed_format_parse(const char *s, enum tc_feed_format *out);
/* Guess from the file name and the first bytes of the content. */
enum tc_feed_format tc_feed_detect(const char *name, const char *head,
    size_t len);
void tc_feed_opts_init(struct tc_feed_opts *o);

/* `path` may also be a MISP feed directory (manifest.json plus one
 * <uuid>.json per event).
 * Returns the number of skipped records (>= 0), or a negative TC_E* when
 * the file as a whole could not be read or parsed (err says why, with the
 * file name).  A callback's negative return stops the parse with it. */
int tc_feed_parse_file(const char *path, enum tc_feed_format fmt,
    const struct tc_feed_opts *opts, tc_event_cb cb, tc_event_skip_cb skip,
    void *arg, struct tc_feed_stats *st, struct tc_err *err);
int tc_feed_parse_mem(const char *name, const char *data, size_t len,
    enum tc_feed_format fmt, const struct tc_feed_opts *opts, tc_event_cb cb,
    tc_event_skip_cb skip, void *arg, struct tc_feed_stats *st,
    struct tc_err *err);

/* --- for the format parsers (feed_*.c) ------------------------------------ */

struct tc_csv;
int tc_feed__shadowserver(struct tc_csv *csv, struct tc_feed_ctx *fc,
    struct tc_err *err);
int tc_feed__kev_csv(struct tc_csv *csv, struct tc_feed_ctx *fc,
    struct tc_err *err);
int tc_feed__creds(struct tc_csv *csv, struct tc_feed_ctx *fc,
    struct tc_err *err);
int tc_feed__ioc(struct tc_csv *csv, struct tc_feed_ctx *fc,
    struct tc_err *err);
/* JSON formats: the whole document. */
int tc_feed__kev_json(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err);
int tc_feed__misp(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err);
int tc_feed__stix(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err);
int tc_feed__csaf(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err);
int tc_feed__cve(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err);
/* "<=4.1.5", ">= 2.44.0-rc0, < 2.44.4", "vers:x/>=1|<2" into the bounds
 * of `p`: 0, or -1 when nothing was understood. */
struct tc_product;
int tc_feed__range(const char *s, struct tc_product *p);
/* Report a skipped record; returns what `skip` returned (or 0). */
int tc_feed__skip(struct tc_feed_ctx *fc, const struct tc_err *why);
/* Hand an event over (fills defaults: TLP, category override). */
int tc_feed__emit(struct tc_feed_ctx *fc, struct tc_event *ev);
/* Load a JSON feed document: NULL with err "file:line:col: JSON: why". */
typedef struct json_t json_t;
json_t *tc_feed__json_load(const char *data, size_t len,
    struct tc_feed_ctx *fc, struct tc_err *err);
/* Init an event for this feed: format and source set. */
void tc_feed__event_init(struct tc_event *ev, struct tc_feed_ctx *fc,
    const char *format);
/* Vendor and product names as CPE-like tokens: lower case, blanks to '_'
 * ("Palo Alto Networks" → "palo_alto_networks").  Owned copy; NULL → "". */
char *tc_feed__token(const char *s);
/* "2019-09-12 00:00:00", "2023-04-01T10:00:00Z", "2023-04-01" → Unix s. */
int64_t tc_feed__time(const char *s);

#endif

/* feed: format detection and dispatch.  See include/tocsin/feed.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tocsin/csv.h"
#include "tocsin/esc.h"
#include "tocsin/feed.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

static const char *const format_names[] = {
	[TC_FEED_AUTO] = "auto",
	[TC_FEED_SHADOWSERVER] = "shadowserver",
	[TC_FEED_MISP] = "misp",
	[TC_FEED_STIX] = "stix",
	[TC_FEED_CSAF] = "csaf",
	[TC_FEED_KEV] = "kev",
	[TC_FEED_IOC] = "ioc",
	[TC_FEED_CREDS] = "creds",
	[TC_FEED_CVE] = "cve",
};

const char *
tc_feed_format_name(enum tc_feed_format f)
{
	return f <= TC_FEED_CVE ? format_names[f] : "auto";
}

int
tc_feed_format_parse(const char *s, enum tc_feed_format *out)
{
	for (int i = 0; i <= TC_FEED_CVE; i++)
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum tc_feed_format)i;
			return 0;
		}
	return TC_EINPUT;
}

void
tc_feed_opts_init(struct tc_feed_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->default_tlp = TC_TLP_AMBER;
	o->category = -1;
}

static bool
head_has(const char *head, size_t len, const char *needle)
{
	return memmem(head, len, needle, strlen(needle)) != NULL;
}

enum tc_feed_format
tc_feed_detect(const char *name, const char *head, size_t len)
{
	const char *base = strrchr(name, '/');
	size_t      i = 0;

	base = base ? base + 1 : name;
	while (i < len && (head[i] == ' ' || head[i] == '\n' ||
			      head[i] == '\r' || head[i] == '\t'))
		i++;
	if (len - i >= 3 && memcmp(head + i, "\xef\xbb\xbf", 3) == 0)
		i += 3;
	if (i < len && (head[i] == '{' || head[i] == '[')) {
		if (head_has(head, len, "\"catalogVersion\"") ||
		    head_has(head, len, "\"cveID\""))
			return TC_FEED_KEV;
		if (head_has(head, len, "\"csaf_version\""))
			return TC_FEED_CSAF;
		if (head_has(head, len, "\"CVE_RECORD\"") ||
		    head_has(head, len, "\"cveMetadata\""))
			return TC_FEED_CVE;
		if (head_has(head, len, "\"type\": \"bundle\"") ||
		    head_has(head, len, "\"type\":\"bundle\"") ||
		    head_has(head, len, "\"spec_version\""))
			return TC_FEED_STIX;
		if (head_has(head, len, "\"Event\"") ||
		    head_has(head, len, "\"Attribute\"") ||
		    head_has(head, len, "\"threat_level_id\""))
			return TC_FEED_MISP;
		return TC_FEED_MISP;
	}
	if (head_has(head, len, "cveID,vendorProject"))
		return TC_FEED_KEV;
	if (head_has(head, len, "\"timestamp\"") ||
	    tc_str_has_prefix(head + i, "timestamp,"))
		return TC_FEED_SHADOWSERVER;
	if (strstr(base, "cred") || strstr(base, "leak") ||
	    strstr(base, "combo"))
		return TC_FEED_CREDS;
	return TC_FEED_IOC;
}

json_t *
tc_feed__json_load(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	json_error_t je;
	json_t      *root = json_loadb(data, len, 0, &je);

	if (root == NULL)
		tc_err_set(err, TC_EINPUT, "%s:%d:%d: JSON: %s", fc->name,
		    je.line, je.column, je.text);
	return root;
}

void
tc_feed__event_init(struct tc_event *ev, struct tc_feed_ctx *fc,
    const char *format)
{
	tc_event_init(ev);
	ev->format = format;
	ev->source = fc->opts->feed_name ? fc->opts->feed_name : fc->name;
}

char *
tc_feed__token(const char *s)
{
	char *t = tc_xstrdup(s ? s : "");

	for (char *c = t; *c; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
		else if (*c == ' ')
			*c = '_';
	}
	return t;
}

int64_t
tc_feed__time(const char *s)
{
	struct tm   tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	if ((rest = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL &&
	    (rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL) {
		memset(&tm, 0, sizeof(tm));
		if ((rest = strptime(s, "%Y-%m-%d", &tm)) == NULL)
			return 0;
	}
	/* Fractions and a Z or +00:00 zone are accepted; other offsets are
	 * rare in feeds and read as UTC. */
	return (int64_t)timegm(&tm);
}

int
tc_feed__skip(struct tc_feed_ctx *fc, const struct tc_err *why)
{
	fc->st->skipped++;
	return fc->skip ? fc->skip(why, fc->arg) : 0;
}

int
tc_feed__emit(struct tc_feed_ctx *fc, struct tc_event *ev)
{
	if (!ev->tlp_set)
		ev->tlp = fc->opts->default_tlp;
	if (fc->opts->category >= 0)
		ev->category = (enum tc_category)fc->opts->category;
	fc->st->events++;
	return fc->cb(ev, fc->arg);
}

static int
parse_csv_family(struct tc_csv *csv, enum tc_feed_format fmt,
    struct tc_feed_ctx *fc, struct tc_err *err)
{
	switch (fmt) {
	case TC_FEED_SHADOWSERVER:
		return tc_feed__shadowserver(csv, fc, err);
	case TC_FEED_KEV:
		return tc_feed__kev_csv(csv, fc, err);
	case TC_FEED_CREDS:
		tc_csv_set_raw(csv, 1);
		return tc_feed__creds(csv, fc, err);
	default:
		tc_csv_set_raw(csv, 1);
		return tc_feed__ioc(csv, fc, err);
	}
}

static int
parse_json_family(const char *data, size_t len, enum tc_feed_format fmt,
    struct tc_feed_ctx *fc, struct tc_err *err)
{
	switch (fmt) {
	case TC_FEED_KEV:
		return tc_feed__kev_json(data, len, fc, err);
	case TC_FEED_STIX:
		return tc_feed__stix(data, len, fc, err);
	case TC_FEED_CSAF:
		return tc_feed__csaf(data, len, fc, err);
	case TC_FEED_CVE:
		return tc_feed__cve(data, len, fc, err);
	default:
		return tc_feed__misp(data, len, fc, err);
	}
}

static bool
is_json(const char *head, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(head, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (head[i] == ' ' || head[i] == '\n' ||
			      head[i] == '\r' || head[i] == '\t'))
		i++;
	return i < len && (head[i] == '{' || head[i] == '[');
}

static int
finish(int rc, struct tc_feed_stats *st)
{
	return rc < 0 ? rc : (int)(st->skipped > 0x7fffffff ? 0x7fffffff
							     : st->skipped);
}

/* Feeds are text: a NUL byte among the first bytes means binary content
 * (an image, an archive, UTF-16, junk), refused as a whole rather than read
 * as thousands of malformed lines. */
static int
refuse_binary(const char *name, const char *head, size_t len,
    struct tc_err *err)
{
	const char *nul = memchr(head, '\0', len);

	if (nul == NULL)
		return 0;
	return tc_err_set(err, TC_EINPUT,
	    "%s: binary content (NUL byte at offset %zu): not a text feed",
	    name, (size_t)(nul - head));
}

int
tc_feed_parse_mem(const char *name, const char *data, size_t len,
    enum tc_feed_format fmt, const struct tc_feed_opts *opts, tc_event_cb cb,
    tc_event_skip_cb skip, void *arg, struct tc_feed_stats *st,
    struct tc_err *err)
{
	struct tc_feed_stats local;
	struct tc_feed_ctx   fc = { name, opts, cb, skip, arg, st ? st : &local };
	int                  rc;

	memset(fc.st, 0, sizeof(*fc.st));
	if ((rc = refuse_binary(name, data, len < 4096 ? len : 4096, err)) < 0)
		return rc;
	if (fmt == TC_FEED_AUTO)
		fmt = tc_feed_detect(name, data, len < 4096 ? len : 4096);
	if (is_json(data, len < 64 ? len : 64) &&
	    (fmt == TC_FEED_KEV || fmt == TC_FEED_MISP ||
		fmt == TC_FEED_STIX || fmt == TC_FEED_CSAF || fmt == TC_FEED_CVE)) {
		if (len > TC_FEED_JSON_MAX)
			return tc_err_set(err, TC_ELIMIT,
			    "%s: JSON feed larger than %u bytes", name,
			    TC_FEED_JSON_MAX);
		rc = parse_json_family(data, len, fmt, &fc, err);
	} else if (fmt == TC_FEED_MISP || fmt == TC_FEED_STIX ||
	    fmt == TC_FEED_CSAF || fmt == TC_FEED_CVE) {
		return tc_err_set(err, TC_EINPUT, "%s: not a JSON document",
		    name);
	} else {
		struct tc_csv *csv = tc_csv_new_mem(data, len, name);

		rc = parse_csv_family(csv, fmt, &fc, err);
		tc_csv_free(csv);
	}
	return finish(rc, fc.st);
}

/* A MISP feed directory: manifest.json lists the events, each in
 * <uuid>.json beside it.  Each event file is parsed as a MISP event; a
 * missing or broken one is reported and skipped, the others go on. */
static int
parse_misp_dir(const char *dir, struct tc_feed_ctx *fc, struct tc_err *err)
{
	struct tc_buf path = TC_BUF_INIT, data = TC_BUF_INIT;
	json_t       *manifest, *v;
	json_error_t  je;
	const char   *uuid;
	int           rc = 0;

	tc_buf_printf(&path, "%s/manifest.json", dir);
	manifest = json_load_file(path.data, 0, &je);
	if (manifest == NULL || !json_is_object(manifest)) {
		rc = tc_err_set(err, TC_EINPUT, "%s: %s", path.data,
		    manifest ? "not an object of events" : je.text);
		json_decref(manifest);
		tc_buf_deinit(&path);
		return rc;
	}
	json_object_foreach(manifest, uuid, v)
	{
		struct tc_err e2;
		int           fd;
		ssize_t       n;
		char          chunk[65536];
		bool          ok = true;

		/* A manifest names files: nothing but a UUID may reach a
		 * path. */
		for (const char *c = uuid; *c; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') ||
				(*c >= 'A' && *c <= 'F') || *c == '-'))
				ok = false;
		tc_buf_reset(&path);
		tc_buf_printf(&path, "%s/%s.json", dir, uuid);
		if (!ok || strlen(uuid) > 64) {
			tc_err_set(&e2, TC_EINPUT,
			    "%s/manifest.json: \"%s\" is not an event UUID", dir,
			    tc_esc(uuid));
			if ((rc = tc_feed__skip(fc, &e2)) < 0)
				break;
			continue;
		}
		fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			tc_err_set(&e2, -errno, "%s: %s", path.data,
			    strerror(errno));
			if ((rc = tc_feed__skip(fc, &e2)) < 0)
				break;
			continue;
		}
		tc_buf_reset(&data);
		while ((n = read(fd, chunk, sizeof(chunk))) > 0 &&
		    data.len <= TC_FEED_JSON_MAX)
			tc_buf_append(&data, chunk, (size_t)n);
		close(fd);
		fc->name = path.data;
		if (tc_feed__misp(tc_buf_cstr(&data), data.len, fc, &e2) < 0 &&
		    (rc = tc_feed__skip(fc, &e2)) < 0)
			break;
	}
	fc->name = dir;
	json_decref(manifest);
	tc_buf_deinit(&path);
	tc_buf_deinit(&data);
	return rc < 0 ? rc : 0;
}

int
tc_feed_parse_file(const char *path, enum tc_feed_format fmt,
    const struct tc_feed_opts *opts, tc_event_cb cb, tc_event_skip_cb skip,
    void *arg, struct tc_feed_stats *st, struct tc_err *err)
{
	struct tc_feed_stats local;
	struct tc_feed_ctx   fc = { path, opts, cb, skip, arg, st ? st : &local };
	char                 head[4096];
	ssize_t              n;
	struct stat          sb;
	int                  fd, rc;

	memset(fc.st, 0, sizeof(*fc.st));
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (fmt != TC_FEED_AUTO && fmt != TC_FEED_MISP)
			return tc_err_set(err, TC_EINPUT,
			    "%s: a directory is read only as a MISP feed", path);
		return finish(parse_misp_dir(path, &fc, err), fc.st);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return tc_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return tc_err_set(err, TC_EINPUT, "%s: not a regular file", path);
	}
	if (opts != NULL && opts->progress != NULL)
		atomic_store(&opts->progress->total,
		    (unsigned long long)sb.st_size);
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0) {
		rc = tc_err_set(err, -errno, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if ((rc = refuse_binary(path, head, (size_t)n, err)) < 0) {
		close(fd);
		return rc;
	}
	if (fmt == TC_FEED_AUTO)
		fmt = tc_feed_detect(path, head, (size_t)n);
	if (is_json(head, (size_t)n) &&
	    (fmt == TC_FEED_KEV || fmt == TC_FEED_MISP ||
		fmt == TC_FEED_STIX || fmt == TC_FEED_CSAF || fmt == TC_FEED_CVE)) {
		struct tc_buf data = TC_BUF_INIT;
		char          chunk[65536];
		ssize_t       r;

		if ((uint64_t)sb.st_size > TC_FEED_JSON_MAX) {
			close(fd);
			return tc_err_set(err, TC_ELIMIT,
			    "%s: JSON feed larger than %u bytes", path,
			    TC_FEED_JSON_MAX);
		}
		while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
			tc_buf_append(&data, chunk, (size_t)r);
			if (opts != NULL && opts->progress != NULL)
				atomic_fetch_add(&opts->progress->bytes,
				    (unsigned long long)r);
		}
		close(fd);
		rc = parse_json_family(tc_buf_cstr(&data), data.len, fmt, &fc,
		    err);
		tc_buf_deinit(&data);
	} else if (fmt == TC_FEED_MISP || fmt == TC_FEED_STIX ||
	    fmt == TC_FEED_CSAF || fmt == TC_FEED_CVE) {
		close(fd);
		return tc_err_set(err, TC_EINPUT, "%s: not a JSON document",
		    path);
	} else {
		struct tc_csv *csv = tc_csv_new_fd(fd, path);

		if (opts != NULL && opts->progress != NULL)
			tc_csv_set_progress(csv, &opts->progress->bytes);

		rc = parse_csv_family(csv, fmt, &fc, err);
		tc_csv_free(csv);
		close(fd);
	}
	return finish(rc, fc.st);
}

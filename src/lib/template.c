/* template: see include/tocsin/template.h.
 *
 * The set is a fixed grid: language × name × part, plus a small list of
 * partials per language.  A cell left NULL in a language other than en means
 * "use en for this name", decided per name so that a message never mixes two
 * languages between its subject and its bodies.  A partial that a template
 * names but no language provides would render as nothing (the Mustache
 * rule), which would silently drop the TLP banner: rendering refuses it, and
 * loading tries every template once against an empty context so that a
 * misspelt top-level partial is caught before the first message. */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tocsin/esc.h"
#include "tocsin/event.h"
#include "tocsin/mem.h"
#include "tocsin/mustache.h"
#include "tocsin/str.h"
#include "tocsin/template.h"

#define PATH_LEN 4096
#define SUFFIX ".mustache"

enum { PART_SUBJECT, PART_TXT, PART_HTML, PART_COUNT };
#define N_NAMES (TC_CAT_COUNT + 2)
#define N_LANGS 4

/* Same order as enum tc_category after the first two; test_template checks
 * it against tc_category_name(). */
const char *const tc_template_names[] = {
	"advisory",
	"relay",
	"spear-vulnerable_service",
	"spear-exposed_service",
	"spear-compromised_host",
	"spear-compromised_website",
	"spear-malicious_infra",
	"spear-leaked_credentials",
	"spear-vulnerable_product",
	"spear-other",
	NULL,
};

static const char *const part_ext[PART_COUNT] = { "subject", "txt", "html" };
static const char *const langs[N_LANGS] = { "en", "fr", "nl", "de" };

struct partial {
	char               *name;
	struct tc_mustache *m;
};

struct lang_set {
	struct tc_mustache *tpl[N_NAMES][PART_COUNT]; /* row all NULL: absent */
	struct partial      part[TC_TEMPLATE_PARTIALS_MAX];
	size_t              n_part;
};

struct tc_templates {
	atomic_uint     refs;
	struct lang_set lang[N_LANGS];
};

struct partial_ctx {
	const struct tc_templates *t;
	size_t                     lang;
	const char                *missing; /* first partial not found */
};

/* Read a whole template file.  Returns 1 read, 0 absent, or a TC_E*. */
static int
read_file(const char *path, struct tc_buf *out, struct tc_err *err)
{
	FILE       *f = fopen(path, "re");
	struct stat st;
	size_t      n;
	int         rc = 1;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return tc_err_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	if (fstat(fileno(f), &st) != 0) {
		rc = tc_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = tc_err_set(err, TC_EINPUT, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > TC_MUSTACHE_SIZE_MAX) {
		rc = tc_err_set(err, TC_ELIMIT, "%s: larger than %d bytes",
		    path, TC_MUSTACHE_SIZE_MAX);
		goto out;
	}
	tc_buf_reserve(out, (size_t)st.st_size + 1);
	while ((n = fread(out->data + out->len, 1, out->cap - out->len - 1,
		    f)) > 0) {
		out->len += n;
		out->data[out->len] = '\0';
		if (out->len > TC_MUSTACHE_SIZE_MAX) {
			rc = tc_err_set(err, TC_ELIMIT,
			    "%s: larger than %d bytes", path,
			    TC_MUSTACHE_SIZE_MAX);
			goto out;
		}
		if (out->cap - out->len - 1 == 0)
			tc_buf_reserve(out, 4096);
	}
	if (ferror(f))
		rc = tc_err_set(err, TC_EINPUT, "%s: read error", path);
out:
	fclose(f);
	return rc;
}

/* Compile one file.  Returns 1 compiled (*m set), 0 absent, or a TC_E*. */
static int
compile_file(const char *path, struct tc_mustache **m, struct tc_err *err)
{
	struct tc_buf src = TC_BUF_INIT;
	int           rc;

	*m = NULL;
	rc = read_file(path, &src, err);
	if (rc <= 0)
		goto out;
	*m = tc_mustache_compile(path, tc_buf_cstr(&src), src.len, err);
	if (*m == NULL)
		rc = err != NULL && err->code < 0 ? err->code : TC_EINPUT;
out:
	tc_buf_deinit(&src);
	return rc;
}

static bool
partial_name_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '-'))
			return false;
	return true;
}

static int
load_partials(const char *dir, size_t li, struct lang_set *ls,
    struct tc_err *err)
{
	char           pdir[PATH_LEN], path[PATH_LEN];
	DIR           *d;
	struct dirent *de;
	int            n, rc = 0;

	n = snprintf(pdir, sizeof(pdir), "%s/%s/partials", dir, langs[li]);
	if (n < 0 || (size_t)n >= sizeof(pdir))
		return tc_err_set(err, TC_ELIMIT, "%s: path too long", dir);
	d = opendir(pdir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return tc_err_set(err, -errno, "%s: %s", pdir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		size_t              len = strlen(de->d_name);
		struct tc_mustache *m;

		if (!tc_str_has_suffix(de->d_name, SUFFIX) ||
		    de->d_name[0] == '.')
			continue;
		len -= strlen(SUFFIX);
		if (!partial_name_ok(de->d_name, len)) {
			rc = tc_err_set(err, TC_EINPUT,
			    "%s/%s: a partial's name is letters, digits, _ "
			    "and - only",
			    pdir, de->d_name);
			goto out;
		}
		if (ls->n_part == TC_TEMPLATE_PARTIALS_MAX) {
			rc = tc_err_set(err, TC_ELIMIT,
			    "%s: more than %d partials", pdir,
			    TC_TEMPLATE_PARTIALS_MAX);
			goto out;
		}
		n = snprintf(path, sizeof(path), "%s/%s", pdir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			rc = tc_err_set(err, TC_ELIMIT, "%s: path too long",
			    pdir);
			goto out;
		}
		rc = compile_file(path, &m, err);
		if (rc < 0)
			goto out;
		if (rc == 0) /* vanished between readdir and open */
			continue;
		ls->part[ls->n_part].name = tc_xstrndup(de->d_name, len);
		ls->part[ls->n_part].m = m;
		ls->n_part++;
		rc = 0;
	}
out:
	closedir(d);
	return rc;
}

static const struct tc_mustache *
find_partial(const struct lang_set *ls, const char *name)
{
	for (size_t i = 0; i < ls->n_part; i++)
		if (strcmp(ls->part[i].name, name) == 0)
			return ls->part[i].m;
	return NULL;
}

static const struct tc_mustache *
lookup_partial(const char *name, void *arg)
{
	struct partial_ctx       *pc = arg;
	const struct tc_mustache *m;

	m = find_partial(&pc->t->lang[pc->lang], name);
	if (m == NULL && pc->lang != 0)
		m = find_partial(&pc->t->lang[0], name);
	if (m == NULL && pc->missing == NULL)
		pc->missing = name;
	return m;
}

/* Render one part; a partial that no language has is an error. */
static int
render_part(const struct tc_templates *t, size_t li,
    const struct tc_mustache *m, const json_t *ctx, enum tc_mustache_mode mode,
    struct tc_buf *out, const char *what, struct tc_err *err)
{
	struct partial_ctx pc = { t, li, NULL };
	int                rc;

	rc = tc_mustache_render(m, ctx, mode, lookup_partial, &pc, out, err);
	if (rc < 0)
		return rc;
	if (pc.missing != NULL)
		return tc_err_set(err, TC_ENOTFOUND,
		    "%s: partial \"%s\" not found in %s or en", what,
		    pc.missing, langs[li]);
	return 0;
}

/* Load the names of one language.  en must have everything; another
 * language has all three parts of a name or none. */
static int
load_lang(const char *dir, size_t li, struct lang_set *ls, struct tc_err *err)
{
	char path[PATH_LEN];
	int  rc;

	for (size_t ni = 0; ni < N_NAMES; ni++) {
		int found = 0, missing = -1;

		for (size_t p = 0; p < PART_COUNT; p++) {
			rc = snprintf(path, sizeof(path), "%s/%s/%s.%s%s", dir,
			    langs[li], tc_template_names[ni], part_ext[p],
			    SUFFIX);
			if (rc < 0 || (size_t)rc >= sizeof(path))
				return tc_err_set(err, TC_ELIMIT,
				    "%s: path too long", dir);
			rc = compile_file(path, &ls->tpl[ni][p], err);
			if (rc < 0)
				return rc;
			if (rc == 1)
				found++;
			else if (missing < 0)
				missing = (int)p;
		}
		if (found == PART_COUNT || (found == 0 && li != 0))
			continue;
		rc = snprintf(path, sizeof(path), "%s/%s/%s.%s%s", dir,
		    langs[li], tc_template_names[ni], part_ext[missing],
		    SUFFIX);
		if (rc < 0 || (size_t)rc >= sizeof(path))
			return tc_err_set(err, TC_ELIMIT, "%s: path too long",
			    dir);
		return tc_err_set(err, TC_ENOTFOUND, "%s: missing (%s)", path,
		    li == 0 ? "every template must exist in en"
			    : "a language gives all three parts of a name "
			      "or none");
	}
	return load_partials(dir, li, ls, err);
}

/* Render every template once against {} so that a top-level partial that
 * does not exist is found now rather than when a warning is due. */
static int
check_partials(const struct tc_templates *t, const char *dir,
    struct tc_err *err)
{
	json_t *empty = json_object();
	int     rc = 0;

	for (size_t li = 0; li < N_LANGS && rc == 0; li++)
		for (size_t ni = 0; ni < N_NAMES && rc == 0; ni++)
			for (size_t p = 0; p < PART_COUNT && rc == 0; p++) {
				const struct tc_mustache *m =
				    t->lang[li].tpl[ni][p];
				struct tc_buf b = TC_BUF_INIT;
				char          what[PATH_LEN];
				int           n;

				if (m == NULL)
					continue;
				n = snprintf(what, sizeof(what),
				    "%s/%s/%s.%s%s", dir, langs[li],
				    tc_template_names[ni], part_ext[p], SUFFIX);
				if (n < 0 || (size_t)n >= sizeof(what))
					what[0] = '\0';
				rc = render_part(t, li, m, empty,
				    p == PART_HTML ? TC_MUSTACHE_HTML
						   : TC_MUSTACHE_TEXT,
				    &b, what, err);
				tc_buf_deinit(&b);
			}
	json_decref(empty);
	return rc;
}

static void
templates_free(struct tc_templates *t)
{
	for (size_t li = 0; li < N_LANGS; li++) {
		struct lang_set *ls = &t->lang[li];

		for (size_t ni = 0; ni < N_NAMES; ni++)
			for (size_t p = 0; p < PART_COUNT; p++)
				tc_mustache_free(ls->tpl[ni][p]);
		for (size_t i = 0; i < ls->n_part; i++) {
			free(ls->part[i].name);
			tc_mustache_free(ls->part[i].m);
		}
	}
	free(t);
}

struct tc_templates *
tc_templates_load(const char *dir, struct tc_err *err)
{
	struct tc_templates *t;
	struct stat          st;

	if (dir == NULL || *dir == '\0') {
		tc_err_set(err, TC_EINPUT, "templates: no directory given");
		return NULL;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		tc_err_set(err, TC_ENOTFOUND, "%s: not a directory", dir);
		return NULL;
	}
	t = tc_xcalloc(1, sizeof(*t));
	atomic_init(&t->refs, 1);
	for (size_t li = 0; li < N_LANGS; li++)
		if (load_lang(dir, li, &t->lang[li], err) < 0)
			goto fail;
	if (check_partials(t, dir, err) < 0)
		goto fail;
	return t;
fail:
	templates_free(t);
	return NULL;
}

struct tc_templates *
tc_templates_ref(struct tc_templates *t)
{
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

void
tc_templates_unref(struct tc_templates *t)
{
	if (t == NULL)
		return;
	if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
		templates_free(t);
}

/* Append `in` to `out` as one line: runs of control characters and blanks
 * become one space, the ends are trimmed, and a line longer than
 * TC_TEMPLATE_SUBJECT_MAX is cut at a UTF-8 boundary and ends in "...". */
static void
subject_line(const struct tc_buf *in, struct tc_buf *out)
{
	bool space = false;

	for (size_t i = 0; i < in->len; i++) {
		unsigned char c = (unsigned char)in->data[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			space = true;
			continue;
		}
		if (space && out->len > 0)
			tc_buf_putc(out, ' ');
		space = false;
		tc_buf_putc(out, (char)c);
	}
	if (out->len > TC_TEMPLATE_SUBJECT_MAX) {
		size_t n = TC_TEMPLATE_SUBJECT_MAX - 3;

		while (n > 0 && ((unsigned char)out->data[n] & 0xc0) == 0x80)
			n--; /* do not split a UTF-8 sequence */
		while (n > 0 && out->data[n - 1] == ' ')
			n--;
		out->len = n;
		out->data[n] = '\0';
		tc_buf_puts(out, "...");
	}
}

static int
lang_index(const char *lang)
{
	if (lang == NULL)
		return 0;
	for (size_t i = 0; i < N_LANGS; i++)
		if (tc_str_case_eq(lang, langs[i]))
			return (int)i;
	return 0;
}

int
tc_templates_render(const struct tc_templates *t, const char *name,
    const char *lang, const json_t *ctx, struct tc_rendered *out,
    struct tc_err *err)
{
	struct tc_buf subj = TC_BUF_INIT;
	size_t        ni, li;
	int           rc;

	if (t == NULL || name == NULL || out == NULL)
		return tc_err_set(err, TC_EINPUT, "templates: bad argument");
	if (!json_is_object(ctx))
		return tc_err_set(err, TC_EINPUT,
		    "template %s: the context is not a JSON object", name);
	for (ni = 0; ni < N_NAMES; ni++)
		if (strcmp(tc_template_names[ni], name) == 0)
			break;
	if (ni == N_NAMES)
		return tc_err_set(err, TC_ENOTFOUND, "no template \"%s\"",
		    tc_esc(name));
	li = (size_t)lang_index(lang);
	if (t->lang[li].tpl[ni][PART_SUBJECT] == NULL)
		li = 0; /* the whole name falls back to en */

	rc = render_part(t, li, t->lang[li].tpl[ni][PART_SUBJECT], ctx,
	    TC_MUSTACHE_TEXT, &subj, name, err);
	if (rc < 0)
		goto out;
	subject_line(&subj, &out->subject);
	if (out->subject.len == 0) {
		rc = tc_err_set(err, TC_EINPUT,
		    "template %s (%s): empty subject", name, langs[li]);
		goto out;
	}
	rc = render_part(t, li, t->lang[li].tpl[ni][PART_TXT], ctx,
	    TC_MUSTACHE_TEXT, &out->text, name, err);
	if (rc < 0)
		goto out;
	rc = render_part(t, li, t->lang[li].tpl[ni][PART_HTML], ctx,
	    TC_MUSTACHE_HTML, &out->html, name, err);
	if (rc < 0)
		goto out;
	rc = tc_strlcpy(out->lang, langs[li], sizeof(out->lang));
out:
	tc_buf_deinit_secret(&subj);
	if (rc < 0)
		tc_rendered_deinit(out);
	return rc;
}

void
tc_rendered_deinit(struct tc_rendered *r)
{
	if (r == NULL)
		return;
	tc_buf_deinit_secret(&r->subject);
	tc_buf_deinit_secret(&r->text);
	tc_buf_deinit_secret(&r->html);
	memset(r->lang, 0, sizeof(r->lang));
}

/* index_cpe: version comparison for product matching.
 * See include/tocsin/index.h. */
#include <string.h>
#include <strings.h>

#include "tocsin/index.h"

static const char *const pre_release[] = { "dev", "a", "alpha", "b", "beta",
	"pre", "preview", "rc", "cr", "m", "snapshot", NULL };

static int
is_sep(char c)
{
	return c == '.' || c == '-' || c == '_' || c == '+' || c == '~' ||
	    c == ' ';
}

/* Next token of a version: a run of digits or a run of letters. */
static const char *
token(const char *s, const char **start, size_t *len, int *numeric)
{
	while (*s && is_sep(*s))
		s++;
	*start = s;
	if (*s >= '0' && *s <= '9') {
		while (*s >= '0' && *s <= '9')
			s++;
		*numeric = 1;
	} else {
		while (*s && !is_sep(*s) && !(*s >= '0' && *s <= '9'))
			s++;
		*numeric = 0;
	}
	*len = (size_t)(s - *start);
	return s;
}

static int
is_pre(const char *t, size_t len)
{
	for (int i = 0; pre_release[i]; i++)
		if (strlen(pre_release[i]) == len &&
		    strncasecmp(t, pre_release[i], len) == 0)
			return 1;
	return 0;
}

static int
num_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	while (al > 1 && *a == '0')
		a++, al--;
	while (bl > 1 && *b == '0')
		b++, bl--;
	if (al != bl)
		return al < bl ? -1 : 1;
	return memcmp(a, b, al);
}

int
tc_version_cmp(const char *a, const char *b)
{
	for (;;) {
		const char *ta, *tb;
		size_t      la, lb;
		int         na, nb, c;

		a = token(a, &ta, &la, &na);
		b = token(b, &tb, &lb, &nb);
		if (la == 0 && lb == 0)
			return 0;
		if (la == 0) /* a ended: a pre-release suffix of b is older */
			return nb ? -1 : (is_pre(tb, lb) ? 1 : -1);
		if (lb == 0)
			return na ? 1 : (is_pre(ta, la) ? -1 : 1);
		if (na && nb) {
			if ((c = num_cmp(ta, la, tb, lb)) != 0)
				return c;
			continue;
		}
		if (na != nb) /* number vs letters: pre-release is older */
			return na ? (is_pre(tb, lb) ? 1 : -1)
				  : (is_pre(ta, la) ? -1 : 1);
		/* Both letters. */
		if (is_pre(ta, la) != is_pre(tb, lb))
			return is_pre(ta, la) ? -1 : 1;
		c = strncasecmp(ta, tb, la < lb ? la : lb);
		if (c != 0)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
	}
}

static int
unversioned(const char *v)
{
	return v == NULL || *v == '\0' || strcmp(v, "*") == 0 ||
	    strcmp(v, "-") == 0;
}

int
tc_version_in(const char *version, const struct tc_product *p)
{
	if (unversioned(version))
		return 1;
	if (!unversioned(p->version) && p->version_start == NULL &&
	    p->version_end == NULL)
		return tc_version_cmp(version, p->version) == 0;
	if (p->version_start != NULL) {
		int c = tc_version_cmp(version, p->version_start);

		if (c < 0 || (c == 0 && !p->start_incl))
			return 0;
	}
	if (p->version_end != NULL) {
		int c = tc_version_cmp(version, p->version_end);

		if (c > 0 || (c == 0 && !p->end_incl))
			return 0;
	}
	return 1;
}

/* event: the normalised finding.  See include/tocsin/event.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tocsin/event.h"
#include "tocsin/indicator.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

static const char *const cat_names[TC_CAT_COUNT] = {
	[TC_CAT_VULNERABLE_SERVICE] = "vulnerable_service",
	[TC_CAT_EXPOSED_SERVICE] = "exposed_service",
	[TC_CAT_COMPROMISED_HOST] = "compromised_host",
	[TC_CAT_COMPROMISED_WEBSITE] = "compromised_website",
	[TC_CAT_MALICIOUS_INFRA] = "malicious_infra",
	[TC_CAT_LEAKED_CREDENTIALS] = "leaked_credentials",
	[TC_CAT_VULNERABLE_PRODUCT] = "vulnerable_product",
	[TC_CAT_OTHER] = "other",
};

static const char *const sev_names[] = { "info", "low", "medium", "high",
	"critical" };

const char *
tc_category_name(enum tc_category cat)
{
	return cat < TC_CAT_COUNT ? cat_names[cat] : "other";
}

int
tc_category_parse(const char *s, enum tc_category *out)
{
	for (int i = 0; i < TC_CAT_COUNT; i++)
		if (tc_str_case_eq(s, cat_names[i])) {
			*out = (enum tc_category)i;
			return 0;
		}
	return TC_EINPUT;
}

const char *
tc_severity_name(enum tc_severity sev)
{
	return sev <= TC_SEV_CRITICAL ? sev_names[sev] : "info";
}

enum tc_severity
tc_severity_from_cvss(double score, enum tc_severity none)
{
	return score >= 9 ? TC_SEV_CRITICAL
	    : score >= 7  ? TC_SEV_HIGH
	    : score >= 4  ? TC_SEV_MEDIUM
	    : score > 0	  ? TC_SEV_LOW
			  : none;
}

int
tc_severity_parse(const char *s, enum tc_severity *out)
{
	for (int i = 0; i <= TC_SEV_CRITICAL; i++)
		if (tc_str_case_eq(s, sev_names[i])) {
			*out = (enum tc_severity)i;
			return 0;
		}
	return TC_EINPUT;
}

void
tc_event_init(struct tc_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->category = TC_CAT_OTHER;
	ev->severity = TC_SEV_MEDIUM;
	ev->tlp = TC_TLP_AMBER;
}

void
tc_product_deinit(struct tc_product *p)
{
	free(p->vendor);
	free(p->product);
	free(p->cpe);
	free(p->version);
	free(p->version_start);
	free(p->version_end);
	memset(p, 0, sizeof(*p));
}

void
tc_event_reset(struct tc_event *ev)
{
	const char *format = ev->format, *source = ev->source;
	/* Keep the arrays' memory: a feed of millions of rows resets the
	 * same event for every row. */
	struct tc_indicator *ind = ev->ind;
	struct tc_product   *prod = ev->prod;
	char               **cve = ev->cve;
	struct tc_field     *field = ev->field;
	size_t ci = ev->cap_ind, cp = ev->cap_prod, cc = ev->cap_cve,
	       cf = ev->cap_field;

	for (size_t i = 0; i < ev->n_ind; i++)
		tc_indicator_deinit(&ev->ind[i]);
	for (size_t i = 0; i < ev->n_prod; i++)
		tc_product_deinit(&ev->prod[i]);
	for (size_t i = 0; i < ev->n_cve; i++)
		free(ev->cve[i]);
	for (size_t i = 0; i < ev->n_field; i++) {
		free(ev->field[i].key);
		free(ev->field[i].value);
	}
	free(ev->report_type);
	free(ev->title);
	free(ev->url);
	free(ev->protocol);
	tc_event_init(ev);
	ev->format = format;
	ev->source = source;
	ev->ind = ind, ev->cap_ind = ci;
	ev->prod = prod, ev->cap_prod = cp;
	ev->cve = cve, ev->cap_cve = cc;
	ev->field = field, ev->cap_field = cf;
}

void
tc_event_deinit(struct tc_event *ev)
{
	tc_event_reset(ev);
	free(ev->ind);
	free(ev->prod);
	free(ev->cve);
	free(ev->field);
	tc_event_init(ev);
}

#define GROW(arr, n, cap)                                                      \
	do {                                                                   \
		if ((n) == (cap)) {                                            \
			(cap) = (cap) ? (cap) * 2 : 4;                         \
			(arr) = tc_xreallocarray((arr), (cap), sizeof(*(arr)));\
		}                                                              \
	} while (0)

int
tc_event_add_indicator(struct tc_event *ev, int hint, const char *s,
    size_t len, struct tc_err *err)
{
	struct tc_indicator ind;
	int                 rc;

	if ((rc = tc_indicator_parse(hint, s, len, &ind, err)) < 0)
		return rc;
	/* The same indicator twice in one record adds nothing. */
	for (size_t i = 0; i < ev->n_ind; i++)
		if (ev->ind[i].type == ind.type &&
		    strcmp(ev->ind[i].text, ind.text) == 0) {
			tc_indicator_deinit(&ind);
			return 0;
		}
	GROW(ev->ind, ev->n_ind, ev->cap_ind);
	ev->ind[ev->n_ind++] = ind;
	return 0;
}

void
tc_event_add_field(struct tc_event *ev, const char *key, const char *value)
{
	GROW(ev->field, ev->n_field, ev->cap_field);
	ev->field[ev->n_field].key = tc_xstrdup(key);
	ev->field[ev->n_field].value = tc_xstrdup(value);
	ev->n_field++;
}

int
tc_event_add_cve(struct tc_event *ev, const char *cve)
{
	char   *c;
	size_t  n = strlen(cve);
	uint64_t year;

	/* CVE-YYYY-NNNN with 4 or more digits (CVE numbering rules). */
	if (n < 13 || n > 24 || strncasecmp(cve, "CVE-", 4) != 0 ||
	    cve[8] != '-' || tc_parse_uint_n(cve + 4, 4, 1999, 2100, &year) < 0)
		return TC_EINPUT;
	for (size_t i = 9; i < n; i++)
		if (cve[i] < '0' || cve[i] > '9')
			return TC_EINPUT;
	c = tc_xstrdup(cve);
	c[0] = 'C', c[1] = 'V', c[2] = 'E';
	for (size_t i = 0; i < ev->n_cve; i++)
		if (strcmp(ev->cve[i], c) == 0) {
			free(c);
			return 0;
		}
	GROW(ev->cve, ev->n_cve, ev->cap_cve);
	ev->cve[ev->n_cve++] = c;
	return 0;
}

void
tc_event_add_product(struct tc_event *ev, struct tc_product *p)
{
	GROW(ev->prod, ev->n_prod, ev->cap_prod);
	ev->prod[ev->n_prod++] = *p;
	memset(p, 0, sizeof(*p));
}

void
tc_event_set_str(char **member, const char *value)
{
	free(*member);
	*member = value ? tc_xstrdup(value) : NULL;
}

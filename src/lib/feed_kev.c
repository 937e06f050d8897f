/* feed_kev: the CISA Known Exploited Vulnerabilities catalog, JSON or CSV.
 *
 * Each entry becomes a vulnerable_product event: its CVE, vendorProject and
 * product (lower-case, as the product index matches them against the
 * vendor and product of CPEs), the vulnerability name as title, the first
 * URL of the notes as link, and exploited = true.  The catalog names no
 * version: every version of a listed product is concerned until the
 * entity's inventory says otherwise. */
#include <jansson.h>
#include <string.h>

#include "tocsin/csv.h"
#include "tocsin/feed.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

static void
first_url(const char *notes, struct tc_event *ev)
{
	const char *p = notes ? strstr(notes, "https://") : NULL;
	size_t      n;

	if (p == NULL)
		return;
	n = strcspn(p, " ;,\t\r\n");
	free(ev->url);
	ev->url = tc_xstrndup(p, n);
}

static int
entry(struct tc_feed_ctx *fc, struct tc_event *ev, const char *cve,
    const char *vendor, const char *product, const char *name,
    const char *added, const char *due, const char *ransom, const char *notes,
    struct tc_err *err)
{
	struct tc_product p = { 0 };

	if (cve == NULL || tc_event_add_cve(ev, cve) < 0)
		return tc_err_set(err, TC_EINPUT, "cveID \"%s\" is not a CVE id",
		    cve ? cve : "");
	if (vendor == NULL || product == NULL || !*vendor || !*product)
		return tc_err_set(err, TC_EINPUT,
		    "vendorProject and product are required");
	p.vendor = tc_feed__token(vendor);
	p.product = tc_feed__token(product);
	tc_event_add_product(ev, &p);
	ev->category = TC_CAT_VULNERABLE_PRODUCT;
	ev->severity = TC_SEV_HIGH;
	ev->exploited = true;
	ev->tlp = TC_TLP_CLEAR; /* the catalog is public */
	ev->tlp_set = true;
	tc_event_set_str(&ev->title, name);
	tc_event_set_str(&ev->report_type, "kev");
	first_url(notes, ev);
	if (added)
		ev->first_seen = ev->last_seen = tc_feed__time(added);
	if (due && *due)
		tc_event_add_field(ev, "due_date", due);
	if (ransom && *ransom)
		tc_event_add_field(ev, "ransomware", ransom);
	(void)fc;
	return 0;
}

int
tc_feed__kev_json(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	json_t      *root, *vulns, *v;
	size_t       i;
	int          rc = 0;
	struct tc_event ev;

	if ((root = tc_feed__json_load(data, len, fc, err)) == NULL)
		return TC_EINPUT;
	vulns = json_object_get(root, "vulnerabilities");
	if (!json_is_array(vulns)) {
		json_decref(root);
		return tc_err_set(err, TC_EINPUT,
		    "%s: not a KEV catalog: no \"vulnerabilities\" list",
		    fc->name);
	}
	tc_feed__event_init(&ev, fc, "kev");
	json_array_foreach(vulns, i, v)
	{
		struct tc_err e2;

		fc->st->records++;
		tc_event_reset(&ev);
		ev.line = i + 1;
#define S(k) json_string_value(json_object_get(v, k))
		if (entry(fc, &ev, S("cveID"), S("vendorProject"), S("product"),
			S("vulnerabilityName"), S("dateAdded"), S("dueDate"),
			S("knownRansomwareCampaignUse"), S("notes"), &e2) < 0) {
#undef S
			tc_err_set(err, TC_EINPUT, "%s: vulnerabilities[%zu]: %s",
			    fc->name, i, e2.msg);
			if ((rc = tc_feed__skip(fc, err)) < 0)
				break;
			continue;
		}
		if ((rc = tc_feed__emit(fc, &ev)) < 0)
			break;
	}
	tc_event_deinit(&ev);
	json_decref(root);
	return rc < 0 ? rc : 0;
}

int
tc_feed__kev_csv(struct tc_csv *csv, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	static const char *const cols[] = { "cveID", "vendorProject", "product",
		"vulnerabilityName", "dateAdded", "dueDate",
		"knownRansomwareCampaignUse", "notes", NULL };
	const struct tc_csv_field *f;
	size_t                     n, nhead;
	int                        idx[8], r, rc = 0;
	struct tc_event            ev;

	if ((r = tc_csv_next(csv, &f, &n, err)) <= 0)
		return r < 0 ? r : tc_err_set(err, TC_EINPUT, "%s: empty",
					   fc->name);
	nhead = n;
	for (int c = 0; cols[c]; c++) {
		idx[c] = -1;
		for (size_t i = 0; i < n; i++)
			if (f[i].len == strlen(cols[c]) &&
			    memcmp(f[i].s, cols[c], f[i].len) == 0)
				idx[c] = (int)i;
	}
	if (idx[0] < 0 || idx[1] < 0 || idx[2] < 0)
		return tc_err_set(err, TC_EINPUT,
		    "%s:1: not a KEV CSV: cveID, vendorProject and product "
		    "columns are required",
		    fc->name);
	tc_feed__event_init(&ev, fc, "kev");
	while ((r = tc_csv_next(csv, &f, &n, err)) != 0) {
		struct tc_err e2;

		if (r < 0) {
			if ((rc = tc_feed__skip(fc, err)) < 0)
				break;
			continue;
		}
		fc->st->records++;
		tc_event_reset(&ev);
		ev.line = tc_csv_line(csv);
#define F(c) (idx[c] >= 0 && (size_t)idx[c] < n ? f[idx[c]].s : NULL)
		if (n != nhead ||
		    entry(fc, &ev, F(0), F(1), F(2), F(3), F(4), F(5), F(6),
			F(7), &e2) < 0) {
#undef F
			tc_err_set(err, TC_EINPUT, "%s:%zu: %s", fc->name,
			    tc_csv_line(csv),
			    n != nhead ? "field count differs from the header"
				       : e2.msg);
			if ((rc = tc_feed__skip(fc, err)) < 0)
				break;
			continue;
		}
		if ((rc = tc_feed__emit(fc, &ev)) < 0)
			break;
	}
	tc_event_deinit(&ev);
	return rc < 0 ? rc : 0;
}

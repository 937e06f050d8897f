/* feed_cve: CVE JSON 5 records (cveMetadata + containers).
 *
 * One event per record: its CVE id and title, and a product for each
 * affected version entry of the CNA container and of the ADP containers
 * (which often add CPE 2.3 names): "version" with "lessThan" or
 * "lessThanOrEqual" is a range, a free-text "version" such as
 * "< 2.43.7" or ">= 2.44.0-rc0, < 2.44.4" is read as a range too, a plain
 * "version" is that version.  Entries with status "unaffected" are not
 * products of the event.  CVE records are public: TLP:CLEAR. */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "tocsin/feed.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

static void
cpe_names(const char *cpe, char **vendor, char **product)
{
	char   f[3][128];
	int    n = 0;
	size_t k = 0;

	if (!tc_str_has_prefix(cpe, "cpe:2.3:"))
		return;
	memset(f, 0, sizeof(f));
	for (cpe += 8; *cpe && n < 3; cpe++) {
		if (*cpe == ':') {
			n++, k = 0;
			continue;
		}
		if (k + 1 < sizeof(f[0]))
			f[n][k++] = *cpe;
	}
	if (f[1][0] && f[2][0]) {
		free(*vendor);
		free(*product);
		*vendor = tc_feed__token(f[1]);
		*product = tc_feed__token(f[2]);
	}
}

static void
affected(json_t *list, struct tc_event *ev)
{
	size_t  i, j;
	json_t *a, *v;

	json_array_foreach(list, i, a)
	{
		const char *vendor = json_string_value(json_object_get(a, "vendor"));
		const char *product = json_string_value(json_object_get(a,
		    "product"));
		json_t     *cpes = json_object_get(a, "cpes");

		if (vendor == NULL || product == NULL)
			continue;
		json_array_foreach(json_object_get(a, "versions"), j, v)
		{
			const char *status = json_string_value(
			    json_object_get(v, "status"));
			const char *ver = json_string_value(
			    json_object_get(v, "version"));
			const char *lt = json_string_value(
			    json_object_get(v, "lessThan"));
			const char *le = json_string_value(
			    json_object_get(v, "lessThanOrEqual"));
			struct tc_product p = { 0 };

			if (status == NULL || strcmp(status, "affected") != 0)
				continue;
			p.vendor = tc_feed__token(vendor);
			p.product = tc_feed__token(product);
			if (json_array_size(cpes) > 0)
				cpe_names(json_string_value(json_array_get(cpes,
					      0)),
				    &p.vendor, &p.product);
			if (lt || le) {
				if (ver && strcmp(ver, "0") != 0 &&
				    strcmp(ver, "*") != 0) {
					p.version_start = tc_xstrdup(ver);
					p.start_incl = true;
				}
				p.version_end = tc_xstrdup(lt ? lt : le);
				p.end_incl = lt == NULL;
			} else if (ver && (strchr(ver, '<') || strchr(ver, '>'))) {
				(void)tc_feed__range(ver, &p);
			} else if (ver && strcmp(ver, "*") != 0 &&
			    strcasecmp(ver, "all") != 0) {
				p.version = tc_xstrdup(ver);
			}
			tc_event_add_product(ev, &p);
		}
	}
}

int
tc_feed__cve(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	json_t         *root, *meta, *cna, *adp, *x;
	struct tc_event ev;
	const char     *id;
	size_t          i;
	int             rc = 0;

	if ((root = tc_feed__json_load(data, len, fc, err)) == NULL)
		return TC_EINPUT;
	meta = json_object_get(root, "cveMetadata");
	cna = json_object_get(json_object_get(root, "containers"), "cna");
	adp = json_object_get(json_object_get(root, "containers"), "adp");
	id = json_string_value(json_object_get(meta, "cveId"));
	if (id == NULL || !json_is_object(cna)) {
		json_decref(root);
		return tc_err_set(err, TC_EINPUT,
		    "%s: not a CVE JSON 5 record: no cveMetadata.cveId or "
		    "containers.cna",
		    fc->name);
	}
	tc_feed__event_init(&ev, fc, "cve");
	ev.line = 1;
	fc->st->records++;
	if (tc_event_add_cve(&ev, id) < 0) {
		tc_err_set(err, TC_EINPUT, "%s: cveMetadata.cveId \"%s\" is not "
		    "a CVE id", fc->name, id);
		rc = tc_feed__skip(fc, err);
		goto out;
	}
	ev.category = TC_CAT_VULNERABLE_PRODUCT;
	ev.tlp = TC_TLP_CLEAR;
	ev.tlp_set = true;
	tc_event_set_str(&ev.report_type, "cve");
	tc_event_set_str(&ev.title,
	    json_string_value(json_object_get(cna, "title")));
	affected(json_object_get(cna, "affected"), &ev);
	json_array_foreach(adp, i, x)
		affected(json_object_get(x, "affected"), &ev);
	json_array_foreach(json_object_get(cna, "references"), i, x)
	{
		if (ev.url == NULL)
			tc_event_set_str(&ev.url,
			    json_string_value(json_object_get(x, "url")));
	}
	{
		double  score = 0;
		json_t *m;

		json_array_foreach(json_object_get(cna, "metrics"), i, m)
		{
			const char *keys[] = { "cvssV3_1", "cvssV3_0", "cvssV4_0" };

			for (int k = 0; k < 3; k++) {
				json_t *b = json_object_get(
				    json_object_get(m, keys[k]), "baseScore");

				if (json_is_number(b) &&
				    json_number_value(b) > score)
					score = json_number_value(b);
			}
		}
		ev.severity = tc_severity_from_cvss(score, TC_SEV_HIGH);
	}
	if (ev.n_prod > 0)
		rc = tc_feed__emit(fc, &ev);
out:
	tc_event_deinit(&ev);
	json_decref(root);
	return rc < 0 ? rc : 0;
}

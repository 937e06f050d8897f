/* feed_stix: STIX 2.1 bundles.
 *
 * Indicators with pattern_type "stix": the pattern is scanned for
 * comparison expressions `<type>:<path> = '<value>'` on ipv4-addr,
 * ipv6-addr, domain-name, url and email-addr values, however they are
 * combined (AND, OR, observation expressions, qualifiers): each one becomes
 * an indicator of the event.  Other comparisons (file hashes, process
 * names) are ignored, not errors.  A pattern with unbalanced brackets or
 * quotes is reported with the object's id and skipped.  Vulnerability
 * objects give CVE events.  TLP comes from object_marking_refs: the five
 * TLP 2.0 marking definitions and the four TLP 1.0 ones (WHITE read as
 * CLEAR). */
#include <jansson.h>
#include <string.h>

#include "tocsin/buf.h"
#include "tocsin/esc.h"
#include "tocsin/feed.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

#define STIX_PATTERN_MAX (64 * 1024)

static const struct {
	const char *id;
	enum tc_tlp tlp;
} markings[] = {
	/* TLP 2.0 (cti-stix-common-objects, extension tlp-2.0) */
	{ "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", TC_TLP_CLEAR },
	{ "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", TC_TLP_GREEN },
	{ "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", TC_TLP_AMBER },
	{ "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	    TC_TLP_AMBER_STRICT },
	{ "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", TC_TLP_RED },
	/* TLP 1.0 (STIX 2.1 specification, section 7.2.1.4) */
	{ "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", TC_TLP_CLEAR },
	{ "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", TC_TLP_GREEN },
	{ "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", TC_TLP_AMBER },
	{ "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", TC_TLP_RED },
};

static const struct {
	const char *path;
	int         ind;
} wanted[] = {
	{ "ipv4-addr:value", TC_IND_IPV4 },
	{ "ipv6-addr:value", TC_IND_IPV6 },
	{ "domain-name:value", TC_IND_DOMAIN },
	{ "url:value", TC_IND_URL },
	{ "email-addr:value", TC_IND_EMAIL },
	{ "email-message:from_ref.value", TC_IND_EMAIL },
	{ "network-traffic:dst_ref.value", -1 },
	{ "network-traffic:src_ref.value", -1 },
};

/* Add the indicators of a STIX pattern to `ev`.  Returns how many
 * comparisons were used, or TC_EINPUT (err says why and where). */
int tc_feed_stix_pattern(const char *pattern, struct tc_event *ev,
    struct tc_err *err);

int
tc_feed_stix_pattern(const char *pattern, struct tc_event *ev,
    struct tc_err *err)
{
	const char   *p = pattern;
	int           depth = 0, used = 0;
	struct tc_buf val = TC_BUF_INIT;

	if (strlen(pattern) > STIX_PATTERN_MAX)
		return tc_err_set(err, TC_EINPUT, "pattern longer than %d bytes",
		    STIX_PATTERN_MAX);
	while (*p) {
		if (*p == '[' || *p == '(') {
			depth++;
			p++;
			continue;
		}
		if (*p == ']' || *p == ')') {
			if (--depth < 0) {
				tc_buf_deinit(&val);
				return tc_err_set(err, TC_EINPUT,
				    "unbalanced '%c' at offset %zu", *p,
				    (size_t)(p - pattern));
			}
			p++;
			continue;
		}
		if (*p == '\'') {
			/* A string not after a wanted path: skip it. */
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != '\'') {
				tc_buf_deinit(&val);
				return tc_err_set(err, TC_EINPUT,
				    "unterminated string");
			}
			p++;
			continue;
		}
		for (size_t w = 0; w < TC_NELEM(wanted); w++) {
			size_t      wl = strlen(wanted[w].path);
			const char *q;

			if (strncmp(p, wanted[w].path, wl) != 0 ||
			    (p > pattern && (p[-1] == '-' || p[-1] == '_' ||
						(p[-1] >= 'a' && p[-1] <= 'z'))))
				continue;
			q = p + wl;
			while (*q == ' ')
				q++;
			if (*q != '=' || q[1] == '=') {
				p = q; /* !=, LIKE, MATCHES, IN...: not used */
				goto next;
			}
			q++;
			while (*q == ' ')
				q++;
			if (*q != '\'') {
				p = q; /* not a string: nothing to take */
				goto next;
			}
			tc_buf_reset(&val);
			for (q++; *q && *q != '\''; q++) {
				if (*q == '\\' && q[1])
					q++;
				tc_buf_putc(&val, *q);
			}
			if (*q != '\'') {
				tc_buf_deinit(&val);
				return tc_err_set(err, TC_EINPUT,
				    "unterminated string");
			}
			p = q + 1;
			if (tc_event_add_indicator(ev, wanted[w].ind,
				tc_buf_cstr(&val), val.len, err) < 0) {
				tc_buf_deinit(&val);
				return TC_EINPUT;
			}
			used++;
			goto next;
		}
		p++;
	next:;
	}
	tc_buf_deinit(&val);
	if (depth != 0)
		return tc_err_set(err, TC_EINPUT, "unbalanced brackets");
	return used;
}

static void
marking_tlp(json_t *o, struct tc_event *ev)
{
	size_t  i;
	json_t *m;

	json_array_foreach(json_object_get(o, "object_marking_refs"), i, m)
	{
		const char *id = json_string_value(m);

		for (size_t k = 0; id && k < TC_NELEM(markings); k++)
			if (strcmp(id, markings[k].id) == 0) {
				ev->tlp = ev->tlp_set
				    ? tc_tlp_max(ev->tlp, markings[k].tlp)
				    : markings[k].tlp;
				ev->tlp_set = true;
			}
	}
}

int
tc_feed__stix(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	json_t         *root, *objs, *o;
	struct tc_event ev;
	size_t          i;
	int             rc = 0;

	if ((root = tc_feed__json_load(data, len, fc, err)) == NULL)
		return TC_EINPUT;
	objs = json_object_get(root, "objects");
	if (!json_is_array(objs)) {
		json_decref(root);
		return tc_err_set(err, TC_EINPUT,
		    "%s: not a STIX bundle: no \"objects\" list", fc->name);
	}
	tc_feed__event_init(&ev, fc, "stix");
	json_array_foreach(objs, i, o)
	{
		const char   *type = json_string_value(json_object_get(o, "type"));
		const char   *id = json_string_value(json_object_get(o, "id"));
		struct tc_err e2;
		int           n;

		if (type == NULL)
			continue;
		if (strcmp(type, "indicator") != 0 &&
		    strcmp(type, "vulnerability") != 0)
			continue;
		fc->st->records++;
		tc_event_reset(&ev);
		ev.line = i + 1;
		marking_tlp(o, &ev);
		tc_event_set_str(&ev.title,
		    json_string_value(json_object_get(o, "name")));
		if (strcmp(type, "vulnerability") == 0) {
			size_t  k;
			json_t *ref;

			json_array_foreach(json_object_get(o,
					       "external_references"),
			    k, ref)
			{
				const char *src = json_string_value(
				    json_object_get(ref, "source_name"));
				const char *ext = json_string_value(
				    json_object_get(ref, "external_id"));

				if (src && ext && strcmp(src, "cve") == 0)
					(void)tc_event_add_cve(&ev, ext);
			}
			if (ev.n_cve == 0)
				continue;
			ev.category = TC_CAT_VULNERABLE_PRODUCT;
			tc_event_set_str(&ev.report_type, "stix-vulnerability");
		} else {
			const char *pt = json_string_value(
			    json_object_get(o, "pattern_type"));
			const char *pat = json_string_value(
			    json_object_get(o, "pattern"));
			const char *from = json_string_value(
			    json_object_get(o, "valid_from"));
			const char *until = json_string_value(
			    json_object_get(o, "valid_until"));

			if (pat == NULL || (pt && strcmp(pt, "stix") != 0))
				continue;
			n = tc_feed_stix_pattern(pat, &ev, &e2);
			if (n < 0) {
				tc_err_set(err, TC_EINPUT,
				    "%s: objects[%zu] (%s): pattern: %s",
				    fc->name, i, id ? tc_esc(id) : "?", e2.msg);
				if ((rc = tc_feed__skip(fc, err)) < 0)
					break;
				continue;
			}
			if (ev.n_ind == 0)
				continue; /* hashes only, nothing to match */
			ev.category = TC_CAT_MALICIOUS_INFRA;
			ev.severity = TC_SEV_HIGH;
			tc_event_set_str(&ev.report_type, "stix-indicator");
			if (from)
				ev.first_seen = tc_feed__time(from);
			if (until)
				ev.last_seen = tc_feed__time(until);
		}
		if ((rc = tc_feed__emit(fc, &ev)) < 0)
			break;
	}
	tc_event_deinit(&ev);
	json_decref(root);
	return rc < 0 ? rc : 0;
}

/* feed_misp: MISP events — wrapped ({"Event": {...}}), bare event objects,
 * lists ({"response": [...]} or [...]) — with their attributes and the
 * attributes of their objects.
 *
 * An attribute whose type carries an address, a domain, a URL or an email
 * becomes an indicator; composite types ("ip-dst|port", "domain|ip") give
 * both parts.  Only attributes with to_ids set are matched unless the feed
 * says otherwise (opts->misp_all): MISP marks context (links to reports,
 * hashes of samples) with to_ids false.  One event per MISP event: its
 * indicators, CVEs (type "vulnerability"), title (info), TLP from the event
 * tags (tlp:white is read as CLEAR; an attribute's own stricter tag raises
 * the label), severity from threat_level_id.  Feed directories (manifest +
 * event files) are read by tc_feed_misp_dir(). */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "tocsin/esc.h"
#include "tocsin/feed.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

#define MISP_ATTRIBUTES_MAX 100000 /* per event */

static const struct {
	const char *type;
	int         ind; /* enum tc_ind_type, or -1 */
} attr_types[] = {
	{ "ip-dst", TC_IND_IPV4 }, { "ip-src", TC_IND_IPV4 },
	{ "ip", TC_IND_IPV4 }, { "domain", TC_IND_DOMAIN },
	{ "hostname", TC_IND_DOMAIN }, { "url", TC_IND_URL },
	{ "uri", TC_IND_URL }, { "link", TC_IND_URL },
	{ "email", TC_IND_EMAIL }, { "email-src", TC_IND_EMAIL },
	{ "email-dst", TC_IND_EMAIL }, { "AS", TC_IND_ASN },
};

static int
type_of(const char *t)
{
	for (size_t i = 0; i < TC_NELEM(attr_types); i++)
		if (strcmp(t, attr_types[i].type) == 0)
			return attr_types[i].ind;
	return -2;
}

/* Raise the event's label with any tlp:* tag of `tags`. */
static void
tags_tlp(json_t *tags, struct tc_event *ev)
{
	size_t  i;
	json_t *t;

	json_array_foreach(tags, i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		enum tc_tlp tlp;

		if (name && strncasecmp(name, "tlp:", 4) == 0 &&
		    tc_tlp_parse(name, &tlp) == 0) {
			ev->tlp = ev->tlp_set ? tc_tlp_max(ev->tlp, tlp) : tlp;
			ev->tlp_set = true;
		}
	}
}

static bool
to_ids(json_t *a)
{
	json_t *v = json_object_get(a, "to_ids");

	if (json_is_boolean(v))
		return json_is_true(v);
	/* MISP exports sometimes carry it as a string or number. */
	if (json_is_string(v))
		return strcmp(json_string_value(v), "1") == 0 ||
		    strcmp(json_string_value(v), "true") == 0;
	return json_is_integer(v) && json_integer_value(v) != 0;
}

static void
attribute(struct tc_feed_ctx *fc, json_t *a, struct tc_event *ev,
    size_t *bad)
{
	const char *type = json_string_value(json_object_get(a, "type"));
	const char *value = json_string_value(json_object_get(a, "value"));
	char        t1[64], *bar;
	struct tc_err e;
	int         k;

	if (type == NULL || value == NULL)
		return;
	if (strcmp(type, "vulnerability") == 0) {
		(void)tc_event_add_cve(ev, value);
		return;
	}
	if (!fc->opts->misp_all && !to_ids(a))
		return;
	if (tc_strlcpy(t1, type, sizeof(t1)) < 0)
		return;
	bar = strchr(t1, '|');
	if (bar != NULL) {
		/* Composite: "ip-dst|port", "domain|ip", "hostname|port". */
		const char *vbar = strchr(value, '|');
		char        t2[64];

		*bar = '\0';
		if (tc_strlcpy(t2, bar + 1, sizeof(t2)) < 0 || vbar == NULL)
			return;
		if ((k = type_of(t1)) >= -1 &&
		    tc_event_add_indicator(ev, k, value,
			(size_t)(vbar - value), &e) < 0)
			(*bad)++;
		if ((k = type_of(t2)) >= -1 &&
		    tc_event_add_indicator(ev, k, vbar + 1, strlen(vbar + 1),
			&e) < 0)
			(*bad)++;
		return;
	}
	if ((k = type_of(t1)) >= -1 &&
	    tc_event_add_indicator(ev, k, value, strlen(value), &e) < 0)
		(*bad)++;
	tags_tlp(json_object_get(a, "Tag"), ev);
}

static int
one_event(struct tc_feed_ctx *fc, json_t *e, size_t index, struct tc_event *ev,
    struct tc_err *err)
{
	json_t     *attrs, *objs, *a, *o;
	size_t      i, j, bad = 0, count = 0;
	const char *tl, *info, *date;
	uint64_t    lvl;

	if (json_is_object(json_object_get(e, "Event")))
		e = json_object_get(e, "Event");
	if (!json_is_object(e)) {
		tc_err_set(err, TC_EINPUT, "%s: event %zu: not an object",
		    fc->name, index);
		return tc_feed__skip(fc, err);
	}
	fc->st->records++;
	tc_event_reset(ev);
	ev->line = index + 1;
	ev->category = TC_CAT_MALICIOUS_INFRA;
	info = json_string_value(json_object_get(e, "info"));
	tc_event_set_str(&ev->title, info);
	tc_event_set_str(&ev->report_type, "misp");
	tags_tlp(json_object_get(e, "Tag"), ev);
	tl = json_string_value(json_object_get(e, "threat_level_id"));
	/* 1 high, 2 medium, 3 low, 4 undefined. */
	if (tl && tc_parse_uint(tl, 1, 4, &lvl) == 0)
		ev->severity = lvl == 1 ? TC_SEV_HIGH
		    : lvl == 2	       ? TC_SEV_MEDIUM
		    : lvl == 3	       ? TC_SEV_LOW
				       : TC_SEV_INFO;
	date = json_string_value(json_object_get(e, "date"));
	if (date)
		ev->first_seen = ev->last_seen = tc_feed__time(date);
	attrs = json_object_get(e, "Attribute");
	json_array_foreach(attrs, i, a)
	{
		if (++count > MISP_ATTRIBUTES_MAX)
			break;
		attribute(fc, a, ev, &bad);
	}
	objs = json_object_get(e, "Object");
	json_array_foreach(objs, j, o)
	{
		json_array_foreach(json_object_get(o, "Attribute"), i, a)
		{
			if (++count > MISP_ATTRIBUTES_MAX)
				break;
			attribute(fc, a, ev, &bad);
		}
	}
	if (count > MISP_ATTRIBUTES_MAX) {
		tc_err_set(err, TC_ELIMIT,
		    "%s: event %zu (%s): more than %d attributes, the rest "
		    "ignored",
		    fc->name, index, info ? tc_esc(info) : "?",
		    MISP_ATTRIBUTES_MAX);
		int rc = tc_feed__skip(fc, err);

		if (rc < 0)
			return rc;
	}
	if (bad > 0) {
		tc_err_set(err, TC_EINPUT,
		    "%s: event %zu (%s): %zu attribute value%s not usable as "
		    "indicators",
		    fc->name, index, info ? tc_esc(info) : "?", bad,
		    bad == 1 ? "" : "s");
		int rc = tc_feed__skip(fc, err);

		if (rc < 0)
			return rc;
	}
	if (ev->n_ind == 0 && ev->n_cve == 0)
		return 0; /* nothing to match */
	return tc_feed__emit(fc, ev);
}

int
tc_feed__misp(const char *data, size_t len, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	json_t         *root, *list, *e;
	struct tc_event ev;
	size_t          i;
	int             rc = 0;

	if ((root = tc_feed__json_load(data, len, fc, err)) == NULL)
		return TC_EINPUT;
	tc_feed__event_init(&ev, fc, "misp");
	list = json_is_array(root) ? root : json_object_get(root, "response");
	if (json_is_array(list)) {
		json_array_foreach(list, i, e)
			if ((rc = one_event(fc, e, i, &ev, err)) < 0)
				break;
	} else if (json_is_object(root) &&
	    (json_object_get(root, "Event") ||
		json_object_get(root, "Attribute") ||
		json_object_get(root, "info"))) {
		rc = one_event(fc, root, 0, &ev, err);
	} else {
		rc = tc_err_set(err, TC_EINPUT,
		    "%s: not a MISP event (no Event, Attribute or info)",
		    fc->name);
	}
	tc_event_deinit(&ev);
	json_decref(root);
	return rc < 0 ? rc : 0;
}

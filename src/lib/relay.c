/* relay: see include/tocsin/relay.h. */
#include <string.h>

#include "tocsin/relay.h"

bool
tc_relay_may_describe(enum tc_tlp clearance, enum tc_tlp item)
{
	/* AMBER+STRICT and RED never leave the recipient organisation, so
	 * an authority never gets them, whatever it is cleared for. */
	if (item >= TC_TLP_AMBER_STRICT)
		return false;
	return tc_tlp_allows(clearance, item);
}

static bool
in_sectors(const struct tc_relay_authority *auth, const char *sector)
{
	for (size_t i = 0; i < auth->n_sectors; i++)
		if (sector != NULL && strcmp(auth->sectors[i], sector) == 0)
			return true;
	return false;
}

json_t *
tc_relay_build(const struct tc_relay_authority *auth,
    const struct tc_relay_item *items, size_t n, const char *period_from,
    const char *period_to, enum tc_tlp *label, size_t *n_items)
{
	json_t     *view = json_object(), *arr = json_array();
	json_t     *seen = json_object(); /* enterprise numbers */
	enum tc_tlp lbl = TC_TLP_CLEAR;
	size_t      kept = 0, withheld = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tc_relay_item *it = &items[i];
		json_t                     *o;
		bool                        describe;

		if (!in_sectors(auth, it->sector))
			continue;
		describe = tc_relay_may_describe(auth->clearance, it->tlp);
		o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:b}", "entity",
		    it->entity_name, "enterprise_number",
		    it->enterprise_number, "sector", it->sector, "category",
		    tc_category_name(it->category), "count",
		    (json_int_t)it->count, "tlp", tc_tlp_label(it->tlp),
		    "described", describe);
		if (o == NULL) /* a name that is not UTF-8: leave it out */
			continue;
		if (describe) {
			json_t *d = json_array();

			for (size_t k = 0; k < it->n_indicators &&
			     k < TC_RELAY_DETAILS_MAX;
			     k++)
				json_array_append_new(d,
				    json_string(it->indicators[k]));
			json_object_set_new(o, "details", d);
			json_object_set_new(o, "more",
			    json_integer(it->n_indicators >
					    TC_RELAY_DETAILS_MAX
				    ? (json_int_t)(it->n_indicators -
					  TC_RELAY_DETAILS_MAX)
				    : 0));
			lbl = tc_tlp_max(lbl, it->tlp);
		} else {
			withheld += it->count;
		}
		json_object_set_new(seen, it->enterprise_number, json_true());
		json_array_append_new(arr, o);
		total += it->count;
		kept++;
	}
	json_object_set_new(view, "authority", json_string(auth->name));
	json_object_set_new(view, "period",
	    json_pack("{s:s,s:s}", "from", period_from, "to", period_to));
	json_object_set_new(view, "tlp",
	    json_pack("{s:s,s:s}", "label", tc_tlp_label(lbl), "colour",
		tc_tlp_colour(lbl)));
	json_object_set_new(view, "entities",
	    json_integer((json_int_t)json_object_size(seen)));
	json_object_set_new(view, "items", arr);
	json_object_set_new(view, "withheld", json_integer((json_int_t)withheld));
	json_object_set_new(view, "total", json_integer((json_int_t)total));
	json_decref(seen);
	*label = lbl;
	*n_items = kept;
	return view;
}

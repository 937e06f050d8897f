/* aggregate: see include/tocsin/aggregate.h.
 *
 * Groups live in one array; a small open-addressing hash maps (entity,
 * category) to a group and (group, indicator, port, what) to an item, so a
 * run of millions of hits stays linear.  Sorting happens once, when the
 * groups are read. */
#include <stdlib.h>
#include <string.h>

#include "tocsin/aggregate.h"
#include "tocsin/buf.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

struct slot {
	uint64_t hash;
	size_t   group; /* index + 1; 0 = empty */
	size_t   item;  /* item index + 1, or 0 for a group slot */
};

struct table {
	struct slot *slots;
	size_t       cap, used;
};

struct tc_aggregate {
	struct tc_aggregate_group *groups;
	size_t                     n_groups, cap_groups;
	size_t                    *cap_items; /* per group */
	struct table               t;
	size_t                     total;
	int                        sorted;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	/* The terminating NUL separates fields: "ab"+"c" != "a"+"bc". */
	return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static void
table_grow(struct table *t)
{
	struct table n = { NULL, t->cap ? t->cap * 2 : 1024, 0 };

	n.slots = tc_xcalloc(n.cap, sizeof(*n.slots));
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *s = &t->slots[i];
		size_t       j;

		if (s->group == 0)
			continue;
		for (j = s->hash & (n.cap - 1); n.slots[j].group != 0;
		     j = (j + 1) & (n.cap - 1))
			;
		n.slots[j] = *s;
		n.used++;
	}
	free(t->slots);
	*t = n;
}

struct tc_aggregate *
tc_aggregate_new(void)
{
	return tc_xcalloc(1, sizeof(struct tc_aggregate));
}

static void
item_deinit(struct tc_aggregate_item *it)
{
	free(it->indicator);
	free(it->ip);
	free(it->hostname);
	free(it->asn);
	free(it->protocol);
	free(it->what);
	free(it->cve);
	free(it->product);
	free(it->url);
	free(it->source);
}

void
tc_aggregate_free(struct tc_aggregate *agg)
{
	if (agg == NULL)
		return;
	for (size_t g = 0; g < agg->n_groups; g++) {
		for (size_t i = 0; i < agg->groups[g].n_items; i++)
			item_deinit(&agg->groups[g].items[i]);
		free(agg->groups[g].items);
	}
	free(agg->groups);
	free(agg->cap_items);
	free(agg->t.slots);
	free(agg);
}

static const char *
field(const struct tc_event *ev, const char *key)
{
	for (size_t i = 0; i < ev->n_field; i++)
		if (ev->field[i].value != NULL && ev->field[i].value[0] != '\0' &&
		    strcmp(ev->field[i].key, key) == 0)
			return ev->field[i].value;
	return NULL;
}

static char *
dup_cut(const char *s)
{
	if (s == NULL || *s == '\0')
		return NULL;
	return tc_xstrndup(s, TC_AGGREGATE_TEXT_MAX);
}

static const char *
what_of(const struct tc_event *ev)
{
	static const char *const keys[] = { "infection", "tag", "tags",
		"type", "vulnerability" };
	const char              *v;

	for (size_t i = 0; i < TC_NELEM(keys); i++)
		if ((v = field(ev, keys[i])) != NULL)
			return v;
	if (ev->title != NULL)
		return ev->title;
	return ev->report_type;
}

static void
item_fill(struct tc_aggregate_item *it, const struct tc_event *ev,
    const struct tc_indicator *in, const char *key, const char *asset,
    const char *what)
{
	struct tc_buf b = TC_BUF_INIT;

	it->indicator = tc_xstrdup(key);
	if (in == NULL) {
		/* A product hit: nothing host-like to show. */
	} else if (in->type == TC_IND_IPV4 || in->type == TC_IND_IPV6) {
		it->ip = tc_xstrdup(in->text);
	} else {
		for (size_t i = 0; i < ev->n_ind; i++)
			if (ev->ind[i].type == TC_IND_IPV4 ||
			    ev->ind[i].type == TC_IND_IPV6) {
				it->ip = tc_xstrdup(ev->ind[i].text);
				break;
			}
	}
	if (in != NULL && in->type == TC_IND_DOMAIN)
		it->hostname = tc_xstrdup(in->domain ? in->domain : in->text);
	else
		it->hostname = dup_cut(field(ev, "hostname"));
	for (size_t i = 0; i < ev->n_ind; i++)
		if (ev->ind[i].type == TC_IND_ASN) {
			it->asn = tc_xstrdup(ev->ind[i].text);
			break;
		}
	it->port = ev->port;
	it->protocol = dup_cut(ev->protocol);
	it->first_seen = ev->first_seen;
	it->last_seen = ev->last_seen ? ev->last_seen : ev->first_seen;
	it->what = dup_cut(what);
	for (size_t i = 0; i < ev->n_cve; i++)
		tc_buf_printf(&b, "%s%s", i ? ", " : "", ev->cve[i]);
	if (b.len)
		it->cve = tc_xstrndup(b.data, TC_AGGREGATE_TEXT_MAX);
	tc_buf_reset(&b);
	if (asset != NULL) {
		/* The entity's own inventory entry says which version it runs. */
		it->product = dup_cut(asset);
	} else if (ev->n_prod > 0) {
		const struct tc_product *p = &ev->prod[0];

		tc_buf_printf(&b, "%s %s", p->vendor ? p->vendor : "",
		    p->product ? p->product : "");
		if (p->version)
			tc_buf_printf(&b, " %s", p->version);
		it->product = tc_xstrndup(b.data, TC_AGGREGATE_TEXT_MAX);
	}
	tc_buf_deinit(&b);
	it->url = dup_cut(ev->url);
	it->exploited = ev->exploited;
	it->source = dup_cut(ev->source);
	it->line = ev->line;
}

static uint64_t
group_hash(int64_t entity_id, enum tc_category cat)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, &entity_id, sizeof(entity_id));

	return fnv(h, &cat, sizeof(cat));
}

static uint64_t
item_hash(size_t gi, const char *indicator, uint16_t port, const char *what)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, &gi, sizeof(gi));

	h = fnv_str(h, indicator);
	h = fnv(h, &port, sizeof(port));
	return fnv_str(h, what);
}

static void
table_put(struct table *t, uint64_t h, size_t group, size_t item)
{
	size_t j;

	if ((t->used + 1) * 2 > t->cap)
		table_grow(t);
	for (j = h & (t->cap - 1); t->slots[j].group != 0;
	     j = (j + 1) & (t->cap - 1))
		;
	t->slots[j] = (struct slot){ h, group, item };
	t->used++;
}

static size_t
group_for(struct tc_aggregate *agg, int64_t entity_id, enum tc_category cat)
{
	uint64_t h = group_hash(entity_id, cat);
	size_t   j;

	if ((agg->t.used + 1) * 2 > agg->t.cap)
		table_grow(&agg->t);
	for (j = h & (agg->t.cap - 1); agg->t.slots[j].group != 0;
	     j = (j + 1) & (agg->t.cap - 1)) {
		struct slot *s = &agg->t.slots[j];

		if (s->item == 0 && s->hash == h &&
		    agg->groups[s->group - 1].entity_id == entity_id &&
		    agg->groups[s->group - 1].category == cat)
			return s->group - 1;
	}
	if (agg->n_groups == agg->cap_groups) {
		agg->cap_groups = agg->cap_groups ? agg->cap_groups * 2 : 16;
		agg->groups = tc_xreallocarray(agg->groups, agg->cap_groups,
		    sizeof(*agg->groups));
		agg->cap_items = tc_xreallocarray(agg->cap_items,
		    agg->cap_groups, sizeof(*agg->cap_items));
	}
	memset(&agg->groups[agg->n_groups], 0, sizeof(agg->groups[0]));
	agg->groups[agg->n_groups].entity_id = entity_id;
	agg->groups[agg->n_groups].category = cat;
	agg->cap_items[agg->n_groups] = 0;
	agg->t.slots[j] = (struct slot){ h, agg->n_groups + 1, 0 };
	agg->t.used++;
	return agg->n_groups++;
}

/* Add one finding keyed by `key` (an indicator's text, or for a product
 * hit the CVEs and the inventory's CPE); `in` is the indicator, NULL for
 * a product hit. */
static int
add_item(struct tc_aggregate *agg, int64_t entity_id,
    const struct tc_event *ev, const struct tc_indicator *in,
    const char *key, const char *asset, enum tc_tlp tlp)
{
	struct tc_aggregate_group *g;
	struct tc_aggregate_item  *it;
	const char                *what;
	char                      *cut = NULL;
	size_t                     gi, j;
	uint64_t                   h;
	int                        rc = 0;

	what = what_of(ev);
	if (what != NULL && strlen(what) > TC_AGGREGATE_TEXT_MAX) {
		/* Compare on what is kept, so that the hash matches. */
		cut = tc_xstrndup(what, TC_AGGREGATE_TEXT_MAX);
		what = cut;
	}
	gi = group_for(agg, entity_id, ev->category);
	g = &agg->groups[gi];
	g->tlp = tc_tlp_max(g->tlp, tlp);
	if (ev->severity > g->severity)
		g->severity = ev->severity;

	h = item_hash(gi, key, ev->port, what);
	if ((agg->t.used + 1) * 2 > agg->t.cap)
		table_grow(&agg->t);
	for (j = h & (agg->t.cap - 1); agg->t.slots[j].group != 0;
	     j = (j + 1) & (agg->t.cap - 1)) {
		struct slot *s = &agg->t.slots[j];

		if (s->item == 0 || s->hash != h || s->group != gi + 1)
			continue;
		it = &g->items[s->item - 1];
		if (it->port != ev->port || strcmp(it->indicator, key) ||
		    strcmp(it->what ? it->what : "", what ? what : ""))
			continue;
		/* Same finding again in this run: widen its time span. */
		if (ev->first_seen &&
		    (!it->first_seen || ev->first_seen < it->first_seen))
			it->first_seen = ev->first_seen;
		if (ev->last_seen > it->last_seen)
			it->last_seen = ev->last_seen;
		goto out;
	}
	if (g->n_items >= TC_AGGREGATE_GROUP_MAX) {
		g->dropped++;
		goto out;
	}
	if (g->n_items == agg->cap_items[gi]) {
		agg->cap_items[gi] = agg->cap_items[gi] ? agg->cap_items[gi] * 2
							: 8;
		g->items = tc_xreallocarray(g->items, agg->cap_items[gi],
		    sizeof(*g->items));
	}
	it = &g->items[g->n_items++];
	memset(it, 0, sizeof(*it));
	item_fill(it, ev, in, key, asset, what);
	agg->t.slots[j] = (struct slot){ h, gi + 1, g->n_items };
	agg->t.used++;
	agg->total++;
	agg->sorted = 0;
	rc = 1;
out:
	free(cut);
	return rc;
}

int
tc_aggregate_add(struct tc_aggregate *agg, int64_t entity_id,
    const struct tc_event *ev, size_t ind, enum tc_tlp tlp)
{
	if (ind >= ev->n_ind)
		return 0;
	return add_item(agg, entity_id, ev, &ev->ind[ind], ev->ind[ind].text,
	    NULL, tlp);
}

int
tc_aggregate_add_product(struct tc_aggregate *agg, int64_t entity_id,
    const struct tc_event *ev, const char *asset, enum tc_tlp tlp)
{
	struct tc_buf key = TC_BUF_INIT;
	int           rc;

	/* One finding per (vulnerability, inventory entry): the sighting key
	 * is "CVE-2024-3400 cpe:2.3:o:paloaltonetworks:pan-os:10.2.9:...". */
	for (size_t i = 0; i < ev->n_cve; i++)
		tc_buf_printf(&key, "%s%s", i ? "," : "", ev->cve[i]);
	if (ev->n_cve == 0)
		tc_buf_puts(&key, ev->title ? ev->title : "advisory");
	tc_buf_printf(&key, " %s", asset ? asset : "");
	if (key.len > TC_AGGREGATE_TEXT_MAX) {
		key.len = TC_AGGREGATE_TEXT_MAX;
		key.data[key.len] = '\0';
	}
	rc = add_item(agg, entity_id, ev, NULL, key.data, asset, tlp);
	tc_buf_deinit(&key);
	return rc;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct tc_aggregate_item *x = a, *y = b;
	int                             c = strcmp(x->indicator, y->indicator);

	if (c != 0)
		return c;
	return (x->port > y->port) - (x->port < y->port);
}

static int
group_cmp(const void *a, const void *b)
{
	const struct tc_aggregate_group *x = a, *y = b;

	if (x->entity_id != y->entity_id)
		return x->entity_id < y->entity_id ? -1 : 1;
	return (x->category > y->category) - (x->category < y->category);
}

const struct tc_aggregate_group *
tc_aggregate_groups(struct tc_aggregate *agg, size_t *n)
{
	if (!agg->sorted) {
		for (size_t g = 0; g < agg->n_groups; g++)
			qsort(agg->groups[g].items, agg->groups[g].n_items,
			    sizeof(struct tc_aggregate_item), item_cmp);
		if (agg->n_groups > 0) /* qsort(NULL, 0) is undefined */
			qsort(agg->groups, agg->n_groups, sizeof(*agg->groups),
			    group_cmp);
		/* Sorting moved groups and items: rebuild the hash so that
		 * later adds still find them. */
		free(agg->t.slots);
		memset(&agg->t, 0, sizeof(agg->t));
		for (size_t g = 0; g < agg->n_groups; g++) {
			struct tc_aggregate_group *gr = &agg->groups[g];

			agg->cap_items[g] = gr->n_items;
			table_put(&agg->t,
			    group_hash(gr->entity_id, gr->category), g + 1, 0);
			for (size_t i = 0; i < gr->n_items; i++)
				table_put(&agg->t,
				    item_hash(g, gr->items[i].indicator,
					gr->items[i].port, gr->items[i].what),
				    g + 1, i + 1);
		}
		agg->sorted = 1;
	}
	*n = agg->n_groups;
	return agg->groups;
}

size_t
tc_aggregate_count(const struct tc_aggregate *agg)
{
	return agg->total;
}

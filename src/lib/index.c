/* index: the registry index and event matching.  See include/tocsin/index.h.
 *
 * Start here: tc_index_match_event() looks up every indicator of an event
 * (IP tables, ASN table, domain tables) and every product, keeps for each
 * entity the most specific asset that hit, and reports one hit per entity.
 * The tables are built by tc_index_build() from what the builder gathered;
 * after that nothing is written, which is what makes sharing safe. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "index_int.h"
#include "tocsin/indicator.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

enum asset_kind { A_IPV4, A_IPV6, A_ASN, A_DOMAIN, A_EMAIL_DOMAIN,
	A_PRODUCT };
static const char *const kind_names[] = { "ipv4", "ipv6", "asn", "domain",
	"email_domain", "product" };

struct asset {
	uint32_t        entity; /* index into entities */
	enum asset_kind kind;
	char           *text;   /* as shown in hits */
	uint8_t         plen;   /* prefixes */
	int             labels; /* domains */
};

struct product {
	char    *vendor, *product, *version;
	char    *nvendor, *nproduct; /* letters and digits only */
	uint32_t asset;
};

/* "Palo Alto Networks" and "paloaltonetworks", "PAN-OS" and "pan-os" are
 * the same names: KEV spells vendors and products in words, CPE in tokens. */
static void
name_norm(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; s && *s && n + 1 < size; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (unsigned char)c >= 0x80)
			out[n++] = c;
	}
	out[n] = '\0';
}

/* Vendors match when equal or when one is a prefix of the other ("git" and
 * "gitscm"), products must be equal. */
static int
vendor_matches(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la == 0 || lb == 0)
		return 0;
	return strncmp(a, b, la < lb ? la : lb) == 0 &&
	    (la < lb ? la : lb) >= 3;
}

struct asn_entry {
	uint32_t asn;
	uint32_t asset;
};

struct tc_index {
	atomic_uint             refs;
	struct tc_index_entity *entities;
	size_t                  n_entities;
	struct asset           *assets;
	size_t                  n_assets;
	struct ip_table         v4, v6;
	struct asn_entry       *asns;
	size_t                  n_asns;
	struct name_table       domains, email_domains;
	struct product         *products;
	size_t                  n_products;
	/* entity id → index, sorted by id for bsearch */
	int64_t                *ids;
	uint32_t               *id_index;
};

struct tc_index_builder {
	struct tc_index  *idx;
	size_t            cap_entities, cap_assets, cap_asns, cap_products;
	struct ip_prefix *v4, *v6;
	size_t            n_v4, n_v6, cap_v4, cap_v6;
	size_t            last;       /* last entity found by id */
	int               ids_sorted; /* entities added by increasing id */
};

struct tc_index_builder *
tc_index_builder_new(void)
{
	struct tc_index_builder *b = tc_xcalloc(1, sizeof(*b));

	b->idx = tc_xcalloc(1, sizeof(*b->idx));
	b->ids_sorted = 1;
	return b;
}

static void
index_free(struct tc_index *idx)
{
	if (idx == NULL)
		return;
	for (size_t i = 0; i < idx->n_entities; i++) {
		struct tc_index_entity *e = &idx->entities[i];

		free(e->enterprise_number), free(e->name), free(e->kind);
		free(e->sector), free(e->language);
	}
	for (size_t i = 0; i < idx->n_assets; i++)
		free(idx->assets[i].text);
	for (size_t i = 0; i < idx->n_products; i++) {
		free(idx->products[i].vendor);
		free(idx->products[i].product);
		free(idx->products[i].version);
		free(idx->products[i].nvendor);
		free(idx->products[i].nproduct);
	}
	tc_index__ip_free(&idx->v4);
	tc_index__ip_free(&idx->v6);
	tc_index__name_free(&idx->domains);
	tc_index__name_free(&idx->email_domains);
	free(idx->entities), free(idx->assets), free(idx->asns);
	free(idx->products), free(idx->ids), free(idx->id_index);
	free(idx);
}

void
tc_index_builder_free(struct tc_index_builder *b)
{
	if (b == NULL)
		return;
	index_free(b->idx);
	free(b->v4);
	free(b->v6);
	free(b);
}

static char *
dup0(const char *s)
{
	return tc_xstrdup(s ? s : "");
}

int
tc_index_builder_entity(struct tc_index_builder *b, int64_t id,
    const char *enterprise_number, const char *name, const char *kind,
    const char *sector, const char *language, struct tc_err *err)
{
	struct tc_index        *idx = b->idx;
	struct tc_index_entity *e;

	(void)err;
	if (idx->n_entities == b->cap_entities) {
		b->cap_entities = b->cap_entities ? b->cap_entities * 2 : 64;
		idx->entities = tc_xreallocarray(idx->entities, b->cap_entities,
		    sizeof(*idx->entities));
	}
	if (idx->n_entities > 0 && idx->entities[idx->n_entities - 1].id >= id)
		b->ids_sorted = 0;
	e = &idx->entities[idx->n_entities++];
	e->id = id;
	e->enterprise_number = dup0(enterprise_number);
	e->name = dup0(name);
	e->kind = dup0(kind);
	e->sector = dup0(sector);
	e->language = dup0(language);
	return 0;
}

/* Entity index by id, during building: the last one found is tried first
 * (assets come grouped by entity), then a binary search while entities were
 * added in increasing id order, else a linear scan. */
static int
builder_entity(struct tc_index_builder *b, int64_t id, uint32_t *out)
{
	const struct tc_index_entity *e = b->idx->entities;
	size_t                        n = b->idx->n_entities;

	if (b->last < n && e[b->last].id == id) {
		*out = (uint32_t)b->last;
		return 0;
	}
	if (b->ids_sorted) {
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (e[mid].id == id) {
				*out = (uint32_t)(b->last = mid);
				return 0;
			}
			if (e[mid].id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		return -1;
	}
	for (size_t i = n; i-- > 0;)
		if (e[i].id == id) {
			*out = (uint32_t)(b->last = i);
			return 0;
		}
	return -1;
}

static uint32_t
add_asset(struct tc_index_builder *b, uint32_t entity, enum asset_kind kind,
    const char *text)
{
	struct tc_index *idx = b->idx;

	if (idx->n_assets == b->cap_assets) {
		b->cap_assets = b->cap_assets ? b->cap_assets * 2 : 256;
		idx->assets = tc_xreallocarray(idx->assets, b->cap_assets,
		    sizeof(*idx->assets));
	}
	memset(&idx->assets[idx->n_assets], 0, sizeof(idx->assets[0]));
	idx->assets[idx->n_assets].entity = entity;
	idx->assets[idx->n_assets].kind = kind;
	idx->assets[idx->n_assets].text = tc_xstrdup(text);
	return (uint32_t)idx->n_assets++;
}

static tc_u128
to_u128(int family, const uint8_t a[16])
{
	tc_u128 v = 0;

	for (int i = 0; i < (family == 4 ? 4 : 16); i++)
		v = (v << 8) | a[i];
	return v;
}

static int
count_labels(const char *d)
{
	int n = 1;

	for (; *d; d++)
		n += *d == '.';
	return n;
}

/* CPE 2.3 → vendor, product, version (escapes dropped). */
static int
cpe_split(const char *cpe, char **vendor, char **product, char **version)
{
	char   f[3][256];
	int    n = 0;
	size_t k = 0;

	if (!tc_str_has_prefix(cpe, "cpe:2.3:"))
		return -1;
	cpe += 10; /* "cpe:2.3:a:" */
	memset(f, 0, sizeof(f));
	for (; *cpe && n < 3; cpe++) {
		if (*cpe == '\\' && cpe[1]) {
			cpe++;
		} else if (*cpe == ':') {
			n++;
			k = 0;
			continue;
		}
		if (k + 1 < sizeof(f[0]))
			f[n][k++] = *cpe;
	}
	if (f[0][0] == '\0' || f[1][0] == '\0')
		return -1;
	*vendor = tc_xstrdup(f[0]);
	*product = tc_xstrdup(f[1]);
	*version = tc_xstrdup(f[2]);
	tc_str_lower(*vendor);
	tc_str_lower(*product);
	return 0;
}

int
tc_index_builder_asset(struct tc_index_builder *b, int64_t entity_id,
    const char *type, const char *value, struct tc_err *err)
{
	struct tc_index *idx = b->idx;
	uint32_t         ent, a, existing;
	int              k = -1;

	for (int i = 0; i < 6; i++)
		if (strcmp(type, kind_names[i]) == 0)
			k = i;
	if (k < 0)
		return tc_err_set(err, TC_EINPUT, "asset type \"%s\" unknown",
		    type);
	if (builder_entity(b, entity_id, &ent) < 0)
		return tc_err_set(err, TC_EINPUT,
		    "asset %s: entity %lld not added", value,
		    (long long)entity_id);
	switch ((enum asset_kind)k) {
	case A_IPV4:
	case A_IPV6: {
		int                fam;
		uint8_t            addr[16];
		unsigned           plen, bits;
		struct ip_prefix **arr;
		size_t            *n, *cap;
		tc_u128            start, size;

		if (tc_ip_parse_prefix(value, &fam, addr, &plen, err) < 0)
			return TC_EINPUT;
		bits = fam == 4 ? 32 : 128;
		a = add_asset(b, ent, fam == 4 ? A_IPV4 : A_IPV6, value);
		idx->assets[a].plen = (uint8_t)plen;
		arr = fam == 4 ? &b->v4 : &b->v6;
		n = fam == 4 ? &b->n_v4 : &b->n_v6;
		cap = fam == 4 ? &b->cap_v4 : &b->cap_v6;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			*arr = tc_xreallocarray(*arr, *cap, sizeof(**arr));
		}
		start = to_u128(fam, addr);
		size = plen == 0 ? 0 : ((tc_u128)1 << (bits - plen));
		(*arr)[*n].start = start;
		(*arr)[*n].end = plen == 0
		    ? (fam == 4 ? (tc_u128)0xffffffffu : ~(tc_u128)0)
		    : start + size - 1;
		(*arr)[*n].plen = (uint8_t)plen;
		(*arr)[*n].asset = a;
		(*n)++;
		return 0;
	}
	case A_ASN: {
		uint64_t    asn;
		const char *d = value;
		char        txt[16];

		if (strncasecmp(d, "AS", 2) == 0)
			d += 2;
		if (tc_parse_uint(d, 1, UINT32_MAX, &asn) < 0)
			return tc_err_set(err, TC_EINPUT,
			    "\"%s\" is not an AS number", value);
		snprintf(txt, sizeof(txt), "AS%llu", (unsigned long long)asn);
		a = add_asset(b, ent, A_ASN, txt);
		if (idx->n_asns == b->cap_asns) {
			b->cap_asns = b->cap_asns ? b->cap_asns * 2 : 64;
			idx->asns = tc_xreallocarray(idx->asns, b->cap_asns,
			    sizeof(*idx->asns));
		}
		idx->asns[idx->n_asns].asn = (uint32_t)asn;
		idx->asns[idx->n_asns].asset = a;
		idx->n_asns++;
		return 0;
	}
	case A_DOMAIN:
	case A_EMAIL_DOMAIN: {
		struct tc_buf      d = TC_BUF_INIT;
		struct name_table *t = k == A_DOMAIN ? &idx->domains
						     : &idx->email_domains;

		if (tc_domain_normalise(value, strlen(value), &d, err) < 0) {
			tc_buf_deinit(&d);
			return TC_EINPUT;
		}
		a = add_asset(b, ent, (enum asset_kind)k, d.data);
		idx->assets[a].labels = count_labels(d.data);
		if (tc_index__name_put(t, d.data, a, &existing) == 1 &&
		    idx->assets[existing].entity != ent) {
			int rc = tc_err_set(err, TC_EINPUT,
			    "domain %s is registered to two entities",
			    d.data);

			tc_buf_deinit(&d);
			return rc;
		}
		tc_buf_deinit(&d);
		return 0;
	}
	case A_PRODUCT: {
		struct product p;
		char           nb[256];

		if (cpe_split(value, &p.vendor, &p.product, &p.version) < 0)
			return tc_err_set(err, TC_EINPUT,
			    "\"%s\" is not a CPE 2.3 name", value);
		name_norm(p.vendor, nb, sizeof(nb));
		p.nvendor = tc_xstrdup(nb);
		name_norm(p.product, nb, sizeof(nb));
		p.nproduct = tc_xstrdup(nb);
		p.asset = add_asset(b, ent, A_PRODUCT, value);
		if (idx->n_products == b->cap_products) {
			b->cap_products = b->cap_products ? b->cap_products * 2
							  : 64;
			idx->products = tc_xreallocarray(idx->products,
			    b->cap_products, sizeof(*idx->products));
		}
		idx->products[idx->n_products++] = p;
		return 0;
	}
	}
	return TC_EBUG;
}

static int
asn_cmp(const void *a, const void *b)
{
	const struct asn_entry *x = a, *y = b;

	return (x->asn > y->asn) - (x->asn < y->asn);
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct tc_index *
tc_index_build(struct tc_index_builder *b, struct tc_err *err)
{
	struct tc_index *idx = b->idx;
	const char     **text;
	int              rc = 0;

	text = tc_xcalloc(idx->n_assets + 1, sizeof(*text));
	for (size_t i = 0; i < idx->n_assets; i++)
		text[i] = idx->assets[i].text;
	if ((rc = tc_index__ip_build(&idx->v4, b->v4, b->n_v4, text, err)) <
		0 ||
	    (rc = tc_index__ip_build(&idx->v6, b->v6, b->n_v6, text, err)) < 0)
		goto fail;
	if (idx->n_asns > 0) /* qsort(NULL, 0, ...) is undefined */
		qsort(idx->asns, idx->n_asns, sizeof(*idx->asns), asn_cmp);
	for (size_t i = 1; i < idx->n_asns; i++)
		if (idx->asns[i].asn == idx->asns[i - 1].asn &&
		    idx->assets[idx->asns[i].asset].entity !=
			idx->assets[idx->asns[i - 1].asset].entity) {
			rc = tc_err_set(err, TC_EINPUT,
			    "AS%u is registered to two entities",
			    idx->asns[i].asn);
			goto fail;
		}
	/* id → entity index, for callers that know ids. */
	idx->ids = tc_xcalloc(idx->n_entities + 1, sizeof(*idx->ids));
	idx->id_index = tc_xcalloc(idx->n_entities + 1,
	    sizeof(*idx->id_index));
	{
		int64_t(*pairs)[2] = tc_xcalloc(idx->n_entities + 1,
		    sizeof(*pairs));

		for (size_t i = 0; i < idx->n_entities; i++) {
			pairs[i][0] = idx->entities[i].id;
			pairs[i][1] = (int64_t)i;
		}
		qsort(pairs, idx->n_entities, sizeof(*pairs), id_cmp);
		for (size_t i = 0; i < idx->n_entities; i++) {
			idx->ids[i] = pairs[i][0];
			idx->id_index[i] = (uint32_t)pairs[i][1];
			if (i > 0 && idx->ids[i] == idx->ids[i - 1]) {
				free(pairs);
				rc = tc_err_set(err, TC_EINPUT,
				    "entity id %lld added twice",
				    (long long)idx->ids[i]);
				goto fail;
			}
		}
		free(pairs);
	}
	free(text);
	free(b->v4);
	free(b->v6);
	free(b);
	atomic_init(&idx->refs, 1);
	return idx;
fail:
	free(text);
	tc_index_builder_free(b);
	(void)rc;
	return NULL;
}

struct tc_index *
tc_index_ref(struct tc_index *idx)
{
	atomic_fetch_add(&idx->refs, 1);
	return idx;
}

void
tc_index_unref(struct tc_index *idx)
{
	if (idx != NULL && atomic_fetch_sub(&idx->refs, 1) == 1)
		index_free(idx);
}

size_t
tc_index_entities(const struct tc_index *idx)
{
	return idx->n_entities;
}

size_t
tc_index_assets(const struct tc_index *idx)
{
	return idx->n_assets;
}

const struct tc_index_entity *
tc_index_entity_by_id(const struct tc_index *idx, int64_t id)
{
	size_t lo = 0, hi = idx->n_entities;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (idx->ids[mid] == id)
			return &idx->entities[idx->id_index[mid]];
		if (idx->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
tc_index_lookup_ip(const struct tc_index *idx, int family,
    const uint8_t addr[16], const struct tc_index_entity **entity,
    const char **asset, unsigned *plen)
{
	uint32_t a = tc_index__ip_lookup(family == 4 ? &idx->v4 : &idx->v6,
	    to_u128(family, addr));

	if (a == UINT32_MAX)
		return 0;
	*entity = &idx->entities[idx->assets[a].entity];
	*asset = idx->assets[a].text;
	if (plen)
		*plen = idx->assets[a].plen;
	return 1;
}

/* Most specific registered domain equal to `d` or a parent of it. */
static uint32_t
domain_find(const struct name_table *t, const char *d)
{
	const char *p = d;

	for (;;) {
		uint32_t a = tc_index__name_get(t, p, strlen(p));
		const char *dot;

		if (a != UINT32_MAX)
			return a;
		if ((dot = strchr(p, '.')) == NULL)
			return UINT32_MAX;
		p = dot + 1;
	}
}

int
tc_index_lookup_domain(const struct tc_index *idx, const char *domain,
    int email, const struct tc_index_entity **entity, const char **asset)
{
	uint32_t a = UINT32_MAX;

	if (email)
		a = domain_find(&idx->email_domains, domain);
	if (a == UINT32_MAX)
		a = domain_find(&idx->domains, domain);
	if (a == UINT32_MAX)
		return 0;
	*entity = &idx->entities[idx->assets[a].entity];
	*asset = idx->assets[a].text;
	return 1;
}

/* Per-event best hit per entity: events have few indicators, so a small
 * array scanned linearly beats any table. */
struct best {
	uint32_t entity, asset;
	size_t   ind, prod;
	int      score;
};

struct bests {
	struct best  local[16];
	struct best *v;
	size_t       n, cap;
};

static void
consider(struct bests *bs, const struct tc_index *idx, uint32_t asset,
    size_t ind, size_t prod, int score)
{
	uint32_t ent = idx->assets[asset].entity;

	for (size_t i = 0; i < bs->n; i++)
		if (bs->v[i].entity == ent) {
			if (score > bs->v[i].score)
				bs->v[i] = (struct best){ ent, asset, ind, prod,
					score };
			return;
		}
	if (bs->n == bs->cap) {
		size_t nc = bs->cap * 2;

		if (bs->v == bs->local) {
			bs->v = tc_xcalloc(nc, sizeof(*bs->v));
			memcpy(bs->v, bs->local, sizeof(bs->local));
		} else {
			bs->v = tc_xreallocarray(bs->v, nc, sizeof(*bs->v));
		}
		bs->cap = nc;
	}
	bs->v[bs->n++] = (struct best){ ent, asset, ind, prod, score };
}

int
tc_index_match_event(const struct tc_index *idx, const struct tc_event *ev,
    tc_index_hit_cb cb, void *arg)
{
	struct bests bs;
	int          rc = 0;

	bs.v = bs.local;
	bs.n = 0;
	bs.cap = TC_NELEM(bs.local);
	for (size_t i = 0; i < ev->n_ind; i++) {
		const struct tc_indicator *in = &ev->ind[i];
		uint32_t                   a;

		switch (in->type) {
		case TC_IND_IPV4:
		case TC_IND_IPV6:
			a = tc_index__ip_lookup(
			    in->family == 4 ? &idx->v4 : &idx->v6,
			    to_u128(in->family, in->addr));
			if (a != UINT32_MAX)
				consider(&bs, idx, a, i, 0,
				    100 + idx->assets[a].plen);
			break;
		case TC_IND_ASN: {
			size_t lo = 0, hi = idx->n_asns;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (idx->asns[mid].asn < in->asn)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < idx->n_asns && idx->asns[lo].asn == in->asn;
			     lo++)
				consider(&bs, idx, idx->asns[lo].asset, i, 0, 10);
			break;
		}
		case TC_IND_URL:
			if (in->domain == NULL && in->family != 0) {
				a = tc_index__ip_lookup(in->family == 4
					? &idx->v4
					: &idx->v6,
				    to_u128(in->family, in->addr));
				if (a != UINT32_MAX)
					consider(&bs, idx, a, i, 0,
					    100 + idx->assets[a].plen);
				break;
			}
			/* The URL's host is a name: match it as one. */
			__attribute__((fallthrough));
		case TC_IND_DOMAIN:
		case TC_IND_EMAIL: {
			const char *d = in->domain;

			if (d == NULL)
				break;
			a = UINT32_MAX;
			if (in->type == TC_IND_EMAIL)
				a = domain_find(&idx->email_domains, d);
			if (a == UINT32_MAX)
				a = domain_find(&idx->domains, d);
			if (a != UINT32_MAX)
				consider(&bs, idx, a, i, 0,
				    200 + idx->assets[a].labels);
			break;
		}
		}
	}
	for (size_t k = 0; k < ev->n_prod; k++) {
		const struct tc_product *p = &ev->prod[k];
		char                     nv[256], np[256];

		if (p->vendor == NULL || p->product == NULL)
			continue;
		name_norm(p->vendor, nv, sizeof(nv));
		name_norm(p->product, np, sizeof(np));
		for (size_t j = 0; j < idx->n_products; j++) {
			const struct product *ip = &idx->products[j];

			if (strcmp(ip->nproduct, np) != 0 ||
			    !vendor_matches(ip->nvendor, nv))
				continue;
			if (!tc_version_in(ip->version, p))
				continue;
			consider(&bs, idx, ip->asset, (size_t)-1, k, 500);
		}
	}
	for (size_t i = 0; i < bs.n && rc >= 0; i++) {
		const struct asset *as = &idx->assets[bs.v[i].asset];
		struct tc_index_hit h = {
			.entity = &idx->entities[bs.v[i].entity],
			.asset = as->text,
			.asset_type = kind_names[as->kind],
			.indicator = bs.v[i].ind,
			.product = bs.v[i].prod,
			.score = bs.v[i].score,
		};

		rc = cb(ev, &h, arg);
	}
	if (bs.v != bs.local)
		free(bs.v);
	return rc < 0 ? rc : (int)bs.n;
}

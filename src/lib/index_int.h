/* index_int.h: what the files of the index module share (index.c,
 * index_ip.c, index_domain.c).  Not part of the library's API. */
#ifndef TOCSIN_INDEX_INT_H
#define TOCSIN_INDEX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/index.h"

typedef unsigned __int128 tc_u128;

/* One registered prefix, as added. */
struct ip_prefix {
	tc_u128  start, end; /* IPv4 in the low 32 bits */
	uint32_t asset;      /* index into the asset table */
	uint8_t  plen;
};

/* Disjoint ranges, sorted, each mapped to its most specific prefix: a
 * lookup is one binary search. */
struct ip_table {
	tc_u128  *starts;  /* first address of each range */
	tc_u128  *ends;
	uint32_t *asset;   /* UINT32_MAX: a gap, nobody's */
	size_t    n;
};

/* Build from prefixes (sorted and consumed); 0 or TC_EINPUT with err
 * naming a duplicate prefix. */
int tc_index__ip_build(struct ip_table *t, struct ip_prefix *p, size_t n,
    const char *const *asset_text, struct tc_err *err);
/* Asset index of the most specific prefix containing `a`, or UINT32_MAX. */
uint32_t tc_index__ip_lookup(const struct ip_table *t, tc_u128 a);
void tc_index__ip_free(struct ip_table *t);

/* Exact-string hash table: domain → asset index. */
struct name_table {
	char    **keys;
	uint32_t *asset;
	size_t    cap; /* power of two */
	size_t    n;
};

/* 0, or 1 if the key was there (its asset is left as it was). */
int tc_index__name_put(struct name_table *t, const char *key, uint32_t asset,
    uint32_t *existing);
uint32_t tc_index__name_get(const struct name_table *t, const char *key,
    size_t len);
void tc_index__name_free(struct name_table *t);

#endif

/* index: the immutable in-memory index of the registry, and matching.
 *
 * Built once from the registry's entities and assets (a builder, then
 * tc_index_build()), never modified afterwards and reference-counted, so the
 * daemon builds a new one on a pool thread when the registry changes and
 * swaps it in on the loop; lookups from any thread see either the old or
 * the new index, never a half-built one.
 *
 * What matches what:
 *   IPv4/IPv6 address  → the most specific registered prefix containing it
 *                        (longest-prefix match; a network indicator is
 *                        matched by its network address)
 *   ASN                → the entity registered with that AS number, in
 *                        addition to any prefix owner (an ISP registered by
 *                        ASN hears about its customers' hosts)
 *   domain, URL host   → the most specific registered domain it equals or
 *                        ends with on a label boundary (a.b.example.be hits
 *                        example.be; ample.be never does)
 *   email              → the email_domain (else domain) asset of its domain,
 *                        by the same suffix rule
 *   product            → CPE 2.3 vendor:product of the inventory, when the
 *                        inventory's version is in the event's range (or
 *                        either side names no version)
 * An event gives at most one hit per entity, naming the most specific asset.
 * Pure; the index is read-only after build. */
#ifndef TOCSIN_INDEX_H
#define TOCSIN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/err.h"
#include "tocsin/event.h"

struct tc_index;
struct tc_index_builder;

/* An entity as the index knows it (strings owned by the index). */
struct tc_index_entity {
	int64_t id;
	char   *enterprise_number;
	char   *name;
	char   *kind;     /* essential important public_admin other */
	char   *sector;
	char   *language;
};

struct tc_index_hit {
	const struct tc_index_entity *entity;
	const char *asset;     /* "198.51.100.128/26", "AS64500", "a.example" */
	const char *asset_type;/* "ipv4" "ipv6" "asn" "domain" "email_domain"
				  "product" */
	size_t      indicator; /* index into ev->ind, or (size_t)-1 for a
				  product hit */
	size_t      product;   /* index into ev->prod for a product hit */
	int         score;     /* specificity, higher is more specific */
};

/* Called once per (event, entity); the hit is borrowed for the call.
 * Returning negative stops the matching of this event with that value. */
typedef int (*tc_index_hit_cb)(const struct tc_event *ev,
    const struct tc_index_hit *hit, void *arg);

struct tc_index_builder *tc_index_builder_new(void);
/* Add an entity; its id must be unique.  Strings are copied. */
int tc_index_builder_entity(struct tc_index_builder *b, int64_t id,
    const char *enterprise_number, const char *name, const char *kind,
    const char *sector, const char *language, struct tc_err *err);
/* Add an asset of an entity added before: type as in the schema
 * (ipv4 ipv6 asn domain email_domain product), value as stored ("192.0.2.0/24",
 * "64500", "a.example", "cpe:2.3:..."). Two entities owning the same exact
 * prefix, ASN or domain is an error (the schema forbids it too). */
int tc_index_builder_asset(struct tc_index_builder *b, int64_t entity_id,
    const char *type, const char *value, struct tc_err *err);
/* Build the index (the builder is consumed, even on error). */
struct tc_index *tc_index_build(struct tc_index_builder *b,
    struct tc_err *err);
void tc_index_builder_free(struct tc_index_builder *b);

struct tc_index *tc_index_ref(struct tc_index *idx);
void tc_index_unref(struct tc_index *idx);

/* Match one event: `cb` runs once per entity hit.  Returns the number of
 * hits, or a negative value returned by `cb`. */
int tc_index_match_event(const struct tc_index *idx,
    const struct tc_event *ev, tc_index_hit_cb cb, void *arg);

/* Lower-level lookups (tests, benchmarks): 1 found, 0 not found. */
int tc_index_lookup_ip(const struct tc_index *idx, int family,
    const uint8_t addr[16], const struct tc_index_entity **entity,
    const char **asset, unsigned *plen);
int tc_index_lookup_domain(const struct tc_index *idx, const char *domain,
    int email, const struct tc_index_entity **entity, const char **asset);

size_t tc_index_entities(const struct tc_index *idx);
size_t tc_index_assets(const struct tc_index *idx);
const struct tc_index_entity *tc_index_entity_by_id(const struct tc_index *idx,
    int64_t id);

/* Version order for product ranges: numeric parts numerically, "rc",
 * "alpha", "beta", "dev", "pre" before the release ("2.44.0-rc0" <
 * "2.44.0"), other suffixes after it ("10.2.9-h1" > "10.2.9").  <0, 0, >0. */
int tc_version_cmp(const char *a, const char *b);
/* Is `version` inside the product's version or range?  A NULL/"*"/"-"
 * version, or a product without version information, is inside. */
int tc_version_in(const char *version, const struct tc_product *p);

#endif

/* bench/match: national-scale matching benchmark.
 *
 *   match gen DIR      write DIR/prefixes.tsv (for PostgreSQL), DIR/feed.csv
 *                      (a Shadowserver-style scan_rdp report) and
 *                      DIR/sample.txt (IPs for the PostgreSQL comparison)
 *   match run DIR      build the index from the same generated registry,
 *                      then time end-to-end parse+match of DIR/feed.csv and
 *                      pure lookups; print key=value lines
 *
 * The registry is generated from a fixed seed, so `gen` and `run` see the
 * same data: 50,000 entities, 500,000 IPv4 and 100,000 IPv6 prefixes,
 * 200,000 domains, 10,000 ASNs; the feed has 2,000,000 rows of which about
 * 10% fall in registered space. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tocsin/index.h"
#include "tocsin/match.h"

#define ENTITIES 50000
#define V4 500000
#define V6 100000
#define DOMAINS 200000
#define ASNS 10000
#define ROWS 2000000
#define LOOKUPS 5000000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	/* xorshift64*: fast, fixed sequence for a fixed seed. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Registered IPv4 space: prefixes /20../28 inside 100.64.0.0/10 .. the
 * generator walks addresses upwards so prefixes never repeat; one in ten
 * is nested inside the previous one (customer inside ISP). */
struct gen {
	uint32_t v4[V4];
	uint8_t  v4len[V4];
	uint32_t owner[V4];
};

static struct gen g;

static void
gen_registry(void)
{
	uint32_t base = 0x0b000000; /* 11.0.0.0, upwards */

	rng = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < V4; i++) {
		if (i > 0 && next() % 10 == 0 && g.v4len[i - 1] < 28) {
			/* nested: the first half of the previous prefix */
			g.v4len[i] = (uint8_t)(g.v4len[i - 1] + 1);
			g.v4[i] = g.v4[i - 1];
			if (g.v4[i] == g.v4[i - 1] && g.v4len[i] == g.v4len[i - 1])
				g.v4len[i]++;
		} else {
			uint8_t  len = (uint8_t)(20 + next() % 9);
			uint32_t size = 1u << (32 - len);

			base = (base + size - 1) & ~(size - 1);
			g.v4[i] = base;
			g.v4len[i] = len;
			base += size * (1 + (uint32_t)(next() % 4));
		}
		g.owner[i] = (uint32_t)(next() % ENTITIES);
	}
}

static void
ip4(uint32_t a, char *out, size_t n)
{
	snprintf(out, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
	    a & 255);
}

static int
cmd_gen(const char *dir)
{
	char  path[4096], ip[32];
	FILE *fp;

	gen_registry();
	snprintf(path, sizeof(path), "%s/prefixes.tsv", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return perror(path), 1;
	for (size_t i = 0; i < V4; i++) {
		ip4(g.v4[i], ip, sizeof(ip));
		fprintf(fp, "%s/%u\t%u\n", ip, g.v4len[i], g.owner[i]);
	}
	fclose(fp);
	snprintf(path, sizeof(path), "%s/feed.csv", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return perror(path), 1;
	fputs("\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\","
	      "\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\","
	      "\"naics\",\"sector\",\"rdp_protocol\"\n",
	    fp);
	{
		FILE *sp;

		snprintf(path, sizeof(path), "%s/sample.txt", dir);
		if ((sp = fopen(path, "w")) == NULL)
			return perror(path), 1;
		for (size_t r = 0; r < ROWS; r++) {
			uint32_t a;

			if (next() % 10 == 0) { /* inside a registered prefix */
				size_t k = (size_t)(next() % V4);

				a = g.v4[k] + (uint32_t)(next() %
				    (1u << (32 - g.v4len[k])));
			} else {
				a = 0xc0000000u + (uint32_t)(next() % 0x10000000u);
			}
			ip4(a, ip, sizeof(ip));
			fprintf(fp,
			    "\"2026-11-23 01:02:03\",\"medium\",\"%s\",\"tcp\","
			    "3389,,\"rdp\",%u,\"BE\",\"Brussels\",\"Brussels\","
			    ",,\"RDP\"\n",
			    ip, 64500 + (unsigned)(next() % 20000));
			if (r < 50000)
				fprintf(sp, "%s\n", ip);
		}
		fclose(sp);
	}
	fclose(fp);
	return 0;
}

static int
count_hit(const struct tc_event *ev, const struct tc_index_hit *h, void *arg)
{
	(void)ev;
	(void)h;
	(*(size_t *)arg)++;
	return 0;
}

static int
cmd_run(const char *dir)
{
	struct tc_index_builder *b;
	struct tc_index         *idx;
	struct tc_err            err;
	struct tc_match_stats    st;
	struct tc_feed_opts      opts;
	struct rusage            ru;
	char                     path[4096], name[64];
	double                   t0, t_build, t_e2e, t_look;
	size_t                   hits = 0, found = 0;

	gen_registry();
	t0 = now();
	b = tc_index_builder_new();
	for (int64_t e = 0; e < ENTITIES; e++) {
		char en[16];

		snprintf(en, sizeof(en), "%04d.%03d.%03d", (int)(e / 1000000),
		    (int)(e / 1000 % 1000), (int)(e % 1000));
		snprintf(name, sizeof(name), "Entity %d", (int)e);
		tc_index_builder_entity(b, e, en, name, "other", "energy", "en",
		    &err);
	}
	/* Assets are added grouped by entity, as the database returns them:
	 * here in generation order, which the builder also accepts. */
	for (size_t i = 0; i < V4; i++) {
		char p[40];

		ip4(g.v4[i], p, sizeof(p));
		snprintf(p + strlen(p), sizeof(p) - strlen(p), "/%u",
		    g.v4len[i]);
		if (tc_index_builder_asset(b, g.owner[i], "ipv4", p, &err) < 0)
			return fprintf(stderr, "%s\n", err.msg), 1;
	}
	for (size_t i = 0; i < V6; i++) {
		char p[64];

		snprintf(p, sizeof(p), "2001:db8:%x:%x::/64", (unsigned)(i >> 16),
		    (unsigned)(i & 0xffff));
		tc_index_builder_asset(b, (int64_t)(i % ENTITIES), "ipv6", p,
		    &err);
	}
	for (size_t i = 0; i < DOMAINS; i++) {
		char d[64];

		snprintf(d, sizeof(d), "org%zu.example", i);
		tc_index_builder_asset(b, (int64_t)(i % ENTITIES), "domain", d,
		    &err);
	}
	for (size_t i = 0; i < ASNS; i++) {
		char a[16];

		snprintf(a, sizeof(a), "%zu", 64500 + i);
		tc_index_builder_asset(b, (int64_t)(i % ENTITIES), "asn", a,
		    &err);
	}
	idx = tc_index_build(b, &err);
	if (idx == NULL)
		return fprintf(stderr, "build: %s\n", err.msg), 1;
	t_build = now() - t0;

	tc_feed_opts_init(&opts);
	snprintf(path, sizeof(path), "%s/feed.csv", dir);
	t0 = now();
	if (tc_match_file(idx, path, TC_FEED_SHADOWSERVER, &opts, count_hit,
		NULL, &hits, &st, &err) < 0)
		return fprintf(stderr, "match: %s\n", err.msg), 1;
	t_e2e = now() - t0;

	t0 = now();
	for (size_t i = 0; i < LOOKUPS; i++) {
		const struct tc_index_entity *e;
		const char                   *asset;
		uint8_t                       a[16] = { 0 };
		uint32_t                      v;

		if (i % 10 == 0) {
			size_t k = (size_t)(next() % V4);

			v = g.v4[k] + 1;
		} else {
			v = (uint32_t)next();
		}
		a[0] = (uint8_t)(v >> 24), a[1] = (uint8_t)(v >> 16);
		a[2] = (uint8_t)(v >> 8), a[3] = (uint8_t)v;
		found += (size_t)tc_index_lookup_ip(idx, 4, a, &e, &asset, NULL);
	}
	t_look = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("entities=%d ipv4=%d ipv6=%d domains=%d asns=%d assets=%zu\n",
	    ENTITIES, V4, V6, DOMAINS, ASNS, tc_index_assets(idx));
	printf("build_s=%.3f\n", t_build);
	printf("rows=%zu events=%zu hits=%zu e2e_s=%.3f e2e_rows_per_s=%.0f\n",
	    st.feed.records, st.feed.events, hits, t_e2e,
	    (double)st.feed.records / t_e2e);
	printf("lookups=%d found=%zu lookup_s=%.3f lookups_per_s=%.0f\n",
	    LOOKUPS, found, t_look, LOOKUPS / t_look);
	printf("peak_rss_mb=%.1f\n", (double)ru.ru_maxrss / 1024.0);
	tc_index_unref(idx);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
		return cmd_gen(argv[2]);
	if (argc == 3 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2]);
	fprintf(stderr, "usage: match gen|run DIR\n");
	return 2;
}

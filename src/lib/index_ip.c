/* index_ip: longest-prefix match for IPv4 and IPv6.
 *
 * Design note.  Prefixes nest but never cross, so sorting them by start
 * (then shortest first) and sweeping with a stack of open prefixes cuts the
 * address space into disjoint ranges, each owned by the innermost prefix
 * covering it.  A lookup is then a binary search over range starts: about
 * 20 comparisons for a million ranges, no pointer chasing, and the arrays
 * are built once and only read afterwards. */
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "tocsin/mem.h"

static int
prefix_cmp(const void *a, const void *b)
{
	const struct ip_prefix *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->plen > y->plen) - (x->plen < y->plen);
}

static void
push_range(struct ip_table *t, size_t *cap, tc_u128 s, tc_u128 e,
    uint32_t asset)
{
	if (s > e)
		return;
	/* Merge with the previous range of the same owner. */
	if (t->n > 0 && t->asset[t->n - 1] == asset &&
	    t->ends[t->n - 1] + 1 == s) {
		t->ends[t->n - 1] = e;
		return;
	}
	if (t->n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		t->starts = tc_xreallocarray(t->starts, *cap, sizeof(tc_u128));
		t->ends = tc_xreallocarray(t->ends, *cap, sizeof(tc_u128));
		t->asset = tc_xreallocarray(t->asset, *cap, sizeof(uint32_t));
	}
	t->starts[t->n] = s;
	t->ends[t->n] = e;
	t->asset[t->n] = asset;
	t->n++;
}

int
tc_index__ip_build(struct ip_table *t, struct ip_prefix *p, size_t n,
    const char *const *asset_text, struct tc_err *err)
{
	struct ip_prefix *stack;
	size_t            depth = 0, cap = 0;
	tc_u128           cursor = 0;
	int               have_cursor = 0;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	qsort(p, n, sizeof(*p), prefix_cmp);
	for (size_t i = 1; i < n; i++)
		if (p[i].start == p[i - 1].start && p[i].plen == p[i - 1].plen)
			return tc_err_set(err, TC_EINPUT,
			    "prefix %s is registered twice",
			    asset_text[p[i].asset]);
	stack = tc_xcalloc(n + 1, sizeof(*stack));
	/* `cursor` is the first address not yet assigned to a range. */
	for (size_t i = 0; i <= n; i++) {
		/* Close the open prefixes that end before the next one. */
		while (depth > 0 &&
		    (i == n || stack[depth - 1].end < p[i].start)) {
			struct ip_prefix *top = &stack[depth - 1];

			if (!have_cursor || cursor <= top->end) {
				push_range(t, &cap,
				    have_cursor && cursor > top->start
					? cursor
					: top->start,
				    top->end, top->asset);
			}
			have_cursor = 1;
			cursor = top->end + 1;
			depth--;
			if (top->end == (tc_u128)-1)
				break; /* ::/0 ends the space */
		}
		if (i == n)
			break;
		/* The part of the enclosing prefix before this one. */
		if (depth > 0 && (!have_cursor || cursor < p[i].start)) {
			struct ip_prefix *top = &stack[depth - 1];

			push_range(t, &cap,
			    have_cursor && cursor > top->start ? cursor
							       : top->start,
			    p[i].start - 1, top->asset);
		}
		have_cursor = 1;
		cursor = p[i].start;
		stack[depth++] = p[i];
	}
	free(stack);
	return 0;
}

uint32_t
tc_index__ip_lookup(const struct ip_table *t, tc_u128 a)
{
	size_t lo = 0, hi = t->n;

	/* Last range whose start <= a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->starts[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || t->ends[lo - 1] < a)
		return UINT32_MAX;
	return t->asset[lo - 1];
}

void
tc_index__ip_free(struct ip_table *t)
{
	free(t->starts);
	free(t->ends);
	free(t->asset);
	memset(t, 0, sizeof(*t));
}

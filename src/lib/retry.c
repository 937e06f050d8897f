/* retry: exponential backoff with equal jitter (see retry.h). */
#include "tocsin/retry.h"

unsigned
tc_retry_delay_s(const struct tc_retry_policy *p, unsigned attempt,
    uint32_t rnd)
{
	uint64_t d = p->base_s ? p->base_s : 1;
	uint64_t cap = p->max_s > d ? p->max_s : d;
	uint64_t lo;

	if (attempt < 1)
		attempt = 1;
	/* Doubling stops at the cap; 2^63 is never reached. */
	for (unsigned i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	lo = d / 2 ? d / 2 : 1;
	/* lo + rnd * (d - lo) / 2^32, in integers. */
	return (unsigned)(lo + ((d - lo) * (uint64_t)rnd >> 32) +
	    ((d - lo) && rnd == UINT32_MAX ? 1 : 0));
}

bool
tc_retry_may_retry(const struct tc_retry_policy *p, unsigned attempts)
{
	return attempts < p->max_attempts;
}

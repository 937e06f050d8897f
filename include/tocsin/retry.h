/* retry: when to try a deferred message again.
 *
 * Exponential backoff with jitter: attempt n (1 = the first failure) waits
 * base * 2^(n-1), capped at max, then a random factor in [0.5, 1.0] is
 * applied ("equal jitter"), so that a server coming back after an outage is
 * not hit by every deferred message in the same second.  After
 * max_attempts tries a temporary failure becomes final.  Pure; any thread
 * (the caller supplies the random value). */
#ifndef TOCSIN_RETRY_H
#define TOCSIN_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct tc_retry_policy {
	unsigned base_s;       /* first delay, >= 1 */
	unsigned max_s;        /* cap, >= base_s */
	unsigned max_attempts; /* tries in all, >= 1 */
};

/* Seconds to wait after failed attempt number `attempt` (1-based), with
 * `rnd` a uniform random 32-bit value.  Always in [max(1, d/2), d] where d
 * is the capped exponential delay. */
unsigned tc_retry_delay_s(const struct tc_retry_policy *p, unsigned attempt,
    uint32_t rnd);

/* True when a message that has been tried `attempts` times may be tried
 * again after a temporary failure. */
bool tc_retry_may_retry(const struct tc_retry_policy *p, unsigned attempts);

#endif

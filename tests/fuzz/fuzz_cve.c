/* Fuzz target: the cve feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_CVE
#include "fuzz_feed.h"

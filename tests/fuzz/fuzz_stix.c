/* Fuzz target: the stix feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_STIX
#include "fuzz_feed.h"

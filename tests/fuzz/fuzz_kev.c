/* Fuzz target: the kev feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_KEV
#include "fuzz_feed.h"

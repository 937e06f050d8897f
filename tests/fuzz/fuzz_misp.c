/* Fuzz target: the misp feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_MISP
#include "fuzz_feed.h"

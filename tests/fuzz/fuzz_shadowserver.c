/* Fuzz target: the shadowserver feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_SHADOWSERVER
#include "fuzz_feed.h"

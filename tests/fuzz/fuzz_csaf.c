/* Fuzz target: the csaf feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_CSAF
#include "fuzz_feed.h"

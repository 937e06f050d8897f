/* Fuzz target: the creds feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_CREDS
#include "fuzz_feed.h"

/* Fuzz target: the ioc feed parser (body in fuzz_feed.h). */
#define FUZZ_FEED_FORMAT TC_FEED_IOC
#include "fuzz_feed.h"

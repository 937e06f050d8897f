/* category: the mapping from feed report types to event categories, one
 * table in src/lib/category.c, apart from the templates.  Pure. */
#ifndef TOCSIN_CATEGORY_H
#define TOCSIN_CATEGORY_H

#include "tocsin/event.h"

/* "scan_rdp", "event4_sinkhole_http", "malware_url", ... → category;
 * TC_CAT_OTHER when nothing matches. */
enum tc_category tc_category_for_report(const char *report_type);

#endif

/* category: the one table from feed report types to categories, kept apart
 * from the templates (a new Shadowserver report needs one row here, not a
 * template).  Matching is by prefix of the report type or file name, first
 * match wins, so specific rows come before general ones. */
#include <string.h>

#include "tocsin/category.h"
#include "tocsin/str.h"

static const struct {
	const char      *prefix;
	enum tc_category cat;
} rows[] = {
	/* Shadowserver: compromised and infected hosts. */
	{ "event4_sinkhole", TC_CAT_COMPROMISED_HOST },
	{ "event6_sinkhole", TC_CAT_COMPROMISED_HOST },
	{ "event4_microsoft_sinkhole", TC_CAT_COMPROMISED_HOST },
	{ "event4_honeypot", TC_CAT_COMPROMISED_HOST },
	{ "event6_honeypot", TC_CAT_COMPROMISED_HOST },
	{ "event4_ip_spoofer", TC_CAT_COMPROMISED_HOST },
	{ "honeypot", TC_CAT_COMPROMISED_HOST },
	{ "botnet", TC_CAT_COMPROMISED_HOST },
	{ "drone", TC_CAT_COMPROMISED_HOST },
	{ "sinkhole", TC_CAT_COMPROMISED_HOST },
	{ "infected", TC_CAT_COMPROMISED_HOST },
	{ "device_id", TC_CAT_EXPOSED_SERVICE },
	/* Compromised websites and malicious infrastructure. */
	{ "compromised_website", TC_CAT_COMPROMISED_WEBSITE },
	{ "event4_compromised_website", TC_CAT_COMPROMISED_WEBSITE },
	{ "malware_url", TC_CAT_MALICIOUS_INFRA },
	{ "blocklist", TC_CAT_MALICIOUS_INFRA },
	{ "phish", TC_CAT_MALICIOUS_INFRA },
	{ "c2", TC_CAT_MALICIOUS_INFRA },
	{ "ioc", TC_CAT_MALICIOUS_INFRA },
	{ "misp", TC_CAT_MALICIOUS_INFRA },
	{ "stix", TC_CAT_MALICIOUS_INFRA },
	{ "creds", TC_CAT_LEAKED_CREDENTIALS },
	{ "leak", TC_CAT_LEAKED_CREDENTIALS },
	{ "kev", TC_CAT_VULNERABLE_PRODUCT },
	{ "csaf", TC_CAT_VULNERABLE_PRODUCT },
	/* Scans: "vulnerable" reports and exposed services. */
	{ "scan_http_vulnerable", TC_CAT_VULNERABLE_SERVICE },
	{ "scan6_http_vulnerable", TC_CAT_VULNERABLE_SERVICE },
	{ "scan_exchange", TC_CAT_VULNERABLE_SERVICE },
	{ "scan_ssl_poodle", TC_CAT_VULNERABLE_SERVICE },
	{ "scan_ssl_freak", TC_CAT_VULNERABLE_SERVICE },
	{ "scan_smb", TC_CAT_VULNERABLE_SERVICE },
	{ "scan_rdp", TC_CAT_EXPOSED_SERVICE },
	{ "scan_ics", TC_CAT_EXPOSED_SERVICE },
	{ "scan_", TC_CAT_EXPOSED_SERVICE },
	{ "scan6_", TC_CAT_EXPOSED_SERVICE },
	{ "special", TC_CAT_OTHER },
};

enum tc_category
tc_category_for_report(const char *report_type)
{
	if (report_type == NULL)
		return TC_CAT_OTHER;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (tc_str_has_prefix(report_type, rows[i].prefix))
			return rows[i].cat;
	/* "vulnerable" anywhere in a scan name means a vulnerable service. */
	if (strstr(report_type, "vulnerable") != NULL)
		return TC_CAT_VULNERABLE_SERVICE;
	return TC_CAT_OTHER;
}

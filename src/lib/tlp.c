/* tlp: see include/tocsin/tlp.h and ../shared/reference/STANDARDS.md §1. */
#include <string.h>

#include "tocsin/err.h"
#include "tocsin/str.h"
#include "tocsin/tlp.h"

static const struct {
	const char *label, *name, *colour;
} tlp_table[] = {
	[TC_TLP_CLEAR] = { "TLP:CLEAR", "CLEAR", "#FFFFFF" },
	[TC_TLP_GREEN] = { "TLP:GREEN", "GREEN", "#33FF00" },
	[TC_TLP_AMBER] = { "TLP:AMBER", "AMBER", "#FFC000" },
	[TC_TLP_AMBER_STRICT] = { "TLP:AMBER+STRICT", "AMBER+STRICT",
		"#FFC000" },
	[TC_TLP_RED] = { "TLP:RED", "RED", "#FF2B2B" },
};

int
tc_tlp_parse(const char *s, enum tc_tlp *out)
{
	char   word[32];
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "tlp", 3) == 0 && (s[3] == ':' || s[3] == '-' ||
						 s[3] == '_' || s[3] == ' ')) {
		s += 4;
		while (*s == ' ')
			s++;
	}
	for (; *s && *s != ' ' && *s != '\t'; s++) {
		if (n + 1 >= sizeof(word))
			return TC_EINPUT;
		word[n++] = *s;
	}
	word[n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '\0')
		return TC_EINPUT;
	for (int i = TC_TLP_CLEAR; i <= TC_TLP_RED; i++) {
		if (tc_str_case_eq(word, tlp_table[i].name)) {
			*out = (enum tc_tlp)i;
			return 0;
		}
	}
	if (tc_str_case_eq(word, "WHITE")) { /* TLP 1.0 */
		*out = TC_TLP_CLEAR;
		return 0;
	}
	if (tc_str_case_eq(word, "AMBER_STRICT")) { /* CSAF 2.1 enum form */
		*out = TC_TLP_AMBER_STRICT;
		return 0;
	}
	return TC_EINPUT;
}

const char *
tc_tlp_label(enum tc_tlp tlp)
{
	return tlp <= TC_TLP_RED ? tlp_table[tlp].label : "TLP:RED";
}

const char *
tc_tlp_name(enum tc_tlp tlp)
{
	return tlp <= TC_TLP_RED ? tlp_table[tlp].name : "RED";
}

const char *
tc_tlp_colour(enum tc_tlp tlp)
{
	return tlp <= TC_TLP_RED ? tlp_table[tlp].colour : "#FF2B2B";
}

enum tc_tlp
tc_tlp_max(enum tc_tlp a, enum tc_tlp b)
{
	return a > b ? a : b;
}

bool
tc_tlp_allows(enum tc_tlp clearance, enum tc_tlp content)
{
	return clearance >= content;
}

bool
tc_tlp_needs_encryption(enum tc_tlp tlp)
{
	return tlp >= TC_TLP_AMBER;
}

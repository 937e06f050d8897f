/* tlp: FIRST Traffic Light Protocol 2.0 labels.
 *
 * The enum is ordered from least to most restrictive, so `a > b` means "a is
 * stricter than b" and combining inputs takes the maximum.  Input is accepted
 * case-insensitively, with or without "TLP:", with a space after the colon,
 * and legacy WHITE is read as CLEAR; output is always the exact TLP 2.0 label.
 * Pure; any thread. */
#ifndef TOCSIN_TLP_H
#define TOCSIN_TLP_H

#include <stdbool.h>

enum tc_tlp {
	TC_TLP_CLEAR = 0,
	TC_TLP_GREEN,
	TC_TLP_AMBER,
	TC_TLP_AMBER_STRICT,
	TC_TLP_RED,
};

#define TC_TLP_LABEL_MAX sizeof("TLP:AMBER+STRICT")

/* Parse a label ("TLP:AMBER", "amber+strict", "tlp:white", "TLP: RED").
 * Returns 0 and sets *out, or TC_EINPUT. */
int tc_tlp_parse(const char *s, enum tc_tlp *out);
/* "TLP:AMBER+STRICT" etc.; never NULL. */
const char *tc_tlp_label(enum tc_tlp tlp);
/* "AMBER+STRICT" etc. (the label without "TLP:"), as stored in the DB. */
const char *tc_tlp_name(enum tc_tlp tlp);
/* Official FIRST font colour, "#FFC000" etc.; background is always black. */
const char *tc_tlp_colour(enum tc_tlp tlp);
/* The most restrictive of two labels. */
enum tc_tlp tc_tlp_max(enum tc_tlp a, enum tc_tlp b);
/* True when content labelled `content` may be sent to a recipient cleared
 * up to `clearance` (clearance >= content). */
bool tc_tlp_allows(enum tc_tlp clearance, enum tc_tlp content);
/* True when the label demands encrypted mail (RED, AMBER+STRICT, AMBER). */
bool tc_tlp_needs_encryption(enum tc_tlp tlp);

#endif

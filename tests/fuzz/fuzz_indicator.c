/* Fuzz target: indicator parsing and normalisation (every type hint and the
 * guess), plus CIDR parsing.  A parsed indicator must re-parse to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/indicator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_indicator ind, again;
	struct tc_err       err;

	for (int hint = -1; hint <= TC_IND_EMAIL; hint++) {
		if (tc_indicator_parse(hint, (const char *)data, size, &ind,
			&err) < 0)
			continue;
		/* Normalised text is a fixed point. */
		if (tc_indicator_parse((int)ind.type, ind.text, strlen(ind.text),
			&again, &err) != 0 ||
		    strcmp(again.text, ind.text) != 0)
			abort();
		tc_indicator_deinit(&again);
		tc_indicator_deinit(&ind);
	}
	if (size < 128) {
		char     buf[128];
		int      fam;
		uint8_t  addr[16];
		unsigned plen;

		memcpy(buf, data, size);
		buf[size] = '\0';
		(void)tc_ip_parse_prefix(buf, &fam, addr, &plen, &err);
	}
	return 0;
}

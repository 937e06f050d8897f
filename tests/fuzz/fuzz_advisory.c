/* Fuzz target: the advisory file parser and its re-validation. */
#include <stddef.h>
#include <stdint.h>

#include "tocsin/advisory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_buf errors = TC_BUF_INIT;
	struct tc_err err;
	json_t       *doc = NULL, *again = NULL;

	if (tc_advisory_parse("fuzz.yaml", (const char *)data, size, &doc,
		&errors, &err) == 0) {
		/* What the daemon does with what tocsinctl sends. */
		if (tc_advisory_check(doc, &again, NULL, &err) != 0 ||
		    !json_equal(doc, again))
			__builtin_trap();
		json_decref(again);
		json_decref(doc);
	}
	tc_buf_deinit(&errors);
	return 0;
}

/* Fuzz target: the registry import file parser. */
#include <stddef.h>
#include <stdint.h>

#include "tocsin/regfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_buf      errors = TC_BUF_INIT;
	struct tc_err      err;
	struct tc_regfile *rf;

	rf = tc_regfile_parse("fuzz.yaml", (const char *)data, size, &errors,
	    &err);
	tc_regfile_free(rf);
	tc_buf_deinit(&errors);
	return 0;
}

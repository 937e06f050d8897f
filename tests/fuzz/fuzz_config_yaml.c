/* Fuzz target: tocsin.yaml parsing and validation. */
#include <stddef.h>
#include <stdint.h>

#include "tocsin/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_buf     errors = TC_BUF_INIT;
	struct tc_err     err;
	struct tc_config *cfg;

	cfg = tc_config_parse("fuzz.yaml", (const char *)data, size, &errors,
	    &err);
	tc_config_unref(cfg);
	tc_buf_deinit(&errors);
	return 0;
}

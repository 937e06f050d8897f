/* Fuzz target: the CSV reader, normal and raw-line modes.  Each field must
 * lie inside the record and be NUL-terminated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int raw = 0; raw <= 1; raw++) {
		struct tc_csv             *c = tc_csv_new_mem((const char *)data,
                    size, "fuzz");
		const struct tc_csv_field *f;
		size_t                     n;
		struct tc_err              err;
		int                        r, guard = 0;

		tc_csv_set_raw(c, raw);
		while ((r = tc_csv_next(c, &f, &n, &err)) != 0) {
			if (++guard > 1000000)
				abort(); /* no progress */
			if (r < 0)
				continue;
			for (size_t i = 0; i < n; i++)
				if (f[i].s[f[i].len] != '\0')
					abort();
		}
		tc_csv_free(c);
	}
	return 0;
}

/* Fuzz target: the gpg helpers' request codec (pgpproc.h): a 16-byte
 * header, then the body split into fields.  Errors are fine; crashes,
 * reads outside the input and UB are not. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/pgpproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_pgpproc_req req;
	struct tc_err         err;
	uint32_t              blen;
	char                 *body;

	if (size < 16)
		return 0;
	if (tc_pgpproc_parse_header(data, &req, &blen, &err) < 0)
		return 0;
	/* The helper reads exactly blen bytes; give the parser an exact
	 * copy so that any read past it is caught. */
	if (blen > size - 16)
		blen = (uint32_t)(size - 16);
	body = malloc(blen ? blen : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data + 16, blen);
	if (tc_pgpproc_parse_body(body, blen, &req, &err) == 0) {
		size_t total = 0;

		for (uint32_t i = 0; i < req.nfields; i++)
			total += req.f[i].len + 4;
		if (total != blen)
			abort(); /* every byte belongs to one field */
	}
	free(body);
	return 0;
}

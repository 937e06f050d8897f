/* Fuzz target: the control protocol (line splitting, request and response
 * parsing).  Errors are fine; crashes, leaks and UB are not. */
#include <stddef.h>
#include <stdint.h>

#include "tocsin/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_line(const char *line, size_t len, void *arg)
{
	struct tc_proto_request  req;
	struct tc_proto_response resp;
	struct tc_err            err;

	(void)arg;
	if (tc_proto_request_parse(line, len, &req, &err) == 0)
		tc_proto_request_deinit(&req);
	if (tc_proto_response_parse(line, len, &resp, &err) == 0)
		tc_proto_response_deinit(&resp);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_proto_reader r;
	struct tc_err          err;

	tc_proto_reader_init(&r);
	(void)tc_proto_reader_feed(&r, (const char *)data, size, on_line, NULL,
	    &err);
	tc_proto_reader_deinit(&r);
	return 0;
}

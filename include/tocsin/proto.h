/* proto: the control protocol between tocsinctl and tocsind, shared by both.
 *
 * Line-delimited JSON over a unix socket.  A request is one line:
 *   {"v":1,"id":7,"cmd":"advisory.approve","args":{"ref":"CCB-EWS-2026-000042"}}
 * and its response one line:
 *   {"v":1,"id":7,"ok":true,"result":{...}}   or
 *   {"v":1,"id":7,"ok":false,"error":"four eyes: you queued this advisory"}
 * A frame with another protocol version is refused (smtpd's IMSG_VERSION
 * habit); a line longer than TC_PROTO_LINE_MAX is an error that closes the
 * connection.  Pure: bytes in, values out; any thread. */
#ifndef TOCSIN_PROTO_H
#define TOCSIN_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_PROTO_VERSION 1
#define TC_PROTO_LINE_MAX (1024 * 1024)
#define TC_PROTO_CMD_MAX 64 /* "group.verb" */

/* Splits a byte stream into lines. */
struct tc_proto_reader {
	struct tc_buf pending;
};

typedef int (*tc_proto_line_cb)(const char *line, size_t len, void *arg);

void tc_proto_reader_init(struct tc_proto_reader *r);
void tc_proto_reader_deinit(struct tc_proto_reader *r);
/* Append bytes; `cb` runs for each complete line (without the newline).
 * Returns 0, what a callback returned if negative (stops), or TC_ELIMIT
 * when a line grows past TC_PROTO_LINE_MAX. */
int tc_proto_reader_feed(struct tc_proto_reader *r, const char *data,
    size_t len, tc_proto_line_cb cb, void *arg, struct tc_err *err);

struct tc_proto_request {
	uint64_t id;
	char     cmd[TC_PROTO_CMD_MAX];
	json_t  *args; /* owned: an object, {} when absent */
};

/* Parse a request line.  TC_EINPUT for bad JSON, a missing or wrong field,
 * a command that is not [a-z0-9_.]+; TC_EPERMFAIL for another version. */
int tc_proto_request_parse(const char *line, size_t len,
    struct tc_proto_request *out, struct tc_err *err);
void tc_proto_request_deinit(struct tc_proto_request *req);

/* Format a request line (newline included) into `out`.  Takes a reference
 * to nothing: `args` may be NULL. */
void tc_proto_request_format(struct tc_buf *out, uint64_t id,
    const char *cmd, const json_t *args);

struct tc_proto_response {
	uint64_t id;
	bool     ok;
	json_t  *result; /* owned, or NULL */
	char    *error;  /* owned, or NULL */
};

int tc_proto_response_parse(const char *line, size_t len,
    struct tc_proto_response *out, struct tc_err *err);
void tc_proto_response_deinit(struct tc_proto_response *resp);
/* `result` may be NULL; `error` is used when !ok. */
void tc_proto_response_format(struct tc_buf *out, uint64_t id, bool ok,
    const json_t *result, const char *error);

#endif

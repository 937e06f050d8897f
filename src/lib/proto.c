/* proto: see include/tocsin/proto.h. */
#include <string.h>

#include "tocsin/mem.h"
#include "tocsin/proto.h"

void
tc_proto_reader_init(struct tc_proto_reader *r)
{
	tc_buf_init(&r->pending);
}

void
tc_proto_reader_deinit(struct tc_proto_reader *r)
{
	tc_buf_deinit(&r->pending);
}

int
tc_proto_reader_feed(struct tc_proto_reader *r, const char *data,
    size_t len, tc_proto_line_cb cb, void *arg, struct tc_err *err)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t      take = nl ? (size_t)(nl - data) : len;
		int         rc;

		if (r->pending.len + take > TC_PROTO_LINE_MAX)
			return tc_err_set(err, TC_ELIMIT,
			    "control line longer than %d bytes",
			    TC_PROTO_LINE_MAX);
		if (nl == NULL) {
			tc_buf_append(&r->pending, data, take);
			return 0;
		}
		if (r->pending.len == 0) {
			rc = cb(data, take, arg);
		} else {
			tc_buf_append(&r->pending, data, take);
			rc = cb(r->pending.data, r->pending.len, arg);
			tc_buf_reset(&r->pending);
		}
		if (rc < 0)
			return rc;
		data += take + 1;
		len -= take + 1;
	}
	return 0;
}

static bool
cmd_is_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
			*s == '_' || *s == '.'))
			return false;
	return true;
}

static json_t *
parse_object(const char *line, size_t len, struct tc_err *err)
{
	json_error_t je;
	json_t      *j;

	/* A line never has a newline inside, and NUL bytes are refused. */
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		tc_err_set(err, TC_EINPUT, "control frame: column %d: %s",
		    je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		tc_err_set(err, TC_EINPUT, "control frame: not a JSON object");
		return NULL;
	}
	return j;
}

static int
check_version(json_t *j, struct tc_err *err)
{
	json_t *v = json_object_get(j, "v");

	if (!json_is_integer(v))
		return tc_err_set(err, TC_EINPUT,
		    "control frame: \"v\" (protocol version) missing");
	if (json_integer_value(v) != TC_PROTO_VERSION)
		return tc_err_set(err, TC_EPERMFAIL,
		    "control protocol version %lld, this side speaks %d: "
		    "use tocsinctl and tocsind of the same release",
		    (long long)json_integer_value(v), TC_PROTO_VERSION);
	return 0;
}

static int
get_id(json_t *j, uint64_t *id, struct tc_err *err)
{
	json_t *v = json_object_get(j, "id");

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return tc_err_set(err, TC_EINPUT,
		    "control frame: \"id\" must be a non-negative integer");
	*id = (uint64_t)json_integer_value(v);
	return 0;
}

int
tc_proto_request_parse(const char *line, size_t len,
    struct tc_proto_request *out, struct tc_err *err)
{
	json_t     *j, *cmd, *args;
	const char *c;
	int         rc;

	memset(out, 0, sizeof(*out));
	if ((j = parse_object(line, len, err)) == NULL)
		return TC_EINPUT;
	if ((rc = check_version(j, err)) < 0 || (rc = get_id(j, &out->id, err)) < 0)
		goto out;
	cmd = json_object_get(j, "cmd");
	c = json_string_value(cmd);
	if (c == NULL || strlen(c) >= sizeof(out->cmd) || !cmd_is_valid(c)) {
		rc = tc_err_set(err, TC_EINPUT,
		    "control frame: \"cmd\" must be a command name");
		goto out;
	}
	memcpy(out->cmd, c, strlen(c) + 1);
	args = json_object_get(j, "args");
	if (args != NULL && !json_is_object(args)) {
		rc = tc_err_set(err, TC_EINPUT,
		    "control frame: \"args\" must be an object");
		goto out;
	}
	out->args = args ? json_incref(args) : json_object();
	rc = 0;
out:
	json_decref(j);
	return rc;
}

void
tc_proto_request_deinit(struct tc_proto_request *req)
{
	json_decref(req->args);
	req->args = NULL;
}

static void
dump_line(struct tc_buf *out, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);

	TC_REQUIRE(s != NULL);
	tc_buf_puts(out, s);
	tc_buf_putc(out, '\n');
	free(s);
}

void
tc_proto_request_format(struct tc_buf *out, uint64_t id, const char *cmd,
    const json_t *args)
{
	json_t *j = json_pack("{s:i,s:I,s:s}", "v", TC_PROTO_VERSION, "id",
	    (json_int_t)id, "cmd", cmd);

	TC_REQUIRE(j != NULL);
	if (args != NULL)
		json_object_set_new(j, "args",
		    json_deep_copy(args));
	dump_line(out, j);
	json_decref(j);
}

int
tc_proto_response_parse(const char *line, size_t len,
    struct tc_proto_response *out, struct tc_err *err)
{
	json_t *j, *ok, *v;
	int     rc;

	memset(out, 0, sizeof(*out));
	if ((j = parse_object(line, len, err)) == NULL)
		return TC_EINPUT;
	if ((rc = check_version(j, err)) < 0 ||
	    (rc = get_id(j, &out->id, err)) < 0)
		goto out;
	ok = json_object_get(j, "ok");
	if (!json_is_boolean(ok)) {
		rc = tc_err_set(err, TC_EINPUT,
		    "control frame: \"ok\" must be true or false");
		goto out;
	}
	out->ok = json_is_true(ok);
	if ((v = json_object_get(j, "result")) != NULL)
		out->result = json_incref(v);
	v = json_object_get(j, "error");
	if (json_is_string(v))
		out->error = tc_xstrdup(json_string_value(v));
	else if (!out->ok)
		out->error = tc_xstrdup("unspecified error");
	rc = 0;
out:
	json_decref(j);
	return rc;
}

void
tc_proto_response_deinit(struct tc_proto_response *resp)
{
	json_decref(resp->result);
	free(resp->error);
	resp->result = NULL;
	resp->error = NULL;
}

void
tc_proto_response_format(struct tc_buf *out, uint64_t id, bool ok,
    const json_t *result, const char *error)
{
	json_t *j = json_pack("{s:i,s:I,s:b}", "v", TC_PROTO_VERSION, "id",
	    (json_int_t)id, "ok", ok);

	TC_REQUIRE(j != NULL);
	if (result != NULL)
		json_object_set_new(j, "result",
		    json_deep_copy(result));
	if (!ok) {
		json_t *e = json_string(error ? error : "error");

		if (e == NULL) /* not UTF-8: never drop the fact of failure */
			e = json_string("error (message not valid UTF-8)");
		json_object_set_new(j, "error", e);
	}
	dump_line(out, j);
	json_decref(j);
}

/* Unit tests for the gpg helpers' wire codec (pgpproc.h): headers and
 * bodies a helper accepts, and every way one is refused.  The helpers
 * themselves are tested against real gpg in test_pgp.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/buf.h"
#include "tocsin/pgpproc.h"

static void
put_u32(struct tc_buf *b, uint32_t v)
{
	tc_buf_append(b, &v, sizeof(v));
}

static void
header(unsigned char hdr[16], uint32_t magic, uint32_t op, uint32_t nf,
    uint32_t len)
{
	memcpy(hdr, &magic, 4);
	memcpy(hdr + 4, &op, 4);
	memcpy(hdr + 8, &nf, 4);
	memcpy(hdr + 12, &len, 4);
}

static void
field(struct tc_buf *b, const char *s, size_t len)
{
	put_u32(b, (uint32_t)len);
	tc_buf_append(b, s, len);
}

static void
expect_header_refused(uint32_t magic, uint32_t op, uint32_t nf, uint32_t len,
    const char *why)
{
	unsigned char         hdr[16];
	struct tc_pgpproc_req req;
	struct tc_err         err;
	uint32_t              blen = 12345;

	header(hdr, magic, op, nf, len);
	assert_int_equal(tc_pgpproc_parse_header(hdr, &req, &blen, &err),
	    TC_EINPUT);
	if (strstr(err.msg, why) == NULL)
		fail_msg("want \"%s\" in \"%s\"", why, err.msg);
	assert_int_equal(blen, 12345);
}

static void
test_header(void **state)
{
	unsigned char         hdr[16];
	struct tc_pgpproc_req req;
	struct tc_err         err;
	uint32_t              blen;
	(void)state;

	header(hdr, TC_PGPPROC_MAGIC, TC_PGPPROC_SIGN, 3, 100);
	assert_int_equal(tc_pgpproc_parse_header(hdr, &req, &blen, &err), 0);
	assert_int_equal(req.op, TC_PGPPROC_SIGN);
	assert_int_equal(req.nfields, 3);
	assert_int_equal(blen, 100);
	header(hdr, TC_PGPPROC_MAGIC, TC_PGPPROC_ENCRYPT, TC_PGPPROC_FIELDS_MAX,
	    TC_PGPPROC_FRAME_MAX);
	assert_int_equal(tc_pgpproc_parse_header(hdr, &req, &blen, &err), 0);
	assert_int_equal(req.nfields, TC_PGPPROC_FIELDS_MAX);

	expect_header_refused(0x31474355u, TC_PGPPROC_SIGN, 3, 0, "bad magic");
	expect_header_refused(TC_PGPPROC_MAGIC, 0, 3, 0, "unknown operation 0");
	expect_header_refused(TC_PGPPROC_MAGIC, 3, 3, 0, "unknown operation 3");
	expect_header_refused(TC_PGPPROC_MAGIC, TC_PGPPROC_SIGN, 4, 0,
	    "sign takes 3 fields, not 4");
	expect_header_refused(TC_PGPPROC_MAGIC, TC_PGPPROC_ENCRYPT, 3, 0,
	    "encrypt takes 4 to");
	expect_header_refused(TC_PGPPROC_MAGIC, TC_PGPPROC_ENCRYPT,
	    TC_PGPPROC_FIELDS_MAX + 1, 0, "encrypt takes 4 to");
	expect_header_refused(TC_PGPPROC_MAGIC, TC_PGPPROC_ENCRYPT, 0xffffffffu,
	    0, "encrypt takes 4 to");
	expect_header_refused(TC_PGPPROC_MAGIC, TC_PGPPROC_SIGN, 3,
	    TC_PGPPROC_FRAME_MAX + 1, "above the limit");
}

static void
test_body(void **state)
{
	struct tc_pgpproc_req req = { .op = TC_PGPPROC_ENCRYPT, .nfields = 5 };
	struct tc_err         err;
	struct tc_buf         b = TC_BUF_INIT;
	(void)state;

	field(&b, "", 0);
	field(&b, "ABCD", 4);
	field(&b, "x\0y", 3); /* the entity may hold anything here */
	field(&b, "K1", 2);
	field(&b, "K22", 3);
	assert_int_equal(tc_pgpproc_parse_body(b.data, b.len, &req, &err), 0);
	assert_int_equal(req.f[0].len, 0);
	assert_int_equal(req.f[1].len, 4);
	assert_memory_equal(req.f[1].data, "ABCD", 4);
	assert_int_equal(req.f[2].len, 3);
	assert_memory_equal(req.f[2].data, "x\0y", 3);
	assert_memory_equal(req.f[4].data, "K22", 3);
	/* The fields point into the body, nothing copied. */
	assert_ptr_equal(req.f[1].data, b.data + 8);
	tc_buf_deinit(&b);
}

static void
expect_body_refused(const struct tc_buf *b, uint32_t nf, const char *why)
{
	struct tc_pgpproc_req req = { .op = TC_PGPPROC_SIGN, .nfields = nf };
	struct tc_err         err;

	assert_int_equal(tc_pgpproc_parse_body(b->data, b->len, &req, &err),
	    TC_EINPUT);
	if (strstr(err.msg, why) == NULL)
		fail_msg("want \"%s\" in \"%s\"", why, err.msg);
}

static void
test_body_refused(void **state)
{
	struct tc_buf b = TC_BUF_INIT;
	(void)state;

	/* Fewer fields than the header said. */
	field(&b, "h", 1);
	field(&b, "s", 1);
	expect_body_refused(&b, 3, "field 2 is cut short");
	/* A length prefix cut in the middle. */
	tc_buf_append(&b, "\x01\x00", 2);
	expect_body_refused(&b, 3, "field 2 is cut short");
	/* A field longer than what is left. */
	tc_buf_reset(&b);
	field(&b, "h", 1);
	put_u32(&b, 0xfffffff0u);
	tc_buf_append(&b, "abc", 3);
	expect_body_refused(&b, 3, "overruns the body");
	/* Bytes after the last field. */
	tc_buf_reset(&b);
	field(&b, "h", 1);
	field(&b, "s", 1);
	field(&b, "e", 1);
	tc_buf_putc(&b, 'z');
	expect_body_refused(&b, 3, "1 bytes after the last field");
	/* NUL in the homedir or a fingerprint, never in the entity. */
	tc_buf_reset(&b);
	field(&b, "/tmp\0/x", 7);
	field(&b, "s", 1);
	field(&b, "e", 1);
	expect_body_refused(&b, 3, "field 0 contains NUL");
	tc_buf_reset(&b);
	field(&b, "h", 1);
	field(&b, "ABC\0", 4);
	field(&b, "e", 1);
	expect_body_refused(&b, 3, "field 1 contains NUL");
	tc_buf_deinit(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

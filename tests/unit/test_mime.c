/* Unit tests for mime: header injection impossible, RFC 2047 words and
 * folding within limits, quoted-printable round trip with the RFC 3156
 * rules, base64, boundaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/mime.h"

/* Every line of `s` ends in CRLF (but maybe the last) and is at most `max`
 * characters, with no bare CR or LF. */
static void
check_lines(const char *s, size_t max)
{
	while (*s) {
		const char *e = strstr(s, "\r\n");

		if (e == NULL)
			e = s + strlen(s);
		if ((size_t)(e - s) > max)
			fail_msg("line of %zu > %zu: %.*s", (size_t)(e - s), max,
			    (int)(e - s), s);
		for (const char *c = s; c < e; c++)
			assert_true(*c != '\r' && *c != '\n');
		s = *e ? e + 2 : e;
	}
}

static void
test_header_injection_refused(void **state)
{
	struct tc_buf b = TC_BUF_INIT;
	struct tc_err err;
	(void)state;

	assert_int_equal(tc_mime_header(&b, "Subject", NULL,
			     "x\r\nBcc: evil@example.com", &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "control character"));
	assert_int_equal(tc_mime_header(&b, "Subject", NULL, "x\nBcc: y", &err),
	    TC_EINPUT);
	assert_int_equal(tc_mime_header(&b, "Subject", NULL, "a\x1b[31m", &err),
	    TC_EINPUT);
	assert_int_equal(tc_mime_header(&b, "Bad Name", NULL, "x", &err),
	    TC_EINPUT);
	assert_int_equal(tc_mime_header(&b, "Subject:", NULL, "x", &err),
	    TC_EINPUT);
	assert_int_equal(tc_mime_header(&b, "Subject", NULL, "caf\xc3", &err),
	    TC_EINPUT); /* invalid UTF-8 */
	assert_int_equal(tc_mime_address(&b, "To", "x", "a@b.example>\r\nBcc: c",
			     &err),
	    TC_EINPUT);
	assert_int_equal(tc_mime_address(&b, "To", "x\r\nBcc: c@d", "a@b.example",
			     &err),
	    TC_EINPUT);
	assert_int_equal(b.len, 0); /* nothing written on refusal */
	tc_buf_deinit(&b);
}

static void
test_subject_prefix_stays_ascii(void **state)
{
	struct tc_buf b = TC_BUF_INIT;
	struct tc_err err;
	(void)state;

	assert_int_equal(tc_mime_header(&b, "Subject",
			     "[TLP:AMBER+STRICT] [CCB-EWS-2026-000042] ",
			     "Vulnérabilité critique détectée sur vos systèmes "
			     "exposés à Internet — agissez aujourd’hui",
			     &err),
	    0);
	assert_true(strncmp(b.data,
			"Subject: [TLP:AMBER+STRICT] [CCB-EWS-2026-000042]",
			49) == 0);
	/* Unfolded, one blank separates the prefix from the first word:
	 * the folding blank is that separator (no doubled space). */
	assert_non_null(strstr(b.data, "000042]\r\n =?UTF-8?Q?"));
	assert_null(strstr(b.data, "000042] \r\n"));
	assert_non_null(strstr(b.data, "=?UTF-8?Q?Vuln=C3=A9rabilit=C3=A9"));
	check_lines(b.data, 78);
	/* Every encoded word is at most 75 characters. */
	for (const char *w = strstr(b.data, "=?"); w; w = strstr(w + 2, "=?")) {
		const char *e = strstr(w + 2, "?=");

		assert_non_null(e);
		assert_true(e + 2 - w <= 75);
		w = e;
	}
	tc_buf_deinit(&b);
}

/* Unfolding (RFC 5322 §2.2.3: remove each CRLF before a blank) gives back
 * the value with single blanks, for ASCII and for encoded text. */
static void
test_fold_keeps_single_blanks(void **state)
{
	const char *values[] = {
		"Aus dem Internet erreichbarer Dienst bei Kundenbetrieb GmbH "
		"und noch viel mehr Text hier, damit gefaltet wird",
		"Service exposé à Internet chez Réseau Exemple SA, avec un "
		"texte assez long pour être plié",
	};
	(void)state;

	for (size_t i = 0; i < 2; i++) {
		struct tc_buf b = TC_BUF_INIT;
		struct tc_err err;

		assert_int_equal(tc_mime_header(&b, "Subject",
				     "[TLP:AMBER] [CCB-EWS-2026-000042] ",
				     values[i], &err),
		    0);
		assert_non_null(strstr(b.data, "\r\n "));
		for (char *p = b.data; (p = strstr(p, "\r\n ")) != NULL; p++)
			assert_int_not_equal(p[-1], ' ');
		check_lines(b.data, 78);
		tc_buf_deinit(&b);
	}
}

static void
test_plain_and_lookalike(void **state)
{
	struct tc_buf b = TC_BUF_INIT;
	struct tc_err err;
	(void)state;

	assert_int_equal(tc_mime_header(&b, "X-TLP", NULL, "TLP:RED", &err), 0);
	assert_string_equal(b.data, "X-TLP: TLP:RED\r\n");
	tc_buf_reset(&b);
	/* ASCII text that looks like an encoded word is encoded itself. */
	assert_int_equal(tc_mime_header(&b, "Subject", NULL, "=?UTF-8?Q?x?=",
			     &err),
	    0);
	assert_non_null(strstr(b.data, "=3D=3FUTF=2D8"));
	tc_buf_reset(&b);
	assert_int_equal(tc_mime_address(&b, "From", "CERT \"early\" warning",
			     "cert@csirt.example", &err),
	    0);
	assert_string_equal(b.data,
	    "From: \"CERT \\\"early\\\" warning\" <cert@csirt.example>\r\n");
	tc_buf_reset(&b);
	assert_int_equal(tc_mime_address(&b, "To", "Équipe CERT",
			     "cert@reseau.example", &err),
	    0);
	assert_string_equal(b.data,
	    "To: =?UTF-8?Q?=C3=89quipe_CERT?= <cert@reseau.example>\r\n");
	tc_buf_deinit(&b);
}

/* A tiny quoted-printable decoder for the round trip. */
static void
qp_decode(const char *s, struct tc_buf *out)
{
	while (*s) {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=' && s[1] && s[2]) {
			char h[3] = { s[1], s[2], 0 };

			tc_buf_putc(out, (char)strtol(h, NULL, 16));
			s += 3;
		} else {
			tc_buf_putc(out, *s++);
		}
	}
}

static void
test_quoted_printable(void **state)
{
	struct tc_buf q = TC_BUF_INIT, d = TC_BUF_INIT, in = TC_BUF_INIT;
	(void)state;

	tc_buf_puts(&in, "TLP:AMBER\nFrom the CSIRT: a=b \n.hidden dot\n"
			 "trailing tab\t\n");
	for (int i = 0; i < 200; i++)
		tc_buf_puts(&in, "é");
	tc_buf_puts(&in, "\nend");
	tc_mime_qp(&q, in.data, in.len);
	check_lines(q.data, 76);
	assert_non_null(strstr(q.data, "\r\n=46rom the CSIRT: a=3Db=20\r\n"));
	assert_non_null(strstr(q.data, "\r\n=2Ehidden dot\r\n"));
	assert_non_null(strstr(q.data, "trailing tab=09\r\n"));
	qp_decode(q.data, &d);
	/* Same text, with CRLF line ends. */
	{
		struct tc_buf want = TC_BUF_INIT;

		for (size_t i = 0; i < in.len; i++) {
			if (in.data[i] == '\n')
				tc_buf_putc(&want, '\r');
			tc_buf_putc(&want, in.data[i]);
		}
		assert_string_equal(d.data, want.data);
		tc_buf_deinit(&want);
	}
	tc_buf_deinit(&q);
	tc_buf_deinit(&d);
	tc_buf_deinit(&in);
}

static void
test_base64_and_boundary(void **state)
{
	struct tc_buf b = TC_BUF_INIT;
	char          bound[48];
	const char   *contents[] = { "abc", NULL };
	unsigned char bin[100];
	(void)state;

	tc_mime_base64(&b, "any carnal pleasure.", 20);
	assert_string_equal(b.data, "YW55IGNhcm5hbCBwbGVhc3VyZS4=\r\n");
	tc_buf_reset(&b);
	for (int i = 0; i < 100; i++)
		bin[i] = (unsigned char)i;
	tc_mime_base64(&b, bin, sizeof(bin));
	check_lines(b.data, 76);
	tc_mime_boundary(bound, contents, 2);
	assert_true(strncmp(bound, "=_tocsin_", 9) == 0);
	tc_buf_deinit(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_injection_refused),
		cmocka_unit_test(test_subject_prefix_stays_ascii),
		cmocka_unit_test(test_fold_keeps_single_blanks),
		cmocka_unit_test(test_plain_and_lookalike),
		cmocka_unit_test(test_quoted_printable),
		cmocka_unit_test(test_base64_and_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

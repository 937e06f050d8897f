/* esc: see include/tocsin/esc.h. */
#include <string.h>

#include "tocsin/esc.h"
#include "tocsin/str.h"

static size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4;
	else
		return 0;
	if (n > avail || !tc_utf8_is_valid((const char *)s, n))
		return 0;
	return n;
}

void
tc_esc_append(struct tc_buf *out, const char *str, size_t len)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t               i = 0;

	while (i < len) {
		size_t n = utf8_seq_len(s + i, len - i);

		if (n == 1 && s[i] >= 0x20 && s[i] != 0x7f && s[i] != '\\') {
			tc_buf_putc(out, (char)s[i]);
		} else if (n > 1) {
			tc_buf_append(out, s + i, n);
		} else {
			char e[4] = { '\\', 'x', hex[s[i] >> 4],
				hex[s[i] & 0xf] };
			tc_buf_append(out, e, 4);
			n = 1;
		}
		i += n;
	}
}

const char *
tc_esc(const char *s)
{
	static __thread char     ring[TC_ESC_SLOTS][TC_ESC_MAX];
	static __thread unsigned next;
	char                    *out = ring[next++ % TC_ESC_SLOTS];
	struct tc_buf            b = TC_BUF_INIT;

	if (s == NULL)
		return "(null)";
	tc_esc_append(&b, s, strlen(s));
	if (b.len >= TC_ESC_MAX) {
		size_t cut = TC_ESC_MAX - 4;
		/* Do not cut inside a UTF-8 sequence or an escape. */
		while (cut > 0 && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(out, b.data, cut);
		memcpy(out + cut, "...", 4);
	} else {
		memcpy(out, tc_buf_cstr(&b), b.len + 1);
	}
	tc_buf_deinit(&b);
	return out;
}

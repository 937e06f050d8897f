/* indicator: parse and normalise indicators at the edge.
 * See include/tocsin/indicator.h. */
#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/esc.h"
#include "tocsin/indicator.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	0xff };

int
tc_ip_parse_prefix(const char *s, int *family, uint8_t addr[16],
    unsigned *plen, struct tc_err *err)
{
	char        host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t      hl = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t    len = 0;
	unsigned    max;

	if (hl == 0 || hl >= sizeof(host))
		return tc_err_set(err, TC_EINPUT, "\"%s\" is not an IP address",
		    tc_esc(s));
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, host, addr) == 1) {
		*family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		*family = 6;
		max = 128;
	} else {
		return tc_err_set(err, TC_EINPUT, "\"%s\" is not an IP address",
		    tc_esc(s));
	}
	if (slash != NULL) {
		if (tc_parse_uint(slash + 1, 0, max, &len) < 0)
			return tc_err_set(err, TC_EINPUT,
			    "\"%s\": prefix length must be 0..%u", tc_esc(s),
			    max);
	} else {
		len = max;
	}
	/* Host bits set: "192.0.2.1/24" is an address, not a prefix. */
	for (unsigned bit = (unsigned)len; bit < max; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return tc_err_set(err, TC_EINPUT,
			    "\"%s\" has host bits set", tc_esc(s));
	/* An IPv4-mapped IPv6 address or prefix is IPv4. */
	if (*family == 6 && len >= 96 && memcmp(addr, v4mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = 4;
		len -= 96;
		max = 32;
	}
	*plen = (unsigned)len;
	return 0;
}

void
tc_ip_format(int family, const uint8_t addr[16], unsigned plen, char *out,
    size_t size)
{
	char txt[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, txt,
		sizeof(txt)) == NULL)
		txt[0] = '\0';
	if (plen != (family == 4 ? 32u : 128u))
		snprintf(out, size, "%s/%u", txt, plen);
	else
		snprintf(out, size, "%s", txt);
}

static bool
label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

int
tc_domain_normalise(const char *s, size_t len, struct tc_buf *out,
    struct tc_err *err)
{
	char  *in, *ascii = NULL;
	size_t n, label = 0;
	bool   non_ascii = false;
	int    rc;

	while (len > 0 && s[len - 1] == '.')
		len--; /* a trailing dot is the root, not part of the name */
	if (len == 0 || len > 1000)
		return tc_err_set(err, TC_EINPUT, "empty or overlong domain");
	in = tc_xstrndup(s, len);
	if (strlen(in) != len) {
		free(in);
		return tc_err_set(err, TC_EINPUT, "NUL byte in domain");
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			non_ascii = true;
	if (non_ascii) {
		if (!tc_utf8_is_valid(in, len)) {
			free(in);
			return tc_err_set(err, TC_EINPUT,
			    "domain is not valid UTF-8");
		}
		rc = idn2_to_ascii_8z(in, &ascii,
		    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			tc_err_set(err, TC_EINPUT,
			    "\"%s\" is not a valid internationalised domain: %s",
			    tc_esc(in), idn2_strerror(rc));
			free(in);
			return TC_EINPUT;
		}
		free(in);
		in = tc_xstrdup(ascii);
		idn2_free(ascii);
		len = strlen(in);
	}
	tc_str_lower(in);
	n = strlen(in);
	if (n > TC_DOMAIN_MAX) {
		free(in);
		return tc_err_set(err, TC_EINPUT, "domain longer than %d bytes",
		    TC_DOMAIN_MAX);
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == n || in[i] == '.') {
			if (label == 0 || label > 63) {
				rc = tc_err_set(err, TC_EINPUT,
				    "\"%s\": labels must be 1 to 63 bytes",
				    tc_esc(in));
				free(in);
				return rc;
			}
			if (in[i - 1] == '-' || in[i - label] == '-') {
				rc = tc_err_set(err, TC_EINPUT,
				    "\"%s\": a label starts or ends with '-'",
				    tc_esc(in));
				free(in);
				return rc;
			}
			label = 0;
			continue;
		}
		if (!label_char((unsigned char)in[i])) {
			rc = tc_err_set(err, TC_EINPUT,
			    "\"%s\" is not a domain name", tc_esc(in));
			free(in);
			return rc;
		}
		label++;
	}
	tc_buf_reset(out);
	tc_buf_append(out, in, n);
	free(in);
	return 0;
}

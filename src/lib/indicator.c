/* indicator: parse and normalise indicators at the edge.
 * See include/tocsin/indicator.h. */
#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

void
tc_indicator_deinit(struct tc_indicator *ind)
{
	free(ind->domain);
	free(ind->text);
	memset(ind, 0, sizeof(*ind));
}

/* Defanged spellings and what they stand for, longest first where one is a
 * prefix of another. */
static const struct {
	const char *from, *to;
} fangs[] = {
	{ "[://]", "://" }, { "[:]", ":" }, { "[.]", "." }, { "(.)", "." },
	{ "{.}", "." }, { "[dot]", "." }, { "(dot)", "." }, { "[@]", "@" },
	{ "[at]", "@" }, { "(at)", "@" }, { "[/]", "/" },
};

void
tc_indicator_refang(const char *s, size_t len, struct tc_buf *out)
{
	size_t i = 0;

	tc_buf_reset(out);
	/* hxxp:// hxxps:// fxp:// at the start. */
	if (len >= 4 && strncasecmp(s, "hxxp", 4) == 0) {
		tc_buf_puts(out, "http");
		i = 4;
	} else if (len >= 3 && strncasecmp(s, "fxp", 3) == 0) {
		tc_buf_puts(out, "ftp");
		i = 3;
	}
	while (i < len) {
		bool hit = false;

		if (s[i] == '[' || s[i] == '(' || s[i] == '{') {
			for (size_t k = 0; k < TC_NELEM(fangs); k++) {
				size_t fl = strlen(fangs[k].from);

				if (len - i >= fl &&
				    strncasecmp(s + i, fangs[k].from, fl) == 0) {
					tc_buf_puts(out, fangs[k].to);
					i += fl;
					hit = true;
					break;
				}
			}
		}
		if (!hit)
			tc_buf_putc(out, s[i++]);
	}
	if (out->data == NULL)
		tc_buf_reserve(out, 0), out->data[0] = '\0';
}

static int
parse_ip(const char *s, struct tc_indicator *out, struct tc_err *err)
{
	int      fam;
	unsigned plen;
	char     txt[INET6_ADDRSTRLEN + 4];

	if (tc_ip_parse_prefix(s, &fam, out->addr, &plen, err) < 0)
		return TC_EINPUT;
	out->family = (uint8_t)fam;
	out->plen = (uint8_t)plen;
	out->type = fam == 4 ? TC_IND_IPV4 : TC_IND_IPV6;
	tc_ip_format(fam, out->addr, plen, txt, sizeof(txt));
	out->text = tc_xstrdup(txt);
	return 0;
}

static bool
looks_like_ip(const char *s)
{
	size_t dots = 0, colons = 0;
	bool   digits_only = true;

	for (; *s; s++) {
		if (*s == '.')
			dots++;
		else if (*s == ':')
			colons++;
		else if (*s >= '0' && *s <= '9')
			continue;
		else if ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F'))
			digits_only = false;
		else
			return false;
	}
	/* IPv6 has colons; IPv4 is four dotted decimal numbers. */
	return colons >= 2 || (dots == 3 && digits_only);
}

static int
parse_domain(const char *s, struct tc_indicator *out, struct tc_err *err)
{
	struct tc_buf d = TC_BUF_INIT;

	if (tc_domain_normalise(s, strlen(s), &d, err) < 0) {
		tc_buf_deinit(&d);
		return TC_EINPUT;
	}
	out->type = TC_IND_DOMAIN;
	out->domain = tc_buf_steal(&d, NULL);
	out->text = tc_xstrdup(out->domain);
	return 0;
}

static int
parse_email(const char *s, struct tc_indicator *out, struct tc_err *err)
{
	const char   *at = strrchr(s, '@');
	struct tc_buf d = TC_BUF_INIT, t = TC_BUF_INIT;

	if (at == NULL || at == s || (size_t)(at - s) > 64)
		return tc_err_set(err, TC_EINPUT, "\"%s\" is not an email address",
		    tc_esc(s));
	for (const char *c = s; c < at; c++)
		if ((unsigned char)*c <= 0x20 || *c == '<' || *c == '>' ||
		    *c == '"' || *c == ',' || *c == ';' || *c == '@')
			return tc_err_set(err, TC_EINPUT,
			    "\"%s\" is not an email address", tc_esc(s));
	if (tc_domain_normalise(at + 1, strlen(at + 1), &d, err) < 0) {
		tc_buf_deinit(&d);
		return TC_EINPUT;
	}
	tc_buf_append(&t, s, (size_t)(at - s));
	tc_str_lower(t.data);
	tc_buf_printf(&t, "@%s", d.data);
	out->type = TC_IND_EMAIL;
	out->domain = tc_buf_steal(&d, NULL);
	out->text = tc_buf_steal(&t, NULL);
	return 0;
}

static int
parse_url(const char *s, struct tc_indicator *out, struct tc_err *err)
{
	const char   *sep = strstr(s, "://"), *host, *end, *at, *hend;
	struct tc_buf t = TC_BUF_INIT, h = TC_BUF_INIT;
	char          hostbuf[256];
	size_t        hl;

	if (sep == NULL || sep == s)
		return tc_err_set(err, TC_EINPUT, "\"%s\" is not a URL", tc_esc(s));
	for (const char *c = s; c < sep; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || *c == '+' || *c == '-' ||
			*c == '.'))
			return tc_err_set(err, TC_EINPUT,
			    "\"%s\": bad URL scheme", tc_esc(s));
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return tc_err_set(err, TC_EINPUT,
			    "URL with a blank or control character");
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	/* userinfo@ is not part of the host; the last '@' ends it. */
	at = memrchr(host, '@', (size_t)(end - host));
	if (at != NULL)
		host = at + 1;
	if (*host == '[') {
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL)
			return tc_err_set(err, TC_EINPUT,
			    "\"%s\": unclosed [ in URL host", tc_esc(s));
		host++;
	} else {
		hend = memchr(host, ':', (size_t)(end - host));
		if (hend == NULL)
			hend = end;
	}
	/* What follows the host up to the path is ":port" or nothing. */
	{
		const char *pp = *hend == ']' ? hend + 1 : hend;

		if (pp < end) {
			uint64_t port;

			if (*pp != ':' ||
			    tc_parse_uint_n(pp + 1, (size_t)(end - pp - 1), 0,
				65535, &port) < 0)
				return tc_err_set(err, TC_EINPUT,
				    "\"%s\": bad port in URL", tc_esc(s));
		}
	}
	hl = (size_t)(hend - host);
	if (hl == 0 || hl >= sizeof(hostbuf))
		return tc_err_set(err, TC_EINPUT, "\"%s\": no host in URL",
		    tc_esc(s));
	memcpy(hostbuf, host, hl);
	/* "host." is "host": decide IP or name on the final form. */
	while (hl > 0 && hostbuf[hl - 1] == '.')
		hl--;
	hostbuf[hl] = '\0';
	if (hl == 0)
		return tc_err_set(err, TC_EINPUT, "\"%s\": no host in URL",
		    tc_esc(s));
	if (looks_like_ip(hostbuf)) {
		struct tc_indicator ip = { 0 };

		if (parse_ip(hostbuf, &ip, err) < 0)
			return TC_EINPUT;
		memcpy(out->addr, ip.addr, 16);
		out->family = ip.family;
		tc_buf_puts(&h, ip.text);
		tc_indicator_deinit(&ip);
	} else {
		if (tc_domain_normalise(hostbuf, hl, &h, err) < 0) {
			tc_buf_deinit(&h);
			return TC_EINPUT;
		}
		out->domain = tc_xstrdup(h.data);
	}
	/* scheme and host lower-case; the rest as given. */
	tc_buf_append(&t, s, (size_t)(sep - s));
	tc_str_lower(t.data);
	tc_buf_puts(&t, "://");
	if (out->family == 6)
		tc_buf_printf(&t, "[%s]", h.data);
	else
		tc_buf_puts(&t, h.data);
	tc_buf_puts(&t, (*hend == ']') ? hend + 1 : hend);
	tc_buf_deinit(&h);
	out->type = TC_IND_URL;
	out->text = tc_buf_steal(&t, NULL);
	return 0;
}

static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

int
tc_indicator_parse(int hint, const char *s, size_t len,
    struct tc_indicator *out, struct tc_err *err)
{
	struct tc_buf b = TC_BUF_INIT;
	char         *v;
	int           rc;

	memset(out, 0, sizeof(*out));
	if (len > TC_INDICATOR_MAX)
		return tc_err_set(err, TC_EINPUT,
		    "indicator longer than %d bytes", TC_INDICATOR_MAX);
	if (memchr(s, '\0', len) != NULL)
		return tc_err_set(err, TC_EINPUT, "NUL byte in indicator");
	/* Blanks and wrappers (<...>, "...", '...') around the indicator go
	 * first, as often as they nest: "hxxp" is only a defanged scheme at
	 * the very start, so the start must be final before refanging. */
	for (;;) {
		size_t before = len;

		while (len > 0 && is_blank((unsigned char)*s))
			s++, len--;
		while (len > 0 && is_blank((unsigned char)s[len - 1]))
			len--;
		if (len >= 2 && ((s[0] == '<' && s[len - 1] == '>') ||
				    (s[0] == '"' && s[len - 1] == '"') ||
				    (s[0] == '\'' && s[len - 1] == '\''))) {
			s++;
			len -= 2;
		}
		if (len == before)
			break;
	}
	tc_indicator_refang(s, len, &b);
	v = tc_str_trim(b.data);
	if (*v == '\0') {
		tc_buf_deinit(&b);
		return tc_err_set(err, TC_EINPUT, "empty indicator");
	}
	if (!tc_utf8_is_valid(v, strlen(v))) {
		tc_buf_deinit(&b);
		return tc_err_set(err, TC_EINPUT, "indicator is not valid UTF-8");
	}
	if (hint < 0) {
		if (strstr(v, "://") != NULL)
			hint = TC_IND_URL;
		else if (strchr(v, '@') != NULL)
			hint = TC_IND_EMAIL;
		else if ((v[0] == 'A' || v[0] == 'a') &&
		    (v[1] == 'S' || v[1] == 's') && v[2] >= '0' && v[2] <= '9')
			hint = TC_IND_ASN;
		else if (looks_like_ip(v) || strchr(v, '/') != NULL)
			hint = TC_IND_IPV4; /* IPv4 or IPv6, decided below */
		else
			hint = TC_IND_DOMAIN;
	}
	switch (hint) {
	case TC_IND_IPV4:
	case TC_IND_IPV6:
		rc = parse_ip(v, out, err);
		break;
	case TC_IND_ASN: {
		uint64_t asn;
		char     t[16];
		const char *d = v;

		if (strncasecmp(d, "AS", 2) == 0)
			d += 2;
		if (tc_parse_uint(d, 1, 4294967295ULL, &asn) < 0) {
			rc = tc_err_set(err, TC_EINPUT,
			    "\"%s\" is not an AS number", tc_esc(v));
			break;
		}
		out->type = TC_IND_ASN;
		out->asn = (uint32_t)asn;
		snprintf(t, sizeof(t), "AS%u", out->asn);
		out->text = tc_xstrdup(t);
		rc = 0;
		break;
	}
	case TC_IND_URL:
		rc = parse_url(v, out, err);
		break;
	case TC_IND_EMAIL:
		rc = parse_email(v, out, err);
		break;
	case TC_IND_DOMAIN:
	default:
		rc = parse_domain(v, out, err);
		break;
	}
	/* The normalised text must be final: refanging it again must not
	 * change it ("[(.)]" becomes "[.]", which is defanged again). */
	if (rc == 0) {
		tc_indicator_refang(out->text, strlen(out->text), &b);
		if (strcmp(b.data, out->text) != 0)
			rc = tc_err_set(err, TC_EINPUT,
			    "\"%s\": nested defanging", tc_esc(out->text));
	}
	tc_buf_deinit(&b);
	if (rc < 0)
		tc_indicator_deinit(out);
	return rc;
}

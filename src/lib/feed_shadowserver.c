/* feed_shadowserver: Shadowserver report CSVs, every report type.
 *
 * Columns are mapped by header name (Shadowserver says their order is not
 * static); the report type comes from the file name
 * (YYYY-MM-DD-<report_type>-<country>-...csv, or <report_type>.csv) and
 * picks the category through category.c.  The affected host is `ip`, or
 * `src_ip` in event reports (the infected host that reached a sinkhole or
 * honeypot; `dst_ip` is the sensor).  Only a fixed set of columns is kept
 * for the message body, so a row costs a handful of small copies. */
#include <stdlib.h>
#include <string.h>

#include "tocsin/category.h"
#include "tocsin/csv.h"
#include "tocsin/esc.h"
#include "tocsin/feed.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

enum col {
	C_TIMESTAMP, C_IP, C_SRC_IP, C_PORT, C_SRC_PORT, C_PROTOCOL, C_ASN,
	C_SRC_ASN, C_HOSTNAME, C_SRC_HOSTNAME, C_SEVERITY, C_URL, C_HTTP_HOST,
	C_EMAIL, C_CVE, C_COUNT
};

static const char *const col_names[C_COUNT] = { "timestamp", "ip", "src_ip",
	"port", "src_port", "protocol", "asn", "src_asn", "hostname",
	"src_hostname", "severity", "url", "http_host", "email", "cve" };

/* Columns copied into the event for the message body. */
static const char *const kept[] = { "tag", "infection", "hostname",
	"src_hostname", "application", "version", "product", "device_vendor",
	"device_type", "device_model", "url", "http_host", "detail", "family",
	"public_source", "status", "smb_implant", "servername", "cve",
	"sector", NULL };

static char *
report_type_of(const char *path)
{
	const char *b = strrchr(path, '/'), *sep, *end;
	size_t      n;

	b = b ? b + 1 : path;
	if ((sep = strstr(b, "--")) != NULL) /* <feed>--... from the puller */
		b = sep + 2;
	/* YYYYMMDDTHHMMSSZ- stamp of the puller, then YYYY-MM-DD- */
	if (strlen(b) > 17 && b[8] == 'T' && b[15] == 'Z' && b[16] == '-')
		b += 17;
	if (strlen(b) > 11 && b[4] == '-' && b[7] == '-' && b[10] == '-')
		b += 11;
	end = b + strcspn(b, "-.");
	n = (size_t)(end - b);
	if (n == 0)
		return tc_xstrdup("shadowserver");
	return tc_xstrndup(b, n);
}

int
tc_feed__shadowserver(struct tc_csv *csv, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	const struct tc_csv_field *f;
	size_t                     n, nhead = 0;
	int                        idx[C_COUNT], r, rc = 0;
	int                       *keep = NULL;
	char                     **head = NULL;
	char                      *rtype = report_type_of(fc->name);
	enum tc_category           cat = tc_category_for_report(rtype);
	struct tc_event            ev;
	struct tc_err              e2;

	tc_feed__event_init(&ev, fc, "shadowserver");
	/* The header. */
	while ((r = tc_csv_next(csv, &f, &n, err)) < 0) {
		if (r != TC_EINPUT && r != TC_ELIMIT)
			goto out;
		rc = tc_err_set(err, TC_EINPUT, "%s: unreadable header: %s",
		    fc->name, err->msg);
		goto out;
	}
	if (r == 0) {
		rc = tc_err_set(err, TC_EINPUT, "%s: empty file", fc->name);
		goto out;
	}
	nhead = n;
	head = tc_xcalloc(n + 1, sizeof(*head));
	keep = tc_xcalloc(n + 1, sizeof(*keep));
	for (int c = 0; c < C_COUNT; c++)
		idx[c] = -1;
	for (size_t i = 0; i < n; i++) {
		head[i] = tc_xstrndup(f[i].s, f[i].len);
		tc_str_lower(head[i]);
		for (int c = 0; c < C_COUNT; c++)
			if (idx[c] < 0 && strcmp(head[i], col_names[c]) == 0)
				idx[c] = (int)i;
		for (int k = 0; kept[k]; k++)
			if (strcmp(head[i], kept[k]) == 0)
				keep[i] = 1;
	}
	if (idx[C_IP] < 0 && idx[C_SRC_IP] < 0 && idx[C_EMAIL] < 0 &&
	    idx[C_URL] < 0) {
		rc = tc_err_set(err, TC_EINPUT,
		    "%s:1: not a Shadowserver report: no ip, src_ip, url or "
		    "email column",
		    fc->name);
		goto out;
	}
	if (idx[C_EMAIL] >= 0 && idx[C_IP] < 0 && idx[C_SRC_IP] < 0)
		cat = TC_CAT_LEAKED_CREDENTIALS; /* compromised_account */
	for (;;) {
		const char *v;
		int         ipcol = idx[C_IP] >= 0 ? idx[C_IP] : idx[C_SRC_IP];
		struct tc_csv_field row[TC_CSV_FIELDS_MAX];
		uint64_t    u;
		bool        any = false;

		r = tc_csv_next(csv, &f, &n, err);
		if (r == 0)
			break;
		if (r < 0) {
			if (r != TC_EINPUT && r != TC_ELIMIT) {
				rc = r;
				goto out;
			}
			if ((rc = tc_feed__skip(fc, err)) < 0)
				goto out;
			continue;
		}
		fc->st->records++;
		if (n == 1 && f[0].len == 0)
			continue; /* blank line */
		/* Fewer fields than the header: the missing trailing ones
		 * are empty (seen in real exports); more is an error. */
		if (n > nhead) {
			tc_err_set(&e2, TC_EINPUT,
			    "%s:%zu: %zu fields, the header has %zu", fc->name,
			    tc_csv_line(csv), n, nhead);
			if ((rc = tc_feed__skip(fc, &e2)) < 0)
				goto out;
			continue;
		}
		/* Pad a short row with empty fields. */
		memcpy(row, f, n * sizeof(*f));
		for (size_t i = n; i < nhead; i++)
			row[i].s = "", row[i].len = 0;
		f = row;
		n = nhead;
		tc_event_reset(&ev);
		ev.line = tc_csv_line(csv);
		ev.category = cat;
		tc_event_set_str(&ev.report_type, rtype);
		e2.msg[0] = '\0';
		if (ipcol >= 0 && f[ipcol].len > 0) {
			if (tc_event_add_indicator(&ev, TC_IND_IPV4,
				f[ipcol].s, f[ipcol].len, &e2) < 0)
				goto bad;
			any = true;
		}
		if (idx[C_URL] >= 0 && f[idx[C_URL]].len > 0 &&
		    tc_event_add_indicator(&ev, TC_IND_URL, f[idx[C_URL]].s,
			f[idx[C_URL]].len, &e2) == 0)
			any = true;
		if (idx[C_HTTP_HOST] >= 0 && f[idx[C_HTTP_HOST]].len > 0 &&
		    cat == TC_CAT_COMPROMISED_WEBSITE &&
		    tc_event_add_indicator(&ev, TC_IND_DOMAIN,
			f[idx[C_HTTP_HOST]].s, f[idx[C_HTTP_HOST]].len,
			&e2) == 0)
			any = true;
		if (idx[C_EMAIL] >= 0 && f[idx[C_EMAIL]].len > 0) {
			if (tc_event_add_indicator(&ev, TC_IND_EMAIL,
				f[idx[C_EMAIL]].s, f[idx[C_EMAIL]].len,
				&e2) < 0)
				goto bad;
			any = true;
		}
		if (!any) {
			tc_err_set(&e2, TC_EINPUT, "no IP, URL or email");
			goto bad;
		}
		v = idx[C_ASN] >= 0 ? f[idx[C_ASN]].s
		    : idx[C_SRC_ASN] >= 0 ? f[idx[C_SRC_ASN]].s
					  : "";
		if (*v)
			(void)tc_event_add_indicator(&ev, TC_IND_ASN, v,
			    strlen(v), &e2); /* a bad ASN is not fatal */
		v = idx[C_PORT] >= 0 ? f[idx[C_PORT]].s
		    : idx[C_SRC_PORT] >= 0 ? f[idx[C_SRC_PORT]].s
					   : "";
		if (*v && tc_parse_uint(v, 0, 65535, &u) == 0)
			ev.port = (uint16_t)u;
		if (idx[C_PROTOCOL] >= 0 && f[idx[C_PROTOCOL]].len > 0)
			tc_event_set_str(&ev.protocol, f[idx[C_PROTOCOL]].s);
		if (idx[C_TIMESTAMP] >= 0)
			ev.first_seen = ev.last_seen =
			    tc_feed__time(f[idx[C_TIMESTAMP]].s);
		if (idx[C_SEVERITY] >= 0) {
			enum tc_severity sev;

			if (tc_severity_parse(f[idx[C_SEVERITY]].s, &sev) == 0)
				ev.severity = sev;
		} else if (cat == TC_CAT_COMPROMISED_HOST ||
		    cat == TC_CAT_VULNERABLE_SERVICE) {
			ev.severity = TC_SEV_HIGH;
		}
		if (idx[C_CVE] >= 0 && f[idx[C_CVE]].len > 0)
			(void)tc_event_add_cve(&ev, f[idx[C_CVE]].s);
		for (size_t i = 0; i < n; i++)
			if (keep[i] && f[i].len > 0 && f[i].len < 1024)
				tc_event_add_field(&ev, head[i], f[i].s);
		if ((rc = tc_feed__emit(fc, &ev)) < 0)
			goto out;
		continue;
	bad:
		tc_err_set(err, TC_EINPUT, "%s:%zu: %s", fc->name,
		    tc_csv_line(csv), e2.msg);
		if ((rc = tc_feed__skip(fc, err)) < 0)
			goto out;
	}
	rc = 0;
out:
	tc_event_deinit(&ev);
	for (size_t i = 0; head && i < nhead; i++)
		free(head[i]);
	free(head);
	free(keep);
	free(rtype);
	return rc;
}

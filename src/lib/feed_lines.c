/* feed_lines: the line formats — plain IOC lists and leaked-credential
 * lists.
 *
 * IOC lists: one indicator a line, `#` comments and blank lines ignored,
 * defanged forms refanged, the type guessed; a trailing ",comment" or
 * whitespace-separated note is not part of the indicator.
 * Credential lists: "email:password", "email;password", "email,password" or
 * "email<TAB>password" (a CSV header line is skipped).  Only the email is
 * kept; the password never reaches the event, a log or an error message,
 * and the line buffer holding it is wiped after each line. */
#include <string.h>

#include "tocsin/csv.h"
#include "tocsin/esc.h"
#include "tocsin/feed.h"
#include "tocsin/str.h"

static int
each_line(struct tc_csv *csv, struct tc_feed_ctx *fc, struct tc_err *err,
    int (*fn)(struct tc_feed_ctx *, struct tc_event *, char *, size_t,
	struct tc_err *),
    const char *format, enum tc_category cat)
{
	const struct tc_csv_field *f;
	size_t                     n;
	int                        r, rc = 0;
	struct tc_event            ev;
	struct tc_err              e2;

	tc_feed__event_init(&ev, fc, format);
	while ((r = tc_csv_next(csv, &f, &n, err)) != 0) {
		char  *line;
		size_t len;

		if (r < 0) {
			if (r != TC_EINPUT && r != TC_ELIMIT) {
				rc = r;
				break;
			}
			if ((rc = tc_feed__skip(fc, err)) < 0)
				break;
			continue;
		}
		line = (char *)(uintptr_t)f[0].s; /* the reader's own buffer */
		len = f[0].len;
		while (len > 0 && (*line == ' ' || *line == '\t'))
			line++, len--;
		if (len == 0 || *line == '#')
			continue;
		fc->st->records++;
		tc_event_reset(&ev);
		ev.line = tc_csv_line(csv);
		ev.category = cat;
		r = fn(fc, &ev, line, len, &e2);
		explicit_bzero(line, len);
		if (r < 0 && r != TC_EINPUT) {
			rc = r;
			break;
		}
		if (r < 0) {
			tc_err_set(err, TC_EINPUT, "%s:%zu: %s", fc->name,
			    tc_csv_line(csv), e2.msg);
			if ((rc = tc_feed__skip(fc, err)) < 0)
				break;
			continue;
		}
		if (r == 0 && (rc = tc_feed__emit(fc, &ev)) < 0)
			break;
	}
	tc_event_deinit(&ev);
	return rc < 0 ? rc : 0;
}

static int
ioc_line(struct tc_feed_ctx *fc, struct tc_event *ev, char *line, size_t len,
    struct tc_err *err)
{
	size_t n = 0;

	(void)fc;
	/* The indicator ends at a blank, a tab or a comma (a note may
	 * follow). */
	while (n < len && line[n] != ' ' && line[n] != '\t' && line[n] != ',')
		n++;
	if (tc_event_add_indicator(ev, -1, line, n, err) < 0)
		return TC_EINPUT;
	if (ev->ind[0].type == TC_IND_ASN)
		return tc_err_set(err, TC_EINPUT,
		    "an AS number is not an indicator of compromise");
	tc_event_set_str(&ev->report_type, "ioc");
	ev->severity = TC_SEV_HIGH;
	return 0;
}

int
tc_feed__ioc(struct tc_csv *csv, struct tc_feed_ctx *fc, struct tc_err *err)
{
	return each_line(csv, fc, err, ioc_line, "ioc", TC_CAT_MALICIOUS_INFRA);
}

static int
creds_line(struct tc_feed_ctx *fc, struct tc_event *ev, char *line,
    size_t len, struct tc_err *err)
{
	const char *at = memchr(line, '@', len);
	size_t      n;

	(void)fc;
	if (at == NULL) {
		/* A header line ("email,password") is not an error. */
		if (tc_str_has_prefix(line, "email") ||
		    tc_str_has_prefix(line, "\"email"))
			return 1;
		return tc_err_set(err, TC_EINPUT,
		    "no email address on this line (its content is not shown: "
		    "it may hold a password)");
	}
	/* The address ends at the first separator after the '@'. */
	n = (size_t)(at - line);
	while (n < len && line[n] != ':' && line[n] != ';' && line[n] != ',' &&
	    line[n] != '\t' && line[n] != ' ')
		n++;
	if (tc_event_add_indicator(ev, TC_IND_EMAIL, line, n, err) < 0)
		/* err names only the address part, never the password. */
		return TC_EINPUT;
	tc_event_set_str(&ev->report_type, "leaked_credentials");
	ev->severity = TC_SEV_HIGH;
	return 0;
}

int
tc_feed__creds(struct tc_csv *csv, struct tc_feed_ctx *fc,
    struct tc_err *err)
{
	return each_line(csv, fc, err, creds_line, "creds",
	    TC_CAT_LEAKED_CREDENTIALS);
}

/* compose: render, MIME, sign, encrypt (see compose.h).
 *
 * The inner entity (what is signed, and for confidential mail encrypted):
 *
 *   Content-Type: multipart/mixed; boundary="B"; hp="cipher";
 *    protected-headers="v1"                   (multipart/alternative when
 *   Subject: [TLP:AMBER] [REF] real subject    there is no attachment)
 *   From: CSIRT <cert@...>
 *   HP-Outer: Subject: [TLP:AMBER] [REF] [...]
 *
 *   --B  multipart/alternative: text/plain and text/html, both
 *        quoted-printable UTF-8 (RFC 3156 requires 7-bit signed content)
 *   --B  the attachment, base64
 *
 * hp="clear" for a signed-only mail, whose outer Subject is the real one.
 * No To, Date or Message-ID inside: they differ per recipient and the
 * entity is signed once for all of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tocsin/compose.h"
#include "tocsin/mime.h"
#include "tocsin/pgp.h"
#include "tocsin/str.h"
#include "tocsin/template.h"

static void
random_hex(char *out, size_t nbytes)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char     r[32];
	size_t            got = 0;

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	while (got < nbytes) {
		ssize_t n = getrandom(r + got, nbytes - got, 0);

		TC_REQUIRE(n > 0); /* getrandom on Linux >= 3.17 does not fail */
		got += (size_t)n;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hexd[r[i] >> 4];
		out[2 * i + 1] = hexd[r[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

static void
subject_prefix(char *out, size_t size, enum tc_tlp tlp, const char *ref)
{
	int n = snprintf(out, size, "[%s] [%s] ", tc_tlp_label(tlp), ref);

	TC_REQUIRE(n > 0 && (size_t)n < size);
}

void
tc_compose_outer_subject(const struct tc_compose_signed *s, bool encrypted,
    struct tc_buf *out)
{
	if (encrypted)
		tc_buf_printf(out, "[%s] [%s] %s", tc_tlp_label(s->tlp),
		    s->reference, TC_COMPOSE_OBSCURED);
	else
		tc_buf_append(out, s->subject.data, s->subject.len);
}

/* Cut `s` to at most `max` characters at a UTF-8 boundary. */
static void
cut_utf8(struct tc_buf *s, size_t max)
{
	size_t chars = 0, i = 0;

	while (i < s->len) {
		unsigned char c = (unsigned char)s->data[i];
		size_t        n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (chars == max) {
			s->len = i;
			s->data[i] = '\0';
			return;
		}
		i += n;
		chars++;
	}
}

static void
part_text(struct tc_buf *e, const char *type, const struct tc_buf *body)
{
	tc_buf_printf(e,
	    "Content-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	    type);
	tc_mime_qp(e, tc_buf_cstr(body), body->len);
}

static int
attachment_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 64)
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
			(*n >= '0' && *n <= '9') || *n == '-' || *n == '_' ||
			*n == '.'))
			return 0;
	return 1;
}

/* The inner entity of `c` rendered as `r`. */
static int
build_inner(const struct tc_compose_content *c, const struct tc_rendered *r,
    const struct tc_buf *subject, struct tc_buf *e, struct tc_err *err)
{
	const char   *contents[3];
	char          alt[48], mixed[48], prefix[TC_COMPOSE_REF_MAX + 32];
	struct tc_buf body = TC_BUF_INIT, outer = TC_BUF_INIT;
	bool          att = c->attachment_name != NULL;
	bool          enc = c->encrypt || tc_tlp_needs_encryption(c->tlp);
	int           rc;

	if (att && !attachment_name_ok(c->attachment_name))
		return tc_err_set(err, TC_EINPUT,
		    "attachment name \"%s\" refused", c->attachment_name);
	contents[0] = tc_buf_cstr(&r->text);
	contents[1] = tc_buf_cstr(&r->html);
	contents[2] = att ? c->attachment : "";
	/* The alternative part: text and HTML. */
	tc_mime_boundary(alt, contents, 3);
	tc_buf_printf(&body, "--%s\r\n", alt);
	part_text(&body, "text/plain", &r->text);
	tc_buf_printf(&body, "\r\n--%s\r\n", alt);
	part_text(&body, "text/html", &r->html);
	tc_buf_printf(&body, "\r\n--%s--\r\n", alt);
	if (att) {
		struct tc_buf wrapped = TC_BUF_INIT;

		tc_mime_boundary(mixed, contents, 3);
		tc_buf_printf(&wrapped,
		    "--%s\r\nContent-Type: multipart/alternative; "
		    "boundary=\"%s\"\r\n\r\n",
		    mixed, alt);
		tc_buf_append(&wrapped, body.data, body.len);
		tc_buf_printf(&wrapped,
		    "\r\n--%s\r\nContent-Type: %s; charset=utf-8; "
		    "name=\"%s\"\r\n"
		    "Content-Disposition: attachment; filename=\"%s\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n",
		    mixed, c->attachment_type ? c->attachment_type : "text/csv",
		    c->attachment_name, c->attachment_name);
		tc_mime_base64(&wrapped, c->attachment, c->attachment_len);
		tc_buf_printf(&wrapped, "\r\n--%s--\r\n", mixed);
		tc_buf_deinit_secret(&body);
		body = wrapped;
	}
	tc_buf_printf(e,
	    "Content-Type: multipart/%s; boundary=\"%s\"; hp=\"%s\";\r\n"
	    " protected-headers=\"v1\"\r\n",
	    att ? "mixed" : "alternative", att ? mixed : alt,
	    enc ? "cipher" : "clear");
	subject_prefix(prefix, sizeof(prefix), c->tlp, c->reference);
	if ((rc = tc_mime_header(e, "Subject", prefix, tc_buf_cstr(subject),
		 err)) < 0)
		goto out;
	if ((rc = tc_mime_address(e, "From", c->from_name, c->from_addr,
		 err)) < 0)
		goto out;
	if (enc) {
		/* RFC 9788 §2.2: what the outside shows instead. */
		tc_buf_printf(&outer, "Subject: [%s] [%s] %s",
		    tc_tlp_label(c->tlp), c->reference, TC_COMPOSE_OBSCURED);
		if ((rc = tc_mime_header(e, "HP-Outer", NULL,
			 tc_buf_cstr(&outer), err)) < 0)
			goto out;
	}
	tc_buf_puts(e, "\r\n");
	tc_buf_append(e, body.data, body.len);
	rc = 0;
out:
	tc_buf_deinit_secret(&body);
	tc_buf_deinit(&outer);
	return rc;
}

static int
ref_ok(const char *ref)
{
	size_t n = strlen(ref);

	if (n == 0 || n >= TC_COMPOSE_REF_MAX)
		return 0;
	for (; *ref; ref++)
		if (!((*ref >= 'A' && *ref <= 'Z') || (*ref >= 'a' && *ref <= 'z') ||
			(*ref >= '0' && *ref <= '9') || *ref == '-'))
			return 0;
	return 1;
}

int
tc_compose_sign(struct tc_pgp *pgp, const struct tc_templates *tpl,
    const struct tc_compose_content *c, struct tc_compose_signed *out,
    struct tc_err *err)
{
	struct tc_rendered r;
	struct tc_buf      inner = TC_BUF_INIT;
	int                rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	if (!ref_ok(c->reference))
		return tc_err_set(err, TC_EINPUT, "reference \"%s\" refused",
		    c->reference);
	if (tc_strlcpy(out->from_addr, c->from_addr, sizeof(out->from_addr)) <
		0 ||
	    tc_strlcpy(out->from_name, c->from_name ? c->from_name : "",
		sizeof(out->from_name)) < 0)
		return tc_err_set(err, TC_EINPUT, "sender address too long");
	if ((rc = tc_templates_render(tpl, c->template_name, c->lang, c->ctx,
		 &r, err)) < 0)
		goto out;
	cut_utf8(&r.subject, TC_COMPOSE_SUBJECT_MAX);
	if ((rc = build_inner(c, &r, &r.subject, &inner, err)) < 0)
		goto out;
	if ((rc = tc_pgp_sign_entity(pgp, inner.data, inner.len, &out->entity,
		 err)) < 0)
		goto out;
	{
		char prefix[TC_COMPOSE_REF_MAX + 32];

		subject_prefix(prefix, sizeof(prefix), c->tlp, c->reference);
		tc_buf_puts(&out->subject, prefix);
		tc_buf_append(&out->subject, r.subject.data, r.subject.len);
	}
	TC_REQUIRE(tc_strlcpy(out->reference, c->reference,
		       sizeof(out->reference)) == 0);
	memcpy(out->lang, r.lang, sizeof(out->lang));
	out->tlp = c->tlp;
	out->encrypt = c->encrypt;
	rc = 0;
out:
	tc_buf_deinit_secret(&inner);
	tc_rendered_deinit(&r);
	if (rc < 0)
		tc_compose_signed_deinit(out);
	return rc;
}

int
tc_compose_preview(const struct tc_templates *tpl,
    const struct tc_compose_content *c, struct tc_buf *entity,
    struct tc_err *err)
{
	struct tc_rendered r;
	int                rc;

	memset(&r, 0, sizeof(r));
	if (!ref_ok(c->reference))
		return tc_err_set(err, TC_EINPUT, "reference \"%s\" refused",
		    c->reference);
	if ((rc = tc_templates_render(tpl, c->template_name, c->lang, c->ctx,
		 &r, err)) < 0)
		goto out;
	cut_utf8(&r.subject, TC_COMPOSE_SUBJECT_MAX);
	rc = build_inner(c, &r, &r.subject, entity, err);
out:
	tc_rendered_deinit(&r);
	return rc;
}

void
tc_compose_signed_deinit(struct tc_compose_signed *s)
{
	tc_buf_deinit_secret(&s->entity);
	tc_buf_deinit_secret(&s->subject);
}

/* The domain of the sender, for Message-IDs. */
static const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at && at[1] ? at + 1 : "localhost";
}

int
tc_compose_wrap(struct tc_pgp *pgp, const struct tc_compose_signed *s,
    const struct tc_compose_rcpt *r, time_t now, struct tc_buf *wire,
    bool *encrypted, struct tc_err *err)
{
	struct tc_buf hdr = TC_BUF_INIT, body = TC_BUF_INIT, subj = TC_BUF_INIT;
	char          rnd[33], msgid[TC_COMPOSE_REF_MAX + 300];
	bool          enc = s->encrypt || tc_tlp_needs_encryption(s->tlp);
	struct tm     tm;
	int           rc;

	*encrypted = false;
	if (enc) {
		const char *fprs[1];

		if (r->fpr == NULL || *r->fpr == '\0') {
			rc = tc_err_set(err, TC_EKEY,
			    "%s %s needs encryption and no PGP key is "
			    "pinned for <%s>",
			    tc_tlp_label(s->tlp),
			    s->encrypt ? "mail" : "content", r->addr);
			goto out;
		}
		fprs[0] = r->fpr;
		/* Checks the pinned key first; nothing is appended on error. */
		if ((rc = tc_pgp_encrypt_entity(pgp, fprs, 1, s->entity.data,
			 s->entity.len, &body, err)) < 0)
			goto out;
	}
	if ((rc = tc_mime_address(&hdr, "From", s->from_name, s->from_addr,
		 err)) < 0)
		goto out;
	if ((rc = tc_mime_address(&hdr, "To", r->name, r->addr, err)) < 0)
		goto out;
	tc_compose_outer_subject(s, enc, &subj);
	/* The label and reference stay plain ASCII outside encoded words, so
	 * that filters can match them (STANDARDS.md §1.3). */
	{
		char   prefix[TC_COMPOSE_REF_MAX + 32];
		size_t plen;

		subject_prefix(prefix, sizeof(prefix), s->tlp, s->reference);
		plen = strlen(prefix);
		TC_REQUIRE(subj.len >= plen);
		if ((rc = tc_mime_header(&hdr, "Subject", prefix,
			 subj.data + plen, err)) < 0)
			goto out;
	}
	tc_buf_puts(&hdr, "Date: ");
	tc_mime_date(&hdr, now);
	tc_buf_puts(&hdr, "\r\n");
	random_hex(rnd, 16);
	gmtime_r(&now, &tm);
	rc = snprintf(msgid, sizeof(msgid), "<%04d%02d%02dT%02d%02d%02dZ.%s.%s@%s>",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, s->reference, rnd, addr_domain(s->from_addr));
	if (rc < 0 || (size_t)rc >= sizeof(msgid)) {
		rc = tc_err_set(err, TC_EINPUT, "Message-ID too long");
		goto out;
	}
	if ((rc = tc_mime_header(&hdr, "Message-ID", NULL, msgid, err)) < 0)
		goto out;
	tc_buf_printf(&hdr,
	    "MIME-Version: 1.0\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "X-TLP: %s\r\n"
	    "X-Tocsin-Reference: %s\r\n",
	    tc_tlp_label(s->tlp), s->reference);
	tc_buf_append(wire, hdr.data, hdr.len);
	if (enc)
		tc_buf_append(wire, body.data, body.len);
	else
		tc_buf_append(wire, s->entity.data, s->entity.len);
	*encrypted = enc;
	rc = 0;
out:
	tc_buf_deinit(&hdr);
	tc_buf_deinit(&body);
	tc_buf_deinit_secret(&subj);
	return rc;
}

json_t *
tc_compose_context(enum tc_tlp tlp, const char *reference,
    const char *from_addr, const char *from_name, const char *url,
    time_t now)
{
	static const char *const flags[] = { "clear", "green", "amber",
		"amber_strict", "red" };
	json_t   *ctx = json_object(), *t = json_object(), *c = json_object();
	char      date[64];
	struct tm tm;

	json_object_set_new(t, "label", json_string(tc_tlp_label(tlp)));
	json_object_set_new(t, "name", json_string(tc_tlp_name(tlp)));
	json_object_set_new(t, "colour", json_string(tc_tlp_colour(tlp)));
	for (int i = TC_TLP_CLEAR; i <= TC_TLP_RED; i++)
		json_object_set_new(t, flags[i], json_boolean(i == (int)tlp));
	json_object_set_new(ctx, "tlp", t);
	json_object_set_new(ctx, "reference", json_string(reference));
	json_object_set_new(c, "name",
	    json_string(from_name && *from_name ? from_name : from_addr));
	json_object_set_new(c, "email", json_string(from_addr));
	if (url != NULL)
		json_object_set_new(c, "url", json_string(url));
	json_object_set_new(ctx, "csirt", c);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
	json_object_set_new(ctx, "date", json_string(date));
	return ctx;
}

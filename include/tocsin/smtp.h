/* smtp: deliver messages with libesmtp, many per session.
 *
 * Owns one SMTP session per call (connect, EHLO, STARTTLS, AUTH, one MAIL
 * transaction per message, QUIT) and the reading of every message's and
 * recipient's status; never renders, signs or queues.  Blocking (libesmtp runs
 * its own poll loop): call it on a pool thread, one session per call, never
 * shared.  smtp_start_session() success only means the dialogue ran: each
 * message's and recipient's status is read.  The process must ignore
 * SIGPIPE (tocsind does): libesmtp writes to a socket the server may close.
 *
 * Messages are sent byte for byte.  libesmtp 1.1 cannot switch its header
 * processing off: it adds Date, From and Message-ID when they are missing,
 * drops Return-Path, Original-Recipient and Resent-Reply-To, and drops the
 * second copy of a header it knows (To, Cc, Bcc, Reply-To, Sender, ...).  So
 * a message on which it would act is refused before the session starts
 * (TC_SMTP_PERMFAIL, code 0, the reason in reply) and never reaches the wire.
 * Dot-stuffing (RFC 5321 4.5.2) is libesmtp's job. */
#ifndef TOCSIN_SMTP_H
#define TOCSIN_SMTP_H

#include <stddef.h>

#include "tocsin/config.h"
#include "tocsin/err.h"

/* Bounds checked before a session starts (RFC 5321 4.5.3.1). */
#define TC_SMTP_ADDR_MAX 254  /* an envelope address, octets */
#define TC_SMTP_LINE_MAX 998  /* a message line without its CRLF */
#define TC_SMTP_REPLY_MAX 256 /* sizeof tc_smtp_msg.reply */

enum tc_smtp_result { TC_SMTP_SENT, TC_SMTP_TEMPFAIL, TC_SMTP_PERMFAIL };

struct tc_smtp_params {
	const char      *host; /* "127.0.0.1", a name, or an IPv6 literal */
	unsigned         port;
	enum tc_starttls starttls; /* from config.h: REQUIRED (default),
				      OPTIONAL, OFF */
	const char *username;      /* NULL: no AUTH */
	const char *password;
	const char *helo;      /* NULL: gethostname() */
	const char *ca_file;   /* NULL: system CAs */
	unsigned    timeout_s; /* every SMTP timeout (greeting, each
				  command, data), overriding the RFC
				  minimums; 0 means 1 */
};

struct tc_smtp_msg {
	const char *from; /* envelope sender (plain addr-spec, "" for <>) */
	const char *rcpt; /* one envelope recipient */
	const char *data; /* the whole RFC 5322 message, CRLF line ends,
			     sent byte for byte */
	size_t len;
	/* results, written by tc_smtp_send */
	enum tc_smtp_result result;
	int  code; /* SMTP reply code of the recipient/data stage, 0 if none */
	char reply[TC_SMTP_REPLY_MAX]; /* the server's reply text, control
					  characters replaced; or our reason */
};

/* Send `n` messages in one session.  Returns the number accepted (>= 0), or
 * a negative TC_E* when the session itself failed (connect refused, timeout,
 * STARTTLS required but not offered or failed, AUTH failed; TC_EINPUT for
 * bad parameters or an unreadable ca_file, TC_EPERMFAIL for AUTH refused
 * with 5xx, TC_ETEMPFAIL otherwise); then every message that got no reply
 * of its own is TC_SMTP_TEMPFAIL with the reason in reply, and err is
 * filled.  (libesmtp 1.1 goes on to MAIL FROM when AUTH is refused or not
 * offered; the call then still fails, but a message the server accepted
 * anyway stays SENT.)  Per message: 2xx → SENT, 4xx → TEMPFAIL, 5xx →
 * PERMFAIL, code and reply from the stage that decided (MAIL, RCPT or
 * data), reply as "code x.y.z text"; a
 * message refused before the session (bad address, bare CR or LF, a line
 * over TC_SMTP_LINE_MAX, headers libesmtp would rewrite) is PERMFAIL with
 * code 0.  With STARTTLS REQUIRED no MAIL FROM is sent unless TLS is up and
 * the server's certificate verified for `host` (name or IP address).  The
 * password is never logged and never copied into err or reply.  `p` and
 * `msgs` are borrowed for the call. */
int tc_smtp_send(const struct tc_smtp_params *p, struct tc_smtp_msg *msgs,
    size_t n, struct tc_err *err);

#endif

/* smtp: one libesmtp session per call, many messages per session.
 *
 * Start here: tc_smtp_send() checks every message (check_msg), builds one
 * smtp_session_t with one smtp_message_t per message that passed, runs
 * smtp_start_session() (blocking: libesmtp's own poll loop) and then reads
 * each message's reverse-path, recipient and data status (read_status).
 *
 * What libesmtp 1.1 does on its own and how we keep it honest:
 *  - Headers.  It cannot be told to leave the header block alone: it adds
 *    Date, From and Message-ID when missing, strips Return-Path,
 *    Original-Recipient and Resent-Reply-To, and drops a second copy of a
 *    header it knows.  check_headers() refuses such a message before the
 *    session, so whatever is sent is the caller's bytes (plus dot-stuffing).
 *  - TLS.  Without smtp_starttls_set_ctx() it shares one static SSL_CTX
 *    built from ~/.authenticate; we always give it our own, which verifies
 *    the chain (ca_file or the system store) and the host name or IP address
 *    inside OpenSSL (X509_VERIFY_PARAM), because libesmtp's own name check
 *    knows no IP addresses.  A failed verification aborts the handshake;
 *    nothing is sent after a failed STARTTLS.  The context is capped at
 *    TLS 1.2 (see tls_ctx_new: libesmtp stalls on TLS 1.3 session tickets).
 *  - STARTTLS required but not offered: libesmtp quits before MAIL FROM and
 *    reports SMTP_EV_EXTNA_STARTTLS (event_cb).
 *  - AUTH.  When the server refuses AUTH (or does not offer it) libesmtp
 *    goes on to MAIL FROM anyway.  monitor_cb watches the AUTH reply; a
 *    session without a successful AUTH is reported as failed.  Messages the
 *    server accepted nevertheless keep TC_SMTP_SENT: they were delivered.
 *  - Timeouts.  Every phase gets timeout_s with
 *    Timeout_OVERRIDE_RFC2822_MINIMUM; libesmtp has no connect timeout of
 *    its own (a refused connect fails at once, a black hole waits for the
 *    kernel's SYN retries).
 *  - Nagle.  libesmtp writes a message in 2 KB pieces and never sets
 *    TCP_NODELAY, so the last small piece (with the final ".") waits for
 *    the ACK of the previous one, which the server delays: 40 ms per
 *    message, about 25 messages/s per session (measured, bench/RESULTS.md).
 *    It gives no access to its socket, so at SMTP_EV_CONNECT (right after
 *    connect()) nodelay() sets TCP_NODELAY on the process's TCP sockets
 *    connected to the relay's port: the new session's socket, and possibly
 *    another thread's session to the same relay, for which it is as
 *    wanted. */
#include <stddef.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/smtp.h"
#include "tocsin/str.h"

/* Per-message state that libesmtp's callbacks see. */
struct msg_src {
	struct tc_smtp_msg *msg;
	smtp_message_t      m;
	smtp_recipient_t    r;
	size_t              off; /* next byte handed to libesmtp */
};

enum auth_state { AUTH_NONE, AUTH_SENT, AUTH_OK, AUTH_FAILED };

/* Session state written by the callbacks (same thread). */
struct sess {
	const struct tc_smtp_params *p;
	char                         where[300]; /* "host:port" for messages */
	bool                         tls_up;
	bool                         starttls_missing;
	char                         tls_reason[200];
	enum auth_state              auth;
	int                          auth_code;
	char                         auth_reply[TC_SMTP_REPLY_MAX];
};

/* Copy server text into `dst`: printable ASCII only (others become '?',
 * CR and LF of a multi-line reply become a space), cut to fit. */
static void
sanitise(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	if (src != NULL) {
		for (; *src != '\0' && i + 1 < size; src++) {
			unsigned char c = (unsigned char)*src;

			if (c == '\r' || c == '\n')
				c = ' ';
			else if (c < 0x20 || c > 0x7e)
				c = '?';
			dst[i++] = (char)c;
		}
	}
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

/* Format a diagnostic into `dst`; a text that does not fit is cut and
 * ends in "...", which is fine for a reason shown to a human. */
static void diag(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
diag(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int     rc;

	va_start(ap, fmt);
	rc = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (rc < 0)
		dst[0] = '\0';
	else if ((size_t)rc >= size && size > 4)
		memcpy(dst + size - 4, "...", 4);
}

static void set_reason(struct tc_smtp_msg *msg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_reason(struct tc_smtp_msg *msg, const char *fmt, ...)
{
	char    tmp[TC_SMTP_REPLY_MAX];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(tmp, sizeof tmp, fmt, ap) < 0)
		tmp[0] = '\0';
	va_end(ap);
	sanitise(msg->reply, sizeof msg->reply, tmp);
}

/* An envelope address: printable ASCII without space, <, >, bounded. */
static bool
addr_ok(const char *a, bool empty_ok)
{
	size_t n;

	if (a == NULL)
		return false;
	n = strlen(a);
	if (n == 0)
		return empty_ok;
	if (n > TC_SMTP_ADDR_MAX || strchr(a, '@') == NULL)
		return false;
	for (; *a != '\0'; a++) {
		unsigned char c = (unsigned char)*a;

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* libesmtp's table of the headers it acts on (headers.c, v1.1.0). */
static const struct {
	const char *name;
	int         min, max; /* how many the message must carry */
} hdr_rules[] = {
	{ "Date", 1, 1 },
	{ "From", 1, 1 },
	{ "Message-ID", 1, 1 },
	{ "Sender", 0, 1 },
	{ "To", 0, 1 },
	{ "Cc", 0, 1 },
	{ "Bcc", 0, 1 },
	{ "Reply-To", 0, 1 },
	{ "Disposition-Notification-To", 0, 1 },
	{ "Return-Path", 0, 0 },
	{ "Original-Recipient", 0, 0 },
	{ "Resent-Reply-To", 0, 0 },
};

/* Check the header block of `d` (CRLF lines, already checked) against
 * hdr_rules, so that libesmtp passes it through unchanged.  Returns NULL,
 * or why not. */
static const char *
check_headers(const char *d, size_t len, char *why, size_t why_size)
{
	unsigned    seen[TC_NELEM(hdr_rules)] = { 0 };
	const char *end = d + len;
	bool        blank = false;

	while (d < end) {
		const char *eol = memchr(d, '\r', (size_t)(end - d));
		const char *colon;
		size_t      n;

		if (eol == d) {
			blank = true;
			break;
		}
		if (*d != ' ' && *d != '\t') {
			colon = memchr(d, ':', (size_t)(eol - d));
			if (colon == NULL) {
				diag(why, why_size,
				    "header line without a colon");
				return why;
			}
			n = (size_t)(colon - d);
			for (size_t i = 0; i < TC_NELEM(hdr_rules); i++)
				if (strlen(hdr_rules[i].name) == n &&
				    strncasecmp(hdr_rules[i].name, d, n) == 0)
					seen[i]++;
		}
		d = eol + 2;
	}
	if (!blank) {
		diag(why, why_size, "no empty line after the headers");
		return why;
	}
	for (size_t i = 0; i < TC_NELEM(hdr_rules); i++) {
		if (seen[i] < (unsigned)hdr_rules[i].min ||
		    seen[i] > (unsigned)hdr_rules[i].max) {
			diag(why, why_size,
			    "%u %s header(s), need %d to %d (libesmtp would "
			    "rewrite the header block)",
			    seen[i], hdr_rules[i].name, hdr_rules[i].min,
			    hdr_rules[i].max);
			return why;
		}
	}
	return NULL;
}

/* Every check done before a message may enter the session.  Returns NULL,
 * or the reason it is refused (in `why`). */
static const char *
check_msg(const struct tc_smtp_msg *msg, char *why, size_t why_size)
{
	const char *d = msg->data;
	size_t      line = 0;

	if (!addr_ok(msg->from, true))
		return "invalid envelope sender";
	if (!addr_ok(msg->rcpt, false))
		return "invalid envelope recipient";
	if (d == NULL || msg->len < 4 || msg->len > INT_MAX)
		return "empty or oversized message";
	if (d[msg->len - 2] != '\r' || d[msg->len - 1] != '\n')
		return "message does not end with CRLF";
	/* CRLF only: a bare CR or LF is how "SMTP smuggling" starts. */
	for (size_t i = 0; i < msg->len; i++) {
		if (d[i] == '\0')
			return "NUL byte in message";
		if (d[i] == '\r') {
			if (i + 1 >= msg->len || d[i + 1] != '\n')
				return "bare CR in message";
			i++;
			line = 0;
			continue;
		}
		if (d[i] == '\n')
			return "bare LF in message";
		if (++line > TC_SMTP_LINE_MAX)
			return "line longer than 998 octets";
	}
	return check_headers(d, msg->len, why, why_size);
}

/* libesmtp reads the message through this; `*ctx` stays NULL because
 * libesmtp free()s it, our state is in `arg`. */
static const char *
msg_cb(void **ctx, int *len, void *arg)
{
	struct msg_src *src = arg;
	const char     *p;

	(void)ctx;
	if (len == NULL) { /* rewind */
		src->off = 0;
		return NULL;
	}
	p = src->msg->data + src->off;
	*len = (int)(src->msg->len - src->off); /* len <= INT_MAX: check_msg */
	src->off = src->msg->len;
	return p;
}

/* TCP_NODELAY on every TCP socket of the process whose peer is on `port`
 * (see the top of the file).  Best effort: an fd that is not such a socket,
 * or closes meanwhile, is skipped. */
static void
nodelay(unsigned port)
{
	DIR           *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int            self, one = 1;

	if (dir == NULL)
		return;
	self = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		struct sockaddr_storage sa;
		socklen_t               sl = sizeof sa;
		struct stat             st;
		char                   *end;
		long                    fd = strtol(de->d_name, &end, 10);
		unsigned                peer;

		if (*end != '\0' || end == de->d_name || fd == self || fd < 0 ||
		    fd > INT_MAX)
			continue;
		if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
		    getpeername((int)fd, (struct sockaddr *)&sa, &sl) < 0)
			continue;
		if (sa.ss_family == AF_INET)
			peer = ntohs(((struct sockaddr_in *)&sa)->sin_port);
		else if (sa.ss_family == AF_INET6)
			peer = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
		else
			continue;
		if (peer == port)
			(void)setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY,
			    &one, sizeof one);
	}
	closedir(dir);
}

static void
event_cb(smtp_session_t session, int event_no, void *arg, ...)
{
	struct sess *s = arg;
	va_list      ap;
	int         *ok;
	long         vfy;
	SSL         *ssl;

	(void)session;
	va_start(ap, arg);
	switch (event_no) {
	case SMTP_EV_CONNECT:
		nodelay(s->p->port);
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		s->starttls_missing = true;
		break;
	case SMTP_EV_STARTTLS_OK:
		s->tls_up = true;
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		vfy = va_arg(ap, long);
		ok = va_arg(ap, int *);
		*ok = 0;
		diag(s->tls_reason, sizeof s->tls_reason,
		    "certificate verification failed: %s",
		    X509_verify_cert_error_string(vfy));
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		/* libesmtp's own name check ignores IP addresses.  OpenSSL
		 * already checked the name or address (X509_VERIFY_PARAM)
		 * and the handshake fails without it, so its verdict
		 * stands. */
		ok = va_arg(ap, int *);
		(void)va_arg(ap, char *);
		ssl = va_arg(ap, SSL *);
		*ok = SSL_get_verify_result(ssl) == X509_V_OK;
		if (!*ok)
			diag(s->tls_reason, sizeof s->tls_reason,
			    "certificate does not match %s", s->p->host);
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
	case SMTP_EV_WEAK_CIPHER:
		if (event_no == SMTP_EV_WEAK_CIPHER)
			(void)va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;
		diag(s->tls_reason, sizeof s->tls_reason, "%s",
		    event_no == SMTP_EV_WEAK_CIPHER ? "weak TLS cipher"
						    : "no server certificate");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* Watches the dialogue for the outcome of AUTH only; never copies what we
 * write (it holds the credentials). */
static void
monitor_cb(const char *buf, int buflen, int writing, void *arg)
{
	struct sess *s = arg;
	char         line[TC_SMTP_REPLY_MAX];
	size_t       n;

	if (writing == SMTP_CB_WRITING) {
		if (buflen >= 5 && strncasecmp(buf, "AUTH ", 5) == 0)
			s->auth = AUTH_SENT;
		return;
	}
	if (writing != SMTP_CB_READING || s->auth != AUTH_SENT || buflen < 3)
		return;
	if (!isdigit((unsigned char)buf[0]) ||
	    !isdigit((unsigned char)buf[1]) || !isdigit((unsigned char)buf[2]))
		return;
	if (buf[0] == '3') /* 334: the exchange goes on */
		return;
	s->auth_code =
	    (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
	s->auth = buf[0] == '2' ? AUTH_OK : AUTH_FAILED;
	n = (size_t)buflen < sizeof line - 1 ? (size_t)buflen : sizeof line - 1;
	memcpy(line, buf, n);
	line[n] = '\0';
	sanitise(s->auth_reply, sizeof s->auth_reply, line);
}

static int
auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	const struct tc_smtp_params *p = arg;

	for (int i = 0; i < fields; i++) {
		/* libesmtp only reads these; its API is not const-clean. */
		if (req[i].flags & AUTH_USER)
			result[i] = (char *)(uintptr_t)p->username;
		else if (req[i].flags & AUTH_PASS)
			result[i] = (char *)(uintptr_t)p->password;
		else
			return 0;
		if (result[i] == NULL)
			return 0;
	}
	return 1;
}

static void
auth_init_once(void)
{
	auth_client_init();
}

static bool
is_ip_literal(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

/* Our SSL_CTX: TLS 1.2+, chain verified against ca_file or the system
 * store, name or address verified by OpenSSL, handshake aborted if not. */
static SSL_CTX *
tls_ctx_new(const struct tc_smtp_params *p, char *why, size_t why_size)
{
	SSL_CTX           *ctx;
	X509_VERIFY_PARAM *vp;
	int                ok;

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		diag(why, why_size, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* TLS 1.2 only: with TLS 1.3 the server's NewSessionTicket arrives
	 * after the handshake, and libesmtp 1.1's I/O loop then stalls on
	 * the next command until the timeout (measured: about one session
	 * in two against Postfix 3.7 with OpenSSL 3.0).  TLS 1.2 has no
	 * post-handshake messages. */
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (p->ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(ctx, p->ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		diag(why, why_size, "cannot load CA %s",
		    p->ca_file != NULL ? p->ca_file : "(system store)");
		goto fail;
	}
	vp = SSL_CTX_get0_param(ctx);
	if (is_ip_literal(p->host))
		ok = X509_VERIFY_PARAM_set1_ip_asc(vp, p->host);
	else {
		X509_VERIFY_PARAM_set_hostflags(vp,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = X509_VERIFY_PARAM_set1_host(vp, p->host, 0);
	}
	if (ok != 1) {
		diag(why, why_size, "cannot verify for host %s", p->host);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The reply of the stage that decided this message's fate. */
static void
read_status(struct msg_src *src)
{
	const smtp_status_t *rp = smtp_reverse_path_status(src->m);
	const smtp_status_t *rs = smtp_recipient_status(src->r);
	const smtp_status_t *ms = smtp_message_transfer_status(src->m);
	const smtp_status_t *st = NULL;
	struct tc_smtp_msg  *msg = src->msg;

	if (rp != NULL && rp->code >= 400)
		st = rp;
	else if (rs != NULL && rs->code >= 400)
		st = rs;
	else if (ms != NULL && ms->code != 0)
		st = ms;
	else if (rs != NULL && rs->code != 0)
		st = rs;
	if (st == NULL || st->code == 0) {
		msg->result = TC_SMTP_TEMPFAIL;
		msg->code = 0;
		msg->reply[0] = '\0';
		return;
	}
	msg->code = st->code;
	/* libesmtp splits the code and the RFC 3463 enhanced code off the
	 * text; put them back, as the outbox records the whole reply. */
	if (st->enh_class != 0)
		set_reason(msg, "%d %d.%d.%d %s", st->code, st->enh_class,
		    st->enh_subject, st->enh_detail,
		    st->text != NULL ? st->text : "");
	else
		set_reason(msg, "%d %s", st->code,
		    st->text != NULL ? st->text : "");
	if (st->code >= 500)
		msg->result = TC_SMTP_PERMFAIL;
	else if (st->code >= 400 || st != ms || st->code < 200 ||
	    st->code >= 300)
		msg->result = TC_SMTP_TEMPFAIL;
	else
		msg->result = TC_SMTP_SENT;
}

int
tc_smtp_send(const struct tc_smtp_params *p, struct tc_smtp_msg *msgs, size_t n,
    struct tc_err *err)
{
	static pthread_once_t auth_once = PTHREAD_ONCE_INIT;
	struct sess           s;
	struct msg_src       *src = NULL;
	smtp_session_t        session = NULL;
	auth_context_t        auth = NULL;
	SSL_CTX              *ctx = NULL;
	char                  hostport[300], why[200], reason[TC_ERR_MSG_MAX];
	size_t                queued = 0;
	long                  timeout_ms;
	int                   rc, started, serr = 0, accepted = 0;

	memset(&s, 0, sizeof s);
	reason[0] = '\0';
	if (p == NULL || p->host == NULL || p->host[0] == '\0' ||
	    p->port == 0 || p->port > 65535 || (msgs == NULL && n > 0))
		return tc_err_set(err, TC_EINPUT, "smtp: no host or port");
	s.p = p;
	/* libesmtp 1.1 splits "host:port" at the first colon. */
	if (strchr(p->host, ':') != NULL)
		return tc_err_set(err, TC_EINPUT,
		    "smtp: %s: IPv6 literals are not supported, use a name",
		    p->host);
	rc = snprintf(hostport, sizeof hostport, "%s:%u", p->host, p->port);
	if (rc < 0 || (size_t)rc >= sizeof hostport)
		return tc_err_set(err, TC_EINPUT, "smtp: host name too long");
	diag(s.where, sizeof s.where, "%s", hostport);
	if (p->username != NULL && p->password == NULL)
		return tc_err_set(err, TC_EINPUT,
		    "smtp: username set without a password");

	src = tc_xcalloc(n > 0 ? n : 1, sizeof *src);
	for (size_t i = 0; i < n; i++) {
		const char *bad = check_msg(&msgs[i], why, sizeof why);

		msgs[i].code = 0;
		msgs[i].reply[0] = '\0';
		src[i].msg = &msgs[i];
		if (bad != NULL) {
			msgs[i].result = TC_SMTP_PERMFAIL;
			set_reason(&msgs[i], "refused before sending: %s", bad);
			continue;
		}
		msgs[i].result = TC_SMTP_TEMPFAIL;
		queued++;
	}
	if (queued == 0) {
		rc = 0;
		goto out;
	}

	session = smtp_create_session();
	if (session == NULL) {
		rc = tc_err_set(err, -ENOMEM, "smtp: cannot create a session");
		diag(reason, sizeof reason, "cannot create a session");
		goto fail_all;
	}
	if (!smtp_set_server(session, hostport) ||
	    !smtp_set_hostname(session, p->helo) ||
	    !smtp_set_eventcb(session, event_cb, &s) ||
	    !smtp_set_monitorcb(session, monitor_cb, &s, 0)) {
		rc = tc_err_set(err, TC_EINPUT, "smtp: bad session parameters");
		diag(reason, sizeof reason, "bad session parameters");
		goto fail_all;
	}
	timeout_ms = (long)(p->timeout_s > 0 ? p->timeout_s : 1) * 1000L;
	{
		static const int which[] = { Timeout_GREETING, Timeout_ENVELOPE,
			Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };

		for (size_t i = 0; i < TC_NELEM(which); i++)
			(void)smtp_set_timeout(session,
			    which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
			    timeout_ms);
	}
	if (p->starttls != TC_STARTTLS_OFF) {
		ctx = tls_ctx_new(p, why, sizeof why);
		if (ctx == NULL) {
			rc = tc_err_set(err, TC_EINPUT, "smtp: TLS set-up: %s",
			    why);
			diag(reason, sizeof reason, "TLS set-up: %s", why);
			goto fail_all;
		}
		/* libesmtp takes its own reference. */
		(void)smtp_starttls_set_ctx(session, ctx);
		(void)smtp_starttls_enable(session,
		    p->starttls == TC_STARTTLS_REQUIRED ? Starttls_REQUIRED
							: Starttls_ENABLED);
	} else {
		(void)smtp_starttls_enable(session, Starttls_DISABLED);
	}
	if (p->username != NULL) {
		(void)pthread_once(&auth_once, auth_init_once);
		auth = auth_create_context();
		if (auth == NULL) {
			rc = tc_err_set(err, -ENOMEM, "smtp: AUTH context");
			diag(reason, sizeof reason, "AUTH context");
			goto fail_all;
		}
		(void)auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		(void)auth_set_interact_cb(auth, auth_interact,
		    (void *)(uintptr_t)p);
		(void)smtp_auth_set_context(session, auth);
	}
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].reply[0] != '\0') /* refused by check_msg */
			continue;
		src[i].m = smtp_add_message(session);
		if (src[i].m == NULL ||
		    !smtp_set_reverse_path(src[i].m, msgs[i].from) ||
		    (src[i].r = smtp_add_recipient(src[i].m, msgs[i].rcpt)) ==
			NULL ||
		    !smtp_set_messagecb(src[i].m, msg_cb, &src[i])) {
			rc = tc_err_set(err, -ENOMEM,
			    "smtp: cannot add message");
			diag(reason, sizeof reason, "cannot add message");
			goto fail_all;
		}
	}

	ERR_clear_error();
	started = smtp_start_session(session);
	serr = smtp_errno();
	for (size_t i = 0; i < n; i++) {
		if (src[i].m == NULL)
			continue;
		read_status(&src[i]);
		if (msgs[i].result == TC_SMTP_SENT)
			accepted++;
		/* libesmtp reports success for a session that timed out or
		 * was dropped before it got to a message: that message has
		 * no status at all. */
		if (msgs[i].code == 0)
			started = 0;
	}

	/* Was the session itself sound? */
	if (s.starttls_missing)
		diag(reason, sizeof reason,
		    "STARTTLS required but not offered by %s", s.where);
	else if (s.tls_reason[0] != '\0')
		diag(reason, sizeof reason, "STARTTLS with %s failed: %s",
		    s.where, s.tls_reason);
	else if (!started) {
		unsigned long e = ERR_peek_last_error();
		char          ebuf[160], sbuf[160];

		if (e != 0 && p->starttls != TC_STARTTLS_OFF && !s.tls_up) {
			ERR_error_string_n(e, ebuf, sizeof ebuf);
			diag(reason, sizeof reason,
			    "STARTTLS with %s failed: %s", s.where, ebuf);
		} else {
			diag(reason, sizeof reason,
			    "session with %s failed: %s", s.where,
			    serr != 0 ? smtp_strerror(serr, sbuf, sizeof sbuf)
				      : "no reply");
		}
	} else if (p->starttls == TC_STARTTLS_REQUIRED && !s.tls_up)
		diag(reason, sizeof reason,
		    "STARTTLS required but not established with %s", s.where);
	else if (p->username != NULL && s.auth != AUTH_OK) {
		if (s.auth == AUTH_FAILED)
			diag(reason, sizeof reason,
			    "AUTH as %s refused by %s: %s", p->username,
			    s.where, s.auth_reply);
		else
			diag(reason, sizeof reason,
			    "AUTH as %s not done: %s offers no usable "
			    "mechanism",
			    p->username, s.where);
	}
	ERR_clear_error();

	if (reason[0] == '\0') {
		rc = accepted;
		tc_log_debug(TC_LOG_SMTP,
		    "server=%s tls=%s messages=%zu accepted=%d", s.where,
		    s.tls_up ? "yes" : "no", queued, accepted);
		goto out;
	}
	rc = tc_err_set(err,
	    s.auth == AUTH_FAILED && s.auth_code >= 500 ? TC_EPERMFAIL
							: TC_ETEMPFAIL,
	    "smtp: %s", reason);
	tc_log_warning(TC_LOG_SMTP,
	    "server=%s result=session-failed reason=\"%s\"", s.where, reason);
fail_all:
	for (size_t i = 0; i < n; i++) {
		/* Keep what the server said (accepted, or a 4xx/5xx reply
		 * before the session broke) and our own refusals. */
		if (msgs[i].code != 0 ||
		    (src[i].m == NULL && msgs[i].reply[0] != '\0'))
			continue;
		msgs[i].result = TC_SMTP_TEMPFAIL;
		set_reason(&msgs[i], "%s", reason);
	}
out:
	if (session != NULL)
		smtp_destroy_session(session);
	if (auth != NULL)
		auth_destroy_context(auth);
	SSL_CTX_free(ctx);
	free(src);
	return rc;
}

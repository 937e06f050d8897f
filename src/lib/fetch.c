/* fetch: see include/tocsin/fetch.h.
 *
 * Design note.  curl tells us which sockets to watch (socket callback) and
 * when to call it back without I/O (timer callback); we translate both into
 * uv_poll and uv_timer, and feed readiness back with
 * curl_multi_socket_action().  Finished transfers are collected with
 * curl_multi_info_read() after every action.  A poll context is owned by
 * curl's socket (curl_multi_assign) and freed in its close callback; the
 * struct tc_fetch is freed only when the timer and every poll handle are
 * closed (libuv's rule: memory of a handle lives until its close_cb). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tocsin/esc.h"
#include "tocsin/fetch.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/str.h"

struct tc_fetch {
	uv_loop_t        *loop;
	CURLM            *multi;
	uv_timer_t        timer;
	unsigned          active;
	struct transfer  *transfers; /* list of active transfers */
	unsigned          open_handles; /* timer + poll contexts */
	bool              closing;
	tc_fetch_close_cb close_cb;
	void             *close_arg;
};

struct poll_ctx {
	uv_poll_t        poll;
	curl_socket_t    fd;
	struct tc_fetch *f;
};

struct transfer {
	struct transfer       *next, **prevp;
	struct tc_fetch       *f;
	CURL                  *easy;
	struct curl_slist     *headers;
	int                    fd;
	char                  *path;
	uint64_t               max_bytes;
	bool                   too_big;
	bool                   write_failed;
	struct tc_fetch_result res;
	tc_fetch_cb            cb;
	void                  *arg;
};

static void
maybe_free(struct tc_fetch *f)
{
	if (!f->closing || f->open_handles > 0)
		return;
	curl_multi_cleanup(f->multi);
	if (f->close_cb != NULL)
		f->close_cb(f->close_arg);
	free(f);
}

static void
on_poll_closed(uv_handle_t *h)
{
	struct poll_ctx *pc = container_of((uv_poll_t *)h, struct poll_ctx,
	    poll);
	struct tc_fetch *f = pc->f;

	free(pc);
	f->open_handles--;
	maybe_free(f);
}

static void
finish(struct transfer *t, int status)
{
	struct tc_fetch *f = t->f;

	if (t->fd >= 0) {
		if (close(t->fd) != 0 && status == 0) {
			status = TC_ETEMPFAIL;
			snprintf(t->res.error, sizeof(t->res.error),
			    "%s: close: %s", t->path, strerror(errno));
		}
		t->fd = -1;
	}
	if (status < 0 || t->res.not_modified)
		(void)unlink(t->path);
	curl_multi_remove_handle(f->multi, t->easy);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	if (t->next != NULL)
		t->next->prevp = t->prevp;
	*t->prevp = t->next;
	f->active--;
	t->cb(status, &t->res, t->arg);
	free(t->path);
	free(t);
}

static int
status_of(struct transfer *t, CURLcode cc)
{
	long code = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	t->res.http_code = code;
	if (t->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(t->res.error, sizeof(t->res.error),
		    "body larger than the limit of %llu bytes",
		    (unsigned long long)t->max_bytes);
		return TC_ELIMIT;
	}
	if (t->write_failed) {
		snprintf(t->res.error, sizeof(t->res.error), "%s: write: %s",
		    t->path, strerror(errno));
		return TC_ETEMPFAIL;
	}
	if (cc != CURLE_OK) {
		snprintf(t->res.error, sizeof(t->res.error), "%s",
		    curl_easy_strerror(cc));
		switch (cc) {
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
		case CURLE_TOO_MANY_REDIRECTS:
			return TC_EPERMFAIL;
		default:
			return TC_ETEMPFAIL;
		}
	}
	if (code == 304) {
		t->res.not_modified = true;
		return 0;
	}
	if (code >= 200 && code < 300)
		return 0;
	snprintf(t->res.error, sizeof(t->res.error), "HTTP status %ld", code);
	if (code == 429 || code == 408 || code >= 500)
		return TC_ETEMPFAIL;
	return TC_EPERMFAIL;
}

static void
check_done(struct tc_fetch *f)
{
	CURLMsg *msg;
	int      left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		struct transfer *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
		finish(t, status_of(t, msg->data.result));
	}
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct poll_ctx *pc = container_of(h, struct poll_ctx, poll);
	int              flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* pc may be closed inside socket_action: keep what we need. */
	struct tc_fetch *f = pc->f;
	curl_multi_socket_action(f->multi, pc->fd, flags, &running);
	check_done(f);
}

static void
on_timer(uv_timer_t *t)
{
	struct tc_fetch *f = container_of(t, struct tc_fetch, timer);
	int              running;

	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

static int
curl_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct tc_fetch *f = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&f->timer);
	else
		/* 0 means "now"; run it from the loop, not re-entrantly. */
		uv_timer_start(&f->timer, on_timer,
		    timeout_ms == 0 ? 1 : (uint64_t)timeout_ms, 0);
	return 0;
}

static int
curl_on_socket(CURL *easy, curl_socket_t s, int action, void *userp,
    void *socketp)
{
	struct tc_fetch *f = userp;
	struct poll_ctx *pc = socketp;
	int              events = 0;

	(void)easy;
	if (action == CURL_POLL_REMOVE) {
		if (pc != NULL) {
			uv_poll_stop(&pc->poll);
			uv_close((uv_handle_t *)&pc->poll, on_poll_closed);
			curl_multi_assign(f->multi, s, NULL);
		}
		return 0;
	}
	if (pc == NULL) {
		pc = tc_xcalloc(1, sizeof(*pc));
		pc->fd = s;
		pc->f = f;
		if (uv_poll_init_socket(f->loop, &pc->poll, s) != 0) {
			free(pc);
			return -1;
		}
		f->open_handles++;
		curl_multi_assign(f->multi, s, pc);
	}
	if (action & CURL_POLL_IN)
		events |= UV_READABLE;
	if (action & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&pc->poll, events, on_poll);
	return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t           len = size * nmemb, off = 0;

	if (t->max_bytes && t->res.bytes + len > t->max_bytes) {
		t->too_big = true;
		return 0; /* aborts the transfer */
	}
	while (off < len) {
		ssize_t n = write(t->fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			t->write_failed = true;
			return 0;
		}
		off += (size_t)n;
	}
	t->res.bytes += len;
	return len;
}

/* Keep ETag and Last-Modified of the final response only. */
static size_t
on_header(char *line, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t           len = size * nmemb;
	char            *dst = NULL;
	size_t           skip = 0;

	if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
		t->res.etag[0] = t->res.last_modified[0] = '\0';
	} else if (len > 5 && strncasecmp(line, "etag:", 5) == 0) {
		dst = t->res.etag, skip = 5;
	} else if (len > 14 && strncasecmp(line, "last-modified:", 14) == 0) {
		dst = t->res.last_modified, skip = 14;
	}
	if (dst != NULL) {
		size_t b = skip, e = len;

		while (b < e && (line[b] == ' ' || line[b] == '\t'))
			b++;
		while (e > b && (line[e - 1] == '\r' || line[e - 1] == '\n' ||
				    line[e - 1] == ' '))
			e--;
		/* A header value goes back into a request header later:
		 * refuse anything with control characters, and overlong. */
		bool ok = e - b < TC_FETCH_HEADER_MAX;
		for (size_t i = b; ok && i < e; i++)
			if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
				ok = false;
		if (ok) {
			memcpy(dst, line + b, e - b);
			dst[e - b] = '\0';
		}
	}
	return len;
}

int
tc_fetch_new(uv_loop_t *loop, struct tc_fetch **out)
{
	struct tc_fetch *f = tc_xcalloc(1, sizeof(*f));

	f->loop = loop;
	f->multi = curl_multi_init();
	if (f->multi == NULL) {
		free(f);
		return -ENOMEM;
	}
	uv_timer_init(loop, &f->timer);
	f->open_handles = 1;
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, curl_on_socket);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, curl_on_timer);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	*out = f;
	return 0;
}

static bool
header_value_ok(const char *v)
{
	if (strlen(v) >= TC_FETCH_HEADER_MAX)
		return false;
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

int
tc_fetch_start(struct tc_fetch *f, const struct tc_fetch_req *req,
    tc_fetch_cb cb, void *arg, struct tc_err *err)
{
	struct transfer *t;
	struct tc_buf    h = TC_BUF_INIT;
	int              rc;

	if (f->closing)
		return tc_err_set(err, TC_ECANCELED, "fetch is closing");
	if (!tc_str_has_prefix(req->url, "http://") &&
	    !tc_str_has_prefix(req->url, "https://"))
		return tc_err_set(err, TC_EPERMFAIL,
		    "%s: only http:// and https:// URLs are pulled",
		    tc_esc(req->url));
	if ((req->etag && !header_value_ok(req->etag)) ||
	    (req->last_modified && !header_value_ok(req->last_modified)))
		return tc_err_set(err, TC_EINPUT,
		    "%s: stored ETag or Last-Modified is not a valid header "
		    "value",
		    tc_esc(req->url));
	t = tc_xcalloc(1, sizeof(*t));
	t->f = f;
	t->cb = cb;
	t->arg = arg;
	t->max_bytes = req->max_bytes;
	t->path = tc_xstrdup(req->dest_path);
	t->fd = open(t->path,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (t->fd < 0) {
		rc = tc_err_set(err, -errno, "%s: %s", t->path,
		    strerror(errno));
		free(t->path);
		free(t);
		return rc;
	}
	t->easy = curl_easy_init();
	if (t->easy == NULL) {
		close(t->fd);
		unlink(t->path);
		free(t->path);
		free(t);
		return tc_err_set(err, -ENOMEM, "curl_easy_init failed");
	}
	if (req->etag && *req->etag) {
		tc_buf_printf(&h, "If-None-Match: %s", req->etag);
		t->headers = curl_slist_append(t->headers, h.data);
	}
	if (req->last_modified && *req->last_modified) {
		tc_buf_reset(&h);
		tc_buf_printf(&h, "If-Modified-Since: %s", req->last_modified);
		t->headers = curl_slist_append(t->headers, h.data);
	}
	tc_buf_deinit(&h);
	curl_easy_setopt(t->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS,
	    (long)TC_FETCH_MAX_REDIRECTS);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT,
	    (long)(req->timeout_s ? req->timeout_s : 300));
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "tocsin/0.1");
	curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");
	if (req->max_bytes)
		curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)req->max_bytes);
	if (req->ca_file)
		curl_easy_setopt(t->easy, CURLOPT_CAINFO, req->ca_file);
	if (curl_multi_add_handle(f->multi, t->easy) != CURLM_OK) {
		close(t->fd);
		unlink(t->path);
		curl_easy_cleanup(t->easy);
		curl_slist_free_all(t->headers);
		free(t->path);
		free(t);
		return tc_err_set(err, TC_EBUG, "curl_multi_add_handle failed");
	}
	t->next = f->transfers;
	if (t->next != NULL)
		t->next->prevp = &t->next;
	t->prevp = &f->transfers;
	f->transfers = t;
	f->active++;
	return 0;
}

unsigned
tc_fetch_active(const struct tc_fetch *f)
{
	return f->active;
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct tc_fetch *f = container_of((uv_timer_t *)h, struct tc_fetch,
	    timer);

	f->open_handles--;
	maybe_free(f);
}

void
tc_fetch_close(struct tc_fetch *f, tc_fetch_close_cb cb, void *arg)
{
	f->closing = true;
	f->close_cb = cb;
	f->close_arg = arg;
	while (f->transfers != NULL) {
		struct transfer *t = f->transfers;

		snprintf(t->res.error, sizeof(t->res.error), "cancelled");
		finish(t, TC_ECANCELED); /* unlinks t */
	}
	uv_timer_stop(&f->timer);
	uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}

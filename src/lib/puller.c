/* puller: see include/tocsin/puller.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tocsin/buf.h"
#include "tocsin/esc.h"
#include "tocsin/fetch.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/puller.h"
#include "tocsin/str.h"

struct pulled_feed {
	struct tc_puller            *p;
	const struct tc_config_feed *cf;
	uv_timer_t                   timer;
	unsigned                     retries;
	int                          busy;
	char                         etag[TC_FETCH_HEADER_MAX];
	char                         last_modified[TC_FETCH_HEADER_MAX];
	char                        *part; /* temp path while busy */
	char                        *basename;
};

struct tc_puller {
	uv_loop_t           *loop;
	struct tc_config    *cfg;
	struct tc_fetch     *fetch;
	char                *incoming;
	struct pulled_feed  *feeds;
	size_t               n_feeds;
	unsigned             open_handles;
	int                  fetch_open;
	uint64_t             retry_base_ms;
	tc_puller_pulled_cb  cb;
	void                *arg;
	tc_puller_close_cb   close_cb;
	void                *close_arg;
	int                  closing;
};

static void pull(struct pulled_feed *pf);

static void
on_timer(uv_timer_t *t)
{
	pull(t->data);
}

uint64_t
tc_puller_retry_ms(uint64_t base_ms, unsigned n, uint64_t schedule_ms)
{
	uint64_t d = base_ms;

	for (unsigned i = 1; i < n && d < schedule_ms; i++)
		d *= 2;
	return d < schedule_ms ? d : schedule_ms;
}

size_t
tc_puller_feed_of(const char *name)
{
	const char *sep = strstr(name, TC_PULLER_FEED_SEP);
	size_t      n;

	if (sep == NULL || sep == name)
		return 0;
	n = (size_t)(sep - name);
	if (n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '.' ||
			c == '-'))
			return 0;
	}
	return n;
}

/* The last path segment of a URL, reduced to [A-Za-z0-9._-]; "feed" when
 * nothing usable remains. */
static char *
url_basename(const char *url)
{
	const char   *p = strstr(url, "://"), *end, *slash;
	struct tc_buf b = TC_BUF_INIT;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	slash = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '/')
			slash = q;
	if (slash != NULL) {
		for (const char *q = slash + 1; q < end && b.len < 100; q++) {
			char c = *q;

			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-')
				tc_buf_putc(&b, c);
		}
	}
	if (b.len == 0 || b.data[0] == '.')
		tc_buf_puts(&b, "feed");
	return tc_buf_steal(&b, NULL);
}

static void
schedule(struct pulled_feed *pf, uint64_t ms)
{
	if (pf->p->closing)
		return;
	uv_timer_start(&pf->timer, on_timer, ms, 0);
}

static void
on_fetched(int status, const struct tc_fetch_result *res, void *arg)
{
	struct pulled_feed *pf = arg;
	struct tc_puller   *p = pf->p;
	uint64_t            sched_ms = (uint64_t)pf->cf->schedule_s * 1000;
	char               *final = NULL;
	const char         *placed = NULL;

	pf->busy = 0;
	if (status == 0 && !res->not_modified) {
		struct tc_buf name = TC_BUF_INIT;
		char          stamp[32];
		time_t        now = time(NULL);
		struct tm     tm;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		tc_buf_printf(&name, "%s/%s%s%s-%s", p->incoming,
		    pf->cf->name, TC_PULLER_FEED_SEP, stamp, pf->basename);
		if (rename(pf->part, name.data) != 0) {
			tc_log_err_errno(TC_LOG_FEED,
			    "feed=%s result=failed rename %s", pf->cf->name,
			    tc_esc(pf->part));
			(void)unlink(pf->part);
			status = TC_ETEMPFAIL;
		} else {
			final = tc_buf_steal(&name, NULL);
			placed = strrchr(final, '/') + 1;
		}
		tc_buf_deinit(&name);
	}
	if (status == 0) {
		tc_strlcpy(pf->etag, res->etag, sizeof(pf->etag));
		tc_strlcpy(pf->last_modified, res->last_modified,
		    sizeof(pf->last_modified));
		pf->retries = 0;
		tc_log_info(TC_LOG_FEED,
		    "feed=%s result=%s http=%ld bytes=%llu file=%s",
		    pf->cf->name, res->not_modified ? "unchanged" : "pulled",
		    res->http_code, (unsigned long long)res->bytes,
		    placed ? tc_esc(placed) : "-");
		schedule(pf, sched_ms);
	} else if (status == TC_ETEMPFAIL && pf->retries < TC_PULLER_RETRIES) {
		uint64_t d;

		pf->retries++;
		d = tc_puller_retry_ms(p->retry_base_ms, pf->retries, sched_ms);
		tc_log_warning(TC_LOG_FEED,
		    "feed=%s result=deferred err=\"%s\" retry=%u next=%llums",
		    pf->cf->name, tc_esc(res->error), pf->retries,
		    (unsigned long long)d);
		schedule(pf, d);
	} else if (status != TC_ECANCELED) {
		pf->retries = 0;
		tc_log_err(TC_LOG_FEED, "feed=%s result=failed err=\"%s\"",
		    pf->cf->name, tc_esc(res->error));
		schedule(pf, sched_ms);
	}
	if (p->cb != NULL && status != TC_ECANCELED)
		p->cb(pf->cf->name, status, placed, pf->etag,
		    pf->last_modified, status < 0 ? res->error : NULL, p->arg);
	free(final);
	free(pf->part);
	pf->part = NULL;
}

static void
pull(struct pulled_feed *pf)
{
	struct tc_puller   *p = pf->p;
	struct tc_fetch_req req = { 0 };
	struct tc_buf       part = TC_BUF_INIT;
	struct tc_err       err;
	int                 rc;

	if (pf->busy || p->closing)
		return;
	tc_buf_printf(&part, "%s/.%s%s%s.part", p->incoming, pf->cf->name,
	    TC_PULLER_FEED_SEP, pf->basename);
	(void)unlink(part.data); /* a leftover of a crash */
	pf->part = tc_buf_steal(&part, NULL);
	req.url = pf->cf->url;
	req.dest_path = pf->part;
	req.etag = pf->etag[0] ? pf->etag : NULL;
	req.last_modified = pf->last_modified[0] ? pf->last_modified : NULL;
	req.max_bytes = pf->cf->max_bytes;
	rc = tc_fetch_start(p->fetch, &req, on_fetched, pf, &err);
	if (rc < 0) {
		tc_log_err(TC_LOG_FEED, "feed=%s result=failed err=\"%s\"",
		    pf->cf->name, tc_esc(err.msg));
		free(pf->part);
		pf->part = NULL;
		schedule(pf, (uint64_t)pf->cf->schedule_s * 1000);
		return;
	}
	pf->busy = 1;
}

int
tc_puller_start(uv_loop_t *loop, struct tc_config *cfg,
    const char *incoming_dir, tc_puller_pulled_cb cb, void *arg,
    struct tc_puller **out, struct tc_err *err)
{
	struct tc_puller *p = tc_xcalloc(1, sizeof(*p));
	int               rc;

	p->loop = loop;
	p->cfg = tc_config_ref(cfg);
	p->incoming = tc_xstrdup(incoming_dir);
	p->cb = cb;
	p->arg = arg;
	p->retry_base_ms = TC_PULLER_RETRY_BASE_MS;
	if ((rc = tc_fetch_new(loop, &p->fetch)) < 0) {
		tc_config_unref(p->cfg);
		free(p->incoming);
		free(p);
		return tc_err_set(err, rc, "cannot start HTTP pulls: %s",
		    tc_strerror(rc));
	}
	p->fetch_open = 1;
	p->feeds = tc_xcalloc(cfg->n_feeds + 1, sizeof(*p->feeds));
	for (size_t i = 0; i < cfg->n_feeds; i++) {
		const struct tc_config_feed *cf = &cfg->feeds[i];
		struct pulled_feed          *pf;

		if (cf->url == NULL || cf->schedule_s == 0)
			continue;
		pf = &p->feeds[p->n_feeds++];
		pf->p = p;
		pf->cf = cf;
		pf->basename = url_basename(cf->url);
		uv_timer_init(loop, &pf->timer);
		pf->timer.data = pf;
		p->open_handles++;
		/* First pull right away (from the loop, not re-entrantly). */
		uv_timer_start(&pf->timer, on_timer, 0, 0);
	}
	*out = p;
	return 0;
}

void
tc_puller_set_validators(struct tc_puller *p, const char *feed,
    const char *etag, const char *last_modified)
{
	for (size_t i = 0; i < p->n_feeds; i++) {
		struct pulled_feed *pf = &p->feeds[i];

		if (strcmp(pf->cf->name, feed) != 0)
			continue;
		if (tc_strlcpy(pf->etag, etag ? etag : "", sizeof(pf->etag)) <
		    0)
			pf->etag[0] = '\0';
		if (tc_strlcpy(pf->last_modified,
			last_modified ? last_modified : "",
			sizeof(pf->last_modified)) < 0)
			pf->last_modified[0] = '\0';
	}
}

void
tc_puller_set_retry_base(struct tc_puller *p, uint64_t ms)
{
	p->retry_base_ms = ms;
}

static void
maybe_free(struct tc_puller *p)
{
	if (p->open_handles > 0 || p->fetch_open)
		return;
	for (size_t i = 0; i < p->n_feeds; i++) {
		free(p->feeds[i].basename);
		free(p->feeds[i].part);
	}
	free(p->feeds);
	free(p->incoming);
	tc_config_unref(p->cfg);
	if (p->close_cb != NULL)
		p->close_cb(p->close_arg);
	free(p);
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct pulled_feed *pf = h->data;
	struct tc_puller   *p = pf->p;

	p->open_handles--;
	maybe_free(p);
}

static void
on_fetch_closed(void *arg)
{
	struct tc_puller *p = arg;

	p->fetch_open = 0;
	maybe_free(p);
}

void
tc_puller_close(struct tc_puller *p, tc_puller_close_cb cb, void *arg)
{
	p->closing = 1;
	p->close_cb = cb;
	p->close_arg = arg;
	for (size_t i = 0; i < p->n_feeds; i++) {
		uv_timer_stop(&p->feeds[i].timer);
		uv_close((uv_handle_t *)&p->feeds[i].timer, on_timer_closed);
	}
	tc_fetch_close(p->fetch, on_fetch_closed, p);
}

/* metrics: see include/tocsin/metrics.h. */
#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/esc.h"
#include "tocsin/log.h"
#include "tocsin/mem.h"
#include "tocsin/metrics.h"
#include "tocsin/str.h"

struct family {
	char               *name;
	char               *help;
	enum tc_metric_type type;
};

struct series {
	int    family;
	char   labels[TC_METRICS_LABELS_MAX]; /* formatted: a="x",b="y" */
	double value;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct family   families[TC_METRICS_MAX];
static size_t          n_families;
static struct series   series[TC_METRICS_MAX];
static size_t          n_series;

static int
family_find(const char *name)
{
	for (size_t i = 0; i < n_families; i++)
		if (strcmp(families[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
tc_metrics_declare(const char *name, enum tc_metric_type type,
    const char *help)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	if (family_find(name) < 0) {
		if (n_families == TC_METRICS_MAX) {
			rc = TC_ELIMIT;
		} else {
			families[n_families].name = tc_xstrdup(name);
			families[n_families].help = tc_xstrdup(help);
			families[n_families].type = type;
			n_families++;
		}
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

/* Format labels as the exposition format wants them; false if they do not
 * fit (the update is then dropped). */
static bool
labels_format(const char *const *labels, char *out, size_t size)
{
	struct tc_buf b = TC_BUF_INIT;
	bool          ok;

	for (size_t i = 0; labels != NULL && labels[i] && labels[i + 1];
	     i += 2) {
		tc_buf_printf(&b, "%s%s=\"", i ? "," : "", labels[i]);
		for (const char *v = labels[i + 1]; *v; v++) {
			if (*v == '\\')
				tc_buf_puts(&b, "\\\\");
			else if (*v == '"')
				tc_buf_puts(&b, "\\\"");
			else if (*v == '\n')
				tc_buf_puts(&b, "\\n");
			else if ((unsigned char)*v < 0x20)
				tc_buf_putc(&b, ' ');
			else
				tc_buf_putc(&b, *v);
		}
		tc_buf_putc(&b, '"');
	}
	ok = tc_strlcpy(out, tc_buf_cstr(&b), size) == 0;
	tc_buf_deinit(&b);
	return ok;
}

static struct series *
series_get(const char *name, const char *const *labels, bool create)
{
	char lbl[TC_METRICS_LABELS_MAX];
	int  f = family_find(name);

	if (f < 0 || !labels_format(labels, lbl, sizeof(lbl)))
		return NULL;
	for (size_t i = 0; i < n_series; i++)
		if (series[i].family == f && strcmp(series[i].labels, lbl) == 0)
			return &series[i];
	if (!create || n_series == TC_METRICS_MAX)
		return NULL;
	series[n_series].family = f;
	memcpy(series[n_series].labels, lbl, sizeof(lbl));
	series[n_series].value = 0;
	return &series[n_series++];
}

void
tc_metrics_add(const char *name, const char *const *labels, double v)
{
	struct series *s;

	pthread_mutex_lock(&mu);
	if ((s = series_get(name, labels, true)) != NULL)
		s->value += v;
	pthread_mutex_unlock(&mu);
}

void
tc_metrics_set(const char *name, const char *const *labels, double v)
{
	struct series *s;

	pthread_mutex_lock(&mu);
	if ((s = series_get(name, labels, true)) != NULL)
		s->value = v;
	pthread_mutex_unlock(&mu);
}

double
tc_metrics_get(const char *name, const char *const *labels)
{
	struct series *s;
	double         v = 0;

	pthread_mutex_lock(&mu);
	if ((s = series_get(name, labels, false)) != NULL)
		v = s->value;
	pthread_mutex_unlock(&mu);
	return v;
}

void
tc_metrics_format(struct tc_buf *out)
{
	pthread_mutex_lock(&mu);
	for (size_t f = 0; f < n_families; f++) {
		tc_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
		    families[f].name, families[f].help, families[f].name,
		    families[f].type == TC_METRIC_COUNTER ? "counter"
							  : "gauge");
		for (size_t i = 0; i < n_series; i++) {
			if (series[i].family != (int)f)
				continue;
			tc_buf_puts(out, families[f].name);
			if (series[i].labels[0])
				tc_buf_printf(out, "{%s}", series[i].labels);
			if (series[i].value == floor(series[i].value) &&
			    fabs(series[i].value) < 1e15)
				tc_buf_printf(out, " %.0f\n", series[i].value);
			else
				tc_buf_printf(out, " %.6g\n", series[i].value);
		}
	}
	pthread_mutex_unlock(&mu);
}

void
tc_metrics_reset(void)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n_families; i++) {
		free(families[i].name);
		free(families[i].help);
	}
	n_families = n_series = 0;
	pthread_mutex_unlock(&mu);
}

/* --- the endpoint ---------------------------------------------------------- */

#define REQUEST_MAX 4096

struct tc_metrics_http {
	uv_tcp_t tcp;
	int      port;
};

struct conn {
	uv_tcp_t tcp;
	char     in[REQUEST_MAX];
	size_t   len;
	bool     answered;
};

static void
on_conn_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
on_written(uv_write_t *w, int status)
{
	(void)status;
	if (!uv_is_closing((uv_handle_t *)w->handle))
		uv_close((uv_handle_t *)w->handle, on_conn_closed);
	free(w->data);
	free(w);
}

static void
answer(struct conn *c, const char *status, const char *type,
    struct tc_buf *body)
{
	struct tc_buf r = TC_BUF_INIT;
	uv_write_t   *w = tc_xcalloc(1, sizeof(*w));
	uv_buf_t      b;

	tc_buf_printf(&r,
	    "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n",
	    status, type, body ? body->len : 0);
	if (body)
		tc_buf_append(&r, body->data ? body->data : "", body->len);
	c->answered = true;
	w->data = tc_buf_steal(&r, &b.len);
	b.base = w->data;
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
		free(w->data);
		free(w);
		uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	}
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)hint;
	buf->base = c->in + c->len;
	buf->len = sizeof(c->in) - c->len - 1;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn  *c = s->data;
	struct tc_buf body = TC_BUF_INIT;

	(void)buf;
	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, on_conn_closed);
		return;
	}
	c->len += (size_t)n;
	c->in[c->len] = '\0';
	if (c->answered)
		return;
	if (strstr(c->in, "\r\n\r\n") == NULL && strstr(c->in, "\n\n") == NULL) {
		if (c->len >= sizeof(c->in) - 1) {
			uv_read_stop(s);
			answer(c, "431 Request Header Fields Too Large",
			    "text/plain", NULL);
		}
		return;
	}
	uv_read_stop(s);
	if (strncmp(c->in, "GET ", 4) != 0) {
		answer(c, "405 Method Not Allowed", "text/plain", NULL);
	} else if (strncmp(c->in + 4, "/metrics ", 9) != 0 &&
	    strncmp(c->in + 4, "/metrics\r", 9) != 0) {
		answer(c, "404 Not Found", "text/plain", NULL);
	} else {
		tc_metrics_format(&body);
		answer(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		    &body);
		tc_buf_deinit(&body);
	}
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct conn *c;

	if (status < 0)
		return;
	c = tc_xcalloc(1, sizeof(*c));
	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss,
    struct tc_err *err)
{
	char        host[64];
	const char *colon;
	uint64_t    port;
	size_t      hl;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		hl = (size_t)(end - listen - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, listen + 1, hl);
		host[hl] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - listen);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, listen, hl);
		host[hl] = '\0';
	}
	if (tc_parse_uint(colon + 1, 0, 65535, &port) < 0)
		goto bad;
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		if ((ntohl(a->sin_addr.s_addr) >> 24) != 127)
			return tc_err_set(err, TC_EINPUT,
			    "metrics.listen: %s is not a loopback address",
			    tc_esc(host));
		return 0;
	}
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0) {
		const struct sockaddr_in6 *a =
		    (const struct sockaddr_in6 *)ss;

		if (!IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return tc_err_set(err, TC_EINPUT,
			    "metrics.listen: %s is not a loopback address",
			    tc_esc(host));
		return 0;
	}
bad:
	return tc_err_set(err, TC_EINPUT,
	    "metrics.listen: \"%s\" is not ADDRESS:PORT", tc_esc(listen));
}

int
tc_metrics_http_start(uv_loop_t *loop, const char *listen,
    struct tc_metrics_http **out, struct tc_err *err)
{
	struct sockaddr_storage ss, bound;
	struct tc_metrics_http *m;
	int                     rc, len = sizeof(bound);

	if ((rc = parse_listen(listen, &ss, err)) < 0)
		return rc;
	m = tc_xcalloc(1, sizeof(*m));
	uv_tcp_init(loop, &m->tcp);
	m->tcp.data = m;
	if ((rc = uv_tcp_bind(&m->tcp, (struct sockaddr *)&ss, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&m->tcp, 16, on_connection)) < 0) {
		tc_err_set(err, rc, "metrics.listen: %s: %s", tc_esc(listen),
		    uv_strerror(rc));
		uv_close((uv_handle_t *)&m->tcp, on_conn_closed);
		return rc;
	}
	uv_tcp_getsockname(&m->tcp, (struct sockaddr *)&bound, &len);
	m->port = ntohs(bound.ss_family == AF_INET
		? ((struct sockaddr_in *)&bound)->sin_port
		: ((struct sockaddr_in6 *)&bound)->sin6_port);
	*out = m;
	return 0;
}

int
tc_metrics_http_port(const struct tc_metrics_http *m)
{
	return m->port;
}

void
tc_metrics_http_close(struct tc_metrics_http *m)
{
	uv_close((uv_handle_t *)&m->tcp, on_conn_closed);
}

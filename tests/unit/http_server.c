/* A tiny HTTP server for unit tests: see http_server.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/buf.h"
#include "tocsin/mem.h"
#include "http_server.h"

char http_server_last_if_none_match[128];
int  http_server_requests;

struct client {
	uv_tcp_t      tcp;
	struct tc_buf in;
	bool          answered;
};

static uv_tcp_t server;

static void
on_client_closed(uv_handle_t *h)
{
	struct client *c = (struct client *)h;

	tc_buf_deinit(&c->in);
	free(c);
}

void
http_server_close_handle(uv_handle_t *h)
{
	if (uv_is_closing(h))
		return;
	uv_close(h, h->data != NULL ? on_client_closed : NULL);
}

static void
on_written(uv_write_t *w, int status)
{
	(void)status;
	if (!uv_is_closing((uv_handle_t *)w->handle))
		uv_close((uv_handle_t *)w->handle, on_client_closed);
	free(w->data);
	free(w);
}

static void
respond(struct client *c, const char *path)
{
	struct tc_buf r = TC_BUF_INIT;
	uv_write_t   *w;
	uv_buf_t      b;

	if (strcmp(path, "/feed.csv") == 0) {
		if (strcmp(http_server_last_if_none_match, "\"v1\"") == 0)
			tc_buf_puts(&r, "HTTP/1.1 304 Not Modified\r\n"
					"ETag: \"v1\"\r\n\r\n");
		else
			tc_buf_puts(&r, "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\n"
					"Last-Modified: Mon, 23 Nov 2026 "
					"08:00:00 GMT\r\n"
					"Content-Length: 9\r\n\r\nip,port\r\n");
	} else if (strcmp(path, "/big") == 0) {
		tc_buf_puts(&r, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n");
		for (int i = 0; i < 4096; i++)
			tc_buf_putc(&r, 'x');
	} else if (strcmp(path, "/chunked-big") == 0) {
		/* No Content-Length: a limit must hold while streaming. */
		tc_buf_puts(&r, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		for (int i = 0; i < 8192; i++)
			tc_buf_putc(&r, 'y');
	} else if (strcmp(path, "/down") == 0) {
		tc_buf_puts(&r, "HTTP/1.1 503 Service Unavailable\r\n"
				"Content-Length: 0\r\n\r\n");
	} else if (strcmp(path, "/ftp") == 0) {
		tc_buf_puts(&r, "HTTP/1.1 302 Found\r\nLocation: "
				"ftp://127.0.0.1/x\r\nContent-Length: 0\r\n\r\n");
	} else if (strcmp(path, "/silent") == 0) {
		return; /* never answer */
	} else {
		tc_buf_puts(&r, "HTTP/1.1 404 Not Found\r\n"
				"Content-Length: 0\r\n\r\n");
	}
	c->answered = true;
	w = tc_xcalloc(1, sizeof(*w));
	w->data = tc_buf_steal(&r, &b.len);
	b.base = w->data;
	uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	buf->base = tc_xmalloc(hint);
	buf->len = hint;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = (struct client *)s;
	char           path[256], *hdr;

	if (n < 0) {
		free(buf->base);
		http_server_close_handle((uv_handle_t *)s);
		return;
	}
	tc_buf_append(&c->in, buf->base, (size_t)n);
	free(buf->base);
	if (c->answered || strstr(tc_buf_cstr(&c->in), "\r\n\r\n") == NULL)
		return;
	http_server_requests++;
	http_server_last_if_none_match[0] = '\0';
	hdr = strcasestr(c->in.data, "\r\nIf-None-Match: ");
	if (hdr != NULL)
		sscanf(hdr + 17, "%127[^\r]", http_server_last_if_none_match);
	if (sscanf(c->in.data, "GET %255s", path) != 1)
		snprintf(path, sizeof(path), "/");
	respond(c, path);
}

static void
on_connection(uv_stream_t *s, int status)
{
	struct client *c;

	assert_int_equal(status, 0);
	c = tc_xcalloc(1, sizeof(*c));
	uv_tcp_init(s->loop, &c->tcp);
	c->tcp.data = c; /* marks a client for http_server_close_handle */
	assert_int_equal(uv_accept(s, (uv_stream_t *)&c->tcp), 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int
http_server_start(uv_loop_t *loop)
{
	struct sockaddr_in a;
	struct sockaddr_in bound;
	int                len = sizeof(bound);

	uv_ip4_addr("127.0.0.1", 0, &a);
	uv_tcp_init(loop, &server);
	server.data = NULL;
	assert_int_equal(uv_tcp_bind(&server, (struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&server, 16, on_connection),
	    0);
	uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
	return ntohs(bound.sin_port);
}

/* A tiny HTTP/1.1 server on 127.0.0.1 for unit tests, run by the test's own
 * libuv loop.  Paths: /feed.csv (200 with ETag "v1", or 304 when the request
 * carries If-None-Match: "v1"), /big (4096 bytes), /chunked-big (8192 bytes,
 * no Content-Length), /down (503), /ftp (redirect to ftp://), /silent (never
 * answers), anything else 404. */
#ifndef TOCSIN_TEST_HTTP_SERVER_H
#define TOCSIN_TEST_HTTP_SERVER_H

#include <uv.h>

/* Listen on an ephemeral port of 127.0.0.1; returns the port. */
int http_server_start(uv_loop_t *loop);
/* For uv_walk at the end of a test: closes a server-side handle with the
 * right close callback (clients are freed), others with none. */
void http_server_close_handle(uv_handle_t *h);
/* The If-None-Match value of the last request ("" if none). */
extern char http_server_last_if_none_match[128];
/* Requests answered or pending since start. */
extern int http_server_requests;

#endif

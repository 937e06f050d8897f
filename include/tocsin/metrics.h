/* metrics: counters and gauges, and a Prometheus text endpoint on loopback.
 *
 * Metrics are declared once (name, help, type) and updated from any thread
 * (a mutex guards the table; updates are rare next to the work they count).
 * Label values are escaped per the exposition format (backslash, quote,
 * newline), so values from feeds or SMTP replies cannot break a line.  The
 * endpoint is a minimal HTTP/1.0 responder on the loop: GET /metrics only,
 * bound to a loopback address (127.0.0.0/8 or ::1) — anything else is
 * refused at start, since the figures describe who was warned of what. */
#ifndef TOCSIN_METRICS_H
#define TOCSIN_METRICS_H

#include <stdint.h>
#include <uv.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_METRICS_MAX 128        /* distinct (name, labels) series */
#define TC_METRICS_LABELS_MAX 256 /* bytes of a formatted label set */

enum tc_metric_type { TC_METRIC_COUNTER, TC_METRIC_GAUGE };

/* Declare a metric family; idempotent.  Returns 0 or TC_ELIMIT. */
int tc_metrics_declare(const char *name, enum tc_metric_type type,
    const char *help);
/* Add to a counter / set a gauge.  `labels` is NULL or a NULL-terminated
 * list of key, value, key, value...; an undeclared name or a full table is
 * ignored (metrics never break the work they measure). */
void tc_metrics_add(const char *name, const char *const *labels, double v);
void tc_metrics_set(const char *name, const char *const *labels, double v);
/* Read back a series (tests, `tocsinctl status`); 0 if absent. */
double tc_metrics_get(const char *name, const char *const *labels);
/* Text exposition format 0.0.4 of everything. */
void tc_metrics_format(struct tc_buf *out);
/* Forget everything (tests). */
void tc_metrics_reset(void);

struct tc_metrics_http;
/* Serve GET /metrics on `listen` ("127.0.0.1:9464", "[::1]:9464").
 * Returns 0, or a negative TC_E* (err says why: bad address, not
 * loopback, bind failure). */
int tc_metrics_http_start(uv_loop_t *loop, const char *listen,
    struct tc_metrics_http **out, struct tc_err *err);
/* The port actually bound (for ":0" in tests). */
int tc_metrics_http_port(const struct tc_metrics_http *m);
void tc_metrics_http_close(struct tc_metrics_http *m);

#endif

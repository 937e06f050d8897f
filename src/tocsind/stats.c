/* stats: tocsind's metrics and feed progress (stats.h).
 *
 * Counters move where the events happen (one call each from sender.c and
 * feedrun.c); the gauges that describe the queue are read from the
 * database, since other processes (tocsinctl, a second daemon) change it
 * too.  Metric names and labels never carry a body, a subject or an
 * address: the figures are published on loopback, but still describe who
 * was warned. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tocsin/config.h"
#include "tocsin/dbq.h"
#include "tocsin/esc.h"
#include "tocsin/feed.h"
#include "tocsin/log.h"
#include "tocsin/match.h"
#include "tocsin/mem.h"
#include "tocsin/metrics.h"
#include "tocsin/outbox.h"

struct tc_stats {
	uv_timer_t              timer;
	struct tc_metrics_http *http;
	bool                    refreshing; /* a refresh in flight */
	/* The file in the pipeline (one at a time), or name NULL. */
	char                    *feed_name;
	struct tc_feed_progress *feed;
	uint64_t                 feed_started_ms;
	uint64_t                 feed_matched_ms; /* 0: still parsing */
};

static const char *const states[] = { "queued", "sending", "sent", "deferred",
	"failed", "held", "cancelled", NULL };
static const char *const results[] = { "sent", "deferred", "failed", "held",
	"released", NULL };
static const char *const held_classes[] = { "key_missing", "key_unusable",
	"signing_key", "not_encrypted", "other", NULL };
static const char *const feed_results[] = { "processed", "failed", "postponed",
	NULL };

static const struct {
	const char         *name;
	enum tc_metric_type type;
	const char         *help;
} families[] = {
	{ "tocsin_messages", TC_METRIC_GAUGE,
	    "Messages in the outbox by state (from the database)." },
	{ "tocsin_messages_held", TC_METRIC_GAUGE,
	    "Held messages by reason class (from the database)." },
	{ "tocsin_queue_oldest_seconds", TC_METRIC_GAUGE,
	    "Age of the oldest message queued, deferred or sending." },
	{ "tocsin_deliveries_total", TC_METRIC_COUNTER,
	    "Delivery attempts by outcome." },
	{ "tocsin_held_total", TC_METRIC_COUNTER,
	    "Messages held before sending, by reason class." },
	{ "tocsin_smtp_errors_total", TC_METRIC_COUNTER,
	    "SMTP errors: failed sessions and 4xx/5xx replies." },
	{ "tocsin_gpg_errors_total", TC_METRIC_COUNTER,
	    "gpg engine or signing key failures, by stage." },
	{ "tocsin_gpg_helpers_started_total", TC_METRIC_COUNTER,
	    "gpg helper processes started (more than gpg.workers: some died)." },
	{ "tocsin_smtp_sessions", TC_METRIC_GAUGE, "SMTP sessions running." },
	{ "tocsin_feed_files_total", TC_METRIC_COUNTER,
	    "Feed files that left the pipeline, by result." },
	{ "tocsin_feed_records_total", TC_METRIC_COUNTER,
	    "Feed records read." },
	{ "tocsin_feed_events_total", TC_METRIC_COUNTER,
	    "Feed records parsed into events." },
	{ "tocsin_feed_skipped_total", TC_METRIC_COUNTER,
	    "Malformed feed records skipped." },
	{ "tocsin_feed_hits_total", TC_METRIC_COUNTER,
	    "Registry matches (event, entity)." },
	{ "tocsin_feed_events_matched_total", TC_METRIC_COUNTER,
	    "Events that matched at least one entity." },
	{ "tocsin_feed_warnings_total", TC_METRIC_COUNTER,
	    "Spear warnings to send after suppression." },
	{ "tocsin_feed_matched_total", TC_METRIC_COUNTER,
	    "Feed files parsed and matched." },
	{ "tocsin_feed_match_seconds_total", TC_METRIC_COUNTER,
	    "Time spent parsing and matching feed files." },
	{ "tocsin_feed_match_seconds_last", TC_METRIC_GAUGE,
	    "Parse and match time of the last feed file." },
	{ "tocsin_feed_busy", TC_METRIC_GAUGE,
	    "1 while a feed file is in the "
	    "pipeline." },
	{ "tocsin_db_up", TC_METRIC_GAUGE,
	    "1 when the daemon's database connection is up." },
};

/* The counters without labels. */
static const char *const plain[] = { "tocsin_feed_records_total",
	"tocsin_feed_events_total", "tocsin_feed_skipped_total",
	"tocsin_feed_hits_total", "tocsin_feed_events_matched_total",
	"tocsin_feed_warnings_total", "tocsin_feed_matched_total",
	"tocsin_feed_match_seconds_total", NULL };

static void
one(const char *name, const char *key, const char *value, double v, bool set)
{
	const char *l[3] = { key, value, NULL };

	if (set)
		tc_metrics_set(name, key ? l : NULL, v);
	else
		tc_metrics_add(name, key ? l : NULL, v);
}

static double
get1(const char *name, const char *key, const char *value)
{
	const char *l[3] = { key, value, NULL };

	return tc_metrics_get(name, key ? l : NULL);
}

const char *
tc_stats_held_class(const char *reason)
{
	if (reason == NULL || *reason == '\0')
		return "other";
	if (strstr(reason, "signing key") != NULL)
		return "signing_key";
	if (strstr(reason, "no key with fingerprint") != NULL ||
	    strstr(reason, "no pinned key") != NULL ||
	    strstr(reason, "no fingerprint") != NULL)
		return "key_missing";
	if (strstr(reason, "not encrypted") != NULL ||
	    strstr(reason, "no wire form") != NULL)
		return "not_encrypted";
	if (strstr(reason, "key ") != NULL)
		return "key_unusable";
	return "other";
}

/* --- database gauges ------------------------------------------------------ */

static void
refresh_done(struct tc_daemon *d)
{
	d->stats->refreshing = false;
	tc_daemon_job_done(d);
}

static void
on_held(struct tc_dbq *q, const PGresult *res, const char *error,
    const char *sqlstate, void *arg)
{
	struct tc_daemon *d = arg;
	double            sum[sizeof(held_classes) / sizeof(*held_classes)];

	(void)q;
	(void)sqlstate;
	if (res == NULL) {
		tc_log_warning(TC_LOG_OUTBOX,
		    "metrics=held result=failed "
		    "err=\"%s\"",
		    tc_esc(error));
		refresh_done(d);
		return;
	}
	memset(sum, 0, sizeof(sum));
	for (int r = 0; r < PQntuples(res); r++) {
		const char *c = tc_stats_held_class(PQgetvalue(res, r, 0));

		for (size_t k = 0; held_classes[k]; k++)
			if (strcmp(held_classes[k], c) == 0)
				sum[k] += strtod(PQgetvalue(res, r, 1), NULL);
	}
	for (size_t k = 0; held_classes[k]; k++)
		one("tocsin_messages_held", "reason", held_classes[k], sum[k],
		    true);
	refresh_done(d);
}

static void
on_outbox(const char *json, const char *error, void *arg)
{
	static const char held_sql[] =
	    "SELECT coalesce(held_reason, ''), count(*) FROM message"
	    " WHERE state = 'held' GROUP BY 1 ORDER BY 2 DESC LIMIT 1000";
	struct tc_daemon *d = arg;
	json_t           *o;
	json_error_t      je;

	if (json == NULL || (o = json_loads(json, 0, &je)) == NULL) {
		tc_log_warning(TC_LOG_OUTBOX,
		    "metrics=outbox result=failed "
		    "err=\"%s\"",
		    tc_esc(error ? error : je.text));
		refresh_done(d);
		return;
	}
	for (size_t i = 0; states[i]; i++)
		one("tocsin_messages", "state", states[i],
		    (double)json_integer_value(json_object_get(o, states[i])),
		    true);
	one("tocsin_queue_oldest_seconds", NULL, NULL,
	    (double)json_integer_value(json_object_get(o, "oldest_s")), true);
	json_decref(o);
	if (d->stopping || d->dbq == NULL ||
	    tc_dbq_exec(d->dbq, held_sql, 0, NULL, on_held, d) < 0)
		refresh_done(d);
}

static void
on_timer(uv_timer_t *t)
{
	struct tc_daemon *d = t->data;

	one("tocsin_smtp_sessions", NULL, NULL, d->sessions, true);
	one("tocsin_feed_busy", NULL, NULL, d->feed_busy ? 1 : 0, true);
	one("tocsin_gpg_helpers_started_total", NULL, NULL,
	    (double)tc_daemon_gpg_helpers_started(), true);
	one("tocsin_db_up", NULL, NULL,
	    d->dbq != NULL && tc_dbq_is_up(d->dbq) ? 1 : 0, true);
	if (d->stopping || d->stats->refreshing || d->dbq == NULL ||
	    !tc_dbq_is_up(d->dbq))
		return;
	/* A job, so that shutdown waits for the answer. */
	tc_daemon_job_started(d);
	d->stats->refreshing = true;
	if (tc_outbox_stats(d->dbq, on_outbox, d) < 0)
		refresh_done(d);
}

/* --- start and close ------------------------------------------------------ */

int
tc_stats_start(struct tc_daemon *d, struct tc_err *err)
{
	struct tc_stats *s;
	int              rc;

	for (size_t i = 0; i < sizeof(families) / sizeof(*families); i++)
		if ((rc = tc_metrics_declare(families[i].name, families[i].type,
			 families[i].help)) < 0)
			return tc_err_set(err, rc,
			    "metrics: too many families");
	/* Every labelled series exists from the start, at 0, so a scraper
	 * sees a counter move from 0 rather than appear. */
	for (size_t i = 0; states[i]; i++)
		one("tocsin_messages", "state", states[i], 0, true);
	for (size_t i = 0; results[i]; i++)
		one("tocsin_deliveries_total", "result", results[i], 0, false);
	for (size_t i = 0; held_classes[i]; i++) {
		one("tocsin_held_total", "reason", held_classes[i], 0, false);
		one("tocsin_messages_held", "reason", held_classes[i], 0, true);
	}
	for (size_t i = 0; feed_results[i]; i++)
		one("tocsin_feed_files_total", "result", feed_results[i], 0,
		    false);
	one("tocsin_smtp_errors_total", "kind", "session", 0, false);
	one("tocsin_smtp_errors_total", "kind", "reply", 0, false);
	one("tocsin_gpg_errors_total", "stage", "compose", 0, false);
	one("tocsin_gpg_errors_total", "stage", "send", 0, false);
	for (size_t i = 0; plain[i]; i++)
		one(plain[i], NULL, NULL, 0, false);
	one("tocsin_queue_oldest_seconds", NULL, NULL, 0, true);
	one("tocsin_feed_match_seconds_last", NULL, NULL, 0, true);

	s = tc_xcalloc(1, sizeof(*s));
	if (d->cfg->metrics.listen != NULL &&
	    (rc = tc_metrics_http_start(d->loop, d->cfg->metrics.listen,
		 &s->http, err)) < 0) {
		free(s);
		return rc;
	}
	uv_timer_init(d->loop, &s->timer);
	s->timer.data = d;
	uv_timer_start(&s->timer, on_timer, 0, TC_STATS_REFRESH_MS);
	d->stats = s;
	if (s->http != NULL)
		tc_log_notice(TC_LOG_BASE, "metrics=http://%s/metrics",
		    tc_esc(d->cfg->metrics.listen));
	return 0;
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct tc_stats *s =
	    container_of((uv_timer_t *)h, struct tc_stats, timer);

	free(s->feed_name);
	free(s);
}

void
tc_stats_close(struct tc_daemon *d)
{
	struct tc_stats *s = d->stats;

	if (s == NULL)
		return;
	d->stats = NULL;
	if (s->http != NULL)
		tc_metrics_http_close(s->http);
	uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

/* --- events ----------------------------------------------------------------
 */

void
tc_stats_sent(int smtp_rc, const struct tc_outbox_result *res, const int *code,
    size_t n)
{
	if (smtp_rc < 0)
		one("tocsin_smtp_errors_total", "kind", "session", 1, false);
	for (size_t i = 0; i < n; i++) {
		one("tocsin_deliveries_total", "result",
		    tc_outbox_outcome_name(res[i].outcome), 1, false);
		if (res[i].outcome == TC_OUTBOX_HELD)
			one("tocsin_held_total", "reason",
			    tc_stats_held_class(res[i].reply), 1, false);
		if (code != NULL && code[i] >= 400)
			one("tocsin_smtp_errors_total", "kind", "reply", 1,
			    false);
	}
}

void
tc_stats_gpg_error(const char *where)
{
	one("tocsin_gpg_errors_total", "stage", where, 1, false);
}

void
tc_stats_feed_begin(struct tc_daemon *d, const char *name,
    struct tc_feed_progress *p)
{
	struct tc_stats *s = d->stats;

	if (s == NULL)
		return;
	free(s->feed_name);
	s->feed_name = tc_xstrdup(name);
	s->feed = p;
	s->feed_started_ms = uv_now(d->loop);
	s->feed_matched_ms = 0;
	one("tocsin_feed_busy", NULL, NULL, 1, true);
}

void
tc_stats_feed_matched(struct tc_daemon *d, const struct tc_match_stats *st,
    size_t warnings, uint64_t ms)
{
	one("tocsin_feed_records_total", NULL, NULL, (double)st->feed.records,
	    false);
	one("tocsin_feed_events_total", NULL, NULL, (double)st->feed.events,
	    false);
	one("tocsin_feed_skipped_total", NULL, NULL, (double)st->feed.skipped,
	    false);
	one("tocsin_feed_hits_total", NULL, NULL, (double)st->hits, false);
	one("tocsin_feed_events_matched_total", NULL, NULL,
	    (double)st->events_hit, false);
	one("tocsin_feed_warnings_total", NULL, NULL, (double)warnings, false);
	one("tocsin_feed_matched_total", NULL, NULL, 1, false);
	one("tocsin_feed_match_seconds_total", NULL, NULL, (double)ms / 1000,
	    false);
	one("tocsin_feed_match_seconds_last", NULL, NULL, (double)ms / 1000,
	    true);
	if (d->stats != NULL)
		d->stats->feed_matched_ms = uv_now(d->loop);
}

void
tc_stats_feed_end(struct tc_daemon *d, int status)
{
	const char *r = status == 0                        ? "processed"
	    : (status == TC_EDB || status == TC_ETEMPFAIL) ? "postponed"
							   : "failed";

	one("tocsin_feed_files_total", "result", r, 1, false);
	one("tocsin_feed_busy", NULL, NULL, 0, true);
	if (d->stats != NULL) {
		free(d->stats->feed_name);
		d->stats->feed_name = NULL;
		d->stats->feed = NULL;
	}
}

/* --- status --------------------------------------------------------------- */

static json_t *
labelled(const char *name, const char *key, const char *const *values)
{
	json_t *o = json_object();

	for (size_t i = 0; values[i]; i++)
		json_object_set_new(o, values[i],
		    json_integer((json_int_t)get1(name, key, values[i])));
	return o;
}

static json_t *
feed_json(struct tc_daemon *d)
{
	const struct tc_stats *s = d->stats;
	unsigned long long     records, bytes, total;
	double                 elapsed_s, rate;
	json_t                *f;

	if (s == NULL || s->feed_name == NULL || s->feed == NULL)
		return json_null();
	records = atomic_load(&s->feed->records);
	bytes = atomic_load(&s->feed->bytes);
	total = atomic_load(&s->feed->total);
	elapsed_s = (double)(uv_now(d->loop) - s->feed_started_ms) / 1000;
	rate = elapsed_s > 0 ? (double)records / elapsed_s : 0;
	f = json_object();
	json_object_set_new(f, "file", json_string(tc_esc(s->feed_name)));
	json_object_set_new(f, "phase",
	    json_string(s->feed_matched_ms ? "composing" : "parsing"));
	json_object_set_new(f, "records", json_integer((json_int_t)records));
	json_object_set_new(f, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(f, "total_bytes", json_integer((json_int_t)total));
	json_object_set_new(f, "elapsed_s", json_real(elapsed_s));
	json_object_set_new(f, "rate", json_real(rate));
	/* The remaining bytes at the rate bytes went so far. */
	if (s->feed_matched_ms == 0 && total > 0 && bytes > 0)
		json_object_set_new(f, "eta_s",
		    json_real(bytes >= total ? 0
					     : elapsed_s *
				(double)(total - bytes) / (double)bytes));
	else
		json_object_set_new(f, "eta_s", json_null());
	return f;
}

void
tc_stats_status(struct tc_daemon *d, json_t *res)
{
	static const char *const kinds[] = { "session", "reply", NULL };
	static const char *const stages[] = { "compose", "send", NULL };
	json_t                  *c = json_object();
	json_t                  *fd = json_object();

	json_object_set_new(c, "deliveries",
	    labelled("tocsin_deliveries_total", "result", results));
	json_object_set_new(c, "held_before_sending",
	    labelled("tocsin_held_total", "reason", held_classes));
	json_object_set_new(c, "smtp_errors",
	    labelled("tocsin_smtp_errors_total", "kind", kinds));
	json_object_set_new(c, "gpg_errors",
	    labelled("tocsin_gpg_errors_total", "stage", stages));
	json_object_set_new(fd, "files",
	    labelled("tocsin_feed_files_total", "result", feed_results));
	json_object_set_new(fd, "records",
	    json_integer(
		(json_int_t)get1("tocsin_feed_records_total", NULL, NULL)));
	json_object_set_new(fd, "events",
	    json_integer(
		(json_int_t)get1("tocsin_feed_events_total", NULL, NULL)));
	json_object_set_new(fd, "skipped",
	    json_integer(
		(json_int_t)get1("tocsin_feed_skipped_total", NULL, NULL)));
	json_object_set_new(fd, "hits",
	    json_integer(
		(json_int_t)get1("tocsin_feed_hits_total", NULL, NULL)));
	json_object_set_new(fd, "warnings",
	    json_integer(
		(json_int_t)get1("tocsin_feed_warnings_total", NULL, NULL)));
	json_object_set_new(fd, "match_seconds_last",
	    json_real(get1("tocsin_feed_match_seconds_last", NULL, NULL)));
	json_object_set_new(c, "feeds", fd);
	json_object_set_new(res, "counters", c);
	json_object_set_new(res, "held_by_reason",
	    labelled("tocsin_messages_held", "reason", held_classes));
	json_object_set_new(res, "feed", feed_json(d));
	json_object_set_new(res, "metrics_port",
	    d->stats && d->stats->http
		? json_integer(tc_metrics_http_port(d->stats->http))
		: json_null());
}

/* ctl_relay: "relay.run" — the relay digests of a period, now (ctl.h).
 *
 * Arguments: {"since": ISO, "until": ISO}, both optional: the period is
 * [since, until), by default the last day up to now.  A period that ends
 * in the future is refused (what is notified later in it would never be
 * reported: the period is done once run).  The answer comes when the
 * digests are queued: {since, until, digests, authorities: [...]}
 * (relaydigest.h). */
#include <stdio.h>
#include <time.h>

#include "ctl.h"
#include "tocsin/relaydigest.h"

#define RELAY_PERIOD_MAX_S (366 * 86400)
#define RELAY_DEFAULT_PERIOD_S 86400

static int
arg_time(struct ctl_req *r, const char *key, int64_t *out, bool *given)
{
	json_t       *v = json_object_get(r->args, key);
	struct tc_err err;

	*given = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		ctl_fail(r, "%s: not a string", key);
		return -1;
	}
	if (tc_relaydigest_parse_time(json_string_value(v), out, &err) < 0) {
		ctl_fail(r, "%s: %s", key, err.msg);
		return -1;
	}
	*given = true;
	return 0;
}

static void
on_done(void *arg, int rc, json_t *report, const char *error)
{
	struct ctl_req *r = arg;
	json_t         *res;

	if (rc < 0) {
		ctl_fail(r, "relay digests failed: %s", error ? error : "?");
		return;
	}
	res = json_pack("{s:O?,s:O?,s:i,s:O}", "since",
	    json_object_get(r->data, "since"), "until",
	    json_object_get(r->data, "until"), "digests", rc, "authorities",
	    report);
	ctl_audit(r->d, r->peer.user, "relay.run", NULL, res);
	json_decref(r->data);
	r->data = NULL;
	ctl_ok(r, res);
	json_decref(res);
}

void
ctl_relay_run(struct ctl_req *r)
{
	int64_t now = (int64_t)time(NULL), from = 0, to = now;
	bool    has_from, has_to;
	char    f[TC_RELAYDIGEST_TIME_MAX], t[TC_RELAYDIGEST_TIME_MAX];

	if (arg_time(r, "since", &from, &has_from) < 0 ||
	    arg_time(r, "until", &to, &has_to) < 0)
		return;
	if (!has_to)
		to = now;
	if (!has_from)
		from = to - RELAY_DEFAULT_PERIOD_S;
	if (to > now) {
		ctl_fail(r, "until is in the future");
		return;
	}
	if (from >= to) {
		ctl_fail(r, "since must be before until");
		return;
	}
	if (to - from > RELAY_PERIOD_MAX_S) {
		ctl_fail(r, "the period is longer than %d days",
		    RELAY_PERIOD_MAX_S / 86400);
		return;
	}
	tc_relaydigest_format_time(from, f, sizeof(f));
	tc_relaydigest_format_time(to, t, sizeof(t));
	r->data = json_pack("{s:s,s:s}", "since", f, "until", t);
	if (tc_relay_job_start(r->d, from, to, r->peer.user, on_done, r) < 0) {
		json_decref(r->data);
		r->data = NULL;
		ctl_fail(r, "cannot start the relay digests now");
	}
}

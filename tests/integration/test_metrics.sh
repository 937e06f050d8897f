# tocsind serves /metrics on a loopback address: valid exposition format,
# delivery counters that go from 0 to N when mail is sent, message gauges
# that match the database; `tocsinctl status` (table and --json) shows the
# same figures and a long import's progress, and says when tocsind is not
# running; a metrics address off loopback is refused at start.
D=$SRC/tests/data/feeds/match
setup_keys 1 2 3 4 5 6 8 9
MPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config "outbox: {backoff_base: 1s, backoff_max: 2s, lease: 30s}" \
    "metrics: {listen: 127.0.0.1:$MPORT}"
$TOCSINCTL db migrate >/dev/null
$TOCSINCTL entity import "$T/registry.yaml" >/dev/null

# The control socket admits the analysts' group (the service user's here).
status() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$(service_user)" -- env TOCSIN_CONFIG="$T/tocsin.yaml" "$TOCSINCTL" status "$@"
	else
		"$TOCSINCTL" status "$@"
	fi
}
scrape() { curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"; }
# metric 'name{labels}' or 'name': its value in the last scrape.
metric() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$T/metrics.txt"; }
metric_is() { scrape && [ "$(metric "$1")" = "$2" ]; }
# Text exposition format 0.0.4: HELP and TYPE once per family, before its
# samples; every sample line is name{label="value",...} number.
check_format() {
	python3 - "$T/metrics.txt" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(\{%s(?:,%s)*\})? (\S+)$' % (name, label, label))
helps, types, seen, n = set(), {}, set(), 0
for i, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    def bad(why):
        sys.exit("line %d: %s: %r" % (i, why, line))
    if line.startswith("# HELP "):
        f = line.split(" ", 3)
        if len(f) < 4 or not re.fullmatch(name, f[2]): bad("bad HELP")
        if f[2] in helps: bad("second HELP")
        helps.add(f[2])
    elif line.startswith("# TYPE "):
        f = line.split(" ")
        if len(f) != 4 or f[3] not in ("counter", "gauge"): bad("bad TYPE")
        if f[2] in types: bad("second TYPE")
        types[f[2]] = f[3]
    elif line.startswith("#") or line == "":
        bad("stray line")
    else:
        m = sample.match(line)
        if not m: bad("not a sample")
        if m.group(1) not in types: bad("sample before its TYPE")
        v = float(m.group(3))
        if types[m.group(1)] == "counter" and v < 0: bad("negative counter")
        key = m.group(1) + (m.group(2) or "")
        if key in seen: bad("duplicate series")
        seen.add(key)
        n += 1
if n < 20: sys.exit("only %d samples" % n)
print("%d samples, %d families" % (n, len(types)))
PY
}

echo "== tocsinctl status without a daemon"
expect_rc 1 status
expect_grep 'tocsind is not running' "$T/last.err"

start_tocsind
wait_for 30 scrape
echo "== before any mail"
check_format || { cat "$T/metrics.txt"; fail "exposition format"; }
expect_eq "sent counter" "$(metric 'tocsin_deliveries_total{result="sent"}')" 0
expect_eq "files" "$(metric 'tocsin_feed_files_total{result="processed"}')" 0
expect_grep '^# TYPE tocsin_deliveries_total counter$' "$T/metrics.txt"
expect_grep '^# TYPE tocsin_messages gauge$' "$T/metrics.txt"
expect_no_grep '@' "$T/metrics.txt"
expect_rc 0 status
expect_grep '^feed +idle$' "$T/last.out"
expect_grep "^metrics +port $MPORT " "$T/last.out"

echo "== only GET /metrics"
expect_eq "other path" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")" 404
expect_eq "POST" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")" 405

echo "== a feed: four mails sent, one held"
drop "$D/2026-11-23-scan_rdp-be-001.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state IN ('sent','held')" 5
wait_for 30 mails_are 4
wait_for 30 metric_is 'tocsin_deliveries_total{result="sent"}' 4
for s in queued sending sent deferred failed held cancelled; do
	wait_for 15 metric_is "tocsin_messages{state=\"$s\"}" \
	    "$(sql "SELECT count(*) FROM message WHERE state='$s'")"
done
check_format || { cat "$T/metrics.txt"; fail "exposition format"; }
expect_eq "held gauge by reason" "$(metric 'tocsin_messages_held{reason="key_missing"}')" 1
expect_eq "processed" "$(metric 'tocsin_feed_files_total{result="processed"}')" 1
expect_eq "records" "$(metric tocsin_feed_records_total)" \
    "$(sql "SELECT detail->>'records' FROM audit_log WHERE action='feed.processed'")"
expect_eq "hits" "$(metric tocsin_feed_hits_total)" \
    "$(sql "SELECT detail->>'hits' FROM audit_log WHERE action='feed.processed'")"
expect_eq "warnings" "$(metric tocsin_feed_warnings_total)" 5
expect_eq "no smtp error" "$(metric 'tocsin_smtp_errors_total{kind="session"}')" 0
expect_eq "no gpg error" "$(metric 'tocsin_gpg_errors_total{stage="compose"}')" 0
# Five warnings on gpg.workers 2: one or two helpers, none replaced.
h=$(metric tocsin_gpg_helpers_started_total)
[ "$h" = 1 ] || [ "$h" = 2 ] || fail "tocsin_gpg_helpers_started_total is '$h', want 1 or 2"
expect_eq "queue drained" "$(metric tocsin_queue_oldest_seconds)" 0
expect_no_grep '@|voorbeeld|192\.0\.2' "$T/metrics.txt"

echo "== tocsinctl status shows the same"
expect_rc 0 status --json
j=$T/last.out
expect_eq "json sent" "$(jq -r .outbox.sent "$j")" 4
expect_eq "json held" "$(jq -r .outbox.held "$j")" 1
expect_eq "json deliveries" "$(jq -r .counters.deliveries.sent "$j")" "$(metric 'tocsin_deliveries_total{result="sent"}')"
expect_eq "json held reason" "$(jq -r .held_by_reason.key_missing "$j")" 1
expect_eq "json feed files" "$(jq -r .counters.feeds.files.processed "$j")" 1
expect_eq "json hits" "$(jq -r .counters.feeds.hits "$j")" "$(metric tocsin_feed_hits_total)"
expect_eq "json idle" "$(jq -r .feed "$j")" null
expect_eq "json port" "$(jq -r .metrics_port "$j")" "$MPORT"
expect_rc 0 status
expect_grep '^outbox +queued 0  sending 0  sent 4  deferred 0  failed 0  held 1  cancelled 0$' "$T/last.out"
expect_grep '^  deliveries +sent 4 ' "$T/last.out"
expect_grep '^held by reason +key_missing 1 ' "$T/last.out"
expect_grep '^  feed files +processed 1  failed 0  postponed 0$' "$T/last.out"
expect_eq "usage" "$(status extra >/dev/null 2>&1; echo $?)" 2

echo "== a long import shows its progress"
python3 - "$T/big.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write('"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"\n')
    for i in range(1500000):
        f.write('"2026-11-27 01:02:03","medium","10.%d.%d.%d","tcp",3389,,"rdp",64999,"BE"\n'
                % (i >> 16 & 255, i >> 8 & 255, i & 255))
PY
size=$(stat -c %s "$T/big.csv")
drop "$T/big.csv" 2026-11-27-scan_rdp-be-big.csv
seen_progress=
for _ in $(seq 300); do
	status --json >"$T/st.json" 2>/dev/null || true
	if [ "$(jq -r '.feed.phase // empty' "$T/st.json")" = parsing ] &&
	    [ "$(jq -r '.feed.records' "$T/st.json")" -gt 0 ]; then
		seen_progress=1
		break
	fi
	sleep 0.05
done
[ -n "$seen_progress" ] || fail "no progress seen while parsing"
expect_eq "file" "$(jq -r .feed.file "$T/st.json")" 2026-11-27-scan_rdp-be-big.csv
expect_eq "total" "$(jq -r .feed.total_bytes "$T/st.json")" "$size"
jq -e '.feed.bytes > 0 and .feed.bytes <= .feed.total_bytes and .feed.rate >= 0 and .feed.eta_s >= 0' "$T/st.json" >/dev/null ||
    { cat "$T/st.json"; fail "progress figures"; }
echo "  ok: progress $(jq -c '.feed' "$T/st.json")"
wait_for 120 test -e "$T/spool/done/2026-11-27-scan_rdp-be-big.csv"
wait_for 10 metric_is 'tocsin_feed_files_total{result="processed"}' 2
expect_eq "records counted" "$(metric tocsin_feed_records_total)" \
    "$(sql "SELECT sum((detail->>'records')::bigint) FROM audit_log WHERE action='feed.processed'")"
expect_rc 0 status --json
expect_eq "idle again" "$(jq -r .feed "$T/last.out")" null

echo "== a failed file is counted"
printf '{"not": "a feed"' >"$T/broken.json"
drop "$T/broken.json"
wait_for 60 test -e "$T/spool/failed/broken.json"
wait_for 10 metric_is 'tocsin_feed_files_total{result="failed"}' 1

echo "== the logs carry no clear subject and no body"
expect_no_grep 'Subject|BEGIN PGP|192\.0\.2\.10' "$T/tocsind.log"
expect_grep 'ref=TEST-EWS-[0-9]{4}-[0-9]{6} msg=[0-9]+ rcpt=<[^>]+> result=sent attempt=[0-9]+ smtp="[^"]*"' "$T/tocsind.log"

stop_tocsind
expect_no_grep 'result=unclean' "$T/tocsind.log"
wait_for 10 sh -c "! curl -s 'http://127.0.0.1:$MPORT/metrics' >/dev/null"

echo "== metrics.listen off loopback is refused"
write_config "metrics: {listen: 192.0.2.1:$MPORT}"
if [ "$(id -u)" -eq 0 ]; then
	expect_rc 1 runuser -u "$(service_user)" -- env PGHOST="$PGHOST" PGPORT="$PGPORT" \
	    PGDATABASE="$PGDATABASE" PGUSER="$PGUSER" "$TOCSIND" -c "$T/tocsin.yaml"
else
	expect_rc 1 "$TOCSIND" -c "$T/tocsin.yaml"
fi
expect_grep 'metrics.listen: 192.0.2.1 is not a loopback address' "$T/last.err"

# Load: LOAD_MESSAGES queued rows (CI 20000, full 100000) and a generated
# Shadowserver CSV of LOAD_ROWS rows (CI 200000, full 5000000) at once.
# tocsind's peak RSS (VmHWM) must stay under LOAD_RSS_MAX_MB (256), and
# `tocsinctl status` keeps answering while it works: its worst latency is
# printed and must stay under LOAD_LATENCY_MAX_MS (2000).
N=$(size LOAD_MESSAGES 20000 100000)
ROWS=$(size LOAD_ROWS 200000 5000000)
RSS_MAX_MB=${LOAD_RSS_MAX_MB:-256}
LAT_MAX_MS=${LOAD_LATENCY_MAX_MS:-2000}
setup_keys 1 7
write_config "outbox: {lease: 60s, backoff_base: 1s, backoff_max: 2s, batch: 100}"
"$TOCSINCTL" db migrate >/dev/null
"$TOCSINCTL" entity import "$T/registry.yaml" >/dev/null
own_sink
sink_start
queue_rows "$N"
# Rows on addresses of no entity (10/8), one row in 100000 on an entity's.
python3 - "$ROWS" >"$T/2026-11-24-scan_rdp-be-big.csv" <<'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
w('"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sector","rdp_protocol"\n')
for i in range(n):
    if i % 100000 == 7:
        ip = "192.0.2.10"
    else:
        ip = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    w('"2026-11-24 01:%02d:%02d","medium","%s","tcp",3389,,"rdp",64999,"BE","R","C",,,"RDP"\n' % ((i // 60) % 60, i % 60, ip))
PY
size_mb=$(( $(stat -c %s "$T/2026-11-24-scan_rdp-be-big.csv") / 1048576 ))
echo "  feed: $ROWS rows, ${size_mb} MiB; outbox: $N rows"
start_worker w1
pid=$(worker_pid w1)
t0=$(ms)
drop "$T/2026-11-24-scan_rdp-be-big.csv"
worst=0 calls=0
done_all() {
	sql_is "SELECT count(*) FROM message WHERE state IN ('queued','deferred','sending')" 0 &&
	    [ -e "$T/spool/done/2026-11-24-scan_rdp-be-big.csv" ]
}
while ! done_all; do
	t=$(ms)
	ctl w1 status >/dev/null || fail "tocsinctl status failed under load"
	dt=$(( $(ms) - t ))
	calls=$((calls + 1))
	[ "$dt" -le "$worst" ] || worst=$dt
	[ $(( $(ms) - t0 )) -lt 600000 ] || fail "not done in 10 minutes"
	[ -e "$T/spool/failed/2026-11-24-scan_rdp-be-big.csv" ] &&
	    fail "the big feed failed: $(cat "$T/spool/failed/2026-11-24-scan_rdp-be-big.csv.error")"
	sleep 0.1
done
secs=$(( ($(ms) - t0) / 1000 ))
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
stop_worker w1
count_deliveries "$N"
rss_mb=$((hwm_kb / 1024))
echo "  done in ${secs}s; peak RSS ${rss_mb} MiB; worst status latency ${worst} ms over $calls calls"
expect_grep 'records='"$ROWS"' ' "$T/w1.log"
figure load.messages "$N"
figure load.feed_rows "$ROWS"
figure load.feed_mib "$size_mb"
figure load.seconds "$secs"
figure load.peak_rss_mib "$rss_mb"
figure load.rss_bound_mib "$RSS_MAX_MB"
figure load.status_calls "$calls"
figure load.worst_status_ms "$worst"
figure load.lost "$LOST"
expect_eq "lost" "$LOST" 0
expect_eq "delivered twice" "$((TWICE + MORE))" 0
[ "$rss_mb" -le "$RSS_MAX_MB" ] || fail "peak RSS ${rss_mb} MiB above ${RSS_MAX_MB} MiB"
[ "$worst" -le "$LAT_MAX_MS" ] || fail "status took ${worst} ms (bound ${LAT_MAX_MS})"

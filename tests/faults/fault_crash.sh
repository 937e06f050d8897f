# Crashes: kill -9 tocsind at random moments (spread over the delivery by
# progress, not time) while it delivers
# CRASH_MESSAGES messages (CI 3000, full 5000), restart it, CRASH_KILLS
# times (CI 5, full 8).  Every message must end `sent`; at the sink each
# arrives exactly once, except those in flight at a kill (rows `sending`
# when it died: delivered, perhaps, but not recorded), which may arrive
# twice (or once more per further kill they were in flight at), never more
# often than they were claimed (checked row by row); none is lost.
N=$(size CRASH_MESSAGES 3000 5000)
KILLS=$(size CRASH_KILLS 5 8)
fault_base
own_sink
sink_start
queue_rows "$N"
worker_config w1
start_worker w1

kills=0
: >"$T/inflight.ids"
sent_now() { sql "SELECT count(*) FROM message WHERE state='sent'"; }
for ((k = 1; k <= KILLS; k++)); do
	# A random moment of the delivery: when the k-th of KILLS+1 equal
	# parts of it is reached, give or take a quarter part (polled every
	# ~20 ms: delivery runs at several hundred messages a second).
	part=$((N / (KILLS + 1)))
	target=$((k * part - part / 4 + RANDOM % (part / 2 + 1)))
	while [ "$(sent_now)" -lt "$target" ]; do
		worker_alive w1 || fail "tocsind died by itself"
	done
	sent=$(sent_now)
	[ "$sent" -lt "$N" ] || break
	kill9_worker w1
	kills=$((kills + 1))
	sql "SELECT substring(reference from 5) FROM message WHERE state='sending'" >>"$T/inflight.ids"
	f=$(sql "SELECT count(*) FROM message WHERE state='sending'")
	echo "  kill $kills: sent $sent/$N, sending $f"
	start_worker w1
done
# Leases of the killed workers expire (30 s), the reaper returns the rows.
wait_for 240 sql_is "SELECT count(*) FROM message WHERE state='sent'" "$N"
sleep 1
stop_worker w1
count_deliveries "$N"
sort -u "$T/inflight.ids" >"$T/inflight.sorted"
inflight=$(wc -l <"$T/inflight.sorted")
echo "  messages $N kills $kills in-flight $inflight once $ONCE twice $TWICE more $MORE lost $LOST"
figure crash.messages "$N"
figure crash.kills "$kills"
figure crash.in_flight_at_kills "$inflight"
figure crash.sent "$(sql "SELECT count(*) FROM message WHERE state='sent'")"
figure crash.delivered_once "$ONCE"
figure crash.delivered_twice "$TWICE"
figure crash.delivered_more "$MORE"
figure crash.lost "$LOST"
[ "$kills" -ge 1 ] || fail "no kill happened: the run was too short"
expect_eq "lost" "$LOST" 0
# Each claim delivers a row once at most: no row arrived more often than
# it was claimed (attempts).  A row in flight at two kills (its lease
# expired between them, it was claimed again) may arrive three times.
sql "SELECT substring(reference from 5), attempts FROM message" | tr '|' ' ' >"$T/attempts.txt"
over=$(awk 'NR == FNR {att[$1] = $2; next} {split($2, a, "-"); if ($1 > att[a[2]]) n++} END {print n + 0}' \
    "$T/attempts.txt" "$T/per-token-raw.txt")
expect_eq "rows delivered more often than claimed" "$over" 0
outside=$(comm -23 "$T/twice.ids" "$T/inflight.sorted" | wc -l)
expect_eq "delivered more than once but not in flight at a kill" "$outside" 0
echo "  ok: the $TWICE delivered twice are among the $inflight in flight at the kills"
expect_eq "nothing left sending" "$(sql "SELECT count(*) FROM message WHERE state <> 'sent'")" 0
expect_eq "one message.sent audit row each" \
    "$(sql "SELECT count(DISTINCT reference) FROM audit_log WHERE action='message.sent' AND reference LIKE 'FLT-%'")" "$N"

# PostgreSQL faults: the server restarted (fast, then immediate: a crash)
# twice while tocsind delivers PG_MESSAGES rows (CI 3000, full 5000), then
# tocsind's connection terminated again and again while as many more go.
# tocsind reconnects with backoff and goes on; every row ends `sent`; none
# is delivered twice or lost; none is left `sending` or half-claimed.
N=$(size PG_MESSAGES 3000 5000)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
pgctl() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg/data" "$@"
	else
		"$PGBIN/pg_ctl" -D "$T/pg/data" "$@"
	fi
}
fault_base
# The test cluster runs with synchronous_commit=off (tests/services.sh),
# which loses the last commits in a crash: a claim or an outcome lost that
# way is the database forgetting, not tocsind.  Production defaults: on.
sql "ALTER DATABASE $PGDATABASE SET synchronous_commit = on" >/dev/null
own_sink
sink_start
queue_rows "$N"
start_worker w1
restarts=0
for mode in fast immediate; do
	target=$(( (restarts + 1) * N / 4 ))
	wait_for 120 sql_is "SELECT count(*) >= $target FROM message WHERE state='sent'" t
	pgctl -m "$mode" -w -t 60 restart >/dev/null
	restarts=$((restarts + 1))
	echo "  restart $restarts ($mode) after $target sent"
	sleep 1
done
wait_for 240 sql_is "SELECT count(*) FROM message WHERE state='sent'" "$N"

# Then its connection is terminated (pg_terminate_backend) every 50-250 ms
# while PG_MESSAGES more rows go out: statements in flight fail, among
# them outcome records, which are retried while the lease holds.
queue_rows "$N" $((N + 1))
terms=0
while ! sql_is "SELECT count(*) FROM message WHERE state='sent'" $((2 * N)); do
	sleep "$(awk -v r=$RANDOM 'BEGIN {printf "%.2f", 0.05 + (r % 20) / 100}')"
	k=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tocsind'")
	terms=$((terms + k))
	[ "$terms" -lt 2000 ] || fail "not done after $terms terminations"
done
echo "  $terms connections terminated"
retried=$(grep -c 'result=unrecorded .*retry_ms=' "$T/w1.log" || true)
echo "  outcome records retried: $retried"
N=$((2 * N))
expect_eq "the daemon is the one that started" "$(worker_alive w1 && echo alive)" alive
expect_grep 'dbq=down' "$T/w1.log"
expect_grep 'retry_ms=' "$T/w1.log"
reaped=$(sql "SELECT count(*) FROM audit_log WHERE action='message.lease_expired'")
sleep 1
worst=$(max_status_ms w1 5)
stop_worker w1
count_deliveries "$N"
echo "  messages $N restarts $restarts once $ONCE twice $TWICE lost $LOST leases expired $reaped"
figure pg.messages "$N"
figure pg.restarts "$restarts"
figure pg.backend_terminations "$terms"
figure pg.records_retried "$retried"
figure pg.delivered_once "$ONCE"
figure pg.delivered_twice "$TWICE"
figure pg.lost "$LOST"
figure pg.leases_expired "$reaped"
expect_eq "lost" "$LOST" 0
expect_eq "more than twice" "$MORE" 0
# An outcome record lost with the connection is retried while the lease
# holds, so a message sent is not sent again at lease expiry (before that
# fix: 250 of 6000 twice, all after an expired lease).
expect_eq "delivered twice" "$TWICE" 0
expect_eq "none left sending" "$(sql "SELECT count(*) FROM message WHERE state='sending'")" 0
expect_eq "no half-claimed row" "$(sql "SELECT count(*) FROM message WHERE (locked_by IS NULL) <> (locked_until IS NULL)")" 0

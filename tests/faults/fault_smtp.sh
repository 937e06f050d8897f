# SMTP faults: server down at start, server killed mid-session, a 4xx
# storm, 5xx for one recipient among many, a server that accepts and never
# answers, STARTTLS required but not offered.  SMTP_MESSAGES rows per case
# (CI 300, full 2000).
N=$(size SMTP_MESSAGES 300 2000)
fault_base
own_sink
worker_config w1
set_smtp timeout 5s
next=1
queue() { queue_rows "$1" "$next"; next=$((next + $1)); }
all_sent() { sql_is "SELECT count(*) FROM message WHERE state <> 'sent'" 0; }
check_once() { # WHAT MAX_TWICE
	count_deliveries $((next - 1))
	echo "  $1: once $ONCE twice $TWICE more $MORE lost $LOST"
	expect_eq "$1: lost" "$LOST" 0
	expect_eq "$1: more than twice" "$MORE" 0
	[ "$TWICE" -le "$2" ] || fail "$1: $TWICE delivered twice (at most $2)"
}

echo "== server down at start: deferred, delivered once it is up"
queue "$N"
start_worker w1
wait_for 60 sql_is "SELECT count(*) > 0 FROM message WHERE state='deferred' AND attempts >= 1" t
expect_eq "no mail while down" "$(mail_count)" 0
expect_grep . <(sql "SELECT last_reply FROM message WHERE state='deferred' LIMIT 1")
sink_start
wait_for 120 all_sent
check_once "down at start" 0
figure smtp.down_at_start.messages "$N"
figure smtp.down_at_start.lost "$LOST"

echo "== server killed (SIGKILL) mid-session"
M=$((N * 4))
queue "$M"
wait_for 60 sql_is "SELECT count(*) > $((next - 1 - M + M / 5)) FROM message WHERE state='sent'" t
sink_kill9
killed_at=$(sql "SELECT count(*) FROM message WHERE state='sent'")
sleep 2
sink_start
wait_for 120 all_sent
# A message whose DATA the sink had stored when it died, without answering,
# is sent again: one per open session at most (smtp.max_sessions 2).
check_once "killed mid-session" 2
figure smtp.killed_mid_session.messages "$M"
figure smtp.killed_mid_session.sent_before_kill "$((killed_at - N))"
figure smtp.killed_mid_session.twice "$TWICE"
figure smtp.killed_mid_session.lost "$LOST"

echo "== 4xx storm: every RCPT refused for a while, then accepted"
sink_stop
sink_start -r RCPT
before=$(sql "SELECT coalesce(sum(attempts), 0) FROM message")
queue "$N"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state='deferred' AND attempts >= 2" "$N"
sleep 3
expect_eq "nothing delivered in the storm" "$(grep -rla "FLTTOK-$((next - 1))-END" "$MAILDIR" | wc -l)" 0
sink_stop
sink_start
wait_for 120 all_sent
check_once "4xx storm" 0
attempts=$(( $(sql "SELECT sum(attempts) FROM message") - before ))
echo "  4xx storm: $N messages, $attempts attempts"
[ "$attempts" -ge $((N * 3)) ] || fail "expected at least 3 attempts per message, got $attempts"
figure smtp.4xx_storm.messages "$N"
figure smtp.4xx_storm.attempts "$attempts"
figure smtp.4xx_storm.lost "$LOST"
stop_worker w1

echo "== a server that accepts TCP and never answers (smtp.timeout 5s)"
sink_stop
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$SMTP_PORT" >"$T/blackhole.log" 2>&1 &
BH=$!
trap 'kill $BH 2>/dev/null || true; sink_stop' EXIT
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT"
queue 20
start_worker w1
t0=$(ms)
worst=$(max_status_ms w1 15)
echo "  worst tocsinctl status latency while SMTP hangs: ${worst} ms"
wait_for 60 sql_is "SELECT count(*) = 20 FROM message WHERE state='deferred' AND attempts >= 1" t
dt=$(( $(ms) - t0 ))
expect_grep 'session .* failed' <(sql "SELECT DISTINCT last_reply FROM message WHERE state='deferred'")
[ "$dt" -ge 4000 ] || fail "deferred after ${dt} ms, before the 5 s timeout"
[ "$worst" -lt 2000 ] || fail "status took ${worst} ms while SMTP hangs"
figure smtp.blackhole.deferred_after_ms "$dt"
figure smtp.blackhole.worst_status_ms "$worst"
stop_worker w1
kill $BH 2>/dev/null; wait $BH 2>/dev/null || true
sql "UPDATE message SET state='cancelled' WHERE state <> 'sent'" >/dev/null

if [ "$(id -u)" -ne 0 ]; then
	echo "== (not root: the Postfix cases are skipped)"
	exit 0
fi
echo "== STARTTLS required, the server does not offer it: nothing in clear"
export MTA_REJECT="rcpt13@example.org"
"$SRC/tests/mta.sh" start "$T/mta" >"$T/mta.log" 2>&1 || { cat "$T/mta.log"; fail "mta did not start"; }
trap '"$SRC/tests/mta.sh" stop "$T/mta"; sink_stop' EXIT
. "$T/mta/env"
set_smtp port "$MTA_PLAIN_PORT"
set_smtp starttls required
first=$next
queue 20
start_worker w1
wait_for 60 sql_is "SELECT count(*) FROM message WHERE reference >= 'FLT-$first' AND state='deferred' AND attempts >= 1 AND id > (SELECT max(id) - 20 FROM message)" 20
expect_grep '[Ss][Tt][Aa][Rr][Tt][Tt][Ll][Ss]|TLS' <(sql "SELECT DISTINCT last_reply FROM message WHERE state='deferred'")
sleep 1
expect_no_grep 'client=' "$MTA_LOG"
expect_no_grep 'from=<' "$MTA_LOG"
expect_eq "nothing relayed" "$(ls "$MTA_MAILDIR" | wc -l)" 0
figure smtp.starttls_refused.messages 20
figure smtp.starttls_refused.sent_in_clear 0
stop_worker w1
sql "UPDATE message SET state='cancelled' WHERE state <> 'sent'" >/dev/null

echo "== 5xx for one recipient among many (Postfix check_recipient_access)"
set_smtp starttls off
first=$next
queue 97
last=$(sql "SELECT max(id) - 97 FROM message")
start_worker w1
wait_for 120 sql_is "SELECT count(*) FROM message WHERE state IN ('queued','deferred','sending')" 0
expect_eq "the refused recipient failed" \
    "$(sql "SELECT state || ' ' || attempts FROM message WHERE recipient='rcpt13@example.org' AND id > $last")" "failed 1"
expect_grep '^5' <(sql "SELECT last_reply FROM message WHERE recipient='rcpt13@example.org' AND id > $last")
expect_eq "the others sent" "$(sql "SELECT count(*) FROM message WHERE state='sent' AND recipient <> 'rcpt13@example.org' AND id > $last")" 96
wait_for 60 bash -c "[ \$(ls '$MTA_MAILDIR' | wc -l) -eq 96 ]"
expect_eq "relayed once each" "$(grep -rhoa 'FLTTOK-[0-9]*-END' "$MTA_MAILDIR" | sort | uniq -d | wc -l)" 0
figure smtp.one_rcpt_5xx.messages 97
figure smtp.one_rcpt_5xx.failed 1
figure smtp.one_rcpt_5xx.sent 96
stop_worker w1

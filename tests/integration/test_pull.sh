# Scheduled HTTP pulls in the running daemon: a feed with a url is fetched
# at start into the spool under its "<feed>--" name, parsed with the feed's
# format and default TLP, and delivered; its ETag/Last-Modified are kept in
# the feed table, so after a restart the conditional GET brings nothing new
# and nothing is sent twice.
setup_keys
mkdir -p "$T/www"
cp "$SRC/tests/data/feeds/match/2026-11-23-scan_rdp-be-001.csv" "$T/www/scan_rdp.csv"
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP_PORT" \
    >"$T/http.log" 2>&1 &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null || true' EXIT
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP_PORT"
write_config "feeds:" \
    "  - {name: ss-rdp, format: shadowserver, url: \"http://127.0.0.1:$HTTP_PORT/scan_rdp.csv\", schedule: 1h, default_tlp: AMBER}"
$TOCSINCTL db migrate >/dev/null
$TOCSINCTL entity import "$T/registry.yaml" >/dev/null
start_tocsind

echo "== pulled at start, processed as the feed's format"
wait_for 60 bash -c "ls '$T/spool/done/' | grep -q '^ss-rdp--'"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state='sent'" 5
expect_grep 'GET /scan_rdp.csv' "$T/http.log"
expect_eq "feed state" "$(sql "SELECT state FROM feed WHERE name='ss-rdp'")" idle
expect_grep '.' <(sql "SELECT last_modified FROM feed WHERE name='ss-rdp'")
expect_eq "feed audit" "$(sql "SELECT detail->>'feed' FROM audit_log WHERE action='feed.processed'")" ss-rdp

echo "== after a restart the conditional GET brings nothing new"
stop_tocsind
start_tocsind
wait_for 30 grep -q 'feed=ss-rdp result=pulled file=(not modified)' "$T/tocsind.log"
expect_grep '"GET /scan_rdp.csv HTTP/1.1" 304' "$T/http.log"
expect_eq "one file" "$(ls "$T/spool/done/" | grep -c '^ss-rdp--')" 1
expect_eq "no new messages" "$(sql 'SELECT count(*) FROM message')" 5

echo "== the server gone: the failure is recorded, nothing else happens"
kill $HTTP_PID
stop_tocsind
start_tocsind
wait_for 30 grep -q 'feed=ss-rdp result=pull_failed' "$T/tocsind.log"
wait_for 10 sql_is "SELECT state FROM feed WHERE name='ss-rdp'" failed
stop_tocsind

# Scale-out: three tocsind processes (own control sockets; one database,
# one spool directory) drain SCALE_MESSAGES outbox rows (CI 6000, full
# 20000) while SCALE_FEEDS feed files (CI 12, full 30) are dropped into the
# shared spool.  Every row is delivered exactly once; every feed file is
# processed by exactly one worker (one feed.processed audit row, one file in
# done/, its messages committed once), and the suppression window holds
# across workers (the files repeat the same findings: warned once).
N=$(size SCALE_MESSAGES 6000 20000)
FEEDS=$(size SCALE_FEEDS 12 30)
setup_keys
write_config "outbox: {lease: 30s, backoff_base: 1s, backoff_max: 2s, max_attempts: 100, batch: 50}"
"$TOCSINCTL" db migrate >/dev/null
"$TOCSINCTL" entity import "$T/registry.yaml" >/dev/null
own_sink
sink_start
queue_rows "$N"

# Feed files: the RDP scan sample under distinct names, each with its own
# day so that each file's warnings are distinct.
for ((f = 1; f <= FEEDS; f++)); do
	day=$(printf '2026-10-%02d' "$f")
	sed "s/2026-11-23/$day/g" "$SRC/tests/data/feeds/match/2026-11-23-scan_rdp-be-001.csv" \
	    >"$T/$day-scan_rdp-be-$f.csv"
done

t0=$(ms)
for w in w1 w2 w3; do start_worker "$w"; done
for ((f = 1; f <= FEEDS; f++)); do
	drop "$T/$(printf '2026-10-%02d' "$f")-scan_rdp-be-$f.csv"
done
wait_for 300 sql_is "SELECT count(*) FROM message WHERE reference LIKE 'FLT-%' AND state='sent'" "$N"
secs=$(( ($(ms) - t0) / 1000 ))
wait_for 120 sql_is "SELECT count(*) FROM audit_log WHERE action='feed.processed'" "$FEEDS"
wait_for 120 sql_is "SELECT count(*) FROM message WHERE state IN ('queued','deferred','sending')" 0
sleep 3
for w in w1 w2 w3; do stop_worker "$w"; done

count_deliveries "$N"
per_worker=$(sql "SELECT string_agg(n::text, '/' ORDER BY n) FROM (SELECT count(*) n FROM audit_log WHERE action='message.sent' AND reference LIKE 'FLT-%' GROUP BY detail->>'worker') s")
echo "  messages $N in ${secs}s once $ONCE twice $TWICE lost $LOST; per worker (audit) $per_worker"
figure scaleout.workers 3
figure scaleout.messages "$N"
figure scaleout.seconds "$secs"
figure scaleout.delivered_once "$ONCE"
figure scaleout.delivered_twice "$((TWICE + MORE))"
figure scaleout.lost "$LOST"
figure scaleout.feeds "$FEEDS"
expect_eq "lost" "$LOST" 0
expect_eq "delivered twice or more" "$((TWICE + MORE))" 0
expect_eq "all sent" "$(sql "SELECT count(*) FROM message WHERE reference LIKE 'FLT-%' AND state='sent'")" "$N"

echo "== feeds: each processed by exactly one worker"
expect_eq "feed.processed rows per file, all 1" \
    "$(sql "SELECT count(*) FROM (SELECT detail->>'file' f FROM audit_log WHERE action='feed.processed' GROUP BY 1 HAVING count(*) = 1) s")" "$FEEDS"
expect_eq "files in done/" "$(ls "$T/spool/done" | wc -l)" "$FEEDS"
expect_eq "files in failed/" "$(ls "$T/spool/failed" | wc -l)" 0
expect_eq "nothing left in incoming/ (claims included)" "$(ls -A "$T/spool/incoming" | wc -l)" 0
workers_used=$(grep -l 'result=picked' "$T"/w?.log | wc -l)
echo "  feed files were picked by $workers_used worker(s)"
figure scaleout.feed_workers "$workers_used"
spear=$(sql "SELECT count(*) FROM message WHERE kind='spear'")
planned=$(sql "SELECT coalesce(sum((detail->>'messages')::bigint), 0) FROM audit_log WHERE action='feed.processed'")
expect_eq "spear messages = those the feed runs committed" "$spear" "$planned"
[ "$spear" -gt 0 ] || fail "the feeds produced no message"
dups=$(sql "SELECT count(*) FROM (SELECT 1 FROM message WHERE kind='spear' GROUP BY recipient, entity_id, category HAVING count(*) > 1) s")
figure scaleout.duplicate_warnings "$dups"
# The files repeat the same findings: the first commit notifies them, every
# later file (on whichever worker) is suppressed — also when two workers
# commit at the same moment.
expect_eq "no finding warned twice within the suppression window" "$dups" 0
spear_mails=$(grep -rla 'X-Rcpt-Args' "$MAILDIR" | xargs grep -La 'FLTTOK-' | wc -l)
expect_eq "spear mails at the sink = spear messages sent" "$spear_mails" \
    "$(sql "SELECT count(*) FROM message WHERE kind='spear' AND state='sent'")"
figure scaleout.spear_messages "$spear"
for w in w1 w2 w3; do expect_no_grep 'result=unclean' "$T/$w.log"; done

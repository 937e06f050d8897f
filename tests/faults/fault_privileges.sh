# Privileges: tocsind refuses to run as root; a config holding
# smtp.password that group or others may read is refused by tocsind and
# tocsinctl; in a debug-level run with SMTP AUTH and encrypted mail, the
# password and a marker from a confidential body never reach the log.
setup_keys 1 7
PASSWORD='Pw-7Hq2-zz9-sekret'
MARKER='mrk-4q9z7.voorbeeld-energie.example'
write_config "outbox: {lease: 30s, backoff_base: 1s, backoff_max: 2s}" "log: {level: debug}"
"$TOCSINCTL" db migrate >/dev/null
"$TOCSINCTL" entity import "$T/registry.yaml" >/dev/null
sed -i "/^smtp: {/ s|^smtp: {|smtp: {username: tocsin-relay, password: \"$PASSWORD\", |" "$T/tocsin.yaml"
expect_rc 1 "$TOCSINCTL" db status
expect_grep 'holds smtp.password but is readable by group or others' "$T/last.err"
u=$(service_user)
as_service() {
	setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups -- env HOME="$T" \
	    PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" PGUSER="$PGUSER" "$@"
}

echo "== tocsind as root"
if [ "$(id -u)" -eq 0 ]; then
	chmod 600 "$T/tocsin.yaml"
	expect_rc 1 "$TOCSIND" -c "$T/tocsin.yaml"
	expect_grep 'refusing to run as root' "$T/last.err"
	figure privileges.root_refused yes
else
	echo "  (not root: skipped)"
fi

echo "== a secret-holding config readable by others"
worker_config w1
chown "$u": "$T/w1.yaml"
for mode in 644 640 604; do
	chmod "$mode" "$T/w1.yaml"
	expect_rc 1 as_service "$TOCSIND" -n -c "$T/w1.yaml"
	expect_grep 'holds smtp.password but is readable by group or others' "$T/last.err"
	expect_rc 1 as_service "$TOCSINCTL" -c "$T/w1.yaml" config check
	expect_grep 'holds smtp.password' "$T/last.err"
	expect_no_grep "$PASSWORD" "$T/last.err"
	expect_no_grep "$PASSWORD" "$T/last.out"
done
chown root: "$T/w1.yaml" 2>/dev/null || true
chmod 600 "$T/w1.yaml"
if [ "$(id -u)" -eq 0 ]; then
	expect_rc 1 as_service "$TOCSIND" -n -c "$T/w1.yaml"
	expect_grep 'owned by another user|Permission denied' "$T/last.err"
fi
chown "$u": "$T/w1.yaml"
chmod 600 "$T/w1.yaml"
expect_rc 0 as_service "$TOCSIND" -n -c "$T/w1.yaml"
expect_no_grep "$PASSWORD" "$T/last.out"
figure privileges.world_readable_secret_refused yes

echo "== SMTP AUTH and an encrypted mail: neither password nor content in the log"
own_sink
sink_start -v
start_worker w1
sed "s/\"rdp.voorbeeld-energie.example\"/\"$MARKER\"/" \
    "$SRC/tests/data/feeds/match/2026-11-23-scan_rdp-be-001.csv" >"$T/2026-11-23-scan_rdp-be-001.csv"
grep -q "$MARKER" "$T/2026-11-23-scan_rdp-be-001.csv" || fail "marker not in the feed"
drop "$T/2026-11-23-scan_rdp-be-001.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state='sent'" 2
stop_worker w1
m=$(grep -rlaF 'X-Rcpt-Args: <soc@voorbeeld-energie.example>' "$MAILDIR" | head -1)
[ -n "$m" ] || fail "no mail for the marker's entity"
expect_no_grep "$MARKER" "$m"
read_mail "$m" >"$T/m.json"
expect_grep "$MARKER" <(jq -r .text "$T/m.json")
expect_grep '^auth|AUTH' "$T/sink.log"
expect_grep 'level|debug' "$T/w1.log"
expect_no_grep "$PASSWORD" "$T/w1.log"
expect_no_grep "$(printf '\0tocsin-relay\0%s' "$PASSWORD" | base64)" "$T/w1.log"
expect_no_grep "$MARKER" "$T/w1.log"
expect_no_grep "$PASSWORD" <(sql "SELECT detail::text FROM audit_log")
figure privileges.log_lines "$(wc -l <"$T/w1.log")"
figure privileges.password_in_log 0
figure privileges.confidential_marker_in_log 0

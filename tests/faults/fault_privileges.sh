# Privileges: tocsind refuses to run as root; a config holding
# smtp.password that group or others may read is refused by tocsind and
# tocsinctl, and so is one that would send it without STARTTLS; in a
# debug-level run with STARTTLS, SMTP AUTH and encrypted mail (against
# tests/faults/tls_auth_server.py), the password and a marker from a
# confidential body never reach the log.
setup_keys 1 7
PASSWORD='Pw-7Hq2-zz9-sekret'
MARKER='mrk-4q9z7.voorbeeld-energie.example'
write_config "outbox: {lease: 30s, backoff_base: 1s, backoff_max: 2s}" "log: {level: debug}"
"$TOCSINCTL" db migrate >/dev/null
"$TOCSINCTL" entity import "$T/registry.yaml" >/dev/null
sed -i "/^smtp: {/ s|^smtp: {|smtp: {username: tocsin-relay, password: \"$PASSWORD\", |" "$T/tocsin.yaml"
chmod 600 "$T/tocsin.yaml"
echo "== a password without STARTTLS required"
expect_rc 1 "$TOCSINCTL" config check
expect_grep 'smtp.starttls: must be required when smtp.password is set' <(cat "$T/last.out" "$T/last.err")
chmod 644 "$T/tocsin.yaml"
# A CA and a certificate for 127.0.0.1 for the STARTTLS server.
mkdir -p "$T/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 -subj "/CN=fault CA" \
    -keyout "$T/tls/ca.key" -out "$T/tls/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
    -keyout "$T/tls/server.key" -out "$T/tls/server.csr" 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n' >"$T/tls/ext"
openssl x509 -req -in "$T/tls/server.csr" -CA "$T/tls/ca.pem" -CAkey "$T/tls/ca.key" \
    -CAcreateserial -days 2 -sha256 -extfile "$T/tls/ext" -out "$T/tls/server.pem" 2>/dev/null
chmod 755 "$T/tls"
chmod 644 "$T/tls/ca.pem"
set_smtp starttls required
set_smtp ca_file "$T/tls/ca.pem"
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
python3 "$SRC/tests/faults/tls_auth_server.py" "$SMTP_PORT" "$T/tls/server.pem" \
    "$T/tls/server.key" "$MAILDIR" "$T/smtp-server.log" 2>"$T/smtp-server.err" &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT"
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
expect_grep '^tls=yes AUTH' "$T/smtp-server.log"
expect_no_grep '^tls=no (AUTH|MAIL)' "$T/smtp-server.log"
expect_grep 'tls=yes' "$T/w1.log"
expect_grep 'level|debug' "$T/w1.log"
expect_no_grep "$PASSWORD" "$T/w1.log"
expect_no_grep "$(printf '\0tocsin-relay\0%s' "$PASSWORD" | base64)" "$T/w1.log"
expect_no_grep "$MARKER" "$T/w1.log"
expect_no_grep "$PASSWORD" <(sql "SELECT detail::text FROM audit_log")
figure privileges.log_lines "$(wc -l <"$T/w1.log")"
figure privileges.password_in_log 0
figure privileges.confidential_marker_in_log 0

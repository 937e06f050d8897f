# gpg faults: the service's gpg-agent killed again and again while feeds
# are composed (every mail that leaves is signed and encrypted, or the
# message is held with the reason: never in clear); a recipient key
# deleted from the service keyring, and another one expiring, while their
# messages wait → held at send time, nothing sent.
GPG_KILL_MS=$(size GPG_KILL_MS 20 20)
setup_keys 1 2 3 4 5 6 8 9
G=$RCPT_GNUPGHOME
# Logistics (7): a key that expires EXPIRE_S seconds from now.
EXPIRE_S=45
fpr7=$(GNUPGHOME=$G gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "Short <security@logistics.example>" ed25519 sign,cert "seconds=$EXPIRE_S" 2>/dev/null;
    GNUPGHOME=$G gpg --batch --with-colons --list-keys "Short" | awk -F: '/^fpr:/ {print $10; exit}')
GNUPGHOME=$G gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-add-key "$fpr7" cv25519 encr "seconds=$EXPIRE_S" 2>/dev/null
expires_at=$(( $(date +%s) + EXPIRE_S ))
GNUPGHOME=$G gpg --batch --export "$fpr7" | GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
sed -i "s/\"$FPR_7\"/\"$fpr7\"/" "$T/registry.yaml"
gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null || true
write_config "outbox: {lease: 30s, backoff_base: 1s, backoff_max: 2s, max_attempts: 100}"
"$TOCSINCTL" db migrate >/dev/null
"$TOCSINCTL" entity import "$T/registry.yaml" >/dev/null
own_sink
sink_start
as_service() {
	local u
	u=$(service_user)
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups -- env HOME="$T" "$@"
	else
		"$@"
	fi
}

echo "== gpg-agent killed every ${GPG_KILL_MS} ms while feeds are composed"
start_worker w1
files=(csaf-git.json cve-git.json iocs.txt kev.json leak-creds.txt misp-feed)
(
	while :; do
		as_service gpgconf --homedir "$T/gnupg" --kill gpg-agent >/dev/null 2>&1
		echo kill >>"$T/agent-kills"
		sleep "$(awk -v m="$GPG_KILL_MS" 'BEGIN {printf "%.3f", m / 1000}')"
	done
) &
KILLER=$!
trap 'kill $KILLER 2>/dev/null || true; sink_stop' EXIT
for f in "${files[@]}"; do
	if [ -d "$SRC/tests/data/feeds/match/$f" ]; then
		for g in "$SRC/tests/data/feeds/match/$f"/*; do drop "$g" "$f--$(basename "$g")"; done
	else
		drop "$SRC/tests/data/feeds/match/$f"
	fi
done
nfiles=$(( ${#files[@]} - 1 + $(ls "$SRC/tests/data/feeds/match/misp-feed" | wc -l) ))
wait_for 180 bash -c "[ \$(( \$(ls '$T/spool/done' | wc -l) + \$(ls '$T/spool/failed' | grep -vc '\.error$') )) -ge $nfiles ]"
wait_for 120 sql_is "SELECT count(*) FROM message WHERE state IN ('queued','deferred','sending')" 0
kill $KILLER 2>/dev/null; wait $KILLER 2>/dev/null || true
kills=$(wc -l <"$T/agent-kills")
sent=$(sql "SELECT count(*) FROM message WHERE kind='spear' AND state='sent'")
held=$(sql "SELECT count(*) FROM message WHERE kind='spear' AND state='held'")
echo "  agent killed $kills times; spear messages sent $sent, held $held"
[ "$sent" -gt 0 ] || fail "no spear warning was sent"
expect_eq "mails at the sink" "$(mail_count)" "$sent"
clear=0 bad=0
for m in $(mails); do
	grep -qa '^Content-Type: multipart/encrypted' "$m" || clear=$((clear + 1))
	read_mail "$m" >"$T/m.json" 2>/dev/null || { bad=$((bad + 1)); continue; }
	[ "$(jq -r .signature_valid "$T/m.json")" = true ] || bad=$((bad + 1))
done
expect_eq "mails not encrypted" "$clear" 0
expect_eq "mails that do not decrypt and verify" "$bad" 0
expect_eq "held rows without a reason or with a body" \
    "$(sql "SELECT count(*) FROM message WHERE state='held' AND (held_reason IS NULL OR body IS NOT NULL)")" 0
figure gpg.agent_kills "$kills"
figure gpg.spear_sent_encrypted_signed "$sent"
figure gpg.spear_held "$held"
figure gpg.sent_in_clear "$clear"

echo "== a key deleted and a key expiring while their messages wait"
sink_stop
to_them() { grep -rlaE '^X-Rcpt-Args: <(soc@voorbeeld-energie|security@logistics)\.example>' "$MAILDIR" | wc -l; }
before=$(to_them)
last=$(sql "SELECT coalesce(max(id), 0) FROM message")
drop "$SRC/tests/data/feeds/match/2026-11-23-scan_rdp-be-001.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE id > $last AND recipient IN ('soc@voorbeeld-energie.example','security@logistics.example') AND state='deferred' AND attempts >= 1" 2
as_service gpg --homedir "$T/gnupg" --batch --yes --delete-keys "$FPR_1" 2>/dev/null
wait_ms=$(( (expires_at - $(date +%s) + 2) ))
[ "$wait_ms" -le 0 ] || sleep "$wait_ms"
sink_start
wait_for 60 sql_is "SELECT count(*) FROM message WHERE id > $last AND recipient IN ('soc@voorbeeld-energie.example','security@logistics.example') AND state='held'" 2
expect_grep "$FPR_1" <(sql "SELECT held_reason FROM message WHERE id > $last AND recipient='soc@voorbeeld-energie.example'")
expect_grep "no longer usable" <(sql "SELECT held_reason FROM message WHERE id > $last AND recipient='soc@voorbeeld-energie.example'")
expect_grep "expired" <(sql "SELECT held_reason FROM message WHERE id > $last AND recipient='security@logistics.example'")
sleep 2
expect_eq "nothing sent for them" "$(to_them)" "$before"
figure gpg.key_deleted_while_queued "held"
figure gpg.key_expired_while_queued "held"
stop_worker w1

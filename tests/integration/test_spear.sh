# The daily job, end to end: a Shadowserver file lands in the spool →
# tocsind matches it against the registry → one signed and encrypted spear
# warning per affected entity goes to a real SMTP server → each mail is
# decrypted with its recipient's key and its signature verified with the
# CSIRT's, as the recipient would.  Each entity gets exactly its own hosts,
# in its contact's language; a contact without a usable key is held, never
# mailed in clear; the same file again sends nothing; a malformed file goes
# to failed/ with its reason and the next one is still processed; a
# registry change reaches the running daemon.
D=$SRC/tests/data/feeds/match
# Every contact has a key, but the service keyring lacks Logistics' (7).
setup_keys 1 2 3 4 5 6 8 9
write_config "outbox: {backoff_base: 1s, backoff_max: 2s, lease: 30s}"
$TOCSINCTL db migrate >/dev/null
$TOCSINCTL entity import "$T/registry.yaml" >/dev/null
start_tocsind

echo "== a Shadowserver report for five entities"
drop "$D/2026-11-23-scan_rdp-be-001.csv"
wait_for 60 test -e "$T/spool/done/2026-11-23-scan_rdp-be-001.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state IN ('sent','held')" 5
wait_for 30 mails_are 4
expect_eq "messages sent" "$(sql "SELECT count(*) FROM message WHERE state='sent'")" 4
expect_eq "held" "$(sql "SELECT recipient FROM message WHERE state='held'")" \
    security@logistics.example
expect_grep "no key with fingerprint $FPR_7" <(sql "SELECT held_reason FROM message WHERE state='held'")
expect_eq "held body" "$(sql "SELECT count(*) FROM message WHERE state='held' AND body IS NULL")" 1
expect_eq "stored encrypted" "$(sql "SELECT count(*) FROM message WHERE state='sent' AND NOT encrypted")" 0
expect_eq "one reference per warning" "$(sql "SELECT count(DISTINCT reference) FROM message")" 5
expect_grep '^TEST-EWS-[0-9]{4}-[0-9]{6}$' <(sql "SELECT reference FROM message LIMIT 1")

# who → which hosts, which language (a word of its template)
declare -A HOSTS=(
	[soc@voorbeeld-energie.example]="192.0.2.10 2001:db8:10::5"
	[it-sicherheit@kundenbetrieb.example]="198.51.100.130"
	[cert@reseau-exemple.example]="198.51.100.10 198.51.100.130"
	[securite@hopital.example]="203.0.113.70"
)
declare -A LANGWORD=(
	[soc@voorbeeld-energie.example]="Geachte|Beste|u "
	[it-sicherheit@kundenbetrieb.example]="Sie|Ihre"
	[cert@reseau-exemple.example]="Vous|vous|votre"
	[securite@hopital.example]="Vous|vous|votre"
)
declare -A DIGIT=(
	[soc@voorbeeld-energie.example]=1 [it-sicherheit@kundenbetrieb.example]=4
	[cert@reseau-exemple.example]=3 [securite@hopital.example]=6
)
ALL_HOSTS="192.0.2.10 2001:db8:10::5 198.51.100.130 198.51.100.10 203.0.113.70 203.0.113.200"
seen=""
for m in $(mails); do
	read_mail "$m" >"$T/m.json" || fail "$m unreadable"
	to=$(jq -r '.outer.To' "$T/m.json" | sed 's/.*<\(.*\)>.*/\1/')
	echo "-- mail to $to"
	[ -n "${HOSTS[$to]:-}" ] || fail "mail to unexpected recipient $to"
	case " $seen " in *" $to "*) fail "$to got two mails" ;; esac
	seen="$seen $to"
	expect_eq "encrypted" "$(jq -r .encrypted "$T/m.json")" true
	expect_eq "decrypted with the recipient's own key" \
	    "$(jq -r '.decrypted_for | join(",")' "$T/m.json")" "$(eval echo \$FPR_${DIGIT[$to]})"
	expect_eq "signature valid" "$(jq -r .signature_valid "$T/m.json")" true
	expect_eq "signer" "$(jq -r .signer "$T/m.json")" "$CSIRT_FPR"
	expect_eq "errors" "$(jq -r '.errors | length' "$T/m.json")" 0
	expect_grep '^\[TLP:AMBER\+STRICT\] \[TEST-EWS-[0-9]{4}-[0-9]{6}\] \[\.\.\.\]$' <(jq -r .outer.Subject "$T/m.json")
	expect_grep '^\[TLP:AMBER\+STRICT\] \[TEST-EWS-[0-9]{4}-[0-9]{6}\] .+' <(jq -r .protected.Subject "$T/m.json")
	expect_eq "Auto-Submitted" "$(jq -r '.outer["Auto-Submitted"]' "$T/m.json")" auto-generated
	expect_eq "text starts with the label" "$(jq -r .text "$T/m.json" | head -1)" "TLP:AMBER+STRICT"
	jq -r .text "$T/m.json" >"$T/m.txt"
	jq -r .html "$T/m.json" >"$T/m.html"
	expect_grep "${LANGWORD[$to]}" "$T/m.txt"
	ref=$(jq -r .outer.Subject "$T/m.json" | grep -Eo 'TEST-EWS-[0-9]{4}-[0-9]{6}')
	expect_grep "$ref" "$T/m.txt"
	expect_grep "$ref" "$T/m.html"
	for h in ${HOSTS[$to]}; do
		expect_grep "$h" "$T/m.txt"
		expect_grep "$h" "$T/m.html"
	done
	# Nobody else's hosts: data minimisation.
	for h in $ALL_HOSTS; do
		case " ${HOSTS[$to]} " in *" $h "*) continue ;; esac
		expect_no_grep "$h([^0-9]|$)" "$T/m.txt"
	done
	# No clear text on the wire.
	expect_no_grep "${HOSTS[$to]%% *}" "$m"
done
expect_eq "recipients" "$(echo $seen | wc -w)" 4
expect_no_grep 'logistics' <(cat $(mails))

echo "== the audit log has every message"
expect_eq "audit rows for messages" \
    "$(sql "SELECT count(*) FROM audit_log WHERE action IN ('message.queued','message.held')")" 5
expect_eq "audit rows for sends" "$(sql "SELECT count(*) FROM audit_log WHERE action='message.sent'")" 4
expect_eq "feed audit" "$(sql "SELECT detail->>'warnings' FROM audit_log WHERE action='feed.processed'")" 5

echo "== the same findings again: nothing new is sent"
drop "$D/2026-11-23-scan_rdp-be-001.csv" 2026-11-24-scan_rdp-be-001.csv
wait_for 60 test -e "$T/spool/done/2026-11-24-scan_rdp-be-001.csv"
sleep 2
expect_eq "messages" "$(sql 'SELECT count(*) FROM message')" 5
expect_eq "mails" "$(mail_count)" 4
expect_eq "sightings seen twice" \
    "$(sql "SELECT count(*) FROM sighting WHERE last_notified IS NOT NULL")" 7

echo "== a malformed file fails with its reason; the next one is processed"
printf '{"not": "a feed"' >"$T/broken.json"
drop "$T/broken.json"
cat >"$T/2026-11-25-scan_rdp-be-002.csv" <<CSV
"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"
"2026-11-25 01:02:03","medium","203.0.113.10","tcp",3389,,"rdp",64503,"BE"
CSV
drop "$T/2026-11-25-scan_rdp-be-002.csv"
wait_for 60 test -e "$T/spool/failed/broken.json"
expect_grep 'broken.json' "$T/spool/failed/broken.json.error"
wait_for 60 test -e "$T/spool/done/2026-11-25-scan_rdp-be-002.csv"
wait_for 30 mails_are 5
new=$(mails | tail -1)
read_mail "$new" >"$T/n.json"
expect_eq "new mail to Stad Voorbeeld" "$(jq -r .outer.To "$T/n.json")" informatieveiligheid@stad.example
expect_grep '203\.0\.113\.10' <(jq -r .text "$T/n.json")

echo "== a registry change reaches the running daemon"
# Logistics gets 192.0.2.200/29 (outside Voorbeeld's /25); its key is
# still missing, so the new finding is held for it.
sed 's|      - ipv4: 203.0.113.128/25|      - ipv4: 203.0.113.128/25\n      - ipv4: 192.0.2.200/29|' \
    "$T/registry.yaml" >"$T/registry2.yaml"
$TOCSINCTL entity import "$T/registry2.yaml" >/dev/null
wait_for 30 grep -q 'result=index_swapped entities=6 assets=22' "$T/tocsind.log"
cat >"$T/2026-11-26-scan_rdp-be-003.csv" <<CSV
"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"
"2026-11-26 01:02:03","medium","192.0.2.201","tcp",3389,,"rdp",64503,"BE"
CSV
drop "$T/2026-11-26-scan_rdp-be-003.csv"
wait_for 60 test -e "$T/spool/done/2026-11-26-scan_rdp-be-003.csv"
wait_for 30 sql_is "SELECT count(*) FROM message WHERE recipient='security@logistics.example' AND state='held'" 2
expect_eq "mails" "$(mail_count)" 5

echo "== 60 findings: 50 listed in the body, all 60 in a CSV inside the encryption"
{
	echo '"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"'
	for i in $(seq 20 79); do
		echo "\"2026-11-26 03:00:00\",\"medium\",\"192.0.2.$i\",\"tcp\",3389,,\"rdp\",64501,\"BE\""
	done
} >"$T/2026-11-26-scan_rdp-be-big.csv"
before=$(mail_count)
drop "$T/2026-11-26-scan_rdp-be-big.csv"
wait_for 60 mails_are $((before + 1))
read_mail "$(mails | tail -1)" >"$T/big.json"
expect_eq "to" "$(jq -r .outer.To "$T/big.json" | grep -o 'soc@voorbeeld-energie.example')" soc@voorbeeld-energie.example
expect_eq "attachment" "$(jq -r '.attachments[0].filename' "$T/big.json")" findings.csv
expect_eq "CSV rows" "$(jq -r '.attachments[0].content' "$T/big.json" | grep -c '^192\.0\.2\.')" 60
expect_grep '192\.0\.2\.79' <(jq -r '.attachments[0].content' "$T/big.json")
expect_eq "listed in the body" "$(jq -r .text "$T/big.json" | grep -cE '^\* 192\.0\.2\.')" 50
expect_no_grep 'findings.csv|192\.0\.2\.2[0-9]' "$(mails | tail -1)"

echo "== tocsinctl feed import, by an analyst, through the same code"
analyst tc-analyst1
cat >"$T/hand.csv" <<CSV
"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"
"2026-11-26 02:02:03","medium","203.0.113.11","tcp",3389,,"rdp",64503,"BE"
CSV
chmod 644 "$T/hand.csv"
expect_rc 0 as_analyst tc-analyst1 $TOCSINCTL -c "$T/tocsin.yaml" feed import "$T/hand.csv"
expect_grep 'spooled as .*/incoming/hand.csv' "$T/last.out"
wait_for 60 test -e "$T/spool/done/hand.csv"
wait_for 30 mails_are 7
read_mail "$(mails | tail -1)" >"$T/h.json"
expect_grep '203\.0\.113\.11' <(jq -r .text "$T/h.json")
expect_rc 1 as_analyst tc-analyst1 $TOCSINCTL -c "$T/tocsin.yaml" feed import "$T/nope.csv"
expect_grep 'nope.csv' "$T/last.err"
expect_rc 1 as_analyst tc-analyst1 $TOCSINCTL -c "$T/tocsin.yaml" feed import --feed nosuch "$T/hand.csv"
expect_grep 'feed "nosuch" is not declared' "$T/last.err"
expect_rc 2 $TOCSINCTL feed import

echo "== SIGHUP: a bad configuration is refused and the old one stays"
cp "$T/tocsin.yaml" "$T/tocsin.yaml.good"
echo "smtp: {port: not-a-port}" >>"$T/tocsin.yaml"
kill -HUP "$(cat "$T/tocsind.pid")"
wait_for 30 grep -q 'result=reload_refused' "$T/tocsind.log"
echo "== SIGHUP: a good one is taken (new reference prefix, templates reloaded)"
sed 's/reference_prefix: TEST-EWS/reference_prefix: HUP-EWS/' "$T/tocsin.yaml.good" >"$T/tocsin.yaml"
kill -HUP "$(cat "$T/tocsind.pid")"
wait_for 30 grep -q 'result=reloaded generation=1' "$T/tocsind.log"
cat >"$T/2026-11-30-scan_rdp-be-007.csv" <<CSV
"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"
"2026-11-30 01:02:03","medium","203.0.113.12","tcp",3389,,"rdp",64503,"BE"
CSV
before=$(mail_count)
drop "$T/2026-11-30-scan_rdp-be-007.csv"
wait_for 60 mails_are $((before + 1))
expect_grep '^\[TLP:AMBER\+STRICT\] \[HUP-EWS-[0-9]{4}-[0-9]{6}\]' <(read_mail "$(mails | tail -1)" | jq -r .outer.Subject)

echo "== gpg ran in tocsind's helpers (gpg.helpers: true by default)"
helpers=$(pgrep -P "$TOCSIND_PID" -f -- '--gpg-helper' | wc -l)
[ "$helpers" -ge 1 ] && [ "$helpers" -le 2 ] || fail "tocsind has $helpers gpg helpers, want 1 or 2 (gpg.workers)"
helper_pids=$(pgrep -P "$TOCSIND_PID" -f -- '--gpg-helper')

echo "== SIGTERM: a clean stop"
stop_tocsind
for p in $helper_pids; do
	kill -0 "$p" 2>/dev/null && fail "gpg helper $p still runs after tocsind stopped"
done
expect_grep 'result=stopped' "$T/tocsind.log"
expect_no_grep 'result=unclean' "$T/tocsind.log"
expect_eq "nothing left sending" "$(sql "SELECT count(*) FROM message WHERE state='sending'")" 0

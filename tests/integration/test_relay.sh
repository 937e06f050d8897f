# Relay digests, end to end: feed files whose findings carry different TLP
# labels (Shadowserver files get their feed's default_tlp, MISP events
# carry their own) reach entities of the energy, health and transport
# sectors → spear warnings → `tocsinctl relay run` → one digest per sector
# authority, decrypted with the authority's own key: only the entities of
# its sectors, counts per entity and category, indicators for GREEN and
# AMBER items only (and GREEN only for the Health authority, cleared
# GREEN), TLP:AMBER+STRICT and TLP:RED items counted with no indicator
# anywhere in the mail.  The same period again sends nothing; an authority
# without a usable key is held; bad periods are refused.
setup_keys
# The control socket admits the analysts' group only (root is not in it):
# daemon commands run as the service user, as an analyst would.
ctl() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$(service_user)" -- env TOCSIN_CONFIG="$TOCSIN_CONFIG" \
		    "$TOCSINCTL" "$@"
	else
		"$TOCSINCTL" "$@"
	fi
}
# A third authority, for transport, whose pinned key the service keyring
# does not have.
NOKEY=ABCDEF0123456789ABCDEF0123456789ABCDEF01
cat >>"$T/registry.yaml" <<YAML
  - {name: Transport Sector Authority, sectors: [transport], email: cyber@transport-authority.example,
     pgp_fingerprint: "$NOKEY", language: en}
YAML
# gpg in tocsind itself here (gpg.helpers: false): that path stays tested
# end to end too.
GPG_HELPERS=false write_config "outbox: {backoff_base: 1s, backoff_max: 2s, lease: 30s}" \
    "feeds: [{name: ssgreen, format: shadowserver, default_tlp: GREEN}, {name: ssamber, format: shadowserver, default_tlp: AMBER}, {name: misp, format: misp, default_tlp: RED}]"
$TOCSINCTL db migrate >/dev/null
$TOCSINCTL entity import "$T/registry.yaml" >/dev/null
SINCE=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
start_tocsind

echo "== at start-up the last scheduled period is caught up: nothing to report"
wait_for 30 sql_is "SELECT count(*) FROM relay_run WHERE state='empty' AND actor='tocsind'" 3
expect_grep 'authority="Energy Sector Authority".*result=empty \(nothing to report: no mail\)' "$T/tocsind.log"
expect_eq "messages" "$(sql 'SELECT count(*) FROM message')" 0

echo "== findings with four labels for energy, health and transport entities"
HDR='"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo"'
# GREEN (feed default): Voorbeeld (energy), Hôpital (health), Logistics (transport)
cat >"$T/ssgreen--2026-12-01-scan_rdp-be-001.csv" <<CSV
$HDR
"2026-12-01 01:02:03","medium","192.0.2.10","tcp",3389,,"rdp",64501,"BE"
"2026-12-01 01:02:04","medium","203.0.113.70","tcp",3389,,"rdp",64502,"BE"
"2026-12-01 01:02:05","medium","203.0.113.130","tcp",3389,,"rdp",64503,"BE"
CSV
# AMBER (feed default)
cat >"$T/ssamber--2026-12-01-scan_rdp-be-002.csv" <<CSV
$HDR
"2026-12-01 02:02:03","medium","192.0.2.20","tcp",3389,,"rdp",64501,"BE"
"2026-12-01 02:02:04","medium","203.0.113.75","tcp",3389,,"rdp",64502,"BE"
CSV
# RED and AMBER+STRICT: the events' own labels
misp_event() { # LABEL IP...
	local label=$1 sep='' ip
	shift
	printf '{"Event": {"info": "C2", "threat_level_id": "1", "date": "2026-12-01",\n'
	printf '  "Tag": [{"name": "tlp:%s"}], "Attribute": [' "$label"
	for ip in "$@"; do
		printf '%s\n    {"type": "ip-dst", "value": "%s", "to_ids": true, "category": "Network activity"}' "$sep" "$ip"
		sep=,
	done
	printf ']}}\n'
}
misp_event red 192.0.2.30 203.0.113.80 >"$T/misp--red-event.json"
misp_event amber+strict 192.0.2.40 203.0.113.85 >"$T/misp--strict-event.json"
for f in ssgreen--2026-12-01-scan_rdp-be-001.csv ssamber--2026-12-01-scan_rdp-be-002.csv \
    misp--red-event.json misp--strict-event.json; do
	drop "$T/$f"
	wait_for 60 test -e "$T/spool/done/$f"
done
# 3 + 2 + 2 + 2 spear warnings, every one sent.
wait_for 60 sql_is "SELECT count(*) FROM message WHERE kind='spear' AND state='sent'" 9
expect_eq "sighting labels" \
    "$(sql "SELECT string_agg(indicator || '=' || tlp, ' ' ORDER BY indicator) FROM sighting")" \
    "192.0.2.10=GREEN 192.0.2.20=AMBER 192.0.2.30=RED 192.0.2.40=AMBER+STRICT 203.0.113.130=GREEN 203.0.113.70=GREEN 203.0.113.75=AMBER 203.0.113.80=RED 203.0.113.85=AMBER+STRICT"
SPEAR_MAILS=$(mail_count)
expect_eq "spear mails" "$SPEAR_MAILS" 9
sleep 1.2 # every notification is strictly before UNTIL
UNTIL=$(date -u +%Y-%m-%dT%H:%M:%SZ)

echo "== relay run: bad periods are refused"
expect_rc 2 ctl relay run --since yesterday
expect_grep 'is not a UTC time' "$T/last.err"
expect_rc 2 ctl relay run --until
expect_rc 2 ctl relay run --bogus
expect_rc 1 ctl relay run --since "$UNTIL" --until "$SINCE"
expect_grep 'since must be before until' "$T/last.err"
expect_rc 1 ctl relay run --until "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect_grep 'until is in the future' "$T/last.err"
expect_rc 1 ctl relay run --since 2020-01-01
expect_grep 'longer than 366 days' "$T/last.err"
expect_eq "no run recorded by a refusal" "$(sql "SELECT count(*) FROM relay_run WHERE actor <> 'tocsind'")" 0

echo "== relay run for the period of the findings"
expect_rc 0 ctl --json relay run --since "$SINCE" --until "$UNTIL"
cp "$T/last.out" "$T/run1.json"
expect_eq "digests" "$(jq -r .digests "$T/run1.json")" 3
expect_eq "results" "$(jq -r '[.authorities[] | .authority + "=" + .result] | join(",")' "$T/run1.json")" \
    "Energy Sector Authority=queued,Health Sector Authority=queued,Transport Sector Authority=held"
expect_eq "counts (items withheld)" \
    "$(jq -r '[.authorities[] | "\(.items)/\(.withheld)"] | join(",")' "$T/run1.json")" "4/2,4/3,1/0"
expect_eq "labels" "$(jq -r '[.authorities[] | .label] | join(",")' "$T/run1.json")" \
    "TLP:AMBER,TLP:GREEN,TLP:GREEN"
expect_grep 'no key with fingerprint '"$NOKEY" <(jq -r '.authorities[2].held_reason' "$T/run1.json")
wait_for 60 sql_is "SELECT count(*) FROM message WHERE kind='relay' AND state='sent'" 2
wait_for 30 mails_are $((SPEAR_MAILS + 2))
expect_eq "held digest" \
    "$(sql "SELECT recipient || ' ' || state || ' ' || encrypted || ' ' || (body IS NULL) FROM message WHERE kind='relay' AND state <> 'sent'")" \
    "cyber@transport-authority.example held true true"
expect_eq "relay messages name their authority" \
    "$(sql "SELECT count(*) FROM message m JOIN sector_authority a ON a.id = m.authority_id AND a.email = m.recipient WHERE m.kind='relay'")" 3
expect_eq "stored encrypted" "$(sql "SELECT count(*) FROM message WHERE kind='relay' AND NOT encrypted")" 0
expect_eq "relay_run rows" \
    "$(sql "SELECT string_agg(state || ':' || items || ':' || withheld || ':' || (reference IS NOT NULL), ' ' ORDER BY authority_id) FROM relay_run WHERE actor <> 'tocsind'")" \
    "queued:4:2:true queued:4:3:true held:1:0:true"
expect_eq "audit rows" "$(sql "SELECT count(*) FROM audit_log WHERE action='relay.digest' AND actor <> 'tocsind'")" 3
expect_eq "relay.run audited" "$(sql "SELECT count(*) FROM audit_log WHERE action='relay.run'")" 1

# What each authority may and may not see.  Withheld: AMBER+STRICT and RED
# always; AMBER too for Health (cleared GREEN).
declare -A SHOWN=(
	[cyber@energy-authority.example]="192.0.2.10 192.0.2.20"
	[cyber@health-authority.example]="203.0.113.70"
)
declare -A WITHHELD=(
	[cyber@energy-authority.example]="192.0.2.30 192.0.2.40"
	[cyber@health-authority.example]="203.0.113.75 203.0.113.80 203.0.113.85"
)
declare -A ENTITY=(
	[cyber@energy-authority.example]="Voorbeeld Energie NV"
	[cyber@health-authority.example]="Hôpital Exemple"
)
declare -A LABEL=(
	[cyber@energy-authority.example]="TLP:AMBER"
	[cyber@health-authority.example]="TLP:GREEN"
)
declare -A DIGIT=([cyber@energy-authority.example]=8 [cyber@health-authority.example]=9)
OTHERS="203.0.113.130 Logistics"
seen=""
for m in $(mails | tail -2); do
	read_mail "$m" >"$T/m.json" || fail "$m unreadable"
	to=$(jq -r '.outer.To' "$T/m.json" | sed 's/.*<\(.*\)>.*/\1/')
	echo "-- digest to $to"
	[ -n "${SHOWN[$to]:-}" ] || fail "digest to unexpected recipient $to"
	case " $seen " in *" $to "*) fail "$to got two digests" ;; esac
	seen="$seen $to"
	expect_eq "encrypted" "$(jq -r .encrypted "$T/m.json")" true
	expect_eq "decrypted with the authority's own key" \
	    "$(jq -r '.decrypted_for | join(",")' "$T/m.json")" "$(eval echo \$FPR_${DIGIT[$to]})"
	expect_eq "signature valid" "$(jq -r .signature_valid "$T/m.json")" true
	expect_eq "signer" "$(jq -r .signer "$T/m.json")" "$CSIRT_FPR"
	expect_eq "errors" "$(jq -r '.errors | length' "$T/m.json")" 0
	label=${LABEL[$to]}
	expect_grep "^\\[${label//+/\\+}\\] \\[TEST-EWS-[0-9]{4}-[0-9]{6}\\] \\[\\.\\.\\.\\]\$" <(jq -r .outer.Subject "$T/m.json")
	expect_grep "^\\[${label//+/\\+}\\] \\[TEST-EWS-[0-9]{4}-[0-9]{6}\\] .+" <(jq -r .protected.Subject "$T/m.json")
	expect_eq "text starts with the label" "$(jq -r .text "$T/m.json" | head -1)" "$label"
	jq -r .text "$T/m.json" >"$T/m.txt"
	jq -r .html "$T/m.json" >"$T/m.html"
	ref=$(jq -r .outer.Subject "$T/m.json" | grep -Eo 'TEST-EWS-[0-9]{4}-[0-9]{6}')
	expect_eq "reference recorded" "$(sql "SELECT count(*) FROM relay_run WHERE reference='$ref'")" 1
	for f in "$T/m.txt" "$T/m.html"; do
		expect_grep "$ref" "$f"
		expect_grep "${ENTITY[$to]//ô/(ô|&ocirc;|&#244;)}" "$f"
		for ip in ${SHOWN[$to]}; do
			expect_grep "${ip//./\\.}([^0-9]|\$)" "$f"
		done
		for ip in ${WITHHELD[$to]} $OTHERS; do
			expect_no_grep "${ip//./\\.}([^0-9]|\$)" "$f"
		done
		# Counted, with their labels.
		expect_grep 'TLP:RED' "$f"
		expect_grep 'TLP:AMBER\+STRICT' "$f"
	done
	# Other sectors' entities are not named.
	for e in "Voorbeeld Energie" "Hôpital" "Logistics" "Réseau" "Kundenbetrieb" "Stad Voorbeeld"; do
		[ "$e" = "${ENTITY[$to]%% *}" ] && continue
		case "${ENTITY[$to]}" in "$e"*) continue ;; esac
		expect_no_grep "$e" "$T/m.txt"
	done
	# Nothing in clear on the wire.
	for ip in ${SHOWN[$to]} ${WITHHELD[$to]}; do
		expect_no_grep "${ip//./\\.}([^0-9]|\$)" "$m"
	done
done
expect_eq "authorities mailed" "$(echo $seen | wc -w)" 2
# Health is cleared GREEN: the AMBER item is counted, not described.
jq -r .text <(read_mail "$(mails | xargs grep -l 'cyber@health-authority.example' | tail -1)") >"$T/h.txt"
expect_grep 'TLP:AMBER([^+]|$)' "$T/h.txt"

echo "== the same period again: nothing is sent"
expect_rc 0 ctl --json relay run --since "$SINCE" --until "$UNTIL"
expect_eq "digests" "$(jq -r .digests "$T/last.out")" 0
expect_eq "results" "$(jq -r '[.authorities[].result] | join(",")' "$T/last.out")" "done_before,done_before,done_before"
expect_rc 0 ctl relay run --since "$SINCE" --until "$UNTIL"
expect_grep '^Energy Sector Authority <cyber@energy-authority.example>: done_before$' "$T/last.out"
sleep 2
expect_eq "relay messages" "$(sql "SELECT count(*) FROM message WHERE kind='relay'")" 3
expect_eq "mails" "$(mail_count)" $((SPEAR_MAILS + 2))

echo "== two runs of one period at once (two pool jobs, two connections): one digest"
cat >"$T/ssgreen--2026-12-02-scan_rdp-be-003.csv" <<CSV
$HDR
"2026-12-02 01:02:03","medium","192.0.2.50","tcp",3389,,"rdp",64501,"BE"
CSV
drop "$T/ssgreen--2026-12-02-scan_rdp-be-003.csv"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE kind='spear' AND state='sent'" 10
sleep 1.2
UNTIL2=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ctl --json relay run --since "$UNTIL" --until "$UNTIL2" >"$T/c1.json" 2>&1 &
p1=$!
ctl --json relay run --since "$UNTIL" --until "$UNTIL2" >"$T/c2.json" 2>&1 &
p2=$!
wait $p1 || fail "first concurrent run: $(cat "$T/c1.json")"
wait $p2 || fail "second concurrent run: $(cat "$T/c2.json")"
expect_eq "digests of both runs" "$(( $(jq -r .digests "$T/c1.json") + $(jq -r .digests "$T/c2.json") ))" 1
expect_eq "energy results" \
    "$(jq -r '.authorities[0].result' "$T/c1.json" "$T/c2.json" | sort | tr '\n' ' ')" "done_before queued "
expect_eq "rows for the period" "$(sql "SELECT count(*) FROM relay_run WHERE period_to = '$UNTIL2'")" 3
wait_for 30 mails_are $((SPEAR_MAILS + 4))
read_mail "$(mails | tail -1)" >"$T/c.json"
expect_eq "to the Energy authority" "$(jq -r .outer.To "$T/c.json" | sed 's/.*<\(.*\)>.*/\1/')" cyber@energy-authority.example
expect_grep '192\.0\.2\.50' <(jq -r .text "$T/c.json")
# The earlier period's findings are not in it.
expect_no_grep '192\.0\.2\.(10|20)([^0-9]|$)' <(jq -r .text "$T/c.json")

echo "== a period with nothing notified: no mail"
expect_rc 0 ctl relay run --since 2026-01-01 --until 2026-01-02
expect_grep '^Health Sector Authority <cyber@health-authority.example>: empty$' "$T/last.out"
expect_eq "relay messages" "$(sql "SELECT count(*) FROM message WHERE kind='relay'")" 4

echo "== tocsind not running"
expect_eq "no gpg helpers with gpg.helpers: false" \
    "$(pgrep -P "$TOCSIND_PID" -f -- '--gpg-helper' | wc -l)" 0
stop_tocsind
expect_grep 'result=stopped' "$T/tocsind.log"
expect_no_grep 'result=unclean' "$T/tocsind.log"
expect_rc 1 ctl relay run
expect_grep 'not running' "$T/last.err"

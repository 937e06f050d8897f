# Bad input through the spool of a running tocsind: header injection in
# the text fields of three feed formats, an overlong line, invalid UTF-8,
# deeply nested JSON, a huge field, binary junk and an empty file.  Each
# gives a clear error in failed/<name>.error or a record-level skip; no
# mail carries an injected header; tocsind stays up and a good file dropped
# after them all goes through.  (The coverage-guided part is `make fuzz`;
# its figures are in RESULTS.md.)
setup_keys
write_config "outbox: {lease: 30s, backoff_base: 1s, backoff_max: 2s}"
"$TOCSINCTL" db migrate >/dev/null
"$TOCSINCTL" entity import "$T/registry.yaml" >/dev/null
own_sink
sink_start
start_worker w1
I=$'\r\nBcc: attacker@evil.example\r\nSubject: pwned'
H='"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sector","rdp_protocol"'
d=$T/in
mkdir -p "$d"
# 1. Shadowserver: every free-text column carries an injection.
printf '%s\r\n"2026-11-25 01:02:03","medium","192.0.2.10","tcp",3389,"h.example%s","rdp",64501,"BE","Antw%s","Antw%s",,"s%s","RDP%s"\r\n' \
    "$H" "$I" "$I" "$I" "$I" "$I" >"$d/2026-11-25-scan_rdp-be-inj.csv"
# 2. KEV: the names and notes carry one.
python3 - "$I" >"$d/kev-inj.json" <<'PY'
import json, sys
i = sys.argv[1]
print(json.dumps({"title": "t" + i, "catalogVersion": "1", "count": 1, "vulnerabilities": [
    {"cveID": "CVE-2024-3400", "vendorProject": "Palo Alto" + i, "product": "PAN-OS",
     "vulnerabilityName": "PAN-OS" + i, "dateAdded": "2024-04-12", "dueDate": "2024-04-19",
     "notes": "n" + i, "shortDescription": "d" + i}]}))
PY
# 3. IOC list: a comment with one.
printf 'hxxps://www[.]Voorbeeld-Energie.example/login2\tkit%s\n' "$I" >"$d/iocs-inj.txt"
# 4. An overlong line (20 MiB) between two rows.
{ echo "$H"; head -c $((20 * 1048576)) /dev/zero | tr '\0' a; echo
  echo '"2026-11-25 01:02:04","medium","10.9.9.9","tcp",3389,,"rdp",64999,"BE","","",,,"RDP"'; } >"$d/2026-11-25-scan_rdp-be-long.csv"
# 5. Invalid UTF-8 in a field of a row that hits an entity.
printf '%s\n"2026-11-25 01:02:05","medium","203.0.113.200","tcp",3389,"\xff\xfe\xc3(.example","rdp",64503,"BE","\xed\xa0\x80","C",,,"RDP"\n' \
    "$H" >"$d/2026-11-25-scan_rdp-be-utf8.csv"
# 6. Deeply nested JSON.
python3 -c 'import sys; sys.stdout.write("{\"type\":\"bundle\",\"objects\":" + "[" * 200000 + "]" * 200000 + "}")' >"$d/nested-stix.json"
python3 -c 'import sys; sys.stdout.write("{\"response\":" + "[" * 200000 + "]" * 200000 + "}")' >"$d/nested-misp.json"
# 7. A huge quoted field (8 MiB).
{ echo "$H"; printf '"2026-11-25 01:02:06","medium","10.9.9.8","tcp",3389,"'; head -c $((8 * 1048576)) /dev/zero | tr '\0' b
  echo '","rdp",64999,"BE","","",,,"RDP"'; } >"$d/2026-11-25-scan_rdp-be-huge.csv"
# 8. Binary junk and an empty file.
head -c 2097152 /dev/urandom >"$d/junk.bin"
: >"$d/empty.csv"
bad=(2026-11-25-scan_rdp-be-inj.csv kev-inj.json iocs-inj.txt 2026-11-25-scan_rdp-be-long.csv
     2026-11-25-scan_rdp-be-utf8.csv nested-stix.json nested-misp.json 2026-11-25-scan_rdp-be-huge.csv
     junk.bin empty.csv)
for f in "${bad[@]}"; do drop "$d/$f"; done
# Last, a good file (its other findings are new).
drop "$SRC/tests/data/feeds/match/2026-11-23-scan_rdp-be-001.csv" zz-good.csv
nfiles=$(( ${#bad[@]} + 1 ))
outcomes() { echo $(( $(ls "$T/spool/done" | wc -l) + $(ls "$T/spool/failed" | grep -vc '\.error$') )); }
wait_for 300 bash -c "[ \$(( \$(ls '$T/spool/done' | wc -l) + \$(ls '$T/spool/failed' | grep -vc '\.error\$') )) -ge $nfiles ]"
worker_alive w1 || fail "tocsind died"
ctl w1 status >/dev/null || fail "tocsind does not answer"
echo "== outcome per file"
for f in "${bad[@]}" zz-good.csv; do
	if [ -e "$T/spool/failed/$f" ]; then
		[ -s "$T/spool/failed/$f.error" ] || fail "$f failed without a reason"
		why=$(head -c 160 "$T/spool/failed/$f.error" | head -1)
		echo "  $f: failed: $why"
		figure "input.$f" "failed"
	elif [ -e "$T/spool/done/$f" ]; then
		sk=$(grep -a "file=$f .*result=processed" "$T/w1.log" | grep -o 'skipped=[0-9]*' | head -1)
		echo "  $f: done ($sk)"
		figure "input.$f" "done,${sk:-skipped=?}"
	else
		fail "$f neither in done/ nor in failed/"
	fi
done
[ -e "$T/spool/done/zz-good.csv" ] || fail "the good file did not go through"
for f in junk.bin nested-stix.json nested-misp.json; do
	[ -e "$T/spool/failed/$f" ] || fail "$f was not refused"
done
wait_for 120 sql_is "SELECT count(*) FROM message WHERE state IN ('queued','deferred','sending')" 0
sleep 1
n=$(mail_count)
echo "== $n mails: no injected header, one recipient each"
[ "$n" -gt 0 ] || fail "no mail at all"
expect_eq "mails as sent" "$n" "$(sql "SELECT count(*) FROM message WHERE state='sent'")"
for m in $(mails); do
	grep -qa '^Bcc:' "$m" && fail "Bcc header in $m"
	grep -qa 'attacker@evil' "$m" && fail "injected address in clear in $m"
	[ "$(grep -ca '^X-Rcpt-Args' "$m")" = 1 ] || fail "not one envelope recipient in $m"
	read_mail "$m" >"$T/m.json" || fail "$m does not decrypt"
	[ "$(jq -r .signature_valid "$T/m.json")" = true ] || fail "bad signature in $m"
	[ "$(jq -r '.outer.Bcc // "none"' "$T/m.json")" = none ] || fail "outer Bcc in $m"
	[ "$(jq -r '.protected.Bcc // "none"' "$T/m.json")" = none ] || fail "protected Bcc in $m"
	[ "$(jq -r .protected.Subject "$T/m.json" | wc -l)" = 1 ] || fail "subject split in $m"
done
echo "  ok: $n mails checked"
inj=$(for m in $(mails); do read_mail "$m" | jq -r .text; done | grep -c 'attacker@evil.example' || true)
echo "  injections kept as text inside the encrypted bodies: $inj"
figure input.mails_checked "$n"
figure input.injected_headers 0
expect_no_grep 'result=stopped' "$T/w1.log"

# tocsinctl match: every feed family against the sample registry, checked
# hit by hit against expected JSON lines (tests/data/feeds/match/*.expected);
# malformed records reported with file:line and skipped; the password of a
# credential list never printed; nothing written to the database.
write_config
$TOCSINCTL db migrate >/dev/null
$TOCSINCTL entity import "$SRC/tests/data/registry.yaml" >/dev/null
D=$SRC/tests/data/feeds/match
before=$(sql 'SELECT count(*) FROM audit_log')
cd "$D"
for f in 2026-11-23-scan_rdp-be-001.csv iocs.txt leak-creds.txt kev.json csaf-git.json cve-git.json misp-feed; do
	echo "== $f"
	rc=0
	$TOCSINCTL match "$f" >"$T/$f.out" 2>"$T/$f.err" || rc=$?
	want_rc=$(sed -n 's/^# exit: //p' "$D/$f.expected")
	expect_eq "exit code of match $f" "$rc" "$want_rc"
	grep -v '^#' "$D/$f.expected" >"$T/$f.want"
	if ! diff -u "$T/$f.want" "$T/$f.out"; then
		cat "$T/$f.err"
		fail "hits of $f differ from $f.expected"
	fi
	echo "  ok: $(wc -l <"$T/$f.out") hits as expected"
	sed -n 's/^# stderr: //p' "$D/$f.expected" | while IFS= read -r line; do
		expect_grep "$line" "$T/$f.err"
	done
done
cd - >/dev/null

echo "== the password column never appears"
expect_no_grep 'hunter2|s3cr3t' "$T/leak-creds.txt.out"
expect_no_grep 'hunter2|s3cr3t|secret' "$T/leak-creds.txt.err"

echo "== several files at once, forced format"
# A JSON file forced through the IOC parser: every line is refused, with
# its line number, and the exit status says so.
expect_rc 1 $TOCSINCTL match --format ioc "$D/iocs.txt" "$D/csaf-git.json"
expect_grep 'csaf-git.json:1: ".* is not a domain name' "$T/last.err"
expect_grep 'csaf-git.json: 12 records skipped' "$T/last.err"
expect_eq "ioc hits still printed" "$(grep -c '"format":"ioc"' "$T/last.out")" 4
expect_rc 2 $TOCSINCTL match --format pdf "$D/iocs.txt"
expect_rc 2 $TOCSINCTL match
expect_rc 1 $TOCSINCTL match "$T/missing.csv"
expect_grep 'missing.csv: No such file' "$T/last.err"

echo "== the dry run changed nothing"
expect_eq "audit rows" "$(sql 'SELECT count(*) FROM audit_log')" "$before"
expect_eq "sightings" "$(sql 'SELECT count(*) FROM sighting')" 0
expect_eq "messages" "$(sql 'SELECT count(*) FROM message')" 0

echo "== the shared reference samples, when present"
SHARED=${TOCSIN_SHARED:-$SRC/../shared}
if [ -d "$SHARED/reference/samples" ]; then
	for f in "$SHARED"/reference/samples/shadowserver/*.csv \
	    "$SHARED"/reference/samples/kev/*.excerpt.* \
	    "$SHARED"/reference/samples/misp/circl-*.json \
	    "$SHARED"/reference/samples/stix/poisonivy.json \
	    "$SHARED"/reference/samples/stix/indicators-for-C2-with-COA.json \
	    "$SHARED"/reference/samples/csaf/*.json \
	    "$SHARED"/reference/samples/cve/*.json; do
		rc=0
		$TOCSINCTL match "$f" >"$T/s.out" 2>"$T/s.err" || rc=$?
		grep -q 'records' "$T/s.err" || { cat "$T/s.err"; fail "$f: no summary"; }
		[ $rc -le 1 ] || fail "$f: exit $rc"
		echo "  ok: $(basename "$f"): $(grep -o '[0-9]* records, [0-9]* events' "$T/s.err")"
	done
	# KEV excerpt: PAN-OS and Git are in the sample registry's inventory.
	$TOCSINCTL match "$SHARED/reference/samples/kev/known_exploited_vulnerabilities.excerpt.json" >"$T/kev.out" 2>/dev/null
	expect_grep '"entity":"0123.456.789".*"indicator":"CVE-2024-3400"' "$T/kev.out"
	expect_grep '"entity":"0333.444.555".*"indicator":"CVE-2025-48384"' "$T/kev.out"
	# CVE-2024-3400: PAN-OS 10.2.0 up to 10.2.9-h1 (excluded); the
	# inventory's 10.2.9 is inside.
	$TOCSINCTL match "$SHARED/reference/samples/cve/CVE-2024-3400.json" >"$T/cve.out" 2>/dev/null
	expect_grep '"entity":"0123.456.789".*"asset_type":"product".*"indicator":"CVE-2024-3400"' "$T/cve.out"
else
	echo "  skipped: $SHARED/reference/samples is not here"
fi

echo "== a MISP feed directory names only its own files"
expect_grep 'is not an event UUID' "$T/misp-feed.err"

#!/usr/bin/env bash
# make demo: the daily job of tocsin on throwaway local services.
#
# PostgreSQL 15 and an SMTP sink start on loopback in a temp dir; gpg keys
# are made for the CSIRT and for every contact of the sample registry
# (tests/data/registry.yaml); tocsind runs as the unprivileged "tocsin"
# user; sample feeds are dropped into its spool; then every mail the sink
# received is decrypted with its recipient's key and its signature
# verified, as the recipient would, and the outbox is shown.  Everything
# is removed at the end (KEEP=1 keeps it); the services are stopped even on
# failure.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
TOCSIND=$SRC/$BUILD/tocsind
TOCSINCTL=$SRC/$BUILD/tocsinctl
C=$TOCSINCTL
T=$(mktemp -d /tmp/tocsin-demo.XXXXXX)
export SRC BUILD T TOCSIND TOCSINCTL
. "$SRC/tests/integration/lib.sh"
cleanup() {
	stop_tocsind >/dev/null 2>&1 || true
	"$SRC/tests/services.sh" stop "$T" >/dev/null 2>&1 || true
	for h in "$T/gnupg" "$T/rcpt"; do
		gpgconf --homedir "$h" --kill all >/dev/null 2>&1 || true
	done
	if [ -n "${KEEP:-}" ]; then echo "demo: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "starting PostgreSQL 15 and an SMTP sink on loopback in $T"
"$SRC/tests/services.sh" start "$T" >/dev/null
. "$T/env"

step "keys: the CSIRT's signing key, one key per contact (Example Logistics' is left out of the service keyring)"
setup_keys 1 2 3 4 5 6 8 9 >/dev/null 2>&1
echo "CSIRT signing key $CSIRT_FPR"
write_config
sed -i 's/reference_prefix: TEST-EWS/reference_prefix: DEMO-EWS/' "$T/tocsin.yaml"
export TOCSIN_CONFIG=$T/tocsin.yaml

step "schema"
show "$C" db migrate
show "$C" db status

step "registry: import the sample with the real fingerprints, twice (the second changes nothing)"
show "$C" entity import "$T/registry.yaml"
show "$C" entity import "$T/registry.yaml"
show "$C" entity list

step "a bad registry file is refused as a whole, with every error located"
cat >"$T/bad.yaml" <<'YAML'
entities:
  - name: Typo Corp
    enterprise_number: "0999.999.999"
    kind: essential
    sector: energie
    assets:
      - ipv4: 192.0.2.1/24
YAML
show "$C" entity import "$T/bad.yaml" || echo "(exit $? — nothing imported)"

step "tocsind starts as the 'tocsin' user"
start_tocsind
echo "tocsind pid $(cat "$T/tocsind.pid"), control socket $T/run/control.sock"

step "feeds land in the spool: a Shadowserver RDP scan, a credential leak, the KEV catalog, and a broken file"
D=$SRC/tests/data/feeds/match
drop "$D/2026-11-23-scan_rdp-be-001.csv"
drop "$D/leak-creds.txt"
drop "$D/kev.json"
printf '{"vulnerabilities": [' >"$T/truncated-kev.json"
drop "$T/truncated-kev.json"
wait_for 60 test -e "$T/spool/done/kev.json"
wait_for 60 test -e "$T/spool/failed/truncated-kev.json"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE state IN ('queued','sending','deferred')" 0
ls -l "$T/spool/done" "$T/spool/failed" | sed 's/^/  /'
echo "why the broken file failed:"
sed 's/^/  /' "$T/spool/failed/truncated-kev.json.error"

step "what each recipient received (decrypted with the recipient's key, signature checked)"
for m in $(mails); do
	read_mail "$m" >"$T/m.json"
	jq -r '"--- To: \(.outer.To)\n    outer Subject: \(.outer.Subject)\n    encrypted: \(.encrypted), for key \(.decrypted_for | join(",")), signed by \(.signer), signature valid: \(.signature_valid)\n    protected Subject: \(.protected.Subject)\n    attachments: \([.attachments[]?.filename] | join(", "))"' "$T/m.json"
	jq -r .text "$T/m.json" | sed -n '1,40p' | sed 's/^/    | /'
done

step "the outbox"
psql -X -P pager=off -c "SELECT reference, kind, recipient, tlp, state, attempts, encrypted, coalesce(held_reason, last_reply) AS reply FROM message ORDER BY id"

step "the same RDP report again: nothing is sent twice (suppression window)"
drop "$D/2026-11-23-scan_rdp-be-001.csv" 2026-11-24-scan_rdp-be-001.csv
wait_for 60 test -e "$T/spool/done/2026-11-24-scan_rdp-be-001.csv"
grep 'file=2026-11-24-scan_rdp-be-001.csv feed=' "$T/tocsind.log" | sed 's/^/  /'
echo "messages in the outbox: $(sql 'SELECT count(*) FROM message'), mails received: $(mail_count)"

step "the audit log"
show "$C" status 2>/dev/null || true
psql -X -P pager=off -c "SELECT at::time(0), actor, action, reference, detail->>'recipient' AS recipient FROM audit_log ORDER BY id DESC LIMIT 15"

step "tocsind stops cleanly on SIGTERM"
stop_tocsind
tail -n 3 "$T/tocsind.log" | sed 's/^/  /'
echo
echo "demo: done"

# Registry: migrations, import (idempotent, all-or-nothing, every bad-input
# case named by line and column), list/show, schema refusal, audit, keys,
# and the CLI's exit codes.
write_config
C=$TOCSINCTL
R=$SRC/tests/data/registry.yaml

echo "== before migrate: refused with a clear message"
expect_rc 1 $C db status
expect_grep 'run "tocsinctl db migrate"' "$T/last.out"
expect_rc 1 $C entity list
expect_grep 'no tocsin schema' "$T/last.err"

echo "== migrate twice"
expect_rc 0 $C db migrate
expect_grep '4 migrations applied' "$T/last.out"
expect_rc 0 $C db migrate
expect_grep '0 migrations applied' "$T/last.out"
expect_rc 0 $C db status
expect_eq "migration rows" "$(sql 'SELECT count(*) FROM schema_migrations')" 4

echo "== import, then again: nothing changes"
expect_rc 0 $C entity import "$R"
expect_grep 'entities 6 inserted, 0 updated, 0 unchanged; contacts 7 added, 0 removed; assets 21 added' "$T/last.out"
expect_rc 0 $C entity import "$R"
expect_grep 'entities 0 inserted, 0 updated, 6 unchanged; contacts 0 added, 0 removed; assets 0 added, 0 removed' "$T/last.out"
expect_eq "entities" "$(sql 'SELECT count(*) FROM entity')" 6
expect_eq "assets" "$(sql 'SELECT count(*) FROM asset')" 21
expect_eq "authorities" "$(sql 'SELECT count(*) FROM sector_authority')" 2
expect_eq "normalised enterprise number" \
    "$(sql "SELECT name FROM entity WHERE enterprise_number = '0987.654.321'")" "Réseau Exemple SA"
expect_eq "email lower-cased" \
    "$(sql "SELECT email FROM contact WHERE email LIKE 'cert@%'")" "cert@reseau-exemple.example"
expect_eq "fingerprint without spaces" \
    "$(sql "SELECT pgp_fingerprint FROM contact WHERE email LIKE 'cert@%'")" 3333333333333333333333333333333333333333
expect_eq "IDN stored as A-label" \
    "$(sql "SELECT domain FROM asset WHERE domain LIKE '%stad.example' AND domain <> 'stad.example'")" "xn--bcher-kva.stad.example"

echo "== list and show"
expect_rc 0 $C entity list
expect_grep '^0333\.444\.555 +Hôpital Exemple +essential +health' "$T/last.out"
expect_eq "list rows" "$(grep -c '^0' "$T/last.out")" 6
expect_rc 0 $C --json entity list
expect_eq "json lines" "$(jq -s 'length' "$T/last.out")" 6
expect_eq "json assets of the ISP" \
    "$(jq -r 'select(.enterprise_number == "0987.654.321") | .assets' "$T/last.out")" 4
expect_rc 0 $C entity show 0987654321
expect_grep '198\.51\.100\.0/24' "$T/last.out"
expect_grep 'clearance TLP:GREEN' "$T/last.out"
expect_rc 0 $C entity show --json BE0555666777
expect_eq "show json" "$(jq -r '.assets[0].value' "$T/last.out")" "198.51.100.128/26"
expect_rc 1 $C entity show 0000.000.000
expect_grep 'no entity with enterprise number 0000.000.000' "$T/last.err"
expect_rc 2 $C entity show not-a-number

echo "== a changed file updates and removes what it no longer lists"
sed -e 's/name: Example Logistics BV/name: Example Logistics NV/' \
    -e '/ipv6: 2001:db8:30::\/48/d' "$R" >"$T/changed.yaml"
expect_rc 0 $C entity import "$T/changed.yaml"
expect_grep 'entities 0 inserted, 1 updated, 5 unchanged; contacts 0 added, 0 removed; assets 0 added, 1 removed' "$T/last.out"
expect_eq "renamed" "$(sql "SELECT name FROM entity WHERE enterprise_number = '0777.888.999'")" "Example Logistics NV"

echo "== a file that fails halfway commits nothing"
before=$(sql 'SELECT concat_ws(chr(32), (SELECT count(*) FROM entity), (SELECT count(*) FROM contact), (SELECT count(*) FROM asset))')
cat >"$T/halfway.yaml" <<'YAML'
entities:
  - name: New Entity One
    enterprise_number: "0100.000.001"
    kind: other
    sector: food
    contacts: [{email: a@one.example}]
    assets:
      - ipv4: 192.0.2.128/25
  - name: Prefix Thief
    enterprise_number: "0100.000.002"
    kind: other
    sector: food
    assets:
      - ipv4: 198.51.100.0/24
YAML
expect_rc 1 $C entity import "$T/halfway.yaml"
expect_grep 'halfway.yaml:14:15: entities\[1\].assets\[0\].ipv4: 198.51.100.0/24 is already registered to 0987.654.321 \(Réseau Exemple SA\); nothing was imported' "$T/last.err"
expect_eq "row counts unchanged" "$(sql 'SELECT concat_ws(chr(32), (SELECT count(*) FROM entity), (SELECT count(*) FROM contact), (SELECT count(*) FROM asset))')" "$before"
expect_eq "first entity not there" "$(sql "SELECT count(*) FROM entity WHERE enterprise_number = '0100.000.001'")" 0

echo "== bad input: every error at once, with line and column"
cat >"$T/bad.yaml" <<'YAML'
entities:
  - name: Bad One
    enterprise_number: "12345"
    kind: essential
    sector: energie
    colour: blue
    contacts:
      - {email: not-an-email, pgp_fingerprint: "ABCD"}
    assets:
      - ipv4: 192.0.2.1/24
      - ipv4: 300.1.2.3/8
      - ipv6: 10.0.0.0/8
      - asn: ASX
      - product: "cpe:/a:vendor:product"
  - name: Dup A
    enterprise_number: "0200.000.001"
    kind: other
    sector: food
  - name: Dup B
    enterprise_number: "0200000001"
    kind: other
    sector: [food]
YAML
expect_rc 1 $C entity import "$T/bad.yaml"
cat "$T/last.err"
expect_grep '^.*bad.yaml:3:24: entities\[0\].enterprise_number: "12345" is not an enterprise number' "$T/last.err"
expect_grep 'bad.yaml:5:13: entities\[0\].sector: "energie" is not one of energy, transport' "$T/last.err"
expect_grep 'bad.yaml:6:5: entities\[0\].colour: unknown key' "$T/last.err"
expect_grep 'bad.yaml:8:17: entities\[0\].contacts\[0\].email: "not-an-email" is not an email address' "$T/last.err"
expect_grep 'bad.yaml:8:48: entities\[0\].contacts\[0\].pgp_fingerprint: "ABCD" is not an OpenPGP fingerprint' "$T/last.err"
expect_grep 'bad.yaml:10:15: entities\[0\].assets\[0\].ipv4: "192.0.2.1/24" has host bits set' "$T/last.err"
expect_grep 'bad.yaml:11:15: entities\[0\].assets\[1\].ipv4: "300.1.2.3/8" is not an IP address' "$T/last.err"
expect_grep 'bad.yaml:12:15: entities\[0\].assets\[2\].ipv6: "10.0.0.0/8" is not an ipv6 prefix' "$T/last.err"
expect_grep 'bad.yaml:13:14: entities\[0\].assets\[3\].asn: "ASX" is not an AS number' "$T/last.err"
expect_grep 'bad.yaml:14:18: entities\[0\].assets\[4\].product: .* is not a CPE 2.3 formatted string' "$T/last.err"
expect_grep 'bad.yaml:19:5: entities\[2\]: enterprise number 0200.000.001 is already used by entities\[1\] \(line 15\)' "$T/last.err"
expect_grep 'bad.yaml:22:13: entities\[2\].sector: must be a scalar, not a list' "$T/last.err"
expect_grep 'nothing was imported' "$T/last.err"
printf 'entities:\n  - name: x\n    kind: [\n' >"$T/syntax.yaml"
expect_rc 1 $C entity import "$T/syntax.yaml"
expect_grep 'syntax.yaml:4:1: YAML: ' "$T/last.err"
expect_rc 1 $C entity import "$T/does-not-exist.yaml"
expect_grep 'does-not-exist.yaml: No such file' "$T/last.err"
expect_eq "still 6 entities" "$(sql 'SELECT count(*) FROM entity')" 6

echo "== audit log: one row per import, append-only"
expect_eq "import rows" "$(sql "SELECT count(*) FROM audit_log WHERE action = 'entity.import'")" 3
expect_eq "actor" "$(sql "SELECT DISTINCT actor FROM audit_log WHERE action = 'entity.import'")" "$(id -un)"
if sql "DELETE FROM audit_log" 2>"$T/del.err"; then fail "audit_log DELETE was allowed"; fi
expect_grep 'append-only' "$T/del.err"
if sql "UPDATE audit_log SET actor = 'x'" 2>"$T/upd.err"; then fail "audit_log UPDATE was allowed"; fi

echo "== keys"
export GNUPGHOME=$T/user-gnupg
mkdir -m 700 "$GNUPGHOME"
fpr=$(gen_key "SOC Voorbeeld" soc@voorbeeld-energie.example)
gpg --batch --armor --export "$fpr" >"$T/soc.asc"
expect_rc 0 $C key import "$T/soc.asc"
expect_grep "^$fpr  SOC Voorbeeld <soc@voorbeeld-energie.example>  expires 20" "$T/last.out"
GNUPGHOME=$T/gnupg gpg --batch --list-keys "$fpr" >/dev/null || fail "key not in the service keyring"
gpg --batch --pinentry-mode loopback --passphrase '' --armor --export-secret-keys "$fpr" >"$T/secret.asc"
expect_rc 1 $C key import "$T/secret.asc"
expect_grep 'holds a secret key' "$T/last.err"
echo "garbage" >"$T/garbage.asc"
expect_rc 1 $C key import "$T/garbage.asc"
expect_eq "key import audited" "$(sql "SELECT count(*) FROM audit_log WHERE action = 'key.import'")" 1
gpgconf --kill all

echo "== a database newer than the program is refused"
sql "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"
expect_rc 1 $C entity list
expect_grep 'version 999, newer than this program knows' "$T/last.err"
expect_rc 1 $C db migrate
expect_grep 'newer than this program' "$T/last.err"
sql "DELETE FROM schema_migrations WHERE version = 999"

echo "== usage and help"
expect_rc 0 $C --help
for cmd in "db migrate" "db status" "entity import" "entity list" "entity show" "key import" "config check"; do
	expect_rc 0 $C $cmd --help
	expect_grep "^usage: tocsinctl $cmd" "$T/last.out"
done
expect_rc 2 $C
expect_rc 2 $C frobnicate
expect_grep 'unknown command' "$T/last.err"
expect_rc 2 $C entity import
expect_rc 2 $C entity list extra
expect_rc 0 $C config check
expect_rc 1 $C -c "$T/nope.yaml" config check

echo "== tocsind refuses an unknown schema version too (as a non-root user)"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$T" && chmod 644 "$T/tocsin.yaml"
	sql "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"
	rc=0
	runuser -u nobody -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" PGUSER="$PGUSER" \
	    "$TOCSIND" -c "$T/tocsin.yaml" >"$T/d.out" 2>"$T/d.err" || rc=$?
	expect_eq "tocsind exit" "$rc" 1
	expect_grep 'version 999, newer than this program knows' "$T/d.err"
	sql "DELETE FROM schema_migrations WHERE version = 999"
fi

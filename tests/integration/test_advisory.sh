# Advisories end to end, against the running daemon: two analysts and an
# outsider (real accounts, the control socket's SO_PEERCRED); four eyes;
# targeting by clearance, sector, product version and severity; one copy
# per contact; TLP:AMBER encrypted and TLP:GREEN/CLEAR signed only, each
# mail decrypted and verified as its recipient would; TLP:RED to the listed
# contacts only; preview before encryption; cancel; every action in
# audit_log and in `tocsinctl audit`; the Atom feed and the CSAF document
# of the TLP:CLEAR advisory, and nothing published for the others; 40
# subscribers composed by both gpg workers, each mail read once; an
# approval cut short by SIGTERM leaves nothing queued.
[ "$(id -u)" -eq 0 ] || fail "this scenario creates analyst accounts: run it as root"
setup_keys
grp=$(id -gn "$(service_user)")
for u in tc_ana1 tc_ana2; do
	id "$u" >/dev/null 2>&1 || useradd --no-create-home -N -G "$grp" "$u"
done
id tc_outsider >/dev/null 2>&1 || useradd --no-create-home -N tc_outsider
mkdir -p "$T/publish"
chown "$(service_user)": "$T/publish"
write_config "outbox: {backoff_base: 1s, backoff_max: 2s, lease: 30s}" \
    "paths: {spool_dir: $T/spool, templates_dir: $T/templates, publish_dir: $T/publish}"
# The last paths: line wins: keep one.
python3 - "$T/tocsin.yaml" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
paths = [i for i, l in enumerate(lines) if l.startswith("paths:")]
for i in paths[:-1]:
    del lines[i]
open(p, "w").write("\n".join(lines) + "\n")
PY
# Réseau's CERT is also a contact of Stad Voorbeeld: an advisory reaching
# both entities must give that address one mail.
sed "s|^\(      - {email: informatieveiligheid@stad.example.*\)$|\1\n      - {email: cert@reseau-exemple.example, pgp_fingerprint: \"$FPR_3\", receives: [advisory]}|" \
    "$T/registry.yaml" >"$T/registry2.yaml"
grep -q 'cert@reseau-exemple.example, pgp' "$T/registry2.yaml" || fail "registry edit"
$TOCSINCTL db migrate >/dev/null
$TOCSINCTL entity import "$T/registry2.yaml" >/dev/null
start_tocsind
as() { local u=$1; shift; runuser -u "$u" -- "$TOCSINCTL" -c "$T/tocsin.yaml" "$@"; }
ref_of() { grep -Eo 'TEST-EWS-[0-9]{4}-[0-9]{6}' "$1" | head -1; }
# unfold FILE: header continuation lines joined, CRs dropped.
unfold() { tr -d '\r' <"$1" | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n[ \t]\+/ /g'; }

echo "== a bad file: every error with its line, nothing queued"
cat >"$T/bad.yaml" <<'YAML'
content:
  fr: {title: "Titre", body: "Corps"}
tlp: TLP:ORANGE
severity: high
cves: [CVE-24-1]
YAML
chmod 644 "$T/bad.yaml"
expect_rc 1 as tc_ana1 advisory queue "$T/bad.yaml"; cp "$T/last.err" "$T/bad.err"
expect_grep "bad.yaml:2:3: content: en is required" "$T/bad.err"
expect_grep "bad.yaml:3:6: tlp: \"TLP:ORANGE\" is not a TLP 2.0 label" "$T/bad.err"
expect_grep "bad.yaml:5:8: cves\[0\]: \"CVE-24-1\" is not a CVE id" "$T/bad.err"
expect_eq "nothing queued" "$(sql 'SELECT count(*) FROM advisory')" 0

echo "== outside the analysts' group: refused by the socket"
cp "$SRC/tests/data/advisory/good.yaml" "$T/amber.yaml"
chmod 644 "$T/amber.yaml"
expect_rc 1 as tc_outsider advisory queue "$T/amber.yaml"; cp "$T/last.err" "$T/out.err"
cat "$T/out.err"
expect_grep "analysts|denied|refused" "$T/out.err"
expect_eq "nothing queued" "$(sql 'SELECT count(*) FROM advisory')" 0
expect_rc 1 as tc_outsider advisory list
# Even through a socket file anyone may open, SO_PEERCRED keeps them out.
chmod 666 "$T/run/control.sock"
expect_rc 1 as tc_outsider advisory queue "$T/amber.yaml"; cp "$T/last.err" "$T/out2.err"
expect_grep "analysts' group" "$T/out2.err"
chmod 660 "$T/run/control.sock"
expect_eq "nothing queued" "$(sql 'SELECT count(*) FROM advisory')" 0

echo "== AMBER: clearance, sector or product version, severity"
# The good file: TLP:AMBER, high, sector health, git >= 2.0 < 2.43.7.
# Add energy and PAN-OS so that Voorbeeld Energie matches two ways.
sed -e 's/^sectors: \[health\]/sectors: [energy]/' \
    -e 's|^products:|products:\n  - {cpe: "cpe:2.3:a:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*", versions: "< 11"}|' \
    -e 's/    title: "Git : .*/    title: "Git : faille critique lors du clonage"/' \
    "$SRC/tests/data/advisory/good.yaml" >"$T/amber.yaml"
as tc_ana1 advisory queue "$T/amber.yaml" >"$T/q1.out"
cat "$T/q1.out"
R1=$(ref_of "$T/q1.out")
[ -n "$R1" ] || fail "no reference printed"
# Voorbeeld (AMBER, energy): soc + ciso; Hôpital (AMBER, high, git
# 2.43.0 in range): securite; Réseau is only cleared for GREEN; Stad
# matches neither sector nor product.
expect_grep "3 recipients" "$T/q1.out"
expect_eq "queued_by" "$(sql "SELECT queued_by||'/'||state FROM advisory WHERE reference='$R1'")" "tc_ana1/queued"
as tc_ana2 advisory show "$R1" >"$T/show1.out"
expect_grep "recipients:  3" "$T/show1.out"
expect_grep "securite@hopital.example" "$T/show1.out"
expect_no_grep "reseau-exemple|stad.example" "$T/show1.out"
expect_rc 1 as tc_ana2 advisory show TEST-EWS-1999-000001; cp "$T/last.err" "$T/nope.err"
expect_grep "no advisory TEST-EWS-1999-000001" "$T/nope.err"
expect_rc 1 as tc_ana2 advisory approve TEST-EWS-1999-000001
expect_rc 2 as tc_ana2 advisory approve
expect_rc 2 as tc_ana2 preview "$R1"
as tc_ana1 advisory list >"$T/list.out"
expect_grep "$R1 +AMBER +high +queued +tc_ana1" "$T/list.out"

echo "== preview: the inner entity, neither signed nor encrypted"
as tc_ana2 preview "$R1" --contact securite@hopital.example >"$T/prev.eml"
expect_grep "^Content-Type: multipart/alternative" "$T/prev.eml"
unfold "$T/prev.eml" >"$T/prev.txt"
expect_grep "^Subject: \[TLP:AMBER\] \[$R1\] Git : faille critique" "$T/prev.txt"
expect_grep "^HP-Outer: Subject: \[TLP:AMBER\] \[$R1\] \[\.\.\.\]" "$T/prev.txt"
expect_no_grep "BEGIN PGP|multipart/signed|multipart/encrypted" "$T/prev.eml"
expect_rc 1 as tc_ana2 preview "$R1" --contact cert@reseau-exemple.example; cp "$T/last.err" "$T/prev.err"
expect_grep "not a recipient" "$T/prev.err"
expect_eq "no mail yet" "$(mail_count)" 0

echo "== four eyes: the analyst who queued it cannot approve it"
expect_rc 1 as tc_ana1 advisory approve "$R1"; cp "$T/last.err" "$T/4e.err"
expect_grep "four eyes" "$T/4e.err"
expect_eq "still queued" "$(sql "SELECT state FROM advisory WHERE reference='$R1'")" queued
sleep 1
expect_eq "no mail" "$(mail_count)" 0

echo "== another analyst approves: dispatched"
as tc_ana2 advisory approve "$R1" >"$T/a1.out"
cat "$T/a1.out"
expect_grep "$R1 dispatched, 3 recipients \(0 held\)" "$T/a1.out"
expect_eq "approved_by" "$(sql "SELECT approved_by||'/'||state FROM advisory WHERE reference='$R1'")" "tc_ana2/dispatched"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE reference='$R1' AND state='sent'" 3
wait_for 30 mails_are 3
expect_rc 1 as tc_ana2 advisory approve "$R1" # not queued any more

# read every mail of a reference as its recipient; $1 reference,
# $2 expected "true"/"false" encryption, rest the expected addresses
check_mails() {
	local ref=$1 enc=$2 seen="" m to
	shift 2
	for m in $(mails); do
		grep -q "$ref" "$m" || continue
		read_mail "$m" >"$T/m.json" || fail "$m unreadable"
		to=$(jq -r '.outer.To' "$T/m.json" | sed 's/.*<\(.*\)>.*/\1/' | tr A-Z a-z)
		case " $* " in *" $to "*) ;; *) fail "$ref: mail to unexpected $to" ;; esac
		case " $seen " in *" $to "*) fail "$ref: $to got two mails" ;; esac
		seen="$seen $to"
		expect_eq "$to encrypted" "$(jq -r .encrypted "$T/m.json")" "$enc"
		expect_eq "$to signature" "$(jq -r .signature_valid "$T/m.json")" true
		expect_eq "$to signer" "$(jq -r .signer "$T/m.json")" "$CSIRT_FPR"
		expect_eq "$to errors" "$(jq -r '.errors | length' "$T/m.json")" 0
		jq -r .text "$T/m.json" >"$T/m.txt"
		expect_grep "$ref" "$T/m.txt"
	done
	expect_eq "$ref recipients" "$(echo $seen | wc -w)" "$#"
}
check_mails "$R1" true soc@voorbeeld-energie.example \
    ciso@voorbeeld-energie.example securite@hopital.example
# Hôpital reads French, Voorbeeld Dutch (no Dutch text: English content).
for m in $(mails); do
	read_mail "$m" >"$T/m.json"
	case $(jq -r .outer.To "$T/m.json") in
	*hopital*) expect_grep "faille critique" <(jq -r .text "$T/m.json")
		expect_grep '\[\.\.\.\]$' <(jq -r .outer.Subject "$T/m.json") ;;
	*voorbeeld*) expect_grep "remote code execution" <(jq -r .text "$T/m.json") ;;
	esac
done
expect_no_grep "remote code execution" <(cat $(mails)) # not in clear

echo "== GREEN, medium: signed only; Hôpital's minimum severity is high"
cat >"$T/green.yaml" <<'YAML'
content:
  en:
    title: Phishing campaign against energy and network operators
    body: Be careful.
tlp: GREEN
severity: medium
sectors: [energy, health, digital_infrastructure]
YAML
chmod 644 "$T/green.yaml"
as tc_ana2 advisory queue "$T/green.yaml" >"$T/q2.out"
R2=$(ref_of "$T/q2.out")
expect_grep "3 recipients" "$T/q2.out"
as tc_ana1 advisory approve "$R2" >/dev/null
wait_for 60 sql_is "SELECT count(*) FROM message WHERE reference='$R2' AND state='sent'" 3
wait_for 30 mails_are 6
check_mails "$R2" false soc@voorbeeld-energie.example \
    ciso@voorbeeld-energie.example cert@reseau-exemple.example
expect_grep "Phishing campaign" <(grep -l "$R2" $(mails) | xargs cat)

echo "== RED: the listed contact only, nobody else even if they match"
cat >"$T/red.yaml" <<'YAML'
content: {en: {title: "Targeted intrusion at a hospital", body: "Details."}}
tlp: RED
severity: critical
sectors: [health, energy, public_administration]
recipients: [Securite@Hopital.example]
YAML
sed 's/recipients: .*/recipients: [securite@hopital.example, nobody@unknown.example]/' \
    "$T/red.yaml" >"$T/red-unknown.yaml"
chmod 644 "$T/red.yaml" "$T/red-unknown.yaml"
expect_rc 1 as tc_ana1 advisory queue "$T/red-unknown.yaml"; cp "$T/last.err" "$T/red.err"
expect_grep "not registered contacts: nobody@unknown.example" "$T/red.err"
n_adv=$(sql 'SELECT count(*) FROM advisory')
expect_eq "unknown recipient: not queued" "$n_adv" 2
as tc_ana1 advisory queue "$T/red.yaml" >"$T/q3.out"
R3=$(ref_of "$T/q3.out")
expect_grep "1 recipient;" "$T/q3.out"
as tc_ana2 advisory approve "$R3" >/dev/null
wait_for 60 sql_is "SELECT count(*) FROM message WHERE reference='$R3' AND state='sent'" 1
wait_for 30 mails_are 7
check_mails "$R3" true securite@hopital.example
expect_eq "RED rows" "$(sql "SELECT string_agg(recipient, ',') FROM message WHERE reference='$R3'")" \
    securite@hopital.example

echo "== CLEAR, no sector or product: every subscriber the filters let through"
cat >"$T/clear.yaml" <<'YAML'
content:
  en:
    title: "Public advisory: <update> & patch"
    summary: Patch your VPN appliances.
    body: |
      Several VPN products are attacked.
tlp: CLEAR
severity: low
cves: [CVE-2026-10001, CVE-2026-10002]
products:
  - {cpe: "cpe:2.3:a:example:vpn:*:*:*:*:*:*:*:*", versions: "< 3.1"}
references: [https://csirt.example/advisories/vpn]
YAML
chmod 644 "$T/clear.yaml"
as tc_ana1 advisory queue "$T/clear.yaml" >"$T/q4.out"
R4=$(ref_of "$T/q4.out")
# Nobody owns example:vpn and no sector is named: nobody.  A CLEAR
# advisory with neither goes to every subscriber passing the filters.
expect_grep "0 recipients" "$T/q4.out"
sed '/^products:/,/^references:/{/^references:/!d}' "$T/clear.yaml" >"$T/clear2.yaml"
chmod 644 "$T/clear2.yaml"
as tc_ana1 advisory queue "$T/clear2.yaml" >"$T/q5.out"
R5=$(ref_of "$T/q5.out")
# Réseau (low) and Stad (info); Voorbeeld wants medium, Hôpital high.
# cert@reseau-exemple.example is reached through both Réseau and Stad:
# still one recipient.
expect_grep "2 recipients" "$T/q5.out"
as tc_ana2 advisory cancel "$R4" >"$T/c.out"
expect_grep "$R4 cancelled" "$T/c.out"
expect_rc 1 as tc_ana2 advisory approve "$R4"; cp "$T/last.err" "$T/c.err"
expect_grep "is cancelled, not queued" "$T/c.err"
expect_rc 1 as tc_ana2 advisory cancel "$R4"
as tc_ana2 advisory approve "$R5" >"$T/a5.out"
expect_grep "published" "$T/a5.out"
wait_for 60 sql_is "SELECT count(*) FROM message WHERE reference='$R5' AND state='sent'" 2
wait_for 30 mails_are 9
check_mails "$R5" false cert@reseau-exemple.example informatieveiligheid@stad.example
expect_eq "one row per address" \
    "$(sql "SELECT count(*) FROM message WHERE reference='$R5' AND recipient='cert@reseau-exemple.example'")" 1

echo "== publication: Atom and CSAF for the CLEAR advisory only"
expect_eq "published files" "$(ls "$T/publish" | sort | tr '\n' ' ')" "$R5.json advisories.atom "
python3 - "$T/publish/advisories.atom" "$R5" <<'PY'
import sys, xml.etree.ElementTree as ET
A = "{http://www.w3.org/2005/Atom}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == A + "feed", root.tag
for k in ("id", "title", "updated"):  # RFC 4287 4.1.1
    assert root.find(A + k) is not None and root.find(A + k).text, k
assert root.find(A + "author/" + A + "name").text
entries = root.findall(A + "entry")
assert len(entries) == 1, len(entries)
e = entries[0]
for k in ("id", "title", "updated"):  # 4.1.2
    assert e.find(A + k) is not None and e.find(A + k).text, k
assert sys.argv[2] in e.find(A + "title").text
assert "<update> & patch" in e.find(A + "title").text
assert e.find(A + "summary").text == "Patch your VPN appliances."
print("atom ok")
PY
python3 - "$T/publish/$R5.json" "$R5" "${SHARED_REF:-$SRC/../shared/reference}" <<'PY'
import json, os, re, sys
d = json.load(open(sys.argv[1]))
schema = os.path.join(sys.argv[3], "csaf_json_schema.json")
if os.path.exists(schema):
    import jsonschema
    jsonschema.validate(d, json.load(open(schema)))
    print("csaf: schema ok")
# The standard's required fields, checked explicitly (CSAF 2.0 §3.2, §4.5).
doc = d["document"]
assert doc["category"] == "csaf_security_advisory"
assert doc["csaf_version"] == "2.0"
assert doc["title"] == "Public advisory: <update> & patch"
pub = doc["publisher"]
assert pub["category"] in ("coordinator", "discoverer", "other", "translator", "user", "vendor")
assert pub["name"] and re.match(r"^https?://", pub["namespace"])
t = doc["tracking"]
assert t["id"] == sys.argv[2] and t["status"] == "final" and t["version"] == "1"
iso = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
assert re.match(iso, t["initial_release_date"]) and re.match(iso, t["current_release_date"])
assert t["revision_history"][0]["number"] == "1" and re.match(iso, t["revision_history"][0]["date"])
assert t["revision_history"][0]["summary"]
# CSAF 2.0 carries TLP 1.0 labels: TLP:CLEAR is WHITE there.
assert doc["distribution"]["tlp"]["label"] == "WHITE"
assert doc["distribution"]["text"] == "TLP:CLEAR"
assert any(n["category"] in ("description", "summary") for n in doc["notes"])
assert doc["references"][0]["url"] == "https://csirt.example/advisories/vpn"
# The security advisory profile needs vulnerabilities (and product_tree
# when products are named; this one names none).
v = d["vulnerabilities"]
assert [x["cve"] for x in v] == ["CVE-2026-10001", "CVE-2026-10002"]
assert "product_tree" not in d
print("csaf ok")
PY
# The AMBER, GREEN and RED advisories left nothing there.
expect_no_grep "$R1|$R2|$R3" "$T/publish/advisories.atom"

echo "== one copy per address, kept after the version check"
# Réseau gets git 1.9.0 (outside the range) and its CERT address becomes
# a contact of Hôpital too (git 2.43.0, inside).  Réseau's row for that
# address comes first; it must not cost the address its copy.
python3 - "$T/registry2.yaml" "$T/registry3.yaml" "$FPR_3" <<'PY'
import sys
src, dst, fpr = sys.argv[1:4]
out, hop = [], False
for line in open(src).read().splitlines():
    out.append(line)
    if line == "      - domain: reseau-exemple.example":
        out.append('      - product: "cpe:2.3:a:git-scm:git:1.9.0:*:*:*:*:*:*:*"')
    hop = hop or line.startswith("      - {email: securite@hopital.example")
    if hop and line.rstrip().endswith("}"):  # the end of that contact
        out.append('      - {email: cert@reseau-exemple.example, pgp_fingerprint: "%s", receives: [advisory]}' % fpr)
        hop = False
open(dst, "w").write("\n".join(out) + "\n")
PY
$TOCSINCTL entity import "$T/registry3.yaml" >/dev/null
cat >"$T/git.yaml" <<'YAML'
content: {en: {title: "Git again", body: "Update."}}
tlp: GREEN
severity: high
products: [{cpe: "cpe:2.3:a:git-scm:git:*:*:*:*:*:*:*:*", versions: ">= 2.0, < 2.43.7"}]
YAML
chmod 644 "$T/git.yaml"
as tc_ana1 advisory queue "$T/git.yaml" >"$T/q6.out"
R6=$(ref_of "$T/q6.out")
expect_grep "2 recipients" "$T/q6.out"
as tc_ana2 advisory show "$R6" >"$T/show6.out"
expect_grep "^  cert@reseau-exemple.example " "$T/show6.out"
expect_grep "^  securite@hopital.example " "$T/show6.out"
as tc_ana2 advisory cancel "$R6" >/dev/null

echo "== the audit log has every action, and refuses changes"
expect_eq "imports audited" "$(sql "SELECT count(*) FROM audit_log WHERE action='entity.import'")" 2
a() { sql "SELECT actor FROM audit_log WHERE action='$1' AND reference='$2' ORDER BY id LIMIT 1"; }
expect_eq "queued R1" "$(a advisory.queued "$R1")" tc_ana1
expect_eq "refused R1" "$(a advisory.approve_refused "$R1")" tc_ana1
expect_eq "approved R1" "$(a advisory.approved "$R1")" tc_ana2
expect_eq "dispatched R1" "$(a advisory.dispatched "$R1")" tocsind
expect_eq "previewed R1" "$(a advisory.previewed "$R1")" tc_ana2
expect_eq "cancelled R4" "$(a advisory.cancelled "$R4")" tc_ana2
expect_eq "published R5" "$(a advisory.published "$R5")" tocsind
expect_eq "R1 recipients in audit" \
    "$(sql "SELECT string_agg(detail->>'recipient', ',' ORDER BY detail->>'recipient') FROM audit_log WHERE reference='$R1' AND action='message.sent'")" \
    "ciso@voorbeeld-energie.example,securite@hopital.example,soc@voorbeeld-energie.example"
expect_eq "queued detail" "$(sql "SELECT detail->>'recipients' FROM audit_log WHERE action='advisory.queued' AND reference='$R1'")" 3
expect_rc 1 sql "UPDATE audit_log SET actor='x'"
expect_rc 1 sql "DELETE FROM audit_log"
$TOCSINCTL audit --ref "$R1" >"$T/audit.out"
cat "$T/audit.out"
expect_grep "tc_ana1 +advisory.queued +$R1" "$T/audit.out"
expect_grep "tc_ana2 +advisory.approved +$R1" "$T/audit.out"
expect_grep "message.sent +$R1" "$T/audit.out"
expect_no_grep "$R2" "$T/audit.out"
$TOCSINCTL audit --since 1h --json >"$T/audit.json"
expect_eq "json lines parse" "$(jq -s 'length' "$T/audit.json")" "$(wc -l <"$T/audit.json")"
expect_grep '"action":"advisory.cancelled"' "$T/audit.json"
expect_eq "audit --since future" "$($TOCSINCTL audit --since 2999-01-01 | wc -l)" 1
expect_rc 2 $TOCSINCTL audit --since yesterday

echo "== 40 subscribers: one approval composed by both gpg workers"
# many_registry COUNT OUT: COUNT manufacturing entities (nobody else
# subscribes to that sector), one contact each, many<NNN>@many.example in
# fr, nl, de, en by turns; contact i pins line i of $T/many.fpr, cycling
# ("-": no fingerprint).
many_registry() {
	python3 - "$1" "$T/many.fpr" >"$2" <<'PY'
import sys
n, fprs = int(sys.argv[1]), open(sys.argv[2]).read().split()
print("entities:")
for i in range(1, n + 1):
    fpr = fprs[(i - 1) % len(fprs)]
    pin = "" if fpr == "-" else ', pgp_fingerprint: "%s"' % fpr
    print('  - name: Many %03d\n    enterprise_number: "0900000%03d"' % (i, i))
    print("    kind: other\n    sector: manufacturing\n    language: en")
    print("    contacts:\n      - {email: many%03d@many.example, language: %s%s, receives: [advisory]}"
          % (i, ("en", "fr", "nl", "de")[i % 4], pin))
    print("    subscription: {clearance: AMBER, sectors: [manufacturing], min_severity: low}")
PY
}
# 1-36 have their key in the service keyring, 37 and 38 a key it does
# not hold, 39 and 40 no fingerprint: four held, the others sent.
: >"$T/many.fpr"
for i in $(seq -w 1 38); do
	fpr=$(GNUPGHOME=$RCPT_GNUPGHOME gen_key "Many $i" "many0$i@many.example")
	echo "$fpr" >>"$T/many.fpr"
	if [ "$((10#$i))" -le 36 ]; then
		GNUPGHOME=$RCPT_GNUPGHOME gpg --batch --export "$fpr" |
		    GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
	fi
done
chown -R "$(service_user)": "$T/gnupg"
echo - >>"$T/many.fpr"
echo - >>"$T/many.fpr"
many_registry 40 "$T/many.yaml"
$TOCSINCTL entity import "$T/many.yaml" >/dev/null
cat >"$T/many-adv.yaml" <<'YAML'
content:
  en: {title: "Industrial controllers exposed", body: "Update the firmware."}
  fr: {title: "Automates industriels exposés", body: "Mettez à jour le micrologiciel."}
  de: {title: "Industriesteuerungen offen erreichbar", body: "Aktualisieren Sie die Firmware."}
tlp: AMBER
severity: high
sectors: [manufacturing]
YAML
chmod 644 "$T/many-adv.yaml"
as tc_ana1 advisory queue "$T/many-adv.yaml" >"$T/qm.out"
RM=$(ref_of "$T/qm.out")
expect_grep "40 recipients" "$T/qm.out"
before=$(mail_count)
as tc_ana2 advisory approve "$RM" >"$T/am.out"
expect_grep "$RM dispatched, 40 recipients \(4 held\)" "$T/am.out"
# gpg.workers is 2 (the default): the recipients, sorted by language, cut
# in two halves.
expect_grep "reference=$RM action=advisory.composed slice=1/2 recipients=20" "$T/tocsind.log"
expect_grep "reference=$RM action=advisory.composed slice=2/2 recipients=20" "$T/tocsind.log"
expect_eq "$RM rows" "$(sql "SELECT count(*)||'/'||count(DISTINCT recipient) FROM message WHERE reference='$RM'")" 40/40
expect_eq "$RM dispatched audit" \
    "$(sql "SELECT (detail->>'messages')||'/'||(detail->>'held') FROM audit_log WHERE action='advisory.dispatched' AND reference='$RM'")" 40/4
wait_for 120 sql_is "SELECT count(*) FROM message WHERE reference='$RM' AND state='sent'" 36
wait_for 60 mails_are $((before + 36))
check_mails "$RM" true $(for i in $(seq -w 1 36); do echo "many0$i@many.example"; done)
# Each in its language: French and German content, Dutch readers English.
for i in 001 002 003 004; do
	m=$(grep -l "many$i@many.example" $(mails))
	read_mail "$m" >"$T/m.json"
	case $((10#$i % 4)) in
	1) want="Automates industriels exposés" ;;
	3) want="Industriesteuerungen offen erreichbar" ;;
	*) want="Industrial controllers exposed" ;;
	esac
	expect_grep "$want" <(jq -r .text "$T/m.json")
done
held_of() { sql "SELECT held_reason FROM message WHERE reference='$RM' AND recipient='$1' AND state='held'"; }
expect_grep "no key with fingerprint $(sed -n 37p "$T/many.fpr") in the keyring" <(held_of many037@many.example)
expect_grep "no key with fingerprint $(sed -n 38p "$T/many.fpr") in the keyring" <(held_of many038@many.example)
expect_grep "TLP:AMBER content needs encryption and no PGP key is pinned for <many039@many.example>" <(held_of many039@many.example)
expect_grep "TLP:AMBER content needs encryption and no PGP key is pinned for <many040@many.example>" <(held_of many040@many.example)
expect_eq "$RM held rows carry no body" "$(sql "SELECT count(*) FROM message WHERE reference='$RM' AND state='held' AND body IS NULL")" 4
expect_eq "$RM mails in the sink" "$(grep -l "$RM" $(mails) | wc -l)" 36

echo "== SIGTERM while an approval composes: it fails, nothing is queued"
# 200 subscribers (100 per worker, several batches each) sharing the 36
# usable keys: nothing is sent, gpg only has to work.
head -36 "$T/many.fpr" >"$T/many36.fpr"
mv "$T/many36.fpr" "$T/many.fpr"
many_registry 200 "$T/many200.yaml"
$TOCSINCTL entity import "$T/many200.yaml" >/dev/null
as tc_ana1 advisory queue "$T/many-adv.yaml" >"$T/qs.out"
RS=$(ref_of "$T/qs.out")
expect_grep "200 recipients" "$T/qs.out"
# Deterministic: tocsind's gpg helpers (started by the approvals above)
# are stopped first, so the approval's compose jobs wait in their first
# gpg call; SIGTERM reaches tocsind while they wait, then the helpers go
# on and the jobs see the stop at their next batch.
helpers=$(pgrep -P "$(cat "$T/tocsind.pid")" -f -- '--gpg-helper' | tr '\n' ' ')
[ -n "$helpers" ] || fail "tocsind has no gpg helper running"
kill -STOP $helpers
rc=0
as tc_ana2 advisory approve "$RS" >"$T/as.out" 2>"$T/as.err" &
apid=$!
wait_for 30 grep -q "reference=$RS action=advisory.composing slices=2 recipients=200" "$T/tocsind.log"
kill -TERM "$(cat "$T/tocsind.pid")"
sleep 0.5
kill -CONT $helpers
wait "$apid" || rc=$?
expect_eq "interrupted approve exit" "$rc" 1
expect_grep "tocsind is shutting down: $RS was not approved, it stays queued" "$T/as.err"
stop_tocsind
expect_grep "reference=$RS action=advisory.compose_stopped slice=[12]/2" "$T/tocsind.log"
expect_eq "$RS still queued" "$(sql "SELECT state||'/'||coalesce(approved_by, '-') FROM advisory WHERE reference='$RS'")" queued/-
expect_eq "$RS no message" "$(sql "SELECT count(*) FROM message WHERE reference='$RS'")" 0
expect_eq "$RS no approval audited" \
    "$(sql "SELECT count(*) FROM audit_log WHERE reference='$RS' AND action IN ('advisory.approved', 'advisory.dispatched')")" 0
expect_no_grep 'result=unclean' "$T/tocsind.log"
expect_rc 1 as tc_ana1 advisory list; cp "$T/last.err" "$T/down.err"
expect_grep "not running" "$T/down.err"

# mailread.py, the recipient's side: the signed and the signed+encrypted
# sample mails of test_pgp (TOCSIN_PGP_SAMPLES) are read with the
# recipient's keys; a byte changed in the signed part, the wrong expected
# signer, the wrong recipient, LF line ends, smtp-sink pseudo headers and
# broken or unreadable input are each reported as they should be.
MR="python3 $SRC/tests/integration/mailread.py"
S=$T/samples
mkdir -p "$S"
echo "== sample mails from test_pgp"
TOCSIN_PGP_SAMPLES=$S "$SRC/$BUILD/tests/test_pgp" >"$T/test_pgp.log" 2>&1 ||
    { cat "$T/test_pgp.log"; fail "test_pgp failed"; }
for f in signed.eml encrypted.eml csirt.fpr recipient.fpr csirt.pub.asc recipient.sec.asc; do
	[ -s "$S/$f" ] || fail "test_pgp wrote no $f"
done
CSIRT=$(cat "$S/csirt.fpr")
RCPT=$(cat "$S/recipient.fpr")

# The recipient's keyring: its own secret key and the CSIRT's public key.
export GNUPGHOME=$T/rcpt
mkdir -m 700 "$GNUPGHOME"
echo no-random-seed-file >"$GNUPGHOME/gpg.conf"
gpg --batch --quiet --import "$S/csirt.pub.asc" "$S/recipient.sec.asc" 2>/dev/null
trap 'gpgconf --homedir "$T/rcpt" --kill all 2>/dev/null; gpgconf --homedir "$T/other" --kill all 2>/dev/null' EXIT

# j FILE EXPR: a jq expression on a JSON file, raw output.
j() { jq -r "$2" "$1"; }

echo "== signed and encrypted, read by the recipient"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" --expect-signer "$CSIRT" "$S/encrypted.eml"
cp "$T/last.out" "$T/enc.json"
expect_eq "encrypted" "$(j "$T/enc.json" .encrypted)" true
expect_eq "decrypted for" "$(j "$T/enc.json" '.decrypted_for | join(",")')" "$RCPT"
expect_eq "signed" "$(j "$T/enc.json" .signed)" true
expect_eq "signature valid" "$(j "$T/enc.json" .signature_valid)" true
expect_eq "signer" "$(j "$T/enc.json" .signer)" "$CSIRT"
expect_eq "errors" "$(j "$T/enc.json" '.errors | length')" 0
expect_eq "outer subject" "$(j "$T/enc.json" .outer.Subject)" "[...]"
expect_grep '^\[TLP:AMBER\+STRICT\] \[TEST-EWS-2026-000042\] +Système vulnérable détecté$' \
    <(j "$T/enc.json" .protected.Subject)
expect_eq "protected from" "$(j "$T/enc.json" .protected.From)" \
    "CSIRT Early Warning <cert@csirt.example>"
expect_eq "text, first line" "$(j "$T/enc.json" .text | head -1)" "TLP:AMBER+STRICT"
expect_grep '^Votre système 192\.0\.2\.10 expose RDP\.$' <(j "$T/enc.json" .text)
expect_grep '^From here on, act quickly\.  $' <(j "$T/enc.json" .text)
expect_grep 'Votre système 192\.0\.2\.10' <(j "$T/enc.json" .html)
expect_eq "attachment" "$(j "$T/enc.json" '.attachments[0] | .filename + " " + .content_type')" \
    "evidence.csv text/csv"
expect_eq "attachment content" "$(j "$T/enc.json" '.attachments[0].content')" \
    "$(printf 'ip,port\n192.0.2.10,3389')"

echo "== signed only"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" --expect-signer "$CSIRT" "$S/signed.eml"
cp "$T/last.out" "$T/sig.json"
expect_eq "encrypted" "$(j "$T/sig.json" .encrypted)" false
expect_eq "signature valid" "$(j "$T/sig.json" .signature_valid)" true
expect_eq "signer" "$(j "$T/sig.json" .signer)" "$CSIRT"
expect_eq "outer subject" "$(j "$T/sig.json" .outer.Subject)" \
    "[TLP:AMBER+STRICT] [TEST-EWS-2026-000042] signed"
expect_grep 'Système vulnérable détecté$' <(j "$T/sig.json" .protected.Subject)
expect_eq "errors" "$(j "$T/sig.json" '.errors | length')" 0

echo "== one byte of the signed part changed"
sed 's/expose RDP/expose RDQ/' "$S/signed.eml" >"$T/tampered.eml"
cmp -s "$S/signed.eml" "$T/tampered.eml" && fail "sed changed nothing"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" "$T/tampered.eml"
expect_eq "tampered: signature valid" "$(j "$T/last.out" .signature_valid)" false
expect_eq "tampered: signed" "$(j "$T/last.out" .signed)" true
expect_grep 'signature not valid: BADSIG' "$T/last.out"
expect_grep 'expose RDQ' "$T/last.out" # still parsed and shown

echo "== signed by someone else than expected"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" --expect-signer "$RCPT" "$S/signed.eml"
expect_eq "wrong signer: valid" "$(j "$T/last.out" .signature_valid)" false
expect_grep "signed by $CSIRT, expected $RCPT" "$T/last.out"

echo "== LF line ends and smtp-sink pseudo headers"
{ printf 'X-Client-Addr: 127.0.0.1\nX-Client-Proto: ESMTP\nX-Rcpt-Args: <alice@example.test>\n'
  tr -d '\r' <"$S/encrypted.eml"; } >"$T/sink.eml"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" --expect-signer "$CSIRT" "$T/sink.eml"
expect_eq "pseudo header" "$(j "$T/last.out" '.outer["X-Client-Addr"]')" 127.0.0.1
expect_eq "LF: signature valid" "$(j "$T/last.out" .signature_valid)" true

echo "== a reader without the recipient's key"
mkdir -m 700 "$T/other"
GNUPGHOME=$T/other gpg --batch --quiet --import "$S/csirt.pub.asc" 2>/dev/null
expect_rc 0 $MR --gnupghome "$T/other" "$S/encrypted.eml"
expect_eq "other: encrypted" "$(j "$T/last.out" .encrypted)" true
expect_eq "other: signed" "$(j "$T/last.out" .signed)" false
expect_eq "other: text" "$(j "$T/last.out" .text)" null
expect_grep 'decryption failed' "$T/last.out"

echo "== odd input"
expect_rc 1 $MR --gnupghome "$GNUPGHOME" "$T/missing.eml"
expect_grep 'missing.eml' "$T/last.err"
: >"$T/empty.eml"
expect_rc 1 $MR --gnupghome "$GNUPGHOME" "$T/empty.eml"
head -c 3000 /dev/urandom | tr -d ':' >"$T/junk.eml"
printf '\001\002' | cat - "$T/junk.eml" >"$T/junk2.eml"
expect_rc 1 $MR --gnupghome "$GNUPGHOME" "$T/junk2.eml"
printf 'Subject: x\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nunclosed\r\n' >"$T/unclosed.eml"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" "$T/unclosed.eml"
expect_grep 'without its closing delimiter' "$T/last.out"
expect_eq "unclosed: text" "$(j "$T/last.out" .text)" unclosed
printf 'Subject: x\r\nContent-Type: multipart/signed; boundary="b"; protocol="application/pgp-signature"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nonly one part\r\n--b--\r\n' >"$T/onepart.eml"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" "$T/onepart.eml"
expect_eq "one part: valid" "$(j "$T/last.out" .signature_valid)" false
expect_grep 'with 1 parts, not 2' "$T/last.out"
# 40 nested multiparts: refused past the depth limit, no crash.
python3 -c '
import sys
n = 40
out = "Subject: deep\r\n"
for i in range(n):
    out += "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n" % (i, i)
out += "Content-Type: text/plain\r\n\r\nbottom\r\n"
for i in reversed(range(n)):
    out += "--b%d--\r\n" % i
sys.stdout.write(out)' >"$T/deep.eml"
expect_rc 0 $MR --gnupghome "$GNUPGHOME" "$T/deep.eml"
expect_grep 'nested more than 16 levels' "$T/last.out"

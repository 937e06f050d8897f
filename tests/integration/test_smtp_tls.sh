# Scenario: SMTP delivery over STARTTLS to a real, private Postfix
# (tests/mta.sh): REQUIRED with the right CA delivers over TLS; a wrong CA,
# the system store, a name the certificate does not cover, or a server that
# does not offer STARTTLS deliver nothing.  The cases are the cmocka tests of
# tests/unit/test_smtp_tls.c, run here against the MTA; this script checks
# the MTA's side (its log and what reached its sink).  Sourced by run.sh.

M=$T/mta
trap '"$SRC/tests/mta.sh" stop "$M"' EXIT
trap 'exit 143' INT TERM

if [ ! -x "$SRC/$BUILD/tests/test_smtp_tls" ]; then
	make -C "$SRC" --no-print-directory BUILD="$BUILD" \
	    "$BUILD/tests/test_smtp_tls" >"$T/make.log" 2>&1 ||
	    { cat "$T/make.log"; fail "cannot build test_smtp_tls"; }
fi

"$SRC/tests/mta.sh" start "$M" >"$T/mta-start.log" 2>&1 ||
    { cat "$T/mta-start.log"; fail "private Postfix did not start"; }
. "$M/env"
echo "  private Postfix: STARTTLS on $MTA_PORT, plain on $MTA_PLAIN_PORT"

export TOCSIN_SMTP_TLS_PORT=$MTA_PORT TOCSIN_SMTP_PLAIN_PORT=$MTA_PLAIN_PORT
export TOCSIN_SMTP_CA=$MTA_CA TOCSIN_SMTP_WRONG_CA=$MTA_WRONG_CA
export TOCSIN_SMTP_MAILDIR=$MTA_MAILDIR

run=("$SRC/$BUILD/tests/test_smtp_tls")
if [ "${VALGRIND:-0}" = 1 ]; then
	run=(valgrind -q --leak-check=full --error-exitcode=125
	    --suppressions="$SRC/tests/valgrind.supp" "${run[@]}")
fi
rc=0
CMOCKA_MESSAGE_OUTPUT=stdout "${run[@]}" >"$T/test_smtp_tls.log" 2>&1 || rc=$?
cat "$T/test_smtp_tls.log"
[ "$rc" -eq 0 ] || fail "test_smtp_tls failed (exit $rc)"
expect_no_grep 'SKIPPED' "$T/test_smtp_tls.log"
expect_grep '^\[  PASSED  \] 10 test' "$T/test_smtp_tls.log"

# The MTA's view: TLS sessions carried mail, refused certificates were
# refused in the handshake, and the plain port never saw STARTTLS.
cp "$MTA_LOG" "$T/postfix.log"
expect_grep 'TLS connection established from localhost\[127\.0\.0\.1\]' \
    "$T/postfix.log"
expect_grep 'alert (unknown ca|bad certificate)' "$T/postfix.log"
expect_grep 'ehlo=2 starttls=1 mail=1 rcpt=1 .*quit=1' "$T/postfix.log"
# A session whose STARTTLS failed or was never offered sent no MAIL.
if grep -E 'starttls=0/1 .*mail=' "$T/postfix.log"; then
	fail "mail sent in a session whose STARTTLS failed"
fi
echo "  ok: no MAIL after a failed STARTTLS"

# Everything that reached the sink came over TLS, except the one message
# sent with OPTIONAL to the plain port.
n_tls=$(grep -l '(using TLSv1' "$MTA_MAILDIR"/* | wc -l)
n_all=$(ls "$MTA_MAILDIR" | wc -l)
expect_eq "messages delivered without TLS" "$((n_all - n_tls))" 1

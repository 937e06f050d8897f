# Helpers for integration scenarios (sourced).  Each check prints what it
# checked, and fails the scenario with a message when it does not hold.

fail() { echo "FAILED: $*" >&2; exit 1; }

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', want '$3'"
	fi
	echo "  ok: $1 = '$3'"
}

# expect_rc WANT CMD...: run CMD, compare its exit code.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$T/last.out" 2>"$T/last.err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- stdout"; cat "$T/last.out"; echo "--- stderr"; cat "$T/last.err"
		fail "exit code of '$*': got $rc, want $want"
	fi
	echo "  ok: exit $want from $(basename "$1") ${2:-} ${3:-}"
}

# expect_grep PATTERN FILE: FILE must contain PATTERN (grep -E).
expect_grep() {
	grep -Eq -- "$1" "$2" || { echo "--- $2"; cat "$2"; fail "'$1' not in $2"; }
	echo "  ok: '$1' in $(basename "$2")"
}

# expect_no_grep PATTERN FILE
expect_no_grep() {
	if grep -Eq -- "$1" "$2"; then
		echo "--- $2"; cat "$2"; fail "'$1' unexpectedly in $2"
	fi
	echo "  ok: '$1' not in $(basename "$2")"
}

# sql QUERY: one value per line, unaligned.
sql() { psql -X -v ON_ERROR_STOP=1 -qtA -c "$1"; }

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "timed out after ${secs}s waiting for: $*"
}

# write_config [extra yaml lines...]: a tocsin.yaml for this scenario in
# $T/tocsin.yaml (PG* environment for the database, the sink for SMTP),
# exported as TOCSIN_CONFIG.
write_config() {
	mkdir -p "$T/spool" "$T/gnupg"
	chmod 700 "$T/gnupg"
	cat >"$T/tocsin.yaml" <<YAML
smtp: {from: cert@csirt.example, from_name: "CSIRT Early Warning", host: 127.0.0.1, port: ${SMTP_PORT:-25}, starttls: off, timeout: 10s}
gpg: {signing_key: ${CSIRT_FPR:-0123456789ABCDEF0123456789ABCDEF01234567}, homedir: $T/gnupg}
paths: {spool_dir: $T/spool, templates_dir: $SRC/templates}
service: {reference_prefix: TEST-EWS, control_socket: $T/control.sock, analysts_group: root, suppression_window: 1d}
YAML
	for line in "$@"; do
		echo "$line" >>"$T/tocsin.yaml"
	done
	export TOCSIN_CONFIG=$T/tocsin.yaml
}

# gen_key NAME EMAIL: an ed25519/cv25519 key without passphrase in
# $GNUPGHOME; prints its fingerprint.
gen_key() {
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "$1 <$2>" ed25519 sign,cert 1y 2>/dev/null
	local fpr
	fpr=$(gpg --batch --with-colons --list-keys "<$2>" |
	    awk -F: '/^fpr:/ {print $10; exit}')
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
	    --quick-add-key "$fpr" cv25519 encr 1y 2>/dev/null
	echo "$fpr"
}

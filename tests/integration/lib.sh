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

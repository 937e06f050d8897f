#!/usr/bin/env bash
# Fault harness: every tests/faults/fault_*.sh scenario gets its own
# temp dir with a fresh PostgreSQL cluster and SMTP sink (tests/services.sh),
# the schema applied, a timeout, and its logs dumped on failure.  Closing
# line: "N passed, N failed".
#
# A scenario is a bash script sourced in a subshell with these set:
#   T (its temp dir), BUILD, TOCSIND, TOCSINCTL, SRC (repository root), and
#   the variables of $T/env (PGHOST... SMTP_PORT MAILDIR).  It may call the
#   helpers of tests/integration/lib.sh.  It fails by exiting non-zero.
# Run one: tests/faults/run.sh fault_crash.  Sizes: see tests/faults/lib.sh
# (FAULTS_FULL=1 for the issue's full sizes).  Each scenario prints its
# figures as "FIGURE name value" lines, collected into $FAULTS_FIGURES
# (default build/faults-figures.txt).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
export SRC BUILD
export TOCSIND=$SRC/$BUILD/tocsind TOCSINCTL=$SRC/$BUILD/tocsinctl
TIMEOUT=${TEST_TIMEOUT:-600}

FIGURES=${FAULTS_FIGURES:-$SRC/$BUILD/faults-figures.txt}
mkdir -p "$(dirname "$FIGURES")"
: >"$FIGURES"
export FAULTS_FULL=${FAULTS_FULL:-}

filter=${1:-}
pass=0 fail=0 failed=()
for t in "$SRC"/tests/faults/fault_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	[ -n "$filter" ] && [ "$name" != "$filter" ] && continue
	T=$(mktemp -d /tmp/tocsin-fault.XXXXXX)
	start=$(date +%s)
	(
		set -eu
		export T
		trap 'faults_cleanup; "$SRC/tests/services.sh" stop "$T"' EXIT
		"$SRC/tests/services.sh" start "$T" >"$T/services.log" 2>&1 ||
		    { cat "$T/services.log"; exit 1; }
		. "$T/env"
		. "$SRC/tests/integration/lib.sh"
		. "$SRC/tests/faults/lib.sh"
		timeout --foreground -k 10 "$TIMEOUT" bash -eu \
		    -c '. "$SRC/tests/integration/lib.sh"; . "$SRC/tests/faults/lib.sh"; . "$1"' _ "$t"
	) >"$T/test.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	grep '^FIGURE ' "$T/test.log" | sed "s/^FIGURE /$name /" >>"$FIGURES" || true
	grep '^FIGURE ' "$T/test.log" | sed 's/^FIGURE /     /' || true
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok   $name (${secs}s)"
		[ -n "${KEEP:-}" ] || rm -rf "$T" 2>/dev/null || true
	else
		fail=$((fail + 1))
		failed+=("$name")
		echo "FAIL $name (exit $rc, ${secs}s), dir $T; log:"
		tail -n 80 "$T/test.log" | sed 's/^/    /'
		for l in "$T"/*.log; do
			case $l in */test.log) continue ;; esac
			[ -f "$l" ] || continue
			echo "  --- $(basename "$l")"
			tail -n 30 "$l" | sed 's/^/    /'
		done
	fi
done
echo "figures in $FIGURES"
echo "faults: $pass passed, $fail failed"
[ $fail -eq 0 ]

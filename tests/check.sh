#!/usr/bin/env bash
# Everything `make check` runs, in order, with one closing line for CI:
# build (gcc), unit tests, integration tests against real PostgreSQL/SMTP/gpg,
# the fault suite at CI sizes (tests/faults/, under 3 minutes), fuzz corpus
# replay, lint, the ASan+UBSan build of the unit tests, the
# integration scenarios and fuzz replay, valgrind over the unit tests, and a short libFuzzer run of each
# target when clang is there.  Stages that fail do not stop the later ones.
set -u
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
JOBS=${JOBS:-$(nproc)}
stages=(build unit integration faults fuzz-replay lint asan valgrind fuzz)
pass=0 fail=0 failed=()
t0=$(date +%s)
run_stage() {
	local name=$1 start rc
	shift
	start=$(date +%s)
	echo "=== $name"
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "=== $name: ok ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1))
		failed+=("$name")
		echo "=== $name: FAILED ($(( $(date +%s) - start ))s)"
	fi
}
for s in "${stages[@]}"; do
	case $s in
	build) run_stage build $MAKE -j"$JOBS" all ;;
	unit) run_stage unit $MAKE --no-print-directory unit ;;
	integration) run_stage integration $MAKE --no-print-directory integration ;;
	faults) run_stage faults $MAKE --no-print-directory faults ;;
	fuzz-replay) run_stage fuzz-replay $MAKE --no-print-directory fuzz-replay ;;
	lint) run_stage lint $MAKE --no-print-directory lint ;;
	asan) run_stage asan $MAKE -j"$JOBS" --no-print-directory \
	    BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' HARDEN= \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' \
	    unit integration fuzz-replay ;;
	valgrind) run_stage valgrind $MAKE --no-print-directory valgrind ;;
	fuzz)
		if command -v clang >/dev/null; then
			run_stage fuzz $MAKE -j"$JOBS" --no-print-directory fuzz \
			    FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
		else
			echo "=== fuzz: skipped (no clang)"
		fi
		;;
	esac
done
echo "check took $(( $(date +%s) - t0 ))s; failed stages: ${failed[*]:-none}"
echo "check: $pass passed, $fail failed"
[ $fail -eq 0 ]

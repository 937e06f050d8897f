#!/usr/bin/env bash
# Run unit test executables (cmocka), optionally under valgrind (VALGRIND=1).
# Prints one line per executable and a closing "N passed, N failed" line
# counting test cases.
set -u
build=$1
shift
pass=0 fail=0 failed_bins=()
mkdir -p "$build/logs"
for t in "$@"; do
	name=$(basename "$t")
	log="$build/logs/$name.log"
	if [ "${VALGRIND:-0}" = 1 ]; then
		run=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
		    --errors-for-leak-kinds=definite,indirect --error-exitcode=125
		    --suppressions=tests/valgrind.supp "$t")
	else
		run=("$t")
	fi
	TOCSIN_TEST_DATA=tests/data CMOCKA_MESSAGE_OUTPUT=stdout "${run[@]}" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	p=${p:-0} f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed, leaked or valgrind error: count it
	fi
	pass=$((pass + p)) fail=$((fail + f))
	if [ $rc -ne 0 ]; then
		failed_bins+=("$name")
		echo "FAIL $name (exit $rc), log:"
		sed 's/^/    /' "$log" | tail -n 60
	else
		echo "ok   $name ($p tests)"
	fi
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ ${#failed_bins[@]} -eq 0 ]

#!/usr/bin/env bash
# Replay every corpus and repro input through each fuzz target (no libFuzzer
# needed).  tests/fuzz/corpus/<name>/ and tests/fuzz/repro/<name>/ hold the
# inputs of target fuzz_<name>.  Closing line: "N passed, N failed".
set -u
build=$1
shift
pass=0 fail=0
mkdir -p "$build/logs"
for bin in "$@"; do
	name=$(basename "$bin" -replay)
	name=${name#fuzz_}
	files=()
	for d in tests/fuzz/corpus/$name tests/fuzz/repro/$name; do
		[ -d "$d" ] || continue
		while IFS= read -r -d '' f; do files+=("$f"); done \
		    < <(find "$d" -type f -print0)
	done
	if [ ${#files[@]} -eq 0 ]; then
		echo "FAIL fuzz_$name: no corpus in tests/fuzz/corpus/$name"
		fail=$((fail + 1))
		continue
	fi
	if "$bin" "${files[@]}" >"$build/logs/fuzz_$name.log" 2>&1; then
		echo "ok   fuzz_$name ($(tail -n1 "$build/logs/fuzz_$name.log"))"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_$name:"
		tail -n 40 "$build/logs/fuzz_$name.log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "fuzz-replay: $pass passed, $fail failed"
[ $fail -eq 0 ]

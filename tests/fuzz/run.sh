#!/usr/bin/env bash
# Short coverage-guided run of each libFuzzer target: SECONDS each, starting
# from the committed corpus (new inputs go to a scratch dir, so the tree is
# not modified).  A crash is saved to tests/fuzz/repro/<name>/ to be kept
# forever once fixed.  Closing line: "N passed, N failed".
set -u
secs=$1
shift
pass=0 fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	scratch=$(mktemp -d)
	mkdir -p "tests/fuzz/repro/$name"
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	if "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
	    -timeout=10 -print_final_stats=0 "${dict[@]}" \
	    -artifact_prefix="tests/fuzz/repro/$name/" \
	    "$scratch" "tests/fuzz/corpus/$name" >"$scratch.log" 2>&1; then
		echo "ok   fuzz_$name ($(grep -Eo '#[0-9]+' "$scratch.log" | tail -n1 | tr -d '#') execs in ${secs}s)"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_$name:"
		grep -A30 -E 'ERROR|SUMMARY|crash' "$scratch.log" | head -n 60 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
	rmdir "tests/fuzz/repro/$name" 2>/dev/null || true
	rm -rf "$scratch" "$scratch.log"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]

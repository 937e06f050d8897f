#!/usr/bin/env bash
# Project rules a compiler does not check (STYLE.md §6, §1):
#  - banned calls;
#  - pure modules include no I/O library header.
# Closing line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
check() { # name, command that prints offending lines
	local out
	out=$(eval "$2")
	if [ -n "$out" ]; then
		echo "FAIL $1:"
		echo "$out" | sed 's/^/    /'
		fail=$((fail + 1))
	else
		echo "ok   $1"
		pass=$((pass + 1))
	fi
}
srcs="src include tests/unit tests/fuzz bench"
check "banned calls" \
    "grep -rnE '\\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|alloca)\\s*\\(' $srcs --include='*.c' --include='*.h' | grep -v 'lint: allow'"
pure='buf str esc tlp csv feed_* event indicator category index* match aggregate retry mustache template mime proto'
files=
for m in $pure; do
	for f in src/lib/$m.c include/tocsin/$m.h; do
		[ -f "$f" ] && files="$files $f"
	done
done
check "pure modules include no I/O library" \
    "[ -z '$files' ] || grep -nE '#include <(uv|libpq-fe|gpgme|libesmtp|curl/curl)\\.h>' $files"
echo "lint: $pass passed, $fail failed"
[ $fail -eq 0 ]

#!/usr/bin/env bash
# Matching benchmark: the C index against PostgreSQL's GiST index on inet,
# on the same generated national-scale registry, in the same run.  Prints a
# table with the machine, the inputs, medians of RUNS runs, and the ratio.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
B=$SRC/$BUILD/bench/match
D=$(mktemp -d /tmp/tocsin-bench.XXXXXX)
trap '"$SRC/tests/services.sh" stop "$D" >/dev/null 2>&1 || true; rm -rf "$D"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

"$B" gen "$D" >/dev/null
for i in $(seq "$RUNS"); do "$B" run "$D" >"$D/run$i.txt"; done
cat "$D"/run*.txt >"$D/all.txt"
build=$(field build_s <"$D/all.txt" | median)
e2e=$(field e2e_rows_per_s <"$D/all.txt" | median)
look=$(field lookups_per_s <"$D/all.txt" | median)
rss=$(field peak_rss_mb <"$D/all.txt" | median)
hits=$(field hits <"$D/run1.txt")

# The way a user would otherwise do it: a GiST index on inet, one query per
# row (as a contact lookup does), measured on 50,000 rows of the same feed.
"$SRC/tests/services.sh" start "$D" >/dev/null
. "$D/env"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE p (prefix cidr NOT NULL, entity integer NOT NULL);
\copy p FROM '$D/prefixes.tsv'
CREATE INDEX ON p USING gist (prefix inet_ops);
ANALYZE p;
CREATE TABLE ips (ip inet NOT NULL);
\copy ips FROM '$D/sample.txt'
SQL
pg=()
for i in $(seq "$RUNS"); do
	t0=$(date +%s.%N)
	psql -X -qtA -c "SELECT count(m.entity) FROM ips i LEFT JOIN LATERAL
	    (SELECT entity FROM p WHERE p.prefix >>= i.ip
	     ORDER BY masklen(p.prefix) DESC LIMIT 1) m ON true" >/dev/null
	t1=$(date +%s.%N)
	pg+=("$(echo "50000 / ($t1 - $t0)" | bc -l)")
done
pgrate=$(printf '%s\n' "${pg[@]}" | median)

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
printf '\nmachine: %s, %s cores, %s RAM; %s\n' "$cpu" "$(nproc)" \
    "$(free -h | awk '/^Mem:/ {print $2}')" "$(date -u +%Y-%m-%d)"
printf 'inputs: 50,000 entities, 500,000 IPv4 + 100,000 IPv6 prefixes, 200,000 domains, 10,000 ASNs;\n'
printf '        2,000,000-row Shadowserver scan_rdp CSV (%s hits); medians of %s runs\n\n' "$hits" "$RUNS"
printf '| measure | tocsin (one core) | target |\n|---|---|---|\n'
printf '| index build | %.2f s | < 2 s |\n' "$build"
printf '| end to end (parse + match) | %.0f rows/s | >= 1,000,000 |\n' "$e2e"
printf '| pure IPv4 lookups | %.0f /s | >= 5,000,000 |\n' "$look"
printf '| peak RSS | %.0f MB | < 1 GB |\n' "$rss"
printf '| PostgreSQL GiST (inet >>=, 50,000 rows) | %.0f rows/s | baseline |\n' "$pgrate"
printf '| ratio end to end / PostgreSQL | %.0fx | |\n' "$(echo "$e2e / $pgrate" | bc -l)"

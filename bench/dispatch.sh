#!/usr/bin/env bash
# Delivery benchmark: (a) one spear warning to each of N entities end to end
# through the real tocsind (spool → match → render, sign, encrypt → outbox →
# SMTP), (b) one advisory to N subscribers in four languages through the
# library (bench/dispatch advisory), and, in the same run with the same
# keys, the ceilings they are compared to: raw gpgme sign+encrypt and
# encrypt-only ops/s at 1 and 2 threads, and Postfix smtp-source into the
# same smtp-sink at 1 and 2 sessions.  Prints the machine, the inputs and
# one table (medians of RUNS runs).  (a) runs with gpg in tocsind's gpg
# helper processes (the default) and again with gpg.helpers: false; (b)
# runs with and without helpers (BENCH_HELPERS=1), each mail sent as soon
# as it is composed (BENCH_PIPELINE=1), all composed then sent, and
# streaming.
#
# Environment: BENCH_RUNS (default 3) runs of every measure but (a),
# BENCH_RUNS_A (default 1: one run of (a) takes 2-4 minutes) runs of (a),
# BENCH_CHUNK (500) recipients per call in the streaming variant of (b),
# BENCH_A_INPROCESS (1; 0 skips (a) with gpg.helpers: false), BENCH_N
# (10000) entities / subscribers, BENCH_KEYS (64) contact keys
# shared by the contacts, BENCH_OPS (400) operations per raw gpgme run.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-3}
RUNS_A=${BENCH_RUNS_A:-1}
N=${BENCH_N:-10000}
K=${BENCH_KEYS:-64}
OPS=${BENCH_OPS:-400}
CHUNK=${BENCH_CHUNK:-500}
B=$SRC/$BUILD/bench/dispatch
TOCSIND=$SRC/$BUILD/tocsind
TOCSINCTL=$SRC/$BUILD/tocsinctl
T=$(mktemp -d /tmp/tocsin-bench.XXXXXX)
export T SRC
. "$SRC/tests/integration/lib.sh"
cleanup() {
	stop_tocsind >/dev/null 2>&1 || true
	for h in "$T/gnupg" "$T/rcpt"; do
		gpgconf --homedir "$h" --kill all >/dev/null 2>&1 || true
	done
	"$SRC/tests/services.sh" stop "$T" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
[ -x "$B" ] && [ -x "$TOCSIND" ] || { echo "dispatch: build first (make all)" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*\<$1=\([0-9.]*\).*/\1/p"; }
log() { echo "dispatch: $*" >&2; }

"$SRC/tests/services.sh" start "$T" >"$T/services.log"
. "$T/env"
U=$(service_user)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- keys: the CSIRT's Ed25519 signing key, K contacts' Ed25519/Cv25519
# keys (generated in one gpg run), their public keys in the service keyring.
log "generating 1 + $K keys"
mkdir -p -m 700 "$T/gnupg" "$T/rcpt"
for h in "$T/gnupg" "$T/rcpt"; do echo no-random-seed-file >"$h/gpg.conf"; done
CSIRT_FPR=$(GNUPGHOME=$T/gnupg gen_key "CSIRT Early Warning" cert@csirt.example)
{
	for i in $(seq "$K"); do
		printf 'Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n'
		printf 'Subkey-Type: ecdh\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\n'
		printf 'Name-Real: Bench Contact %d\nName-Email: key%d@bench.example\n' "$i" "$i"
		printf 'Expire-Date: 1y\n%%no-protection\n%%commit\n'
	done
} >"$T/keys.params"
GNUPGHOME=$T/rcpt gpg --batch --quiet --gen-key "$T/keys.params" 2>/dev/null
GNUPGHOME=$T/rcpt gpg --batch --with-colons --list-keys |
    awk -F: '/^pub:/ {p=1; next} p && /^fpr:/ {print $10; p=0}' >"$T/fprs.txt"
[ "$(wc -l <"$T/fprs.txt")" -eq "$K" ] || { log "key generation failed"; exit 1; }
GNUPGHOME=$T/rcpt gpg --batch --export | GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null
gpgconf --homedir "$T/rcpt" --kill all 2>/dev/null || true
mapfile -t FPRS <"$T/fprs.txt"
cp -R "$SRC/templates" "$T/templates"
chmod -R a+rX "$T/templates"

# ---- the registry (N entities, one /32 or /28 each, one spear contact
# pinning one of the K keys, languages fr nl de en in turn), the feed (one
# scan_rdp finding per entity) and the subscribers of (b).
LANGS=(fr nl de en)
KINDS=(essential important public_admin other)
log "generating $N entities"
{
	echo "entities:"
	for ((i = 0; i < N; i++)); do
		a=$((i >> 8)) b=$((i & 255))
		l=${LANGS[i % 4]}
		if ((i % 2)); then p="10.$a.$b.1/32"; else p="10.$a.$b.0/28"; fi
		printf '  - name: Bench Entity %05d\n    enterprise_number: "%010d"\n' "$i" "$((200000000 + i))"
		printf '    kind: %s\n    sector: energy\n    language: %s\n' "${KINDS[i % 4]}" "$l"
		printf '    contacts:\n      - {email: soc%05d@entity%05d.example, name: SOC %05d, language: %s, pgp_fingerprint: "%s", receives: [spear]}\n' \
		    "$i" "$i" "$i" "$l" "${FPRS[i % K]}"
		printf '    assets:\n      - ipv4: %s\n' "$p"
	done
} >"$T/registry.yaml"
day=$(date -u +%Y-%m-%d)
{
	echo '"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sector","rdp_protocol"'
	for ((i = 0; i < N; i++)); do
		printf '"%s 01:02:03","medium","10.%d.%d.1","tcp",3389,,"rdp",64500,"BE","Brussels","Brussels",,,"RDP"\n' \
		    "$day" $((i >> 8)) $((i & 255))
	done
} >"$T/feed.csv"
for ((i = 0; i < N; i++)); do
	echo "sub$i@subscriber$i.example ${LANGS[i % 4]} ${FPRS[i % K]}"
done >"$T/subscribers.txt"

cat >"$T/tocsin.yaml" <<YAML
smtp: {from: cert@csirt.example, from_name: "CSIRT Early Warning", host: 127.0.0.1, port: $SMTP_PORT, starttls: off, timeout: 30s, max_sessions: 2, max_messages_per_session: 100}
gpg: {signing_key: $CSIRT_FPR, homedir: $T/gnupg, workers: 2, helpers: true}
paths: {spool_dir: $T/spool, templates_dir: $T/templates}
service: {reference_prefix: BENCH-EWS, control_socket: $T/run/control.sock, analysts_group: $(id -gn "$U"), suppression_window: 1d}
log: {level: notice}
YAML
export TOCSIN_CONFIG=$T/tocsin.yaml
gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null || true

gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null || true
chown -R "$U": "$T/gnupg" # the service keyring: every use runs as $U
as_u() { GNUPGHOME=$T/gnupg runuser -u "$U" -- "$@"; }

# Every measure is taken RUNS times, the ceilings right next to the stage
# they bound (the machine is shared: load changes within minutes), and each
# ratio is computed within one run, then the median is taken.
raw() { # KIND THREADS → one key=value line
	as_u "$B" raw "$1" "$T/gnupg" "$T/templates" "$CSIRT_FPR" "$T/fprs.txt" "$2" "$OPS"
}
smtp_source() { # SESSIONS COUNT SIZE → msgs/s
	local t0 t1
	t0=$(date +%s.%N)
	/usr/sbin/smtp-source -d -s "$1" -m "$2" -l "$3" -f cert@csirt.example \
	    -t sub@subscriber.example "127.0.0.1:$SMTP_PORT" >/dev/null
	t1=$(date +%s.%N)
	rm -f "$MAILDIR"/* 2>/dev/null || true
	echo "$2 / ($t1 - $t0)" | bc -l
}
ratio() { echo "$1 / $2" | bc -l; }
# One (b) variant: NAME (its result files), what it is, environment
# (KEY=VALUE words), CHUNK; the sink must get every mail.
adv_run() {
	log "run $r/$RUNS: (b) $2"
	env $3 GNUPGHOME="$T/gnupg" runuser -u "$U" -- "$B" advisory "$T/gnupg" "$T/templates" \
	    "$CSIRT_FPR" "$T/subscribers.txt" "$SMTP_PORT" 2 "$4" >"$T/$1-$r.txt"
	got=$(ls "$MAILDIR" | wc -l)
	[ "$got" -eq "$N" ] || { log "(b) $2: the sink got $got mails, want $N"; exit 1; }
	rm -f "$MAILDIR"/*
	cat "$T/$1-$r.txt" >>"$T/$1.txt"
}

# ---- (b) one advisory to N subscribers through the library, with the
# raw gpgme ceilings and smtp-source around it.
for r in $(seq "$RUNS"); do
	log "run $r/$RUNS: raw gpgme (signenc sign+enc enc, 1 and 2 threads, $OPS ops each)"
	for kind in signenc sign+enc enc; do
		for th in 1 2; do raw "$kind" "$th" >>"$T/raw-$kind-$th.txt"; done
	done
	#   file   what                                          environment     CHUNK
	adv_run adv   "advisory to $N subscribers, gpg forked here" ""              0
	adv_run advh  "the same, gpg in 2 helpers (as tocsind)"     "BENCH_HELPERS=1" 0
	adv_run advp  "gpg in 2 helpers, each mail sent once composed" "BENCH_HELPERS=1 BENCH_PIPELINE=1" 0
	adv_run advc  "streaming, $CHUNK per call, composed, sent and freed" "" "$CHUNK"
	adv_run advch "streaming with gpg in 2 helpers"              "BENCH_HELPERS=1" "$CHUNK"
	# The same encryptions with as much memory held as (b) holds.
	BENCH_BALLAST_MB=$(field peak_rss_mb <"$T/adv-$r.txt" | cut -d. -f1) raw enc 2 >>"$T/raw-enc-2-ballast.txt"
	enc2=$(tail -n1 "$T/raw-enc-2.txt" | field ops_per_s)
	raw enc 2 >>"$T/raw-enc-2-after.txt"
	enc2=$(echo "($enc2 + $(tail -n1 "$T/raw-enc-2-after.txt" | field ops_per_s)) / 2" | bc -l)
	echo "ratio=$(ratio "$(field msgs_per_s <"$T/adv-$r.txt")" "$enc2") \
helpers_ratio=$(ratio "$(field msgs_per_s <"$T/advh-$r.txt")" "$enc2") \
pipeline_ratio=$(ratio "$(field msgs_per_s <"$T/advp-$r.txt")" "$enc2") \
helpers_compose_ratio=$(ratio "$(field compose_per_s <"$T/advh-$r.txt")" "$enc2") \
stream_ratio=$(ratio "$(field msgs_per_s <"$T/advc-$r.txt")" "$enc2") \
stream_helpers_ratio=$(ratio "$(field msgs_per_s <"$T/advch-$r.txt")" "$enc2") compose_ratio=$(ratio "$(field compose_per_s <"$T/adv-$r.txt")" "$enc2")" >>"$T/ratio-b.txt"
	# smtp-source sends messages of the advisory's wire size.
	msgsize=$(field wire_bytes <"$T/adv-$r.txt")
	log "run $r/$RUNS: smtp-source, 1 and 2 sessions, $N messages of $msgsize bytes"
	smtp_source 1 "$N" "$msgsize" >>"$T/smtp-1.txt"
	s2=$(smtp_source 2 "$N" "$msgsize")
	echo "$s2" >>"$T/smtp-2.txt"
	echo "ratio=$(ratio "$(field send_per_s <"$T/adv-$r.txt")" "$s2")" >>"$T/ratio-smtp.txt"
done

# ---- (a) spear warnings end to end through tocsind, a fresh database
# each run (the same findings again would be suppressed), the sign+encrypt
# ceiling measured just before and just after.
for r in $(seq "$RUNS_A"); do
for mode in helpers inproc; do
	if [ "$mode" = helpers ]; then
		sed -i 's/helpers: false}/helpers: true}/' "$T/tocsin.yaml"
		sfx=""
	else
		[ "${BENCH_A_INPROCESS:-1}" = 1 ] || continue
		sed -i 's/helpers: true}/helpers: false}/' "$T/tocsin.yaml"
		sfx="-inproc"
	fi
	log "(a) run $r/$RUNS_A: $N spear warnings through tocsind (gpg: $mode)"
	raw sign+enc 2 >>"$T/raw-a$sfx.txt"
	dropdb --if-exists tocsin && createdb tocsin
	"$TOCSINCTL" db migrate >/dev/null
	"$TOCSINCTL" entity import "$T/registry.yaml" >/dev/null
	rm -rf "$T/spool" && mkdir -p "$T/spool/incoming"
	: >"$T/tocsind.log"
	start_tocsind
	pid=$(pgrep -P "$TOCSIND_PID" -x tocsind || echo "$TOCSIND_PID")
	t0=$(date +%s.%N)
	drop "$T/feed.csv" "$day-scan_rdp-bench-$r.csv"
	deadline=$(( $(date +%s) + 900 ))
	while :; do
		c=$(sql "SELECT count(*) FILTER (WHERE state = 'sent') || ' ' ||
		    count(*) FILTER (WHERE state IN ('held','failed')) FROM message")
		set -- $c
		[ "$1" -ge "$N" ] && break
		[ "$2" -eq 0 ] || { sql "SELECT held_reason FROM message WHERE held_reason IS NOT NULL LIMIT 3" >&2; log "(a): $2 held or failed"; exit 1; }
		[ -e "$T/spool/failed/$day-scan_rdp-bench-$r.csv" ] && { cat "$T/spool/failed/"*.error >&2; exit 1; }
		[ "$(date +%s)" -lt "$deadline" ] || { log "(a): timed out with $1 sent"; exit 1; }
		sleep 0.2
	done
	# created_at is the commit's transaction time: drop → created_at is
	# prepare + compose (+ the start of the commit), created_at → last
	# sent_at is the commit and the sender.
	read -r t1 tq ts <<<"$(sql "SELECT extract(epoch FROM max(sent_at)) || ' ' ||
	    extract(epoch FROM min(created_at)) || ' ' || extract(epoch FROM min(sent_at)) FROM message" | tr '|' ' ')"
	hwm=$(awk '/^VmHWM:/ {print $2 / 1024}' "/proc/$pid/status")
	hhwm=0
	# CPU seconds (utime + stime; children reaped: gpg runs) of tocsind
	# and of its helpers with their gpg runs, read before the stop.
	cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz, ($14 + $15) / hz}' "/proc/$1/stat"; }
	read -r dcpu dgpg <<<"$(cpu_of "$pid")"
	hcpu=0
	for h in $(pgrep -P "$pid" -f -- --gpg-helper || true); do
		hhwm=$(awk -v m="$hhwm" '/^VmHWM:/ {v = $2 / 1024; print (v > m ? v : m)}' "/proc/$h/status")
		hcpu=$(cpu_of "$h" | awk -v s="$hcpu" '{print s + $1 + $2}')
	done
	got=$(ls "$MAILDIR" | wc -l)
	[ "$got" -eq "$N" ] || { log "(a): the sink got $got mails, want $N"; exit 1; }
	wire=$(du -sb "$MAILDIR" | awk -v n="$N" '{printf "%d", $1 / n}')
	stop_tocsind
	cp "$T/tocsind.log" "$T/tocsind-$r$sfx.log"
	rm -f "$MAILDIR"/*
	raw sign+enc 2 >>"$T/raw-a$sfx.txt"
	ceil=$(tail -n2 "$T/raw-a$sfx.txt" | field ops_per_s | awk '{s += $1} END {print s / NR}')
	a_rate=$(echo "$N / ($t1 - $t0)" | bc -l)
	echo "msgs_per_s=$a_rate seconds=$(echo "$t1 - $t0" | bc -l) \
compose_s=$(echo "$tq - $t0" | bc -l) send_s=$(echo "$t1 - $tq" | bc -l) \
first_sent_s=$(echo "$ts - $t0" | bc -l) peak_rss_mb=$hwm helper_rss_mb=$hhwm wire_bytes=$wire \
cpu_tocsind_s=$dcpu cpu_gpg_in_tocsind_s=$dgpg cpu_helpers_s=$hcpu \
ceiling=$ceil ratio=$(ratio "$a_rate" "$ceil")" >>"$T/spear$sfx.txt"
done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table.
med() { field "$2" <"$1" | median; }
se1=$(med "$T/raw-signenc-1.txt" ops_per_s) se2=$(med "$T/raw-signenc-2.txt" ops_per_s)
st1=$(med "$T/raw-sign+enc-1.txt" ops_per_s) st2=$(med "$T/raw-sign+enc-2.txt" ops_per_s)
en1=$(med "$T/raw-enc-1.txt" ops_per_s) en2=$(med "$T/raw-enc-2.txt" ops_per_s)
sm1=$(median <"$T/smtp-1.txt") sm2=$(median <"$T/smtp-2.txt")
a=$(med "$T/spear.txt" msgs_per_s) arss=$(med "$T/spear.txt" peak_rss_mb)
ra=$(med "$T/spear.txt" ratio) rb=$(med "$T/ratio-b.txt" ratio)
rbc=$(med "$T/ratio-b.txt" compose_ratio) rbs=$(med "$T/ratio-b.txt" stream_ratio)
bst=$(med "$T/advc.txt" msgs_per_s) bstrss=$(med "$T/advc.txt" peak_rss_mb)
bsth=$(med "$T/advch.txt" msgs_per_s) bsthrss=$(med "$T/advch.txt" peak_rss_mb) rbsh=$(med "$T/ratio-b.txt" stream_helpers_ratio)
enb=$(med "$T/raw-enc-2-ballast.txt" ops_per_s) enbrss=$(med "$T/raw-enc-2-ballast.txt" peak_rss_mb) rs=$(med "$T/ratio-smtp.txt" ratio)
ac=$(med "$T/spear.txt" compose_s) as=$(med "$T/spear.txt" send_s) aceil=$(med "$T/spear.txt" ceiling)
b=$(med "$T/adv.txt" msgs_per_s) brss=$(med "$T/adv.txt" peak_rss_mb)
bp=$(med "$T/advp.txt" msgs_per_s) bprss=$(med "$T/advp.txt" peak_rss_mb) rbp=$(med "$T/ratio-b.txt" pipeline_ratio)
bh=$(med "$T/advh.txt" msgs_per_s) bhrss=$(med "$T/advh.txt" peak_rss_mb) rbh=$(med "$T/ratio-b.txt" helpers_ratio)
bhc=$(med "$T/advh.txt" compose_per_s) rbhc=$(med "$T/ratio-b.txt" helpers_compose_ratio)
ahrss=$(med "$T/spear.txt" helper_rss_mb) afirst=$(med "$T/spear.txt" first_sent_s)
bc_=$(med "$T/adv.txt" compose_per_s) bs=$(med "$T/adv.txt" send_per_s)
rss() { med "$1" peak_rss_mb; }
pct() { echo "100 * $1 / $2" | bc -l; }

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
printf '\nmachine: %s, %s cores, %s RAM; %s; load average %s before, %s after\n' \
    "$cpu" "$(nproc)" "$(free -h | awk '/^Mem:/ {print $2}')" "$(date -u +%Y-%m-%d)" "$load0" "$load1"
printf 'gpg: %s, gpgme %s; keys: CSIRT Ed25519 (signing), %s contact keys Ed25519/Cv25519\n' \
    "$(gpg --version | head -n1 | awk '{print $3}')" "$(dpkg-query -W -f '${Version}' libgpgme11 2>/dev/null || echo '?')" "$K"
printf '     shared by the %s contacts/subscribers (each pins one; the cost per message is the same)\n' "$N"
printf 'inputs: %s entities (one /32 or /28, one spear contact each, fr/nl/de/en in turn), one\n' "$N"
printf '        scan_rdp finding each; %s advisory subscribers (fr/nl/de/en); tocsind gpg.workers 2,\n' "$N"
printf '        smtp.max_sessions 2, 100 messages per session; smtp-sink writes every mail to a file\n'
printf 'sizes: spear inner entity %s B (wire %s B), advisory signed entity %s B (wire %s B),\n' \
    "$(med "$T/raw-signenc-1.txt" in_bytes)" "$(med "$T/spear.txt" wire_bytes)" \
    "$(med "$T/raw-enc-1.txt" in_bytes)" "$(med "$T/adv.txt" wire_bytes)"
printf '       smtp-source messages %s B; medians of %s runs ((a): %s); ratios are taken within a run\n\n' "$msgsize" "$RUNS" "$RUNS_A"
printf '| stage | msgs/s | ratio to its ceiling (same run) | peak RSS |\n|---|---|---|---|\n'
printf '| (a) %s spear warnings, tocsind end to end (drop → last sent) | %.1f | %.0f%% of sign+encrypt, 2 threads (%.1f, measured before and after; target >= 80%%) | %.0f MB (tocsind VmHWM) |\n' \
    "$N" "$a" "$(pct "$ra" 1)" "$aceil" "$arss"
printf '| (a) each run: msgs/s at %% of its ceiling | %s | | |\n' \
    "$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]} printf "%s%.1f at %.0f%%", (NR > 1 ? ", " : ""), v["msgs_per_s"], 100 * v["ratio"]}' "$T/spear.txt")"
printf '| (a) CPU seconds: tocsind itself / gpg it ran / helpers and their gpg runs | %.1f / %.1f / %.1f | | |\n' \
    "$(med "$T/spear.txt" cpu_tocsind_s)" "$(med "$T/spear.txt" cpu_gpg_in_tocsind_s)" "$(med "$T/spear.txt" cpu_helpers_s)"
printf '| (a) gpg helpers: largest helper VmHWM / first mail sent after the drop | %.0f MB / %.1f s | | |\n' "$ahrss" "$afirst"
if [ -s "$T/spear-inproc.txt" ]; then
	printf '| (a) the same with gpg run from tocsind itself (gpg.helpers: false) | %.1f | %.0f%% of sign+encrypt, 2 threads (%.1f) | %.0f MB |\n' \
	    "$(med "$T/spear-inproc.txt" msgs_per_s)" "$(pct "$(med "$T/spear-inproc.txt" ratio)" 1)" \
	    "$(med "$T/spear-inproc.txt" ceiling)" "$(med "$T/spear-inproc.txt" peak_rss_mb)"
fi
printf '| (b) one advisory to %s subscribers, library, 2 threads, gpg in 2 helpers, each mail sent once composed | %.1f | %.0f%% of encrypt-only, 2 threads (target >= 80%%) | %.0f MB |\n' \
    "$N" "$bp" "$(pct "$rbp" 1)" "$bprss"
printf '| (b) the same, all composed then all sent | %.1f | %.0f%% of encrypt-only, 2 threads | %.0f MB |\n' \
    "$bh" "$(pct "$rbh" 1)" "$bhrss"
printf '| (b) of which the compose stage (8 signatures, %s encryptions) | %.1f | %.0f%% of encrypt-only, 2 threads | |\n' "$N" "$bhc" "$(pct "$rbhc" 1)"
printf '| (b) the same with gpg forked from the process (no helpers) | %.1f | %.0f%% of encrypt-only, 2 threads | %.0f MB |\n' \
    "$b" "$(pct "$rb" 1)" "$brss"
printf '| (b) of which the compose stage | %.1f | %.0f%% of encrypt-only, 2 threads | |\n' "$bc_" "$(pct "$rbc" 1)"
printf '| (b) streaming: %s recipients per call, sent and freed at once (4 signatures a call) | %.1f | %.0f%% of encrypt-only, 2 threads | %.0f MB |\n' "$CHUNK" "$bst" "$(pct "$rbs" 1)" "$bstrss"
printf '| (b) streaming, %s per call, gpg in 2 helpers | %.1f | %.0f%% of encrypt-only, 2 threads | %.0f MB |\n' "$CHUNK" "$bsth" "$(pct "$rbsh" 1)" "$bsthrss"
printf '| (b) SMTP stage alone (tc_smtp_send, 2 threads, sessions of 100) | %.0f | %.0f%% of smtp-source, 2 sessions | |\n' "$bs" "$(pct "$rs" 1)"
printf '| ceiling: gpgme sign+encrypt (detached sign, then encrypt: PGP/MIME), 1 thread | %.1f | | %.0f MB |\n' "$st1" "$(rss "$T/raw-sign+enc-1.txt")"
printf '| ceiling: gpgme sign+encrypt (detached sign, then encrypt: PGP/MIME), 2 threads | %.1f | | %.0f MB |\n' "$st2" "$(rss "$T/raw-sign+enc-2.txt")"
printf '| reference: gpgme_op_encrypt_sign (one op, signature inside the ciphertext), 1 thread | %.1f | | |\n' "$se1"
printf '| reference: gpgme_op_encrypt_sign (one op, signature inside the ciphertext), 2 threads | %.1f | | |\n' "$se2"
printf '| ceiling: gpgme encrypt only, 1 thread | %.1f | | %.0f MB |\n' "$en1" "$(rss "$T/raw-enc-1.txt")"
printf '| ceiling: gpgme encrypt only, 2 threads | %.1f | | %.0f MB |\n' "$en2" "$(rss "$T/raw-enc-2.txt")"
printf '| gpgme encrypt only, 2 threads, with %.0f MB held by the process (as (b) holds) | %.1f | | %.0f MB |\n' "$enbrss" "$enb" "$enbrss"
printf '| ceiling: smtp-source into smtp-sink, 1 session | %.0f | | |\n' "$sm1"
printf '| ceiling: smtp-source into smtp-sink, 2 sessions | %.0f | | |\n' "$sm2"

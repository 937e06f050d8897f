# Helpers for the fault suite (sourced after tests/integration/lib.sh).
#
# Sizes: every scenario takes its sizes from the environment through
# `size VAR CI FULL`: $VAR if set, else FULL when FAULTS_FULL=1, else CI.
# Figures: `figure NAME VALUE` prints "FIGURE NAME VALUE"; tests/faults/run.sh
# collects them for tests/faults/RESULTS.md.
#
# Messages are queued without gpg by inserting outbox rows directly
# (`queue_rows`): TLP CLEAR, not encrypted, a complete RFC 5322 body with
# one Date, From and Message-ID, CRLF line ends, and a token FLTTOK-<i>-END
# that `count_deliveries` counts in the sink's dumps (one file per message).

# size VAR CI FULL
size() {
	local v=${!1:-}
	if [ -n "$v" ]; then echo "$v"
	elif [ "${FAULTS_FULL:-}" = 1 ]; then echo "$3"
	else echo "$2"; fi
}

figure() { echo "FIGURE $1 $2"; }

# csirt_key: only the service's signing key (CSIRT_FPR) in $T/gnupg.
csirt_key() {
	mkdir -p -m 700 "$T/gnupg"
	echo no-random-seed-file >"$T/gnupg/gpg.conf"
	CSIRT_FPR=$(GNUPGHOME=$T/gnupg gen_key "CSIRT Early Warning" cert@csirt.example)
	export CSIRT_FPR
	gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null || true
}

# worker_config NAME: $T/NAME.yaml, a copy of $T/tocsin.yaml (write_config)
# with its own control socket $T/run/NAME.sock.
worker_config() {
	sed "s|control_socket: $T/run/control.sock|control_socket: $T/run/$1.sock|" \
	    "$T/tocsin.yaml" >"$T/$1.yaml"
	chmod 644 "$T/$1.yaml"
}

# start_worker NAME: tocsind -c $T/NAME.yaml as the service user, its pid
# (the daemon's own: setpriv execs) in $T/NAME.pid, log $T/NAME.log; waits
# until its control socket answers.
start_worker() {
	local n=$1 u
	u=$(service_user)
	[ -f "$T/$n.yaml" ] || worker_config "$n"
	chmod 755 "$T"
	mkdir -p "$T/spool" "$T/run"
	rm -f "$T/run/$n.sock"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R "$u": "$T/spool" "$T/gnupg" "$T/run"
		setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups -- \
		    env HOME="$T" USER="$u" LOGNAME="$u" PGHOST="$PGHOST" \
		    PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" PGUSER="$PGUSER" \
		    "$TOCSIND" -c "$T/$n.yaml" >>"$T/$n.log" 2>&1 &
	else
		"$TOCSIND" -c "$T/$n.yaml" >>"$T/$n.log" 2>&1 &
	fi
	echo $! >"$T/$n.pid"
	wait_for 30 ctl "$n" status
}

worker_pid() { cat "$T/$1.pid"; }
worker_alive() { kill -0 "$(worker_pid "$1")" 2>/dev/null; }

# kill9_worker NAME
kill9_worker() {
	local pid
	pid=$(worker_pid "$1")
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# stop_worker NAME: SIGTERM, a clean exit within 30 s.
stop_worker() {
	local pid
	pid=$(worker_pid "$1")
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "worker $1 did not stop within 30 s of SIGTERM"
	fi
	wait "$pid" 2>/dev/null || true
}

# ctl NAME CMD...: tocsinctl against worker NAME, as the service user (in
# the analysts' group; root is not).
ctl() {
	local n=$1 u
	shift
	if [ "$(id -u)" -eq 0 ]; then
		u=$(service_user)
		setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups -- \
		    env HOME="$T" PGHOST="$PGHOST" PGPORT="$PGPORT" \
		    PGDATABASE="$PGDATABASE" PGUSER="$PGUSER" \
		    "$TOCSINCTL" -c "$T/$n.yaml" "$@"
	else
		"$TOCSINCTL" -c "$T/$n.yaml" "$@"
	fi
}

# queue_rows N [FIRST]: N outbox rows FLT-<i> for i = FIRST.. (default 1),
# queued, CLEAR, not encrypted.
queue_rows() {
	local n=$1 first=${2:-1}
	sql "INSERT INTO message (reference, kind, recipient, tlp, encrypted, body)
	SELECT 'FLT-' || i, 'advisory', 'rcpt' || (i % 97) || '@example.org',
	    'CLEAR', false, convert_to(
	    'Date: Tue, 01 Dec 2026 12:00:00 +0000' || E'\r\n' ||
	    'From: CSIRT <cert@csirt.example>' || E'\r\n' ||
	    'To: <rcpt' || (i % 97) || '@example.org>' || E'\r\n' ||
	    'Message-ID: <flt-' || i || '@csirt.example>' || E'\r\n' ||
	    'Subject: fault suite ' || i || E'\r\n' ||
	    'MIME-Version: 1.0' || E'\r\n' ||
	    'Content-Type: text/plain; charset=utf-8' || E'\r\n' || E'\r\n' ||
	    'token FLTTOK-' || i || '-END' || E'\r\n', 'UTF8')
	FROM generate_series($first, $first + $n - 1) AS i" >/dev/null
}

# count_deliveries N: per token FLTTOK-1..N, how often the sink got it.
# Sets ONCE TWICE MORE LOST; $T/twice.ids lists the token numbers i (row
# FLT-<i>) that came more than once, sorted.
count_deliveries() {
	local n=$1
	grep -rhoa 'FLTTOK-[0-9]*-END' "$MAILDIR" 2>/dev/null | sort | uniq -c \
	    >"$T/per-token-raw.txt" || true
	awk '{print $1}' "$T/per-token-raw.txt" >"$T/per-token.txt"
	awk '$1 >= 2 {split($2, a, "-"); print a[2]}' "$T/per-token-raw.txt" |
	    sort >"$T/twice.ids"
	ONCE=$(awk '$1 == 1' "$T/per-token.txt" | wc -l)
	TWICE=$(awk '$1 == 2' "$T/per-token.txt" | wc -l)
	MORE=$(awk '$1 > 2' "$T/per-token.txt" | wc -l)
	LOST=$((n - ONCE - TWICE - MORE))
}

# sink_start [smtp-sink options...] / sink_stop: our own sink on SMTP_PORT
# (the harness's is stopped first), log $T/sink.log.
sink_start() {
	local user=()
	[ "$(id -u)" -eq 0 ] && user=(-u nobody)
	chmod 777 "$MAILDIR"
	/usr/sbin/smtp-sink "${user[@]}" -d "$MAILDIR/%Y%m%d%H%M%S." "$@" \
	    "127.0.0.1:$SMTP_PORT" 256 >>"$T/sink.log" 2>&1 &
	SINK_PID=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT"
}
sink_stop() {
	[ -n "${SINK_PID:-}" ] || return 0
	kill "$SINK_PID" 2>/dev/null || true
	wait "$SINK_PID" 2>/dev/null || true
	SINK_PID=
}
sink_kill9() {
	[ -n "${SINK_PID:-}" ] || return 0
	kill -KILL "$SINK_PID" 2>/dev/null || true
	wait "$SINK_PID" 2>/dev/null || true
	SINK_PID=
}
own_sink() {
	"$SRC/tests/services.sh" smtp-stop "$T"
	trap 'sink_stop' EXIT
}

# ms: milliseconds since the epoch.
ms() { date +%s%3N; }

# state_counts: "state=n ..." of the outbox.
state_counts() {
	sql "SELECT string_agg(state || '=' || n, ' ' ORDER BY state)
	     FROM (SELECT state, count(*) n FROM message GROUP BY state) s"
}

# fault_base [yaml lines...]: config with a short lease and fast retries,
# the CSIRT key, the schema.
fault_base() {
	csirt_key
	write_config "outbox: {lease: 30s, backoff_base: 1s, backoff_max: 2s, max_attempts: 100, batch: 50}" "$@"
	"$TOCSINCTL" db migrate >/dev/null
}

# set_smtp KEY VALUE: change (or add) one key of the smtp mapping in
# $T/tocsin.yaml and of every worker's copy.
set_smtp() {
	local f
	for f in "$T/tocsin.yaml" "$T"/w?.yaml; do
		[ -f "$f" ] || continue
		if grep -q "^smtp: {.*[{ ]$1: " "$f"; then
			sed -i "/^smtp: {/ s|\([{ ]$1: \)[^,}]*|\1$2|" "$f"
		else
			sed -i "/^smtp: {/ s|^smtp: {|smtp: {$1: $2, |" "$f"
		fi
	done
}

# max_status_ms NAME COUNT: run `tocsinctl status` COUNT times against
# worker NAME; prints the worst latency in ms; fails if a call fails.
max_status_ms() {
	local worst=0 t0 dt
	for ((i = 0; i < $2; i++)); do
		t0=$(ms)
		ctl "$1" status >/dev/null || fail "tocsinctl status failed"
		dt=$(( $(ms) - t0 ))
		[ "$dt" -le "$worst" ] || worst=$dt
	done
	echo "$worst"
}

# faults_cleanup: what a scenario may leave running when it ends or fails
# (run.sh calls it on exit): its workers ($T/*.pid), its gpg-agents.
faults_cleanup() {
	local f pid u
	for f in "$T"/*.pid; do
		[ -f "$f" ] || continue
		case $f in */smtp-sink.pid) continue ;; esac
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 25); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	u=$(service_user)
	for h in "$T/gnupg" "$T/rcpt"; do
		[ -d "$h" ] || continue
		gpgconf --homedir "$h" --kill all 2>/dev/null || true
		[ "$(id -u)" -eq 0 ] && setpriv --reuid "$u" --regid "$(id -g "$u")" \
		    --init-groups -- env HOME="$T" gpgconf --homedir "$h" --kill all \
		    2>/dev/null || true
	done
}

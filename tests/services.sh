#!/usr/bin/env bash
# Start and stop the real services that tests, the demo and the benchmarks
# use: a throwaway PostgreSQL 15 cluster (unix socket in DIR, no TCP) and an
# SMTP sink on 127.0.0.1 that writes every received mail to DIR/mail/.
#
#   tests/services.sh start DIR      start both; writes DIR/env
#   tests/services.sh stop DIR       stop both (safe to call twice)
#   tests/services.sh smtp-start DIR [extra smtp-sink options...]
#   tests/services.sh smtp-stop DIR
#
# DIR/env is a shell fragment: PGHOST PGPORT PGDATABASE PGUSER SMTP_PORT
# MAILDIR.  PostgreSQL refuses to run as root, so as root the cluster runs as
# the "postgres" user; DIR is made traversable for it.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "services: $*" >&2; exit 1; }

free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local dir=$1 port
	mkdir -p "$dir/pg"
	if [ "$(id -u)" -eq 0 ]; then
		chmod 755 "$dir"
		chown postgres: "$dir/pg"
	fi
	port=$(free_port)
	as_pg "$PGBIN/initdb" -D "$dir/pg/data" -U tocsin -A trust \
	    --no-sync -E UTF8 --locale=C >"$dir/pg/initdb.log" 2>&1 ||
	    { cat "$dir/pg/initdb.log" >&2; die "initdb failed"; }
	as_pg "$PGBIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
	    -o "-c listen_addresses='' -k $dir/pg -p $port -c fsync=off \
	        -c synchronous_commit=off -c full_page_writes=off \
	        -c max_connections=200" start >/dev/null ||
	    { cat "$dir/pg/server.log" >&2; die "pg_ctl start failed"; }
	as_pg "$PGBIN/createdb" -h "$dir/pg" -p "$port" -U tocsin tocsin
	{
		echo "export PGHOST='$dir/pg'"
		echo "export PGPORT=$port"
		echo "export PGDATABASE=tocsin"
		echo "export PGUSER=tocsin"
	} >>"$dir/env"
}

pg_stop() {
	local dir=$1
	[ -d "$dir/pg/data" ] || return 0
	as_pg "$PGBIN/pg_ctl" -D "$dir/pg/data" -m immediate -w stop \
	    >/dev/null 2>&1 || true
}

smtp_start() {
	local dir=$1 port
	shift
	mkdir -p "$dir/mail"
	local user=()
	if [ "$(id -u)" -eq 0 ]; then
		chown nobody: "$dir/mail"
		user=(-u nobody)
	fi
	port=$(free_port)
	# -d: one file per message; %M only keeps dumps apart, smtp-sink
	# appends a random suffix.  The last argument is the backlog.
	/usr/sbin/smtp-sink "${user[@]}" -d "$dir/mail/%Y%m%d%H%M%S." \
	    "$@" "127.0.0.1:$port" 64 >"$dir/smtp-sink.log" 2>&1 &
	echo $! >"$dir/smtp-sink.pid"
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	{
		echo "export SMTP_PORT=$port"
		echo "export MAILDIR='$dir/mail'"
	} >>"$dir/env"
}

smtp_stop() {
	local dir=$1
	[ -f "$dir/smtp-sink.pid" ] || return 0
	kill "$(cat "$dir/smtp-sink.pid")" 2>/dev/null || true
	rm -f "$dir/smtp-sink.pid"
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop|smtp-start|smtp-stop DIR"
case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	: >"$dir/env"
	pg_start "$dir"
	smtp_start "$dir"
	;;
stop)
	smtp_stop "$dir"
	pg_stop "$dir"
	;;
smtp-start)
	shift 2
	smtp_start "$(cd "$dir" && pwd)" "$@"
	;;
smtp-stop)
	smtp_stop "$dir"
	;;
*)
	die "unknown command $cmd"
	;;
esac

#!/usr/bin/env bash
# A private, throwaway Postfix instance for STARTTLS tests, on loopback only.
#
#   tests/mta.sh start DIR     make certificates, configure and start; writes DIR/env
#   tests/mta.sh stop DIR      stop it (safe to call twice, and after a failed start)
#
# Everything lives in DIR: config (DIR/etc), queue (DIR/queue), data, log
# (DIR/postfix.log), certificates (DIR/tls).  Postfix listens on two ports of
# 127.0.0.1:
#   MTA_PORT        smtpd with STARTTLS offered (smtpd_tls_security_level = may)
#   MTA_PLAIN_PORT  smtpd that never offers STARTTLS
# and relays everything it accepts to an smtp-sink on a third port, which
# writes one file per message into MTA_MAILDIR.  The certificate is issued by
# a CA made here (MTA_CA) for "localhost" and 127.0.0.1; MTA_WRONG_CA is
# another CA that did not sign it.  Received: headers carry the TLS details
# (smtpd_tls_received_header).
#
# MTA_REJECT (environment, optional): space-separated recipient addresses
# both smtpd reject permanently at RCPT (550), through check_recipient_access.
#
# DIR/env is a shell fragment: MTA_PORT MTA_PLAIN_PORT MTA_CA MTA_WRONG_CA
# MTA_MAILDIR MTA_LOG.  The system's Postfix and /etc/postfix are neither
# used nor changed: the instance runs as `postfix -c DIR/etc` with its own
# queue, and as root Postfix needs no alternate_config_directories entry in
# the default main.cf for that.  Needs root (Postfix's master runs as root).
set -euo pipefail

die() { echo "mta: $*" >&2; exit 1; }

free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

wait_port() {
	local port=$1
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

make_certs() {
	local t=$1/tls
	mkdir -p "$t"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
	    -subj "/CN=tocsin test CA" -keyout "$t/ca.key" -out "$t/ca.pem" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
	    -subj "/CN=tocsin wrong CA" -keyout "$t/wrong-ca.key" \
	    -out "$t/wrong-ca.pem" -addext basicConstraints=critical,CA:TRUE \
	    2>/dev/null
	openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
	    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
	printf '%s\n' "subjectAltName = DNS:localhost, IP:127.0.0.1" \
	    "extendedKeyUsage = serverAuth" \
	    "basicConstraints = critical, CA:FALSE" >"$t/server.ext"
	openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" \
	    -CAkey "$t/ca.key" -CAcreateserial -days 2 -sha256 \
	    -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
	chmod 600 "$t"/*.key
}

start() {
	local dir=$1 port plain sink etc
	[ "$(id -u)" -eq 0 ] || die "needs root (a Postfix instance runs as root)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	etc=$dir/etc
	chmod 755 "$dir"
	# Postfix's daemons run as "postfix" and must reach DIR/data.
	runuser -u postfix -- test -x "$dir" ||
	    die "$dir is not reachable by the postfix user (make its parents 0755)"
	mkdir -p "$etc" "$dir/queue" "$dir/data" "$dir/mail"
	chown postfix: "$dir/data"
	chown nobody: "$dir/mail"
	make_certs "$dir"
	port=$(free_port)
	plain=$(free_port)
	sink=$(free_port)
	while [ "$plain" = "$port" ]; do plain=$(free_port); done
	while [ "$sink" = "$port" ] || [ "$sink" = "$plain" ]; do sink=$(free_port); done

	# Where relayed mail ends up: a sink writing one file per message.
	/usr/sbin/smtp-sink -u nobody -d "$dir/mail/%Y%m%d%H%M%S." \
	    "127.0.0.1:$sink" 64 >"$dir/sink.log" 2>&1 &
	echo $! >"$dir/sink.pid"
	wait_port "$sink" || die "smtp-sink did not start"

	: >"$etc/rcpt_access"
	for a in ${MTA_REJECT:-}; do
		echo "$a REJECT 5.1.1 test: this recipient is refused" >>"$etc/rcpt_access"
	done
	cat >"$etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.tocsin.test
mydomain = tocsin.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = check_recipient_access texthash:$etc/rcpt_access, permit_mynetworks, reject
relayhost = [127.0.0.1]:$sink
smtp_host_lookup = native
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = may
smtpd_tls_cert_file = $dir/tls/server.pem
smtpd_tls_key_file = $dir/tls/server.key
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
master_service_disable =
biff = no
EOF
	cat >"$etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
127.0.0.1:$plain inet n - n - - smtpd -o smtpd_tls_security_level=none
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
	postfix -c "$etc" check >"$dir/check.log" 2>&1 ||
	    { cat "$dir/check.log" >&2; die "postfix check failed"; }
	postfix -c "$etc" start >"$dir/start.log" 2>&1 ||
	    { cat "$dir/start.log" >&2; cat "$dir/postfix.log" >&2 2>/dev/null; die "postfix start failed"; }
	wait_port "$port" || die "postfix smtpd on $port did not start"
	wait_port "$plain" || die "postfix smtpd on $plain did not start"
	{
		echo "export MTA_PORT=$port"
		echo "export MTA_PLAIN_PORT=$plain"
		echo "export MTA_CA='$dir/tls/ca.pem'"
		echo "export MTA_WRONG_CA='$dir/tls/wrong-ca.pem'"
		echo "export MTA_MAILDIR='$dir/mail'"
		echo "export MTA_LOG='$dir/postfix.log'"
	} >"$dir/env"
}

stop() {
	local dir=$1
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/etc/main.cf" ] && [ -f "$dir/queue/pid/master.pid" ]; then
		postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
		# master takes a moment to reap its children.
		for _ in $(seq 50); do
			[ -f "$dir/queue/pid/master.pid" ] || break
			sleep 0.1
		done
	fi
	if [ -f "$dir/sink.pid" ]; then
		kill "$(cat "$dir/sink.pid")" 2>/dev/null || true
		rm -f "$dir/sink.pid"
	fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop DIR"
case $cmd in
start) start "$dir" ;;
stop) stop "$dir" ;;
*) die "unknown command $cmd" ;;
esac

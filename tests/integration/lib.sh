# Helpers for integration scenarios (sourced).  Each check prints what it
# checked, and fails the scenario with a message when it does not hold.

fail() { echo "FAILED: $*" >&2; exit 1; }

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', want '$3'"
	fi
	echo "  ok: $1 = '$3'"
}

# expect_rc WANT CMD...: run CMD, compare its exit code.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$T/last.out" 2>"$T/last.err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- stdout"; cat "$T/last.out"; echo "--- stderr"; cat "$T/last.err"
		fail "exit code of '$*': got $rc, want $want"
	fi
	echo "  ok: exit $want from $(basename "$1") ${2:-} ${3:-}"
}

# expect_grep PATTERN FILE: FILE must contain PATTERN (grep -E).
expect_grep() {
	grep -Eq -- "$1" "$2" || { echo "--- $2"; cat "$2"; fail "'$1' not in $2"; }
	echo "  ok: '$1' in $(basename "$2")"
}

# expect_no_grep PATTERN FILE
expect_no_grep() {
	if grep -Eq -- "$1" "$2"; then
		echo "--- $2"; cat "$2"; fail "'$1' unexpectedly in $2"
	fi
	echo "  ok: '$1' not in $(basename "$2")"
}

# sql QUERY: one value per line, unaligned.
sql() { psql -X -v ON_ERROR_STOP=1 -qtA -c "$1"; }

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "timed out after ${secs}s waiting for: $*"
}

# write_config [extra yaml lines...]: a tocsin.yaml for this scenario in
# $T/tocsin.yaml (PG* environment for the database, the sink for SMTP),
# exported as TOCSIN_CONFIG.
write_config() {
	mkdir -p "$T/spool" "$T/gnupg"
	chmod 700 "$T/gnupg"
	# The service user must read them wherever the checkout is.
	rm -rf "$T/templates"
	cp -R "$SRC/templates" "$T/templates"
	chmod -R a+rX "$T/templates"
	cat >"$T/tocsin.yaml" <<YAML
smtp: {from: cert@csirt.example, from_name: "CSIRT Early Warning", host: 127.0.0.1, port: ${SMTP_PORT:-25}, starttls: off, timeout: 10s}
gpg: {signing_key: ${CSIRT_FPR:-0123456789ABCDEF0123456789ABCDEF01234567}, homedir: $T/gnupg, helpers: ${GPG_HELPERS:-true}}
paths: {spool_dir: $T/spool, templates_dir: $T/templates}
service: {reference_prefix: TEST-EWS, control_socket: $T/run/control.sock, analysts_group: $(id -gn "$(service_user)"), suppression_window: 1d}
YAML
	for line in "$@"; do
		echo "$line" >>"$T/tocsin.yaml"
	done
	export TOCSIN_CONFIG=$T/tocsin.yaml
}

# gen_key NAME EMAIL: an ed25519/cv25519 key without passphrase in
# $GNUPGHOME; prints its fingerprint.
gen_key() {
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "$1 <$2>" ed25519 sign,cert 1y 2>/dev/null
	local fpr
	fpr=$(gpg --batch --with-colons --list-keys "<$2>" |
	    awk -F: '/^fpr:/ {print $10; exit}')
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
	    --quick-add-key "$fpr" cv25519 encr 1y 2>/dev/null
	echo "$fpr"
}

# service_user: the unprivileged account tocsind runs as in the tests (it
# refuses to run as root), created once; prints its name.
service_user() {
	if [ "$(id -u)" -eq 0 ] && ! id tocsin >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin tocsin
	fi
	if [ "$(id -u)" -eq 0 ]; then echo tocsin; else id -un; fi
}

# Contacts of tests/data/registry.yaml, by the digit of their placeholder
# fingerprint.
KEY_EMAILS=(x soc@voorbeeld-energie.example ciso@voorbeeld-energie.example
	cert@reseau-exemple.example it-sicherheit@kundenbetrieb.example
	informatieveiligheid@stad.example securite@hopital.example
	security@logistics.example cyber@energy-authority.example
	cyber@health-authority.example)

# setup_keys [DIGIT...]: the CSIRT's signing key in the service keyring
# $T/gnupg (CSIRT_FPR), one key per contact in the recipients' keyring
# $T/rcpt (RCPT_GNUPGHOME; FPR_<digit> exported), and the public keys of
# the contacts whose digits are given (default: all) imported into the
# service keyring.  Writes $T/registry.yaml: the sample registry with its
# placeholder fingerprints replaced by the real ones.
setup_keys() {
	local want=${*:-1 2 3 4 5 6 7 8 9} d fpr sedargs=()
	export RCPT_GNUPGHOME=$T/rcpt
	mkdir -p -m 700 "$T/gnupg" "$RCPT_GNUPGHOME"
	for h in "$T/gnupg" "$RCPT_GNUPGHOME"; do
		echo no-random-seed-file >"$h/gpg.conf"
	done
	CSIRT_FPR=$(GNUPGHOME=$T/gnupg gen_key "CSIRT Early Warning" cert@csirt.example)
	export CSIRT_FPR
	GNUPGHOME=$T/gnupg gpg --batch --export "$CSIRT_FPR" |
	    GNUPGHOME=$RCPT_GNUPGHOME gpg --batch --quiet --import 2>/dev/null
	for d in 1 2 3 4 5 6 7 8 9; do
		fpr=$(GNUPGHOME=$RCPT_GNUPGHOME gen_key "Contact $d" "${KEY_EMAILS[$d]}")
		export "FPR_$d=$fpr"
		sedargs+=(-e "s/\"$d\{40\}\"/\"$fpr\"/" \
		    -e "s/\"\($d$d$d$d \)\{9\}$d$d$d$d\"/\"$fpr\"/")
		case " $want " in *" $d "*)
			GNUPGHOME=$RCPT_GNUPGHOME gpg --batch --export "$fpr" |
			    GNUPGHOME=$T/gnupg gpg --batch --quiet --import 2>/dev/null ;;
		esac
	done
	sed "${sedargs[@]}" "$SRC/tests/data/registry.yaml" >"$T/registry.yaml"
	gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null || true
}

# start_tocsind: run tocsind as the service user in the background (log in
# $T/tocsind.log), wait until its control socket answers.  stop_tocsind
# sends SIGTERM and waits for a clean exit.
start_tocsind() {
	local u
	u=$(service_user)
	chmod 755 "$T"
	chmod 644 "$T/tocsin.yaml"
	mkdir -p "$T/spool" "$T/run"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R "$u": "$T/spool" "$T/gnupg" "$T/run"
		# setpriv execs: $! is tocsind itself, for signals.
		env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" \
		    PGUSER="$PGUSER" HOME=/nonexistent \
		    setpriv --reuid="$u" --regid="$u" --init-groups -- \
		    "$TOCSIND" -c "$T/tocsin.yaml" >>"$T/tocsind.log" 2>&1 &
	else
		"$TOCSIND" -c "$T/tocsin.yaml" >>"$T/tocsind.log" 2>&1 &
	fi
	TOCSIND_PID=$!
	echo $TOCSIND_PID >"$T/tocsind.pid"
	wait_for 30 test -S "$T/run/control.sock"
}

stop_tocsind() {
	local pid
	pid=$(cat "$T/tocsind.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "tocsind did not stop within 30 s of SIGTERM"
	fi
	wait "$pid" 2>/dev/null || true
	rm -f "$T/tocsind.pid"
}

# drop FILE [NAME]: put a feed file into the spool as a producer would
# (write elsewhere, rename into incoming/).
drop() {
	local name=${2:-$(basename "$1")}
	cp "$1" "$T/spool/.$name.tmp"
	[ "$(id -u)" -eq 0 ] && chown "$(service_user)": "$T/spool/.$name.tmp"
	mv "$T/spool/.$name.tmp" "$T/spool/incoming/$name"
}

# mails: the files the SMTP sink received, oldest first.
mails() { ls -1tr "$MAILDIR" 2>/dev/null | sed "s|^|$MAILDIR/|"; }
mail_count() { ls -1 "$MAILDIR" 2>/dev/null | wc -l; }

# read_mail FILE: mailread.py as the recipients read it (JSON on stdout).
read_mail() {
	python3 "$SRC/tests/integration/mailread.py" \
	    --gnupghome "$RCPT_GNUPGHOME" --expect-signer "$CSIRT_FPR" "$1"
}

# sql_is QUERY VALUE: true when QUERY yields VALUE (for wait_for, which
# must re-run the query at every try).
sql_is() { [ "$(sql "$1")" = "$2" ]; }
mails_are() { [ "$(mail_count)" -eq "$1" ]; }

# analyst NAME: an OS account in the analysts' group (the service user's
# group in the tests), created once; as_analyst NAME CMD... runs CMD as it.
analyst() {
	local g
	g=$(id -gn "$(service_user)")
	id "$1" >/dev/null 2>&1 || useradd --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin -G "$g" "$1"
	id -nG "$1" | grep -qw "$g" || usermod -aG "$g" "$1"
}
as_analyst() {
	local u=$1
	shift
	runuser -u "$u" -- env PGHOST="$PGHOST" PGPORT="$PGPORT" \
	    PGDATABASE="$PGDATABASE" PGUSER="$PGUSER" "$@"
}

#!/usr/bin/env bash
# make demo: start throwaway services, set up the registry, and run the
# main job on them.  Everything lives in a temp dir that is removed at the
# end (KEEP=1 keeps it); the services are stopped even on failure.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
C=$SRC/$BUILD/tocsinctl
T=$(mktemp -d /tmp/tocsin-demo.XXXXXX)
cleanup() {
	"$SRC/tests/services.sh" stop "$T" >/dev/null 2>&1 || true
	GNUPGHOME=$T/gnupg gpgconf --kill all >/dev/null 2>&1 || true
	if [ -n "${KEEP:-}" ]; then echo "demo: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "starting PostgreSQL 15 and an SMTP sink on loopback in $T"
"$SRC/tests/services.sh" start "$T" >/dev/null
. "$T/env"
mkdir -p "$T/spool" && install -d -m 700 "$T/gnupg"
cat >"$T/tocsin.yaml" <<YAML
smtp: {from: cert@csirt.example, from_name: "CSIRT Early Warning", port: $SMTP_PORT, starttls: off}
gpg: {signing_key: 0123456789ABCDEF0123456789ABCDEF01234567, homedir: $T/gnupg}
paths: {spool_dir: $T/spool, templates_dir: $SRC/templates}
service: {reference_prefix: DEMO-EWS, control_socket: $T/control.sock, analysts_group: root}
YAML
export TOCSIN_CONFIG=$T/tocsin.yaml

step "schema"
show "$C" db migrate
show "$C" db status

step "registry: import the sample (tests/data/registry.yaml), twice"
show "$C" entity import "$SRC/tests/data/registry.yaml"
show "$C" entity import "$SRC/tests/data/registry.yaml"
show "$C" entity list
show "$C" entity show 0987.654.321

step "a bad registry file is refused as a whole, with every error located"
cat >"$T/bad.yaml" <<'YAML'
entities:
  - name: Typo Corp
    enterprise_number: "0999.999.999"
    kind: essential
    sector: energie
    assets:
      - ipv4: 192.0.2.1/24
YAML
show "$C" entity import "$T/bad.yaml" || echo "(exit $? — nothing imported)"

if [ -x "$SRC/demo/daily.sh" ]; then
	step "the daily job"
	T=$T C=$C SRC=$SRC BUILD=$BUILD "$SRC/demo/daily.sh"
fi
echo
echo "demo: done"

#!/usr/bin/env bash
# Install what the build, the tests and the demo need on Debian 12, if it is
# missing.  Run as root (or with sudo available).  Services that packages
# would start (postfix, the distribution's PostgreSQL cluster) are kept from
# starting: tests start their own on loopback in a temp dir.
set -euo pipefail

PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev
	libuv1-dev libpq-dev libyaml-dev libgpgme-dev libesmtp-dev
	libjansson-dev libcurl4-openssl-dev libidn2-dev libcmocka-dev libssl-dev
	postgresql-15 postgresql-client-15 postfix gnupg gpg-agent
	valgrind jq curl bc python3 python3-yaml ca-certificates openssl
	man-db groff-base systemd
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}"

# Keep package scripts from starting daemons while we install.
added_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	added_policy=1
fi
cleanup() { [ $added_policy -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d; true; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" |
    $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# If a package started its daemon anyway, stop it: we never use it.
$SUDO postfix stop >/dev/null 2>&1 || true
echo "deps: done"

#!/usr/bin/env bash
# make bench: every benchmark, one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/match.sh
bench/dispatch.sh

#!/usr/bin/env bash
# The project's test command (README, CI): installs what is missing, checks, and runs every test
# against a real Kafka broker. Ends with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source scripts/lib/toolchain.sh

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
ensure_bun
bun install --frozen-lockfile
# Prometheus' own parser checks what /metrics answers.
ensure_debian_tool promtool prometheus

step "lint (biome)"
bun run lint

step "typecheck (tsc --noEmit)"
bun run typecheck

step "broker"
started_broker=no
if ! scripts/kafka.sh status >/dev/null 2>&1; then
  scripts/kafka.sh start
  started_broker=yes
fi
stop_broker() { [ "$started_broker" = yes ] && scripts/kafka.sh stop || true; }
trap stop_broker EXIT

step "bun test"
log=$(mktemp)
set +e
bun test --timeout 120000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(sed -n 's/^ *\([0-9][0-9]*\) pass$/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/^ *\([0-9][0-9]*\) fail$/\1/p' "$log" | tail -n 1)
rm -f "$log"
[ -n "$passed" ] || status=1
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"

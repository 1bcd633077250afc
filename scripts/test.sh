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
install_dependencies
# Prometheus' own parser checks what /metrics answers.
ensure_debian_tool promtool prometheus
# wrk drives the fixed-rate load test and the HTTP figures of the benchmark.
ensure_debian_tool wrk wrk
# The dashboard is tested in a real headless Chromium, driven by playwright-core (which downloads none).
ensure_debian_tool chromium chromium
# kcat (librdkafka) is the independent reader the integration and fault tests compare saldo with.
ensure_debian_tool kcat kcat

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
# Tests that need a broker to stop start private ones (and clusters, node-N/) under /tmp/saldo-kafka-*; a test killed
# half-way must not leave one behind.
cleanup() {
  pkill -f 'saldo-kafka-[^/]*/(node-[0-9]+/)?server.properties' 2>/dev/null || true
  if [ "$started_broker" = yes ]; then scripts/kafka.sh stop || true; fi
}
trap cleanup EXIT

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

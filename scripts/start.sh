#!/usr/bin/env bash
# Runs saldo on this machine with one command:
#   ./scripts/start.sh            installs what is missing, starts Kafka, creates the topic, sends the
#                                 demo balances and runs the API in the foreground (Ctrl-C stops it)
#   ./scripts/start.sh --detach   the same, with the API in the background (pid and log in .run/)
# ./scripts/stop.sh stops what this started. Settings come from the environment and .env, as for the
# binaries (PORT, TOPIC, BOOTSTRAP_SERVERS, …; `bun run start:api --help` lists them).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source scripts/lib/toolchain.sh
source scripts/lib/run.sh

usage() { echo "usage: scripts/start.sh [--detach]"; }
detach=no
case "$#:${1:-}" in
  0:) ;;
  1:--detach) detach=yes ;;
  1:-h | 1:--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

step() { printf '\n== %s\n' "$*" >&2; }
say() { printf 'start.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

if pid=$(api_pid); then die "saldo-api already runs (pid $pid, log $API_LOG_FILE); stop it first with ./scripts/stop.sh"; fi

step "toolchain"
ensure_bun
install_dependencies

# The settings exactly as the API will read them (environment, .env, defaults); a bad value stops here.
config() {
  bun -e "const { loadConfig } = await import('./src/config.ts')
try { console.log(loadConfig().$1) } catch (error) { console.error(error.message); process.exit(2) }"
}
port=$(config PORT) || die "fix the setting above and run start.sh again"
[ "$port" != 0 ] || die "PORT=0 picks a random port; start.sh needs a fixed one to tell you where the API is"
url="http://localhost:$port"

step "kafka"
mkdir -p "$RUN_DIR"
if scripts/kafka.sh status >/dev/null 2>&1; then
  say "using the broker that already answers; stop.sh will leave it running"
else
  scripts/kafka.sh start
  touch "$BROKER_MARK"
fi

step "topic $(config TOPIC) and demo balances"
bun src/bin/saldo-produce.ts

try_it() {
  cat <<TRY

saldo-api on $url. Try:
  curl -s $url/saldo/1
  curl -s '$url/saldos?ids=1,2,3,42'
  curl -s $url/ready
  curl -s $url/health
  bun run produce --set 1 99.9      # then GET /saldo/1 again
  bun run produce --interactive
Stop everything start.sh started with ./scripts/stop.sh
TRY
}

step "saldo-api"
if [ "$detach" = no ]; then
  try_it
  # exec: this shell becomes the API, so the pid file names it and Ctrl-C reaches it directly.
  echo $$ >"$API_PID_FILE"
  exec bun src/bin/saldo-api.ts
fi

# setsid: the API outlives this shell and is not hit by a Ctrl-C in the terminal that started it.
setsid bun src/bin/saldo-api.ts >"$API_LOG_FILE" 2>&1 </dev/null &
echo $! >"$API_PID_FILE"
say "saldo-api runs in the background (pid $!, log $API_LOG_FILE); waiting until it is ready…"
ready() { bun -e "const r = await fetch('$url/ready').catch(() => null); process.exit(r?.status === 200 ? 0 : 1)"; }
started=$SECONDS
until ready; do
  api_pid >/dev/null || { tail -n 20 "$API_LOG_FILE" >&2; die "saldo-api exited (log above, full log in $API_LOG_FILE)"; }
  [ $((SECONDS - started)) -lt 120 ] || die "saldo-api is not ready after 120 s; see $API_LOG_FILE (it keeps running; ./scripts/stop.sh stops it)"
  sleep 0.5
done
try_it

#!/usr/bin/env bash
# Stops what ./scripts/start.sh started: the API, and the Kafka broker only when start.sh started it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source scripts/lib/run.sh

say() { printf 'stop.sh: %s\n' "$*" >&2; }

if pid=$(api_pid); then
  say "stopping saldo-api (pid $pid)"
  kill -TERM "$pid"
  # saldo-api stops within SHUTDOWN_TIMEOUT_MS (10 s by default); give it a little more, then insist.
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then say "saldo-api did not stop in 15 s; killing it"; kill -KILL "$pid"; fi
else
  say "no saldo-api started by start.sh is running"
fi
rm -f "$API_PID_FILE"

if [ -f "$BROKER_MARK" ]; then
  scripts/kafka.sh stop
  rm -f "$BROKER_MARK"
else
  say "leaving the Kafka broker running: start.sh did not start it"
fi

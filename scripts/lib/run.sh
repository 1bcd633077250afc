# Sourced by start.sh and stop.sh: what start.sh started is recorded in .run/ (gitignored), so that
# stop.sh stops exactly that and nothing else.
RUN_DIR=$ROOT/.run
API_PID_FILE=$RUN_DIR/saldo-api.pid
API_LOG_FILE=$RUN_DIR/saldo-api.log
# Present only when start.sh started the broker; a broker that was already running is left alone.
BROKER_MARK=$RUN_DIR/broker.started

# The pid of the saldo-api that start.sh started, if it still runs (a stale pid file is ignored).
api_pid() {
  local pid
  [ -f "$API_PID_FILE" ] || return 1
  pid=$(cat "$API_PID_FILE")
  kill -0 "$pid" 2>/dev/null && grep -q 'saldo-api' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

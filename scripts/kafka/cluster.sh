# shellcheck shell=bash
# A native multi-node KRaft cluster for scripts/kafka.sh (sourced by it: uses its HOME_DIR, HOST,
# PORT, LIBS, say, die, answers, launch_kafka, wait_until_answers, native_pid).
#
# Node N (1..BROKERS) is a combined controller+broker with node.id N, in HOME_DIR/node-N, PLAINTEXT on
# PORT+N-1 and its controller on PORT+BROKERS+N-1. HOME_DIR/cluster.env keeps the layout and the
# cluster id, so every later command on that folder acts on the same nodes.

CLUSTER_ENV=$HOME_DIR/cluster.env
# Three JVMs share the machine with everything else: small heaps, one GC thread, less JIT work.
CLUSTER_JVM_OPTS=${KAFKA_CLUSTER_JVM_OPTS:--Xms128m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}

cluster_known() { [ -f "$CLUSTER_ENV" ]; }

node_dir() { echo "$HOME_DIR/node-$1"; }
node_port() { echo $((PORT + $1 - 1)); }
node_controller_port() { echo $((PORT + BROKERS + $1 - 1)); }
node_pid() { native_pid "$(node_dir "$1")/broker.pid"; }
nodes() { seq 1 "$BROKERS"; }

cluster_bootstrap() {
  local n list=''
  for n in $(nodes); do list+="${list:+,}$HOST:$(node_port "$n")"; done
  echo "$list"
}

# The layout: from cluster.env when the folder has a cluster, else a new one of $1 brokers.
cluster_layout() {
  if cluster_known; then
    # shellcheck source=/dev/null
    source "$CLUSTER_ENV"
    [ -z "$1" ] || [ "$1" = "$BROKERS" ] || die "$HOME_DIR holds a cluster of $BROKERS nodes, not $1: stop it and use another KAFKA_HOME_DIR."
    return 0
  fi
  [ -n "$1" ] || die "no cluster in $HOME_DIR: start one with scripts/kafka.sh start --brokers 3"
  [[ "$1" =~ ^[1-9]$ ]] || die "--brokers $1: expected a node count 1..9"
  case "$HOST" in localhost | 127.0.0.1 | ::1) ;; *) die "BOOTSTRAP_SERVERS=$bootstrap points at another host; a cluster runs on localhost:PORT." ;; esac
  [ -f "$DATA/meta.properties" ] && die "$HOME_DIR holds a single broker's data: give the cluster a KAFKA_HOME_DIR of its own."
  BROKERS=$1
  local n
  for n in $(nodes); do
    answers "$HOST" "$(node_port "$n")" && die "a broker already answers on $HOST:$(node_port "$n"): give BOOTSTRAP_SERVERS another first port."
  done
  CLUSTER_ID=$(new_cluster_id)
  mkdir -p "$HOME_DIR"
  printf 'BROKERS=%s\nHOST=%s\nPORT=%s\nCLUSTER_ID=%s\n' "$BROKERS" "$HOST" "$PORT" "$CLUSTER_ID" >"$CLUSTER_ENV"
}

write_node_config() {
  local n=$1 dir voters='' v rf=$((BROKERS < 3 ? BROKERS : 3))
  local min_isr=$((rf > 1 ? rf - 1 : 1))
  dir=$(node_dir "$n")
  for v in $(nodes); do voters+="${voters:+,}$v@localhost:$(node_controller_port "$v")"; done
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<CONFIG
# Written by scripts/kafka.sh: node $n of a $BROKERS-node KRaft cluster (controller+broker) for tests.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://:$(node_port "$n"),CONTROLLER://localhost:$(node_controller_port "$n")
advertised.listeners=PLAINTEXT://$HOST:$(node_port "$n")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=$rf
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
# A dead node is fenced (its leaderships move, it leaves every ISR) after 6 s without a heartbeat
# instead of Kafka's 9 s: failover tests stay short, and a busy 2-core machine still keeps up.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
CONFIG
}

format_node() {
  local dir
  dir=$(node_dir "$1")
  [ -f "$dir/data/meta.properties" ] && return 0
  "$JAVA" -cp "$LIBS/*" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" kafka.tools.StorageTool format \
    -t "$CLUSTER_ID" -c "$dir/server.properties" >/dev/null
}

# Starts the nodes given (all of them by default) that are not running, then waits for each to answer:
# they start together because a node answers only once a majority of controllers has formed a quorum.
cluster_start() {
  local n dir started=()
  JAVA=$(find_java) || die "no Java 17+ found: install a JDK 17 or newer (apt-get install -y openjdk-17-jre-headless)."
  fetch_jars
  for n in "$@"; do
    dir=$(node_dir "$n")
    if node_pid "$n" >/dev/null; then say "node $n already runs (pid $(node_pid "$n"))"; continue; fi
    answers "$HOST" "$(node_port "$n")" && die "another broker answers on $HOST:$(node_port "$n"): give BOOTSTRAP_SERVERS another first port."
    write_node_config "$n"
    format_node "$n"
    say "starting node $n on $HOST:$(node_port "$n") (log: $dir/broker.log)"
    # shellcheck disable=SC2086 # the JVM options are words on purpose
    launch_kafka "$dir/server.properties" "$dir/broker.log" "$dir/broker.pid" $CLUSTER_JVM_OPTS
    started+=("$n")
  done
  for n in "${started[@]}"; do
    dir=$(node_dir "$n")
    wait_until_answers "$(cat "$dir/broker.pid")" "$(node_port "$n")" "$dir/broker.log"
    say "node $n ready on $HOST:$(node_port "$n")"
  done
}

# Sends $1 (TERM or KILL) to the nodes given after it, all at once (a node stopped alone after the
# others would wait in vain for a controller quorum), then waits for each; SIGKILL after 30 s.
cluster_signal() {
  local how=$1 n pid pids=()
  shift
  for n in "$@"; do
    if ! pid=$(node_pid "$n"); then say "node $n is not running; nothing to stop."; continue; fi
    say "$([ "$how" = KILL ] && echo killing || echo stopping) node $n (pid $pid, SIG$how)"
    kill -s "$how" "$pid"
    pids+=("$pid")
    rm -f "$(node_dir "$n")/broker.pid"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || continue 2; sleep 0.1; done
    say "broker $pid did not stop in 30s; killing it"
    kill -9 "$pid"
  done
}

# One line per node; succeeds when every node answers.
cluster_status() {
  local n pid how all=0
  for n in $(nodes); do
    how="not running"
    pid=$(node_pid "$n") && how="native, pid $pid"
    if answers "$HOST" "$(node_port "$n")"; then
      echo "node $n answers on $HOST:$(node_port "$n") ($how)"
    else
      echo "node $n does not answer on $HOST:$(node_port "$n") ($how)"
      all=1
    fi
  done
  echo "BOOTSTRAP_SERVERS=$(cluster_bootstrap)"
  return "$all"
}

# cluster_command COMMAND BROKERS NODE: start/stop/kill/status/logs of the whole cluster or of one node.
cluster_command() {
  local command=$1 node=$3 targets
  cluster_layout "$2"
  if [ -n "$node" ]; then
    [[ "$node" =~ ^[0-9]+$ ]] && [ "$node" -ge 1 ] && [ "$node" -le "$BROKERS" ] ||
      die "--node $node: expected a node number 1..$BROKERS"
    targets=$node
  else
    targets=$(nodes)
  fi
  # shellcheck disable=SC2086 # targets is a list of numbers
  case "$command" in
    start)
      cluster_start $targets
      say "${node:+node $node is back; }cluster ready"
      echo "BOOTSTRAP_SERVERS=$(cluster_bootstrap)"
      ;;
    stop) cluster_signal TERM $targets ;;
    kill) cluster_signal KILL $targets ;;
    status) cluster_status ;;
    logs) tail -n 100 -F "$(node_dir "${node:-1}")/broker.log" ;;
    *) usage ;;
  esac
}

#!/usr/bin/env bash
# One local single-node Apache Kafka 4.x broker (KRaft) for development, tests and CI.
#
#   scripts/kafka.sh start    start a broker on BOOTSTRAP_SERVERS' port unless one already answers
#   scripts/kafka.sh stop     stop the broker that `start` started (never someone else's)
#   scripts/kafka.sh status   say whether a broker answers, and where
#   scripts/kafka.sh start --brokers 3   a native KRaft cluster instead (see "A cluster" below)
#   scripts/kafka.sh stop|kill|start --node N   SIGTERM, SIGKILL or restart node N of that cluster
#   scripts/kafka.sh logs     follow the broker log
#   scripts/kafka.sh run-class CLASS ARGS…   run a Kafka tool class (e.g. ConsumerPerformance) on its jars
#
# With a Docker engine it runs compose.yaml; otherwise it runs the same broker natively on Java 17+
# from jars that Maven resolves once into .kafka/libs. Besides PLAINTEXT on BOOTSTRAP_SERVERS' port,
# the native broker has a SASL_PLAINTEXT listener on KAFKA_SASL_PORT (default 9094) with the SCRAM
# and PLAIN user KAFKA_SASL_USER / KAFKA_SASL_PASSWORD, and an SSL listener on KAFKA_TLS_PORT (default
# 9095) that requires a client certificate; .kafka/tls holds the CA and a client certificate and key
# (PEM) signed by it. Both are used by the security tests.
#
# A cluster: `start --brokers B` runs B nodes natively, each a combined controller+broker with KRaft
# node.id N (1..B), so the leader ids in Kafka's metadata name the node to act on. Node N keeps its
# data, config, pid and log in KAFKA_HOME_DIR/node-N and listens on BOOTSTRAP_SERVERS' first port + N-1
# (PLAINTEXT only), its controller on that port + B: a cluster takes 2B ports from there, so two run
# side by side from different first ports. KAFKA_HOME_DIR/cluster.env remembers the layout, so later
# commands on that folder need no --brokers. Each JVM gets a small heap (KAFKA_CLUSTER_JVM_OPTS).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOME_DIR=${KAFKA_HOME_DIR:-$ROOT/.kafka}
# The jars are shared by every broker this checkout runs; state (data, pid, log) is per KAFKA_HOME_DIR.
LIBS=$ROOT/.kafka/libs
DATA=$HOME_DIR/data
PID_FILE=$HOME_DIR/broker.pid
LOG_FILE=$HOME_DIR/broker.log
COMPOSE_MARK=$HOME_DIR/compose.started
POM=$ROOT/scripts/kafka/pom.xml

# BOOTSTRAP_SERVERS from the environment, else from .env, else the default; we serve its first entry.
bootstrap=${BOOTSTRAP_SERVERS:-$(sed -n 's/^BOOTSTRAP_SERVERS=//p' "$ROOT/.env" 2>/dev/null | tail -n 1 || true)}
bootstrap=${bootstrap:-localhost:9092}
first=${bootstrap%%,*}
HOST=${first%:*}
PORT=${first##*:}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
SASL_PORT=${KAFKA_SASL_PORT:-9094}
TLS_PORT=${KAFKA_TLS_PORT:-9095}
TLS_DIR=$HOME_DIR/tls
SASL_USER=${KAFKA_SASL_USER:-saldo}
SASL_PASSWORD=${KAFKA_SASL_PASSWORD:-saldo-secret}
START_TIMEOUT_S=${KAFKA_START_TIMEOUT_S:-120}

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# A Kafka Metadata request (v4, all topics) over bash's /dev/tcp to HOST:PORT, or to the host and
# port given. The broker answers only once it has registered with the controller; we read the
# broker count from the response.
answers() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x01\x00\x05saldo\xff\xff\xff\xff\x00" >&3
    reply=$(head -c 16 <&3 | od -An -tu1 | tr -s " " " ")
    set -- $reply
    [ "$#" -eq 16 ] && [ $((${13} + ${14} + ${15} + ${16})) -gt 0 ]
  ' _ "${1:-$HOST}" "${2:-$PORT}" 2>/dev/null
}

docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

# The first JDK of version 17 or newer: JAVA_HOME, the default java, then /usr/lib/jvm.
find_java() {
  local candidate version
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/*/bin/java; do
    [ -x "$candidate" ] || continue
    version=$("$candidate" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
    if [ -n "$version" ] && [ "$version" -ge 17 ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

fetch_jars() {
  [ -f "$LIBS/.complete" ] && [ "$LIBS/.complete" -nt "$POM" ] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven is needed once to fetch the Kafka jars: install it (apt-get install -y maven) or run Docker."
  say "fetching Apache Kafka jars from Maven Central into $LIBS (once)…"
  rm -rf "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS" \
    || die "Maven could not resolve the Kafka jars (see the output above); check access to Maven Central."
  touch "$LIBS/.complete"
}

write_config() {
  mkdir -p "$DATA"
  cat >"$HOME_DIR/server.properties" <<EOF
# Written by scripts/kafka.sh: a single-node KRaft broker for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:$CONTROLLER_PORT
listeners=PLAINTEXT://:$PORT,CONTROLLER://localhost:$CONTROLLER_PORT,SASL_PLAINTEXT://:$SASL_PORT,SSL://:$TLS_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,SASL_PLAINTEXT://$HOST:$SASL_PORT,SSL://$HOST:$TLS_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$TLS_DIR/broker-keystore.pem
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$TLS_DIR/ca.pem
listener.name.ssl.ssl.client.auth=required
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$DATA
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
EOF
}

# A local CA, a broker certificate for localhost and a client certificate, made once with openssl.
make_tls() {
  [ -f "$TLS_DIR/client.key" ] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl is needed once for the local TLS listener: apt-get install -y openssl"
  mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=saldo local CA" -keyout ca.key -out ca.pem 2>/dev/null
    for who in broker client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$who.key" -out "$who.csr" 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$who.ext"
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile "$who.ext" -out "$who.pem" 2>/dev/null
      rm -f "$who.csr" "$who.ext"
    done
    cat broker.key broker.pem >broker-keystore.pem
  ) || die "could not create the local TLS certificates in $TLS_DIR"
}

# A random KRaft cluster id (16 bytes, URL-safe base64), never starting with '-': kafka-storage would
# read `-t -abc…` as an option and stop (Kafka's own Uuid.randomUuid skips those ids for that reason).
new_cluster_id() {
  local id
  while id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); [ "${id:0:1}" = - ]; do :; done
  echo "$id"
}

format_storage() {
  [ -f "$DATA/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$(new_cluster_id)
  say "formatting KRaft storage in $DATA (cluster $cluster_id)"
  "$JAVA" -cp "$LIBS/*" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$HOME_DIR/server.properties" \
    --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]" >/dev/null
}

# Waits for the broker of pid $1 (optional) to answer on port $2 (default PORT), its log being $3.
wait_until_answers() {
  local started=$SECONDS port=${2:-$PORT} log=${3:-$LOG_FILE}
  until answers "$HOST" "$port"; do
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then
      tail -n 30 "$log" >&2 || true
      die "the broker exited during start (log above, full log in $log)."
    fi
    [ $((SECONDS - started)) -lt "$START_TIMEOUT_S" ] || die "no answer on $HOST:$port after ${START_TIMEOUT_S}s; see $log."
    sleep 0.5
  done
}

# Runs kafka.Kafka on the config $1 in the background, logging to $2, its pid in $3; the rest are JVM options.
launch_kafka() {
  local config=$1 log=$2 pid_file=$3
  shift 3
  # setsid: the broker outlives this shell and is not hit by the caller's Ctrl-C.
  # shellcheck disable=SC2068 # the JVM options are words on purpose
  setsid "$JAVA" $@ -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" \
    -cp "$LIBS/*" kafka.Kafka "$config" >"$log" 2>&1 </dev/null &
  echo $! >"$pid_file"
}

start_native() {
  JAVA=$(find_java) || die "no Java 17+ found: install a JDK 17 or newer (apt-get install -y openjdk-17-jre-headless) or a Docker engine."
  mkdir -p "$HOME_DIR"
  fetch_jars
  make_tls
  write_config
  format_storage
  say "starting Apache Kafka natively on $HOST:$PORT (log: $LOG_FILE)"
  launch_kafka "$HOME_DIR/server.properties" "$LOG_FILE" "$PID_FILE" -Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  wait_until_answers "$(cat "$PID_FILE")"
}

start_docker() {
  say "starting Apache Kafka with docker compose on $HOST:$PORT"
  (cd "$ROOT" && docker compose up -d --wait kafka)
  mkdir -p "$HOME_DIR" && touch "$COMPOSE_MARK"
  wait_until_answers
}

# The pid in the pid file $1 (default PID_FILE) while it is a running broker.
native_pid() {
  local pid pid_file=${1:-$PID_FILE}
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  kill -0 "$pid" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

cmd_start() {
  if answers; then say "a broker already answers on $HOST:$PORT; nothing to do."; return 0; fi
  case "$HOST" in localhost | 127.0.0.1 | ::1) ;; *) die "BOOTSTRAP_SERVERS=$bootstrap points at another host; start that broker there, or use localhost:PORT." ;; esac
  if [ "${KAFKA_RUNNER:-auto}" != native ] && docker_engine; then start_docker; else start_native; fi
  say "broker ready on $HOST:$PORT"
}

# SIGTERM to the broker of pid $1, SIGKILL if it is still there after 30 s.
stop_pid() {
  local pid=$1
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  say "broker did not stop in 30s; killing it"
  kill -9 "$pid"
}

cmd_stop() {
  local pid
  if pid=$(native_pid); then
    say "stopping broker (pid $pid)"
    stop_pid "$pid"
    rm -f "$PID_FILE"
  elif [ -f "$COMPOSE_MARK" ]; then
    (cd "$ROOT" && docker compose down)
    rm -f "$COMPOSE_MARK"
  else
    say "no broker started by this script is running; nothing to stop."
  fi
}

cmd_status() {
  if answers; then
    local how="not started by this script"
    native_pid >/dev/null && how="native, pid $(cat "$PID_FILE")"
    [ -f "$COMPOSE_MARK" ] && how="docker compose"
    echo "a broker answers on $HOST:$PORT ($how)"
  else
    echo "no broker answers on $HOST:$PORT"
    return 1
  fi
}

cmd_logs() {
  if [ -f "$COMPOSE_MARK" ]; then (cd "$ROOT" && docker compose logs -f kafka); else tail -n 100 -F "$LOG_FILE"; fi
}

cmd_run_class() {
  JAVA=$(find_java) || die "no Java 17+ found: install a JDK 17 or newer."
  fetch_jars
  exec "$JAVA" -Xmx1g -Dlog4j2.configurationFile="$ROOT/scripts/kafka/tools-log4j2.yaml" -cp "$LIBS/*" "$@"
}

# shellcheck source=kafka/cluster.sh
source "$ROOT/scripts/kafka/cluster.sh"

usage() {
  echo "usage: scripts/kafka.sh start [--brokers N]|stop|status|logs|run-class CLASS [ARGS…]" >&2
  echo "       scripts/kafka.sh start|stop|kill --node N   (a node of the cluster that start --brokers started)" >&2
  exit 2
}

command=${1:-}
[ "$#" -gt 0 ] && shift
brokers='' node=''
if [ "$command" != run-class ]; then
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --brokers) brokers=${2:-}; shift 2 || usage ;;
      --node) node=${2:-}; shift 2 || usage ;;
      *) usage ;;
    esac
  done
fi
if [ "$command" != run-class ] && { [ -n "$brokers$node" ] || cluster_known; }; then
  cluster_command "$command" "$brokers" "$node"
  exit
fi
case "$command" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) cmd_logs ;;
  run-class) cmd_run_class "$@" ;;
  *) usage ;;
esac

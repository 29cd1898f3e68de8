#!/usr/bin/env bash
# Fulcrum local cluster: three post servers (us-1 and us-2 in us-east, eu-1 in eu-west) sharing one
# SQLite file under data/, and the balancer in front of them on :8080 (admin :8081).
#
#   scripts/run-local.sh          build if needed, start everything, Ctrl-C stops everything
#
# Posts live in data/posts.db and survive restarts. Logs go to data/logs/. Environment:
#   NODE_JAVA_OPTS      JVM options for each node        (default: -Xms64m -Xmx256m)
#   BALANCER_JAVA_OPTS  JVM options for the balancer     (default: -Xms128m -Xmx512m)
#   STARTUP_TIMEOUT     seconds to wait for /health      (default: 60)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

NODE_JAR=backend-node/target/backend-node.jar
BALANCER_JAR=balancer/target/balancer.jar
BALANCER_CONFIG=config/balancer.yaml
NODES=(us-1 us-2 eu-1)
NODE_JAVA_OPTS=${NODE_JAVA_OPTS:-"-Xms64m -Xmx256m"}
BALANCER_JAVA_OPTS=${BALANCER_JAVA_OPTS:-"-Xms128m -Xmx512m"}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-60}
LOGS=data/logs

say() { printf '[run-local] %s\n' "$*"; }

# ---- build when a jar is missing or older than any source or pom ----------------------------------
needs_build() {
  local jar=$1 module=$2
  [[ -f $jar ]] || return 0
  [[ -n $(find "$module/src" "$module/pom.xml" pom.xml -newer "$jar" -print -quit 2>/dev/null) ]]
}
if needs_build "$NODE_JAR" backend-node || { [[ -d balancer/src ]] && needs_build "$BALANCER_JAR" balancer; }; then
  say "building (mvn -B -q -DskipTests package)..."
  mvn -B -q -DskipTests package
fi

# ---- children: started here, stopped here ---------------------------------------------------------
PIDS=()
NAMES=()
stopping=0
stop_all() {
  (( stopping )) && return
  stopping=1
  trap - INT TERM
  if (( ${#PIDS[@]} )); then
    say "stopping ${NAMES[*]}..."
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # The JVMs run their shutdown hooks (close sockets, finish store calls); give them 15 s.
    local deadline=$((SECONDS + 15))
    for pid in "${PIDS[@]}"; do
      while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
  fi
  say "stopped."
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

start() { # name logfile command...
  local name=$1 log=$2
  shift 2
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
}

port_of() { sed -n 's/^ *listen: *{.*port: *\([0-9]*\).*/\1/p' "config/node-$1.yaml"; }

mkdir -p data "$LOGS"
for id in "${NODES[@]}"; do
  # shellcheck disable=SC2086 # NODE_JAVA_OPTS is a list of options
  start "node $id" "$LOGS/node-$id.log" java $NODE_JAVA_OPTS -jar "$NODE_JAR" --config "config/node-$id.yaml"
done

# ---- wait until every node answers /health with 200, within STARTUP_TIMEOUT -----------------------
deadline=$((SECONDS + STARTUP_TIMEOUT))
for i in "${!NODES[@]}"; do
  id=${NODES[$i]}
  port=$(port_of "$id")
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null; do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      say "node $id exited during start-up; last lines of $LOGS/node-$id.log:"
      tail -n 20 "$LOGS/node-$id.log" >&2
      exit 1
    fi
    if (( SECONDS >= deadline )); then
      say "node $id did not answer http://127.0.0.1:$port/health within ${STARTUP_TIMEOUT}s; see $LOGS/node-$id.log"
      exit 1
    fi
    sleep 0.5
  done
  say "node $id is up: http://127.0.0.1:$port/ (health: http://127.0.0.1:$port/health)"
done

# ---- the balancer, when it has been built -----------------------------------------------------------
if [[ -f $BALANCER_JAR && -f $BALANCER_CONFIG ]]; then
  # shellcheck disable=SC2086
  start "balancer" "$LOGS/balancer.log" java $BALANCER_JAVA_OPTS -jar "$BALANCER_JAR" --config "$BALANCER_CONFIG"
  bpid=${PIDS[-1]}
  deadline=$((SECONDS + STARTUP_TIMEOUT))
  # Up when its admin port says so, or (admin API not there yet) when it routes /health to a node.
  balancer_up() {
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:8081/health" 2>/dev/null \
      || curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:8080/health" 2>/dev/null
  }
  until balancer_up; do
    if ! kill -0 "$bpid" 2>/dev/null; then
      say "the balancer exited during start-up; last lines of $LOGS/balancer.log:"
      tail -n 20 "$LOGS/balancer.log" >&2
      exit 1
    fi
    if (( SECONDS >= deadline )); then
      say "the balancer answered neither :8081/health nor :8080/health within ${STARTUP_TIMEOUT}s; see $LOGS/balancer.log"
      exit 1
    fi
    sleep 0.5
  done
  say "balancer is up:   http://127.0.0.1:8080/   (admin: http://127.0.0.1:8081/)"
  echo
  say "Open http://127.0.0.1:8080/ for the timeline through the balancer."
else
  say "NOT starting the balancer: $BALANCER_JAR or $BALANCER_CONFIG is missing."
  say "Only the post servers run; open http://127.0.0.1:$(port_of us-1)/ to use one directly."
fi
say "posts are stored in data/posts.db; logs are in $LOGS/. Press Ctrl-C to stop everything."

# Run until Ctrl-C, or until any child dies (then stop the rest, so nothing is left half-running).
set +e
wait -n "${PIDS[@]}"
status=$?
if (( ! stopping )); then
  say "a process exited (status $status); stopping the others"
fi
exit "$status"

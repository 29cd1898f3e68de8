# shellcheck shell=bash
# Shared by scripts/run-local.sh and scripts/node.sh: where the local cluster's files are, and how one
# process of it is started, checked and stopped. Sourced, never run.
#
# Every process runs in its own session (setsid), so Ctrl-C in the terminal reaches run-local.sh
# alone, which then stops them in order: the balancer first (it drains), the post servers after.
# Each process's pid is kept in $RUN_DIR/NAME.pid; its output is appended to $LOGS/NAME.log after a
# start marker line, so earlier runs stay readable.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIG_DIR=${FULCRUM_CONFIG_DIR:-$ROOT/config}
DATA_DIR=${FULCRUM_DATA_DIR:-$ROOT/data}
LOGS=$DATA_DIR/logs
RUN_DIR=$DATA_DIR/run
NODE_JAR=${FULCRUM_NODE_JAR:-$ROOT/backend-node/target/backend-node.jar}
BALANCER_JAR=${FULCRUM_BALANCER_JAR:-$ROOT/balancer/target/balancer.jar}
NODE_JAVA_OPTS=${NODE_JAVA_OPTS:-"-Xms64m -Xmx256m"}
BALANCER_JAVA_OPTS=${BALANCER_JAVA_OPTS:-"-Xms128m -Xmx512m"}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-60}
# Seconds a post server gets to finish its store calls after SIGTERM before it is killed.
NODE_STOP_TIMEOUT=${NODE_STOP_TIMEOUT:-15}

say() { printf '[%s] %s\n' "${SAY_AS:-fulcrum}" "$*"; }

node_ids() { # every node-ID.yaml of the config folder, in name order
  local f
  for f in "$CONFIG_DIR"/node-*.yaml; do
    [[ -f $f ]] || continue
    f=${f##*/node-}
    printf '%s\n' "${f%.yaml}"
  done
}

# The port of a flow-style "KEY: { host: ..., port: N }" line of a YAML file.
port_in() { sed -n "s/^ *$2: *{.*port: *\([0-9][0-9]*\).*/\1/p" "$1" | head -n 1; }
node_port() { port_in "$CONFIG_DIR/node-$1.yaml" listen; }
node_admin_port() { port_in "$CONFIG_DIR/node-$1.yaml" admin; }

pid_of() { # the pid of a running process of the cluster, or nothing
  local file=$RUN_DIR/$1.pid pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

# launch [--stdout FILE] NAME COMMAND...: append a marker to the log, start the command in its own
# session, record its pid. Its output goes to $LOGS/NAME.log; with --stdout, only its stderr does, and
# its stdout is appended to FILE (the balancer's access log, which is stdout, apart from its messages).
launch() {
  local out=
  if [[ $1 == --stdout ]]; then
    out=$2
    shift 2
  fi
  local name=$1
  shift
  mkdir -p "$LOGS" "$RUN_DIR"
  printf '\n===== %s: start of %s (%s) =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$*" >>"$LOGS/$name.log"
  # No terminal on stdin/stdout: the processes log plain text, and a closed terminal does not stop them.
  if [[ -n $out ]]; then
    setsid "$@" </dev/null >>"$out" 2>>"$LOGS/$name.log" &
  else
    setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  fi
  printf '%s\n' "$!" >"$RUN_DIR/$name.pid"
  # The shell forgets the job: its death is reported by the watcher, not as a bash job notice.
  disown "$!"
}

start_node() { # ID
  local id=$1
  [[ -f $CONFIG_DIR/node-$id.yaml ]] || { say "no node $id: $CONFIG_DIR/node-$id.yaml does not exist"; return 2; }
  if pid_of "node-$id" >/dev/null; then
    say "node $id is already running (pid $(pid_of "node-$id"))"
    return 0
  fi
  # shellcheck disable=SC2086 # NODE_JAVA_OPTS is a list of options
  launch "node-$id" java $NODE_JAVA_OPTS -jar "$NODE_JAR" --config "$CONFIG_DIR/node-$id.yaml"
}

# wait_healthy NAME URL: until URL answers 2xx, the process dies, or STARTUP_TIMEOUT passes.
wait_healthy() {
  local name=$1 url=$2 deadline=$((SECONDS + STARTUP_TIMEOUT))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! pid_of "$name" >/dev/null; then
      say "$name exited during start-up; last lines of $LOGS/$name.log:"
      tail -n 20 "$LOGS/$name.log" >&2
      return 1
    fi
    if (( SECONDS >= deadline )); then
      say "$name did not answer $url within ${STARTUP_TIMEOUT}s; see $LOGS/$name.log"
      return 1
    fi
    sleep 0.5
  done
}

# stop_process NAME SECONDS: SIGTERM, wait up to SECONDS for it to exit, then SIGKILL. Forgets its pid.
stop_process() {
  local name=$1 timeout=$2 pid deadline
  pid=$(pid_of "$name") || { rm -f "$RUN_DIR/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop within ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/$name.pid"
}

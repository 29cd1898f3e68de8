#!/usr/bin/env bash
# Fulcrum local cluster: the post servers of config/node-*.yaml (us-1 and us-2 in us-east, eu-1 in
# eu-west) sharing one SQLite file under data/, and the balancer in front of them on :8080 (admin :8081).
#
#   scripts/run-local.sh                 build if needed, start everything, Ctrl-C stops everything
#   scripts/run-local.sh --two-services  the same with config/balancer-two-services.yaml: the post
#                                        servers under /, and a static file server (python3 -m
#                                        http.server on 127.0.0.1:9100, serving STATIC_DIR) under /static
#   scripts/run-local.sh --fleet         two balancers in front of the same post servers: A on :8080
#                                        (admin :8081) and B on :8090 (admin :8091), both least-busy on
#                                        the nodes' reported load, sharing one rate limit (100/s, burst
#                                        200 per client address) through a redis-server of their own on
#                                        127.0.0.1:6390 (REDIS_PORT); kill either balancer and the other
#                                        serves on (clients: docs/operations.md, "Running more than one")
#
# While it runs, a post server may die or be stopped: the balancer routes around it, this script says
# so, and `scripts/node.sh restart ID` (or `start ID`) brings it back. If the balancer itself exits,
# the script stops the post servers and exits.
#
# Ctrl-C (or SIGTERM) stops the balancer first and waits while it drains the requests in progress (up
# to timeouts.drain of its config, plus a margin), then stops the post servers.
#
# Posts live in data/posts.db and survive restarts. Each process appends to data/logs/NAME.log after a
# line marking the start; the balancer's access log (its stdout) goes to data/logs/access.log. Everything listens on 127.0.0.1 only. Environment:
#   LISTEN_HOST         the balancer's traffic address   (default: 127.0.0.1; 0.0.0.0 opens it to
#                       the network, with open edit and delete)
#   NODE_JAVA_OPTS      JVM options for each node        (default: -Xms64m -Xmx256m)
#   BALANCER_JAVA_OPTS  JVM options for the balancer     (default: -Xms128m -Xmx512m)
#   STARTUP_TIMEOUT     seconds to wait for /health      (default: 60)
#   FULCRUM_CONFIG_DIR  the balancer.yaml and node-*.yaml to run (default: config/)
#   FULCRUM_DATA_DIR    logs and pid files               (default: data/)
#   FULCRUM_SKIP_BUILD  1: run the jars as they are, never build
#   STATIC_DIR          what the static file server serves with --two-services (default: docs/)
#   STATIC_PORT         its port (default: 9100, as in balancer-two-services.yaml)
#   REDIS_PORT          the fleet's redis-server with --fleet (default: 6390)
#   FLEET_RATE          the fleet-wide rate limit with --fleet (default: 100/s)
set -euo pipefail
SAY_AS=run-local
# shellcheck source=lib/local-cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-cluster.sh"
cd "$ROOT"

LISTEN_HOST=${LISTEN_HOST:-127.0.0.1}
BALANCER_CONFIG=$CONFIG_DIR/balancer.yaml
TWO_SERVICES=0
FLEET=0
case ${1:-} in
  "") ;;
  --fleet)
    FLEET=1
    REDIS_PORT=${REDIS_PORT:-6390}
    FLEET_RATE=${FLEET_RATE:-100/s}
    REDIS_SERVER=$(command -v redis-server || echo /usr/bin/redis-server)
    [[ -x $REDIS_SERVER ]] || { say "--fleet needs redis-server (apt-get install redis-server)"; exit 2; }
    ;;
  --two-services)
    TWO_SERVICES=1
    BALANCER_CONFIG=$CONFIG_DIR/balancer-two-services.yaml
    STATIC_DIR=${STATIC_DIR:-$ROOT/docs}
    STATIC_PORT=${STATIC_PORT:-9100}
    command -v python3 >/dev/null || { say "--two-services needs python3 for its static file server"; exit 2; }
    [[ -d $STATIC_DIR ]] || { say "STATIC_DIR is not a directory: $STATIC_DIR"; exit 2; }
    ;;
  *) say "unknown option: $1 (expected: nothing, --two-services or --fleet)"; exit 2 ;;
esac
mapfile -t NODES < <(node_ids)
(( ${#NODES[@]} )) || { say "no post servers: $CONFIG_DIR/node-*.yaml"; exit 2; }

# ---- build when a jar is missing or older than any source or pom ----------------------------------
# Both jars embed config-support (the YAML reading they share), so its sources count for both, and
# the build makes it too (-am): a fresh clone's local Maven repository has no io.fulcrum artifact.
needs_build() {
  local jar=$1 module=$2
  [[ -d $module/src ]] || return 1
  [[ -f $jar ]] || return 0
  [[ -n $(find "$module/src" "$module/pom.xml" config-support/src config-support/pom.xml pom.xml \
    -newer "$jar" -print -quit 2>/dev/null) ]]
}
BUILD=(mvn -B -q -Dstyle.color=never -DskipTests package -pl backend-node,balancer -am)
if [[ ${FULCRUM_SKIP_BUILD:-} != 1 ]] && { needs_build "$NODE_JAR" backend-node || needs_build "$BALANCER_JAR" balancer; }; then
  mkdir -p "$LOGS"
  say "building (${BUILD[*]}; output in $LOGS/build.log)..."
  printf '\n===== %s: build =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$LOGS/build.log"
  # Maven writes a few terminal colour codes even in batch mode; the log keeps plain text.
  if ! "${BUILD[@]}" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >>"$LOGS/build.log"; then
    say "the build failed; last lines of $LOGS/build.log:"
    tail -n 30 "$LOGS/build.log" >&2
    exit 1
  fi
fi

# The balancer's ports and drain time, from its config.
BALANCER_PORT=$(port_in "$BALANCER_CONFIG" listen)
ADMIN_PORT=$(port_in "$BALANCER_CONFIG" admin)
drain_seconds() { # timeouts.drain in whole seconds, rounded up (default 30s)
  local value
  value=$(grep -o 'drain: *[0-9][0-9]*\(ms\|s\|m\)' "$BALANCER_CONFIG" | head -n 1 | sed 's/drain: *//')
  case $value in
    *ms) echo $(( (${value%ms} + 999) / 1000 )) ;;
    *s) echo "${value%s}" ;;
    *m) echo $(( ${value%m} * 60 )) ;;
    *) echo 30 ;;
  esac
}
DRAIN=$(drain_seconds)

# Another address than the file's: run a copy of the file with that listen host.
RUN_CONFIG=$BALANCER_CONFIG
file_host=$(sed -n 's/^ *listen: *{ *host: *\([^ ,}]*\).*/\1/p' "$BALANCER_CONFIG" | head -n 1)
if [[ $LISTEN_HOST != "$file_host" ]]; then
  mkdir -p "$RUN_DIR"
  RUN_CONFIG=$RUN_DIR/balancer.yaml
  sed "s/^\( *listen: *{ *host: *\)[^ ,}]*/\1$LISTEN_HOST/" "$BALANCER_CONFIG" >"$RUN_CONFIG"
  say "the balancer listens on $LISTEN_HOST (LISTEN_HOST), using a copy of $BALANCER_CONFIG in $RUN_CONFIG"
fi

# With --fleet: both balancers run copies of the config, with the fleet-wide rate limit and the
# shared Redis added, B on the next ten ports.
BALANCERS=(balancer)
if (( FLEET )); then
  mkdir -p "$RUN_DIR"
  BALANCERS=(balancer balancer-b)
  B_PORT=$((BALANCER_PORT + 10))
  B_ADMIN_PORT=$((ADMIN_PORT + 10))
  fleet_config() { # SOURCE LISTEN_PORT ADMIN_PORT > a copy with those ports, the Redis and the limit
    sed -e "s/^\( *listen: *{.*port: *\)[0-9]*/\1$2/" -e "s/^\( *admin: *{.*port: *\)[0-9]*/\1$3/" "$1"
    printf '\n# --fleet: one rate limit for both balancers, kept in the Redis they share.\n'
    printf 'rate-limit: { rate: %s, store: redis }\n' "$FLEET_RATE"
    printf 'redis: { url: "redis://127.0.0.1:%s" }\n' "$REDIS_PORT"
  }
  fleet_config "$RUN_CONFIG" "$BALANCER_PORT" "$ADMIN_PORT" >"$RUN_DIR/balancer-a.yaml"
  fleet_config "$RUN_CONFIG" "$B_PORT" "$B_ADMIN_PORT" >"$RUN_DIR/balancer-b.yaml"
  RUN_CONFIG=$RUN_DIR/balancer-a.yaml
  say "fleet: balancer A uses $RUN_DIR/balancer-a.yaml, balancer B $RUN_DIR/balancer-b.yaml"
fi

# ---- stopping: the balancer drains first, then the post servers ------------------------------------
stopping=0
stop_all() {
  (( stopping )) && return
  stopping=1
  trap - INT TERM
  local name
  for name in "${BALANCERS[@]}"; do
    if pid_of "$name" >/dev/null; then
      say "stopping the $name: it drains requests in progress for up to ${DRAIN}s (timeouts.drain)..."
      stop_process "$name" $((DRAIN + 10))
    fi
  done
  if (( FLEET )) && pid_of redis >/dev/null; then
    say "stopping the fleet's redis-server..."
    stop_process redis 5
  fi
  local id
  if (( TWO_SERVICES )) && pid_of static >/dev/null; then
    say "stopping the static file server..."
    stop_process static 5
  fi
  for id in "${NODES[@]}"; do
    if pid_of "node-$id" >/dev/null; then
      say "stopping node $id..."
      stop_process "node-$id" "$NODE_STOP_TIMEOUT"
    fi
    rm -f "$RUN_DIR/node-$id.pid"
  done
  say "stopped."
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

for id in "${NODES[@]}"; do
  if pid_of "node-$id" >/dev/null; then
    say "node $id is already running (pid $(pid_of "node-$id")); stop it first (scripts/node.sh stop $id)"
    exit 1
  fi
done
for id in "${NODES[@]}"; do
  start_node "$id"
done
for id in "${NODES[@]}"; do
  wait_healthy "node-$id" "http://127.0.0.1:$(node_port "$id")/health" || exit 1
  say "node $id is up: http://127.0.0.1:$(node_port "$id")/ (metrics: http://127.0.0.1:$(node_admin_port "$id")/metrics)"
done

if (( TWO_SERVICES )); then
  if pid_of static >/dev/null; then
    say "the static file server is already running (pid $(pid_of static)); stop it first"
    exit 1
  fi
  launch static python3 -m http.server "$STATIC_PORT" --bind 127.0.0.1 --directory "$STATIC_DIR"
  wait_healthy static "http://127.0.0.1:$STATIC_PORT/" || exit 1
  say "static file server is up: http://127.0.0.1:$STATIC_PORT/ serving $STATIC_DIR"
fi

if (( FLEET )); then
  if pid_of redis >/dev/null; then
    say "the fleet's redis-server is already running (pid $(pid_of redis)); stop it first"
    exit 1
  fi
  # Buckets only: nothing to keep on disk.
  launch redis "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
  say "the fleet's redis-server is up on 127.0.0.1:$REDIS_PORT"
fi

# The balancer's own messages go to stderr, into balancer.log; its access log (access-log: stdout) goes
# to access.log, so that the last lines of balancer.log say why it stopped, not which requests it
# served. The JVM's own reports (a crash) go to stderr too.
# shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
launch --stdout "$LOGS/access.log" balancer java -XX:+DisplayVMOutputToStderr $BALANCER_JAVA_OPTS \
  -jar "$BALANCER_JAR" --config "$RUN_CONFIG"
wait_healthy balancer "http://127.0.0.1:$ADMIN_PORT/health" || exit 1
say "balancer is up:   http://$LISTEN_HOST:$BALANCER_PORT/   (admin: http://127.0.0.1:$ADMIN_PORT/)"
if (( FLEET )); then
  # shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
  launch --stdout "$LOGS/access-b.log" balancer-b java -XX:+DisplayVMOutputToStderr $BALANCER_JAVA_OPTS \
    -jar "$BALANCER_JAR" --config "$RUN_DIR/balancer-b.yaml"
  wait_healthy balancer-b "http://127.0.0.1:$B_ADMIN_PORT/health" || exit 1
  say "balancer B is up: http://$LISTEN_HOST:$B_PORT/   (admin: http://127.0.0.1:$B_ADMIN_PORT/)"
  say "Fleet: kill one balancer (kill \$(cat $RUN_DIR/balancer.pid)) and send the same requests to the other;"
  say "both take from one rate limit of $FLEET_RATE per client address (429 past it, whichever you ask)."
fi
echo
say "Open http://127.0.0.1:$BALANCER_PORT/ for the timeline through the balancer,"
say "and http://127.0.0.1:$ADMIN_PORT/ for the balancer's status page."
say "Try: scripts/node.sh kill us-2, watch the status page, then scripts/node.sh restart us-2."
if (( TWO_SERVICES )); then
  say "Two services: http://127.0.0.1:$BALANCER_PORT/static/ is $STATIC_DIR (pool static), the rest the post servers."
fi
say "Logs are in $LOGS/. Press Ctrl-C to stop everything (the balancer drains first)."

# ---- watch: report processes that exit or come back, and what the balancer thinks of each node ----
declare -A reported_pid=() health=()
backend_health() { # prints "ID true|false" per backend, from the admin API's /backends
  curl -fsS --max-time 2 "http://127.0.0.1:$ADMIN_PORT/backends" 2>/dev/null | tr '{' '\n' \
    | sed -n 's/.*"id":"\([^"]*\)".*"healthy":\(true\|false\).*/\1 \2/p'
}
while :; do
  if (( FLEET )); then
    # One balancer of two may die: the other serves on. Both gone, and the fleet is gone.
    for name in "${BALANCERS[@]}"; do
      if ! pid_of "$name" >/dev/null && [[ ${reported_pid[$name]:-} != dead ]]; then
        say "$name exited (see $LOGS/$name.log); clients that retry on the other balancer lose nothing"
        reported_pid[$name]=dead
      fi
    done
    if ! pid_of balancer >/dev/null && ! pid_of balancer-b >/dev/null; then
      say "both balancers exited"
      exit 1
    fi
    if ! pid_of redis >/dev/null && [[ ${reported_pid[redis]:-} != dead ]]; then
      say "the fleet's redis-server exited: each balancer applies the rate limit alone until it is back"
      reported_pid[redis]=dead
    fi
  elif ! pid_of balancer >/dev/null; then
    say "the balancer exited; last lines of $LOGS/balancer.log:"
    tail -n 20 "$LOGS/balancer.log" >&2
    exit 1
  fi
  if (( TWO_SERVICES )) && ! pid_of static >/dev/null && [[ ${reported_pid[static]:-} != dead ]]; then
    say "the static file server exited (see $LOGS/static.log); /static/ answers 503 until it runs again"
    reported_pid[static]=dead
  fi
  for id in "${NODES[@]}"; do
    file=$RUN_DIR/node-$id.pid
    pid=$( [[ -f $file ]] && cat "$file" || true )
    if [[ -z $pid ]]; then
      if [[ ${reported_pid[$id]:-} != stopped ]]; then
        say "node $id is stopped; start it again: scripts/node.sh start $id"
        reported_pid[$id]=stopped
      fi
    elif ! kill -0 "$pid" 2>/dev/null; then
      if [[ ${reported_pid[$id]:-} != "dead $pid" ]]; then
        say "node $id exited (see $LOGS/node-$id.log); the balancer routes around it. Restart it: scripts/node.sh restart $id"
        reported_pid[$id]="dead $pid"
      fi
    elif [[ -n ${reported_pid[$id]:-} && ${reported_pid[$id]} != "alive $pid" ]]; then
      say "node $id runs again (pid $pid)"
      reported_pid[$id]="alive $pid"
    fi
  done
  while read -r id healthy; do
    [[ -n $id ]] || continue
    if [[ ${health[$id]:-true} != "$healthy" ]]; then
      if [[ $healthy == true ]]; then
        say "balancer: backend $id is healthy again and gets traffic"
      else
        say "balancer: backend $id is down (failed its health checks); its requests go to the others"
      fi
    fi
    health[$id]=$healthy
  done < <(backend_health)
  sleep 1
done

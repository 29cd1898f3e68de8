#!/usr/bin/env bash
# One post server of the local cluster (scripts/run-local.sh), while the cluster runs:
#
#   scripts/node.sh status            every node: running or not, and its /health
#   scripts/node.sh kill us-2         SIGKILL, as a crash would (the balancer routes around it)
#   scripts/node.sh stop us-2         SIGTERM: the node answers the requests in progress, then exits
#   scripts/node.sh start us-2        start it again (its output is appended to data/logs/node-us-2.log)
#   scripts/node.sh restart us-2      stop, then start
#
# Nodes are named by their config files, config/node-ID.yaml. The environment of run-local.sh applies
# (FULCRUM_CONFIG_DIR, FULCRUM_DATA_DIR, NODE_JAVA_OPTS, STARTUP_TIMEOUT).
set -euo pipefail
SAY_AS=node.sh
# shellcheck source=lib/local-cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-cluster.sh"
cd "$ROOT"

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

status() {
  local id pid port health
  while read -r id; do
    port=$(node_port "$id")
    if pid=$(pid_of "node-$id"); then
      health=$(curl -sS --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null || echo "no answer")
      printf '%-8s running (pid %s) on :%s  %s\n' "$id" "$pid" "$port" "$health"
    else
      printf '%-8s not running (start it: scripts/node.sh start %s)\n' "$id" "$id"
    fi
  done < <(node_ids)
}

start() {
  local id=$1
  start_node "$id"
  wait_healthy "node-$id" "http://127.0.0.1:$(node_port "$id")/health"
  say "node $id is up (pid $(pid_of "node-$id")); the balancer sends it traffic again after its health checks pass (health.rise)"
}

[[ $# -ge 1 ]] || usage
command=$1
case $command in
  status)
    status
    ;;
  start | stop | restart | kill)
    [[ $# -eq 2 ]] || usage
    id=$2
    [[ -f $CONFIG_DIR/node-$id.yaml ]] || { say "no node $id (expected one of: $(node_ids | tr '\n' ' '))"; exit 2; }
    case $command in
      start) start "$id" ;;
      stop)
        stop_process "node-$id" "$NODE_STOP_TIMEOUT"
        say "node $id stopped; the balancer routes around it"
        ;;
      kill)
        if pid=$(pid_of "node-$id"); then
          kill -KILL "$pid"
          say "node $id killed (pid $pid); the balancer routes around it. Restart it: scripts/node.sh start $id"
        else
          say "node $id is not running"
        fi
        ;;
      restart)
        stop_process "node-$id" "$NODE_STOP_TIMEOUT"
        start "$id"
        ;;
    esac
    ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# Post server benchmark: wrk on loopback against one backend node, for GET /posts/{id} and
# POST /posts, on SQLite and on PostgreSQL. Prints the median requests/s, p50 and p99 latency
# of RUNS runs per case as a markdown table.
#
#   scripts/bench-node.sh [--runs 3] [--duration 10] [--connections 32] [--threads 2] [--only sqlite,postgres]
#
# PostgreSQL: FULCRUM_BENCH_PG_URL (default jdbc:postgresql://127.0.0.1:5432/test) and
# FULCRUM_BENCH_PG_USER (default postgres); the run uses a schema of its own and drops it.
# Needs wrk, curl, psql (for PostgreSQL) and a built backend-node/target/backend-node.jar.
#
# --only replicas (not part of the default set): reads per second with reads spread over streaming
# replicas against all reads on the primary. scripts/run-cluster.sh pg-up makes a primary and two
# replicas in a scratch folder; two nodes (one per region) serve GET /posts/{id} and GET /timeline,
# first both reading from the primary, then each from its own replica, one wrk per node at once;
# the row gives the sum of both nodes' req/s and the worse node's p50 and p99. On one machine every
# server shares the same cores: the row shows what routing reads to replicas costs or saves in CPU
# and round trips, not the network distance a replica in a far region saves.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=3 DURATION=10 CONNECTIONS=32 THREADS=2 ONLY="sqlite,postgres"
while (( $# )); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
JAR="$ROOT/backend-node/target/backend-node.jar"
[[ -f $JAR ]] || { echo "build first: mvn -B -q -DskipTests package" >&2; exit 1; }
PG_URL=${FULCRUM_BENCH_PG_URL:-jdbc:postgresql://127.0.0.1:5432/test}
PG_USER=${FULCRUM_BENCH_PG_USER:-postgres}
WORK=$(mktemp -d)
NODE_PID=""
SCHEMA="fulcrum_bench_$$"

cleanup() {
  if [[ -n $NODE_PID ]]; then kill "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; fi
  if [[ $ONLY == *postgres* ]]; then
    psql -q -h 127.0.0.1 -U "$PG_USER" -d "${PG_URL##*/}" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

start_node() { # kind
  local kind=$1 port
  port=$(free_port)
  if [[ $kind == sqlite ]]; then
    printf 'id: bench\nregion: local\nlisten: { host: 127.0.0.1, port: %s }\nstore: { kind: sqlite, path: "%s/posts.db", pool-size: 4, queue-capacity: 256 }\n' \
      "$port" "$WORK" >"$WORK/node.yaml"
  else
    psql -q -h 127.0.0.1 -U "$PG_USER" -d "${PG_URL##*/}" -c "CREATE SCHEMA IF NOT EXISTS $SCHEMA" >/dev/null
    printf 'id: bench\nregion: local\nlisten: { host: 127.0.0.1, port: %s }\nstore: { kind: postgres, url: "%s?currentSchema=%s", user: %s, pool-size: 8, queue-capacity: 256 }\n' \
      "$port" "$PG_URL" "$SCHEMA" "$PG_USER" >"$WORK/node.yaml"
  fi
  java -Xms256m -Xmx512m -jar "$JAR" --config "$WORK/node.yaml" >"$WORK/node-$kind.log" 2>&1 &
  NODE_PID=$!
  PORT=$port
  await_node "$NODE_PID" "$WORK/node-$kind.log"
}

# Waits up to 60 s for the node on $PORT to answer /health; exits, showing its log, when it dies first.
await_node() { # pid log
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" 2>/dev/null; do
    (( SECONDS < deadline )) && kill -0 "$1" 2>/dev/null || { cat "$2" >&2; exit 1; }
    sleep 0.3
  done
}

stop_node() { kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=""; }

# wrk → "rps p50 p99" (latencies in ms)
one_run() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { non2xx = $NF }
    END { if (non2xx > 0) printf "non-2xx responses: %s\n", non2xx > "/dev/stderr"; printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

bench_case() { # label wrk-args...
  local label=$1 rps=() p50=() p99=()
  shift
  wrk -t1 -c4 -d2s "$@" >/dev/null # warm-up: JIT, connection pools
  for ((i = 1; i <= RUNS; i++)); do
    read -r r a b < <(one_run "$@")
    rps+=("$r"); p50+=("$a"); p99+=("$b")
  done
  printf '| %s | %s | %s | %s | %s |\n' "$label" \
    "$(printf '%s\n' "${rps[@]}" | median)" "$(printf '%s\n' "${p50[@]}" | median)" \
    "$(printf '%s\n' "${p99[@]}" | median)" "${rps[*]}"
}

# ---- replicas: two nodes, reads all on the primary, then each node on its own replica ----------------
REPLICA_PIDS=()
REPLICA_DIR=""
replicas_cleanup() {
  local pid
  for pid in "${REPLICA_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  REPLICA_PIDS=()
  if [[ -n $REPLICA_DIR ]]; then
    "$ROOT/scripts/run-cluster.sh" --dir "$REPLICA_DIR/cluster" --regions r1,r2 --pg-ports "$PG_PORTS" pg-down || true
    rm -rf "$REPLICA_DIR"
  fi
}

start_replica_node() { # id primary-port replica-port-or-empty; sets PORT
  local id=$1 port
  port=$(free_port)
  {
    printf 'id: %s
region: %s
listen: { host: 127.0.0.1, port: %s }
' "$id" "$id" "$port"
    printf 'store:
  kind: postgres
  pool-size: 8
  queue-capacity: 256
'
    printf '  primary: { url: "jdbc:postgresql://127.0.0.1:%s/fulcrum", user: postgres }
' "$2"
    [[ -n $3 ]] && printf '  replica: { url: "jdbc:postgresql://127.0.0.1:%s/fulcrum" }
' "$3"
  } >"$REPLICA_DIR/$id.yaml"
  java -Xms256m -Xmx512m -jar "$JAR" --config "$REPLICA_DIR/$id.yaml" >"$REPLICA_DIR/$id.log" 2>&1 &
  REPLICA_PIDS+=($!)
  PORT=$port
  await_node "${REPLICA_PIDS[-1]}" "$REPLICA_DIR/$id.log"
}

# wrk against two URLs at once → "rps-sum worst-p50 worst-p99"
pair_run() {
  one_run "$1" >"$REPLICA_DIR/a.out" &
  local a=$!
  one_run "$2" >"$REPLICA_DIR/b.out"
  wait "$a"
  cat "$REPLICA_DIR/a.out" "$REPLICA_DIR/b.out" | awk '{ rps += $1; if ($2 > p50) p50 = $2; if ($3 > p99) p99 = $3 }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

pair_case() { # label url-a url-b
  local label=$1 rps=() p50=() p99=() r x y i
  wrk -t1 -c4 -d2s "$2" >/dev/null
  wrk -t1 -c4 -d2s "$3" >/dev/null
  for ((i = 1; i <= RUNS; i++)); do
    read -r r x y < <(pair_run "$2" "$3")
    rps+=("$r"); p50+=("$x"); p99+=("$y")
  done
  printf '| %s | %s | %s | %s | %s |\n' "$label" \
    "$(printf '%s\n' "${rps[@]}" | median)" "$(printf '%s\n' "${p50[@]}" | median)" \
    "$(printf '%s\n' "${p99[@]}" | median)" "${rps[*]}"
}

bench_replicas() {
  REPLICA_DIR=$(mktemp -d)
  chmod 755 "$REPLICA_DIR"
  PG_PORTS="$(free_port),$(free_port),$(free_port)"
  trap 'replicas_cleanup; cleanup' EXIT
  "$ROOT/scripts/run-cluster.sh" --dir "$REPLICA_DIR/cluster" --regions r1,r2 --pg-ports "$PG_PORTS" pg-up \
    >"$REPLICA_DIR/ports"
  local primary r1 r2 mode a b id
  primary=$(awk '$1 == "primary" { print $2 }' "$REPLICA_DIR/ports")
  r1=$(awk '$1 == "replica" && $2 == "r1" { print $3 }' "$REPLICA_DIR/ports")
  r2=$(awk '$1 == "replica" && $2 == "r2" { print $3 }' "$REPLICA_DIR/ports")
  for mode in primary replicas; do
    if [[ $mode == primary ]]; then
      start_replica_node r1 "$primary" ""; a=$PORT
      start_replica_node r2 "$primary" ""; b=$PORT
    else
      start_replica_node r1 "$primary" "$r1"; a=$PORT
      start_replica_node r2 "$primary" "$r2"; b=$PORT
    fi
    id=$(curl -fsS -H 'Content-Type: application/json' -d '{"author":"bench","text":"the post everyone reads"}' \
      "http://127.0.0.1:$a/posts" | sed 's/^{"id":\([0-9]*\).*/\1/')
    # Let both replicas replay the post before measuring (health shows the lag).
    sleep 1
    pair_case "reads on the $mode: GET /posts/{id}, 2 nodes" "http://127.0.0.1:$a/posts/$id" "http://127.0.0.1:$b/posts/$id"
    pair_case "reads on the $mode: GET /timeline, 2 nodes" "http://127.0.0.1:$a/timeline" "http://127.0.0.1:$b/timeline"
    for id in "${REPLICA_PIDS[@]}"; do kill "$id" 2>/dev/null || true; wait "$id" 2>/dev/null || true; done
    REPLICA_PIDS=()
  done
}

echo "| case | req/s (median) | p50 ms | p99 ms | req/s of each run |"
echo "|---|---:|---:|---:|---|"
if [[ ,$ONLY, == *,replicas,* ]]; then
  bench_replicas
fi
for kind in sqlite postgres; do
  [[ ,$ONLY, == *,$kind,* ]] || continue
  start_node "$kind"
  id=$(curl -fsS -H 'Content-Type: application/json' -d '{"author":"bench","text":"the post everyone reads"}' \
    "http://127.0.0.1:$PORT/posts" | sed 's/^{"id":\([0-9]*\).*/\1/')
  bench_case "$kind GET /posts/{id}" "http://127.0.0.1:$PORT/posts/$id"
  bench_case "$kind POST /posts" -s "$ROOT/scripts/node-post.lua" "http://127.0.0.1:$PORT/posts"
  stop_node
done

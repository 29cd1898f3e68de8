#!/usr/bin/env bash
# Fulcrum chaos run: real post servers and a real balancer on free loopback ports, a bounded load
# through the balancer (scripts/chaos/Load.java), and one fault per scenario. Prints a table of
# scenario, requests, failures, duplicate posts, p50 and p99, and whether the scenario's promise
# held; exits 1 when any promise is broken.
#
#   scripts/chaos.sh [--scenario NAME[,NAME...]] [--duration 10] [--conns 8] [--keep]
#
# Scenarios (all, in this order, by default) and their promises:
#   kill-one        kill -9 one of three us-east nodes under GETs and keyed POSTs:
#                   0 failed requests, 0 duplicate posts, 0 acknowledged posts lost
#   region-loss     kill -9 all three us-east nodes at once: 0 failed requests, 0 duplicates;
#                   the table shows the share eu-west served after the kill
#   region-restore  us-east is down; its nodes are restarted under load: 0 failed requests, and
#                   us-east serves >= 90% of the requests in the 3 s that end 5 s after they answer
#   hang            kill -STOP one node for half the run, then kill -CONT: 0 failed GETs
#                   (retry.per-try-timeout 1s < timeouts.response 5s)
#   flap            for 1.5 x duration, one node is killed -9, started again 1-2 s later, and
#                   killed again 1-2 s after it answers (or after 5 s of JVM start): 0 failed GETs
# kill-one, hang and flap break the us-east node that served the most requests in the second
# before the fault; a victim that served none breaks the promise (the scenario tested nothing).
#   reload          reloads under load (POST /reload) that add a node, remove one, move one to a
#                   new port, and put the first set back: 0 failed requests, 0 duplicates
# Failures: any answer but 200 to a GET /posts/{id}, or but 201/200 to a POST, an exception or a
# 10 s client timeout. Duplicates: after the load, the run's posts are paged from a node's
# /timeline?author=<run id>; a key stored more than once counts each extra post. An acknowledged
# key that is not stored at all is "lost" (and breaks the promise too).
# A backend that resets a connection in the middle of a response is covered by the test suite
# only (BackendFaultTest): a post server writes each answer in one go, so killing one rarely
# lands mid-response.
#
# Everything runs under a temporary folder (its own SQLite file, node and balancer YAML, logs);
# it is removed after a clean run and kept (the path is printed) when a promise is broken or with
# --keep. Everything started here is stopped on exit. Needs Java 17, curl, jq, python3 and the two
# jars (mvn -B -q -DskipTests package). Four nodes (us-1..us-3 in us-east, eu-1 in eu-west), the
# balancer (region us-east, health every 250ms) and the load share the machine: keep --conns modest
# on a small one. See scripts/chaos/README.md for the output of a run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALL_SCENARIOS=(kill-one region-loss region-restore hang flap reload)
DURATION=10
CONNS=8
SCENARIOS=("${ALL_SCENARIOS[@]}")
KEEP=0
POST_PERCENT=30

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
while (( $# )); do
  case $1 in
    --scenario) IFS=, read -r -a SCENARIOS <<<"$2"; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "chaos.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 3 ]] || { echo "chaos.sh: --duration is whole seconds, at least 3" >&2; exit 2; }
[[ $CONNS =~ ^[0-9]+$ && $CONNS -ge 1 ]] || { echo "chaos.sh: --conns is a positive number" >&2; exit 2; }
for s in "${SCENARIOS[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || { echo "chaos.sh: no scenario '$s' (${ALL_SCENARIOS[*]})" >&2; exit 2; }
done

NODE_JAR=$ROOT/backend-node/target/backend-node.jar
BALANCER_JAR=$ROOT/balancer/target/balancer.jar
LOAD_SRC=$ROOT/scripts/chaos/Load.java
for f in "$NODE_JAR" "$BALANCER_JAR"; do
  [[ -f $f ]] || { echo "chaos.sh: $f is missing; build first: mvn -B -q -DskipTests package" >&2; exit 1; }
done
for c in java curl jq python3; do
  command -v "$c" >/dev/null || { echo "chaos.sh: needs $c" >&2; exit 1; }
done

NODE_JAVA_OPTS=${NODE_JAVA_OPTS:-"-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"}
BALANCER_JAVA_OPTS=${BALANCER_JAVA_OPTS:-"-Xms128m -Xmx256m -XX:+UseParallelGC"}
LOAD_JAVA_OPTS=${LOAD_JAVA_OPTS:-"-Xmx256m -XX:+UseSerialGC"}
BACKEND_HEADER=X-Fulcrum-Backend
RETRY_BUDGET=${CHAOS_RETRY_BUDGET:-20} # retry.budget-percent of the balancer (20 is its default)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fulcrum-chaos.XXXXXX")
mkdir -p "$WORK/logs"
T0=$EPOCHREALTIME

say() { printf '[chaos %6.1fs] %s\n' "$(elapsed)" "$*" >&2; }
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
now_ms() { local t=${EPOCHREALTIME/./}; echo "${t:0:13}"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# ---- processes: every one started here is stopped on exit --------------------------------------------
ALL_PIDS=()
declare -A NODE_PORT NODE_PID NODE_REGION
stopping=0
stop_all() {
  (( stopping )) && return
  stopping=1
  local pid alive=()
  for pid in "${ALL_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      alive+=("$pid")
      kill -CONT "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  local deadline=$((SECONDS + 15))
  for pid in "${alive[@]}"; do
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
finish() {
  local rc=$?
  stop_all
  if (( KEEP )) || (( rc != 0 )); then
    say "work folder kept: $WORK (logs/, balancer.yaml, access.log, per-scenario load output)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'say interrupted; exit 130' INT
trap 'say terminated; exit 143' TERM

start_node() { # id port region
  local id=$1 port=$2 region=$3
  local yaml=$WORK/node-$id-$port.yaml
  printf 'id: %s\nregion: %s\nlisten: { host: 127.0.0.1, port: %s }\nstore: { kind: sqlite, path: "%s/posts.db", busy-timeout: 5s, pool-size: 4, queue-capacity: 64 }\n' \
    "$id" "$region" "$port" "$WORK" >"$yaml"
  # shellcheck disable=SC2086 # NODE_JAVA_OPTS is a list of options
  java $NODE_JAVA_OPTS -jar "$NODE_JAR" --config "$yaml" >>"$WORK/logs/node-$id-$port.log" 2>&1 &
  local pid=$!
  ALL_PIDS+=("$pid")
  NODE_PID[$id]=$pid
  NODE_PORT[$id]=$port
  NODE_REGION[$id]=$region
}

node_alive() { [[ -n ${NODE_PID[$1]:-} ]] && kill -0 "${NODE_PID[$1]}" 2>/dev/null; }

wait_node_up() { # id [timeout]
  local id=$1 deadline=$((SECONDS + ${2:-60}))
  until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:${NODE_PORT[$id]}/health" 2>/dev/null; do
    if ! node_alive "$id" || (( SECONDS >= deadline )); then
      say "node $id did not come up on port ${NODE_PORT[$id]}; last lines of its log:"
      tail -n 20 "$WORK/logs/node-$id-${NODE_PORT[$id]}.log" >&2
      exit 1
    fi
    sleep 0.2
  done
}

node_answers() { # id timeout: 0 once the node answers /health, 1 when it does not within timeout
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:${NODE_PORT[$1]}/health" 2>/dev/null; do
    (( SECONDS < deadline )) || return 1
    sleep 0.1
  done
}

kill_node() { # signal id...
  local sig=$1 id
  shift
  for id in "$@"; do
    kill "-$sig" "${NODE_PID[$id]}" 2>/dev/null || true
  done
  if [[ $sig == KILL ]]; then
    for id in "$@"; do wait "${NODE_PID[$id]}" 2>/dev/null || true; done
  fi
}

# ---- the balancer and its YAML -----------------------------------------------------------------------
LISTEN_PORT=$(free_port)
ADMIN_PORT=$(free_port)
BALANCER_URL=http://127.0.0.1:$LISTEN_PORT
ADMIN_URL=http://127.0.0.1:$ADMIN_PORT
CONFIG=$WORK/balancer.yaml
ACTIVE=(us-1 us-2 us-3 eu-1)

write_config() { # the backends in ACTIVE, at their current ports; replaced atomically
  {
    cat <<EOF
# Written by scripts/chaos.sh: short health intervals so that a run takes seconds.
listen: { host: 127.0.0.1, port: $LISTEN_PORT }
admin: { host: 127.0.0.1, port: $ADMIN_PORT }
region: us-east
routing:
  policy: least-busy
  spillover: { saturation: 0.8, order: [eu-west] }
  slow-start: 2s
backends:
EOF
    local id
    for id in "${ACTIVE[@]}"; do
      printf '  - { id: %s, url: "http://127.0.0.1:%s", region: %s }\n' "$id" "${NODE_PORT[$id]}" "${NODE_REGION[$id]}"
    done
    cat <<EOF
health: { path: /health, interval: 250ms, timeout: 500ms, rise: 2, fall: 2 }
outlier: { consecutive-failures: 3, base-ejection: 2s, max-ejection: 10s, max-ejected-percent: 50 }
retry: { attempts: 2, budget-percent: $RETRY_BUDGET, per-try-timeout: 1s }
timeouts: { connect: 250ms, response: 5s, client-idle: 60s, backend-idle: 30s, drain: 5s }
access-log: $WORK/access.log
access-log-format: logfmt
backend-header: $BACKEND_HEADER
EOF
  } >"$CONFIG.tmp"
  mv "$CONFIG.tmp" "$CONFIG"
}

RELOAD_FAILURES=0
reload() { # POST /reload; a rejected or failed reload is counted and breaks the reload promise
  local code
  code=$(curl -sS -o "$WORK/reload.json" -w '%{http_code}' --max-time 10 -XPOST -H 'Content-Type: application/json' "$ADMIN_URL/reload" 2>/dev/null) || code=000
  if [[ $code != 200 ]]; then
    RELOAD_FAILURES=$((RELOAD_FAILURES + 1))
    say "reload answered $code: $(cat "$WORK/reload.json" 2>/dev/null)"
  fi
}

backends_json() { curl -fsS --max-time 2 "$ADMIN_URL/backends" 2>/dev/null || echo '[]'; }

wait_backends() { # routable|down timeout id...: until the balancer sees each id so
  local want=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout)) ids filter
  ids=$(printf '"%s",' "$@")
  if [[ $want == routable ]]; then
    filter="[.[] | select(.id as \$i | [${ids%,}] | index(\$i)) | select(.routable)] | length"
  else
    filter="[.[] | select(.id as \$i | [${ids%,}] | index(\$i)) | select(.healthy | not)] | length"
  fi
  until [[ $(backends_json | jq "$filter") == "$#" ]]; do
    if (( SECONDS >= deadline )); then
      say "the balancer does not see $* $want after ${timeout}s: $(backends_json)"
      return 1
    fi
    sleep 0.2
  done
}

# Requests the balancer tried more than once, from its access log (lines since a mark; logfmt, whose
# attempts= is the number of tries).
access_mark() { wc -l <"$WORK/access.log" 2>/dev/null || echo 0; }
retried_since() {
  sleep 0.5 # the access log is written through a queue
  tail -n "+$(($1 + 1))" "$WORK/access.log" 2>/dev/null | grep -c 'attempts=[2-9]' || true
}

# Every node of the cluster running, and routable in the balancer.
ensure_cluster() {
  local id started=()
  for id in "${ACTIVE[@]}"; do
    kill -CONT "${NODE_PID[$id]}" 2>/dev/null || true
    if ! node_alive "$id"; then
      start_node "$id" "${NODE_PORT[$id]}" "${NODE_REGION[$id]}"
      started+=("$id")
    fi
  done
  for id in "${started[@]}"; do wait_node_up "$id"; done
  wait_backends routable 60 "${ACTIVE[@]}"
}

# The busiest of some nodes over the next second, by the balancer's request counts: VICTIM, VICTIM_RATE.
pick_victim() {
  local id best="" rate=-1 d
  declare -A before
  while read -r id n; do before[$id]=$n; done < <(backends_json | jq -r '.[] | "\(.id) \(.requests)"')
  sleep 1
  while read -r id n; do
    [[ " $* " == *" $id "* ]] || continue
    d=$((n - ${before[$id]:-0}))
    if (( d > rate )); then best=$id; rate=$d; fi
  done < <(backends_json | jq -r '.[] | "\(.id) \(.requests)"')
  VICTIM=${best:-$1}
  VICTIM_RATE=$((rate < 0 ? 0 : rate))
}

# ---- the load -----------------------------------------------------------------------------------------
LOAD_PID=""
LOAD_START_MS=0
start_load() { # scenario post-percent max-seconds
  local name=$1 post=$2 seconds=$3
  rm -f "$WORK/$name.ready" "$WORK/$name.stop"
  # shellcheck disable=SC2086
  java $LOAD_JAVA_OPTS "$LOAD_SRC" --url "$BALANCER_URL" --conns "$CONNS" --duration "$seconds" \
    --max-requests $((CONNS * seconds * 2000)) --post-percent "$post" --get-ids "$GET_IDS" \
    --run-id "chaos-$name-$$" --backend-header "$BACKEND_HEADER" --timeout 10 \
    --ready-file "$WORK/$name.ready" --stop-file "$WORK/$name.stop" \
    --timeline "$WORK/$name.timeline" --failures-log "$WORK/$name.failures" \
    --verify-url "http://127.0.0.1:${NODE_PORT[eu-1]}" >"$WORK/$name.out" 2>&1 &
  LOAD_PID=$!
  ALL_PIDS+=("$LOAD_PID")
  until [[ -s $WORK/$name.ready ]]; do
    kill -0 "$LOAD_PID" 2>/dev/null || { cat "$WORK/$name.out" >&2; exit 1; }
    sleep 0.05
  done
  LOAD_START_MS=$(<"$WORK/$name.ready")
}

at() { # whole seconds after the load started: sleep until then
  local wait_ms=$((LOAD_START_MS + $1 * 1000 - $(now_ms)))
  (( wait_ms > 0 )) && sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
  return 0
}

end_load() { # name [stop]: wait for the load to end (with "stop": end it now), keep its LOAD line
  [[ ${2:-} == stop ]] && touch "$WORK/$1.stop"
  wait "$LOAD_PID" || true
  LOAD_PID=""
  LINE=$(grep '^LOAD ' "$WORK/$1.out" || true)
  if [[ -z $LINE ]]; then
    say "the load printed no result:"
    cat "$WORK/$1.out" >&2
    exit 1
  fi
}

field() { # name [default]: a key=value field of LINE
  local v
  v=$(tr ' ' '\n' <<<"$LINE" | sed -n "s/^$1=//p")
  echo "${v:-${2:--}}"
}

share() { # timeline from-ms to-ms backend-regex: % of the successful requests in those seconds
  awk -v from=$(($2 / 1000)) -v to=$(($3 / 1000)) -v re="$4" '
    $1 >= from && $1 <= to { for (i = 4; i <= NF; i++) { split($i, kv, "="); all += kv[2]; if (kv[1] ~ re) hit += kv[2] } }
    END { if (all == 0) print "-"; else printf "%.0f\n", 100 * hit / all }' "$1"
}

first_second_at() { # timeline from-ms backend-regex percent: seconds after from-ms until a second reaches it
  awk -v from=$(($2 / 1000)) -v re="$3" -v pct="$4" '
    $1 >= from { all = 0; hit = 0; for (i = 4; i <= NF; i++) { split($i, kv, "="); all += kv[2]; if (kv[1] ~ re) hit += kv[2] }
                 if (all > 0 && 100 * hit / all >= pct) { print $1 - from; found = 1; exit } }
    END { if (!found) print "never" }' "$1"
}

# ---- results -------------------------------------------------------------------------------------------
ROWS=()
BROKEN=0
record() { # name promise-held(0/1) detail
  local name=$1 held=$2 detail=$3 verdict=held
  (( held )) || { verdict=BROKEN; BROKEN=1; }
  local fails dup
  fails=$(field failures)
  [[ $fails != 0 ]] && detail="$detail; failures: $(field failure_kinds) ($(tries_of_failures "$name"))"
  dup=$(field duplicates "n/a")
  [[ $(field lost 0) != 0 ]] && detail="$detail; acknowledged posts lost: $(field lost)"
  ROWS+=("$(printf '%s|%s|%s|%s|%s|%s|%s|%s' "$name" "$(field requests)" "$fails" "$dup" \
    "$(field p50_ms)" "$(field p99_ms)" "$verdict" "$detail")")
  curl -fsS --max-time 2 -o "$WORK/$name.metrics" "$ADMIN_URL/metrics" 2>/dev/null || true
  say "$name: $verdict — $LINE"
}

print_table() {
  local fmt='| %-14s | %8s | %8s | %10s | %7s | %8s | %-7s | %s\n'
  # shellcheck disable=SC2059
  printf "$fmt" scenario requests failures duplicates "p50 ms" "p99 ms" promise detail
  # shellcheck disable=SC2059
  printf "$fmt" -------------- -------- -------- ---------- ------- -------- ------- ------
  local row
  for row in "${ROWS[@]}"; do
    IFS='|' read -r a b c d e f g h <<<"$row"
    # shellcheck disable=SC2059
    printf "$fmt" "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h"
  done
}

tries_of_failures() { # name: how many tries the balancer made for the failed requests (its access log)
  awk 'FNR == NR { if ($4 != "status=0") want[$8] = 1; next }
       { id = ""; for (i = 1; i <= NF; i++) if ($i ~ /^request_id=/) id = substr($i, 12)
         if (id in want) for (i = 1; i <= NF; i++) if ($i ~ /^attempts=/) n[substr($i, 10)]++ }
       END { for (a in n) { out = out sep a " tr" (a == 1 ? "y" : "ies") ": " n[a]; sep = ", " }
             print (out == "" ? "no access-log lines" : "balancer " out) }' "$WORK/$1.failures" "$WORK/access.log"
}

no_mutations_lost() { [[ $(field failures) == 0 && $(field duplicates 0) == 0 && $(field lost 0) == 0 ]]; }

# ---- scenarios -----------------------------------------------------------------------------------------
scenario_kill_one() {
  ensure_cluster
  local r0 k v
  r0=$(access_mark)
  start_load kill-one "$POST_PERCENT" "$DURATION"
  at "$((DURATION / 3 - 1))"
  pick_victim us-1 us-2 us-3
  v=$VICTIM
  k=$(now_ms)
  say "kill-one: kill -9 $v (pid ${NODE_PID[$v]}; it served $VICTIM_RATE requests in the last second)"
  kill_node KILL "$v"
  end_load kill-one
  local held=0
  no_mutations_lost && (( VICTIM_RATE > 0 )) && held=1
  record kill-one "$held" "$v killed at +$(((k - LOAD_START_MS) / 1000)) s ($VICTIM_RATE req/s before); $(retried_since "$r0") requests retried"
}

scenario_region_loss() {
  ensure_cluster
  local r0 k
  r0=$(access_mark)
  start_load region-loss "$POST_PERCENT" "$DURATION"
  at "$((DURATION / 3))"
  k=$(now_ms)
  say "region-loss: kill -9 us-1 us-2 us-3"
  kill_node KILL us-1 us-2 us-3
  end_load region-loss
  local held=0 eu
  no_mutations_lost && held=1
  eu=$(share "$WORK/region-loss.timeline" "$((k + 1000))" "$(now_ms)" '^eu-')
  [[ $eu == - || $eu -lt 99 ]] && held=0
  record region-loss "$held" "eu-west served ${eu}% after the kill; $(retried_since "$r0") requests retried"
}

scenario_region_restore() {
  # The load runs until 5 s after the three nodes answer (health rise, a 2 s slow start, then the
  # 3 s the promise looks at), so a slow JVM start does not cut the window short.
  local id
  for id in us-1 us-2 us-3; do
    node_alive "$id" && kill_node KILL "$id"
  done
  node_alive eu-1 || { start_node eu-1 "${NODE_PORT[eu-1]}" eu-west; wait_node_up eu-1; }
  wait_backends down 30 us-1 us-2 us-3
  wait_backends routable 30 eu-1
  local s up
  start_load region-restore "$POST_PERCENT" "$((DURATION * 4))"
  at 1
  s=$(now_ms)
  say "region-restore: starting us-1 us-2 us-3"
  for id in us-1 us-2 us-3; do start_node "$id" "${NODE_PORT[$id]}" us-east; done
  for id in us-1 us-2 us-3; do wait_node_up "$id"; done
  up=$(awk -v ms=$(($(now_ms) - s)) 'BEGIN { printf "%.1f", ms / 1000 }')
  sleep 5
  end_load region-restore stop
  local end back last held=0
  end=$(now_ms)
  back=$(first_second_at "$WORK/region-restore.timeline" "$s" '^us-' 90)
  last=$(share "$WORK/region-restore.timeline" "$((end - 3000))" "$end" '^us-')
  no_mutations_lost && [[ $last != - && $last -ge 90 ]] && held=1
  local each=""
  for id in us-1 us-2 us-3; do
    each+="${each:+ }$id $(share "$WORK/region-restore.timeline" "$((end - 3000))" "$end" "^$id\$")%"
  done
  record region-restore "$held" "nodes answering ${up} s after the restart; us-east >= 90% of a second after ${back} s; last 3 s: ${last}% us-east ($each)"
}

scenario_hang() {
  ensure_cluster
  local r0 v
  r0=$(access_mark)
  start_load hang 0 "$DURATION"
  at "$((DURATION / 4 - 1))"
  pick_victim us-1 us-2 us-3
  v=$VICTIM
  say "hang: kill -STOP $v (it served $VICTIM_RATE requests in the last second)"
  kill_node STOP "$v"
  at "$((DURATION * 3 / 4))"
  say "hang: kill -CONT $v"
  kill_node CONT "$v"
  end_load hang
  local held=0
  [[ $(field get_failures) == 0 ]] && (( VICTIM_RATE > 0 )) && held=1
  record hang "$held" "$v stopped for $((DURATION / 2)) s ($VICTIM_RATE req/s before); $(retried_since "$r0") requests retried"
}

scenario_flap() {
  # us-2 lives 1-2 s once it answers /health (long enough for the balancer to send it traffic;
  # at most 5 s are given to a JVM start), is killed -9, stays dead 1-2 s, and is started again.
  ensure_cluster
  local seconds=$((DURATION * 3 / 2)) flaps=0 r0 v
  r0=$(access_mark)
  start_load flap 0 "$seconds"
  at 1
  pick_victim us-1 us-2 us-3
  v=$VICTIM
  say "flap: $v (it served $VICTIM_RATE requests in the last second)"
  local until_ms=$((LOAD_START_MS + (seconds - 3) * 1000))
  while (( $(now_ms) < until_ms )); do
    kill_node KILL "$v"
    flaps=$((flaps + 1))
    sleep "1.$((RANDOM % 10))"
    start_node "$v" "${NODE_PORT[$v]}" us-east
    node_answers "$v" 5 || say "flap: $v not answering 5 s after its start; killing it anyway"
    sleep "1.$((RANDOM % 10))"
  done
  say "flap: $v killed $flaps times"
  end_load flap
  local held=0 served
  served=$(tr ' ' '\n' <<<"$(field backends)" | tr ',' '\n' | sed -n "s/^$v://p")
  [[ $(field get_failures) == 0 ]] && (( VICTIM_RATE > 0 )) && held=1
  record flap "$held" "$v killed -9 and restarted $flaps times ($VICTIM_RATE req/s before, ${served:-0} requests in all); $(retried_since "$r0") requests retried"
}

scenario_reload() {
  ensure_cluster
  RELOAD_FAILURES=0
  local old r0 step=$((DURATION / 5))
  r0=$(access_mark)
  (( step < 1 )) && step=1
  start_load reload "$POST_PERCENT" "$((DURATION * 3))"
  at "$step"
  say "reload: add us-4"
  start_node us-4 "$(free_port)" us-east
  wait_node_up us-4
  ACTIVE=(us-1 us-2 us-3 us-4 eu-1)
  write_config && reload
  at "$((2 * step))"
  say "reload: remove us-2, then stop it"
  ACTIVE=(us-1 us-3 us-4 eu-1)
  write_config && reload
  sleep 1
  kill_node TERM us-2
  at "$((3 * step))"
  say "reload: move us-3 to a new port"
  old=${NODE_PID[us-3]}
  start_node us-3 "$(free_port)" us-east
  wait_node_up us-3
  write_config && reload
  sleep 1
  kill -TERM "$old" 2>/dev/null || true
  at "$((4 * step))"
  say "reload: back to us-1 us-2 us-3 eu-1 (us-2 on a new port, us-4 removed)"
  start_node us-2 "$(free_port)" us-east
  wait_node_up us-2
  ACTIVE=(us-1 us-2 us-3 eu-1)
  write_config && reload
  sleep 1
  kill_node TERM us-4
  at "$DURATION"
  end_load reload stop
  local held=0
  no_mutations_lost && (( RELOAD_FAILURES == 0 )) && held=1
  record reload "$held" "4 reloads (add, remove, re-address, restore), $RELOAD_FAILURES rejected; $(retried_since "$r0") requests retried"
}

# ---- setup ---------------------------------------------------------------------------------------------
say "work folder $WORK; balancer on $BALANCER_URL (admin $ADMIN_URL)"
for id in us-1 us-2 us-3; do start_node "$id" "$(free_port)" us-east; done
start_node eu-1 "$(free_port)" eu-west
for id in us-1 us-2 us-3 eu-1; do wait_node_up "$id"; done
write_config
# shellcheck disable=SC2086
java $BALANCER_JAVA_OPTS -jar "$BALANCER_JAR" --config "$CONFIG" >"$WORK/logs/balancer.log" 2>&1 &
ALL_PIDS+=("$!")
BALANCER_PID=$!
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null --max-time 1 "$ADMIN_URL/ready" 2>/dev/null; do
  if ! kill -0 "$BALANCER_PID" 2>/dev/null || (( SECONDS >= deadline )); then
    say "the balancer did not become ready; last lines of its log:"
    tail -n 20 "$WORK/logs/balancer.log" >&2
    exit 1
  fi
  sleep 0.2
done
wait_backends routable 30 "${ACTIVE[@]}"
# Posts for the GETs, written to a node directly.
ids=()
for i in $(seq 1 20); do
  ids+=("$(curl -fsS -H 'Content-Type: application/json' -d "{\"author\":\"chaos-seed\",\"text\":\"seed $i\"}" \
    "http://127.0.0.1:${NODE_PORT[eu-1]}/posts" | jq -r .id)")
done
GET_IDS=$(IFS=,; echo "${ids[*]}")
say "cluster up; warming up the balancer for 3 s"
start_load warm-up "$POST_PERCENT" 3
end_load warm-up
say "warm-up: $LINE"

for s in "${SCENARIOS[@]}"; do
  say "---- $s"
  "scenario_${s//-/_}"
done

echo
printf 'chaos.sh at %s (balancer.jar of %s), --duration %s --conns %s, retry budget %s%%, %s\n\n' \
  "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" "$(date -r "$BALANCER_JAR" '+%F %T')" \
  "$DURATION" "$CONNS" "$RETRY_BUDGET" "$(date '+%F %T %Z')"
print_table
echo
if (( BROKEN )); then
  say "at least one promise is broken; see $WORK (each scenario's .failures lists failed requests)"
  exit 1
fi
say "every promise held (run took $(elapsed)s)"

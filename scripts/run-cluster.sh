#!/usr/bin/env bash
# Fulcrum replicated cluster on loopback: a PostgreSQL primary and one streaming replica per region,
# two post servers per region reading from their region's replica, and the balancer in front.
#
#   scripts/run-cluster.sh [options] [up]       everything; Ctrl-C stops everything it started
#   scripts/run-cluster.sh [options] pg-up      only the primary and the replicas (left running)
#   scripts/run-cluster.sh [options] pg-down    stop the PostgreSQL servers of the work folder
#   scripts/run-cluster.sh [options] pg-stop NAME | pg-start NAME    one server: primary, replica-<region>
#   scripts/run-cluster.sh pg-bin               print where the PostgreSQL server binaries are
#   scripts/run-cluster.sh --ha [options] [up]  the same with automatic failover (pg_auto_failover): a
#                                               monitor and two data nodes, pg1 (first primary) and pg2;
#                                               every post server finds the primary by a multi-host URL
#   scripts/run-cluster.sh --ha ha-up | ha-down only the monitor and the data nodes (left running)
#   scripts/run-cluster.sh --ha ha-kill NAME | ha-start NAME   kill -9 a data node with its keeper (a
#                                               lost machine: pg1, pg2, monitor), or start it again (it
#                                               rejoins as a secondary)
#
# Options:
#   --dir DIR           work folder (default: data/cluster); data, configs and logs live under it
#   --regions A,B       regions, one replica and two nodes each (default: us-east,eu-west)
#   --pg-ports P0,P1,.. primary port, then one per region (default: 15432,15433,...)
#   --fresh             remove the work folder's PostgreSQL data first
#   --ha                pg_auto_failover instead of streaming replicas; --pg-ports is then the
#                       monitor's port and the two data nodes' (default: 15440,15441,15442)
#
# A work folder keeps its data between runs; the replicas remember the primary's port from the first
# pg-up, so use the same --pg-ports with a folder (or --fresh). Servers already running are left as
# they are.
# pg-up prints one line per server, "primary <port>" and "replica <region> <port>", and is what the
# tests use. The servers run as the user who runs this script, or as "postgres" when that is root
# (initdb refuses root); the work folder's pg/ is then theirs. Database "fulcrum", user "postgres",
# trust authentication on 127.0.0.1 only. Data is initialised with --no-sync: this is a local cluster.
# Environment: PG_BIN (the server binaries' folder), NODE_JAVA_OPTS, BALANCER_JAVA_OPTS,
# STARTUP_TIMEOUT (seconds, default 60), LISTEN_PORT (8080), ADMIN_PORT (8081), NODE_BASE_PORT (9001:
# the nodes' API ports count up from it), NODE_ADMIN_BASE_PORT (9101: their metrics ports), DRAIN
# (the balancer's timeouts.drain in seconds, 30). Ports, header and stop order are run-local.sh's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DIR=data/cluster
REGIONS=us-east,eu-west
PG_PORTS=
FRESH=0
HA=0
COMMAND=up
NAME=
while (( $# )); do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --regions) REGIONS=$2; shift 2 ;;
    --pg-ports) PG_PORTS=$2; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    --ha) HA=1; shift ;;
    up|pg-up|pg-down|pg-bin|ha-up|ha-down) COMMAND=$1; shift ;;
    pg-stop|pg-start) COMMAND=$1; NAME=${2:?"$1 needs a server name: primary or replica-<region>"}; shift 2 ;;
    ha-kill|ha-start) HA=1; COMMAND=$1; NAME=${2:?"$1 needs a node name: pg1, pg2 or monitor"}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo pipefail/{/^set/!p}' "$0"; exit 0 ;;
    *) echo "run-cluster: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
PG=$DIR/pg
IFS=, read -r -a REGION_LIST <<<"$REGIONS"
[[ $COMMAND == ha-* ]] && HA=1
if [[ -z $PG_PORTS ]] && (( HA )); then
  PG_PORTS=15440,15441,15442
elif [[ -z $PG_PORTS ]]; then
  PG_PORTS=15432
  for i in "${!REGION_LIST[@]}"; do PG_PORTS+=",$((15433 + i))"; done
fi
IFS=, read -r -a PORT_LIST <<<"$PG_PORTS"
if (( HA )) && (( ${#PORT_LIST[@]} != 3 )); then
  echo "run-cluster: with --ha, --pg-ports needs 3 ports (the monitor, pg1, pg2)" >&2
  exit 2
elif (( ! HA )) && (( ${#PORT_LIST[@]} != ${#REGION_LIST[@]} + 1 )); then
  echo "run-cluster: --pg-ports needs $(( ${#REGION_LIST[@]} + 1 )) ports (the primary, then one per region)" >&2
  exit 2
fi
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-60}

say() { printf '[run-cluster] %s\n' "$*" >&2; }

# ---- PostgreSQL server binaries (Debian's postgresql package keeps them out of PATH) ----------------
find_pg_bin() {
  if [[ -n ${PG_BIN:-} ]]; then echo "$PG_BIN"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n $d && -x $d/initdb ]]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  return 1
}
if ! BIN=$(find_pg_bin) || [[ ! -x $BIN/initdb || ! -x $BIN/pg_ctl || ! -x $BIN/pg_basebackup ]]; then
  say "PostgreSQL server binaries not found (initdb, pg_ctl, pg_basebackup): install Debian's postgresql package or set PG_BIN"
  exit 3
fi
if [[ $COMMAND == pg-bin ]]; then echo "$BIN"; exit 0; fi

# initdb and postgres refuse to run as root: run them as "postgres" then.
if (( EUID == 0 )); then
  id postgres >/dev/null 2>&1 || { say "running as root needs a 'postgres' user for the servers"; exit 3; }
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

server_dir() { echo "$PG/$1"; }
server_port() { # name
  if [[ $1 == primary ]]; then echo "${PORT_LIST[0]}"; return; fi
  local i
  for i in "${!REGION_LIST[@]}"; do
    [[ $1 == "replica-${REGION_LIST[$i]}" ]] && { echo "${PORT_LIST[$((i + 1))]}"; return; }
  done
  say "no server named $1 (primary, or replica-<region> of: ${REGION_LIST[*]})"; exit 2
}
pg_start() { # name
  local dir port
  dir=$(server_dir "$1"); port=$(server_port "$1")
  if as_pg "$BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then return; fi
  as_pg "$BIN/pg_ctl" -D "$dir" -l "$PG/$1.log" -w -t "$STARTUP_TIMEOUT" \
    -o "-p $port -k $PG/sock -c listen_addresses=127.0.0.1" start >/dev/null
}
pg_stop() { # name; fast shutdown: the primary hands its remaining WAL to the replicas first
  local dir
  dir=$(server_dir "$1")
  if [[ -f $dir/postmaster.pid ]]; then
    as_pg "$BIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null || true
  fi
}
all_servers() { echo primary; for r in "${REGION_LIST[@]}"; do echo "replica-$r"; done; }

pg_down() {
  local s
  # Replicas first, so the primary's shutdown does not leave them retrying.
  for s in $(all_servers | tac); do pg_stop "$s"; done
}

pg_up() {
  if (( FRESH )); then pg_down; rm -rf "$PG"; fi
  mkdir -p "$PG/sock"
  (( EUID == 0 )) && chown -R postgres: "$PG"
  if ! as_pg test -w "$PG"; then
    say "$PG is not writable by the server user (is a parent folder private?)"; exit 3
  fi
  local primary=$PG/primary port=${PORT_LIST[0]}
  if [[ ! -f $primary/PG_VERSION ]]; then
    say "initdb primary (port $port)"
    as_pg "$BIN/initdb" -D "$primary" -U postgres --auth=trust --no-sync -E UTF8 >"$PG/initdb.log" 2>&1
    cat >>"$primary/postgresql.conf" <<CONF
# Fulcrum cluster: streaming replication to one replica per region.
wal_level = replica
max_wal_senders = 16
max_replication_slots = 16
hot_standby = on
wal_keep_size = 256MB
max_connections = 200
CONF
    cat >"$primary/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
HBA
  fi
  pg_start primary
  if ! as_pg "$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='fulcrum'" postgres | grep -q 1; then
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE fulcrum" postgres
  fi
  echo "primary $port"
  local i region replica rport slot
  for i in "${!REGION_LIST[@]}"; do
    region=${REGION_LIST[$i]}; replica=$PG/replica-$region; rport=${PORT_LIST[$((i + 1))]}
    slot=replica_${region//[^a-zA-Z0-9]/_}
    if [[ ! -f $replica/PG_VERSION ]]; then
      say "pg_basebackup replica-$region (port $rport)"
      # -R writes standby.signal and primary_conninfo; the slot keeps the WAL the replica still needs.
      as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$replica" -R -X stream \
        -C -S "$slot" --checkpoint=fast --no-sync >>"$PG/basebackup.log" 2>&1
    fi
    pg_start "replica-$region"
    echo "replica $region $rport"
  done
}

# ---- automatic failover: pg_auto_failover's monitor and two data nodes ------------------------------
# Each node runs under its keeper (pg_autoctl run), which reports to the monitor and does what it
# assigns: the monitor promotes pg2 when pg1 stops answering its health checks, and a node that comes
# back rejoins as the secondary. Replication is synchronous while both run (a write is acknowledged
# once the secondary has it), so a failover loses no acknowledged write. The monitor's timeouts are
# shortened here for a local cluster (HA_UNHEALTHY_MS, HA_DEMOTE_MS); see docs/operations.md.
HA_DIR=$PG/ha
HA_UNHEALTHY_MS=${HA_UNHEALTHY_MS:-3000}
HA_DEMOTE_MS=${HA_DEMOTE_MS:-5000}
ha_port() { case $1 in monitor) echo "${PORT_LIST[0]}" ;; pg1) echo "${PORT_LIST[1]}" ;; pg2) echo "${PORT_LIST[2]}" ;;
  *) say "no node named $1 (monitor, pg1, pg2)"; exit 2 ;; esac; }
autoctl() { # pg_autoctl with its state kept in the work folder, not in the user's home
  as_pg env XDG_CONFIG_HOME="$HA_DIR/xdg/config" XDG_DATA_HOME="$HA_DIR/xdg/data" pg_autoctl "$@"
}
ha_bin() {
  command -v pg_autoctl >/dev/null 2>&1 && return 0
  say "pg_autoctl not found: install Debian's postgresql-$(basename "$(dirname "$BIN")")-auto-failover package"
  exit 3
}
ha_running() { local pid; pid=$(cat "$HA_DIR/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }
ha_run() { # name: the node's keeper, in a session of its own (so that ha-kill takes it whole)
  ha_running "$1" && return
  local run=(env XDG_CONFIG_HOME="$HA_DIR/xdg/config" XDG_DATA_HOME="$HA_DIR/xdg/data" pg_autoctl run --pgdata "$HA_DIR/$1")
  (( EUID == 0 )) && run=(runuser -u postgres -- "${run[@]}")
  rm -f "$HA_DIR/$1.pid"
  setsid bash -c 'echo $$ >"$1"; exec "${@:2}"' _ "$HA_DIR/$1.pid" "${run[@]}" </dev/null >>"$HA_DIR/$1.log" 2>&1 &
  # Not a job of this shell: ha_down stops it, and a kill is no job notice.
  disown "$!"
  local deadline=$((SECONDS + STARTUP_TIMEOUT))
  # The monitor must answer before anything else; a data node may wait for the other (a node that
  # was the primary before a failover rewinds from the new one before it serves).
  until [[ -s $HA_DIR/$1.pid ]] && { [[ $1 != monitor ]] || as_pg "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(ha_port "$1")"; }; do
    (( SECONDS < deadline )) || { say "$1 did not start; see $HA_DIR/$1.log"; exit 1; }
    sleep 0.3
  done
}
ha_state() { # name: the state the monitor last heard from it (primary, secondary, ...)
  as_pg "$BIN/psql" -h 127.0.0.1 -p "$(ha_port monitor)" -d pg_auto_failover -tAc \
    "SELECT reportedstate FROM pgautofailover.node WHERE nodename = '$1'" 2>/dev/null
}
ha_up() {
  ha_bin
  if (( FRESH )); then ha_down; rm -rf "$HA_DIR"; fi
  mkdir -p "$HA_DIR/xdg"
  (( EUID == 0 )) && chown -R postgres: "$PG"
  local monitor_url="postgres://autoctl_node@127.0.0.1:$(ha_port monitor)/pg_auto_failover?sslmode=disable"
  if [[ ! -f $HA_DIR/monitor/PG_VERSION ]]; then
    say "pg_autoctl create monitor (port $(ha_port monitor))"
    autoctl create monitor --pgdata "$HA_DIR/monitor" --pgport "$(ha_port monitor)" --hostname 127.0.0.1 \
      --auth trust --no-ssl --pgctl "$BIN/pg_ctl" >>"$HA_DIR/create.log" 2>&1
  fi
  ha_run monitor
  as_pg "$BIN/psql" -h 127.0.0.1 -p "$(ha_port monitor)" -d pg_auto_failover -qAt \
    -c "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" \
    -c "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = $HA_UNHEALTHY_MS" \
    -c "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = $HA_DEMOTE_MS" \
    -c "SELECT pg_reload_conf()" >/dev/null
  echo "monitor $(ha_port monitor)"
  local node
  for node in pg1 pg2; do
    if [[ -f $HA_DIR/$node/PG_VERSION ]]; then
      ha_run "$node"
      continue
    fi
    say "pg_autoctl create postgres $node (port $(ha_port "$node"))"
    autoctl create postgres --pgdata "$HA_DIR/$node" --pgport "$(ha_port "$node")" --hostname 127.0.0.1 \
      --name "$node" --auth trust --no-ssl --monitor "$monitor_url" --dbname fulcrum \
      --pgctl "$BIN/pg_ctl" >>"$HA_DIR/create.log" 2>&1
    ha_run "$node"
    # The next node is cloned from this one: it must have joined first.
    local deadline=$((SECONDS + STARTUP_TIMEOUT * 2))
    until [[ $(ha_state "$node") == @(single|primary|wait_primary|secondary) ]]; do
      (( SECONDS < deadline )) || { say "$node did not join the formation; see $HA_DIR/$node.log"; exit 1; }
      sleep 0.5
    done
  done
  # Both run: one is the primary once the other is its synchronous secondary (pg1 at first; after a
  # failover, whichever was promoted).
  local deadline=$((SECONDS + STARTUP_TIMEOUT * 2))
  until [[ "$(ha_state pg1) $(ha_state pg2)" == @("primary secondary"|"secondary primary") ]]; do
    (( SECONDS < deadline )) || { say "pg1 and pg2 did not settle as primary and secondary; see $HA_DIR/*.log"; exit 1; }
    sleep 0.5
  done
  for node in pg1 pg2; do echo "node $node $(ha_port "$node") $(ha_state "$node")"; done
  echo "url $(ha_url primary)"
}
ha_url() { # primary | preferSecondary: pgjdbc finds that server among both data nodes at each connect
  echo "jdbc:postgresql://127.0.0.1:$(ha_port pg1),127.0.0.1:$(ha_port pg2)/fulcrum?targetServerType=$1&hostRecheckSeconds=1&connectTimeout=2"
}
ha_stop() { # name: SIGTERM to the keeper, which stops its PostgreSQL (fast) and exits
  local pid
  pid=$(cat "$HA_DIR/$1.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$HA_DIR/$1.pid"
}
ha_kill() { # name: as a lost machine: the keeper's whole session and its PostgreSQL, at once
  local pid postmaster
  pid=$(cat "$HA_DIR/$1.pid" 2>/dev/null) && kill -KILL -- "-$pid" 2>/dev/null || true
  postmaster=$(head -n 1 "$HA_DIR/$1/postmaster.pid" 2>/dev/null) && kill -KILL "$postmaster" 2>/dev/null || true
  rm -f "$HA_DIR/$1.pid"
}
ha_down() {
  local n
  for n in pg2 pg1 monitor; do ha_stop "$n"; done
}

case $COMMAND in
  ha-up) ha_up; exit 0 ;;
  ha-down) ha_down; exit 0 ;;
  ha-kill) ha_kill "$NAME"; exit 0 ;;
  ha-start) ha_bin; ha_run "$NAME"; exit 0 ;;
  pg-up) pg_up; exit 0 ;;
  pg-down) pg_down; exit 0 ;;
  pg-stop) pg_stop "$NAME"; exit 0 ;;
  pg-start) pg_start "$NAME"; exit 0 ;;
esac

# ---- up: PostgreSQL, two nodes per region, the balancer; everything stopped on exit ----------------
# Ports, header and stop order as in scripts/run-local.sh: node N of the cluster listens on 9000+N and
# serves /metrics on 9100+N (us-1 :9001/:9101, us-2 :9002/:9102, eu-1 :9003/:9103, ...), the balancer
# names the node that served in X-Fulcrum-Backend, and Ctrl-C stops the balancer first (it drains),
# then the nodes, then PostgreSQL.
NODE_JAR=backend-node/target/backend-node.jar
BALANCER_JAR=balancer/target/balancer.jar
NODE_JAVA_OPTS=${NODE_JAVA_OPTS:-"-Xms64m -Xmx256m"}
BALANCER_JAVA_OPTS=${BALANCER_JAVA_OPTS:-"-Xms128m -Xmx512m"}
LISTEN_PORT=${LISTEN_PORT:-8080}
ADMIN_PORT=${ADMIN_PORT:-8081}
NODE_BASE_PORT=${NODE_BASE_PORT:-9001}
NODE_ADMIN_BASE_PORT=${NODE_ADMIN_BASE_PORT:-9101}
DRAIN=${DRAIN:-30}
LOGS=$DIR/logs
CONF=$DIR/config
mkdir -p "$LOGS" "$CONF"

# Built as run-local.sh builds: both jars and the module they share, when a source is newer.
if [[ ! -f $NODE_JAR || ! -f $BALANCER_JAR ]] \
    || [[ -n $(find backend-node/src balancer/src config-support/src pom.xml ./*/pom.xml -newer "$NODE_JAR" -print -quit 2>/dev/null) ]] \
    || [[ -n $(find backend-node/src balancer/src config-support/src pom.xml ./*/pom.xml -newer "$BALANCER_JAR" -print -quit 2>/dev/null) ]]; then
  say "building (mvn -B -q -DskipTests package -pl backend-node,balancer -am)..."
  mvn -B -q -Dstyle.color=never -DskipTests package -pl backend-node,balancer -am
fi

BALANCER_PID=
NODE_PIDS=()
NODE_NAMES=()
stopping=0
stop_pid() { # pid seconds: SIGTERM, wait up to seconds, then SIGKILL
  local pid=$1 deadline=$((SECONDS + $2))
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
stop_all() {
  (( stopping )) && return
  stopping=1
  trap - INT TERM
  if [[ -n $BALANCER_PID ]] && kill -0 "$BALANCER_PID" 2>/dev/null; then
    say "stopping the balancer: it drains requests in progress for up to ${DRAIN}s (timeouts.drain)..."
    stop_pid "$BALANCER_PID" $((DRAIN + 10))
  fi
  if (( ${#NODE_PIDS[@]} )); then
    say "stopping ${NODE_NAMES[*]}..."
    local pid
    for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid" 15; done
  fi
  wait 2>/dev/null || true
  say "stopping PostgreSQL..."
  if (( HA )); then ha_down; else pg_down; fi
  say "stopped."
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

if (( HA )); then ha_up >/dev/null; else pg_up >/dev/null; fi

wait_http() { # name pid url
  local deadline=$((SECONDS + STARTUP_TIMEOUT))
  until curl -fsS -o /dev/null --max-time 2 "$3" 2>/dev/null; do
    if ! kill -0 "$2" 2>/dev/null; then say "$1 exited during start-up; see $LOGS"; exit 1; fi
    if (( SECONDS >= deadline )); then say "$1 did not answer $3 within ${STARTUP_TIMEOUT}s; see $LOGS"; exit 1; fi
    sleep 0.5
  done
}

# With --ha every node names both data nodes: pgjdbc connects to whichever is the primary now (and,
# for reads, to the secondary while there is one), so a failover needs no change and no restart.
primary_url() { if (( HA )); then ha_url primary; else echo "jdbc:postgresql://127.0.0.1:${PORT_LIST[0]}/fulcrum"; fi; }
replica_url() { if (( HA )); then ha_url preferSecondary; else echo "jdbc:postgresql://127.0.0.1:${PORT_LIST[$(($1 + 1))]}/fulcrum"; fi; }
backends=""
n=0
for i in "${!REGION_LIST[@]}"; do
  region=${REGION_LIST[$i]}
  for k in 1 2; do
    id=${region%%-*}-$k
    port=$((NODE_BASE_PORT + n)); admin=$((NODE_ADMIN_BASE_PORT + n)); n=$((n + 1))
    cat >"$CONF/node-$id.yaml" <<YAML
# Written by scripts/run-cluster.sh: post server $id of region $region.
id: $id
region: $region
listen: { host: 127.0.0.1, port: $port }
admin:  { host: 127.0.0.1, port: $admin }
store:
  kind: postgres
  primary: { url: "$(primary_url)", user: postgres }
  replica:
    url: "$(replica_url "$i")"
    max-lag: 5s
    read-your-writes-wait: 250ms
YAML
    # shellcheck disable=SC2086 # NODE_JAVA_OPTS is a list of options
    java $NODE_JAVA_OPTS -jar "$NODE_JAR" --config "$CONF/node-$id.yaml" >"$LOGS/node-$id.log" 2>&1 &
    NODE_PIDS+=($!); NODE_NAMES+=("node-$id")
    wait_http "node $id" "${NODE_PIDS[-1]}" "http://127.0.0.1:$port/health"
    say "node $id ($region) is up on :$port (metrics: http://127.0.0.1:$admin/metrics)"
    backends+="  - { id: $id, url: \"http://127.0.0.1:$port\", region: $region }"$'\n'
  done
done

cat >"$CONF/balancer.yaml" <<YAML
# Written by scripts/run-cluster.sh.
listen: { host: 127.0.0.1, port: $LISTEN_PORT }
admin: { host: 127.0.0.1, port: $ADMIN_PORT }
region: ${REGION_LIST[0]}
backends:
$backends
health: { path: /health, interval: 1s, timeout: 1s, rise: 2, fall: 2 }
timeouts: { drain: ${DRAIN}s }
access-log: stdout
# As in config/balancer.yaml: the page shows which node served each action.
backend-header: X-Fulcrum-Backend
YAML
# Messages to balancer.log, the access log (stdout) to access.log, as run-local.sh does.
# shellcheck disable=SC2086
java -XX:+DisplayVMOutputToStderr $BALANCER_JAVA_OPTS -jar "$BALANCER_JAR" --config "$CONF/balancer.yaml" \
  >>"$LOGS/access.log" 2>"$LOGS/balancer.log" &
BALANCER_PID=$!
wait_http balancer "$BALANCER_PID" "http://127.0.0.1:$ADMIN_PORT/health"
say "balancer is up: http://127.0.0.1:$LISTEN_PORT/ (admin http://127.0.0.1:$ADMIN_PORT/)"
if (( HA )); then
  say "PostgreSQL (pg_auto_failover): monitor :${PORT_LIST[0]}, pg1 :${PORT_LIST[1]}, pg2 :${PORT_LIST[2]};"
  say "  try: scripts/run-cluster.sh --ha ha-kill pg1 (the nodes' writes resume on pg2), then ha-start pg1"
else
  say "PostgreSQL: primary :${PORT_LIST[0]}, replicas $(for i in "${!REGION_LIST[@]}"; do printf '%s:%s ' "${REGION_LIST[$i]}" "${PORT_LIST[$((i + 1))]}"; done)"
fi
say "Logs are in $LOGS/. Ctrl-C stops everything (the balancer drains first)."
wait -n "$BALANCER_PID" "${NODE_PIDS[@]}" || true
say "a process exited; stopping the rest"

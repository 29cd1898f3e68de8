#!/usr/bin/env bash
# Fulcrum benchmark: wrk on loopback against Fulcrum, HAProxy and nginx, each
# proxying to the same backends, plus a direct-to-backend baseline, side by side
# in one run. Reports the median requests/s, p50 and p99 latency over several
# runs, and the resident memory (VmRSS) of each proxy, as a markdown table; it
# also writes a dated section into docs/benchmarks.md.
#
# --matrix measures several loads (16, 64 and 256 keep-alive connections, and
# 64 with Connection: close) against HAProxy and nginx at one and at two
# threads or workers, adds the proxy's CPU time per request, compares Fulcrum
# with the best peer of each row, checks that Fulcrum still answers with 10,000
# idle connections open, and draws docs/bench-matrix.svg.
#
# Everything listens on 127.0.0.1 on ports found free at runtime, and every
# process the script starts is stopped on exit. See docs/benchmarks.md for the
# method and for how to read the numbers.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATES="$ROOT/scripts/bench"
# shellcheck source=lib/proc-stats.sh
source "$ROOT/scripts/lib/proc-stats.sh"

# ---- defaults ---------------------------------------------------------------
MATRIX=0
RUNS=3
DURATION=10
CONNECTIONS=""       # single run: 64; --matrix: shorthand for --loads C
THREADS=""           # single run: 2; --matrix: 1
WARMUP=15
SETTLE=5             # second, short warm-up run (see the warm-up below)
ONLY="direct,fulcrum,haproxy,nginx"
SCENARIO=static
REQ_PATH=""
LABEL=""
DOCS="$ROOT/docs/benchmarks.md"
WRITE_DOCS=1
INSTALL=0
ACCESS_LOG=0
LOG_DIR=""
FULCRUM_JAR="$ROOT/balancer/target/balancer.jar"
FULCRUM_LAUNCHER="$ROOT/bin/fulcrum"
SINGLE_JVM_OPTS="-Xms256m -Xmx512m -XX:+UseParallelGC"
FULCRUM_JVM_OPTS=${FULCRUM_JVM_OPTS:-}
FULCRUM_POLICY=round-robin
FULCRUM_TRANSPORT=""  # empty: the config's default (auto)
VARIANTS=()
NODE_JAR="$ROOT/backend-node/target/backend-node.jar"
NODE_CONFIGS="$ROOT/config/node-us-1.yaml,$ROOT/config/node-us-2.yaml"
NODE_JVM_OPTS=${NODE_JVM_OPTS:-"-Xms256m -Xmx512m"}
NODE_URLS=""
BACKEND_URLS=""
HAPROXY_THREADS=""   # single run: 2; --matrix: 1,2
NGINX_WORKERS=""     # single run: 2; --matrix: 1,2
LOADS=""             # --matrix: 16,64,256,64:close
IDLE_CONNS=10000
OUT_DIR=""
READY_TIMEOUT=60
ARGS_SHOWN=$( (( $# )) && printf "%q " "$@" || true)
ARGS_SHOWN=${ARGS_SHOWN% }

usage() {
    cat <<EOF
Usage: scripts/bench.sh [options]
       scripts/bench.sh --matrix [options]

Benchmarks Fulcrum, HAProxy and nginx side by side with wrk on 127.0.0.1.

Without --matrix: one load (wrk -t2 -c64 keep-alive) against each target.
With --matrix: every load of --loads against every target, interleaved: each
round runs each load row against each target in turn, medians of --runs rounds.
Targets are the direct baseline, Fulcrum (through bin/fulcrum, the launcher's
JVM flags, unless --jvm-opts is given), HAProxy at nbthread 1 and 2 and nginx at
1 and 2 worker processes, all in front of one nginx backend listening on 3
ports. Reports requests/s, p50, p99, CPU per request and RSS per row and
target; Fulcrum against the best peer of each row; and Fulcrum's answer and RSS
with --idle-conns idle keep-alive connections open. Writes results.csv,
summary.csv, results.json and matrix.svg to the run folder, and (unless
--no-docs) a section of docs/benchmarks.md and docs/bench-matrix.svg.
Takes about runs x loads x targets x duration = 3 x 4 x 6 x 10 s = 12 minutes,
plus 6 x (15 + 5) s of warm-up.

  --matrix              measure the load matrix described above
  --loads LIST          --matrix rows: connection counts, N for keep-alive or
                        N:close for a Connection: close request (default
                        16,64,256,64:close)
  --idle-conns N        --matrix: idle keep-alive connections held open against
                        Fulcrum for the idle check, 0 to skip (default $IDLE_CONNS)
  --runs N              measured runs (rounds) per target; medians are reported (default $RUNS)
  --duration S          seconds per measured run (default $DURATION)
  --connections C       keep-alive connections held by wrk (default 64; with
                        --matrix the same as --loads C)
  --threads T           wrk threads (default 2; with --matrix 1)
  --warmup S            unmeasured warm-up seconds per target before the first
                        round, at 64 keep-alive connections, then ${SETTLE}s more on
                        new connections and, with several --loads, ${SETTLE}s of
                        each; 0 to skip all of it (default $WARMUP)
  --only LIST           comma list of targets: direct,fulcrum,haproxy,nginx (default all)
  --scenario NAME       static (default): nginx answering "hello\\n" (two instances,
                        or with --matrix one instance on 3 ports);
                        node: two Fulcrum post servers (backend-node jar) reading one post
  --backend-urls U1,U2  benchmark against backends that are already running instead
  --path PATH           request path (default / for static, a seeded /posts/{id} for node)
  --fulcrum-jar PATH    balancer jar (default balancer/target/balancer.jar)
  --transport T         Fulcrum's transport: auto (default), io_uring, epoll or nio
  --variant L=JAR[@T][#N]  one more Fulcrum beside the first, measured in the same
                        interleaved rounds as target fulcrum-L: another build's
                        jar (a before/after comparison), another transport
                        (L=@epoll: this build on epoll) and/or N event loops
                        instead of one per core (L=#1: --threads 1); repeatable
  --jvm-opts "OPTS"     JVM flags for Fulcrum, run as java OPTS -jar (also read
                        from \$FULCRUM_JVM_OPTS). Default without --matrix:
                        "$SINGLE_JVM_OPTS"; with --matrix: bin/fulcrum's defaults
  --policy NAME         Fulcrum routing policy (default $FULCRUM_POLICY, like the others)
  --node-jar PATH       post server jar for --scenario node (default backend-node/target/backend-node.jar)
  --node-configs A,B    post server configs (default config/node-us-1.yaml,config/node-us-2.yaml)
  --node-urls U1,U2     base URLs of those nodes (default: each started on a free port with --port)
  --haproxy-threads L   HAProxy nbthread, a comma list runs one HAProxy per entry
                        (default 2; with --matrix 1,2)
  --nginx-workers L     nginx proxy worker_processes, a comma list likewise
                        (default 2; with --matrix 1,2)
  --access-log          measure what each proxy's access log costs: every
                        proxy runs twice, as is (no access log) and writing
                        one JSON line per request to a file (Fulcrum's
                        default format; nginx with escape=json and a 64k
                        buffer; HAProxy a JSON log-format to stdout), and a
                        second table gives each one's cost (not with --matrix)
  --log-dir DIR         folder for those access logs (default: the run's temp
                        folder; a tmpfs such as /dev/shm keeps a slow disk out);
                        they are removed at the end, their last 1,000 lines
                        kept in the run folder
  --out DIR             run folder for wrk outputs, logs and results files
                        (default target/bench/<UTC time>-<scenario>)
  --label TEXT          note added to the heading of the docs section; a labelled run
                        keeps its own section (an unlabelled one replaces the same day's)
  --docs FILE           markdown file to update (default docs/benchmarks.md);
                        --matrix draws bench-matrix.svg next to it
  --no-docs             print the table only, leave the docs alone
  --install             apt-get install wrk, haproxy, nginx and curl if missing (needs root)
  -h, --help            this text
EOF
}

die() { echo "bench: $*" >&2; exit 1; }
# when FLAG TEXT: prints TEXT when FLAG is not 0, and succeeds either way (for
# use inside "$(...)" under set -e).
when() { if (( $1 )); then printf '%s' "$2"; fi; }
log() { echo "bench: $*" >&2; }

JVM_OPTS_GIVEN=0
[[ -n "$FULCRUM_JVM_OPTS" ]] && JVM_OPTS_GIVEN=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --matrix) MATRIX=1; shift ;;
        --loads) LOADS=$2; shift 2 ;;
        --idle-conns) IDLE_CONNS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --duration) DURATION=${2%s}; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --warmup) WARMUP=${2%s}; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --scenario) SCENARIO=$2; shift 2 ;;
        --backend-urls) BACKEND_URLS=$2; shift 2 ;;
        --path) REQ_PATH=$2; shift 2 ;;
        --fulcrum-jar) FULCRUM_JAR=$2; shift 2 ;;
        --transport) FULCRUM_TRANSPORT=$2; shift 2 ;;
        --variant) VARIANTS+=("$2"); shift 2 ;;
        --jvm-opts) FULCRUM_JVM_OPTS=$2; JVM_OPTS_GIVEN=1; shift 2 ;;
        --policy) FULCRUM_POLICY=$2; shift 2 ;;
        --node-jar) NODE_JAR=$2; shift 2 ;;
        --node-configs) NODE_CONFIGS=$2; shift 2 ;;
        --node-urls) NODE_URLS=$2; shift 2 ;;
        --haproxy-threads) HAPROXY_THREADS=$2; shift 2 ;;
        --nginx-workers) NGINX_WORKERS=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --label) LABEL=$2; shift 2 ;;
        --docs) DOCS=$2; shift 2 ;;
        --no-docs) WRITE_DOCS=0; shift ;;
        --install) INSTALL=1; shift ;;
        --access-log) ACCESS_LOG=1; shift ;;
        --log-dir) LOG_DIR=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

# Mode-dependent defaults.
if (( MATRIX )); then
    (( ! ACCESS_LOG )) || die "--access-log measures one load; leave out --matrix"
    [[ -n "$CONNECTIONS" && -z "$LOADS" ]] && LOADS=$CONNECTIONS
    LOADS=${LOADS:-16,64,256,64:close}
    THREADS=${THREADS:-1}
    HAPROXY_THREADS=${HAPROXY_THREADS:-1,2}
    NGINX_WORKERS=${NGINX_WORKERS:-1,2}
else
    [[ -z "$LOADS" ]] || die "--loads needs --matrix (a single run takes --connections)"
    CONNECTIONS=${CONNECTIONS:-64}
    LOADS=$CONNECTIONS
    THREADS=${THREADS:-2}
    HAPROXY_THREADS=${HAPROXY_THREADS:-2}
    NGINX_WORKERS=${NGINX_WORKERS:-2}
    (( JVM_OPTS_GIVEN )) || FULCRUM_JVM_OPTS=$SINGLE_JVM_OPTS
fi
# Warm-up load: the single run's own; for the matrix 64 keep-alive connections.
WARM_CONNS=${CONNECTIONS:-64}

for n in "$RUNS" "$DURATION" "$THREADS" "$WARMUP" "$WARM_CONNS" "$IDLE_CONNS"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "not a whole number: $n"
done
IFS=',' read -r -a HAPROXY_VARIANTS <<<"$HAPROXY_THREADS"
IFS=',' read -r -a NGINX_VARIANTS <<<"$NGINX_WORKERS"
for n in "${HAPROXY_VARIANTS[@]}" "${NGINX_VARIANTS[@]}"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a thread or worker count: $n"
done
# Load rows: "CONNS CLOSE NAME", e.g. "64 1 64 close".
LOAD_ROWS=()
IFS=',' read -r -a load_list <<<"$LOADS"
for l in "${load_list[@]}"; do
    if [[ "$l" =~ ^([0-9]+)$ ]]; then
        LOAD_ROWS+=("${BASH_REMATCH[1]} 0")
    elif [[ "$l" =~ ^([0-9]+):close$ ]]; then
        LOAD_ROWS+=("${BASH_REMATCH[1]} 1")
    else
        die "not a load: $l (N for keep-alive connections, N:close for Connection: close)"
    fi
    (( BASH_REMATCH[1] >= THREADS )) || die "a load needs at least --threads ($THREADS) connections: $l"
done
(( RUNS >= 1 && DURATION >= 1 && THREADS >= 1 && WARM_CONNS >= THREADS )) \
    || die "need --runs >= 1, --duration >= 1 and --connections >= --threads >= 1"
case "$SCENARIO" in static|node) ;; *) die "unknown scenario: $SCENARIO (static or node)" ;; esac

declare -A WANT=()
IFS=',' read -r -a only_list <<<"$ONLY"
for t in "${only_list[@]}"; do
    case "$t" in
        direct|fulcrum|haproxy|nginx) WANT[$t]=1 ;;
        *) die "unknown target in --only: $t (direct,fulcrum,haproxy,nginx)" ;;
    esac
done
wanted() { [[ -n "${WANT[$1]:-}" ]]; }

# ---- tools ------------------------------------------------------------------
need_tools=(wrk curl ss)
[[ -z "$BACKEND_URLS" && "$SCENARIO" == static ]] && need_tools+=(nginx)
wanted nginx && need_tools+=(nginx)
wanted haproxy && need_tools+=(haproxy)
(( MATRIX )) && need_tools+=(python3)
missing=()
for tool in "${need_tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if (( ${#missing[@]} > 0 )); then
    pkgs=$(printf '%s\n' "${missing[@]}" | sed 's/^ss$/iproute2/; s/^python3$/python3-minimal/' | sort -u | tr '\n' ' ')
    if (( INSTALL )); then
        log "installing: $pkgs"
        # shellcheck disable=SC2086
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $pkgs
    else
        die "missing tools: ${missing[*]}. Install them with:
    sudo apt-get update && sudo apt-get install -y $pkgs
or run this script again with --install."
    fi
fi

# Many connections need many descriptors: the idle check holds $IDLE_CONNS in
# the client and as many in Fulcrum, which inherits this limit.
if (( MATRIX && IDLE_CONNS > 0 )); then
    hard=$(ulimit -Hn)
    if [[ "$hard" != unlimited ]] && (( hard < IDLE_CONNS + 1024 )); then
        die "the open-files hard limit ($hard) is too low for --idle-conns $IDLE_CONNS; raise it (ulimit -Hn) or lower --idle-conns"
    fi
    ulimit -Sn "$hard" 2>/dev/null || ulimit -Sn $(( IDLE_CONNS + 1024 ))
fi

# ---- process bookkeeping ----------------------------------------------------
declare -A ACCESS_FILE=()   # --access-log: the twins' log files, by target id
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fulcrum-bench.XXXXXX")
chmod 755 "$WORK"   # nginx workers may run as an unprivileged user
PIDS=()
WRK_PID=""

stop_pid() {
    local pid=$1 all i
    kill -0 "$pid" 2>/dev/null || return 0
    all=$(descendants "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for i in $all; do kill -KILL "$i" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    [[ -n "$WRK_PID" ]] && stop_pid "$WRK_PID"
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    # Keep the servers' logs with the results, then drop the configs and temp files.
    if [[ -n "${RUN_DIR:-}" && -d "$RUN_DIR" ]]; then
        mkdir -p "$RUN_DIR/logs"
        cp "$WORK"/*.log "$WORK"/*.conf "$WORK"/*.cfg "$WORK"/*.yaml "$RUN_DIR/logs/" 2>/dev/null || true
    fi
    # The access logs of --access-log hold a line per request (GiBs in a long
    # run): keep their last lines with the results and remove them.
    for f in "${ACCESS_FILE[@]}"; do
        if [[ -n "${RUN_DIR:-}" && -d "$RUN_DIR/logs" ]]; then
            tail -n 1000 "$f" >"$RUN_DIR/logs/$(basename "$f")" 2>/dev/null || true
        fi
        rm -f "$f"
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A closed output pipe or a lost terminal must stop the servers too; untrapped,
# those signals kill the shell without running the EXIT trap.
trap 'exit 129' HUP
trap 'exit 141' PIPE

# Starts "$@" in the background with output to $WORK/$name.log and records its
# pid in STARTED_PID (and in PIDS for the exit trap).
start() {
    local name=$1; shift
    "$@" >"$WORK/$name.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

# Sets PORT to a free loopback TCP port, never one handed out earlier in this
# run (called directly, not in $(...), so that TAKEN keeps its entries).
declare -A TAKEN=()
free_port() {
    local candidate used
    used=$(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
    for _ in $(seq 1 200); do
        candidate=$(( 20000 + RANDOM % 30000 ))
        [[ -n "${TAKEN[$candidate]:-}" ]] && continue
        grep -qx "$candidate" <<<"$used" && continue
        TAKEN[$candidate]=1
        PORT=$candidate
        return 0
    done
    die "no free port found"
}

# Waits, at most $READY_TIMEOUT seconds, until GET url answers 200 (and, when
# given, a body equal to $3); fails early when the process has died.
wait_ready() {
    local name=$1 url=$2 body=${3:-} pid=$4 deadline out
    deadline=$(( $(date +%s) + READY_TIMEOUT ))
    while (( $(date +%s) < deadline )); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited during start-up; last lines of its log:"
            tail -n 20 "$WORK/$name.log" >&2 || true
            return 1
        fi
        if out=$(curl -fsS --max-time 1 "$url" 2>/dev/null); then
            if [[ -z "$body" || "$out" == "$body" ]]; then return 0; fi
        fi
        sleep 0.1
    done
    log "$name not ready at $url after ${READY_TIMEOUT}s; last lines of its log:"
    tail -n 20 "$WORK/$name.log" >&2 || true
    return 1
}

# render TEMPLATE OUT KEY=VALUE...: replaces @KEY@ with VALUE (values may span lines).
render() {
    local tmpl=$1 out=$2; shift 2
    local kv
    local -a keys=()
    for kv in "$@"; do
        keys+=("${kv%%=*}")
        export "BENCH_T_${kv%%=*}=${kv#*=}"
    done
    KEYS="${keys[*]}" awk '
        BEGIN { n = split(ENVIRON["KEYS"], k, " ") }
        {
            for (i = 1; i <= n; i++) {
                v = ENVIRON["BENCH_T_" k[i]]
                gsub(/&/, "\\\\&", v)
                gsub("@" k[i] "@", v)
            }
            print
        }' "$tmpl" >"$out"
}

CLK_TCK=$(getconf CLK_TCK)

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print ""; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# wrk latency such as 812.00us, 1.20ms or 2.01s, in milliseconds.
to_ms() {
    awk -v x="$1" 'BEGIN {
        if (x ~ /us$/) { sub(/us$/, "", x); printf "%.4f\n", x / 1000 }
        else if (x ~ /ms$/) { sub(/ms$/, "", x); printf "%.4f\n", x }
        else if (x ~ /m$/) { sub(/m$/, "", x); printf "%.4f\n", x * 60000 }
        else if (x ~ /s$/) { sub(/s$/, "", x); printf "%.4f\n", x * 1000 }
        else print "" }'
}

# ---- run folder ---------------------------------------------------------------
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUN_DIR=${OUT_DIR:-"$ROOT/target/bench/$STAMP-$SCENARIO$(when "$MATRIX" -matrix)"}
mkdir -p "$RUN_DIR/wrk"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
log "run folder: $RUN_DIR"

# ---- backends ---------------------------------------------------------------
BACKENDS=()          # base URLs, e.g. http://127.0.0.1:23456
BACKEND_PIDS=()
HEALTH_PATH=/
EXPECT_BODY=""

# start_nginx_backend NAME PORT...: one nginx (one worker) listening on every PORT.
start_nginx_backend() {
    local name=$1; shift
    local listen="" port
    for port in "$@"; do listen+="        listen 127.0.0.1:$port reuseport;"$'\n'; done
    mkdir -p "$WORK/$name.tmp"
    render "$TEMPLATES/nginx-backend.conf.tmpl" "$WORK/$name.conf" DIR="$WORK" NAME="$name" LISTEN="${listen%$'\n'}"
    start "$name" nginx -p "$WORK" -e "$WORK/$name.error.log" -c "$WORK/$name.conf"
    BACKEND_PIDS+=("$STARTED_PID")
    for port in "$@"; do
        wait_ready "$name" "http://127.0.0.1:$port/" "hello" "$STARTED_PID" || die "backend $name failed to start"
        BACKENDS+=("http://127.0.0.1:$port")
    done
}

start_node_backend() {
    local name=$1 cfg=$2 url=$3 port=${4:-}
    [[ -f "$NODE_JAR" ]] || die "post server jar not found: $NODE_JAR (build it with: mvn -B -q -pl backend-node -am package -DskipTests)"
    [[ -f "$cfg" ]] || die "post server config not found: $cfg"
    local args=(--config "$cfg")
    [[ -n "$port" ]] && args+=(--port "$port")
    # Run from the work folder so that a relative SQLite path (data/posts.db) lands there,
    # shared by the nodes of this run and removed with it.
    # shellcheck disable=SC2086
    start "$name" bash -c 'cd "$1" && shift && exec "$@"' _ "$WORK" java $NODE_JVM_OPTS -jar "$NODE_JAR" "${args[@]}"
    BACKEND_PIDS+=("$STARTED_PID")
    wait_ready "$name" "$url/health" "" "$STARTED_PID" || die "post server $name failed to start"
    BACKENDS+=("$url")
}

if [[ -n "$BACKEND_URLS" ]]; then
    IFS=',' read -r -a BACKENDS <<<"$BACKEND_URLS"
    for u in "${BACKENDS[@]}"; do
        [[ "$u" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || die "--backend-urls takes http://127.0.0.1:PORT URLs, got: $u"
    done
    [[ "$SCENARIO" == node ]] && HEALTH_PATH=/health
elif [[ "$SCENARIO" == static ]]; then
    if (( MATRIX )); then
        # One nginx process on three ports: three backends to balance over, one
        # backend process whose CPU use is the same whichever port a request hits.
        free_port; p1=$PORT; free_port; p2=$PORT; free_port; p3=$PORT
        start_nginx_backend backend "$p1" "$p2" "$p3"
    else
        free_port; start_nginx_backend backend1 "$PORT"
        free_port; start_nginx_backend backend2 "$PORT"
    fi
    EXPECT_BODY="hello"
else
    HEALTH_PATH=/health
    IFS=',' read -r -a cfgs <<<"$NODE_CONFIGS"
    IFS=',' read -r -a urls <<<"$NODE_URLS"
    for i in "${!cfgs[@]}"; do
        url=${urls[$i]:-}
        port=""
        if [[ -z "$url" ]]; then
            # A free port of this run's own, so a local cluster on 9001-9003 is left alone.
            free_port
            port=$PORT
            url="http://127.0.0.1:$port"
        fi
        start_node_backend "node$((i + 1))" "${cfgs[$i]}" "$url" "$port"
    done
fi
(( ${#BACKENDS[@]} >= 1 )) || die "no backends"

if [[ -z "$REQ_PATH" ]]; then
    if [[ "$SCENARIO" == node ]]; then
        # Seed one post and read it back on every request: a realistic read that
        # goes through the post server's store.
        loc=$(curl -fsS --max-time 5 -o /dev/null -D - -H 'Content-Type: application/json' \
                -d '{"author":"bench","text":"hello from the benchmark"}' "${BACKENDS[0]}/posts" \
              | awk 'tolower($1) == "location:" { sub(/\r$/, "", $2); print $2 }') \
            || die "could not seed a post at ${BACKENDS[0]}/posts"
        [[ -n "$loc" ]] || die "POST /posts answered without a Location header"
        REQ_PATH="/${loc#http*://*/}"
        [[ "$loc" == /* ]] && REQ_PATH=$loc
    else
        REQ_PATH=/
    fi
fi
log "backends: ${BACKENDS[*]}; request path: $REQ_PATH"

# ---- proxies ----------------------------------------------------------------
# Targets have ids (direct, fulcrum, haproxy-t2, nginx-w1, ...), a kind (direct,
# fulcrum, haproxy, nginx), a name for the tables, a URL and the pid whose CPU
# and memory are measured.
declare -A URL=() PID_OF=() SKIPPED=() KIND=() NAME=()
TARGETS=()
FULCRUM_CMDLINE=""

add_target() {   # add_target ID KIND NAME
    TARGETS+=("$1"); KIND[$1]=$2; NAME[$1]=$3
}

if wanted direct; then
    add_target direct direct "direct to one backend (baseline)"
    URL[direct]="${BACKENDS[0]}"
    if (( ${#BACKEND_PIDS[@]} > 0 )); then PID_OF[direct]=${BACKEND_PIDS[0]}; fi
fi

# With --access-log every proxy also runs as a twin that writes one JSON line
# per request to a file in $LOG_DIR: its id is the proxy's with "-log" added.
if (( ACCESS_LOG )); then
    LOG_DIR=${LOG_DIR:-"$WORK/access"}
    mkdir -p "$LOG_DIR" || die "cannot create the access-log folder $LOG_DIR"
    LOG_DIR=$(cd "$LOG_DIR" && pwd)
fi
declare -A TWIN_OF=()
# variants BASE_ID: the ids to start for one proxy, itself and, with --access-log, its twin.
variants() { echo "$1"; if (( ACCESS_LOG )); then echo "$1-log"; fi; }
# log_file ID: sets LOG_FILE to the access-log file of a twin (empty for a
# proxy without one), removed first so that its lines count this run's
# requests only (called directly, not in $(...), so that ACCESS_FILE keeps it).
log_file() {
    LOG_FILE=""
    if [[ "$1" == *-log ]]; then
        LOG_FILE="$LOG_DIR/$1.access.log"
        ACCESS_FILE[$1]=$LOG_FILE
        TWIN_OF[$1]=${1%-log}
        rm -f "$LOG_FILE"
    fi
}
log_name() { if [[ "$1" == *-log ]]; then echo "$2, JSON access log"; else echo "$2"; fi; }
# peer_name NAME COUNTED VARIANTS: a peer's name, with its thread or worker count (COUNTED) only
# where the count varies: in --matrix, or when VARIANTS (how many counts run) is more than one.
peer_name() { if (( MATRIX || $3 > 1 )); then echo "$2"; else echo "$1"; fi; }
# serving ID PORT: records the proxy just started as ID's target on PORT and waits until it answers.
serving() {
    PID_OF[$1]=$STARTED_PID
    URL[$1]="http://127.0.0.1:$2"
    wait_ready "$1" "${URL[$1]}$REQ_PATH" "$EXPECT_BODY" "$STARTED_PID" || die "$1 failed to start"
}

if wanted fulcrum; then
    # The first Fulcrum is "fulcrum"; each --variant adds "fulcrum-LABEL" with its own jar or transport.
    F_IDS=(fulcrum); declare -A F_JAR=([fulcrum]="$FULCRUM_JAR") F_TRANSPORT=([fulcrum]="$FULCRUM_TRANSPORT") \
        F_THREADS=([fulcrum]="")
    for v in "${VARIANTS[@]}"; do
        [[ "$v" == *=* ]] || die "--variant $v: expected LABEL=JAR, LABEL=JAR@TRANSPORT, LABEL=@TRANSPORT or LABEL=#N"
        label=${v%%=*}; spec=${v#*=}; threads=""
        if [[ "$spec" == *#* ]]; then
            threads=${spec#*#}; spec=${spec%%#*}
            [[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--variant $v: #N must be a number of event loops"
        fi
        jar=${spec%%@*}; transport=""
        [[ "$spec" == *@* ]] && transport=${spec#*@}
        F_IDS+=("fulcrum-$label"); F_JAR[fulcrum-$label]=${jar:-$FULCRUM_JAR}; F_TRANSPORT[fulcrum-$label]=$transport
        F_THREADS[fulcrum-$label]=$threads
    done
    entries=""
    for i in "${!BACKENDS[@]}"; do
        entries+="  - { id: b$((i + 1)), url: \"${BACKENDS[$i]}\", region: local }"$'\n'
    done
    for base in "${F_IDS[@]}"; do
        jar=${F_JAR[$base]}; transport=${F_TRANSPORT[$base]}
        threads=(); [[ -n "${F_THREADS[$base]}" ]] && threads=(--threads "${F_THREADS[$base]}")
        skip=""
        if [[ ! -f "$jar" ]]; then
            skip="balancer jar not found at ${jar#"$ROOT"/}; build it with: mvn -B -q -pl balancer -am package -DskipTests"
        elif ! command -v java >/dev/null 2>&1; then
            skip="java not found on PATH (Java 17 or newer is needed)"
        elif (( ! JVM_OPTS_GIVEN )) && [[ -z "$FULCRUM_JVM_OPTS" && ! -x "$FULCRUM_LAUNCHER" ]]; then
            skip="launcher ${FULCRUM_LAUNCHER#"$ROOT"/} not found; pass --jvm-opts to run java directly"
        fi
        label=${base#fulcrum}; label=${label#-}
        for id in $(variants "$base"); do
            shown=${transport:+ ($transport)}; [[ "$label" == "$transport" ]] && shown=""
            add_target "$id" fulcrum "$(log_name "$id" "Fulcrum${label:+ $label}$shown")"
            if [[ -n "$skip" ]]; then
                SKIPPED[$id]=$skip
                log "skipping $id: $skip"
                continue
            fi
            log_file "$id"; file=$LOG_FILE
            free_port; port=$PORT
            free_port; admin=$PORT
            render "$TEMPLATES/fulcrum.yaml.tmpl" "$WORK/$id.yaml" PORT="$port" ADMIN_PORT="$admin" \
                POLICY="$FULCRUM_POLICY" HEALTH_PATH="$HEALTH_PATH" FULCRUM_BACKENDS="${entries%$'\n'}" \
                ACCESS_LOG="\"${file:-off}\""
            if [[ -n "$transport" ]]; then echo "transport: $transport" >>"$WORK/$id.yaml"; fi
            if [[ -n "$FULCRUM_JVM_OPTS" ]]; then
                # shellcheck disable=SC2086
                start "$id" java $FULCRUM_JVM_OPTS -jar "$jar" --config "$WORK/$id.yaml" "${threads[@]}"
            else
                # The launcher execs java, so the pid is the JVM's.
                start "$id" env FULCRUM_JAR="$jar" "$FULCRUM_LAUNCHER" --config "$WORK/$id.yaml" "${threads[@]}"
            fi
            PID_OF[$id]=$STARTED_PID
            URL[$id]="http://127.0.0.1:$port"
            # Ready means a request through the traffic port reaches a backend;
            # the admin port's /ready (a backend is routable) is checked too.
            wait_ready "$id" "${URL[$id]}$REQ_PATH" "$EXPECT_BODY" "$STARTED_PID" || die "$id does not proxy"
            [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$admin/ready")" == 200 ]] \
                || log "warning: $id proxies but its admin /ready does not answer 200"
            running=$(curl -s --max-time 2 "http://127.0.0.1:$admin/config/status" | sed -n 's/.*"transport":"\([a-z_]*\)".*/\1/p')
            cmdline=$(tr '\0' ' ' <"/proc/$STARTED_PID/cmdline" | sed "s|$WORK/||g; s|$ROOT/||g; s/ $//")
            [[ "$id" == fulcrum ]] && FULCRUM_CMDLINE=$cmdline
            log "$id: $cmdline (transport ${running:-epoll or nio, not reported by this build})"
        done
    done
fi

# HAProxy writes its log lines to stdout (format raw), which goes to the file.
HAPROXY_LOG_GLOBAL="    log stdout format raw local0"
HAPROXY_LOG_DEFAULTS="    log global
    option dontlognull
    log-format '{\"time\":\"%tr\",\"client\":\"%ci\",\"method\":\"%HM\",\"host\":\"%[capture.req.hdr(0),json(utf8s)]\",\"path\":\"%[capture.req.uri,json(utf8s)]\",\"protocol\":\"%HV\",\"status\":%ST,\"bytes_in\":%U,\"bytes_out\":%B,\"duration_ms\":%Ta,\"ttfb_ms\":%Tr,\"connect_ms\":%Tc,\"retries\":%rc,\"user_agent\":\"%[capture.req.hdr(1),json(utf8s)]\",\"backend\":\"%s\"}'"
HAPROXY_LOG_FRONTEND="    http-request capture req.hdr(host) len 128
    http-request capture req.hdr(user-agent) len 256"
if wanted haproxy; then
    servers=""
    for i in "${!BACKENDS[@]}"; do
        servers+="    server b$((i + 1)) ${BACKENDS[$i]#http://} check inter 2s"$'\n'
    done
    for n in "${HAPROXY_VARIANTS[@]}"; do
        name=$(peer_name "HAProxy" "HAProxy nbthread $n" ${#HAPROXY_VARIANTS[@]})
        for id in $(variants "haproxy-t$n"); do
            add_target "$id" haproxy "$(log_name "$id" "$name")"
            log_file "$id"; file=$LOG_FILE
            lg=""; ld=""; lf=""
            [[ -n "$file" ]] && { lg=$HAPROXY_LOG_GLOBAL; ld=$HAPROXY_LOG_DEFAULTS; lf=$HAPROXY_LOG_FRONTEND; }
            free_port; port=$PORT
            render "$TEMPLATES/haproxy.cfg.tmpl" "$WORK/$id.cfg" PORT="$port" THREADS="$n" \
                HEALTH_PATH="$HEALTH_PATH" HAPROXY_SERVERS="${servers%$'\n'}" \
                LOG_GLOBAL="$lg" LOG_DEFAULTS="$ld" LOG_FRONTEND="$lf"
            haproxy -c -q -f "$WORK/$id.cfg" || die "haproxy rejected $WORK/$id.cfg"
            if [[ -n "$file" ]]; then
                start "$id" bash -c 'exec haproxy -db -f "$1" >"$2"' _ "$WORK/$id.cfg" "$file"
            else
                start "$id" haproxy -db -f "$WORK/$id.cfg"
            fi
            serving "$id" "$port"
        done
    done
fi

if wanted nginx; then
    servers=""
    for b in "${BACKENDS[@]}"; do servers+="        server ${b#http://};"$'\n'; done
    for n in "${NGINX_VARIANTS[@]}"; do
        name=$(peer_name "nginx" "nginx $n worker$(when $(( n > 1 )) s)" ${#NGINX_VARIANTS[@]})
        for id in $(variants "nginx-w$n"); do
            add_target "$id" nginx "$(log_name "$id" "$name")"
            log_file "$id"; file=$LOG_FILE
            access="access_log off;"
            [[ -n "$file" ]] && access="log_format bench_json escape=json '{\"time\":\"\$time_iso8601\",\"request_id\":\"\$request_id\",\"client\":\"\$remote_addr\",\"method\":\"\$request_method\",\"host\":\"\$host\",\"path\":\"\$request_uri\",\"protocol\":\"\$server_protocol\",\"status\":\$status,\"bytes_in\":\$request_length,\"bytes_out\":\$bytes_sent,\"duration_ms\":\$request_time,\"user_agent\":\"\$http_user_agent\",\"backend\":\"\$upstream_addr\",\"upstream_status\":\"\$upstream_status\",\"connect_s\":\"\$upstream_connect_time\",\"first_byte_s\":\"\$upstream_header_time\"}';
    access_log $file bench_json buffer=64k flush=1s;"
            free_port; port=$PORT
            mkdir -p "$WORK/$id.tmp"
            render "$TEMPLATES/nginx-proxy.conf.tmpl" "$WORK/$id.conf" DIR="$WORK" NAME="$id" \
                PORT="$port" WORKERS="$n" NGINX_SERVERS="${servers%$'\n'}" ACCESS_LOG="$access"
            start "$id" nginx -p "$WORK" -e "$WORK/$id.error.log" -c "$WORK/$id.conf"
            serving "$id" "$port"
        done
    done
fi

ORDER=()
for t in "${TARGETS[@]}"; do
    [[ -n "${URL[$t]:-}" ]] && ORDER+=("$t")
done
(( ${#ORDER[@]} > 0 )) || die "nothing to benchmark"

# ---- measurement ------------------------------------------------------------
# Rounds are interleaved (each load row against each target once per round) so
# that a slow stretch on a shared machine hits every target alike instead of
# one of them.

# run_wrk TARGET CONNS CLOSE SECS OUT: wrk in the background, its pid in WRK_PID.
run_wrk() {
    local target=$1 conns=$2 close=$3 secs=$4 out=$5
    local args=(-t"$THREADS" -c"$conns" -d"${secs}s" --latency)
    (( close )) && args+=(-H 'Connection: close')
    wrk "${args[@]}" "${URL[$target]}$REQ_PATH" >"$out" 2>&1 &
    WRK_PID=$!
}

wait_wrk() {
    local target=$1 out=$2 rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    if (( rc != 0 )); then log "wrk failed against $target:"; cat "$out" >&2; return 1; fi
}

load_name() { if (( $2 )); then echo "$1 close"; else echo "$1"; fi; }

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
START_EPOCH=$(date +%s)

# The warm-up is two runs: when the first one's connections close, a JVM
# recompiles code that had only seen them open (its first connection churn),
# which the second, short run absorbs instead of the first measured one. Then,
# with more than one load row, a short unmeasured run of each row: a JVM
# compiles the code each one takes (connection set-up with Connection: close,
# 256 connections) when it first meets it, about 3 s of compiler time for the
# close row alone, which would otherwise be counted in the first round.
if (( WARMUP > 0 )); then
    for t in "${ORDER[@]}"; do
        log "warm-up: $t for ${WARMUP}s and then ${SETTLE}s at $WARM_CONNS connections"
        run_wrk "$t" "$WARM_CONNS" 0 "$WARMUP" "$RUN_DIR/wrk/warmup-$t.txt"
        wait_wrk "$t" "$RUN_DIR/wrk/warmup-$t.txt"
        run_wrk "$t" "$WARM_CONNS" 0 "$SETTLE" "$RUN_DIR/wrk/warmup2-$t.txt"
        wait_wrk "$t" "$RUN_DIR/wrk/warmup2-$t.txt"
        if (( ${#LOAD_ROWS[@]} > 1 )); then
            for row in "${LOAD_ROWS[@]}"; do
                read -r conns close <<<"$row"
                run_wrk "$t" "$conns" "$close" "$SETTLE" "$RUN_DIR/wrk/warmup-row-$t-$conns-$close.txt"
                wait_wrk "$t" "$RUN_DIR/wrk/warmup-row-$t-$conns-$close.txt"
            done
        fi
    done
fi

RAW="$RUN_DIR/results.csv"
echo "round,load,connections,close,target,kind,name,rps,requests,p50_ms,p99_ms,errors,cpu_us_per_req,rss_kib" >"$RAW"
HALF=$(awk -v d="$DURATION" 'BEGIN { printf "%.1f\n", d / 2 }')

for r in $(seq 1 "$RUNS"); do
    for row in "${LOAD_ROWS[@]}"; do
        read -r conns close <<<"$row"
        lname=$(load_name "$conns" "$close")
        for t in "${ORDER[@]}"; do
            out="$RUN_DIR/wrk/run-$r-c$conns$(when "$close" -close)-$t.txt"
            pid=${PID_OF[$t]:-}
            ticks0=""; [[ -n "$pid" ]] && ticks0=$(cpu_ticks "$pid")
            run_wrk "$t" "$conns" "$close" "$DURATION" "$out"
            rss=""
            if (( MATRIX )); then
                # RSS under load: sampled half way through the run.
                sleep "$HALF"
                [[ -n "$pid" ]] && rss=$(rss_kib "$pid")
                wait_wrk "$t" "$out"
            else
                # The single run's table has always shown RSS right after the run.
                wait_wrk "$t" "$out"
                [[ -n "$pid" ]] && rss=$(rss_kib "$pid")
            fi
            ticks1=""; [[ -n "$pid" ]] && ticks1=$(cpu_ticks "$pid")
            rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
            reqs=$(awk '/ requests in / { print $1 }' "$out")
            p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
            p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
            errs=$(awk '/Non-2xx or 3xx responses:/ { e += $NF }
                        /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
                        END { print e + 0 }' "$out")
            cpu=""
            if [[ -n "$ticks0" && -n "$ticks1" && "${reqs:-0}" -gt 0 ]]; then
                cpu=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$CLK_TCK" -v n="$reqs" \
                    'BEGIN { printf "%.2f\n", (b - a) * 1e6 / hz / n }')
            fi
            echo "$r,$lname,$conns,$close,$t,${KIND[$t]},${NAME[$t]},$rps,$reqs,$p50,$p99,$errs,$cpu,$rss" >>"$RAW"
            echo "$rps $p50 $p99 $errs ${rss:--} ${cpu:--}" >>"$WORK/results-$t-c$conns-$close.txt"
            log "round $r/$RUNS, $lname: $t ${rps} req/s, p50 ${p50} ms, p99 ${p99} ms, errors ${errs}, cpu ${cpu:-?} us/req, rss ${rss:-?} KiB"
        done
    done
done
ELAPSED=$(( $(date +%s) - START_EPOCH ))

# ---- idle connections (--matrix) ----------------------------------------------
# Fulcrum with $IDLE_CONNS idle keep-alive client connections open: does a
# normal request still get answered, how fast, and what does the JVM hold.
IDLE_FILE="$RUN_DIR/idle.txt"
# probe N: N sequential requests to Fulcrum on fresh connections; prints
# "answered median_ms max_ms".
probe() {
    local n=$1 i code_time ok=0
    : >"$WORK/probe.txt"
    for i in $(seq 1 "$n"); do
        code_time=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}' "${URL[fulcrum]}$REQ_PATH" || true)
        if [[ "${code_time%% *}" == 200 ]]; then
            ok=$(( ok + 1 ))
            echo "${code_time#* }" >>"$WORK/probe.txt"
        fi
    done
    echo "$ok $(awk '{ print $1 * 1000 }' "$WORK/probe.txt" | median) $(awk '{ v = $1 * 1000; if (v > m) m = v } END { print m + 0 }' "$WORK/probe.txt")"
}

if (( MATRIX && IDLE_CONNS > 0 )) && [[ -n "${URL[fulcrum]:-}" ]]; then
    log "idle check: opening $IDLE_CONNS idle keep-alive connections to fulcrum"
    fport=${URL[fulcrum]##*:}
    read -r b_ok b_med b_max <<<"$(probe 20)"
    b_rss=$(rss_kib "${PID_OF[fulcrum]}")
    start idle-client python3 "$TEMPLATES/idle_conns.py" --port "$fport" --path "$REQ_PATH" \
        --count "$IDLE_CONNS" --ready-file "$WORK/idle.ready" --release-file "$WORK/idle.release"
    idle_pid=$STARTED_PID
    deadline=$(( $(date +%s) + 120 ))
    while [[ ! -f "$WORK/idle.ready" ]] && kill -0 "$idle_pid" 2>/dev/null && (( $(date +%s) < deadline )); do
        sleep 0.2
    done
    if [[ -f "$WORK/idle.ready" ]]; then
        held_line=$(cat "$WORK/idle.ready")
        sleep 1
        w_rss=$(rss_kib "${PID_OF[fulcrum]}")
        read -r w_ok w_med w_max <<<"$(probe 20)"
        touch "$WORK/idle.release"
        wait "$idle_pid" || true
        final_line=$(tail -n 1 "$WORK/idle-client.log")
        {
            echo "idle_conns=$IDLE_CONNS"
            echo "open_line=$held_line"
            echo "close_line=$final_line"
            echo "before_answered=$b_ok/20 before_p50_ms=$b_med before_max_ms=$b_max before_rss_kib=$b_rss"
            echo "with_answered=$w_ok/20 with_p50_ms=$w_med with_max_ms=$w_max with_rss_kib=$w_rss"
        } >"$IDLE_FILE"
        log "idle check: $held_line; then $final_line; probes answered $w_ok/20, median ${w_med} ms; rss $b_rss -> $w_rss KiB"
    else
        log "idle check: the client did not report its connections; last lines of its log:"
        tail -n 5 "$WORK/idle-client.log" >&2 || true
        echo "idle_conns=$IDLE_CONNS" >"$IDLE_FILE"
        echo "error=the idle client did not get its connections open within 120 s" >>"$IDLE_FILE"
    fi
    stop_pid "$idle_pid"
fi
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -----------------------------------------------------------------
fmt_rps() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%d\n", x + 0.5 }' | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
fmt_ms()  { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else if (x < 10) printf "%.2f ms\n", x; else printf "%.1f ms\n", x }'; }
fmt_us()  { awk -v x="$1" 'BEGIN { if (x == "" || x == "-") print "-"; else printf "%.1f µs\n", x }'; }
# fmt_change BEFORE AFTER: the relative change, e.g. -3.1 %.
fmt_change() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == 0) print "-"; else printf "%+.1f %%\n", (b - a) * 100 / a }'; }
fmt_mib() { awk -v x="$1" 'BEGIN { if (x == "" || x == "-") print "-"; else printf "%.1f MiB\n", x / 1024 }'; }

if (( MATRIX )); then
    report_args=(--raw "$RAW" --summary "$RUN_DIR/summary.csv" --json "$RUN_DIR/results.json")
    [[ -f "$IDLE_FILE" ]] && report_args+=(--idle "$IDLE_FILE")
    for t in "${!SKIPPED[@]}"; do report_args+=(--skipped "${NAME[$t]}: ${SKIPPED[$t]}"); done
    TABLE=$(python3 "$TEMPLATES/matrix_report.py" "${report_args[@]}")
else
    TABLE="| target | requests/s (median) | requests/s (min–max) | p50 | p99 | CPU/request | RSS | errors |
|---|---:|---:|---:|---:|---:|---:|---:|"
    for t in "${TARGETS[@]}"; do
        if [[ -n "${SKIPPED[$t]:-}" ]]; then
            TABLE+=$'\n'"| ${NAME[$t]} | skipped | | | | | | |"
            continue
        fi
        f="$WORK/results-$t-c$CONNECTIONS-0.txt"
        [[ -f "$f" ]] || continue
        rps=$(awk '{ print $1 }' "$f" | median)
        lo=$(awk 'NR == 1 || $1 < m { m = $1 } END { print m }' "$f")
        hi=$(awk 'NR == 1 || $1 > m { m = $1 } END { print m }' "$f")
        p50=$(awk '{ print $2 }' "$f" | median)
        p99=$(awk '{ print $3 }' "$f" | median)
        errs=$(awk '{ e += $4 } END { print e + 0 }' "$f")
        rss=$(awk '$5 != "-" { print $5 }' "$f" | median)
        cpu=$(awk '$6 != "-" { print $6 }' "$f" | median)
        TABLE+=$'\n'"| ${NAME[$t]} | $(fmt_rps "$rps") | $(fmt_rps "$lo")–$(fmt_rps "$hi") | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $(fmt_us "$cpu") | $(fmt_mib "$rss") | $errs |"
    done
fi

# What each proxy's access log cost: its twin's medians against its own, and
# how many lines the log holds for the requests the twin was sent (warm-up
# included; the start-up probes add a few lines), which shows that every
# request was logged.
if (( ACCESS_LOG )); then
    sleep 2   # nginx's buffer and Fulcrum's writer hold lines for up to a second
    COST="| proxy | requests/s, no log | with the log | change | CPU/request, no log | with the log | change | lines / requests |
|---|---:|---:|---:|---:|---:|---:|---:|"
    for t in "${TARGETS[@]}"; do
        base=${TWIN_OF[$t]:-}
        [[ -n "$base" && -z "${SKIPPED[$t]:-}" ]] || continue
        f0="$WORK/results-$base-c$CONNECTIONS-0.txt"
        f1="$WORK/results-$t-c$CONNECTIONS-0.txt"
        [[ -f "$f0" && -f "$f1" ]] || continue
        r0=$(awk '{ print $1 }' "$f0" | median); r1=$(awk '{ print $1 }' "$f1" | median)
        c0=$(awk '$6 != "-" { print $6 }' "$f0" | median); c1=$(awk '$6 != "-" { print $6 }' "$f1" | median)
        lines=$(wc -l <"${ACCESS_FILE[$t]}" 2>/dev/null || echo 0)
        sent=$(cat "$RUN_DIR"/wrk/*-"$t".txt | awk '/ requests in / { n += $1 } END { print n + 0 }')
        COST+=$'\n'"| ${NAME[$base]} | $(fmt_rps "$r0") | $(fmt_rps "$r1") | $(fmt_change "$r0" "$r1") | $(fmt_us "$c0") | $(fmt_us "$c1") | $(fmt_change "$c0" "$c1") | $(fmt_rps "$lines") / $(fmt_rps "$sent") |"
    done
    TABLE+=$'\n\n'"$COST"
fi

echo
echo "$TABLE"
if (( ! MATRIX )); then
    for t in "${!SKIPPED[@]}"; do echo; echo "${NAME[$t]} skipped: ${SKIPPED[$t]}"; done
fi
echo "$TABLE" >"$RUN_DIR/table.md"

if (( MATRIX )); then
    python3 "$ROOT/scripts/bench-chart.py" "$RUN_DIR/summary.csv" -o "$RUN_DIR/matrix.svg" \
        --title "Fulcrum beside HAProxy and nginx, $(date -u +%Y-%m-%d) ($(nproc) cores, static backends)" \
        || log "warning: the chart could not be drawn"
fi
log "results: $RUN_DIR"

(( WRITE_DOCS )) || exit 0

# ---- docs/benchmarks.md -----------------------------------------------------
DAY=$(date -u +%Y-%m-%d)
# A labelled run is an experiment of its own: it replaces only an earlier run with the same label.
LABEL_SLUG=$(printf '%s' "$LABEL" | tr -cs 'A-Za-z0-9' '-' | tr 'A-Z' 'a-z' | cut -c1-40 | sed 's/^-*//; s/-*$//')
KEY="$DAY-$SCENARIO$(when "$MATRIX" -matrix)$(when "$ACCESS_LOG" -access-log)${LABEL_SLUG:+-$LABEL_SLUG}"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
V_WRK=$( (wrk -v 2>&1 || true) | head -n1 | awk '{ print $2 }')   # wrk -v exits 1
V_HAPROXY=$( (haproxy -v 2>/dev/null || true) | awk 'NR == 1 { print $3 }')
V_NGINX=$( (nginx -v 2>&1 || true) | awk -F/ 'NR == 1 { print $2 }')
V_JAVA=$( (java -version 2>&1 || true) | awk -F'"' 'NR == 1 { print $2 }')
V_FULCRUM=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "-")

if [[ "$SCENARIO" == static ]]; then
    if (( MATRIX )); then
        BACKEND_TEXT="one nginx $V_NGINX process (1 worker) listening on 3 ports, answering every request with \`200 hello\\n\`"
    else
        BACKEND_TEXT="two nginx $V_NGINX instances (1 worker each) answering every request with \`200 hello\\n\`"
    fi
else
    BACKEND_TEXT="two Fulcrum post servers (\`backend-node.jar\`), reading one seeded post"
fi
[[ -n "$BACKEND_URLS" ]] && BACKEND_TEXT="already running backends ${BACKEND_URLS}"
if [[ -n "$FULCRUM_JVM_OPTS" ]]; then FULCRUM_TEXT="\`$FULCRUM_JVM_OPTS\`"; else FULCRUM_TEXT="\`bin/fulcrum\` (\`$FULCRUM_CMDLINE\`)"; fi
(( MATRIX )) || FULCRUM_TEXT="\`$FULCRUM_JVM_OPTS\`"

SECTION="$WORK/section.md"
CHART_FILE="$(dirname "$DOCS")/bench-matrix.svg"
{
    echo "<!-- bench-run: $KEY -->"
    if (( MATRIX )); then
        echo "### $DAY — load matrix, $SCENARIO backends${LABEL:+ ($LABEL)}"
    else
        echo "### $DAY — $SCENARIO backends$(when "$ACCESS_LOG" ", access log cost")${LABEL:+ ($LABEL)}"
    fi
    echo
    echo "- Command: \`scripts/bench.sh${ARGS_SHOWN:+ $ARGS_SHOWN}\` (Fulcrum at commit \`$V_FULCRUM\`)"
    echo "- Machine: $(nproc) cores, $CPU, $MEM RAM, Linux $(uname -r); load average $LOADAVG at start, $LOADAVG_END at end"
    echo "- Tools: wrk $V_WRK, HAProxy $V_HAPROXY, nginx $V_NGINX, Java $V_JAVA"
    if (( MATRIX )); then
        rows=""
        for row in "${LOAD_ROWS[@]}"; do
            read -r conns close <<<"$row"
            rows+="\`-c$conns$(when "$close" " -H 'Connection: close'")\`, "
        done
        echo "- Load: \`wrk -t$THREADS -d${DURATION}s --latency\` on \`GET $REQ_PATH\` with ${rows%, }; ${WARMUP}s + ${SETTLE}s warm-up per target at $WARM_CONNS connections and ${SETTLE}s of each load row, then $RUNS round$(when $(( RUNS > 1 )) s), each running every load row against every target in turn; medians of the rounds (${ELAPSED}s in all)"
    else
        echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` on \`GET $REQ_PATH\`, ${WARMUP}s + ${SETTLE}s warm-up per target, then medians of $RUNS interleaved runs (${ELAPSED}s measuring)"
    fi
    echo "- Backends: $BACKEND_TEXT"
    echo "- Proxies: HAProxy nbthread $HAPROXY_THREADS; nginx worker_processes $NGINX_WORKERS; Fulcrum with $FULCRUM_TEXT, policy $FULCRUM_POLICY"
    if (( ACCESS_LOG )); then
        echo "- Access logs: each proxy also ran as a twin writing one JSON line per request to a file in \`$LOG_DIR\` (Fulcrum \`access-log: <file>\`, its default JSON format; nginx \`log_format escape=json\` with \`access_log … buffer=64k flush=1s\`; HAProxy a JSON \`log-format\` to \`log stdout format raw\`, stdout sent to the file)"
    fi
    echo "- wrk, the proxy and the backends share the same $(nproc) cores, so every number here is lower than the proxy alone would reach."
    echo
    echo "$TABLE"
    if (( ! MATRIX )); then
        for t in "${!SKIPPED[@]}"; do
            echo
            echo "${NAME[$t]} was not measured: ${SKIPPED[$t]}."
        done
    elif [[ -f "$RUN_DIR/matrix.svg" ]]; then
        echo
        echo "![Requests/s and p99 by load, Fulcrum beside each peer]($(basename "$CHART_FILE"))"
    fi
    echo "<!-- /bench-run: $KEY -->"
} >"$SECTION"

if (( MATRIX )) && [[ -f "$RUN_DIR/matrix.svg" ]]; then
    cp "$RUN_DIR/matrix.svg" "$CHART_FILE"
    log "drew ${CHART_FILE#"$ROOT"/}"
fi

if [[ ! -f "$DOCS" ]]; then
    mkdir -p "$(dirname "$DOCS")"
    printf '# Benchmarks\n\nResults of `scripts/bench.sh`, newest last.\n\n## Results\n' >"$DOCS"
fi

# Replace the section of the same day, scenario and label, or append a new one.
if grep -qF "<!-- bench-run: $KEY -->" "$DOCS"; then
    awk -v key="$KEY" -v sec="$SECTION" '
        $0 == "<!-- bench-run: " key " -->" { while ((getline line < sec) > 0) print line; skip = 1; next }
        skip && $0 == "<!-- /bench-run: " key " -->" { skip = 0; next }
        !skip { print }' "$DOCS" >"$WORK/docs.new"
else
    { cat "$DOCS"; echo; cat "$SECTION"; } >"$WORK/docs.new"
fi
cat "$WORK/docs.new" >"$DOCS"
log "wrote the $KEY section of ${DOCS#"$ROOT"/}"

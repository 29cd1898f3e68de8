#!/usr/bin/env bash
# Fulcrum benchmark: wrk on loopback against Fulcrum, HAProxy and nginx, each
# proxying to the same backends, plus a direct-to-backend baseline, side by side
# in one run. Reports the median requests/s, p50 and p99 latency over several
# runs, and the resident memory (VmRSS) of each proxy, as a markdown table; it
# also writes a dated section into docs/benchmarks.md.
#
# Everything listens on 127.0.0.1 on ports found free at runtime, and every
# process the script starts is stopped on exit. See docs/benchmarks.md for the
# method and for how to read the numbers.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATES="$ROOT/scripts/bench"

# ---- defaults ---------------------------------------------------------------
RUNS=3
DURATION=10
CONNECTIONS=64
THREADS=2
WARMUP=15
ONLY="direct,fulcrum,haproxy,nginx"
SCENARIO=static
REQ_PATH=""
LABEL=""
DOCS="$ROOT/docs/benchmarks.md"
WRITE_DOCS=1
INSTALL=0
FULCRUM_JAR="$ROOT/balancer/target/balancer.jar"
FULCRUM_JVM_OPTS=${FULCRUM_JVM_OPTS:-"-Xms256m -Xmx512m -XX:+UseParallelGC"}
FULCRUM_POLICY=round-robin
NODE_JAR="$ROOT/backend-node/target/backend-node.jar"
NODE_CONFIGS="$ROOT/config/node-us-1.yaml,$ROOT/config/node-us-2.yaml"
NODE_JVM_OPTS=${NODE_JVM_OPTS:-"-Xms256m -Xmx512m"}
NODE_URLS=""
BACKEND_URLS=""
HAPROXY_THREADS=2
NGINX_WORKERS=2
READY_TIMEOUT=60
ARGS_SHOWN=$( (( $# )) && printf "%q " "$@" || true)
ARGS_SHOWN=${ARGS_SHOWN% }

usage() {
    cat <<EOF
Usage: scripts/bench.sh [options]

Benchmarks Fulcrum, HAProxy and nginx side by side with wrk on 127.0.0.1.

  --runs N              measured runs per target; medians are reported (default $RUNS)
  --duration S          seconds per measured run (default $DURATION)
  --connections C       keep-alive connections held by wrk (default $CONNECTIONS)
  --threads T           wrk threads (default $THREADS)
  --warmup S            unmeasured warm-up seconds per target, 0 to skip (default $WARMUP)
  --only LIST           comma list of targets: direct,fulcrum,haproxy,nginx (default all)
  --scenario NAME       static (default): two nginx instances answering "hello\\n";
                        node: two Fulcrum post servers (backend-node jar) reading one post
  --backend-urls U1,U2  benchmark against backends that are already running instead
  --path PATH           request path (default / for static, a seeded /posts/{id} for node)
  --fulcrum-jar PATH    balancer jar (default balancer/target/balancer.jar)
  --jvm-opts "OPTS"     JVM flags for Fulcrum (default "$FULCRUM_JVM_OPTS";
                        also read from \$FULCRUM_JVM_OPTS)
  --policy NAME         Fulcrum routing policy (default $FULCRUM_POLICY, like the others)
  --node-jar PATH       post server jar for --scenario node (default backend-node/target/backend-node.jar)
  --node-configs A,B    post server configs (default config/node-us-1.yaml,config/node-us-2.yaml)
  --node-urls U1,U2     base URLs of those nodes (default: each started on a free port with --port)
  --haproxy-threads N   HAProxy nbthread (default $HAPROXY_THREADS)
  --nginx-workers N     nginx proxy worker_processes (default $NGINX_WORKERS)
  --label TEXT          note added to the heading of the docs section
  --docs FILE           markdown file to update (default docs/benchmarks.md)
  --no-docs             print the table only, leave the docs alone
  --install             apt-get install wrk, haproxy, nginx and curl if missing (needs root)
  -h, --help            this text
EOF
}

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
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
        --jvm-opts) FULCRUM_JVM_OPTS=$2; shift 2 ;;
        --policy) FULCRUM_POLICY=$2; shift 2 ;;
        --node-jar) NODE_JAR=$2; shift 2 ;;
        --node-configs) NODE_CONFIGS=$2; shift 2 ;;
        --node-urls) NODE_URLS=$2; shift 2 ;;
        --haproxy-threads) HAPROXY_THREADS=$2; shift 2 ;;
        --nginx-workers) NGINX_WORKERS=$2; shift 2 ;;
        --label) LABEL=$2; shift 2 ;;
        --docs) DOCS=$2; shift 2 ;;
        --no-docs) WRITE_DOCS=0; shift ;;
        --install) INSTALL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

for n in "$RUNS" "$DURATION" "$CONNECTIONS" "$THREADS" "$WARMUP" "$HAPROXY_THREADS" "$NGINX_WORKERS"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "not a whole number: $n"
done
(( RUNS >= 1 && DURATION >= 1 && CONNECTIONS >= THREADS && THREADS >= 1 )) \
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
missing=()
for tool in "${need_tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if (( ${#missing[@]} > 0 )); then
    pkgs=$(printf '%s\n' "${missing[@]}" | sed 's/^ss$/iproute2/' | sort -u | tr '\n' ' ')
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

# ---- process bookkeeping ----------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fulcrum-bench.XXXXXX")
chmod 755 "$WORK"   # nginx workers may run as an unprivileged user
PIDS=()

descendants() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null || true); do
        echo "$child"
        descendants "$child"
    done
}

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
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# Sum of VmRSS (KiB) over a process and its descendants (nginx runs a master
# and workers); empty when the process is gone.
rss_kib() {
    local pid=$1 total=0 p kb
    kill -0 "$pid" 2>/dev/null || return 0
    for p in "$pid" $(descendants "$pid"); do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        total=$(( total + ${kb:-0} ))
    done
    echo "$total"
}

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

# ---- backends ---------------------------------------------------------------
BACKENDS=()          # base URLs, e.g. http://127.0.0.1:23456
BACKEND_PIDS=()
HEALTH_PATH=/
EXPECT_BODY=""

start_nginx_backend() {
    local name=$1 port=$2
    mkdir -p "$WORK/$name.tmp"
    render "$TEMPLATES/nginx-backend.conf.tmpl" "$WORK/$name.conf" DIR="$WORK" NAME="$name" PORT="$port"
    start "$name" nginx -p "$WORK" -e "$WORK/$name.error.log" -c "$WORK/$name.conf"
    BACKEND_PIDS+=("$STARTED_PID")
    wait_ready "$name" "http://127.0.0.1:$port/" "hello" "$STARTED_PID" || die "backend $name failed to start"
    BACKENDS+=("http://127.0.0.1:$port")
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
    free_port; start_nginx_backend backend1 "$PORT"
    free_port; start_nginx_backend backend2 "$PORT"
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
declare -A URL=() PID_OF=() SKIPPED=()

if wanted direct; then
    URL[direct]="${BACKENDS[0]}"
    if (( ${#BACKEND_PIDS[@]} > 0 )); then PID_OF[direct]=${BACKEND_PIDS[0]}; fi
fi

if wanted haproxy; then
    free_port; port=$PORT
    servers=""
    for i in "${!BACKENDS[@]}"; do
        servers+="    server b$((i + 1)) ${BACKENDS[$i]#http://} check inter 2s"$'\n'
    done
    render "$TEMPLATES/haproxy.cfg.tmpl" "$WORK/haproxy.cfg" PORT="$port" THREADS="$HAPROXY_THREADS" \
        HEALTH_PATH="$HEALTH_PATH" HAPROXY_SERVERS="${servers%$'\n'}"
    haproxy -c -q -f "$WORK/haproxy.cfg" || die "haproxy rejected $WORK/haproxy.cfg"
    start haproxy haproxy -db -f "$WORK/haproxy.cfg"
    PID_OF[haproxy]=$STARTED_PID
    URL[haproxy]="http://127.0.0.1:$port"
    wait_ready haproxy "${URL[haproxy]}$REQ_PATH" "$EXPECT_BODY" "$STARTED_PID" || die "haproxy failed to start"
fi

if wanted nginx; then
    free_port; port=$PORT
    servers=""
    for b in "${BACKENDS[@]}"; do servers+="        server ${b#http://};"$'\n'; done
    mkdir -p "$WORK/nginx-proxy.tmp"
    render "$TEMPLATES/nginx-proxy.conf.tmpl" "$WORK/nginx-proxy.conf" DIR="$WORK" NAME=nginx-proxy \
        PORT="$port" WORKERS="$NGINX_WORKERS" NGINX_SERVERS="${servers%$'\n'}"
    start nginx-proxy nginx -p "$WORK" -e "$WORK/nginx-proxy.error.log" -c "$WORK/nginx-proxy.conf"
    PID_OF[nginx]=$STARTED_PID
    URL[nginx]="http://127.0.0.1:$port"
    wait_ready nginx-proxy "${URL[nginx]}$REQ_PATH" "$EXPECT_BODY" "$STARTED_PID" || die "nginx proxy failed to start"
fi

if wanted fulcrum; then
    if [[ ! -f "$FULCRUM_JAR" ]]; then
        SKIPPED[fulcrum]="balancer jar not found at ${FULCRUM_JAR#"$ROOT"/}; build it with: mvn -B -q -pl balancer -am package -DskipTests"
        log "skipping fulcrum: ${SKIPPED[fulcrum]}"
    elif ! command -v java >/dev/null 2>&1; then
        SKIPPED[fulcrum]="java not found on PATH (Java 17 or newer is needed)"
        log "skipping fulcrum: ${SKIPPED[fulcrum]}"
    else
        free_port; port=$PORT
        free_port; admin=$PORT
        entries=""
        for i in "${!BACKENDS[@]}"; do
            entries+="  - { id: b$((i + 1)), url: \"${BACKENDS[$i]}\", region: local }"$'\n'
        done
        render "$TEMPLATES/fulcrum.yaml.tmpl" "$WORK/fulcrum.yaml" PORT="$port" ADMIN_PORT="$admin" \
            POLICY="$FULCRUM_POLICY" HEALTH_PATH="$HEALTH_PATH" FULCRUM_BACKENDS="${entries%$'\n'}"
        # shellcheck disable=SC2086
        start fulcrum java $FULCRUM_JVM_OPTS -jar "$FULCRUM_JAR" --config "$WORK/fulcrum.yaml"
        PID_OF[fulcrum]=$STARTED_PID
        URL[fulcrum]="http://127.0.0.1:$port"
        # Ready means a request through the traffic port reaches a backend;
        # the admin port's /ready (a backend is routable) is checked too.
        wait_ready fulcrum "${URL[fulcrum]}$REQ_PATH" "$EXPECT_BODY" "$STARTED_PID" || die "fulcrum does not proxy"
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$admin/ready")" == 200 ]] \
            || log "warning: fulcrum proxies but its admin /ready does not answer 200"
    fi
fi

ORDER=()
for t in direct fulcrum haproxy nginx; do
    wanted "$t" && [[ -n "${URL[$t]:-}" ]] && ORDER+=("$t")
done
(( ${#ORDER[@]} > 0 )) || die "nothing to benchmark"

# ---- measurement ------------------------------------------------------------
# Rounds are interleaved (each target once per round) so that a slow stretch on
# a shared machine hits every target alike instead of one of them.
run_wrk() {
    local target=$1 secs=$2 out=$3
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency "${URL[$target]}$REQ_PATH" >"$out" 2>&1 \
        || { log "wrk failed against $target:"; cat "$out" >&2; return 1; }
}

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
START_EPOCH=$(date +%s)

if (( WARMUP > 0 )); then
    for t in "${ORDER[@]}"; do
        log "warm-up: $t for ${WARMUP}s"
        run_wrk "$t" "$WARMUP" "$WORK/warmup-$t.txt"
    done
fi

for r in $(seq 1 "$RUNS"); do
    for t in "${ORDER[@]}"; do
        out="$WORK/run-$t-$r.txt"
        run_wrk "$t" "$DURATION" "$out"
        rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
        p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
        p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
        errs=$(awk '/Non-2xx or 3xx responses:/ { e += $NF }
                    /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
                    END { print e + 0 }' "$out")
        rss=""
        [[ -n "${PID_OF[$t]:-}" ]] && rss=$(rss_kib "${PID_OF[$t]}")
        echo "$rps $p50 $p99 $errs ${rss:--}" >>"$WORK/results-$t.txt"
        log "round $r/$RUNS $t: ${rps} req/s, p50 ${p50} ms, p99 ${p99} ms, errors ${errs}, rss ${rss:-?} KiB"
    done
done
ELAPSED=$(( $(date +%s) - START_EPOCH ))
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -----------------------------------------------------------------
fmt_rps() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%d\n", x + 0.5 }' | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
fmt_ms()  { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else if (x < 10) printf "%.2f ms\n", x; else printf "%.1f ms\n", x }'; }
fmt_mib() { awk -v x="$1" 'BEGIN { if (x == "" || x == "-") print "-"; else printf "%.1f MiB\n", x / 1024 }'; }

describe() {
    case "$1" in
        direct)  echo "direct to one backend (baseline)" ;;
        fulcrum) echo "Fulcrum" ;;
        haproxy) echo "HAProxy" ;;
        nginx)   echo "nginx" ;;
    esac
}

TABLE="| target | requests/s (median) | requests/s (min–max) | p50 | p99 | RSS | errors |
|---|---:|---:|---:|---:|---:|---:|"
for t in direct fulcrum haproxy nginx; do
    wanted "$t" || continue
    if [[ -n "${SKIPPED[$t]:-}" ]]; then
        TABLE+=$'\n'"| $(describe "$t") | skipped | | | | | |"
        continue
    fi
    f="$WORK/results-$t.txt"
    [[ -f "$f" ]] || continue
    rps=$(awk '{ print $1 }' "$f" | median)
    lo=$(awk 'NR == 1 || $1 < m { m = $1 } END { print m }' "$f")
    hi=$(awk 'NR == 1 || $1 > m { m = $1 } END { print m }' "$f")
    p50=$(awk '{ print $2 }' "$f" | median)
    p99=$(awk '{ print $3 }' "$f" | median)
    errs=$(awk '{ e += $4 } END { print e + 0 }' "$f")
    rss=$(awk '$5 != "-" { print $5 }' "$f" | median)
    TABLE+=$'\n'"| $(describe "$t") | $(fmt_rps "$rps") | $(fmt_rps "$lo")–$(fmt_rps "$hi") | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $(fmt_mib "$rss") | $errs |"
done

echo
echo "$TABLE"
for t in "${!SKIPPED[@]}"; do echo; echo "$(describe "$t") skipped: ${SKIPPED[$t]}"; done

(( WRITE_DOCS )) || exit 0

# ---- docs/benchmarks.md -----------------------------------------------------
DAY=$(date -u +%Y-%m-%d)
KEY="$DAY-$SCENARIO"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
V_WRK=$( (wrk -v 2>&1 || true) | head -n1 | awk '{ print $2 }')   # wrk -v exits 1
V_HAPROXY=$( (haproxy -v 2>/dev/null || true) | awk 'NR == 1 { print $3 }')
V_NGINX=$( (nginx -v 2>&1 || true) | awk -F/ 'NR == 1 { print $2 }')
V_JAVA=$( (java -version 2>&1 || true) | awk -F'"' 'NR == 1 { print $2 }')
V_FULCRUM=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "-")

if [[ "$SCENARIO" == static ]]; then
    BACKEND_TEXT="two nginx $V_NGINX instances (1 worker each) answering every request with \`200 hello\\n\`"
else
    BACKEND_TEXT="two Fulcrum post servers (\`backend-node.jar\`), reading one seeded post"
fi
[[ -n "$BACKEND_URLS" ]] && BACKEND_TEXT="already running backends ${BACKEND_URLS}"

SECTION="$WORK/section.md"
{
    echo "<!-- bench-run: $KEY -->"
    echo "### $DAY — $SCENARIO backends${LABEL:+ ($LABEL)}"
    echo
    echo "- Command: \`scripts/bench.sh${ARGS_SHOWN:+ $ARGS_SHOWN}\` (Fulcrum at commit \`$V_FULCRUM\`)"
    echo "- Machine: $(nproc) cores, $CPU, $MEM RAM, Linux $(uname -r); load average $LOADAVG at start, $LOADAVG_END at end"
    echo "- Tools: wrk $V_WRK, HAProxy $V_HAPROXY, nginx $V_NGINX, Java $V_JAVA"
    echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` on \`GET $REQ_PATH\`, ${WARMUP}s warm-up per target, then medians of $RUNS interleaved runs (${ELAPSED}s measuring)"
    echo "- Backends: $BACKEND_TEXT"
    echo "- Proxies: HAProxy nbthread $HAPROXY_THREADS; nginx worker_processes $NGINX_WORKERS; Fulcrum with \`$FULCRUM_JVM_OPTS\`, policy $FULCRUM_POLICY"
    echo "- wrk, the proxy and the backends share the same $(nproc) cores, so every number here is lower than the proxy alone would reach."
    echo
    echo "$TABLE"
    for t in "${!SKIPPED[@]}"; do
        echo
        echo "$(describe "$t") was not measured: ${SKIPPED[$t]}."
    done
    echo "<!-- /bench-run: $KEY -->"
} >"$SECTION"

if [[ ! -f "$DOCS" ]]; then
    mkdir -p "$(dirname "$DOCS")"
    printf '# Benchmarks\n\nResults of `scripts/bench.sh`, newest last.\n\n## Results\n' >"$DOCS"
fi

# Replace the section of the same day and scenario, or append a new one.
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

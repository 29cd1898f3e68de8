#!/usr/bin/env bash
# Fulcrum TLS benchmark: Fulcrum, HAProxy and nginx terminating TLS on 127.0.0.1
# in front of the same cleartext nginx backend, side by side in one run.
#
# Rows (each against each proxy, interleaved, medians of --runs rounds):
#   h1-keepalive  HTTP/1.1 over TLS, wrk -t1, 64 keep-alive connections
#   h1-handshake  HTTP/1.1 over TLS with Connection: close: one full handshake per
#                 request (wrk does not resume sessions), so requests/s = handshakes/s
#   h2            HTTP/2 over TLS (ALPN h2), h2load -t1, 16 connections x 10 streams
# For each row and proxy: requests/s, the proxy's CPU time per request and its
# resident memory after the row. One thread or worker for every proxy, as in the
# cleartext matrix. The certificate is a fresh ECDSA P-256 one (--key rsa: RSA 2048).
#
# Everything listens on 127.0.0.1 on free ports; every process started is stopped
# on exit. Prints a markdown table; --docs appends it to docs/benchmarks.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATES="$ROOT/scripts/bench"
# shellcheck source=lib/proc-stats.sh
source "$ROOT/scripts/lib/proc-stats.sh"
RUNS=3
DURATION=8
WARMUP=10
KEY=ec
ROWS="h1-keepalive,h1-handshake,h2"
FULCRUM_JAR="$ROOT/balancer/target/balancer.jar"
FULCRUM_JVM_OPTS=${FULCRUM_JVM_OPTS:-"-Xms256m -Xmx512m -XX:+UseParallelGC"}
DOCS=""

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    cat <<EOF

Usage: scripts/bench-tls.sh [--runs N] [--duration S] [--warmup S] [--rows LIST]
                            [--key ec|rsa] [--fulcrum-jar PATH] [--jvm-opts OPTS] [--docs FILE]
Needs wrk, h2load (Debian: nghttp2-client), haproxy, nginx, openssl, curl.
EOF
}
die() { echo "bench-tls: $*" >&2; exit 1; }
log() { echo "bench-tls: $*" >&2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --duration) DURATION=${2%s}; shift 2 ;;
        --warmup) WARMUP=${2%s}; shift 2 ;;
        --rows) ROWS=$2; shift 2 ;;
        --key) KEY=$2; shift 2 ;;
        --fulcrum-jar) FULCRUM_JAR=$2; shift 2 ;;
        --jvm-opts) FULCRUM_JVM_OPTS=$2; shift 2 ;;
        --docs) DOCS=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
for tool in wrk h2load haproxy nginx openssl curl java; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (apt-get install wrk nghttp2-client haproxy nginx openssl curl)"
done
[[ -f "$FULCRUM_JAR" ]] || die "balancer jar not found: $FULCRUM_JAR (mvn -B -q package -DskipTests)"
IFS=',' read -r -a ROW_LIST <<<"$ROWS"
for r in "${ROW_LIST[@]}"; do
    case "$r" in h1-keepalive|h1-handshake|h2) ;; *) die "unknown row: $r" ;; esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fulcrum-bench-tls.XXXXXX")
chmod 755 "$WORK"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; pkill -KILL -P "$pid" 2>/dev/null || true; done
    [[ -n "${KEEP_WORK:-}" ]] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { local name=$1; shift; "$@" >"$WORK/$name.log" 2>&1 & STARTED_PID=$!; PIDS+=("$STARTED_PID"); }
declare -A TAKEN=()
free_port() {
    local used c
    used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
    for _ in $(seq 1 200); do
        c=$(( 20000 + RANDOM % 30000 ))
        [[ -n "${TAKEN[$c]:-}" ]] && continue
        grep -qx "$c" <<<"$used" && continue
        TAKEN[$c]=1; PORT=$c; return 0
    done
    die "no free port"
}
wait_ready() { # NAME URL PID
    local deadline=$(( $(date +%s) + 60 ))
    while (( $(date +%s) < deadline )); do
        kill -0 "$3" 2>/dev/null || { tail -20 "$WORK/$1.log" >&2; die "$1 exited"; }
        [[ "$(curl -ks --max-time 1 "$2" 2>/dev/null)" == hello ]] && return 0
        sleep 0.2
    done
    tail -20 "$WORK/$1.log" >&2
    die "$1 not ready at $2"
}
rss_mib() { echo $(( $(tree_sum "$1" status '/^VmRSS:/ { print $2 }') / 1024 )); }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- certificate ---------------------------------------------------------------
if [[ "$KEY" == ec ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
else
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
fi
cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/combined.pem"

# ---- backend: one nginx worker on 3 ports ----------------------------------------
listen=""
BACKENDS=()
for _ in 1 2 3; do free_port; listen+="        listen 127.0.0.1:$PORT reuseport;"$'\n'; BACKENDS+=("127.0.0.1:$PORT"); done
mkdir -p "$WORK/backend.tmp"
sed -e "s|@DIR@|$WORK|g" -e "s|@NAME@|backend|g" "$TEMPLATES/nginx-backend.conf.tmpl" \
    | awk -v l="${listen%$'\n'}" '{ gsub("@LISTEN@", l); print }' >"$WORK/backend.conf"
start backend nginx -p "$WORK" -e "$WORK/backend.error.log" -c "$WORK/backend.conf"
for b in "${BACKENDS[@]}"; do wait_ready backend "http://$b/" "$STARTED_PID"; done

# ---- proxies ---------------------------------------------------------------------
declare -A PID_OF URL NAME_OF
ORDER=(fulcrum haproxy nginx)
NAME_OF=([fulcrum]="Fulcrum" [haproxy]="HAProxy nbthread 1" [nginx]="nginx 1 worker")

free_port; fport=$PORT; free_port; fadmin=$PORT; free_port; ftls=$PORT
{
    echo "listen: { host: 127.0.0.1, port: $fport }"
    echo "admin:  { host: 127.0.0.1, port: $fadmin }"
    echo "region: local"
    echo "routing: { policy: round-robin }"
    echo "backends:"
    i=0; for b in "${BACKENDS[@]}"; do i=$((i + 1)); echo "  - { id: b$i, url: \"http://$b\", region: local }"; done
    echo "health: { path: /, interval: 2s, timeout: 1s, rise: 1, fall: 3 }"
    echo "access-log: \"off\""
    echo "tls: { listen: { host: 127.0.0.1, port: $ftls }, cert: $WORK/cert.pem, key: $WORK/key.pem }"
    echo "http2: { enabled: true }"
    echo "limits: { max-connections: 20000 }"
} >"$WORK/fulcrum.yaml"
# shellcheck disable=SC2086
start fulcrum java $FULCRUM_JVM_OPTS -jar "$FULCRUM_JAR" --config "$WORK/fulcrum.yaml"
PID_OF[fulcrum]=$STARTED_PID; URL[fulcrum]="https://127.0.0.1:$ftls/"

free_port; hport=$PORT
{
    echo "global"
    echo "    nbthread 1"
    echo "    maxconn 4096"
    echo "    tune.ssl.default-dh-param 2048"
    echo "    ssl-default-bind-options ssl-min-ver TLSv1.2"
    echo "defaults"
    echo "    mode http"
    echo "    option http-keep-alive"
    echo "    http-reuse always"
    echo "    timeout connect 1s"
    echo "    timeout client 60s"
    echo "    timeout server 30s"
    echo "frontend in"
    echo "    bind 127.0.0.1:$hport ssl crt $WORK/combined.pem alpn h2,http/1.1"
    echo "    default_backend out"
    echo "backend out"
    echo "    balance roundrobin"
    i=0; for b in "${BACKENDS[@]}"; do i=$((i + 1)); echo "    server b$i $b"; done
} >"$WORK/haproxy.cfg"
haproxy -c -q -f "$WORK/haproxy.cfg" || die "haproxy rejected its config"
start haproxy haproxy -db -f "$WORK/haproxy.cfg"
PID_OF[haproxy]=$STARTED_PID; URL[haproxy]="https://127.0.0.1:$hport/"

free_port; nport=$PORT
mkdir -p "$WORK/proxy.tmp"
servers=""; for b in "${BACKENDS[@]}"; do servers+="        server $b;"$'\n'; done
cat >"$WORK/proxy.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/proxy.pid;
error_log $WORK/proxy.error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/proxy.tmp/body;
    proxy_temp_path $WORK/proxy.tmp/proxy;
    fastcgi_temp_path $WORK/proxy.tmp/fastcgi;
    uwsgi_temp_path $WORK/proxy.tmp/uwsgi;
    scgi_temp_path $WORK/proxy.tmp/scgi;
    keepalive_requests 1000000;
    http2_max_requests 1000000;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    upstream out {
${servers%$'\n'}
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$nport ssl http2 reuseport;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        location / {
            proxy_pass http://out;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
start nginx nginx -p "$WORK" -e "$WORK/proxy.error.log" -c "$WORK/proxy.conf"
PID_OF[nginx]=$STARTED_PID; URL[nginx]="https://127.0.0.1:$nport/"

for t in "${ORDER[@]}"; do wait_ready "$t" "${URL[$t]}" "${PID_OF[$t]}"; done
for t in "${ORDER[@]}"; do
    proto=$(curl -ks --http2 -o /dev/null -w '%{http_version}' "${URL[$t]}")
    [[ "$proto" == 2 ]] || die "$t does not negotiate h2 (got HTTP/$proto)"
done
log "fulcrum: java $FULCRUM_JVM_OPTS; TLS engine: $(grep -o 'TLS engine[^,]*' "$WORK/fulcrum.log" | head -1 || true)"

# ---- measurement -------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
# run ROW TARGET SECONDS: prints "requests/s errors"
run_load() {
    local row=$1 url=$2 secs=$3 out
    case "$row" in
        h1-keepalive)
            out=$(wrk -t1 -c64 -d"${secs}s" "$url" 2>&1)
            awk '/^Requests\/sec/ { r = $2 } /Non-2xx|Socket errors/ { e = e " " $0 } END { printf "%s %s\n", r, (e == "" ? "-" : "errors") }' <<<"$out" ;;
        h1-handshake)
            out=$(wrk -t1 -c64 -d"${secs}s" -H 'Connection: close' "$url" 2>&1)
            awk '/^Requests\/sec/ { r = $2 } /Non-2xx/ { e = "errors" } END { printf "%s %s\n", r, (e == "" ? "-" : e) }' <<<"$out" ;;
        h2)
            out=$(h2load -t1 -c16 -m10 -D "$secs" "$url" 2>&1)
            awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i) ~ /req\/s/) { r = $(i - 1) } }
                 /^requests:/ { if ($10 != 0 || $12 != 0) e = "errors" }
                 END { printf "%s %s\n", r, (e == "" ? "-" : e) }' <<<"$out" ;;
    esac
}

if (( WARMUP > 0 )); then
    for t in "${ORDER[@]}"; do
        log "warm-up $t (${WARMUP}s)"
        for row in "${ROW_LIST[@]}"; do run_load "$row" "${URL[$t]}" $(( (WARMUP + ${#ROW_LIST[@]} - 1) / ${#ROW_LIST[@]} )) >/dev/null; done
    done
fi

declare -A RPS CPU RSS ERR
for round in $(seq 1 "$RUNS"); do
    for row in "${ROW_LIST[@]}"; do
        for t in "${ORDER[@]}"; do
            c0=$(cpu_ticks "${PID_OF[$t]}")
            read -r rps err < <(run_load "$row" "${URL[$t]}" "$DURATION")
            c1=$(cpu_ticks "${PID_OF[$t]}")
            us=$(awk -v c=$(( c1 - c0 )) -v hz="$CLK_TCK" -v r="$rps" -v d="$DURATION" 'BEGIN { printf "%.1f", (r > 0 ? c / hz * 1e6 / (r * d) : 0) }')
            RPS[$row/$t]+="$rps "; CPU[$row/$t]+="$us "; RSS[$row/$t]=$(rss_mib "${PID_OF[$t]}")
            [[ "$err" != "-" ]] && ERR[$row/$t]=errors
            log "round $round $row $t: $rps req/s, $us us CPU/req ${ERR[$row/$t]:-}"
        done
    done
done

# ---- report --------------------------------------------------------------------------
table=$(
    echo "| row | proxy | req/s (median) | CPU µs/req | RSS MiB | vs best peer |"
    echo "|---|---|---|---|---|---|"
    for row in "${ROW_LIST[@]}"; do
        best=0
        for t in haproxy nginx; do
            m=$(tr ' ' '\n' <<<"${RPS[$row/$t]}" | grep . | median)
            best=$(awk -v a="$best" -v b="$m" 'BEGIN { print (b > a ? b : a) }')
        done
        for t in "${ORDER[@]}"; do
            m=$(tr ' ' '\n' <<<"${RPS[$row/$t]}" | grep . | median)
            c=$(tr ' ' '\n' <<<"${CPU[$row/$t]}" | grep . | median)
            ratio="-"
            [[ "$t" == fulcrum ]] && ratio=$(awk -v a="$m" -v b="$best" 'BEGIN { printf "%.2f×", (b > 0 ? a / b : 0) }')
            printf '| %s | %s | %.0f | %s | %s | %s%s |\n' "$row" "${NAME_OF[$t]}" "$m" "$c" "${RSS[$row/$t]}" "$ratio" \
                "$([[ -n "${ERR[$row/$t]:-}" ]] && echo ' (errors)')"
        done
    done
)
header="### TLS run $(date -u +%Y-%m-%dT%H:%MZ): $RUNS rounds × ${DURATION}s, $KEY key, $(nproc) cores"
echo "$header"
echo
echo "$table"
if [[ -n "$DOCS" ]]; then
    {
        echo
        echo "$header"
        echo
        echo "Command: \`scripts/bench-tls.sh --runs $RUNS --duration $DURATION --key $KEY\`; Fulcrum \`$FULCRUM_JVM_OPTS\`."
        echo
        echo "$table"
    } >>"$DOCS"
    log "appended to $DOCS"
fi

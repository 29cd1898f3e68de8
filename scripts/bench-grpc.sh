#!/usr/bin/env bash
# Unary gRPC through Fulcrum (protocol: h2c), HAProxy (mode http, proto h2 on both sides) and nginx
# (grpc_pass) in front of the same three grpc-java servers: one client channel (ONE HTTP/2
# connection) with --concurrency calls in flight, the proxies taking turns round after round.
# Prints, per round and proxy: calls/s, p50 and p99, failed calls, the proxy's CPU per call (from
# /proc/PID/stat, its process and children) and each backend's share of the calls, which shows
# whether the proxy balances the streams of one client connection or pins them
# (docs/benchmarks.md, "gRPC").
#
# Usage: scripts/bench-grpc.sh [--rounds 3] [--seconds 8] [--warmup 2] [--jit-warmup 15]
#                              [--concurrency 32] [--proxies fulcrum,haproxy,nginx] [--out DIR] [--install]
#   --install    apt-get install haproxy and nginx-light when missing
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR="$ROOT/balancer/target/balancer.jar"
OUT=""
INSTALL=0
ARGS=()

while (( $# )); do
    case "$1" in
        --rounds|--seconds|--warmup|--jit-warmup|--concurrency|--proxies) ARGS+=("$1" "$2"); shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --install) INSTALL=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=lib/bench-needs.sh
source "$ROOT/scripts/lib/bench-needs.sh"
need_proxies "$INSTALL"
need_jar "$ROOT" "$JAR"
WORK=$(mktemp -d /tmp/bench-grpc.XXXXXX)
OUT=${OUT:-$WORK/results}
# grpc-java and grpc-testing-proto come with the balancer's test classpath.
(cd "$ROOT" && mvn -B -o -q -pl balancer dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$WORK/classpath.txt" >/dev/null)
CP=$(cat "$WORK/classpath.txt")
mkdir -p "$WORK/classes"
javac -nowarn -d "$WORK/classes" -cp "$CP" "$ROOT"/scripts/bench/grpc/GrpcBench.java \
    "$ROOT"/scripts/bench/balance/Proxies.java

echo "machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg); Fulcrum at $(git -C "$ROOT" rev-parse --short HEAD);" \
     "$(haproxy -v | head -1 | cut -d' ' -f1-3); $(nginx -v 2>&1 | cut -d' ' -f3); $(date -u '+%Y-%m-%d %H:%M UTC')"
java -cp "$WORK/classes:$CP" GrpcBench --jar "$JAR" --out "$OUT" ${ARGS[@]+"${ARGS[@]}"}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results: $OUT/results.md, $OUT/results.csv"

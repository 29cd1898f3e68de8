#!/usr/bin/env bash
# Balancing quality: Fulcrum (least-busy), HAProxy (balance leastconn) and nginx (least_conn) in
# front of simulated backends on 127.0.0.1, under an open-loop Poisson load at 70 % and 90 % of the
# pool's capacity, every latency counted from its scheduled send time. Scenarios: equal backends;
# one 3x slower; one 10x slower for the middle third; one freezing 250 ms every 2 s; one answering
# 30 % with an immediate 503 (without and with retries); one restarted cold; half the pool slower
# for the middle third; and tower's experiment (10 endpoints up to 1, 5, 10, 100, 1000 ms, 50
# concurrent). The three balancers run at once, each with its own copy of the backends and its own
# load, so the machine's other work weighs on each alike. Prints, per scenario, load and balancer:
# p50, p99, p99.9, failures and each backend's share, and whether Fulcrum meets the bar
# (docs/benchmarks.md, "Balancing quality").
#
# Usage: scripts/bench-balance.sh [--quick] [--duration S] [--warmup S] [--scenarios a,b]
#                                 [--utils 0.7,0.9] [--out DIR] [--install]
#   --quick      8 s runs, 4 s warm-up (about 4 minutes); default 25 s runs, 8 s warm-up (about 10 minutes)
#   --install    apt-get install haproxy and nginx-light when missing
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR="$ROOT/balancer/target/balancer.jar"
HDR_VERSION=2.2.2
HDR="$HOME/.m2/repository/org/hdrhistogram/HdrHistogram/$HDR_VERSION/HdrHistogram-$HDR_VERSION.jar"
DURATION=25
WARMUP=8
OUT=""
INSTALL=0
EXTRA=()

while (( $# )); do
    case "$1" in
        --quick) DURATION=8; WARMUP=4; shift ;;
        --duration) DURATION=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --install) INSTALL=1; shift ;;
        --scenarios|--utils|--proxies|--workers|--mean-ms) EXTRA+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=lib/bench-needs.sh
source "$ROOT/scripts/lib/bench-needs.sh"
need_proxies "$INSTALL"
need_jar "$ROOT" "$JAR"
if [[ ! -f "$HDR" ]]; then
    mvn -B -q dependency:get -Dartifact="org.hdrhistogram:HdrHistogram:$HDR_VERSION" >/dev/null
fi

WORK=$(mktemp -d /tmp/bench-balance.XXXXXX)
OUT=${OUT:-$WORK/results}
trap 'rm -rf "$WORK/classes"' EXIT
mkdir -p "$WORK/classes"
CP="$JAR:$HDR"
javac -nowarn -d "$WORK/classes" -cp "$CP" "$ROOT"/scripts/bench/balance/*.java

echo "machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg); Fulcrum at $(git -C "$ROOT" rev-parse --short HEAD);" \
     "$(haproxy -v | head -1 | cut -d' ' -f1-3); $(nginx -v 2>&1 | cut -d' ' -f3); $(date -u '+%Y-%m-%d %H:%M UTC')"
java -cp "$WORK/classes:$CP" BalanceBench --jar "$JAR" --out "$OUT" --duration "$DURATION" --warmup "$WARMUP" \
    ${EXTRA[@]+"${EXTRA[@]}"}
echo "results: $OUT/results.md, $OUT/results.csv"

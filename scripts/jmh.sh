#!/usr/bin/env bash
# Runs the JMH benchmarks of the balancer module (balancer/src/test/java/io/fulcrum/balancer/bench).
#
#   scripts/jmh.sh                      # the routing selection benchmark, modest settings, with -prof gc
#   scripts/jmh.sh SelectionBenchmark -p backends=30 -f1 -wi 3 -i 5 -w 1s -r 1s
#
# Any arguments are passed to org.openjdk.jmh.Main as they are (see `scripts/jmh.sh -h`).
# Needs a Maven repository that already holds the build's dependencies (runs offline).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

classpath_file="$(mktemp)"
trap 'rm -f "$classpath_file"' EXIT

mvn -q -o -pl balancer -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$classpath_file" -Dmdep.includeScope=test

classpath="balancer/target/test-classes:balancer/target/classes:$(cat "$classpath_file")"

if [ "$#" -eq 0 ]; then
    set -- SelectionBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
fi
exec java -cp "$classpath" org.openjdk.jmh.Main "$@"

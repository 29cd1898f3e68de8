# shellcheck shell=bash
# Shared by scripts/bench.sh and scripts/bench-tls.sh: what a process and everything it started
# costs, read from /proc (nginx runs a master and workers, HAProxy and the JVMs many threads).
# Sourced, never run.

# The pids of every descendant of a process, children before their own children.
descendants() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null || true); do
        echo "$child"
        descendants "$child"
    done
}

# tree_sum PID FILE AWK: the sum over the process and its descendants of what the awk program
# prints from /proc/<pid>/FILE; a process gone meanwhile counts 0.
tree_sum() {
    local pid=$1 file=$2 prog=$3 total=0 p n
    for p in "$pid" $(descendants "$pid"); do
        n=$(awk "$prog" "/proc/$p/$file" 2>/dev/null || true)
        total=$(( total + ${n:-0} ))
    done
    echo "$total"
}

# Sum of VmRSS (KiB) over a process and its descendants; empty when the process is gone.
rss_kib() {
    kill -0 "$1" 2>/dev/null || return 0
    tree_sum "$1" status '/^VmRSS:/ { print $2 }'
}

# CPU time (utime + stime, in clock ticks) of a process and its descendants. The fields after the
# parenthesised command name are counted from there, since the name itself may hold spaces.
cpu_ticks() {
    tree_sum "$1" stat '{ sub(/^.*\) /, ""); print $12 + $13 }'
}

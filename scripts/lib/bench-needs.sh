# shellcheck shell=bash
# Shared by scripts/bench-balance.sh and scripts/bench-grpc.sh: what they need before they start
# (HAProxy and nginx on the PATH, the balancer's jar). Sourced, never run.

# need_proxies INSTALL: puts /usr/sbin on the PATH where haproxy or nginx is there; a missing one is
# installed (apt-get install -y haproxy nginx-light) when INSTALL is 1, else the script stops.
need_proxies() {
    local install=$1 tool
    for tool in haproxy nginx; do
        if ! command -v "$tool" >/dev/null && [[ -x /usr/sbin/$tool ]]; then
            export PATH="$PATH:/usr/sbin"
        fi
        if ! command -v "$tool" >/dev/null; then
            if (( install )); then
                apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx-light
            else
                echo "$tool is missing: run with --install (apt-get install -y haproxy nginx-light)" >&2
                exit 1
            fi
        fi
    done
}

# need_jar ROOT JAR: builds the balancer's jar (offline) when JAR is missing.
need_jar() {
    if [[ ! -f "$2" ]]; then
        (cd "$1" && mvn -B -o -q -pl balancer -am package -DskipTests)
    fi
}

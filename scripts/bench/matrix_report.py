#!/usr/bin/env python3
"""Summarises a `scripts/bench.sh --matrix` run and checks Fulcrum against the bar.

Reads the per-round results.csv that bench.sh writes, and prints markdown:

1. per load row and target: median requests/s (and the min-max over rounds),
   median p50 and p99, median CPU time per request, median RSS under load,
   and the errors summed over rounds;
2. per load row: Fulcrum against the best peer (the HAProxy or nginx variant
   with the most requests/s in that row), with the bar:
     requests/s  >= 1.0 x the best peer's,
     p99         <= 1.2 x the best peer's p99,
     CPU/request <= the lowest CPU/request of any peer in the row;
3. the idle-connections check, when bench.sh ran it.

Also writes summary.csv (one line per row and target, read by
scripts/bench-chart.py) and results.json (summary, bar and idle check).
Standard library only.
"""

import argparse
import csv
import json
import statistics
import sys

RPS_BAR = 1.0
P99_BAR = 1.2
CPU_BAR = 1.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--raw", required=True, help="results.csv from bench.sh")
    p.add_argument("--summary", required=True, help="summary.csv to write")
    p.add_argument("--json", required=True, help="results.json to write")
    p.add_argument("--idle", help="idle.txt from bench.sh (key=value lines)")
    p.add_argument("--skipped", action="append", default=[],
                   help="'target: reason' for a target that was not measured")
    return p.parse_args()


def num(x):
    """A CSV cell as a float; None for an empty or unmeasured one (also read by bench-chart.py)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def loads_in_order(rows):
    """The load rows ('16', '64 close', ...) in the order bench.sh measured them."""
    loads = []
    for r in rows:
        if r["load"] not in loads:
            loads.append(r["load"])
    return loads


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_rps(x):
    return "-" if x is None else f"{x:,.0f}"


def fmt_ms(x):
    if x is None:
        return "-"
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms"


def fmt_us(x):
    return "-" if x is None else f"{x:.1f} µs"


def fmt_mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f} MiB"


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}×"


def summarise(raw_rows):
    groups = {}
    order = []
    for r in raw_rows:
        key = (r["load"], r["target"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    summary = []
    for key in order:
        rows = groups[key]
        rps = [num(r["rps"]) for r in rows]
        first = rows[0]
        summary.append({
            "load": first["load"],
            "connections": int(first["connections"]),
            "close": int(first["close"]),
            "target": first["target"],
            "kind": first["kind"],
            "name": first["name"],
            "rounds": len(rows),
            "rps": med(rps),
            "rps_min": min((v for v in rps if v is not None), default=None),
            "rps_max": max((v for v in rps if v is not None), default=None),
            "p50_ms": med(num(r["p50_ms"]) for r in rows),
            "p99_ms": med(num(r["p99_ms"]) for r in rows),
            "cpu_us_per_req": med(num(r["cpu_us_per_req"]) for r in rows),
            "rss_kib": med(num(r["rss_kib"]) for r in rows),
            "errors": sum(int(num(r["errors"]) or 0) for r in rows),
        })
    return summary


def bar(summary):
    """One verdict per load row that has Fulcrum and at least one peer."""
    verdicts = []
    for load in loads_in_order(summary):
        row = [s for s in summary if s["load"] == load]
        fulcrum = next((s for s in row if s["kind"] == "fulcrum"), None)
        peers = [s for s in row if s["kind"] in ("haproxy", "nginx") and s["rps"] is not None]
        if fulcrum is None or fulcrum["rps"] is None or not peers:
            continue
        best = max(peers, key=lambda s: s["rps"])
        cpu_peers = [s for s in peers if s["cpu_us_per_req"] is not None]
        leanest = min(cpu_peers, key=lambda s: s["cpu_us_per_req"]) if cpu_peers else None
        rps_ratio = fulcrum["rps"] / best["rps"] if best["rps"] else None
        p99_ratio = (fulcrum["p99_ms"] / best["p99_ms"]
                     if fulcrum["p99_ms"] is not None and best["p99_ms"] else None)
        cpu_ratio = (fulcrum["cpu_us_per_req"] / leanest["cpu_us_per_req"]
                     if leanest and fulcrum["cpu_us_per_req"] is not None
                     and leanest["cpu_us_per_req"] else None)
        checks = {
            "rps": rps_ratio is not None and rps_ratio >= RPS_BAR,
            "p99": p99_ratio is not None and p99_ratio <= P99_BAR,
            "cpu": cpu_ratio is not None and cpu_ratio <= CPU_BAR,
        }
        verdicts.append({
            "load": load,
            "best_peer": best["name"],
            "best_peer_rps": best["rps"],
            "best_peer_p99_ms": best["p99_ms"],
            "leanest_peer": leanest["name"] if leanest else None,
            "leanest_peer_cpu_us_per_req": leanest["cpu_us_per_req"] if leanest else None,
            "fulcrum_rps": fulcrum["rps"],
            "fulcrum_p99_ms": fulcrum["p99_ms"],
            "fulcrum_cpu_us_per_req": fulcrum["cpu_us_per_req"],
            "rps_ratio": rps_ratio,
            "p99_ratio": p99_ratio,
            "cpu_ratio": cpu_ratio,
            "checks": checks,
            "pass": all(checks.values()),
        })
    return verdicts


def read_idle(path):
    """idle.txt: key=value lines whose values may hold more key=value pairs."""
    idle = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            head, _, rest = line.partition("=")
            if head in ("open_line", "close_line", "error"):
                idle[head] = rest
                if head != "error":
                    for kv in rest.split():
                        k, _, v = kv.partition("=")
                        idle[f"{head[:-5]}_{k}"] = v
            else:
                for kv in line.split():
                    k, _, v = kv.partition("=")
                    idle[k] = v
    return idle


def idle_markdown(idle):
    n = idle.get("idle_conns", "?")
    if "error" in idle:
        return [f"**Idle connections** ({n}): not measured: {idle['error']}."]
    held = idle.get("open_opened", "?")
    failed = idle.get("open_failed", "?")
    secs = idle.get("open_seconds", "?")
    still = idle.get("close_still_open", "?")
    answered = idle.get("with_answered", "?")
    ok = (held == str(n) and still == str(n) and answered == "20/20")

    def f(x):
        v = num(x)
        return "-" if v is None else f"{v:.2f} ms"

    def m(x):
        v = num(x)
        return "-" if v is None else f"{v / 1024:.1f} MiB"

    return [
        f"**Idle connections**: {held} of {n} keep-alive connections opened, each used for one"
        f" request and then left idle ({failed} failed, {secs} s to open); {still} were still open"
        f" after the probes.",
        "",
        "| Fulcrum | requests answered | latency (median) | latency (max) | RSS |",
        "|---|---:|---:|---:|---:|",
        f"| without idle connections | {idle.get('before_answered', '-')} | {f(idle.get('before_p50_ms'))}"
        f" | {f(idle.get('before_max_ms'))} | {m(idle.get('before_rss_kib'))} |",
        f"| with {n} idle connections | {answered} | {f(idle.get('with_p50_ms'))}"
        f" | {f(idle.get('with_max_ms'))} | {m(idle.get('with_rss_kib'))} |",
        "",
        f"Idle check: **{'pass' if ok else 'fail'}** (every connection held, every probe answered).",
    ]


def main():
    args = parse_args()
    with open(args.raw, newline="") as f:
        raw_rows = list(csv.DictReader(f))
    summary = summarise(raw_rows)
    verdicts = bar(summary)
    idle = read_idle(args.idle) if args.idle else None

    fields = ["load", "connections", "close", "target", "kind", "name", "rounds", "rps",
              "rps_min", "rps_max", "p50_ms", "p99_ms", "cpu_us_per_req", "rss_kib", "errors"]
    with open(args.summary, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for s in summary:
            w.writerow({k: ("" if s[k] is None else s[k]) for k in fields})
    with open(args.json, "w") as f:
        json.dump({"summary": summary, "bar": verdicts, "idle": idle,
                   "skipped": args.skipped,
                   "bar_definition": {"rps_ratio_min": RPS_BAR, "p99_ratio_max": P99_BAR,
                                      "cpu_ratio_max": CPU_BAR}}, f, indent=2)

    out = ["| load (connections) | target | requests/s (median) | requests/s (min–max) | p50 | p99"
           " | CPU/request | RSS under load | errors |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary:
        name = f"**{s['name']}**" if s["kind"] == "fulcrum" else s["name"]
        out.append(f"| {s['load']} | {name} | {fmt_rps(s['rps'])}"
                   f" | {fmt_rps(s['rps_min'])}–{fmt_rps(s['rps_max'])} | {fmt_ms(s['p50_ms'])}"
                   f" | {fmt_ms(s['p99_ms'])} | {fmt_us(s['cpu_us_per_req'])} | {fmt_mib(s['rss_kib'])}"
                   f" | {s['errors']} |")
    for reason in args.skipped:
        out += ["", f"Not measured: {reason}."]

    if verdicts:
        out += ["",
                f"Fulcrum against the best peer of each row (the bar: requests/s ≥ {RPS_BAR:.1f}×,"
                f" p99 ≤ {P99_BAR:.1f}× the best peer's, CPU/request ≤ the leanest peer's):",
                "",
                "| load | best peer | Fulcrum req/s ÷ best | Fulcrum p99 ÷ best's p99"
                " | leanest peer | Fulcrum CPU/req ÷ leanest | bar |",
                "|---|---|---:|---:|---|---:|---|"]
        for v in verdicts:
            c = v["checks"]
            failed = [k for k in ("rps", "p99", "cpu") if not c[k]]
            verdict = "pass" if v["pass"] else "fail (" + ", ".join(
                {"rps": "req/s", "p99": "p99", "cpu": "CPU"}[k] for k in failed) + ")"
            out.append(f"| {v['load']} | {v['best_peer']} | {fmt_ratio(v['rps_ratio'])}"
                       f" | {fmt_ratio(v['p99_ratio'])} | {v['leanest_peer'] or '-'}"
                       f" | {fmt_ratio(v['cpu_ratio'])} | {verdict} |")
        passed = sum(v["pass"] for v in verdicts)
        out += ["", f"Bar met in {passed} of {len(verdicts)} rows."]
    if idle:
        out += [""] + idle_markdown(idle)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

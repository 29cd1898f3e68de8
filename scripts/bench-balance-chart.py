#!/usr/bin/env python3
"""Draws the chart of `scripts/bench-balance.sh` as SVG.

Reads results.csv from a run and draws two panels, p99 and p99.9 latency, with
one group of bars per scenario and load (Fulcrum, HAProxy leastconn, nginx
least_conn), on a logarithmic scale; a cross marks Fulcrum's bar in the
groups where it misses the bar of docs/benchmarks.md (verdicts are read from
results.md when it lies beside the CSV).

    scripts/bench-balance-chart.py /tmp/bench-balance.X/results/results.csv -o docs/bench-balance.svg

Standard library only.
"""

import argparse
import csv
import math
import os

COLORS = {"fulcrum": "#1f6feb", "haproxy": "#d29922", "nginx": "#3fb950"}


def verdicts(md_path):
    out = {}
    if not os.path.exists(md_path):
        return out
    for line in open(md_path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[2] == "fulcrum":
            out[(cells[0], cells[1].split(" ")[0])] = cells[9]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("-o", "--out", default="bench-balance.svg")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.csv)))
    groups = []
    for r in rows:
        key = (r["scenario"], r["util"])
        if key not in groups:
            groups.append(key)
    verdict = verdicts(os.path.join(os.path.dirname(args.csv), "results.md"))
    proxies = ["fulcrum", "haproxy", "nginx"]
    bar, gap, left, top, panel_h = 9, 14, 60, 40, 220
    width = left + len(groups) * (len(proxies) * bar + gap) + 20
    height = top + 2 * (panel_h + 90)
    values = [float(r[m]) for r in rows for m in ("p99", "p999") if r[m] not in ("NaN", "")]
    lo, hi = 10.0, max(values) * 1.2
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="10">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>']
    for p, metric in enumerate(("p99", "p999")):
        y0 = top + p * (panel_h + 90)
        svg.append('<text x="%d" y="%d" font-size="13">%s latency (ms, log scale), lower is better</text>'
                   % (left, y0 - 12, "p99" if metric == "p99" else "p99.9"))

        def ypos(v):
            return y0 + panel_h - panel_h * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        for tick in (10, 30, 100, 300, 1000, 3000, 10000):
            if tick <= hi:
                y = ypos(tick)
                svg.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, width - 10, y, y))
                svg.append('<text x="%d" y="%.1f" text-anchor="end">%d</text>' % (left - 4, y + 3, tick))
        for g, (scenario, util) in enumerate(groups):
            x = left + g * (len(proxies) * bar + gap)
            for i, proxy in enumerate(proxies):
                match = [r for r in rows if (r["scenario"], r["util"], r["proxy"]) == (scenario, util, proxy)]
                if not match or match[0][metric] in ("NaN", ""):
                    continue
                v = float(match[0][metric])
                y = ypos(v)
                svg.append('<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s %s: %.1f ms'
                           '</title></rect>' % (x + i * bar, y, bar - 1, y0 + panel_h - y, COLORS[proxy], scenario,
                                                 util, proxy, v))
            load = "c50" if util == "c50" else "%d%%" % round(float(util) * 100)
            v = verdict.get((scenario, load if load != "c50" else "50"), "")
            if v and v != "meets":
                svg.append('<text x="%d" y="%d" fill="#cf222e" font-size="12">x</text>' % (x + 1, y0 + panel_h + 12))
            svg.append('<text transform="translate(%d,%d) rotate(60)">%s %s</text>'
                       % (x + 4, y0 + panel_h + 18, scenario, load))
    lx = left
    for proxy in proxies:
        svg.append('<rect x="%d" y="8" width="10" height="10" fill="%s"/><text x="%d" y="17">%s</text>'
                   % (lx, COLORS[proxy], lx + 14, proxy))
        lx += 80
    svg.append('<text x="%d" y="17" fill="#cf222e">x: Fulcrum misses the bar there</text>' % lx)
    svg.append("</svg>")
    open(args.out, "w").write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()

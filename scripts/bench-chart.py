#!/usr/bin/env python3
"""Draws the load-matrix chart of `scripts/bench.sh --matrix` as SVG.

Reads summary.csv from a matrix run folder and writes two panels, requests/s
and p99 latency, with one group of bars per load row (16, 64, 256 connections,
...) and in each group Fulcrum first, then each HAProxy and nginx variant and
the direct baseline. Under each requests/s group: Fulcrum's ratio to the best
peer of that row.

    scripts/bench-chart.py target/bench/<run>/summary.csv -o docs/bench-matrix.svg

Standard library only, so it runs wherever bench.sh runs; view the SVG in a
browser, or turn it into a PNG with `rsvg-convert -o chart.png chart.svg`.
"""

import argparse
import csv
import math
import os
import sys
from xml.sax.saxutils import escape

# summary.csv is matrix_report.py's: read its cells the way it writes them, and leave no
# __pycache__ beside it.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
from matrix_report import loads_in_order, num  # noqa: E402

# Fulcrum stands out; each peer family shares a hue, darker for more threads.
COLOURS = {
    "fulcrum": ["#d7301f"],
    "haproxy": ["#9ecae1", "#4292c6", "#08519c", "#08306b"],
    "nginx": ["#a1d99b", "#41ab5d", "#006d2c", "#00441b"],
    "direct": ["#bdbdbd"],
}
KIND_ORDER = {"fulcrum": 0, "haproxy": 1, "nginx": 2, "direct": 3}

WIDTH = 980
PANEL_H = 270
TOP = 70
LEFT = 80
RIGHT = 20
GAP = 90
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("summary", help="summary.csv of a bench.sh --matrix run")
    p.add_argument("-o", "--output", default="docs/bench-matrix.svg")
    p.add_argument("--title", default="Fulcrum beside HAProxy and nginx")
    return p.parse_args()


def nice_max(v):
    """A round axis maximum at or above v, and a round tick step (about 5 ticks)."""
    if not v or v <= 0:
        return 1.0, 0.2
    raw = v / 5
    exp = 10 ** math.floor(math.log10(raw))
    step = next(m * exp for m in (1, 2, 2.5, 5, 10) if m * exp >= raw)
    return math.ceil(v / step - 1e-9) * step, step


def fmt_axis(v, unit):
    if unit == "req/s":
        return f"{v / 1000:g}k" if v >= 1000 else f"{v:g}"
    return f"{v:g}"


def fmt_value(v, unit):
    if v is None:
        return "-"
    if unit == "req/s":
        return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def load_label(load):
    """The group's caption lines: '64' -> 64 connections; '64 close' adds Connection: close."""
    conns, _, mode = load.partition(" ")
    return [f"{conns} connections"] + (["Connection: close"] if mode == "close" else [])


def main():
    args = parse_args()
    with open(args.summary, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("bench-chart: no rows in " + args.summary, file=sys.stderr)
        return 1

    loads = loads_in_order(rows)
    targets = []
    for r in sorted(rows, key=lambda r: (KIND_ORDER.get(r["kind"], 9), r["target"])):
        if (r["target"], r["kind"], r["name"]) not in targets:
            targets.append((r["target"], r["kind"], r["name"]))
    colour = {}
    used = {}
    for t, kind, _ in targets:
        palette = COLOURS.get(kind, ["#969696"])
        i = used.get(kind, 0)
        colour[t] = palette[min(i, len(palette) - 1)]
        used[kind] = i + 1
    value = {(r["load"], r["target"]): r for r in rows}

    plot_w = WIDTH - LEFT - RIGHT
    group_w = plot_w / len(loads)
    bar_w = min(28.0, group_w * 0.8 / max(1, len(targets)))
    legend_rows = math.ceil(len(targets) / 4)
    height = TOP + 2 * PANEL_H + GAP + 60 + 22 * legend_rows

    svg = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}'"
           f" viewBox='0 0 {WIDTH} {height}' {FONT} font-size='12'>",
           f"<rect width='{WIDTH}' height='{height}' fill='white'/>",
           f"<text x='{WIDTH / 2}' y='24' text-anchor='middle' font-size='16' font-weight='bold'>"
           f"{escape(args.title)}</text>"]

    # Legend under the title.
    for i, (t, _, name) in enumerate(targets):
        x = LEFT + (i % 4) * (plot_w / 4)
        y = 40 + 20 * (i // 4)
        svg.append(f"<rect x='{x:.1f}' y='{y}' width='14' height='14' fill='{colour[t]}'/>")
        weight = " font-weight='bold'" if t == "fulcrum" else ""
        svg.append(f"<text x='{x + 20:.1f}' y='{y + 12}'{weight}>{escape(name)}</text>")
    top0 = TOP + 22 * (legend_rows - 1) + 10

    panels = [("rps", "requests/s (median, higher is better)", "req/s"),
              ("p99_ms", "p99 latency in ms (median, lower is better)", "ms")]
    for p, (field, label, unit) in enumerate(panels):
        y0 = top0 + p * (PANEL_H + GAP)
        vmax = max((num(r[field]) or 0) for r in rows)
        top, step = nice_max(vmax * 1.08)
        scale = (PANEL_H - 20) / top
        base = y0 + PANEL_H
        svg.append(f"<text x='{LEFT}' y='{y0 - 6}' font-size='13' font-weight='bold'>{escape(label)}</text>")
        k = 0
        while k * step <= top + 1e-9:
            v = k * step
            y = base - v * scale
            svg.append(f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}'"
                       f" stroke='{'#444' if k == 0 else '#e0e0e0'}' stroke-width='1'/>")
            svg.append(f"<text x='{LEFT - 6}' y='{y + 4:.1f}' text-anchor='end' fill='#444'>"
                       f"{fmt_axis(v, unit)}</text>")
            k += 1
        for g, load in enumerate(loads):
            gx = LEFT + g * group_w + (group_w - bar_w * len(targets)) / 2
            for i, (t, kind, name) in enumerate(targets):
                r = value.get((load, t))
                v = num(r[field]) if r else None
                x = gx + i * bar_w
                if v is None:
                    svg.append(f"<text x='{x + bar_w / 2:.1f}' y='{base - 4}' text-anchor='middle'"
                               f" font-size='10' fill='#888'>n/a</text>")
                    continue
                h = v * scale
                svg.append(f"<rect x='{x + 1:.1f}' y='{base - h:.1f}' width='{bar_w - 2:.1f}'"
                           f" height='{h:.1f}' fill='{colour[t]}'><title>{escape(name)}, {escape(load)}"
                           f" connections: {fmt_value(v, unit)} {unit}</title></rect>")
                svg.append(f"<text x='{x + bar_w / 2:.1f}' y='{base - h - 4:.1f}' text-anchor='middle'"
                           f" font-size='9' fill='#333'"
                           f"{' font-weight=' + chr(39) + 'bold' + chr(39) if kind == 'fulcrum' else ''}>"
                           f"{fmt_value(v, unit)}</text>")
            cx = LEFT + g * group_w + group_w / 2
            for j, line in enumerate(load_label(load)):
                svg.append(f"<text x='{cx:.1f}' y='{base + 18 + 14 * j}' text-anchor='middle'"
                           f" font-size='13'>{escape(line)}</text>")
            # Fulcrum against the best peer (most requests/s) of the row.
            f = value.get((load, "fulcrum"))
            peers = [value[(load, t)] for t, kind, _ in targets
                     if kind in ("haproxy", "nginx") and (load, t) in value and num(value[(load, t)]["rps"])]
            if f and peers and num(f[field]):
                best = max(peers, key=lambda r: num(r["rps"]))
                if num(best[field]):
                    ratio = num(f[field]) / num(best[field])
                    svg.append(f"<text x='{cx:.1f}' y='{base + 48}' text-anchor='middle' font-size='11'"
                               f" fill='#d7301f'>Fulcrum {ratio:.2f}× {escape(best['name'])}</text>")
        svg.append(f"<line x1='{LEFT}' x2='{LEFT}' y1='{y0}' y2='{base}' stroke='#444'/>")

    svg.append("</svg>")
    with open(args.output, "w") as out:
        out.write("\n".join(svg) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

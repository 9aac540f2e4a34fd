"""SVG charts of a benchmark run, for BENCHMARKS.md (GitHub shows SVG images inline).

`make bench` writes them beside the results file (`latest-<chart>.svg`);
`python -m bench.charts bench/results/latest.json` redraws them from a results file.
Plain SVG text, no plotting library: the charts are a few bars each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bench.report import ok_scenarios
from bench.scenarios import STAGES

WIDTH = 760
LABEL_W = 300
BAR_H = 22
GAP = 10
TOP = 44
COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")


def _svg(height: int, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">',
            f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
            f'<text x="10" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
            *body,
            "</svg>",
            "",
        ]
    )


def bar_chart(title: str, unit: str, rows: list[tuple[str, dict[str, float]]]) -> str:
    """Horizontal bars: each row's median, with a whisker from its min to its max."""
    top = max((s["max"] for _, s in rows), default=1.0) or 1.0
    scale = (WIDTH - LABEL_W - 90) / top
    body = []
    for i, (label, s) in enumerate(rows):
        y = TOP + i * (BAR_H + GAP)
        mid = y + BAR_H / 2
        x0 = LABEL_W
        body += [
            f'<text x="{x0 - 8}" y="{mid + 4:.1f}" text-anchor="end">{escape(label)}</text>',
            f'<rect class="bar" x="{x0}" y="{y}" width="{s["median"] * scale:.1f}" '
            f'height="{BAR_H}" fill="{COLORS[i % len(COLORS)]}"/>',
            f'<line x1="{x0 + s["min"] * scale:.1f}" x2="{x0 + s["max"] * scale:.1f}" '
            f'y1="{mid:.1f}" y2="{mid:.1f}" stroke="black"/>',
            f'<text x="{x0 + s["max"] * scale + 6:.1f}" y="{mid + 4:.1f}">'
            f"{s['median']:.3g} {escape(unit)}</text>",
        ]
    return _svg(TOP + len(rows) * (BAR_H + GAP) + 10, title, body)


def stacked_chart(title: str, unit: str, bars: list[tuple[str, dict[str, float]]]) -> str:
    """Horizontal bars split into named segments (e.g. a run's stages), with a legend."""
    names = list(dict.fromkeys(name for _, parts in bars for name in parts))
    top = max((sum(parts.values()) for _, parts in bars), default=1.0) or 1.0
    scale = (WIDTH - LABEL_W - 90) / top
    body = []
    for i, (label, parts) in enumerate(bars):
        y = TOP + i * (BAR_H + GAP)
        x = float(LABEL_W)
        body.append(
            f'<text x="{LABEL_W - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        for name, value in parts.items():
            color = COLORS[names.index(name) % len(COLORS)]
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y}" width="{value * scale:.1f}" '
                f'height="{BAR_H}" fill="{color}"><title>{escape(name)}: {value:.1f} '
                f"{escape(unit)}</title></rect>"
            )
            x += value * scale
        body.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(parts.values()):.3g} {unit}</text>')
    legend_y = TOP + len(bars) * (BAR_H + GAP) + 8
    for j, name in enumerate(names):
        lx = 10 + (j % 6) * 125
        ly = legend_y + (j // 6) * 20
        body += [
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{COLORS[j % len(COLORS)]}"/>',
            f'<text x="{lx + 17}" y="{ly + 11}">{escape(name)}</text>',
        ]
    rows_of_legend = (len(names) + 5) // 6
    return _svg(legend_y + rows_of_legend * 20 + 8, title, body)


def charts(results: dict[str, Any]) -> dict[str, str]:
    """The SVG of every chart whose scenario ran to the end, by chart name."""
    sc = ok_scenarios(results)
    out: dict[str, str] = {}
    if ingest := sc.get("ingest"):
        v = ingest["variants"]
        labels = {
            "duckdb": "DuckDB read_json (recorded pages)",
            "dlt_replay": "this project (recorded pages)",
            "cookbook_replay": "cookbook script (recorded pages)",
            "dlt_live": "this project (live simulator)",
            "cookbook_live": "cookbook script (live simulator)",
        }
        out["ingest"] = bar_chart(
            f"Ingest: {ingest['rows']:,} rows of completions at 1h, wall time (median, min–max)",
            "s",
            [(label, v[key]["wall_s"]) for key, label in labels.items() if key in v],
        )
    if e2e := sc.get("end_to_end"):
        bars = []
        for key, label in (("backfill", "year backfill, latency 0"), ("daily", "daily run")):
            stages = e2e[key]["stages"]
            parts = {n: stages[n]["median"] for n in STAGES if stages.get(n) is not None}
            bars.append((label, parts))
        out["end-to-end"] = stacked_chart("End to end: where a Dagster run's time goes", "s", bars)
    if growth := sc.get("growth"):
        out["growth"] = bar_chart(
            "Growth: dlt ingest wall time by range at 1h (peak RSS in the label)",
            "s",
            [
                (
                    f"{p['days']} days, {p['rows']:,} rows, {p['peak_rss_mb']['median']:.0f} MB",
                    p["wall_s"],
                )
                for p in growth["points"]
            ],  # fmt: skip
        )
    if requests := sc.get("requests"):
        rows = []
        for width in ("1d", "1h"):
            w = requests[width]
            bound = {"median": w["bound_s"], "min": w["bound_s"], "max": w["bound_s"]}
            rows += [(f"{width}: latency/rate bound", bound), (f"{width}: fetch", w["fetch_s"])]
        out["requests"] = bar_chart("Requests: a year of every endpoint, fetch time", "s", rows)
    return out


def write(results: dict[str, Any], results_file: Path) -> list[Path]:
    """Write `<results stem>-<chart>.svg` beside the results file; the paths written."""
    written = []
    for name, svg in charts(results).items():
        path = results_file.with_name(f"{results_file.stem}-{name}.svg")
        path.write_text(svg)
        written.append(path)
    return written


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    for path in write(json.loads(source.read_text()), source):
        print(path)

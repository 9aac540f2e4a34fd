"""Render benchmark results as Markdown, check them against the targets, compare two runs."""

from __future__ import annotations

from typing import Any

from bench.scenarios import POSTGRES_VARIANTS, STAGES


def _mmm(s: dict[str, float] | None, fmt: str = "{:.2f}", scale: float = 1.0) -> str:
    """`median (min–max)` of a stats dict."""
    if s is None:
        return "n/a (not built yet)"
    med, lo, hi = (fmt.format(s[k] * scale) for k in ("median", "min", "max"))
    return med if s["n"] == 1 else f"{med} ({lo}–{hi})"


def render(results: dict[str, Any]) -> str:
    """All scenario tables and the targets, as Markdown."""
    parts = []
    sc = ok_scenarios(results)
    for name, outcome in results["scenarios"].items():
        if "error" in outcome:
            parts.append(f"### {name}: failed\n\n```\n{outcome['error'][-800:]}\n```")
    if "ingest" in sc:
        parts.append(_ingest(sc["ingest"]))
    if "requests" in sc:
        parts.append(_requests(sc["requests"], sc["requests"].get("config", results["config"])))
    if "end_to_end" in sc:
        parts.append(_end_to_end(sc["end_to_end"], sc.get("postgres")))
    if "ui_backfill" in sc:
        parts.append(_ui_backfill(sc["ui_backfill"]))
    if "growth" in sc:
        parts.append(_growth(sc["growth"]))
    parts.append(_targets_table(targets(results)))
    return "\n\n".join(parts) + "\n"


def _ingest(r: dict[str, Any]) -> str:
    names = {
        "dlt_live": "dlt source (this project, no pacing) ← live simulator",
        "cookbook_live": "cookbook-style script ← live simulator",
        "dlt_replay": "dlt source (this project, no pacing) ← recorded pages",
        "cookbook_replay": "cookbook-style script ← recorded pages",
        "duckdb": "DuckDB `read_json` of the recorded files",
    }
    lines = [
        f"### 1. Ingest: {r['days']} days of completions at 1h "
        f"({r['rows']:,} rows, {r['pages']} pages, {r['json_mb']:.0f} MB of JSON)",
        "",
        "| run | wall s | CPU s | peak RSS MB | rows/s |",
        "|---|---|---|---|---|",
    ]
    for key, label in names.items():
        v = r["variants"][key]
        lines.append(
            f"| {label} | {_mmm(v['wall_s'])} | {_mmm(v['cpu_s'])} | "
            f"{_mmm(v['peak_rss_mb'], '{:.0f}')} | {_mmm(v['rows_per_s'], '{:,.0f}')} |"
        )
    ratios = r["ratios"]
    lines += [
        "",
        f"Fetching the pages alone (requests, bodies to disk): {r['fetch_only_s']:.1f} s. "
        f"Ratios of medians: dlt ÷ DuckDB (same recorded pages) "
        f"**{ratios['dlt_replay_vs_duckdb_wall']:.2f}×**; dlt ÷ cookbook script "
        f"{ratios['dlt_replay_vs_cookbook_replay_wall']:.2f}× on recorded pages, "
        f"**{ratios['dlt_live_vs_cookbook_live_wall']:.2f}×** live; peak RSS dlt ÷ script "
        f"{ratios['dlt_live_vs_cookbook_live_rss']:.2f}×.",
    ]
    return "\n".join(lines)


def _requests(r: dict[str, Any], config: dict[str, Any]) -> str:
    rate = config["rate_limit_rps"]
    limit = "no rate limit" if rate is None else f"{rate:g} req/s, burst {config['burst']}"
    lines = [
        f"### 2. Requests: {r['days']} days, every endpoint "
        f"(latency {config['latency_ms']:g} ms, {limit})",
        "",
        "| width | endpoint | issued | answered 200 | 429s | minimum |",
        "|---|---|---|---|---|---|",
    ]
    for width in ("1d", "1h"):
        for path, c in sorted(r[width]["endpoints"].items()):
            lines.append(
                f"| {width} | `{path}` | {c['issued']} | {c['ok']} | {c['rate_limited']} | "
                f"{c['minimum']} |"
            )
    lines += [
        "",
        "| width | requests ÷ minimum (issued) | (answered 200) | fetch s | bound s | "
        "fetch ÷ bound |",
        "|---|---|---|---|---|---|",
    ]
    for width in ("1d", "1h"):
        w = r[width]
        lines.append(
            f"| {width} | {_mmm(w['ratio_issued'])} | {_mmm(w['ratio_ok'])} | "
            f"{_mmm(w['fetch_s'], '{:.1f}')} | {w['bound_s']:.1f} | {_mmm(w['fetch_vs_bound'])} |"
        )
    return "\n".join(lines)


def _end_to_end(r: dict[str, Any], pg: dict[str, Any] | None = None) -> str:
    """The year's backfill (beside it, with Postgres storage when measured) and the daily run."""
    b, d = r["backfill"], r["daily"]
    columns = [(f"backfill of {b['days']} days, SQLite run storage, DuckDB warehouse", b)]
    if pg:
        columns += [(f"same, {label}", pg[key]) for key, (label, _) in POSTGRES_VARIANTS.items()]
    columns.append((f"daily run, {d['lookback_days']}-day lookback (latency + rate limit)", d))
    runs = [c for _, c in columns]

    def row(label: str, cell: Any) -> str:
        return f"| {label} | " + " | ".join(cell(c) for c in runs) + " |"

    lines = [
        "### 3. End to end (Dagster run: dlt, prices, dbt build with tests), width 1h",
        "",
        "| stage (s) | " + " | ".join(label for label, _ in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    # In the scenario's order: the results file stores the stages sorted by name.
    stages = [stage for stage in STAGES if stage in b["stages"]]
    lines += [row(stage, lambda c, s=stage: _mmm(c["stages"][s])) for stage in stages]
    lines += [
        row("**wall**", lambda c: f"**{_mmm(c['wall_s'])}**"),
        row("CPU", lambda c: _mmm(c["cpu_s"])),
        row("peak RSS MB, largest process", lambda c: _mmm(c["peak_rss_mb"], "{:.0f}")),
        row("peak RSS MB, process tree", lambda c: _mmm(c.get("tree_peak_rss_mb"), "{:.0f}")),
        "",
        "Checks: the dbt tests run inside `dbt build` (the dbt stage). The backfills face an API "
        "without latency or rate limit and no client-side pacing; the daily run faces both, "
        "with the pipeline's default budget.",
    ]
    return "\n".join(lines)


def _ui_backfill(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"### 4. The UI's *Materialize all* against `make backfill`, {r['days']} days, "
            "width 1h",
            "",
            "| how | wall s | ÷ make backfill |",
            "|---|---|---|",
            f"| `make backfill` (one process) | {_mmm(r['cli_s'], '{:.1f}')} | 1.00 |",
            f"| UI backfill, request → its run done ({r['runs']} run) | "
            f"{_mmm(r['ui_run_s'], '{:.1f}')} | {r['ui_run_vs_cli']:.2f} |",
            f"| UI backfill, request → backfill completed | {_mmm(r['ui_final_s'], '{:.1f}')} | "
            f"{r['ui_final_vs_cli']:.2f} |",
            f"| daily run through the webserver (schedule's tags), request → end | "
            f"{_mmm(r['daily_launched_s'], '{:.1f}')} | |",
            f"| … of which the run itself (start → end) | {_mmm(r['daily_run_s'], '{:.1f}')} | |",
            "",
            "The daemon looks at backfills every 30 s: up to 30 s before the run is launched, "
            "and up to 30 s after it ends before the backfill shows as completed. The daily run "
            "is launched the way the schedule launches it, into the job's own executor, on the "
            "warehouse the UI backfill just loaded (API without latency or rate limit).",
        ]
    )


def _growth(r: dict[str, Any]) -> str:
    lines = [
        "### 5. Growth: dlt ingest at 1h ← live simulator",
        "",
        "| days | rows | wall s | µs per row | peak RSS MB | runs |",
        "|---|---|---|---|---|---|",
    ]
    for p in r["points"]:
        lines.append(
            f"| {p['days']} | {p['rows']:,} | {_mmm(p['wall_s'])} | {p['us_per_row']:.1f} | "
            f"{_mmm(p['peak_rss_mb'], '{:.0f}')} | {p['wall_s']['n']} |"
        )
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (None when not measured)."""
    sc = ok_scenarios(results)
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, limit: float, fmt: str, ok: bool | None) -> None:
        shown = "not measured" if value is None else fmt.format(value)
        out.append({"target": name, "value": value, "shown": shown, "limit": limit, "met": ok})

    req = sc.get("requests")
    for width in ("1d", "1h"):
        ratio = req[width]["ratio_issued"]["max"] if req else None
        add(f"requests ÷ minimum at {width} (issued, worst run)", ratio, 1.0, "{:.3f}",
            None if ratio is None else ratio <= 1.0 + 1e-9)  # fmt: skip
        bound = req[width]["fetch_vs_bound"]["median"] if req else None
        add(f"fetch ÷ latency/rate bound at {width}", bound, 1.2, "{:.2f}×",
            None if bound is None else bound <= 1.2)  # fmt: skip
    ing = sc.get("ingest")
    r = ing["ratios"] if ing else {}
    value = r.get("dlt_replay_vs_duckdb_wall")
    add("ingest ÷ DuckDB read_json", value, 2.0, "{:.2f}×", None if value is None else value <= 2)
    value = r.get("dlt_live_vs_cookbook_live_wall")
    add("ingest ÷ cookbook script (live)", value, 1.0, "{:.2f}×",
        None if value is None else value < 1)  # fmt: skip
    rss = _max_rss(sc)
    add("peak RSS of any dlt ingest", rss, 512, "{:.0f} MB", None if rss is None else rss <= 512)
    e2e = sc.get("end_to_end")
    if e2e and ing:
        value = (
            e2e["backfill"]["wall_s"]["median"]
            / ing["variants"]["cookbook_live"]["wall_s"]["median"]
        )
    else:
        value = None
    add("backfill end to end ÷ cookbook script", value, 2.0, "{:.2f}×",
        None if value is None else value <= 2)  # fmt: skip
    pg = sc.get("postgres")
    if pg and ing:
        script = ing["variants"]["cookbook_live"]["wall_s"]["median"]
        for key, (label, _) in POSTGRES_VARIANTS.items():
            value = pg[key]["wall_s"]["median"] / script
            add(f"backfill end to end ({label}) ÷ cookbook script", value, 2.0, "{:.2f}×",
                value <= 2)  # fmt: skip
    backfills = ([e2e["backfill"]] if e2e else []) + (
        [pg[key] for key in POSTGRES_VARIANTS] if pg else []
    )
    trees = [run["tree_peak_rss_mb"]["max"] for run in backfills if "tree_peak_rss_mb" in run]
    value = max(trees) if trees else None
    add("peak RSS of the year's backfill, whole process tree", value, 512, "{:.0f} MB",
        None if value is None else value <= 512)  # fmt: skip
    value = e2e["daily"]["wall_s"]["median"] if e2e else None
    add("daily scheduled run wall", value, 30, "{:.1f} s", None if value is None else value <= 30)
    ui = sc.get("ui_backfill")
    value = ui["daily_launched_s"]["median"] if ui else None
    add("daily run launched through the webserver", value, 30, "{:.1f} s",
        None if value is None else value <= 30)  # fmt: skip
    value = ui["ui_run_vs_cli"] if ui else None
    add("UI backfill (to its run's end) ÷ make backfill", value, 1.5, "{:.2f}×",
        None if value is None else value <= 1.5)  # fmt: skip
    return out


def ok_scenarios(results: dict[str, Any]) -> dict[str, Any]:
    """The scenarios that ran to the end (failed ones carry only an error)."""
    return {k: v for k, v in results["scenarios"].items() if "error" not in v}


def _max_rss(sc: dict[str, Any]) -> float | None:
    values = []
    if "ingest" in sc:
        values += [
            sc["ingest"]["variants"][k]["peak_rss_mb"]["max"] for k in ("dlt_live", "dlt_replay")
        ]
    if "growth" in sc:
        values += [p["peak_rss_mb"]["max"] for p in sc["growth"]["points"]]
    return max(values) if values else None


def _targets_table(rows: list[dict[str, Any]]) -> str:
    lines = ["### Targets", "", "| target | limit | measured | met |", "|---|---|---|---|"]
    for t in rows:
        met = {True: "yes", False: "**no**", None: "—"}[t["met"]]
        lines.append(f"| {t['target']} | {t['limit']:g} | {t['shown']} | {met} |")
    return "\n".join(lines)


def compare(new: dict[str, Any], old: dict[str, Any]) -> str:
    """Headline medians of this run beside the previous run's (ratio new ÷ old)."""
    old_targets = {t["target"]: t["value"] for t in old.get("targets", [])}
    lines = ["| target | previous | now | now ÷ previous |", "|---|---|---|---|"]
    for t in new.get("targets", []):
        before = old_targets.get(t["target"])
        if t["value"] is None or before in (None, 0):
            continue
        lines.append(
            f"| {t['target']} | {before:.3g} | {t['value']:.3g} | {t['value'] / before:.2f} |"
        )
    return "\n".join(lines)

"""The four scenarios of `make bench`. Each returns plain data; `bench.report` renders it."""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import procs, replay, requests_min
from bench.config import BenchConfig
from bench.cookbook import GROUP_BY
from simulator import ADMIN_KEY

COMPLETIONS = "organization/usage/completions"
DAGSTER_YAML = procs.REPO_ROOT / ".dagster_home" / "dagster.yaml"


def stats(values: list[float]) -> dict[str, float]:
    """Median, min and max (and n) of repeated measurements."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def summarize_runs(runs: list[dict]) -> dict[str, Any]:
    """Stats of the usual metrics over repetitions of one measured run."""
    out: dict[str, Any] = {}
    for key in ("wall_s", "cpu_s", "peak_rss_mb", "tree_peak_rss_mb"):
        if all(key in r for r in runs):
            out[key] = stats([r[key] for r in runs])
    if all("rows" in r for r in runs):
        out["rows"] = runs[0]["rows"]
        out["rows_per_s"] = stats([r["rows"] / r["wall_s"] for r in runs])
    return out


def closed_window(days: int) -> tuple[dt.date, dt.date]:
    """The last `days` whole UTC days: `[start, end)` with `end` today's midnight."""
    end = dt.datetime.now(dt.UTC).date()
    return end - dt.timedelta(days=days), end


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _repeat(n: int, label: str, measure: Callable[[], dict]) -> list[dict]:
    runs = []
    for i in range(n):
        run = measure()
        _progress(f"{label} #{i + 1}: {run['wall_s']:.2f} s, {run['peak_rss_mb']:.0f} MB")
        runs.append(run)
    return runs


# ---------------------------------------------------------------------------------------------
# 1. Ingest


def ingest(cfg: BenchConfig, tmp: Path) -> dict[str, Any]:
    """A range of completions at 1h: dlt vs DuckDB's read_json vs the cookbook-style script.

    Live runs hit the simulator (latency 0, no rate limit). Replay runs hit the same pages
    served from disk, so the simulator's page computation is not in the client's wall time.
    """
    start, end = closed_window(cfg.ingest_days)
    args = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "width": "1h",
        "api_key": ADMIN_KEY,
    }
    pages = tmp / "pages"
    variants: dict[str, list[dict]] = {
        k: [] for k in ("dlt_live", "cookbook_live", "dlt_replay", "cookbook_replay", "duckdb")
    }
    with _sim(cfg) as sim:
        fetch = _record(sim.base_url, start, end, pages)
        _progress(f"recorded {fetch['pages']} pages, {fetch['bytes'] / 1e6:.0f} MB")
        for i in range(cfg.reps):
            for name, task in (("dlt_live", "dlt_ingest"), ("cookbook_live", "cookbook")):
                variants[name] += _repeat(
                    1,
                    f"ingest {name} rep {i + 1}",
                    lambda t=task: _fresh(tmp, t, {**args, "base_url": sim.base_url}),
                )
    with procs.replayer(pages) as url:
        for i in range(cfg.reps):
            for name, task in (("dlt_replay", "dlt_ingest"), ("cookbook_replay", "cookbook")):
                variants[name] += _repeat(
                    1,
                    f"ingest {name} rep {i + 1}",
                    lambda t=task: _fresh(tmp, t, {**args, "base_url": url}),
                )
            variants["duckdb"] += _repeat(
                1,
                f"ingest duckdb rep {i + 1}",
                lambda: _fresh(tmp, "duckdb_read", {"pages_dir": str(pages)}),
            )
    results = {name: summarize_runs(runs) for name, runs in variants.items()}
    rows = {r["rows"] for r in results.values()}
    if len(rows) != 1:
        raise RuntimeError(f"ingest variants loaded different row counts: {results}")
    shutil.rmtree(pages, ignore_errors=True)
    return {
        "days": cfg.ingest_days,
        "width": "1h",
        "rows": rows.pop(),
        "json_mb": fetch["bytes"] / 1e6,
        "pages": fetch["pages"],
        "fetch_only_s": fetch["wall_s"],
        "variants": results,
        "ratios": _ingest_ratios(results),
    }


def _ingest_ratios(results: dict[str, Any]) -> dict[str, float]:
    def median(name: str, key: str = "wall_s") -> float:
        return results[name][key]["median"]

    return {
        "dlt_replay_vs_duckdb_wall": median("dlt_replay") / median("duckdb"),
        "dlt_replay_vs_cookbook_replay_wall": median("dlt_replay") / median("cookbook_replay"),
        "dlt_live_vs_cookbook_live_wall": median("dlt_live") / median("cookbook_live"),
        "dlt_live_vs_cookbook_live_rss": median("dlt_live", "peak_rss_mb")
        / median("cookbook_live", "peak_rss_mb"),
    }


def _record(base_url: str, start: dt.date, end: dt.date, out: Path) -> dict[str, Any]:
    """Fetch the pages once with plain requests (timed: the HTTP + server floor)."""
    params = {
        "start_time": _epoch(start),
        "end_time": _epoch(end),
        "bucket_width": "1h",
        "limit": requests_min.max_limit(COMPLETIONS, "1h"),
        "group_by": GROUP_BY,
    }
    started = time.perf_counter()
    info = replay.record(base_url, ADMIN_KEY, COMPLETIONS, params, out)
    return {**info, "wall_s": time.perf_counter() - started}


def _fresh(tmp: Path, task: str, args: dict[str, Any], env: dict | None = None) -> dict:
    """One measured run in its own empty work directory, removed afterwards."""
    workdir = Path(tempfile.mkdtemp(dir=tmp))
    try:
        return procs.run_measured(task, {**args, "workdir": str(workdir)}, env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _sim(cfg: BenchConfig, limited: bool = False) -> Any:
    """The benchmark simulator: unthrottled, or with the configured latency and rate limit."""
    return procs.simulator(
        cfg.seed,
        cfg.groups_per_hour,
        cfg.history_days,
        latency_ms=cfg.latency_ms if limited else 0.0,
        rate_limit_rps=cfg.rate_limit_rps if limited else None,
        burst=cfg.burst,
    )


# ---------------------------------------------------------------------------------------------
# 2. Requests


def request_counts(cfg: BenchConfig, tmp: Path) -> dict[str, Any]:
    """Every endpoint for a range at 1d and 1h, under the configured latency and rate limit."""
    start, end = closed_window(cfg.ingest_days)
    out: dict[str, Any] = {"days": cfg.ingest_days}
    for width in ("1d", "1h"):
        runs = []
        for i in range(cfg.reps):
            with _sim(cfg, limited=True) as sim:  # a fresh server: a full token bucket
                run = _fresh(tmp, "pull_all", {
                    "start": start.isoformat(), "end": end.isoformat(), "width": width,
                    "api_key": ADMIN_KEY, "base_url": sim.base_url,
                    "budget_rps": cfg.rate_limit_rps,
                })  # fmt: skip
                now = int(time.time())
                counts = requests_min.summarize(sim.requests(), now, sim.base_url, ADMIN_KEY)
            bound = requests_min.wall_bound(
                counts["totals"]["minimum"],
                counts["longest_chain"],
                cfg.latency_ms / 1000,
                cfg.rate_limit_rps,
                cfg.burst,
            )
            run.update(counts=counts, bound_s=bound)
            totals = counts["totals"]
            _progress(
                f"requests {width} rep {i + 1}: {totals['issued']} issued "
                f"({totals['rate_limited']} x 429), minimum {totals['minimum']}, "
                f"fetch {run['fetch_s']:.1f} s vs bound {bound:.1f} s"
            )
            runs.append(run)
        out[width] = _request_summary(runs)
    return out


def _request_summary(runs: list[dict]) -> dict[str, Any]:
    counts = runs[-1]["counts"]
    issued = [r["counts"]["totals"]["issued"] / r["counts"]["totals"]["minimum"] for r in runs]
    ok = [r["counts"]["totals"]["ok"] / r["counts"]["totals"]["minimum"] for r in runs]
    return {
        "endpoints": counts["endpoints"],
        "totals": counts["totals"],
        "ratio_issued": stats(issued),
        "ratio_ok": stats(ok),
        "fetch_s": stats([r["fetch_s"] for r in runs]),
        "wall_s": stats([r["wall_s"] for r in runs]),
        "bound_s": runs[-1]["bound_s"],
        "fetch_vs_bound": stats([r["fetch_s"] / r["bound_s"] for r in runs]),
    }


# ---------------------------------------------------------------------------------------------
# 3. End to end: a year's backfill, then the daily scheduled run on top of it


def end_to_end(cfg: BenchConfig, tmp: Path) -> dict[str, Any]:
    """`make backfill` of the ingest range at 1h, then the daily run (3-day lookback)."""
    start, _ = closed_window(cfg.ingest_days)
    backfills = []
    home = None
    for i in range(cfg.reps):
        home = _dagster_home(tmp / f"e2e_{i}")
        backfills.append(_year_backfill(cfg, home, {}, f"e2e backfill rep {i + 1}"))
        if i + 1 < cfg.reps:
            shutil.rmtree(home, ignore_errors=True)
    assert home is not None
    daily = []
    today = dt.datetime.now(dt.UTC).date()
    for i in range(cfg.reps):
        with _sim(cfg, limited=True) as sim:
            env = _dagster_env(home, sim.base_url, start)
            run = procs.run_measured(
                "dagster_run",
                {"first": (today - dt.timedelta(days=3)).isoformat(), "last": today.isoformat()},
                env,
            )
        daily.append(_with_stages(run))
        _progress(f"daily run rep {i + 1}: {run['wall_s']:.1f} s")
    shutil.rmtree(home, ignore_errors=True)
    return {
        "backfill": {"days": cfg.ingest_days, "width": "1h", **_stage_summary(backfills)},
        "daily": {"lookback_days": 3, "width": "1h", **_stage_summary(daily)},
    }


# ---------------------------------------------------------------------------------------------
# 3b. The same year's backfill with Dagster's storage in Postgres, then the warehouse too


# The Postgres scenario's variants: result key -> (label, whether the warehouse is there too).
POSTGRES_VARIANTS = {
    "dagster_storage": ("Postgres run storage", False),
    "warehouse_and_dagster": ("Postgres run storage and warehouse", True),
}


def postgres(cfg: BenchConfig, tmp: Path) -> dict[str, Any]:
    """`make backfill` of the ingest range at 1h as in `end_to_end`, on a throw-away Postgres
    server: first with Dagster's run storage there (`DAGSTER_POSTGRES_URL`, DuckDB warehouse),
    then with the warehouse there as well (`WAREHOUSE_URL`). Each repetition gets new databases.
    """
    from scripts.postgres_server import postgres_server

    out: dict[str, Any] = {}
    with postgres_server() as server:
        for name, (_, warehouse_too) in POSTGRES_VARIANTS.items():
            runs = []
            for i in range(cfg.reps):
                home = _dagster_home(tmp / f"{name}_{i}")
                settings = {"DAGSTER_POSTGRES_URL": server.create_database("dagster").url}
                if warehouse_too:
                    settings["WAREHOUSE_URL"] = server.create_database("warehouse").url
                runs.append(
                    _year_backfill(cfg, home, settings, f"Postgres ({name}) backfill rep {i + 1}")
                )
                shutil.rmtree(home, ignore_errors=True)
            out[name] = {"days": cfg.ingest_days, "width": "1h", **_stage_summary(runs)}
    return out


def _year_backfill(cfg: BenchConfig, home: Path, settings: dict[str, str], label: str) -> dict:
    """One `make backfill` of the closed ingest range at 1h into `home`, split into stages.

    The API has no latency or rate limit and the client no pacing either (as the script and the
    ingest scenario): what the pipeline itself costs. `settings` adds environment variables
    (Postgres storage or warehouse).
    """
    start, end = closed_window(cfg.ingest_days)
    days = {"first": start.isoformat(), "last": (end - dt.timedelta(days=1)).isoformat()}
    with _sim(cfg) as sim:
        env = {
            **_dagster_env(home, sim.base_url, start),
            "OPENAI_REQUESTS_PER_SECOND": "0",
            **settings,
        }
        run = procs.run_measured("dagster_run", days, env)
    _progress(f"{label}: {run['wall_s']:.1f} s")
    return _with_stages(run)


def _dagster_home(root: Path) -> Path:
    (root / "dagster_home").mkdir(parents=True)
    (root / "warehouse").mkdir()
    shutil.copy(DAGSTER_YAML, root / "dagster_home" / "dagster.yaml")
    return root


def _dagster_env(root: Path, base_url: str, start: dt.date) -> dict[str, str]:
    return {
        "DAGSTER_HOME": str(root / "dagster_home"),
        "WAREHOUSE_PATH": str(root / "warehouse" / "openai_usage.duckdb"),
        "SERVING_DIR": str(root / "warehouse" / "serving"),
        "OPENAI_BASE_URL": base_url,
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "USAGE_START_DATE": start.isoformat(),
        "USAGE_BUCKET_WIDTH": "1h",
    }


STAGES = ("start-up", "extract", "load", "dbt", "checks", "publish", "report", "other")


def _with_stages(run: dict) -> dict:
    """Split a Dagster run's wall time into stages.

    start-up: process launch to the first step (imports, definitions, dbt manifest check, run
    setup); extract / load: dlt's own extract and normalize+load times of every dlt pipeline;
    dbt: the dbt step (`dbt build`: models and their tests); checks: steps that only evaluate
    asset checks (and steps named `check`); publish: steps named `publish` or `serving`;
    report: steps named `report`; other: the rest (Dagster's bookkeeping around and between
    steps, steps of other assets, process exit).
    """
    checks = {k for k in run["steps"] if k in run.get("check_steps", []) or "check" in k}
    steps = {k: v for k, v in run["steps"].items() if k not in checks}
    dlt = run["dlt"].values()
    stages: dict[str, float | None] = {
        "start-up": run["first_step_at"] - run["launched_at"],
        "extract": sum(p.get("extract", 0.0) for p in dlt),
        "load": sum(p.get("normalize", 0.0) + p.get("load", 0.0) for p in dlt),
        "dbt": _steps_named(steps, "dbt"),
        "checks": sum(run["steps"][k] for k in checks) if checks else None,
        "publish": _steps_named(steps, "publish", "serving"),
        "report": _steps_named(steps, "report"),
    }
    stages["other"] = run["wall_s"] - sum(v for v in stages.values() if v is not None)
    return {**run, "stages": stages}


def _steps_named(steps: dict[str, float], *words: str) -> float | None:
    """Total seconds of the steps whose key contains any of `words` (None: no such step)."""
    matching = [seconds for key, seconds in steps.items() if any(w in key for w in words)]
    return sum(matching) if matching else None


def _stage_summary(runs: list[dict]) -> dict[str, Any]:
    out = summarize_runs(runs)
    out["stages"] = {
        name: None if runs[0]["stages"][name] is None else stats([r["stages"][name] for r in runs])
        for name in STAGES
    }
    out["steps"] = sorted(runs[0]["steps"])
    return out


# ---------------------------------------------------------------------------------------------
# 4. The UI's backfill button against `make backfill`, over the same days


def ui_backfill(cfg: BenchConfig, tmp: Path) -> dict[str, Any]:
    """*Materialize all* over `ui_days` days from `make dev` (the dialog's request, through the
    webserver and the daemon) against `make backfill` of the same range, each on a new install.

    The UI's time runs from the request to the end of its run (the data is then in place), and
    to the backfill's final status (the daemon notices the run's end on its next pass, every
    30 s). Starting `make dev` itself is not counted: it is started once, not per backfill.
    """
    from assets.schedules import lookback_range, partition_range_tags
    from scripts.dagster_ui import dagster_ui

    start, end = closed_window(cfg.ui_days)
    days = [(start + dt.timedelta(days=n)).isoformat() for n in range(cfg.ui_days)]
    daily_tags = partition_range_tags(*lookback_range(dt.datetime.now(dt.UTC).date(), start))
    cli, ui_run, ui_final, daily, daily_steps = [], [], [], [], []
    for i in range(cfg.reps):
        with _sim(cfg) as sim:
            home = _dagster_home(tmp / f"cli_{i}")
            env = {**_dagster_env(home, sim.base_url, start), "OPENAI_REQUESTS_PER_SECOND": "0"}
            run = procs.run_measured("dagster_run", {"first": days[0], "last": days[-1]}, env)
            cli.append(run["wall_s"])
            _progress(f"make backfill of {cfg.ui_days} days #{i + 1}: {run['wall_s']:.1f} s")
            home = _dagster_home(tmp / f"ui_{i}")
            env = {**_dagster_env(home, sim.base_url, start), "OPENAI_REQUESTS_PER_SECOND": "0"}
            with dagster_ui(procs.worker_env(env), home / "dev.log") as ui:
                assets = ui.materializable_assets()
                launched = time.time()
                backfill = ui.wait_backfill(ui.launch_backfill(assets, days))
                final = time.time() - launched
                if backfill["status"] != "COMPLETED_SUCCESS":
                    raise RuntimeError(f"UI backfill ended {backfill['status']}: {backfill}")
                (run_end,) = [r["endTime"] for r in backfill["runs"]]
                ui_run.append(run_end - launched)
                ui_final.append(final)
                # Then the daily run as the schedule launches it: `refresh_all` with the
                # schedule's range tags, through the webserver, in the job's own executor.
                launched = time.time()
                run = ui.wait_run(ui.launch_job("refresh_all", daily_tags))
                if run["status"] != "SUCCESS":
                    raise RuntimeError(f"The daily run ended {run['status']}")
                daily.append(run["endTime"] - launched)
                daily_steps.append(run["endTime"] - run["startTime"])
            _progress(
                f"UI backfill #{i + 1}: run done {ui_run[-1]:.1f} s, final {final:.1f} s; "
                f"daily run through the webserver {daily[-1]:.1f} s"
            )
        shutil.rmtree(tmp / f"cli_{i}", ignore_errors=True)
        shutil.rmtree(tmp / f"ui_{i}", ignore_errors=True)
    return {
        "days": cfg.ui_days,
        "runs": len(backfill["runs"]),
        "cli_s": stats(cli),
        "ui_run_s": stats(ui_run),
        "ui_final_s": stats(ui_final),
        "ui_run_vs_cli": statistics.median(ui_run) / statistics.median(cli),
        "ui_final_vs_cli": statistics.median(ui_final) / statistics.median(cli),
        "daily_launched_s": stats(daily),
        "daily_run_s": stats(daily_steps),
    }


# ---------------------------------------------------------------------------------------------
# 5. Growth


def growth(cfg: BenchConfig, tmp: Path) -> dict[str, Any]:
    """The dlt ingest at 1h over growing ranges: wall should grow with rows, memory stay flat."""
    points = []
    with _sim(cfg) as sim:
        for days in cfg.growth_days:
            start, end = closed_window(days)
            reps = 1 if days >= cfg.single_rep_days else cfg.reps
            runs = _repeat(reps, f"growth {days} days", lambda s=start, e=end: _fresh(
                tmp, "dlt_ingest", {
                    "start": s.isoformat(), "end": e.isoformat(), "width": "1h",
                    "api_key": ADMIN_KEY, "base_url": sim.base_url,
                }))  # fmt: skip
            summary = summarize_runs(runs)
            summary["us_per_row"] = summary["wall_s"]["median"] / summary["rows"] * 1e6
            points.append({"days": days, **summary})
    return {"width": "1h", "points": points}


SCENARIOS: dict[str, Callable[[BenchConfig, Path], dict[str, Any]]] = {
    "ingest": ingest,
    "requests": request_counts,
    "growth": growth,
    "end_to_end": end_to_end,
    "postgres": postgres,
    "ui_backfill": ui_backfill,
}

"""`make bench` / `python -m bench`: run the scenarios, write JSON and Markdown, compare.

    python -m bench                          # everything (about 15 minutes on 2 cores)
    BENCH_QUICK=1 python -m bench            # a smoke run over a few days (seconds)
    python -m bench --only ingest requests   # some scenarios
    python -m bench --profile                # pyinstrument profile of the dlt ingest

Results: `bench/results/latest.json` (the next run compares itself with it),
`bench/results/latest.md` (the tables quoted in BENCHMARKS.md) and its charts
`bench/results/latest-*.svg`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import charts, procs, report, scenarios
from bench.config import BenchConfig

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PACKAGES = ("dlt", "duckdb", "dagster", "dbt-core", "dbt-duckdb", "pandas", "pyarrow", "requests")


def machine() -> dict[str, Any]:
    """Where and with what the numbers were measured."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError):
        mem_gb = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": None if mem_gb is None else round(mem_gb, 1),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def run(cfg: BenchConfig, only: list[str], keep: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the chosen scenarios in a scratch directory; the results document.

    `keep` holds scenarios of an earlier run to carry over (a partial rerun with `--only`). A
    scenario that fails is recorded with its error and the others still run: one broken stage
    must not cost the numbers of the rest.
    """
    results: dict[str, Any] = {
        "machine": machine(),
        "config": cfg.as_dict(),
        "scenarios": dict(keep or {}),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for name in only:
            scenarios._progress(f"scenario {name}")
            t0 = time.perf_counter()
            try:
                outcome = scenarios.SCENARIOS[name](cfg, Path(tmp))
            except Exception as exc:  # noqa: BLE001 - reported in the results, run goes on
                error = f"{type(exc).__name__}: {str(exc)[-1500:]}"
                # Without this machine's folders: the results file is committed.
                outcome = {"error": error.replace(f"{procs.REPO_ROOT}/", "").replace(tmp, "TMP")}
                scenarios._progress(f"scenario {name} FAILED: {outcome['error'][-300:]}")
            outcome["scenario_wall_s"] = time.perf_counter() - t0
            outcome["config"] = cfg.as_dict()  # partial reruns may use other settings
            outcome["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            results["scenarios"][name] = outcome
    results["total_wall_s"] = time.perf_counter() - started
    results["targets"] = report.targets(results)
    return results


def profile_ingest(cfg: BenchConfig, out: Path) -> None:
    """pyinstrument over the dlt ingest of the ingest range, against recorded pages."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
        tmp = Path(tmp_name)
        start, end = scenarios.closed_window(cfg.ingest_days)
        with scenarios._sim(cfg) as sim:
            scenarios._record(sim.base_url, start, end, tmp / "pages")
        with procs.replayer(tmp / "pages") as url:
            run = scenarios._fresh(tmp, "dlt_ingest", {
                "start": start.isoformat(), "end": end.isoformat(), "width": "1h",
                "api_key": scenarios.ADMIN_KEY, "base_url": url, "profile": str(out),
            })  # fmt: skip
    print(f"profiled run: {run['wall_s']:.1f} s; profile in {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (also BENCH_QUICK=1)")
    parser.add_argument("--only", nargs="+", choices=list(scenarios.SCENARIOS), default=None)
    parser.add_argument("--out", type=Path, default=None, help="results JSON path")
    parser.add_argument("--profile", action="store_true", help="profile the dlt ingest only")
    args = parser.parse_args(argv)
    cfg = BenchConfig.from_env(quick=True if args.quick else None)
    default_name = "quick.json" if cfg.quick else "latest.json"
    out: Path = args.out or RESULTS_DIR / default_name
    if args.profile:
        profile_ingest(cfg, RESULTS_DIR / "profile_ingest.txt")
        return 0
    previous = json.loads(out.read_text()) if out.exists() else None
    # A partial rerun keeps the other scenarios of the previous results file.
    keep = previous["scenarios"] if previous and args.only else None
    results = run(cfg, args.only or list(scenarios.SCENARIOS), keep)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    markdown = report.render(results)
    out.with_suffix(".md").write_text(markdown)
    drawn = charts.write(results, out)
    print("\n" + markdown)
    if previous is not None:
        print("Compared with the previous run in", out)
        print(report.compare(results, previous))
    print(f"\nResults: {out} and {out.with_suffix('.md')} ({results['total_wall_s']:.0f} s)")
    print("Charts:", ", ".join(str(path) for path in drawn))
    return 0

"""`python -m bench.worker TASK ARGS_JSON`: one measured run, in a process of its own.

The parent (`bench.procs.run_measured`) times the process and reads its CPU and peak RSS; the
worker prints one `BENCH_RESULT {json}` line with what only it knows (rows, stage times).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.procs import REPO_ROOT, RESULT

UTC = dt.UTC


def _day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _count(db_path: Path, table: str) -> int:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def _pipeline(name: str, workdir: Path) -> Any:
    import dlt

    from warehouse.destination import duckdb_destination

    return dlt.pipeline(
        pipeline_name=name,
        destination=duckdb_destination(workdir / "bench.duckdb"),
        dataset_name="raw",
        pipelines_dir=str(workdir / ".dlt"),
    )


def dlt_ingest(args: dict) -> dict:
    """The project's dlt source, completions usage only, into a fresh DuckDB file.

    Without its request budget (10/s by default), as the script and DuckDB read the pages: this
    measures what is done with the pages; the requests scenario measures the pacing. Paced, 53
    pages take 5.3 s whatever the code does with them.
    """
    from pipelines.openai_admin import openai_usage

    workdir = Path(args["workdir"])
    source = openai_usage(
        start=_day(args["start"]),
        end=_day(args["end"]),
        bucket_width=args["width"],
        base_url=args["base_url"],
        api_key=args["api_key"],
        requests_per_second=None,
    ).with_resources("completions_usage")
    profile = args.get("profile")
    profiler = _start_profiler() if profile else None
    _pipeline("bench_ingest", workdir).run(source)
    if profiler is not None:
        _save_profile(profiler, Path(profile))
    return {"rows": _count(workdir / "bench.duckdb", "raw.completions_usage")}


def _start_profiler() -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    return profiler


def _save_profile(profiler: Any, out: Path) -> None:
    profiler.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    # Paths relative to the repository: the committed profile names no machine's folders.
    out.write_text(text.replace(f"{REPO_ROOT}/", ""))


def cookbook(args: dict) -> dict:
    """The hand-written requests + pandas script (bench.cookbook)."""
    from bench import cookbook as script

    rows = script.load(
        args["base_url"],
        args["api_key"],
        int(_day(args["start"]).timestamp()),
        int(_day(args["end"]).timestamp()),
        args["width"],
        str(Path(args["workdir"]) / "cookbook.duckdb"),
    )
    return {"rows": rows}


# One row per result with the bucket's times, as the pipeline loads them. Insertion order is
# not kept (DuckDB's documented bulk-load setting): the rows have no order to keep, and it
# halves the time.
_READ_JSON = """
set preserve_insertion_order = false;
create table completions_usage as
select b.start_time, b.end_time, unnest(b.results, recursive := true)
from (
    select unnest(data) as b
    from read_json('{pattern}', format = 'auto', maximum_object_size = 67108864)
)
"""


def duckdb_read(args: dict) -> dict:
    """DuckDB reading the recorded pages itself: the speed floor for loading them."""
    import duckdb

    db_path = Path(args["workdir"]) / "read_json.duckdb"
    with duckdb.connect(str(db_path)) as con:
        con.execute(_READ_JSON.format(pattern=Path(args["pages_dir"]) / "page_*.json"))
    return {"rows": _count(db_path, "completions_usage")}


def pull_all(args: dict) -> dict:
    """Every endpoint the sources pull: usage and costs for the window, then the directory."""
    from pipelines.openai_admin import openai_directory, openai_usage

    workdir = Path(args["workdir"])
    pipeline = _pipeline("bench_requests", workdir)
    common = {"base_url": args["base_url"], "api_key": args["api_key"]}
    budget = args.get("budget_rps")
    usage_kwargs = dict(common)
    directory_kwargs = dict(common)
    # Sources that pace themselves take the API's rate as their budget, as a user sets it.
    if budget is not None and "requests_per_second" in inspect.signature(openai_usage).parameters:
        usage_kwargs["requests_per_second"] = budget
    if (
        budget is not None
        and "requests_per_second" in inspect.signature(openai_directory).parameters
    ):
        directory_kwargs["requests_per_second"] = budget
    usage = openai_usage(
        start=_day(args["start"]), end=_day(args["end"]), bucket_width=args["width"], **usage_kwargs
    )
    fetch_s = 0.0
    for source in (usage, openai_directory(**directory_kwargs)):
        pipeline.run(source)
        # The extract step is where every request is made; normalize and load are local work.
        fetch_s += sum(
            (step.finished_at - step.started_at).total_seconds()
            for step in pipeline.last_trace.steps
            if step.step == "extract"
        )
    return {"fetch_s": fetch_s}


def dagster_run(args: dict) -> dict:
    """The refresh job for an inclusive range of days, as the schedule or a backfill runs it.

    Environment (warehouse, Dagster home, simulator URL) is set by the parent. Returns the
    moments and durations the stage split needs; the parent adds wall time.
    """
    from scripts.backfill import failure_summary, run_backfill
    from scripts.instance import dagster_instance

    imported_at = time.time()
    instance = dagster_instance()
    result = run_backfill(
        dt.date.fromisoformat(args["first"]), dt.date.fromisoformat(args["last"]), instance
    )
    if not result.success:
        raise RuntimeError(failure_summary(result))
    steps, checks = _step_times(instance, result.run_id)
    return {
        "imported_at": imported_at,
        "first_step_at": min(start for start, _ in steps.values()),
        "steps": {key: end - start for key, (start, end) in steps.items()},
        "check_steps": sorted(checks),
        "dlt": _dlt_stage_times(),
    }


def _step_times(instance: Any, run_id: str) -> tuple[dict[str, tuple[float, float]], set[str]]:
    """Start and end timestamp of every step of a run, and which steps only run asset checks."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    checking: set[str] = set()
    materializing: set[str] = set()
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[event.step_key] = entry.timestamp
        elif kind == "ASSET_CHECK_EVALUATION":
            checking.add(event.step_key)
        elif kind == "ASSET_MATERIALIZATION":
            materializing.add(event.step_key)
    steps = {key: (starts[key], ends[key]) for key in starts if key in ends}
    return steps, checking - materializing


def _dlt_stage_times() -> dict[str, dict[str, float]]:
    """Extract, normalize and load seconds of each dlt pipeline's last run (its saved trace)."""
    import dlt

    from warehouse import paths

    stages: dict[str, dict[str, float]] = {}
    root = paths.dlt_pipelines_dir()
    # Dot folders are not run pipelines (`.definitions`: what definitions declare).
    folders = (
        sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if root.exists()
        else []
    )
    for folder in folders:
        trace = dlt.attach(pipeline_name=folder.name, pipelines_dir=str(root)).last_trace
        if trace is None:
            continue
        stages[folder.name] = {
            step.step: (step.finished_at - step.started_at).total_seconds()
            for step in trace.steps
            if step.step in ("extract", "normalize", "load") and step.finished_at
        }
    return stages


TASKS: dict[str, Callable[[dict], dict]] = {
    "dlt_ingest": dlt_ingest,
    "cookbook": cookbook,
    "duckdb_read": duckdb_read,
    "pull_all": pull_all,
    "dagster_run": dagster_run,
}


def main(argv: list[str]) -> int:
    """Run one task and print its result line."""
    task, args = argv[0], json.loads(argv[1])
    result = TASKS[task](args)
    print(RESULT + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

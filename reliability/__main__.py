"""`python -m reliability` (`make reliability`): run the whole suite, write RELIABILITY.md.

Endurance runs in a thread beside the other groups (its own simulator and workspace) so the
suite takes the time of the longer of the two, not their sum. Everything is written under one
temporary root, scanned for the admin key at the end, then removed (unless `--keep`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from reliability import cases, harness
from reliability.cases import CaseResult, Suite
from scripts.sim_process import simulator_process

HERE = Path(__file__).resolve().parent
REPORT = harness.REPO_ROOT / "RELIABILITY.md"
RESULTS = HERE / "results.json"
# Hand-written notes about the last run (method, pending cases), appended to RELIABILITY.md.
NOTES = HERE / "NOTES.md"
GROUPS = ("api", "crash", "concurrency", "bad-input", "endurance")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("--only", nargs="*", choices=GROUPS, default=list(GROUPS))
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs across stages")
    parser.add_argument("--verify-every", type=int, default=5, help="kills between re-runs")
    parser.add_argument("--daily-runs", type=int, default=30)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary root")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite RELIABILITY.md")
    return parser.parse_args(argv)


def _log(result: CaseResult) -> CaseResult:
    print(
        f"[{result.outcome:7}] {result.group} / {result.name} ({result.seconds:.0f} s): "
        f"{result.detail[:300]}",
        flush=True,
    )
    return result


# Each group yields its results one by one, so every finished case is recorded at once.


def _api(suite: Suite, args: argparse.Namespace) -> Iterator[CaseResult]:
    for fault in cases.api_faults():
        yield cases.run_api_fault(suite, fault)


def _crash(suite: Suite, args: argparse.Namespace) -> Iterator[CaseResult]:
    yield from cases.crash_case(suite, args.kills, args.verify_every)


def _concurrency(suite: Suite, args: argparse.Namespace) -> Iterator[CaseResult]:
    for case in (cases.overlap_same_home, cases.serving_reader, cases.working_file_reader):
        yield case(suite)


def _bad_input(suite: Suite, args: argparse.Namespace) -> Iterator[CaseResult]:
    for bad in cases.bad_inputs():
        yield cases.run_bad_input(suite, bad)


def _endurance(suite: Suite, args: argparse.Namespace) -> Iterator[CaseResult]:
    history = 365 * args.years + args.daily_runs + 30
    extra = ("--history-days", str(history), "--groups-per-hour", "2")
    with simulator_process(11, *extra) as (sim_url, _):
        yield from cases.endurance(sim_url, suite, args.years, args.daily_runs)


RUNNERS = {
    "api": _api,
    "crash": _crash,
    "concurrency": _concurrency,
    "bad-input": _bad_input,
    "endurance": _endurance,
}


class Recorder:
    """Collects results from the group threads; rewrites the report after each one, so an
    interrupted suite still leaves what it found."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, list[CaseResult]] = {group: [] for group in args.only}
        self.lock = threading.Lock()
        self.began = time.monotonic()

    def add(self, group: str, items: list[CaseResult], final: bool = False) -> None:
        with self.lock:
            for result in items:
                self.results[group].append(_log(result))
            if not self.args.no_report:
                write_results(self.ordered(), time.monotonic() - self.began, self.args, final)

    def ordered(self) -> list[CaseResult]:
        return [r for group in self.results for r in self.results[group]]


def _run_group(suite: Suite, group: str, recorder: Recorder) -> None:
    try:
        for result in RUNNERS[group](suite, recorder.args):
            recorder.add(group, [result])
    except Exception as exc:  # noqa: BLE001 - reported as a failed case, the suite goes on
        recorder.add(group, [CaseResult(group, group, "fail", 0, f"group raised {exc!r}"[:400])])


def _interrupted(signum: int, frame: object) -> None:
    harness.kill_live()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    root = Path(tempfile.mkdtemp(prefix="reliability-"))
    print(f"reliability suite in {root}", flush=True)
    recorder = Recorder(args)
    with simulator_process(3) as (sim_url, _):
        suite = Suite(root, sim_url)
        # Groups run side by side (separate workspaces); each group's cases run in order.
        threads = [
            threading.Thread(target=_run_group, args=(suite, group, recorder), daemon=True)
            for group in args.only
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            harness.kill_live()
    recorder.results.setdefault("secrets", [])
    recorder.add("secrets", [cases.secrets_scan(suite)], final=True)
    results = recorder.ordered()
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    failed = [r for r in results if r.outcome == "fail"]
    total = time.monotonic() - recorder.began
    print(f"{len(results)} cases, {len(failed)} failed, {total / 60:.1f} min", flush=True)
    return 1 if failed else 0


def write_results(results: list[CaseResult], total: float, args, final: bool = False) -> None:
    """`reliability/results.json` (every fact) and `RELIABILITY.md` (the table)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not final:
        stamp += " (in progress)"
    RESULTS.write_text(
        json.dumps(
            {"run_at": stamp, "seconds": round(total), "cases": [r.as_dict() for r in results]},
            indent=2,
            default=str,
        )
        + "\n"
    )
    REPORT.write_text(render_markdown(results, total, stamp, args))


def render_markdown(results, total, stamp, args) -> str:
    kinds = dict.fromkeys(r.outcome for r in results)  # first-seen order, every kind
    counts = {k: sum(r.outcome == k for r in results) for k in kinds}
    lines = [
        "# Reliability",
        "",
        f"Last `make reliability`: {stamp}, {total / 60:.1f} min, {len(results)} cases: "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
        + ". "
        f"Crash kills: {args.kills}, re-run every {args.verify_every}; endurance: "
        f"{args.years} years at 1h then {args.daily_runs} daily runs. "
        "Every fact is in `reliability/results.json`.",
        "",
        "A case passes when the disturbed run completes (with marts equal to the reference) or "
        "fails with exactly one `error: ...` line, and a clean re-run leaves every mart (its "
        "rows, numbers within 1e-9) equal to an undisturbed reference run. Faults are "
        "injected by `reliability/faultproxy.py` between the pipeline and the simulator.",
        "",
        "| group | case | outcome | time | detail |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        detail = r.detail.replace("|", "/").replace("\n", " ")[:400]
        lines.append(f"| {r.group} | {r.name} | **{r.outcome}** | {r.seconds:.0f} s | {detail} |")
    notes = NOTES.read_text() if NOTES.exists() else ""
    return "\n".join(lines) + "\n" + ("\n" + notes if notes else "")


if __name__ == "__main__":
    sys.exit(main())

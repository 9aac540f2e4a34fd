"""The reliability cases, one function per case, in the groups `make reliability` reports.

Every case returns a `CaseResult`. The common verdict: the disturbed run either completes or
fails with exactly one `error: ...` line, and after a clean re-run every mart (every row; numbers
within 1e-9) equals the reference built by an undisturbed run of the same range.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import requests

from reliability import harness
from reliability.faultproxy import FaultPlan, FaultProxy, FaultRule
from reliability.harness import Outcome, Workspace, days_ago

# A 43-day window: two pages of daily usage (limit 31), so cursor faults have a cursor to break.
API_WINDOW = (days_ago(45), days_ago(3))
# A short window for the many crash runs.
CRASH_WINDOW = (days_ago(10), days_ago(3))
USAGE_PATH = "organization/usage/completions"


@dataclass
class CaseResult:
    """One row of RELIABILITY.md."""

    group: str
    name: str
    outcome: str  # pass | fail | pending
    seconds: float
    detail: str
    facts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class Suite:
    """Shared state of one suite run: its root folder, the simulator, cached references."""

    def __init__(self, root: Path, sim_url: str, quick: bool = False) -> None:
        self.root = root
        self.sim_url = sim_url
        # Quick (CI) mode: API faults use the short (one-page) window.
        self.quick = quick
        self.api_window = CRASH_WINDOW if quick else API_WINDOW
        self._references: dict[tuple, tuple[dict, Path]] = {}
        self._building: dict[tuple, threading.Lock] = {}
        self._count = 0
        self._lock = threading.Lock()

    def workspace(self, label: str, base_url: str | None = None) -> Workspace:
        with self._lock:
            self._count += 1
            number = self._count
        return Workspace(self.root / f"{number:02d}-{label}", base_url=base_url or self.sim_url)

    def reference(self, window: tuple[dt.date, dt.date]) -> dict:
        """Mart fingerprints of an undisturbed run of `window` (built once per window)."""
        with self._lock:
            lock = self._building.setdefault(window, threading.Lock())
        with lock:
            if window not in self._references:
                ws = self.workspace("reference")
                outcome = ws.backfill(*window)
                if outcome.returncode != 0:
                    text = outcome.error_line() or outcome.output[-2000:]
                    raise RuntimeError(f"reference run failed: {text}")
                self._references[window] = (harness.mart_fingerprint(ws.warehouse), ws.warehouse)
        return self._references[window][0]

    def reference_copy(self, window: tuple[dt.date, dt.date], ws: Workspace) -> None:
        """Start `ws` from a copy of the reference warehouse (for "nothing half-written")."""
        self.reference(window)
        shutil.copy(self._references[window][1], ws.warehouse)


def _timed(group: str, name: str) -> Callable:
    """Decorator: time the case and turn an unexpected exception into a failed result."""

    def wrap(fn: Callable[..., CaseResult]) -> Callable[..., CaseResult]:
        def run(*args, **kwargs) -> CaseResult:
            began = time.monotonic()
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - a crashing case is a failed case, reported
                result = CaseResult(group, name, "fail", 0, f"case raised {exc!r}"[:400])
            result.seconds = round(time.monotonic() - began, 1)
            result.group, result.name = group, result.name or name
            return result

        run.case_name = name  # type: ignore[attr-defined]
        run.group = group  # type: ignore[attr-defined]
        return run

    return wrap


def _one_clear_error(outcome: Outcome) -> bool:
    errors = [line for line in outcome.output.splitlines() if line.startswith("error: ")]
    return outcome.returncode != 0 and len(errors) == 1 and len(errors[0]) > 20


# --------------------------------------------------------------------------------------------
# API faults


@dataclass(frozen=True)
class ApiFault:
    """A fault plan, whether a completed disturbed run must already equal the reference,
    and extra env for the disturbed run."""

    name: str
    rules: tuple[FaultRule, ...]
    exact_when_completed: bool = True
    env: tuple[tuple[str, str], ...] = ()


def api_faults() -> list[ApiFault]:
    """Every API fault case (fresh rule objects each call: rules count their uses)."""
    return [
        ApiFault("429 storm with Retry-After", (FaultRule("429", count=5),)),
        ApiFault("429 storm without Retry-After", (FaultRule("429-no-retry-after", count=4),)),
        ApiFault("5xx burst (500/502/503)", _burst()),
        ApiFault("connection resets", (FaultRule("reset", count=3),)),
        ApiFault(
            "read timeout (stall past RUNTIME__REQUEST_TIMEOUT=3)",
            (FaultRule("stall", path=USAGE_PATH, count=1, stall_s=10),),
            env=(("RUNTIME__REQUEST_TIMEOUT", "3"),),
        ),
        ApiFault(
            "truncated body (connection drops mid-JSON)", (FaultRule("truncate", path=USAGE_PATH),)
        ),
        ApiFault("malformed JSON (complete, invalid)", (FaultRule("malformed", path=USAGE_PATH),)),
        ApiFault(
            "page repeats its cursor",
            (FaultRule("repeat-cursor", path=USAGE_PATH, after=1),),
        ),
        ApiFault(
            "schema drift (new fields, optional fields missing)",
            (FaultRule("drift", count=10_000),),
            exact_when_completed=False,
        ),
        ApiFault(
            "empty days (every bucket empty)",
            (FaultRule("empty", count=10_000),),
            exact_when_completed=False,
        ),
    ]


def _burst() -> tuple[FaultRule, ...]:
    return (
        FaultRule("5xx", status=500, count=1),
        FaultRule("5xx", status=502, count=1),
        FaultRule("5xx", status=503, count=2),
    )


def run_api_fault(suite: Suite, fault: ApiFault) -> CaseResult:
    """Disturbed run through the proxy, then a clean re-run; compare with the reference."""

    @_timed("API faults", fault.name)
    def case() -> CaseResult:
        window = suite.api_window
        reference = suite.reference(window)
        plan = FaultPlan(list(fault.rules))
        ws = suite.workspace("api")
        with FaultProxy(suite.sim_url, plan) as proxy:
            ws.base_url = proxy.base_url
            disturbed = ws.backfill(*window, **dict(fault.env))
        fired = plan.summary()
        after_disturbed = harness.mart_fingerprint(ws.warehouse)
        # A completed disturbed run with reference-equal marts already proves the point; the
        # clean re-run is needed only when it failed or its marts (legitimately) differ.
        if disturbed.returncode == 0 and after_disturbed == reference:
            clean, final = disturbed, after_disturbed
        else:
            ws.base_url = suite.sim_url
            clean = ws.backfill(*window)
            final = harness.mart_fingerprint(ws.warehouse)
        return _api_verdict(fault, disturbed, fired, after_disturbed, clean, final, reference)

    return case()


def _api_verdict(fault, disturbed, fired, after, clean, final, reference) -> CaseResult:
    completed = disturbed.returncode == 0
    facts = {
        "faults_fired": fired,
        "disturbed_exit": disturbed.returncode,
        "disturbed_error": disturbed.error_line()[:500],
        "disturbed_equals_reference": after == reference,
        "rerun_exit": clean.returncode,
        "rerun_equals_reference": final == reference,
        "disturbed_seconds": round(disturbed.seconds, 1),
    }
    problems = []
    fired = dict(fired)  # the facts keep the full record
    if fired.pop("client_timeouts", 1) == 0:
        problems.append("the client never timed out: the stall outlived the request")
    if not all(fired.values()):
        problems.append(f"a fault never fired ({fired})")
    if completed and fault.exact_when_completed and after != reference:
        problems.append("the disturbed run completed with marts that differ from the reference")
    if not completed and not _one_clear_error(disturbed):
        problems.append("the disturbed run failed without one clear error line")
    if clean.returncode != 0 or final != reference:
        problems.append("the clean re-run did not restore the reference marts")
    how = "completed" if completed else f"failed: {disturbed.failure_line()[:160]}"
    if completed and after == reference:
        how += " with reference-equal marts"
    detail = how + ("; " + "; ".join(problems) if problems else "; re-run equals reference")
    return CaseResult("API faults", fault.name, "fail" if problems else "pass", 0, detail, facts)


# --------------------------------------------------------------------------------------------
# Crashes


def _stage_trigger(stage: str, ws: Workspace, rng: random.Random) -> Callable[[str, float], bool]:
    """When to SIGKILL for a stage, seen in the run's output or files, plus a random delay."""
    delay = rng.uniform(0.0, 1.5)
    marks: dict[str, float] = {}

    def seen(text: str, elapsed: float) -> bool:
        if stage == "random":
            return elapsed >= marks.setdefault("t", rng.uniform(2.0, 60.0))
        hit = {
            "extract": "organization/usage/completions: page 1" in text,
            "load": _has_normalized_package(ws),
            "dbt": "Running dbt command" in text,
            "publish": _publish_started(text),
        }[stage]
        if hit:
            marks.setdefault("hit", elapsed)
        return "hit" in marks and elapsed >= marks["hit"] + delay

    return seen


def _has_normalized_package(ws: Workspace) -> bool:
    folder = ws.dlt_dir / "openai_usage" / "load" / "normalized"
    return folder.exists() and any(folder.iterdir())


def _publish_started(text: str) -> bool:
    # After dbt finishes, the run's serving steps (report, publish when present) run.
    return "Spend report" in text or " - report - " in text or " - publish" in text


CRASH_STAGES = ("extract", "load", "dbt", "publish", "random")


def crash_case(suite: Suite, kills: int = 20, verify_every: int = 5, seed: int = 8) -> list:
    """SIGKILL `kills` runs on one warehouse, cycling through the stages, each kill landing on
    whatever the previous one left; after every `verify_every` kills a clean re-run must leave
    reference-equal marts. One result per verified batch."""
    rng = random.Random(seed)
    ws = suite.workspace("crash")
    reference = suite.reference(CRASH_WINDOW)
    stages = [CRASH_STAGES[i % len(CRASH_STAGES)] for i in range(kills)]
    batches = [stages[i : i + verify_every] for i in range(0, kills, verify_every)]
    return [_crash_batch(ws, batch, rng, reference) for batch in batches]


def _crash_batch(ws: Workspace, stages: list[str], rng: random.Random, reference) -> CaseResult:
    @_timed("Crashes", f"SIGKILL during {', '.join(stages)}, then re-run")
    def case() -> CaseResult:
        killed_at = []
        for stage in stages:
            killed, elapsed, _ = ws.kill_when(*CRASH_WINDOW, _stage_trigger(stage, ws, rng))
            killed_at.append(f"{stage}@{elapsed:.0f}s" if killed else f"{stage}:ran-to-end")
        clean = ws.backfill(*CRASH_WINDOW)
        final = harness.mart_fingerprint(ws.warehouse)
        kills_done = sum("@" in k for k in killed_at)
        facts = {
            "kills": killed_at,
            "rerun_exit": clean.returncode,
            "rerun_error": clean.failure_line()[:500],
            "rerun_equals_reference": final == reference,
        }
        ok = clean.returncode == 0 and final == reference and kills_done > 0
        detail = f"{kills_done} kills ({', '.join(killed_at)}); re-run " + (
            "equals reference"
            if ok
            else f"exit {clean.returncode} {clean.failure_line()[:200]}, equal={final == reference}"
        )
        return CaseResult("Crashes", "", "pass" if ok else "fail", 0, detail, facts)

    return case()


# --------------------------------------------------------------------------------------------
# Concurrency


@_timed("Concurrency", "scheduled run + manual backfill overlapping (same DAGSTER_HOME)")
def overlap_same_home(suite: Suite) -> CaseResult:
    """The lookback window of a scheduled run and a wider manual backfill, started together."""
    reference = suite.reference(CRASH_WINDOW)
    ws = suite.workspace("overlap")
    scheduled = (CRASH_WINDOW[1] - dt.timedelta(days=3), CRASH_WINDOW[1])
    outcomes = _concurrently(ws, [CRASH_WINDOW, scheduled])
    final = harness.mart_fingerprint(ws.warehouse)
    lock_errors = sum("Could not set lock" in o.output for o in outcomes)
    # The later run waits for the whole earlier one (scripts/backfill.py, paths.run_lock_path).
    waited = sum("Another run is writing" in o.output for o in outcomes)
    facts = {
        "runs_that_waited": waited,
        "exits": [o.returncode for o in outcomes],
        "errors": [o.failure_line()[:300] for o in outcomes],
        "lock_error_runs": lock_errors,
        "equals_reference": final == reference,
    }
    ok = (
        all(o.returncode == 0 for o in outcomes)
        and final == reference
        and not lock_errors
        and waited == 1
    )
    detail = (
        f"exits {facts['exits']}, {waited} run waited for the other, "
        f"lock errors in {lock_errors} run(s), marts equal reference: "
        f"{final == reference}"
    )
    if not ok:
        detail += f"; differing marts: {harness.differing_marts(final, reference)}"
        detail += f"; first error: {next((e for e in facts['errors'] if e), 'none')[:200]}"
    return CaseResult("Concurrency", "", "pass" if ok else "fail", 0, detail, facts)


def _concurrently(ws: Workspace, windows: list[tuple]) -> list[Outcome]:
    results: list[Outcome | None] = [None] * len(windows)

    def go(i: int) -> None:
        time.sleep(0.5 * i)
        results[i] = ws.backfill(*windows[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(windows))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


@_timed("Concurrency", "BI reader holds the serving file across runs")
def serving_reader(suite: Suite) -> CaseResult:
    """Hold the published serving DuckDB file open read-only while two runs publish."""
    reference = suite.reference(CRASH_WINDOW)
    ws = suite.workspace("serving-reader")
    first = ws.backfill(*CRASH_WINDOW)
    served = sorted(ws.serving.rglob("*.duckdb"))
    if first.returncode != 0 or not served:
        return CaseResult(
            "Concurrency",
            "",
            "fail",
            0,
            f"first run exit {first.returncode}, serving files {served}: "
            f"{first.failure_line()[:200]}",
        )
    with duckdb.connect(str(served[0]), read_only=True) as reader:
        tables = reader.execute("select count(*) from information_schema.tables").fetchone()[0]
        second = ws.backfill(*CRASH_WINDOW)
        still = reader.execute("select count(*) from information_schema.tables").fetchone()[0]
    final = harness.mart_fingerprint(ws.warehouse)
    ok = second.returncode == 0 and final == reference and tables == still
    detail = f"reader on {served[0].name}: second run exit {second.returncode}, " + (
        "marts equal reference" if ok else second.failure_line()[:200]
    )
    return CaseResult("Concurrency", "", "pass" if ok else "fail", 0, detail)


@_timed("Concurrency", "reader holding the working file (documented limitation)")
def working_file_reader(suite: Suite) -> CaseResult:
    """A read-only reader on the working file blocks the writer: check the failure is clear."""
    ws = suite.workspace("working-reader")
    suite.reference_copy(CRASH_WINDOW, ws)
    before = harness.mart_fingerprint(ws.warehouse)
    with duckdb.connect(str(ws.warehouse), read_only=True):
        blocked = ws.backfill(*CRASH_WINDOW)
    after = harness.mart_fingerprint(ws.warehouse)
    clear = _one_clear_error(blocked) and "lock" in blocked.error_line().lower()
    ok = blocked.returncode != 0 and clear and before == after
    detail = (
        f"exit {blocked.returncode}: {blocked.error_line()[:220]}; marts unchanged: "
        f"{before == after}"
    )
    return CaseResult("Concurrency", "", "pass" if ok else "fail", 0, detail)


# --------------------------------------------------------------------------------------------
# Bad input


@dataclass(frozen=True)
class BadInput:
    name: str
    start: str
    end: str
    env: tuple[tuple[str, str], ...]
    expect: tuple[str, ...]  # every one of these must be in the error line (case-insensitive)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bad_inputs() -> list[BadInput]:
    s, e = CRASH_WINDOW[0].isoformat(), CRASH_WINDOW[1].isoformat()
    future = (harness.TODAY + dt.timedelta(days=5)).isoformat()
    port = _closed_port()
    return [
        BadInput(
            "non-admin key (403)",
            s,
            e,
            (("OPENAI_ADMIN_KEY", "sk-RELIABILITY-not-admin"),),
            ("admin", "api.usage.read"),
        ),
        BadInput(
            "project key sk-proj- (rejected up front)",
            s,
            e,
            (("OPENAI_ADMIN_KEY", "sk-proj-RELIABILITY-x"),),
            ("admin", "OPENAI_ADMIN_KEY"),
        ),
        BadInput(
            "invalid key (401)",
            s,
            e,
            (("OPENAI_ADMIN_KEY", "RELIABILITY-invalid"),),
            ("401", "OPENAI_ADMIN_KEY"),
        ),
        BadInput(
            "unreachable base URL",
            s,
            e,
            (
                ("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1"),
                ("RUNTIME__REQUEST_MAX_ATTEMPTS", "2"),
            ),
            (f"127.0.0.1:{port}",),
        ),
        BadInput("START after END", e, s, (), ("after END", "swap")),
        BadInput("START before USAGE_START_DATE", "2020-01-01", e, (), ("USAGE_START_DATE",)),
        BadInput("END in the future", s, future, (), ("future",)),
        BadInput(
            "USAGE_BUCKET_WIDTH=2h", s, e, (("USAGE_BUCKET_WIDTH", "2h"),), ("USAGE_BUCKET_WIDTH",)
        ),
        BadInput(
            "USAGE_START_DATE=garbage",
            s,
            e,
            (("USAGE_START_DATE", "garbage"),),
            ("USAGE_START_DATE",),
        ),
        BadInput("START not a date", "2025-13-45", e, (), ("YYYY-MM-DD",)),
        BadInput(
            "OPENAI_ORGANIZATIONS malformed",
            s,
            e,
            (("OPENAI_ORGANIZATIONS", "{not json"),),
            ("OPENAI_ORGANIZATIONS",),
        ),
    ]


def run_bad_input(suite: Suite, bad: BadInput) -> CaseResult:
    """Run on a copy of the reference warehouse: the error is clear and the marts untouched."""

    @_timed("Bad input", bad.name)
    def case() -> CaseResult:
        ws = suite.workspace("bad-input")
        suite.reference_copy(CRASH_WINDOW, ws)
        before = harness.mart_fingerprint(ws.warehouse)
        outcome = ws.backfill(bad.start, bad.end, **dict(bad.env))
        after = harness.mart_fingerprint(ws.warehouse)
        line = outcome.error_line()
        missing = [w for w in bad.expect if w.lower() not in line.lower()]
        ok = _one_clear_error(outcome) and not missing and before == after
        detail = f"exit {outcome.returncode} in {outcome.seconds:.0f} s: {line[:260]}"
        if missing:
            detail += f" (does not name {missing})"
        if before != after:
            detail += " (marts changed: half-written)"
        return CaseResult(
            "Bad input",
            bad.name,
            "pass" if ok else "fail",
            0,
            detail,
            {"error": line, "exit": outcome.returncode},
        )

    return case()


# --------------------------------------------------------------------------------------------
# Secrets


@_timed("Secrets", "admin key value appears nowhere after the whole suite")
def secrets_scan(suite: Suite, extra_text: str = "") -> CaseResult:
    """Grep every file the suite produced (warehouses, serving, Dagster homes, dlt state, logs,
    dbt logs/target of the repo) and every varchar column of every DuckDB file for the key."""
    key = harness.SECRET_KEY
    roots = [
        suite.root,
        harness.REPO_ROOT / "dbt_models" / "logs",
        harness.REPO_ROOT / "dbt_models" / "target",
        harness.REPO_ROOT / "logs",
    ]
    hits = [hit for root in roots if root.exists() for hit in harness.files_containing(root, key)]
    databases = [p for p in suite.root.rglob("*.duckdb") if p.is_file()]
    for path in databases:
        try:
            hits += [f"{path}:{col}" for col in harness.duckdb_values_containing(path, key)]
        except duckdb.Error as exc:
            hits.append(f"{path}: could not scan ({exc})")
    if key in extra_text:
        hits.append("runner output")
    files = sum(1 for root in roots if root.exists() for p in root.rglob("*") if p.is_file())
    detail = f"scanned {files} files and {len(databases)} DuckDB files: " + (
        "key found nowhere" if not hits else f"key found in {hits[:5]}"
    )
    return CaseResult("Secrets", "", "fail" if hits else "pass", 0, detail, {"hits": hits})


# --------------------------------------------------------------------------------------------
# Endurance


def count_api_rows(base_url: str, path: str, start: dt.date, end: dt.date, width: str) -> int:
    """Results the API itself returns for `[start, end]` (an independent expected row count)."""
    limit = {"1h": 168, "1d": 180 if "costs" in path else 31}[width]
    query = {
        "start_time": _ts(start),
        "end_time": _ts(end + dt.timedelta(days=1)),
        "bucket_width": width,
        "limit": limit,
    }
    if "completions" in path:
        query["group_by"] = [
            "project_id",
            "user_id",
            "api_key_id",
            "model",
            "batch",
            "service_tier",
        ]
    else:
        query["group_by"] = ["project_id", "line_item"]
    headers = {"Authorization": f"Bearer {harness.SECRET_KEY}"}
    rows = 0
    for _ in range(100_000):  # bounded: about 160 pages for 3 years at 1h
        page = requests.get(f"{base_url}/{path}", params=query, headers=headers, timeout=60).json()
        rows += sum(len(b.get("results") or []) for b in page["data"])
        if not page.get("has_more"):
            return rows
        query["page"] = page["next_page"]
    raise RuntimeError("pagination did not end")


def _ts(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


ENDURANCE_TIMEOUT_S_PER_YEAR = 600


def endurance(sim_url: str, suite: Suite, years: int = 3, daily_runs: int = 30) -> list[CaseResult]:
    """A multi-year backfill at 1h, then `daily_runs` lookback runs `[d-3, d]` for past days d."""
    # Its own simulator (three years of history): the runs and the expected counts must both
    # use it (the runs went to the suite's simulator before, and the counts could not match).
    ws = suite.workspace("endurance", base_url=sim_url)
    ws.extra_env = {
        "USAGE_BUCKET_WIDTH": "1h",
        "USAGE_START_DATE": days_ago(365 * years + daily_runs + 5).isoformat(),
    }
    first, last = days_ago(365 * years + daily_runs + 1), days_ago(daily_runs + 1)
    results = [_endurance_backfill(sim_url, ws, first, last, years)]
    results.append(_endurance_daily(sim_url, ws, first, daily_runs))
    return results


def _endurance_backfill(sim_url, ws, first, last, years) -> CaseResult:
    @_timed("Endurance", f"{years}-year backfill at 1h")
    def case() -> CaseResult:
        # A multi-year backfill is one long run by design (a single-run backfill policy); the
        # suite's per-run bound is for the short windows of the other cases.
        outcome = ws.backfill(first, last, timeout_s=ENDURANCE_TIMEOUT_S_PER_YEAR * years)
        if outcome.returncode != 0:
            return CaseResult(
                "Endurance",
                "",
                "fail",
                0,
                f"exit {outcome.returncode} after {outcome.seconds:.0f} s: "
                f"{outcome.failure_line()[:300]}",
            )
        return _exact_counts(sim_url, ws, first, last, f"{first}..{last}", outcome.seconds)

    return case()


def _endurance_daily(sim_url, ws, first, daily_runs) -> CaseResult:
    @_timed("Endurance", f"{daily_runs} daily lookback runs after it")
    def case() -> CaseResult:
        sizes = [_state_sizes(ws)]
        failures = []
        for n in range(daily_runs, 0, -1):
            day = days_ago(n)
            outcome = ws.backfill(day - dt.timedelta(days=3), day)
            if outcome.returncode != 0:
                failures.append(f"{day}: {outcome.failure_line()[:160]}")
            sizes.append(_state_sizes(ws))
        counted = _exact_counts(sim_url, ws, first, days_ago(1), "after daily runs", 0)
        growth = _growth(sizes)
        # Leftover working state (dlt, dbt) must stay flat; Dagster's storage is its run history
        # (events, materializations, check results), reported per run.
        flat = growth["dlt_bytes_per_run"] < 50_000 and growth["dbt_bytes_per_run"] < 50_000
        ok = not failures and counted.outcome == "pass" and flat
        detail = f"{len(failures)} failed runs; {counted.detail}; state growth {growth}"
        if failures:
            detail += f"; first failure {failures[0]}"
        return CaseResult(
            "Endurance",
            "",
            "pass" if ok else "fail",
            0,
            detail,
            {"sizes": sizes, **growth, "failures": failures},
        )

    return case()


def _state_sizes(ws: Workspace) -> dict[str, int]:
    return {
        "dlt": harness.tree_bytes(ws.dlt_dir),
        "dbt": harness.tree_bytes(ws.dbt_dir),
        "dagster": harness.tree_bytes(ws.dagster_home),
    }


def _growth(sizes: list[dict[str, int]]) -> dict[str, int]:
    """Bytes per run that dlt and dbt state and Dagster storage grow by over the daily runs
    (second half, after first-run warm-up), and their final sizes."""
    half = len(sizes) // 2
    runs = max(len(sizes) - 1 - half, 1)
    growth = {}
    for name in sizes[0]:
        growth[f"{name}_bytes_per_run"] = (sizes[-1][name] - sizes[half][name]) // runs
        growth[f"{name}_bytes_final"] = sizes[-1][name]
    return growth


def _exact_counts(sim_url, ws, first, last, label, seconds) -> CaseResult:
    expected = {
        "completions_usage": count_api_rows(sim_url, USAGE_PATH, first, last, "1h"),
        "costs": count_api_rows(sim_url, "organization/costs", first, last, "1d"),
    }
    got = harness.raw_counts(ws.warehouse)
    ok = got == expected
    detail = f"{label}: raw rows {got}, API rows {expected}" + (
        f", backfill {seconds:.0f} s" if seconds else ""
    )
    return CaseResult(
        "Endurance", "", "pass" if ok else "fail", 0, detail, {"raw": got, "api": expected}
    )

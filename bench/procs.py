"""Subprocesses: measured worker runs, the simulator process and the page replayer."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from scripts.sim_process import ready_process

REPO_ROOT = Path(__file__).resolve().parents[1]

RESULT = "BENCH_RESULT "


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: repo importable, dlt quiet and offline."""
    env = {
        **os.environ,
        # dbt is run by name: the interpreter's own bin folder first, as `uv run` would do.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(REPO_ROOT),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "RUNTIME__LOG_LEVEL": "WARNING",
    }
    return {**env, **(extra or {})}


def run_measured(task: str, args: dict[str, Any], env: dict[str, str] | None = None) -> dict:
    """Run `python -m bench.worker task` in a fresh process; its metrics and its own result.

    Wall time is taken around the whole process (interpreter start and imports included). CPU
    and peak RSS come from `wait4`, so they cover the worker and every child it waited for
    (dbt's subprocesses in the Dagster runs); ru_maxrss is the largest of them, not a sum.
    The whole tree's peak (worker and children resident at once) is sampled beside it.
    """
    argv = [sys.executable, "-m", "bench.worker", task, json.dumps(args)]
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        launched_at = time.time()
        proc = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=worker_env(env), stdout=subprocess.PIPE, stderr=err, text=True
        )
        with TreeMemory(proc.pid) as tree:
            out = proc.stdout.read() if proc.stdout else ""
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(
                f"bench worker {task} failed ({proc.returncode}):\n{err.read()[-4000:]}"
            )
    result = _parse_result(out)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
        "tree_peak_rss_mb": tree.peak_bytes / 2**20,
        "launched_at": launched_at,
        **result,
    }


class TreeMemory:
    """The largest sum of resident memory over a process and its descendants, sampled.

    `ru_maxrss` gives one process's peak; a Dagster run's worker and its dbt subprocess are
    resident at the same time, and what a machine must hold is their sum. Sampling every
    `interval` seconds can miss a peak shorter than that.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.peak_bytes = 0
        self._root = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, _tree_rss(self._root))
            self._stop.wait(self._interval)


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:  # the worker has exited
        return 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def _parse_result(out: str) -> dict:
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])
    raise RuntimeError(f"bench worker printed no result line: {out[-2000:]!r}")


class SimulatorProcess:
    """`python -m bench.simserver`: the simulator in its own process, with its request log.

    The log is read through the process's stdin/stdout (`requests`, `reset` commands), so the
    measured client never shares a process, a GIL or a heap with the server.
    """

    def __init__(self, proc: subprocess.Popen, base_url: str) -> None:
        self.proc = proc
        self.base_url = base_url

    def _command(self, name: str) -> Any:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def requests(self) -> list[dict]:
        """Every request received since the last reset: method, path, query, status."""
        return self._command("requests")

    def reset(self) -> None:
        """Forget the request log."""
        self._command("reset")


@contextlib.contextmanager
def simulator(
    seed: int,
    groups_per_hour: int,
    history_days: int,
    latency_ms: float = 0.0,
    rate_limit_rps: float | None = None,
    burst: int = 10,
) -> Iterator[SimulatorProcess]:
    """Start the simulator in a separate process on a free port; stop it after."""
    argv = [
        sys.executable, "-m", "bench.simserver",
        "--seed", str(seed),
        "--groups-per-hour", str(groups_per_hour),
        "--history-days", str(history_days),
        "--latency-ms", str(latency_ms),
        "--burst", str(burst),
    ]  # fmt: skip
    if rate_limit_rps is not None:
        argv += ["--rate-limit", str(rate_limit_rps)]
    with _serving(argv) as (proc, base_url):
        yield SimulatorProcess(proc, base_url)


@contextlib.contextmanager
def replayer(pages_dir: Path) -> Iterator[str]:
    """Serve recorded pages from disk (`bench.replay`); yields its base URL."""
    argv = [sys.executable, "-m", "bench.replay", "serve", str(pages_dir)]
    with _serving(argv) as (_, base_url):
        yield base_url


def _serving(argv: list[str]) -> contextlib.AbstractContextManager[tuple[subprocess.Popen, str]]:
    return ready_process(argv, env=worker_env(), stdin=True)

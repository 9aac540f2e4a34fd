"""`make dev` stops on SIGTERM and on SIGINT and leaves no process of its tree behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from scripts import dev
from scripts.dagster_ui import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
# Generous bounds for a loaded 2-core machine; they guard the waits, nothing is timed.
LOAD_TIMEOUT_S = 420
STOP_TIMEOUT_S = 300
LOCATION_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def test_a_requested_stop_exits_0_and_dagster_ending_by_itself_passes_its_status_on():
    assert dev.exit_status(0, signal.SIGTERM) == 0
    assert dev.exit_status(-signal.SIGINT, signal.SIGINT) == 0
    assert dev.exit_status(1, signal.SIGINT) == 0
    assert dev.exit_status(0, None) == 0
    assert dev.exit_status(3, None) == 3
    assert dev.exit_status(-signal.SIGKILL, None) == 128 + signal.SIGKILL


def test_only_the_first_stop_signal_acts():
    # a repeat is ignored: `uv run` passes a Ctrl-C on again, and `dagster dev` abandons its
    # shutdown on a second interrupt
    assert dev.stop_action(stopping=True, started=True, launching=False) == "ignore"
    assert dev.stop_action(stopping=True, started=False, launching=False) == "ignore"
    assert dev.stop_action(stopping=False, started=True, launching=False) == "forward"
    assert dev.stop_action(stopping=False, started=False, launching=True) == "record"
    assert dev.stop_action(stopping=False, started=False, launching=False) == "unwind"


def test_dagster_dev_is_sent_a_signal_it_stops_its_children_on():
    assert dev.forwarded_signal(signal.SIGINT) == signal.SIGINT
    assert dev.forwarded_signal(signal.SIGTERM) == signal.SIGTERM
    assert dev.forwarded_signal(signal.SIGHUP) == signal.SIGTERM


def test_stop_group_ends_a_process_that_ignores_sigterm(tmp_path):
    ready = tmp_path / "ready"
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pathlib, signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "pathlib.Path(sys.argv[1]).touch()\n"
            "time.sleep(600)\n",
            str(ready),
        ],
        start_new_session=True,
    )
    try:
        while not ready.exists():
            assert stubborn.poll() is None
            time.sleep(0.05)
        dev.stop_group(stubborn.pid, grace=1.0)
        assert stubborn.wait(timeout=60) == -signal.SIGKILL
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
            stubborn.wait()


def _wait_until_loaded(proc: subprocess.Popen, port: int, log: Path) -> None:
    """Until the webserver answers and the code location is loaded (every process is up)."""
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"make dev exited {proc.returncode} early:\n{log.read_text()[-3000:]}")
        try:
            info = requests.get(f"http://127.0.0.1:{port}/server_info", timeout=5)
            answer = requests.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": LOCATION_QUERY}, timeout=10
            )
        except requests.RequestException:
            time.sleep(1)
            continue
        if info.ok and answer.ok:
            entries = answer.json()["data"]["workspaceOrError"].get("locationEntries", [])
            loaded = [e["locationOrLoadError"] for e in entries if e["loadStatus"] == "LOADED"]
            errors = [e["message"] for e in loaded if e["__typename"] == "PythonError"]
            assert not errors, errors
            if entries and len(loaded) == len(entries):
                return
        time.sleep(1)
    pytest.fail(f"the code location did not load in {LOAD_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _command_lines(procs: list[psutil.Process]) -> str:
    lines = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            lines.append(" ".join(proc.cmdline()))
    return "\n".join(lines)


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Processes still running (a zombie has exited; only its parent or init has to reap it)."""
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


def _kill_all(procs: list[psutil.Process]) -> None:
    for proc in _alive(procs):
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


MAKE_DEV = ["make", "--no-print-directory", "dev"]


@pytest.mark.e2e
@pytest.mark.timeout(LOAD_TIMEOUT_S + STOP_TIMEOUT_S + 120)
@pytest.mark.parametrize(
    ("command", "signum", "to_group", "status"),
    # (scripts/dev.py's own exit status after a requested stop: exit_status, tested above.)
    [
        # Ctrl-C in a terminal: SIGINT to every process of the foreground group (make, uv,
        # scripts/dev.py, the simulator); make then ends itself with the same signal.
        pytest.param(MAKE_DEV, signal.SIGINT, True, -signal.SIGINT, id="make-dev-Ctrl-C"),
        # A supervisor stopping `make dev`: SIGTERM to make alone, which passes it on.
        pytest.param(MAKE_DEV, signal.SIGTERM, False, -signal.SIGTERM, id="make-dev-SIGTERM"),
    ],
)
def test_dev_stops_on_a_signal_and_leaves_no_process(tmp_path, command, signum, to_group, status):
    port = free_port()
    home = tmp_path / "dagster_home"
    env = {
        **os.environ,
        "DAGSTER_PORT": str(port),
        "DAGSTER_HOME": str(home),
        "WAREHOUSE_PATH": str(tmp_path / "warehouse" / "openai_usage.duckdb"),
        # dbt on PATH, as `uv run` (make dev) puts it there
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    env.pop("OPENAI_ADMIN_KEY", None)  # the simulator is part of the tree
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, like a terminal's foreground job
        )
    tree: list[psutil.Process] = [psutil.Process(proc.pid)]
    try:
        _wait_until_loaded(proc, port, log)
        tree = _tree(proc.pid)
        running = _command_lines(tree)
        for part in ("dagster dev", "dagster_webserver", "dagster._daemon", "-m simulator"):
            assert part in running, f"{part!r} is not in the tree:\n{running}"
        assert "grpc" in running  # the code server

        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        returncode = proc.wait(timeout=STOP_TIMEOUT_S)

        output = log.read_text()
        assert returncode == status, output[-3000:]
        # `dagster dev` itself stopped its webserver and daemon (it was not killed).
        assert "Dagster services shut down." in output, output[-3000:]
        left = _alive(tree)
        assert not left, f"still running:\n{_command_lines(left)}"
    finally:
        # A failed test must not leave its tree behind either.
        if proc.poll() is None:
            tree += _tree(proc.pid)
        _kill_all(tree)
        proc.wait(timeout=60)

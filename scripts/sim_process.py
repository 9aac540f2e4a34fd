"""Run the simulator as a subprocess for the demo, `make dev` and end-to-end tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
READY = "SIMULATOR_READY "


@contextlib.contextmanager
def ready_process(
    argv: list[str], env: dict[str, str] | None = None, stdin: bool = False
) -> Iterator[tuple[subprocess.Popen, str]]:
    """Start a server that prints `SIMULATOR_READY <url>` first; yield (process, url); stop it."""
    proc = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith(READY):
            raise RuntimeError(f"{argv[2]} did not start (exit code {proc.poll()}): {line!r}")
        yield proc, line[len(READY) :].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def simulator_process(
    seed: int = 42, *extra_args: str, profile: str = "rich"
) -> Iterator[tuple[str, str]]:
    """Start `python -m simulator` on a free port with the organization `profile` (rich, fresh
    or sparse); yield (base_url, admin key); stop it after."""
    from simulator import ADMIN_KEY

    argv = [sys.executable, "-m", "simulator", "--port", "0", "--seed", str(seed)]
    argv += ["--profile", profile, *extra_args]
    with ready_process(argv) as (_, base_url):
        yield base_url, ADMIN_KEY

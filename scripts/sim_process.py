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
def simulator_process(seed: int = 42, *extra_args: str) -> Iterator[tuple[str, str]]:
    """Start `python -m simulator` on a free port; yield (base_url, admin key); stop it after."""
    from simulator import ADMIN_KEY

    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--seed", str(seed), *extra_args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith(READY):
            raise RuntimeError(f"simulator did not start (exit code {proc.poll()}): {line!r}")
        yield line[len(READY) :].strip(), ADMIN_KEY
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

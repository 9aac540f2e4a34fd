"""`make dev`: the Dagster UI and daemon (schedule, backfills) on this code location.

With OPENAI_ADMIN_KEY set it works on the real organization at OPENAI_BASE_URL; without it the
simulator is started first and the code location is pointed at it.

SIGINT (Ctrl-C), SIGTERM and SIGHUP stop it and leave no process behind. `dagster dev` runs in a
process group of its own: the first signal is passed to it alone, so it stops its webserver,
daemon and code servers in order (a Ctrl-C from the terminal would otherwise also hit them in the
middle of that shutdown). Later signals are not passed on: `uv run` (under `make dev`) sends a
Ctrl-C on to its child a second time, and a second interrupt makes `dagster dev` abandon its
shutdown. Whatever is left of the group once it exits (a run worker, say) gets SIGTERM, then
SIGKILL; then the simulator stops.

Exit status: 0 after a stop that was asked for, since stopping is how a `make dev` session ends
(make then reports no error and a supervisor logs a clean stop); if `dagster dev` ends by itself,
its own status (128 + N if signal N killed it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.backfill import planned_events_per_asset  # noqa: E402
from scripts.instance import dagster_instance  # noqa: E402
from scripts.sim_process import REPO_ROOT, simulator_process  # noqa: E402

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How long what is left of Dagster's process group gets after SIGTERM (and again after SIGKILL).
GROUP_GRACE_SECONDS = 10.0


class StopRequested(Exception):
    """A stop signal arrived before Dagster was started: unwind (the simulator stops)."""


def exit_status(returncode: int, stop_signal: int | None) -> int:
    """The status `make dev` exits with, given `dagster dev`'s and the stop signal (if any)."""
    if stop_signal is not None:
        return 0
    return returncode if returncode >= 0 else 128 - returncode


def stop_action(stopping: bool, started: bool, launching: bool) -> str:
    """What a stop signal does: `ignore` a repeat, `forward` the first to a started `dagster dev`,
    `record` it while the process is being created (it is passed on once it exists), else
    `unwind` (nothing of Dagster runs yet)."""
    if stopping:
        return "ignore"
    if started:
        return "forward"
    return "record" if launching else "unwind"


def forwarded_signal(signum: int) -> int:
    """What `dagster dev` is sent for `signum`: it stops in order on SIGINT or SIGTERM, while
    SIGHUP's default action would end it without stopping its children."""
    return signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM


def signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to process group `pgid`; False when the group is empty."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def stop_group(pgid: int, grace: float = GROUP_GRACE_SECONDS) -> None:
    """SIGTERM what is left of process group `pgid`, SIGKILL it if it outlives `grace`."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not signal_group(pgid, signum):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not signal_group(pgid, 0):
                return
            time.sleep(0.1)


class DagsterDev:
    """`dagster dev` as the leader of a new process group, stopped by the first stop signal
    (later ones are ignored)."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.command = command
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.stop_signal: int | None = None
        self._launching = False
        self._forwarded = False

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        action = stop_action(self.stop_signal is not None, self.proc is not None, self._launching)
        if action == "ignore":
            return
        self.stop_signal = signum
        if action == "forward":
            self._forward()
        elif action == "unwind":
            raise StopRequested

    def _forward(self) -> None:
        if self._forwarded or self.proc is None or self.stop_signal is None:
            return
        self._forwarded = True
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(forwarded_signal(self.stop_signal))

    def run(self) -> int:
        """Start `dagster dev`, wait for it, then stop what is left of its group."""
        # A signal while the process is being created is only recorded, then passed on below.
        self._launching = True
        self.proc = subprocess.Popen(self.command, cwd=self.cwd, start_new_session=True)
        self._launching = False
        self._forward()
        try:
            returncode = self.proc.wait()
        finally:
            stop_group(self.proc.pid)
        return exit_status(returncode, self.stop_signal)


def main() -> int:
    port = os.environ.get("DAGSTER_PORT", "3000")
    dagster = DagsterDev(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", port], REPO_ROOT
    )
    for signum in STOP_SIGNALS:
        signal.signal(signum, dagster.on_signal)
    try:
        with contextlib.ExitStack() as stack:
            if not os.environ.get("OPENAI_ADMIN_KEY"):
                base_url, key = stack.enter_context(simulator_process(seed=42))
                os.environ["OPENAI_BASE_URL"] = base_url
                os.environ["OPENAI_ADMIN_KEY"] = key
                print(f"No OPENAI_ADMIN_KEY set: using the simulator at {base_url}", flush=True)
            # The webserver and the daemon would otherwise create a new DAGSTER_HOME's storages
            # at the same moment (scripts/instance.py).
            planned_events_per_asset()  # UI backfills too; scripts/backfill.py says why
            if os.environ.get("DAGSTER_HOME"):
                dagster_instance().dispose()
            return dagster.run()
    except StopRequested:
        return 0


if __name__ == "__main__":
    sys.exit(main())

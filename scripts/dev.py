"""`make dev`: the Dagster UI and daemon (schedule, backfills) on this code location.

With OPENAI_ADMIN_KEY set it works on the real organization at OPENAI_BASE_URL; without it the
simulator is started first and the code location is pointed at it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.backfill import planned_events_per_asset  # noqa: E402
from assets.instance import dagster_instance  # noqa: E402
from scripts.sim_process import REPO_ROOT, simulator_process  # noqa: E402


def main() -> int:
    port = os.environ.get("DAGSTER_PORT", "3000")
    command = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", port]
    with contextlib.ExitStack() as stack:
        if not os.environ.get("OPENAI_ADMIN_KEY"):
            base_url, key = stack.enter_context(simulator_process(seed=42))
            os.environ["OPENAI_BASE_URL"] = base_url
            os.environ["OPENAI_ADMIN_KEY"] = key
            print(f"No OPENAI_ADMIN_KEY set: using the simulator at {base_url}")
        # The webserver and the daemon would otherwise create a new DAGSTER_HOME's storages at
        # the same moment (assets/instance.py).
        planned_events_per_asset()  # UI backfills too; assets/backfill.py says why
        if os.environ.get("DAGSTER_HOME"):
            dagster_instance().dispose()
        try:
            return subprocess.call(command, cwd=REPO_ROOT)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())

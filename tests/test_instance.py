"""Several processes opening a new DAGSTER_HOME at once leave it usable (scripts/instance.py).

Without the lock, 10 of 10 four-process starts here stamped a storage's schema version twice and
every later process failed with alembic's "more than one head present" (CI saw a backfill exit 1
in the reliability suite's overlapping runs).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from scripts.instance import LOCK_FILE
from warehouse.locks import exclusive

REPO_ROOT = Path(__file__).resolve().parents[1]

# Each process waits for the same instant after importing Dagster, so their storage set-up meets.
_OPEN_AT = """
import sys, time
from scripts.instance import dagster_instance
at = float(sys.argv[1])
time.sleep(max(0.0, at - time.time()))
dagster_instance().dispose()
print("opened")
"""


def test_exclusive_lets_one_holder_in_at_a_time(tmp_path):
    lock = tmp_path / LOCK_FILE
    order: list[str] = []
    first_inside = threading.Event()

    def second() -> None:
        first_inside.wait()
        with exclusive(lock):
            order.append("second in")

    thread = threading.Thread(target=second)
    thread.start()
    with exclusive(lock):
        first_inside.set()
        time.sleep(0.5)  # the second holder is blocked for all of this
        order.append("first out")
    thread.join(timeout=10)
    assert order == ["first out", "second in"]


def _schema_stamps(home: Path) -> dict[str, int]:
    stamps = {}
    for db in sorted(home.rglob("*.db")):
        with sqlite3.connect(db) as conn:
            stamps[db.name] = conn.execute("select count(*) from alembic_version").fetchone()[0]
    return stamps


def _together(snippets: list[str], env: dict[str, str], *args: str) -> list[tuple[int, str, str]]:
    """Run each snippet in a process of its own, given the same start instant (`sys.argv[1]`),
    late enough that all have imported, then `args`; each one's exit code, stdout and stderr."""
    at = str(time.time() + 8)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, at, *args],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for code in snippets
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    return [(proc.returncode, out, err) for proc, (out, err) in zip(procs, outputs, strict=True)]


def test_processes_opening_a_new_home_together_all_succeed_and_leave_it_usable(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", home)
    outcomes = _together([_OPEN_AT] * 4, {"DAGSTER_HOME": str(home)})
    assert [code for code, _, _ in outcomes] == [0] * 4, outcomes
    stamps = _schema_stamps(home)
    assert stamps and set(stamps.values()) == {1}, stamps


# A dlt step as dagster-dlt runs it: build the run's pipeline, drop its working folder, again,
# until the definitions loader below has finished (so the two overlap for the loader's whole run).
_STEP_LOOP = """
import sys, time
from pathlib import Path
from assets.resources import dlt_pipeline
from assets.settings import Settings
settings = Settings.from_env()
start, done = float(sys.argv[1]), Path(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
dropped = 0
while not done.exists():
    dlt_pipeline("model_prices", settings).drop()
    dropped += 1
print(dropped)
"""

# Definitions loading, as every run, `make dev`'s webserver and its daemon do: a fixed number of
# times, then it says it is done.
_DEFINITIONS_LOOP = """
import sys, time
from pathlib import Path
from assets.resources import declared_pipeline
from assets.settings import Settings
settings = Settings.from_env()
start, done = float(sys.argv[1]), Path(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
built = failed = 0
for _ in range(40):
    try:
        declared_pipeline("model_prices", settings)
        built += 1
    except OSError as exc:
        failed += 1
        print(repr(exc), file=sys.stderr)
done.touch()
print(built, failed)
"""


def test_loading_definitions_never_races_a_running_dlt_step(tmp_path):
    """Definitions built in the run's working folder failed with FileExistsError or
    FileNotFoundError here (and once in CI, as a backfill that exited 1); they have a folder of
    their own."""
    done = tmp_path / "definitions-done"
    stepped, definitions = _together(
        [_STEP_LOOP, _DEFINITIONS_LOOP],
        {
            "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
            "OPENAI_ADMIN_KEY": "sk-admin-test",
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        },
        str(done),
    )
    for code, _, err in (stepped, definitions):
        assert code == 0, err[-2000:]
    assert int(stepped[1]) > 0  # the step dropped its folder while definitions were loading
    built, failed = (int(n) for n in definitions[1].split())
    assert (built, failed) == (40, 0), definitions[2][-2000:]

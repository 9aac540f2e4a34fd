"""Drive `make dev` the way its UI does, through the webserver's GraphQL API.

Used by the end-to-end tests and the benchmarks: start the UI and daemon on a free port, launch
the same `launchPartitionBackfill` request that the *Materialize* dialog sends, and wait for the
backfill's final status.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
FINAL_BACKFILL_STATUSES = {"COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}
"""

BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      runs { id status endTime }
      error { message }
    }
    ... on PythonError { message }
  }
}
"""

LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) { __typename ... on Run { status startTime endTime } }
}
"""

REPOSITORIES = """
{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {
    ... on RepositoryLocation { name repositories { name } }
} } } } }
"""

ASSET_NODES = """
{ assetNodes { assetKey { path } isMaterializable dependedByKeys { path } } }
"""

WORKSPACE = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


class UIError(RuntimeError):
    """The webserver refused a request or a backfill could not be followed to its end."""


# Below Linux's ephemeral range (32768-60999), which is where port 0 binds land: the simulator
# and every client socket of another process take theirs from there, so none of them can take a
# port chosen here in the seconds before the webserver binds it.
_SERVER_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port nobody listens on, outside the range the kernel hands out for port 0."""
    for port in random.sample(_SERVER_PORTS, 50):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise UIError("no free port below the ephemeral range")


@dataclass
class DagsterUI:
    """A running `make dev` (webserver and daemon) at `url`."""

    url: str
    process: subprocess.Popen

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise UIError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def materializable_assets(self) -> list[list[str]]:
        """What *Materialize all* selects on the global asset graph."""
        nodes = self.graphql(ASSET_NODES)["assetNodes"]
        return sorted(n["assetKey"]["path"] for n in nodes if n["isMaterializable"])

    def with_downstream(self, asset_paths: list[list[str]]) -> list[list[str]]:
        """The assets and everything downstream of them (the UI's `key*` selection)."""
        nodes = self.graphql(ASSET_NODES)["assetNodes"]
        children = {
            tuple(n["assetKey"]["path"]): [tuple(k["path"]) for k in n["dependedByKeys"]]
            for n in nodes
            if n["isMaterializable"]
        }
        seen: set[tuple[str, ...]] = set()
        todo = [tuple(path) for path in asset_paths]
        while todo:
            key = todo.pop()
            if key not in seen and key in children:
                seen.add(key)
                todo += children[key]
        return sorted(list(key) for key in seen)

    def launch_backfill(self, asset_paths: list[list[str]], partitions: list[str]) -> str:
        """The request the UI's *Materialize* dialog sends for a partition range (its
        *Launch backfill* button on the global asset graph); returns the backfill's id."""
        params = {
            "assetSelection": [{"path": path} for path in asset_paths],
            "partitionNames": partitions,
            "fromFailure": False,
            "tags": [{"key": "dagster/from_ui", "value": "true"}],
        }
        result = self.graphql(LAUNCH_BACKFILL, {"backfillParams": params})
        launched = result["launchPartitionBackfill"]
        if launched["__typename"] != "LaunchBackfillSuccess":
            raise UIError(f"Backfill not launched: {launched}")
        return launched["backfillId"]

    def wait_backfill(self, backfill_id: str, timeout_s: float = 900) -> dict:
        """Poll the backfill until it reaches a final status; returns status, runs and error."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UIError(f"make dev exited with {self.process.returncode}")
            backfill = self.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
            if backfill["__typename"] != "PartitionBackfill":
                raise UIError(f"Backfill {backfill_id}: {backfill}")
            if backfill["status"] in FINAL_BACKFILL_STATUSES and all(
                run["status"] in {"SUCCESS", "FAILURE", "CANCELED"} for run in backfill["runs"]
            ):
                return backfill
            time.sleep(1)
        raise UIError(f"Backfill {backfill_id} did not finish in {timeout_s:.0f} s")

    def launch_job(self, job: str, tags: dict[str, str]) -> str:
        """Launch `job` of the (only) code location with `tags`, as the schedule's run request
        does; returns the run's id."""
        entries = self.graphql(REPOSITORIES)["workspaceOrError"]["locationEntries"]
        (location,) = [e["locationOrLoadError"] for e in entries]
        (repository,) = location["repositories"]
        params = {
            "selector": {
                "repositoryLocationName": location["name"],
                "repositoryName": repository["name"],
                "jobName": job,
            },
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        launched = self.graphql(LAUNCH_RUN, {"executionParams": params})["launchRun"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise UIError(f"Run not launched: {launched}")
        return launched["run"]["runId"]

    def wait_run(self, run_id: str, timeout_s: float = 900) -> dict:
        """Poll a run until it ends; returns its status, start and end times."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            run = self.graphql(RUN, {"id": run_id})["runOrError"]
            if run.get("status") in {"SUCCESS", "FAILURE", "CANCELED"}:
                return run
            time.sleep(0.5)
        raise UIError(f"Run {run_id} did not finish in {timeout_s:.0f} s")

    def wait_loaded(self, timeout_s: float = 300) -> None:
        """Wait until the webserver answers and the code location has loaded."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UIError(f"make dev exited with {self.process.returncode} before it served")
            with contextlib.suppress(requests.RequestException, UIError):
                workspace = self.graphql(WORKSPACE)["workspaceOrError"]
                entries = workspace.get("locationEntries") or []
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    errors = [
                        e["locationOrLoadError"]
                        for e in entries
                        if e["locationOrLoadError"]["__typename"] == "PythonError"
                    ]
                    if errors:
                        raise RuntimeError(f"The code location did not load: {errors}")
                    return
            time.sleep(1)
        raise UIError(f"The Dagster UI did not load in {timeout_s:.0f} s")


@contextlib.contextmanager
def dagster_ui(env: dict[str, str], log_path: Path) -> Iterator[DagsterUI]:
    """`scripts/dev.py` (what `make dev` runs) with exactly `env`, on a free port, in its own
    process group, its output in `log_path`; stopped with SIGTERM (then SIGKILL) on exit."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "scripts/dev.py"],
            cwd=REPO_ROOT,
            env={**env, "DAGSTER_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ui = DagsterUI(f"http://127.0.0.1:{port}", process)
    try:
        ui.wait_loaded()
        yield ui
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

"""Resources. The admin key reaches code only through `EnvVar`, never as a literal or a log line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
import dlt
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource
from packaging.version import Version

from assets.settings import Settings
from pipelines.openai_admin.settings import ADMIN_KEYS_URL
from warehouse import paths
from warehouse.destination import destination
from warehouse.locks import exclusive, run_lock, waiting_message

# The Dagster pool of every step that writes the working warehouse (or reads it: a DuckDB reader
# blocks the writer). `.dagster_home/dagster.yaml` limits pools to one step at a time.
DUCKDB_POOL = "duckdb"


class OrganizationKey(dg.Config):
    """One organization: its configured name, and its admin key (given as an `EnvVar`)."""

    name: str
    key_variable: str  # the variable's name, for messages; never the key
    api_key: str


class UnusableKeyError(ValueError):
    """An organization's key is unusable before any request; the message names the variable."""


class OpenAIAdminResource(dg.ConfigurableResource):
    """Where the Admin API is, and the organizations to read with their keys."""

    base_url: str
    organizations: list[OrganizationKey]

    def admin_key(self, organization: OrganizationKey) -> str:
        """The key, checked for the one mistake that can be told before any request."""
        key = organization.api_key.strip()
        variable = organization.key_variable
        if not key:
            raise UnusableKeyError(f"{variable} is empty: create an admin key at {ADMIN_KEYS_URL}.")
        if key.startswith(("sk-proj-", "sk-svcacct-")):
            raise UnusableKeyError(
                f"{variable} holds a project or service-account key; usage and cost "
                f"endpoints need an Admin API key (sk-admin-...) created at {ADMIN_KEYS_URL}."
            )
        return key


class WarehouseLock(dg.ConfigurableResource):
    """The working warehouse's run lock (warehouse/locks.py), held by a run from its first step
    to its last: every asset and check that opens the warehouse requires it, so a run started
    by the daemon, the UI or `make backfill` waits for any other run on the same warehouse."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseLock]:
        def waiting() -> None:
            if context.log is not None:
                context.log.info(waiting_message())

        with run_lock(paths.run_lock_path(), on_wait=waiting):
            yield self


def dlt_pipeline(name: str, settings: Settings, pipelines_dir: Path | None = None) -> dlt.Pipeline:
    """The dlt pipeline a step runs, loading schema `raw` of the working warehouse.

    Built inside the step: building a dlt pipeline writes its working folder, and dagster-dlt
    drops that folder before every run, so only the step that holds the warehouse may touch it.
    """
    return dlt.pipeline(
        pipeline_name=name,
        destination=destination(settings.warehouse),
        dataset_name="raw",
        pipelines_dir=str(pipelines_dir or paths.dlt_pipelines_dir()),
    )


DECLARED_DIR = ".definitions"


def declared_pipeline(name: str, settings: Settings) -> dlt.Pipeline:
    """The same pipeline as `dlt_pipeline`, for `@dlt_assets` to read its name, destination and
    dataset from when definitions load; it never runs.

    Every process loads definitions (each run, `make dev`'s webserver and daemon), often while
    a run in another process is loading. Built in the run's working folder, it raced the run's
    drop of that folder (CI: `FileNotFoundError` on `state.json` when a backfill started while
    another run was in a dlt step). Here it lives in a folder of its own, built by one process at
    a time.

    It stays at load because `@dlt_assets` takes a pipeline object, and dlt writes a pipeline's
    folder when it builds one: 0.1 s for each of the three or four pipelines (measured), once
    the folder exists.
    """
    root = paths.dlt_pipelines_dir() / DECLARED_DIR
    with exclusive(root.with_name(f"{DECLARED_DIR}.lock")):
        return dlt_pipeline(name, settings, root)


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two set-up steps it takes on every invocation.

    They cost 4.4 s of a 42 s daily run, and this project uses neither result. dagster-dbt has
    no public setting for either, so the two private members are replaced here, the one place
    this project touches dagster-dbt's internals; tests/test_decisions.py fails if dagster-dbt
    renames them or stops calling them.
    """

    @cached_property
    def _cli_version(self) -> Version:
        # dagster-dbt runs `dbt --version` to learn this, which also asks PyPI for the latest
        # release: 2.7 s, and a network call from every scheduled run. The dbt that runs is the
        # one installed beside this code from the lock file.
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        # The adapter only serves dagster-dbt's `fetch_column_metadata` and `fetch_row_counts`,
        # unused here (row counts are read once dbt has exited, see assets/report.py); setting it
        # up loads the profile and every macro (1.7 s). dagster-dbt accepts no adapter.
        return None


def build_resources(settings: Settings, dbt_project_dir: str) -> dict[str, object]:
    return {
        "openai": OpenAIAdminResource(
            base_url=settings.base_url,
            organizations=[
                OrganizationKey(
                    name=org.name,
                    key_variable=org.key_variable,
                    api_key=dg.EnvVar(org.key_variable),
                )
                for org in settings.organizations
            ],
        ),
        "dlt": DagsterDltResource(),
        "dbt": DbtCli(project_dir=dbt_project_dir),
        "warehouse_lock": WarehouseLock(),
    }

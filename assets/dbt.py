"""dbt models as Dagster assets: staging views and mart tables rebuilt (and tested) every run.

They carry the daily partitions of every asset (assets/partitions.py) only so that a selection
over a range stays one run: whatever the range, the models are rebuilt whole from `raw` in
seconds, which makes every run idempotent by construction.
"""

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from assets.partitions import SINGLE_RUN
from assets.report import with_mart_previews
from assets.resources import DUCKDB_POOL, WarehouseLock
from assets.settings import Settings
from warehouse import paths

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_models"


_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}
# dbt's own output and installed packages: never sources, and `target/` can hold many files.
_NOT_SOURCES = {"target", "logs", "dbt_packages"}


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """True when the manifest is missing or older than any file of the dbt project.

    A stale manifest names nodes the project no longer has (e.g. after a `git pull`), and the run
    would fail on them; re-parsing costs a few seconds.
    """
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for folder, subfolders, files in os.walk(project_dir):
        if Path(folder) == project_dir:
            subfolders[:] = [name for name in subfolders if name not in _NOT_SOURCES]
        for name in files:
            path = Path(folder, name)
            if path.suffix in _SOURCE_SUFFIXES and path.stat().st_mtime > built:
                return True
    return False


def export_dbt_environment(settings: Settings) -> None:
    """Set the variables dbt's profile reads in this process's environment.

    dagster-dbt starts dbt (`dbt parse` when preparing the project, `dbt build` in a run) with
    this process's environment and takes no other one, so this is the one place the project
    writes `os.environ`: when the definitions load, and before `python -m assets.dbt` parses.
    """
    for name, value in settings.dbt_environment().items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def dbt_project() -> DbtProject:
    """The dbt project, its manifest parsed if missing or stale.

    Called when definitions load, because `@dbt_assets` is built from the manifest. The image's
    and `make test`'s `python -m assets.dbt` parse it beforehand, and so does the first load
    after a change; later loads cost the staleness check alone, 1 ms on this project (measured).
    It parses (3-8 s) only when a dbt file changed since, where the old manifest would fail the
    run on nodes that are gone.
    """
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    # `dagster dev` re-parses on load (dagster-dbt's own way); elsewhere only a stale manifest.
    project.prepare_if_dev()
    if manifest_is_stale(project.project_dir, project.manifest_path):
        project.preparer.prepare(project)
    return project


def is_asset_check(test: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
    """Whether a dbt test shows in Dagster as an asset check on its model.

    Tests on marts (what BI tools read), on sources (raw tables as loaded) and singular tests
    across models are checks. Tests on staging and intermediate views and on seeds still run in
    every `dbt build` and fail the run when they fail; Dagster records their results as
    observations of their model. A check costs Dagster three events a run (planned, output,
    evaluation) against one for an observation: 117 of the 233 tests made 2.6 s of a 40 s
    daily run.
    """
    attached = manifest["nodes"].get(test.get("attached_node") or "")
    return attached is None or attached["config"].get("schema") == "marts"


def group_name(node: Mapping[str, Any]) -> str | None:
    """A dbt model's or seed's asset group in the UI: the warehouse schema it is built in
    (staging, intermediate, marts, seeds), so the UI groups assets as BI tools see them."""
    return node["config"].get("schema")


class Translator(DagsterDbtTranslator):
    """dagster-dbt's translator: asset groups by schema, and asset checks only for the tests
    `is_asset_check` picks."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_name(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        if not is_asset_check(manifest["nodes"][unique_id], manifest):
            return None
        return super().get_asset_check_spec(asset_spec, manifest, unique_id, project)


def dagster_events(invocation: DbtCliInvocation) -> Iterator[Any]:
    """dbt's events as Dagster events (dagster-dbt's `stream()`), with the results of tests that
    are not asset checks as plain observations.

    Left to `stream()`, each of those would also log a warning that the test ran "likely due to
    dbt indirect selection": 117 misleading warnings a run.
    """
    manifest = invocation.manifest
    observed = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and not is_asset_check(node, manifest)
    }
    # Asset keys come from the same translator class, so the observations land on the models.
    quiet = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))
    for event in invocation.stream_raw_events():
        unique_id = event.raw_event["data"].get("node_info", {}).get("unique_id")
        yield from event.to_default_asset_events(
            manifest=manifest,
            dagster_dbt_translator=quiet
            if unique_id in observed
            else invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        )


# When a run builds part of the graph (a single mart, raw assets plus what is downstream), a
# test runs only if every model it reads is built in the run too: dbt's default ("eager") would
# also run a relationships test whose other model is outside the selection, and fail it when that
# model does not exist yet. A run of the whole graph runs every test either way.
INDIRECT_SELECTION = ("--indirect-selection", "cautious")


def build_dbt_assets(project: DbtProject, partitions: dg.PartitionsDefinition) -> Any:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        pool=DUCKDB_POOL,
        name="dbt_models",
        dagster_dbt_translator=Translator(),
    )
    def dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse_lock: WarehouseLock
    ) -> Iterator[Any]:
        # Unit tests check the SQL against fixed inputs, not the data: dbt recommends running them
        # in development and CI only (`make test` does), not on every scheduled run.
        command = ["build", "--exclude-resource-type", "unit_test", *INDIRECT_SELECTION]
        state = paths.dbt_state_dir()
        target = run_target(state, context.run.run_id)
        invocation = dbt.cli(command, context=context, target_path=target)
        yield from with_mart_previews(dagster_events(invocation), context)
        keep_partial_parse(target, state)

    return dbt_models


PARTIAL_PARSE = "partial_parse.msgpack"


def run_target(state: Path, run_id: str) -> Path:
    """A new target folder for this dbt invocation, seeded with the last partial-parse cache.

    dagster-dbt gives each invocation its own folder under the project's `target/` and never
    removes it: 13 MB (manifest, compiled SQL, logs) per run, 4.7 GB a year of daily runs. Here
    the folders live beside the warehouse and earlier ones are removed when a new run starts, so
    at most the last one (kept for reading when a run fails) remains. The cache is per warehouse
    path because dbt parses from scratch whenever the profile's path differs (3-8 s a run).
    """
    runs = state / "runs"
    if runs.exists():
        for earlier in runs.iterdir():
            shutil.rmtree(earlier, ignore_errors=True)
    target = runs / f"{run_id[:8]}-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True)
    cache = state / PARTIAL_PARSE
    if cache.exists():
        shutil.copy2(cache, target / PARTIAL_PARSE)
    return target


def keep_partial_parse(target: Path, state: Path) -> None:
    """Save the invocation's parse for the next run (atomic replace), then drop the folder."""
    parsed = target / PARTIAL_PARSE
    if parsed.exists():
        staged = state / f".{PARTIAL_PARSE}.{uuid.uuid4().hex[:7]}"
        shutil.copy2(parsed, staged)
        staged.replace(state / PARTIAL_PARSE)
    shutil.rmtree(target, ignore_errors=True)


if __name__ == "__main__":
    # `python -m assets.dbt` parses the project now: `make test` does so once before its parallel
    # workers, which would otherwise all find the manifest missing and parse it at the same time.
    export_dbt_environment(Settings.from_env())
    dbt_project()

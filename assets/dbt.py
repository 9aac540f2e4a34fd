"""dbt models as Dagster assets: staging views and mart tables rebuilt (and tested) every run.

The marts are unpartitioned: they are rebuilt whole from `raw` in seconds, which makes every run
idempotent by construction and a backfill of any range consistent with the rest.
"""

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from assets.ingestion import DUCKDB_POOL
from assets.report import with_mart_previews
from warehouse import paths

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_models"


_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """True when the manifest is missing or older than any file of the dbt project.

    A stale manifest names nodes the project no longer has (e.g. after a `git pull`), and the run
    would fail on them; re-parsing costs a few seconds.
    """
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    target = manifest.parent
    return any(
        path.stat().st_mtime > built
        for path in project_dir.rglob("*")
        if path.suffix in _SOURCE_SUFFIXES and target not in path.parents
    )


def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    # `dagster dev` re-parses on load; elsewhere parse when the manifest is missing or stale.
    project.prepare_if_dev()
    if manifest_is_stale(project.project_dir, project.manifest_path):
        project.preparer.prepare(project)
    return project


def build_dbt_assets(project: DbtProject) -> Any:
    @dbt_assets(
        manifest=project.manifest_path, project=project, pool=DUCKDB_POOL, name="dbt_models"
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        # Unit tests check the SQL against fixed inputs, not the data: dbt recommends running them
        # in development and CI only (`make test` does), not on every scheduled run.
        command = ["build", "--exclude-resource-type", "unit_test"]
        state = paths.dbt_state_dir()
        target = run_target(state, context.run.run_id)
        events = dbt.cli(command, context=context, target_path=target).stream()
        yield from with_mart_previews(events, context)
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
    from assets.settings import Settings

    Settings.from_env()  # sets WAREHOUSE_PATH, which the dbt profile reads
    dbt_project()

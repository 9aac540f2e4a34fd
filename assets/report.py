"""The spend report asset: `report.html` in `SERVING_DIR`, rebuilt after the marts."""

# No `from __future__ import annotations`: Dagster reads the config annotation at runtime.

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtProject

from assets.metadata import table_facts
from assets.partitions import SINGLE_RUN
from assets.resources import DUCKDB_POOL, WarehouseLock
from warehouse import connection, paths

REPORT_KEY = dg.AssetKey(["report"])


class ReportConfig(dg.Config):
    """The report's date range; by default the last 30 UTC days, today included."""

    start: str | None = None
    end: str | None = None


def mart_keys(project: DbtProject) -> list[dg.AssetKey]:
    """Asset keys of every dbt model in schema `marts`, read from the manifest.

    Taken from the manifest rather than a fixed list so marts added later (API keys, line
    items, budgets) become upstream of the report without touching this file.
    """
    manifest = json.loads(project.manifest_path.read_text())
    return sorted(
        (
            dg.AssetKey(["marts", node["name"]])
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
        ),
        key=lambda key: key.to_user_string(),
    )


def _event_key(event: Any, context: dg.AssetExecutionContext) -> tuple[str, ...] | None:
    """The asset key an `Output` or `AssetMaterialization` is about, as a tuple."""
    if isinstance(event, dg.AssetMaterialization):
        return tuple(event.asset_key.path)
    if isinstance(event, dg.Output):
        return tuple(context.asset_key_for_output(event.output_name).path)
    return None


def with_mart_previews(events: Iterable[Any], context: dg.AssetExecutionContext) -> Iterator[Any]:
    """dbt's events, each model's materialization with its row count, and each mart's with a
    Markdown table of its top rows.

    The events are collected first: the working file can only be opened once dbt has exited
    (DuckDB allows one writer; a Postgres warehouse is read the same way). Counts and previews
    that cannot be read are logged and left out; they never fail the dbt step.
    """
    events = list(events)
    keys = [_event_key(event, context) for event in events]
    models = sorted({key for key in keys if key and len(key) == 2})
    marts = [key for key in models if key[0] == "marts"]
    previews: dict[tuple[str, ...], str] = {}
    counts: dict[tuple[str, ...], int] = {}
    if models:
        try:
            counts, previews = table_facts(paths.warehouse(), models, marts)
        except Exception as exc:
            if not connection.is_error(exc):
                raise
            context.log.warning(f"Row counts or mart previews left out: {exc}")
    for event, key in zip(events, keys, strict=True):
        extra: dict[str, Any] = {}
        if key in counts:
            extra["dagster/row_count"] = dg.MetadataValue.int(counts[key])
        if key in previews:
            extra["top_rows"] = dg.MetadataValue.md(previews[key])
        if extra:
            event = event.with_metadata({**event.metadata, **extra})
        yield event


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def build_report_asset(project: DbtProject, partitions: dg.PartitionsDefinition) -> Any:
    """The `report` asset, downstream of every mart."""

    # In the duckdb pool: a reader of the working file would block the pipeline's writer.
    @dg.asset(
        key=REPORT_KEY,
        deps=mart_keys(project),
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="serving",
        pool=DUCKDB_POOL,
        kinds={"plotly", "html"},
        description="Self-contained HTML spend report (interactive Plotly, works offline).",
    )
    def report_asset(
        context: dg.AssetExecutionContext, config: ReportConfig, warehouse_lock: WarehouseLock
    ) -> dg.MaterializeResult:
        # Imported here: the report needs pandas and Plotly, which every other step (each run
        # process loads these definitions) does without.
        from serving.report import render

        try:
            result = render.render_report(start=_day(config.start), end=_day(config.end))
        except render.ReportError as exc:
            raise dg.Failure(str(exc)) from None
        context.log.info(f"Spend report written to {result.path}")
        # No output value: the file is the result, and a run over a range of partitions has
        # nothing for an IO manager to store per partition.
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "url": dg.MetadataValue.url(result.path.as_uri()),
                "range": f"{result.start}..{result.end}",
                "charts": result.charts,
                "skipped_sections": ", ".join(result.skipped) or "none",
                "size_bytes": result.size_bytes,
            },
        )

    return report_asset

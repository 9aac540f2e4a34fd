"""The `serving/bi_files` asset: every mart published for BI tools after the marts are built.

Parquet and CSV per mart (each swapped in atomically) and a serving DuckDB file of views over
the Parquet files in storage v1.4.0, all in `SERVING_DIR` (see `serving/publish.py`). BI
tools open those, never the working file, so a dashboard left open never blocks a run.
"""

# No `from __future__ import annotations`: Dagster reads the context annotation at runtime.

from typing import Any

import dagster as dg
from dagster_dbt import DbtProject

from assets.partitions import SINGLE_RUN
from assets.report import mart_keys
from assets.resources import DUCKDB_POOL, WarehouseLock
from serving import publish
from warehouse import paths

SERVING_KEY = dg.AssetKey(["serving", "bi_files"])


def build_publishing_asset(project: DbtProject, partitions: dg.PartitionsDefinition) -> Any:
    """The publishing asset, downstream of every dbt model in schema `marts`."""

    # In the duckdb pool: it reads the working warehouse, which a concurrent writer would block.
    @dg.asset(
        key=SERVING_KEY,
        deps=mart_keys(project),
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="serving",
        pool=DUCKDB_POOL,
        kinds={"parquet", "duckdb", "csv"},
        description="Marts for BI tools: Parquet + CSV per mart and a serving DuckDB file "
        "(views over the Parquet, storage v1.4.0) in SERVING_DIR.",
    )
    def bi_files(
        context: dg.AssetExecutionContext, warehouse_lock: WarehouseLock
    ) -> dg.MaterializeResult:
        result = publish.publish(paths.warehouse(), paths.serving_dir())
        context.log.info(f"Published {len(result.marts)} marts to {result.serving_dir}")
        return dg.MaterializeResult(
            metadata={
                "serving_dir": dg.MetadataValue.path(str(result.serving_dir)),
                "serving_db": dg.MetadataValue.path(str(result.serving_db)),
                "storage_version": publish.STORAGE_VERSION,
                "serving_db_rebuilt": result.serving_db_rebuilt,
                "marts": len(result.marts),
                "row_counts": dg.MetadataValue.json(result.marts),
            }
        )

    return bi_files

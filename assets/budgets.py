"""`raw/budgets`: the validated `budgets.yaml` (`BUDGETS_PATH`) as table `raw.budgets`.

Replaced whole on every run (an absent file gives an empty table: no budgets). A file that does
not validate fails the step with the file, line and fix, before any dbt model reads it.
"""

from pathlib import Path

import dagster as dg

from assets import budgets_config as budget_config
from assets.partitions import SINGLE_RUN
from assets.resources import DUCKDB_POOL, WarehouseLock
from assets.settings import Settings
from warehouse.connection import connect
from warehouse.location import Warehouse

BUDGETS_KEY = dg.AssetKey(["raw", "budgets"])

# Same columns as the dbt on-run-start hook (macros/create_budgets_table.sql), in SQL that DuckDB
# and Postgres both run.
_CREATE = """
create table raw.budgets (
    budget_name varchar,
    organization varchar,
    scope_type varchar,
    scope_match varchar,
    period varchar,
    limit_usd double precision,
    warn_percent double precision,
    basis varchar,
    source_line integer
)
"""


def write_budgets(warehouse: Warehouse | str, rows: list[tuple]) -> None:
    """Replace raw.budgets with `rows` (bound parameters, one transaction)."""
    placeholders = ", ".join("?" for _ in budget_config.COLUMNS)
    warehouse = Path(warehouse) if isinstance(warehouse, str) else warehouse
    with connect(warehouse, read_only=False) as con:
        con.execute("begin transaction")
        con.execute("create schema if not exists raw")
        con.execute("drop table if exists raw.budgets")
        con.execute(_CREATE)
        if rows:
            con.executemany(f"insert into raw.budgets values ({placeholders})", rows)
        con.execute("commit")


def build_budgets_asset(
    settings: Settings, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        key=BUDGETS_KEY,
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="budgets",
        pool=DUCKDB_POOL,
        description="Spend budgets from budgets.yaml (BUDGETS_PATH), validated.",
        kinds={"duckdb", "yaml"},
    )
    def budgets(
        context: dg.AssetExecutionContext, warehouse_lock: WarehouseLock
    ) -> dg.MaterializeResult:
        path = budget_config.budgets_path()
        try:
            loaded = budget_config.load_budgets(path)
        except budget_config.BudgetConfigError as exc:
            raise dg.Failure(str(exc)) from None
        if not path.exists():
            context.log.info(f"No budgets file at {path}: no budgets")
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        write_budgets(settings.warehouse, [b.row() for b in loaded])
        return dg.MaterializeResult(
            metadata={
                "path": str(path),
                "dagster/row_count": len(loaded),
                "budgets": dg.MetadataValue.md(
                    "\n".join(
                        f"- `{b.budget_name}`: {b.scope_type} {b.scope_match or '(all)'}, "
                        f"{b.period} ${b.limit_usd:,.2f} ({b.basis}, warn {b.warn_percent:g}%)"
                        for b in loaded
                    )
                    or "(none)"
                ),
            }
        )

    return budgets

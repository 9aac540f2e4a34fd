"""`raw/budgets`: the validated `budgets.yaml` (`BUDGETS_PATH`) as table `raw.budgets`.

Replaced whole on every run (an absent file gives an empty table: no budgets). A file that does
not validate fails the step with the file, line and fix, before any dbt model reads it.
"""

from pathlib import Path

import dagster as dg
import yaml

from assets import budgets_config as budget_config
from assets.dbt import DBT_PROJECT_DIR
from assets.partitions import SINGLE_RUN
from assets.resources import DUCKDB_POOL, WarehouseLock
from assets.settings import Settings
from warehouse.connection import connect
from warehouse.location import Warehouse

BUDGETS_KEY = dg.AssetKey(["raw", "budgets"])

# The one declaration of raw.budgets's columns and types: the dbt source, which the dbt
# on-run-start hook (macros/create_budgets_table.sql) creates the empty table from too.
SOURCE_FILE = DBT_PROJECT_DIR / "models" / "budgets" / "_budgets__sources.yml"


def table_columns(source_file: Path = SOURCE_FILE) -> list[tuple[str, str]]:
    """(name, SQL type) of every column of raw.budgets, in order, as the dbt source declares
    them (types that DuckDB and Postgres both know)."""
    sources = yaml.safe_load(source_file.read_text(encoding="utf-8"))["sources"]
    (table,) = [
        table
        for source in sources
        if source["name"] == "budgets"
        for table in source["tables"]
        if table["name"] == "budgets"
    ]
    return [(column["name"], column["data_type"]) for column in table["columns"]]


def write_budgets(warehouse: Warehouse | str, rows: list[tuple]) -> None:
    """Replace raw.budgets with `rows`, in the order of `budget_config.COLUMNS` (bound
    parameters, one transaction)."""
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in table_columns())
    names = ", ".join(budget_config.COLUMNS)
    placeholders = ", ".join("?" for _ in budget_config.COLUMNS)
    warehouse = Path(warehouse) if isinstance(warehouse, str) else warehouse
    with connect(warehouse, read_only=False) as con:
        con.execute("begin transaction")
        con.execute("create schema if not exists raw")
        con.execute("drop table if exists raw.budgets")
        con.execute(f"create table raw.budgets ({columns})")  # declared in the dbt source
        if rows:
            con.executemany(f"insert into raw.budgets ({names}) values ({placeholders})", rows)
        con.execute("commit")


def build_budgets_asset(
    settings: Settings, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        key=BUDGETS_KEY,
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="raw",
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

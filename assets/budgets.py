"""`raw/budgets`: the validated `budgets.yaml` (`BUDGETS_PATH`) as table `raw.budgets`.

Replaced whole on every run (an absent file gives an empty table: no budgets). A file that does
not validate fails the step with the file, line and fix, before any dbt model reads it.
"""

import dagster as dg
import duckdb

from assets.ingestion import DUCKDB_POOL
from assets.partitions import SINGLE_RUN
from assets.settings import Settings
from warehouse import budgets as budget_config

BUDGETS_KEY = dg.AssetKey(["raw", "budgets"])

# Same columns as the dbt on-run-start hook (macros/create_budgets_table.sql).
_CREATE = """
create or replace table raw.budgets (
    budget_name varchar,
    organization varchar,
    scope_type varchar,
    scope_match varchar,
    period varchar,
    limit_usd double,
    warn_percent double,
    basis varchar,
    source_line integer
)
"""


def write_budgets(warehouse_path: str, rows: list[tuple]) -> None:
    """Replace raw.budgets with `rows` (bound parameters, one transaction)."""
    placeholders = ", ".join("?" for _ in budget_config.COLUMNS)
    with duckdb.connect(warehouse_path) as con:
        con.execute("begin transaction")
        con.execute("create schema if not exists raw")
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
    def budgets(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        path = budget_config.budgets_path()
        try:
            loaded = budget_config.load_budgets(path)
        except budget_config.BudgetConfigError as exc:
            raise dg.Failure(str(exc)) from None
        if not path.exists():
            context.log.info(f"No budgets file at {path}: no budgets")
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        write_budgets(str(settings.warehouse_path), [b.row() for b in loaded])
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

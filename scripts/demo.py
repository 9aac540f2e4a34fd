"""`make demo`: the whole pipeline against the local simulator, then a summary of what it built.

Starts the simulator on a free port, backfills the last 30 days in one Dagster run (ingest,
directory, prices, dbt with its tests), prints the top models and projects by billed cost, row
counts per table and where the files are, then stops the simulator.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.backfill import configure_logging, failure_summary, run_backfill  # noqa: E402
from scripts.sim_process import simulator_process  # noqa: E402
from serving.report import render  # noqa: E402
from warehouse import paths  # noqa: E402
from warehouse.connection import connect  # noqa: E402
from warehouse.location import Warehouse, describe  # noqa: E402

DEMO_DAYS = 30

_TOP_MODELS = """
select model, sum(billed_cost_usd) as billed, sum(estimated_cost_usd) as est,
       sum(requests) as requests
from marts.cost_by_model_daily group by model order by billed desc limit 8
"""
_TOP_PROJECTS = """
select project_name, sum(billed_cost_usd) as billed, sum(requests) as requests
from marts.cost_by_project_daily group by project_name order by billed desc limit 8
"""
_TABLES = """
select table_schema, table_name from information_schema.tables
where table_schema in ('raw', 'marts') and table_name not like '\\_dlt%' escape '\\'
order by table_schema, table_name
"""


def print_summary(warehouse: Warehouse) -> None:
    with connect(warehouse) as con:
        print("\nTop models by billed cost (last 30 days, USD):")
        print(f"  {'model':<32} {'billed':>12} {'estimated':>12} {'requests':>12}")
        for model, billed, est, requests in con.execute(_TOP_MODELS).fetchall():
            est_text = "n/a" if est is None else f"{est:,.2f}"
            print(f"  {model:<32} {billed:>12,.2f} {est_text:>12} {requests:>12,}")
        print("\nTop projects by billed cost (USD):")
        for name, billed, requests in con.execute(_TOP_PROJECTS).fetchall():
            print(f"  {name:<32} {billed:>12,.2f} {requests:>12,}")
        print("\nRow counts:")
        for schema, table in con.execute(_TABLES).fetchall():
            sql = f'select count(*) from "{schema}"."{table}"'  # names from the catalog
            count = con.execute(sql).fetchall()[0][0]
            print(f"  {schema}.{table:<34} {count:>10,}")
    print_budgets(warehouse)
    print(f"\nWarehouse: {describe(warehouse)}")


_BUDGETS = """
select budget_name, state, period, basis, spent_usd, limit_usd, percent_used, projected_usd
from marts.budget_status where is_current_period order by budget_name
"""
_SPIKES = """
select usage_date, scope_type, coalesce(scope_name, scope_id), spend_usd, baseline_median_usd,
       spike_factor
from marts.spend_anomalies order by usage_date desc, spend_usd desc limit 10
"""


def print_budgets(warehouse: Warehouse) -> None:
    """Budget states (current periods) and spend spikes (budgets.yaml)."""
    with connect(warehouse) as con:
        print(f"\nBudgets ({os.environ.get('BUDGETS_PATH')}), current period:")
        for name, state, period, basis, spent, limit, pct, projected in con.execute(
            _BUDGETS
        ).fetchall():
            proj = "" if projected is None else f", month-end projection {projected:,.2f}"
            print(
                f"  {state.upper():<6} {name:<28} {period:<7} {basis:<9} spent {spent:>10,.2f}"
                f" of {limit:>10,.2f} ({pct:5.1f}%){proj}"
            )
        spikes = con.execute(_SPIKES).fetchall()
        print(f"\nSpend spikes (API key or project far above its 28-day baseline): {len(spikes)}")
        for day, scope_type, scope, spend, baseline, factor in spikes:
            print(
                f"  {day} {scope_type:<8} {scope:<36} {spend:>10,.2f} "
                f"= {factor:,.1f}x baseline {baseline:,.2f}"
            )


def main() -> int:
    configure_logging()
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=DEMO_DAYS - 1)
    with simulator_process(seed=42) as (base_url, admin_key):
        os.environ["OPENAI_BASE_URL"] = base_url
        os.environ["OPENAI_ADMIN_KEY"] = admin_key
        # The local simulator needs no pacing; against the real API the default budget applies.
        os.environ.setdefault("OPENAI_REQUESTS_PER_SECOND", "0")
        os.environ.setdefault("USAGE_START_DATE", (today - dt.timedelta(days=365)).isoformat())
        # The example budgets trip one warn and one breach on the simulator's data.
        os.environ.setdefault("BUDGETS_PATH", str(paths.REPO_ROOT / "budgets.example.yaml"))
        print(f"Simulator at {base_url}; backfilling {first}..{today} in one Dagster run")
        result = run_backfill(first, today)
    if not result.success:
        print(f"error: demo run failed: {failure_summary(result)}", file=sys.stderr)
        return 1
    print_summary(paths.warehouse())
    # The job's `report` asset already wrote it; render again only if that asset is absent.
    report_path = paths.serving_dir() / render.REPORT_FILE
    if not report_path.exists():
        report_path = render.render_report().path
    print(f"Spend report (HTML, opens offline): {report_path}")
    serving = paths.serving_dir()
    print(f"BI serving folder (never blocks the pipeline; see docs/bi.md): {serving}")
    print(f"  DuckDB file for BI tools (read-only, v1.4.0): {serving / 'openai_usage.duckdb'}")
    print(f"  Parquet per mart: {serving / 'parquet'}")
    print(f"  CSV per mart:     {serving / 'csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

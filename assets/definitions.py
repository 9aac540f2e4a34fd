"""The code location: the one entry point `workspace.yaml` names."""

import warnings

import dagster as dg

from assets.budgets import build_budgets_asset
from assets.checks import build_mart_checks
from assets.checks_budgets import build_budget_checks
from assets.dbt import build_dbt_assets, dbt_project, export_dbt_environment
from assets.ingestion import (
    build_directory_assets,
    build_legacy_usage_assets,
    build_price_assets,
    build_usage_assets,
)
from assets.partitions import daily_partitions
from assets.publishing import build_publishing_asset
from assets.report import build_report_asset
from assets.resources import build_resources
from assets.retention import build_retention
from assets.schedules import daily_refresh, intraday_refresh, refresh_job
from assets.sensors import spend_alerts
from assets.settings import Settings


@dg.definitions
def defs() -> dg.Definitions:
    # Every asset takes the single-run backfill policy on purpose (assets/partitions.py); Dagster
    # flags the parameter as beta on each `@asset` that takes it.
    warnings.filterwarnings("ignore", "Parameter `backfill_policy`", dg.BetaWarning)
    settings = Settings.from_env()
    export_dbt_environment(settings)
    project = dbt_project()
    partitions = daily_partitions(settings.usage_start_date)
    # The legacy endpoint is opt-in: slow (5 requests a minute) and undocumented.
    legacy = [build_legacy_usage_assets(settings, partitions)] if settings.legacy_usage else []
    retention_jobs, retention_schedules = build_retention(settings.run_retention_days)
    return dg.Definitions(
        assets=[
            build_usage_assets(settings, partitions),
            *legacy,
            build_directory_assets(settings, partitions),
            build_price_assets(settings, partitions),
            build_dbt_assets(project, partitions),
            build_report_asset(project, partitions),
            build_publishing_asset(project, partitions),
            build_budgets_asset(settings, partitions),
        ],
        asset_checks=[*build_budget_checks(settings), build_mart_checks()],
        jobs=[refresh_job, *retention_jobs],
        schedules=[daily_refresh, intraday_refresh, *retention_schedules],
        sensors=[spend_alerts],
        resources=build_resources(settings, str(project.project_dir)),
        # One process per run: the default executor starts a process per step, each loading
        # these definitions again (about 25 s each); the steps share one DuckDB writer anyway.
        executor=dg.in_process_executor,
    )

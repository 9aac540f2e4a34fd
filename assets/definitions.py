"""The code location: the one entry point `workspace.yaml` names."""

import dagster as dg

from assets.dbt import build_dbt_assets, dbt_project
from assets.ingestion import build_directory_assets, build_price_assets, build_usage_assets
from assets.partitions import daily_partitions
from assets.resources import build_resources
from assets.schedules import daily_refresh, refresh_job
from assets.settings import Settings


@dg.definitions
def defs() -> dg.Definitions:
    settings = Settings.from_env()
    project = dbt_project()
    return dg.Definitions(
        assets=[
            build_usage_assets(settings, daily_partitions(settings.usage_start_date)),
            build_directory_assets(settings),
            build_price_assets(settings),
            build_dbt_assets(project),
        ],
        jobs=[refresh_job],
        schedules=[daily_refresh],
        resources=build_resources(settings, str(project.project_dir)),
    )

"""Resources. The admin key reaches code only through `EnvVar`, never as a literal or a log line."""

from __future__ import annotations

import dagster as dg
import dlt
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource

from assets.settings import Settings
from pipelines.openai_admin.settings import ADMIN_KEYS_URL
from warehouse import paths


class OpenAIAdminResource(dg.ConfigurableResource):
    """Where the Admin API is and the key to read it with."""

    base_url: str
    api_key: str

    def admin_key(self) -> str:
        """The key, checked for the one mistake that can be told before any request."""
        key = self.api_key.strip()
        if not key:
            raise dg.Failure(f"OPENAI_ADMIN_KEY is empty: create an admin key at {ADMIN_KEYS_URL}.")
        if key.startswith(("sk-proj-", "sk-svcacct-")):
            raise dg.Failure(
                "OPENAI_ADMIN_KEY holds a project or service-account key; usage and cost "
                f"endpoints need an Admin API key (sk-admin-...) created at {ADMIN_KEYS_URL}."
            )
        return key


def dlt_pipeline(name: str, settings: Settings) -> dlt.Pipeline:
    """A dlt pipeline loading schema `raw` of the working DuckDB file."""
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(settings.warehouse_path)),
        dataset_name="raw",
        pipelines_dir=str(paths.dlt_pipelines_dir()),
    )


def build_resources(settings: Settings, dbt_project_dir: str) -> dict[str, object]:
    return {
        "openai": OpenAIAdminResource(
            base_url=settings.base_url, api_key=dg.EnvVar("OPENAI_ADMIN_KEY")
        ),
        "dlt": DagsterDltResource(),
        "dbt": DbtCliResource(project_dir=dbt_project_dir),
    }

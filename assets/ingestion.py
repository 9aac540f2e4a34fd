"""Raw assets: dlt loads of the Admin API into schema `raw`, plus the model price table.

Every asset that writes the working DuckDB file is in the `duckdb` pool (limit 1): DuckDB allows
one writer process at a time.
"""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from assets.resources import OpenAIAdminResource, dlt_pipeline
from assets.settings import Settings
from pipelines.model_prices import model_prices
from pipelines.openai_admin import openai_directory, openai_usage
from warehouse import queries

DUCKDB_POOL = "duckdb"
USAGE_KEY = dg.AssetKey(["raw", "completions_usage"])


class RawTranslator(DagsterDltTranslator):
    """Asset keys `raw/<table>`, the same keys the dbt sources declare, so lineage connects."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        deps = [USAGE_KEY] if name == "model_prices" else []
        return spec.replace_attributes(key=dg.AssetKey(["raw", name]), deps=deps)


def build_usage_assets(settings: Settings, partitions: dg.PartitionsDefinition) -> Any:
    """Usage and costs, one daily partition per UTC day; a backfill of any range is one run."""

    @dlt_assets(
        dlt_source=openai_usage(start=settings.usage_start_date, end=dt.date.today(), api_key=""),
        dlt_pipeline=dlt_pipeline("openai_usage", settings),
        name="openai_usage",
        group_name="ingestion",
        dagster_dlt_translator=RawTranslator(),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
    )
    def openai_usage_assets(
        context: dg.AssetExecutionContext, dlt: DagsterDltResource, openai: OpenAIAdminResource
    ) -> Iterator[Any]:
        # A single-run backfill spans many partitions: take the whole time window.
        window = context.partition_time_window
        context.log.info(
            f"Loading usage and costs for [{window.start:%Y-%m-%d}, {window.end:%Y-%m-%d}) "
            f"at {settings.bucket_width} buckets"
        )
        source = openai_usage(
            start=window.start,
            end=window.end,
            bucket_width=settings.bucket_width,
            base_url=openai.base_url,
            api_key=openai.admin_key(),
        )
        yield from dlt.run(context=context, dlt_source=source)

    return openai_usage_assets


def build_directory_assets(settings: Settings) -> Any:
    """Users, projects and API keys: small, refreshed whole on every run."""

    @dlt_assets(
        dlt_source=openai_directory(api_key=""),
        dlt_pipeline=dlt_pipeline("openai_directory", settings),
        name="openai_directory",
        group_name="ingestion",
        dagster_dlt_translator=RawTranslator(),
        pool=DUCKDB_POOL,
    )
    def openai_directory_assets(
        context: dg.AssetExecutionContext, dlt: DagsterDltResource, openai: OpenAIAdminResource
    ) -> Iterator[Any]:
        source = openai_directory(base_url=openai.base_url, api_key=openai.admin_key())
        yield from dlt.run(context=context, dlt_source=source)

    return openai_directory_assets


def build_price_assets(settings: Settings) -> Any:
    """List prices (genai-prices) at every (model, day) seen in usage."""

    @dlt_assets(
        dlt_source=model_prices([]),
        dlt_pipeline=dlt_pipeline("model_prices", settings),
        name="model_prices",
        group_name="ingestion",
        dagster_dlt_translator=RawTranslator(),
        pool=DUCKDB_POOL,
    )
    def model_price_assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Any:
        model_days = queries.model_days(settings.warehouse_path)
        context.log.info(f"Pricing {len(model_days)} model-days with genai-prices")
        yield from dlt.run(context=context, dlt_source=model_prices(model_days))

    return model_price_assets

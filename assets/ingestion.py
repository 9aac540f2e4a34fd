"""Raw assets: dlt loads of the Admin API into schema `raw`, plus the model price table.

Every asset that writes the working warehouse is in the `duckdb` pool (limit 1): DuckDB allows
one writer process at a time (on Postgres the pool keeps the same order of steps). They also
require `warehouse_lock`, which keeps other runs off the warehouse for the whole run
(warehouse/locks.py).
"""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dagster as dg
import dlt
import requests
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from assets.metadata import markdown_table, rows_by_day
from assets.partitions import SINGLE_RUN
from assets.resources import (
    DUCKDB_POOL,
    OpenAIAdminResource,
    UnusableKeyError,
    WarehouseLock,
    declared_pipeline,
    dlt_pipeline,
)
from assets.settings import Settings
from pipelines.model_prices import model_prices
from pipelines.openai_admin import (
    AdminApiError,
    openai_directory,
    openai_legacy_usage,
    openai_usage,
)
from warehouse import queries
from warehouse.location import Warehouse

USAGE_KEY = dg.AssetKey(["raw", "completions_usage"])


class RawTranslator(DagsterDltTranslator):
    """Asset keys `raw/<table>`, the same keys the dbt sources declare, so lineage connects."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        deps = [USAGE_KEY] if name == "model_prices" else []
        return spec.replace_attributes(key=dg.AssetKey(["raw", name]), deps=deps)


def raw_dlt_assets(
    name: str, source: Any, settings: Settings, partitions: dg.PartitionsDefinition
) -> Callable[..., Any]:
    """The `dlt_assets` decorator of every raw load: the dlt pipeline and the asset are both
    `name`, in group `raw` (keys from RawTranslator), daily partitions loaded as one run per
    backfill, in the `duckdb` pool (module docstring)."""
    return dlt_assets(
        dlt_source=source,
        dlt_pipeline=declared_pipeline(name, settings),
        name=name,
        group_name="raw",
        dagster_dlt_translator=RawTranslator(),
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        pool=DUCKDB_POOL,
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the errors under it (dlt's `exception`, causes, unsuppressed contexts)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while isinstance(current, BaseException) and all(current is not e for e in chain):
        chain.append(current)
        current = getattr(current, "exception", None) or current.__cause__ or _context(current)
    return chain


def _context(exc: BaseException) -> BaseException | None:
    """The exception being handled when `exc` was raised, unless `raise ... from None` hid it."""
    return None if exc.__suppress_context__ else exc.__context__


def failure_reason(
    exc: BaseException, secrets: tuple[str, ...] = (), base_url: str | None = None
) -> str:
    """A one-line reason for an organization's failure: the actionable message of the API error
    at the root of dlt's wrapping when there is one, the URL when the API cannot be reached, else
    the innermost error. Secrets are masked, whatever the text."""
    chain = _chain(exc)
    actionable = [e for e in chain if isinstance(e, AdminApiError | UnusableKeyError)]
    unreachable = [e for e in chain if isinstance(e, requests.ConnectionError | ConnectionError)]
    if actionable:
        text = f"{type(actionable[0]).__name__}: {actionable[0]}"
    elif unreachable:
        where = f" at {base_url}" if base_url else ""
        text = (
            f"Cannot reach the OpenAI Admin API{where} (check OPENAI_BASE_URL): "
            f"{type(chain[-1]).__name__}: {chain[-1]}"
        )
    else:
        text = f"{type(chain[-1]).__name__}: {chain[-1]}"
    text = " ".join(text.split())[:500]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# dagster-dlt reports what the load did and the table's column schema on every materialization;
# a single-run backfill copies that onto every partition. The schema (6 of the 8 KB) and the load
# job list are the same each time, so only what differs per load is kept: a 3-year backfill
# wrote 13,000 of these into the event log, twice (run shard and index).
DLT_METADATA_KEPT = ("rows_loaded", "dagster/table_name")


def load_each_organization(
    context: dg.AssetExecutionContext,
    dlt: DagsterDltResource,
    openai: OpenAIAdminResource,
    make_source: Callable[[str, str], Any],
    pipeline: dlt.Pipeline,
) -> Iterator[dg.MaterializeResult]:
    """Run the dlt pipeline once per organization; one failing does not stop the others.

    Each asset is reported once, with metadata naming the organizations loaded and the ones that
    failed (with the reason, never the key). The step fails only if every organization failed.
    """
    loaded: dict[dg.AssetKey, dict[str, Any]] = {}
    names: list[str] = []
    failed: dict[str, str] = {}
    for org in openai.organizations:
        key = ""
        try:
            key = openai.admin_key(org)
            source = make_source(org.name, key)
            results = list(dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline))
        except Exception as exc:  # noqa: BLE001 - reported per organization below
            failed[org.name] = failure_reason(exc, (key, org.api_key), openai.base_url)
            context.log.error(f"Organization {org.name!r} was not loaded: {failed[org.name]}")
            continue
        names.append(org.name)
        for result in results:
            metadata = loaded.setdefault(result.asset_key, {})
            for name, value in (result.metadata or {}).items():
                if name in DLT_METADATA_KEPT:
                    metadata[f"{org.name}/{name}"] = value
    if not names:
        raise dg.Failure(
            description="No organization could be loaded: "
            + "; ".join(f"{n}: {r}" for n, r in failed.items()),
            metadata={"failed_organizations": failed},
        )
    for asset_key, metadata in loaded.items():
        yield dg.MaterializeResult(
            asset_key=asset_key,
            metadata={
                **metadata,
                "organizations_loaded": ", ".join(names),
                "failed_organizations": dg.MetadataValue.json(failed),
            },
        )


def build_usage_assets(settings: Settings, partitions: dg.PartitionsDefinition) -> Any:
    """Usage and costs, one daily partition per UTC day; a backfill of any range is one run."""

    @raw_dlt_assets(
        "openai_usage",
        openai_usage(start=settings.usage_start_date, end=dt.date.today(), api_key=""),
        settings,
        partitions,
    )
    def openai_usage_assets(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        openai: OpenAIAdminResource,
        warehouse_lock: WarehouseLock,
    ) -> Iterator[Any]:
        # A single-run backfill spans many partitions: take the whole time window.
        window = context.partition_time_window
        context.log.info(
            f"Loading usage and costs for [{window.start:%Y-%m-%d}, {window.end:%Y-%m-%d}) "
            f"at {settings.bucket_width} buckets"
        )

        def source(organization: str, api_key: str) -> Any:
            return openai_usage(
                start=window.start,
                end=window.end,
                bucket_width=settings.bucket_width,
                base_url=openai.base_url,
                api_key=api_key,
                organization=organization,
                requests_per_second=settings.requests_per_second,
            )

        results = load_each_organization(
            context, dlt, openai, source, dlt_pipeline("openai_usage", settings)
        )
        yield from with_rows_by_day(results, settings.warehouse, window)

    return openai_usage_assets


# A single-run backfill copies its metadata onto every partition of the range: beyond a month,
# a table per day made a year's backfill write 12 assets x 365 copies of a 365-row table.
MAX_DAYS_LISTED = 31


def rows_by_period(
    rows: list[tuple[dt.date, str, int]], max_days: int = MAX_DAYS_LISTED
) -> tuple[str, list[tuple[str, str, int]]]:
    """Rows per (day, organization), or per (month, organization) when more than `max_days`
    days are listed; returns the period's name and the rows."""
    if len({day for day, _, _ in rows}) <= max_days:
        return "day", [(day.isoformat(), org, count) for day, org, count in rows]
    months: dict[tuple[str, str], int] = {}
    for day, org, count in rows:
        key = (f"{day:%Y-%m}", org)
        months[key] = months.get(key, 0) + count
    return "month", [(month, org, count) for (month, org), count in sorted(months.items())]


def with_rows_by_day(
    results: Iterable[dg.MaterializeResult], warehouse: Warehouse, window: dg.TimeWindow
) -> Iterator[dg.MaterializeResult]:
    """Add what the window contained (rows per day, or per month for long windows, and
    organization) to each result.

    A single-run backfill reports one materialization per partition with the same metadata, so
    every partition shows the whole table and can find its own day (or month) in it.
    """
    for result in results:
        rows = rows_by_day(
            warehouse, result.asset_key.path[-1], window.start.date(), window.end.date()
        )
        period, table = rows_by_period(rows)
        metadata = dict(result.metadata or {})
        metadata[f"rows_by_{period}"] = dg.MetadataValue.md(
            markdown_table([period, "organization", "rows"], table)
        )
        metadata["days_loaded"] = len({day for day, _, _ in rows})
        yield dg.MaterializeResult(asset_key=result.asset_key, metadata=metadata)


def build_legacy_usage_assets(settings: Settings, partitions: dg.PartitionsDefinition) -> Any:
    """The legacy per-day `GET /v1/usage?date=` (`OPENAI_LEGACY_USAGE=1`; off by default).

    One request per day at the endpoint's pace of about 5 a minute: a year takes 73 minutes.
    """

    @raw_dlt_assets(
        "openai_legacy_usage",
        openai_legacy_usage(start=settings.usage_start_date, end=dt.date.today(), api_key=""),
        settings,
        partitions,
    )
    def openai_legacy_usage_assets(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        openai: OpenAIAdminResource,
        warehouse_lock: WarehouseLock,
    ) -> Iterator[Any]:
        window = context.partition_time_window
        days = (window.end - window.start).days
        context.log.info(
            f"Loading legacy /v1/usage for {days} day(s) from {window.start:%Y-%m-%d}: one request "
            "a day, about 5 a minute"
        )

        def source(organization: str, api_key: str) -> Any:
            return openai_legacy_usage(
                start=window.start,
                end=window.end,
                base_url=openai.base_url,
                api_key=api_key,
                organization=organization,
            )

        results = load_each_organization(
            context, dlt, openai, source, dlt_pipeline("openai_legacy_usage", settings)
        )
        yield from with_rows_by_day(results, settings.warehouse, window)

    return openai_legacy_usage_assets


def build_directory_assets(settings: Settings, partitions: dg.PartitionsDefinition) -> Any:
    """Users, projects and API keys: small, refreshed whole on every run, whatever its range."""

    @raw_dlt_assets("openai_directory", openai_directory(api_key=""), settings, partitions)
    def openai_directory_assets(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        openai: OpenAIAdminResource,
        warehouse_lock: WarehouseLock,
    ) -> Iterator[Any]:
        def source(organization: str, api_key: str) -> Any:
            return openai_directory(
                base_url=openai.base_url,
                api_key=api_key,
                organization=organization,
                requests_per_second=settings.requests_per_second,
            )

        yield from load_each_organization(
            context, dlt, openai, source, dlt_pipeline("openai_directory", settings)
        )

    return openai_directory_assets


def build_price_assets(settings: Settings, partitions: dg.PartitionsDefinition) -> Any:
    """List prices (genai-prices) at every (model, day) seen in usage, whatever the run's range."""

    @raw_dlt_assets("model_prices", model_prices([]), settings, partitions)
    def model_price_assets(
        context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse_lock: WarehouseLock
    ) -> Any:
        model_days = queries.model_days(settings.warehouse)
        context.log.info(f"Pricing {len(model_days)} model-days with genai-prices")
        yield from dlt.run(
            context=context,
            dlt_source=model_prices(model_days),
            dlt_pipeline=dlt_pipeline("model_prices", settings),
        )

    return model_price_assets

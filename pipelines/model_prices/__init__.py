"""dlt source of per-token list prices, from the genai-prices library, for each model and day.

dbt multiplies usage by these rates for `estimated_cost_usd`. The rates are looked up at each
bucket's date, so a price change (e.g. o3 on 2025-06-10) prices older days at the older rate.
Models the library cannot price get no row: dbt then shows NULL, never $0.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from importlib.metadata import version
from typing import Any

import dlt
import pyarrow as pa
from genai_prices import Usage, calc_price

MTOK = 1_000_000

SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("price_date", pa.date32()),
        ("input_usd_per_mtok", pa.float64()),
        ("cached_input_usd_per_mtok", pa.float64()),
        ("output_usd_per_mtok", pa.float64()),
        ("price_source", pa.string()),
    ]
)


@dataclass(frozen=True)
class Rates:
    """USD per one million tokens."""

    input: float
    cached_input: float
    output: float


@functools.lru_cache(maxsize=65536)
def price_rates(model: str, day: dt.date) -> Rates | None:
    """The list rates of `model` on `day`, or None when genai-prices does not know the model."""
    at = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)

    def total(usage: Usage) -> Decimal:
        return calc_price(
            usage, model, provider_id="openai", genai_request_timestamp=at
        ).total_price

    try:
        input_rate = total(Usage(input_tokens=MTOK))
        # Cached tokens are part of input_tokens: price a million input tokens that are all cached.
        cached_rate = total(Usage(input_tokens=MTOK, cache_read_tokens=MTOK))
        output_rate = total(Usage(output_tokens=MTOK))
    except LookupError:
        return None
    return Rates(float(input_rate), float(cached_rate), float(output_rate))


def price_rows(model_days: Iterable[tuple[str, dt.date]]) -> list[dict[str, Any]]:
    """One price row per (model, day) the library can price."""
    source = f"genai-prices {version('genai-prices')}"
    rows = []
    for model, day in model_days:
        rates = price_rates(model, day)
        if rates is not None:
            rows.append(
                {
                    "model": model,
                    "price_date": day,
                    "input_usd_per_mtok": rates.input,
                    "cached_input_usd_per_mtok": rates.cached_input,
                    "output_usd_per_mtok": rates.output,
                    "price_source": source,
                }
            )
    return rows


@dlt.source(name="model_prices", max_table_nesting=0)
def model_prices(model_days: list[tuple[str, dt.date]]) -> Any:
    """Prices for the given (model, day) pairs, replacing the whole table each run."""
    return prices(model_days)


@dlt.resource(name="model_prices", write_disposition="replace", primary_key=("model", "price_date"))
def prices(model_days: list[tuple[str, dt.date]]) -> Iterator[pa.Table]:
    # An Arrow table, even an empty one, creates the table with every column for dbt.
    yield pa.Table.from_pylist(price_rows(model_days), schema=SCHEMA)

"""The legacy `GET /v1/usage?date=`: one request per UTC day, its sections as rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from dlt.sources.helpers.rest_client import RESTClient

from . import settings
from .client import response_hooks

# Section -> {schema column: item field}, for the fields whose names differ between sections;
# every other column is read under its own name. 2023 answers said `n_context`/`n_generated`.
_LEGACY_RENAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "data": {
        "timestamp": ("aggregation_timestamp",),
        "model": ("snapshot_id",),
        "n_context_tokens_total": ("n_context_tokens_total", "n_context"),
        "n_generated_tokens_total": ("n_generated_tokens_total", "n_generated"),
    },
    "dalle_api_data": {"model": ("model_id",), "n_requests": ("num_requests",)},
    "whisper_api_data": {"model": ("model_id",), "n_requests": ("num_requests",)},
    "tts_api_data": {"model": ("model_id",), "n_requests": ("num_requests",)},
}
_LEGACY_META = {"organization", "bucket_date", "section", "is_final", "_deleted"}


def legacy_section_row(
    section: str, item: Mapping[str, Any], columns: Sequence[str]
) -> dict[str, Any]:
    """One item of a legacy section under the schema's column names (first present alias wins)."""
    renames = _LEGACY_RENAMES.get(section, {})
    row: dict[str, Any] = {"section": section}
    for name in columns:
        aliases = renames.get(name, (name,))
        row[name] = next((item[a] for a in aliases if item.get(a) is not None), None)
    return row


def legacy_rows(
    body: Mapping[str, Any], schema: pa.Schema, organization: str, day: dt.date, final: bool
) -> pa.Table:
    """A legacy `/v1/usage` day as one Arrow table: one row per section item.

    Every array of the body is a section (`data`, `dalle_api_data`, ...), including ones this
    code has never seen. Fields outside the schema are not kept: this undocumented endpoint's
    items carry several the marts never use (`organization_name`, `api_key_redacted`, ...),
    unlike the bucketed endpoints, whose new fields are kept and reported.
    """
    fields = [f for f in schema if f.name not in _LEGACY_META or f.name == "section"]
    columns = [f.name for f in fields if f.name != "section"]
    rows = [
        legacy_section_row(section, item, columns)
        for section, items in body.items()
        if isinstance(items, list)
        for item in items
        if isinstance(item, Mapping)
    ]
    n = len(rows)
    struct = pa.array(rows, type=pa.struct(fields))
    epoch_day = (day - dt.date(1970, 1, 1)).days
    arrays = {
        "organization": pa.array([organization] * n, type=pa.string()),
        "bucket_date": pa.array([epoch_day] * n, type=pa.int32()).cast(pa.date32()),
        "is_final": pa.array([final] * n, type=pa.bool_()),
        "_deleted": pa.nulls(n, type=pa.bool_()),
        **{f.name: struct.field(f.name) for f in fields},
    }
    return pa.Table.from_arrays([arrays[name] for name in schema.names], schema=schema)


def legacy_usage_day(client: RESTClient, day: dt.date) -> dict[str, Any]:
    """The body of `GET /v1/usage?date=<day>` (one UTC day per request)."""
    params = {"date": day.isoformat()}
    return client.get(
        settings.LEGACY_USAGE_PATH, params=params, hooks=response_hooks(client)
    ).json()

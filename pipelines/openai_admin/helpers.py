"""HTTP and row-shaping details of the OpenAI Admin API source, kept in one place.

Pure functions here decide windows, limits and row shapes; they are unit-tested by name.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests import HTTPError, Response

from . import settings

log = logging.getLogger(__name__)

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


class _DeclaredHintsNotice(logging.Filter):
    """Drop dlt's notice that declared hints differ from the Arrow schema.

    The merge key and hard-delete hints are declared on the resource on purpose and Arrow has no
    way to carry them, so dlt warns on every page; the notice says nothing a user can act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


_HINTS_NOTICE = _DeclaredHintsNotice()


def quiet_declared_hints_notice() -> None:
    logging.getLogger("dlt").addFilter(_HINTS_NOTICE)  # adding the same filter twice is a no-op


class AdminApiError(RuntimeError):
    """A request the API refused for a reason retrying cannot fix. The message says what to do."""


# --------------------------------------------------------------------------------------------
# Windows


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval `[start, end)` of whole buckets."""

    start: dt.datetime
    end: dt.datetime

    @property
    def start_ts(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_ts(self) -> int:
        return int(self.end.timestamp())

    def days(self) -> list[dt.date]:
        """Every UTC day the window touches: the days a reload of this window replaces."""
        first = self.start.date()
        last = (self.end - dt.timedelta(microseconds=1)).date()
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _as_utc(value: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def align_window(
    start: dt.datetime | dt.date, end: dt.datetime | dt.date, bucket_width: str = "1d"
) -> Window:
    """Widen `[start, end)` to whole UTC days.

    The usage API starts its first bucket at `start_time` itself, not at a boundary, so an
    unaligned start would split a day across two rows. Reloads replace whole days, so windows are
    widened to day boundaries, which are boundaries of every bucket width as well.
    """
    if bucket_width not in settings.BUCKET_SECONDS:
        raise ValueError(
            f"Unknown bucket width {bucket_width!r}: "
            f"use one of {', '.join(settings.BUCKET_SECONDS)}"
        )
    start_utc, end_utc = _as_utc(start), _as_utc(end)
    if end_utc <= start_utc:
        raise ValueError(f"Empty window: end {end_utc:%Y-%m-%d %H:%M} is not after start.")
    day = 86400
    start_s = int(start_utc.timestamp()) // day * day
    end_s = -(-int(end_utc.timestamp()) // day) * day
    return Window(EPOCH + dt.timedelta(seconds=start_s), EPOCH + dt.timedelta(seconds=end_s))


def request_end(window: Window, now: dt.datetime) -> int | None:
    """The `end_time` to send: the window's end, but never in the future.

    Returns None when the whole window lies in the future and nothing can be asked for.
    """
    now_ts = int(now.timestamp())
    if window.start_ts >= now_ts:
        return None
    return min(window.end_ts, now_ts)


def usage_limit(bucket_width: str) -> int:
    """The largest `limit` the usage API accepts for a width: fewest requests."""
    return settings.USAGE_MAX_LIMIT[bucket_width]


# --------------------------------------------------------------------------------------------
# HTTP


def raise_for_admin_status(response: Response, *args: Any, **kwargs: Any) -> None:
    """Turn the refusals a user can fix into errors that say how; leave the rest to dlt.

    401/403 are not retried by the session. A 403 "Missing scopes" is the classic sign of a
    project key where an admin key is needed, which otherwise reads like a bad key.
    """
    status = response.status_code
    if status not in (400, 401, 403, 404):
        return
    message = _error_message(response)
    path = response.request.path_url.split("?")[0] if response.request else ""
    if status == 401:
        text = (
            f"The OpenAI Admin API rejected the key (401 on {path}: {message}). "
            "Check OPENAI_ADMIN_KEY: it must be an admin key (sk-admin-...) of this organization, "
            f"created at {settings.ADMIN_KEYS_URL}."
        )
    elif status == 403:
        text = (
            f"The key is not allowed to read usage (403 on {path}: {message}). "
            "Usage and cost endpoints need an Admin API key with the api.usage.read scope, "
            f"not a project key: create one at {settings.ADMIN_KEYS_URL} "
            "and set it as OPENAI_ADMIN_KEY."
        )
    else:
        text = f"The OpenAI Admin API refused a request ({status} on {path}): {message}"
    raise AdminApiError(text) from HTTPError(response=response)


def _error_message(response: Response) -> str:
    try:
        body = response.json()
        return str(body["error"]["message"])
    except Exception:  # noqa: BLE001 - any unparsable body is reported by its status alone
        return response.reason or "no message"


def make_client(base_url: str, api_key: str) -> RESTClient:
    """One REST client per source run: bearer auth, cursor paging, dlt's retrying session."""
    session = Client(
        request_timeout=settings.REQUEST_TIMEOUT,
        request_max_attempts=settings.REQUEST_MAX_ATTEMPTS,
        request_backoff_factor=settings.REQUEST_BACKOFF_FACTOR,
        request_max_retry_delay=settings.REQUEST_MAX_RETRY_DELAY,
        raise_for_status=False,
    ).session
    return RESTClient(
        base_url=base_url.rstrip("/") + "/",
        auth=BearerTokenAuth(api_key),
        session=session,
    )


@dataclass(frozen=True)
class OrgClient:
    """The client of one organization, with the name every row of it is stamped with."""

    client: RESTClient
    organization: str

    @property
    def stamp(self) -> dict[str, str]:
        return {"organization": self.organization}


def bucket_pages(
    client: RESTClient, path: str, params: Mapping[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's buckets of a usage or costs endpoint, following `next_page`."""
    paginator = JSONResponseCursorPaginator(
        cursor_path="next_page", cursor_param="page", has_more_path="has_more"
    )
    hooks = {"response": [raise_for_admin_status, client._create_response_handler()]}
    for page in client.paginate(
        path, params=dict(params), paginator=paginator, data_selector="data", hooks=hooks
    ):
        yield list(page)


def list_pages(
    client: RESTClient, path: str, params: Mapping[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page of a list endpoint (`after` = `last_id`, until `has_more` is false)."""
    paginator = JSONResponseCursorPaginator(
        cursor_path="last_id", cursor_param="after", has_more_path="has_more"
    )
    hooks = {"response": [raise_for_admin_status, client._create_response_handler()]}
    query = {"limit": settings.LIST_MAX_LIMIT, **(params or {})}
    for page in client.paginate(
        path, params=query, paginator=paginator, data_selector="data", hooks=hooks
    ):
        yield list(page)


# --------------------------------------------------------------------------------------------
# Rows


def bucket_results(bucket: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A bucket's results; specs before 2026-05 called the field `result`."""
    results = bucket.get("results")
    if results is None:
        results = bucket.get("result")
    return results or []


def buckets_to_arrow(
    buckets: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    organization: str,
    adapt: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> pa.Table:
    """Flatten buckets into one Arrow table of `schema`, one row per result.

    Columns are filled by name from each result, with the bucket's times copied in; fields the
    schema does not know are ignored (new API fields must not break a load), missing optional
    counters become null. `adapt` maps an endpoint's result shape onto the schema's names.
    Building columns directly keeps dlt on its fast Arrow path.
    """
    names = schema.names
    columns: dict[str, list[Any]] = {name: [] for name in names}
    result_fields = [n for n in names if n not in _BUCKET_FIELDS]
    for bucket in buckets:
        start, end = int(bucket["start_time"]), int(bucket["end_time"])
        for result in bucket_results(bucket):
            if adapt is not None:
                result = adapt(result)
            columns["organization"].append(organization)
            columns["bucket_date"].append(start // 86400)
            columns["start_time"].append(start)
            columns["end_time"].append(end)
            columns["_deleted"].append(None)
            for name in result_fields:
                columns[name].append(result.get(name))
    if "amount_value" in columns:
        columns["amount_value"] = [_decimal(v) for v in columns["amount_value"]]
    return pa.table({name: pa.array(columns[name], type=schema.field(name).type) for name in names})


def costs_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """Lift `amount.value`/`amount.currency` to top-level fields."""
    amount = result.get("amount") or {}
    return {
        **result,
        "amount_value": amount.get("value"),
        "amount_currency": amount.get("currency"),
    }


_AMOUNT_QUANTUM = Decimal(1).scaleb(-18)


def _decimal(value: Any) -> Decimal | None:
    # Costs are unrounded floats: keep them as decimals (repr round-trips the JSON text), to
    # 1e-18 USD, far below any invoice's precision, so sums reconcile exactly.
    return None if value is None else Decimal(repr(value)).quantize(_AMOUNT_QUANTUM)


def deletion_markers(days: Sequence[dt.date], schema: pa.Schema, organization: str) -> pa.Table:
    """One marker row per day of the window, flagged `_deleted`.

    The tables merge with dlt's delete-insert strategy on (`organization`, `bucket_date`): every
    stored row of a day that has a marker (or a fresh row) is deleted, markers themselves are not
    inserted. So a reload replaces whole days, including groups or buckets that have since
    vanished, and never touches another organization's rows.
    """
    n = len(days)
    arrays = []
    for field in schema:
        if field.name == "organization":
            arrays.append(pa.array([organization] * n, type=pa.string()))
        elif field.name == "bucket_date":
            arrays.append(pa.array(days, type=pa.date32()))
        elif field.name == "_deleted":
            arrays.append(pa.array([True] * n, type=pa.bool_()))
        else:
            arrays.append(pa.nulls(n, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


_BUCKET_FIELDS = {"organization", "bucket_date", "start_time", "end_time", "_deleted"}


def flatten_api_key(key: Mapping[str, Any], project_id: str, organization: str) -> dict[str, Any]:
    """A project API key with its owner flattened; accepts both `owner` shapes the API has had.

    Current: `owner = {type, user: {...}}` or `{type, service_account: {...}}`; 2025: the nested
    object was a full ProjectUser/ProjectServiceAccount. Both carry id/name/role at that level.
    """
    owner = key.get("owner") or {}
    owner_type = owner.get("type")
    detail = owner.get(owner_type or "", None) or owner.get("user") or owner.get("service_account")
    detail = detail or {}
    return {
        "organization": organization,
        "id": key["id"],
        "project_id": project_id,
        "name": key.get("name"),
        "redacted_value": key.get("redacted_value"),
        "created_at": key.get("created_at"),
        "last_used_at": key.get("last_used_at"),
        "owner_project_access": key.get("owner_project_access"),
        "owner_type": owner_type,
        "owner_id": detail.get("id"),
        "owner_name": detail.get("name"),
        "owner_email": detail.get("email"),
        "owner_role": detail.get("role"),
    }

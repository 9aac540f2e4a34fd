"""HTTP and row-shaping details of the OpenAI Admin API source, kept in one place.

Pure functions here decide windows, limits and row shapes; they are unit-tested by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import dlt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from dlt.common.schema import Schema
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests import HTTPError, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError

from . import settings

log = logging.getLogger(__name__)

T = TypeVar("T")
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
    """A request the API refused for a reason retrying cannot fix. The message says what to do.

    `status` is the HTTP status of the refusal and `detail` the API's own message, when known.
    """

    def __init__(self, message: str, status: int | None = None, detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class UnsupportedParameterError(AdminApiError):
    """A 400 naming a parameter value this API version does not know (e.g. a newer group_by)."""


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
        if status == 400 and _error_param(response) == "group_by":
            raise UnsupportedParameterError(text, status, message) from HTTPError(response=response)
    raise AdminApiError(text, status, message) from HTTPError(response=response)


def _error_param(response: Response) -> str | None:
    try:
        return response.json()["error"]["param"]
    except Exception:  # noqa: BLE001 - no parsable error body: no parameter to name
        return None


def _error_message(response: Response) -> str:
    try:
        body = response.json()
        return str(body["error"]["message"])
    except Exception:  # noqa: BLE001 - any unparsable body is reported by its status alone
        return response.reason or "no message"


class RateBudget:
    """A blocking token bucket: `rate` requests per second, bursts of at most `burst`, that slows
    down when the API says so.

    One budget is shared by every endpoint of a source run (they are fetched concurrently), so
    together they stay under the API's pace instead of each provoking 429s on its own. Retries
    take a token too. The admin API's limits are undocumented and may be below the configured
    rate: on a 429 the rate halves (never below `min_rate`) and every caller waits out the
    `Retry-After`; each later success gives back 5%, up to the configured rate. Without that,
    a server slower than us answers most retries with 429 again until they run out. `rate` None
    is unlimited until the first 429. `clock` and `sleep` are injectable for tests.
    """

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        min_rate: float = settings.MIN_REQUESTS_PER_SECOND,
    ) -> None:
        self.ceiling = rate if rate and rate > 0 else None
        self.rate = self.ceiling
        # Never faster than configured, even at the floor (the legacy endpoint's pace is 1/12 s).
        self.min_rate = min(min_rate, self.ceiling) if self.ceiling else min_rate
        self.burst = max(1, burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._hold_until = float("-inf")
        self._cut_at = float("-inf")
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token now or in the future; returns the seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            hold = max(0.0, self._hold_until - now)
            if self.rate is None:
                return hold
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0  # may go negative: later callers queue behind this one
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            return max(wait, hold)

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def throttled(self, retry_after: float | None) -> None:
        """The API answered 429: halve the rate and hold every caller for `retry_after` s."""
        with self._lock:
            now = self._clock()
            # Requests already in flight when the first 429 came back are refused too: one cut
            # per second, or every such echo would halve the rate again.
            if now - self._cut_at >= 1.0:
                current = self.rate if self.rate is not None else settings.REQUESTS_PER_SECOND
                self.rate = max(self.min_rate, current / 2)
                self._cut_at = now
            self._tokens = min(self._tokens, 0.0)  # no burst straight after a refusal
            self._stamp = now
            if retry_after:
                self._hold_until = max(self._hold_until, now + retry_after)

    def succeeded(self) -> None:
        """A request went through: recover 5% of the rate, up to the configured one."""
        with self._lock:
            if self.rate is None:
                return
            raised = self.rate * 1.05
            self.rate = raised if self.ceiling is None else min(self.ceiling, raised)


def retry_after_seconds(response: Response) -> float | None:
    """`Retry-After` in seconds when it is a number (the API sends seconds)."""
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


class _BudgetedAdapter(HTTPAdapter):
    """Takes a budget token before every attempt, including the retrying session's retries, and
    tells the budget how the API answered."""

    def __init__(self, budget: RateBudget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._budget = budget

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        self._budget.acquire()
        response = super().send(request, *args, **kwargs)
        if response.status_code == 429:
            self._budget.throttled(retry_after_seconds(response))
        elif response.status_code < 500:
            self._budget.succeeded()
        return response


def runtime_setting(name: str, default: float) -> Any:
    """dlt's `RUNTIME__<NAME>` variable when set, else our default.

    Passing explicit values to dlt's `Client` bypasses its own configuration lookup, so the
    documented `RUNTIME__*` overrides are read here.
    """
    raw = os.environ.get(f"RUNTIME__{name.upper()}")
    if not raw:
        return default
    try:
        return type(default)(float(raw))
    except ValueError:
        raise ValueError(f"RUNTIME__{name.upper()}={raw!r} is not a number.") from None


class OnceCursorPaginator(JSONResponseCursorPaginator):
    """A cursor paginator that refuses to follow the same cursor twice.

    A server that repeats a cursor would otherwise make the client loop or load a page twice,
    and delete-insert would keep both copies: the marts would double those days.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._followed: set[str] = set()

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        cursor = self._next_reference
        if self._has_next_page and cursor is not None:
            if cursor in self._followed:
                raise AdminApiError(
                    f"The API sent the page cursor of {response.request.path_url.split('?')[0]} "
                    "twice; stopped to avoid loading a page twice. Re-run the window."
                )
            self._followed.add(cursor)


def make_client(base_url: str, api_key: str, budget: RateBudget | None = None) -> RESTClient:
    """One REST client per source run: bearer auth, cursor paging, dlt's retrying session, and
    the shared request budget."""
    session = Client(
        request_timeout=runtime_setting("request_timeout", settings.REQUEST_TIMEOUT),
        request_max_attempts=runtime_setting("request_max_attempts", settings.REQUEST_MAX_ATTEMPTS),
        request_backoff_factor=runtime_setting(
            "request_backoff_factor", settings.REQUEST_BACKOFF_FACTOR
        ),
        request_max_retry_delay=runtime_setting(
            "request_max_retry_delay", settings.REQUEST_MAX_RETRY_DELAY
        ),
        raise_for_status=False,
    ).session
    if budget is not None:
        adapter = _BudgetedAdapter(budget, pool_maxsize=16)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return RESTClient(
        base_url=base_url.rstrip("/") + "/",
        auth=BearerTokenAuth(api_key),
        session=session,
    )


class Notices:
    """Warnings of one source run, each given once however many pages, projects or threads meet
    it: an optional endpoint the API refused, fields the API sends that nobody declared."""

    def __init__(self) -> None:
        self._given: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()

    def warn(self, key: tuple[str, ...], message: str, *args: Any) -> None:
        with self._lock:
            if key in self._given:
                return
            self._given.add(key)
        log.warning(message, *args)

    @property
    def given(self) -> set[tuple[str, ...]]:
        """The keys warned about so far (what a run reported)."""
        with self._lock:
            return set(self._given)


@dataclass(frozen=True)
class OrgClient:
    """The client of one organization, with the name every row of it is stamped with, and the
    warnings of its run."""

    client: RESTClient
    organization: str
    notices: Notices = dataclasses.field(default_factory=Notices, compare=False)

    @property
    def stamp(self) -> dict[str, str]:
        return {"organization": self.organization}


def unless_refused(api: OrgClient, endpoint: str, pages: Iterable[T]) -> Iterator[T]:
    """The pages of `endpoint` (a path template of `settings`), as its settings say to treat a
    refusal.

    An optional endpoint (`settings.OPTIONAL_ENDPOINTS`) that the API refuses with a status of
    `settings.OPTIONAL_REFUSALS` (403, 404) before its first page gives a warning, once per
    run, and no pages: its table stays empty (it exists, see `materialized`) and the run goes
    on. Every other refusal is raised as it is, with its actionable message: a required
    endpoint's, or one after pages have arrived (a partial listing would retire the rest).
    """
    answered = False
    try:
        for page in pages:
            answered = True
            yield page
    except AdminApiError as exc:
        if answered or not settings.is_optional_refusal(endpoint, exc.status):
            raise
        api.notices.warn(
            ("refused", endpoint),
            "%s answered %s for organization %r (%s). The endpoint is optional (this key or "
            "this API version may not offer it): its table stays empty and the run goes on.",
            endpoint,
            exc.status,
            api.organization,
            exc.detail or exc,
        )


def materialized(
    arrow_schema: pa.Schema | None = None,
) -> Callable[[Callable[..., Iterator[Any]]], Callable[..., Iterator[Any]]]:
    """Make a resource function first yield what creates its table with its declared columns,
    so the table exists even when the API lists nothing: dlt creates no table for a resource
    that yields no rows, and dbt would find none. The marker holds no rows: with merge, it
    deletes or retires nothing.

    Row resources yield dlt's `materialize_table_schema()`. A resource of Arrow tables passes
    its `arrow_schema` and yields an empty table of it instead: dlt's marker takes the row path,
    which creates `_dlt_load_id` and `_dlt_id` as NOT NULL columns that Arrow loads (which carry
    neither) then fail to fill.
    """

    def decorate(resource_function: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        @functools.wraps(resource_function)
        def with_table(*args: Any, **kwargs: Any) -> Iterator[Any]:
            if arrow_schema is None:
                yield dlt.mark.materialize_table_schema()
            else:
                yield arrow_schema.empty_table()
            yield from resource_function(*args, **kwargs)

        return with_table

    return decorate


def keep_declared_types(schema: Schema, resources: Iterable[Any]) -> None:
    """Give `schema` the declared type of every column dlt's write-disposition hints drop.

    dlt's scd2 hints replace the declaration of the row version column with one without a type.
    The type then only ever came from data: a table first loaded empty would fail dlt's
    normalize step ("column did not receive any data"). Here each resource's table, as dlt
    computes it, takes back the declared types before the first load.
    """
    for resource in resources:
        table = resource.compute_table_schema()
        declared = resource.columns if isinstance(resource.columns, Mapping) else {}
        for name, column in table["columns"].items():
            if "data_type" not in column and "data_type" in declared.get(name, {}):
                column["data_type"] = declared[name]["data_type"]
        schema.update_table(table)


class MalformedBodyError(ChunkedEncodingError):
    """A 200 whose body is not the JSON object the API sends: cut short or garbled in transit.

    A subclass of `ChunkedEncodingError` so dlt's retrying session retries it (with backoff) like
    any other broken transfer; only if every attempt fails does the run stop, with this message.
    """


def parse_body_once(schema: pa.Schema | None = None) -> Callable[..., None]:
    """A response hook that parses a successful body once and serves that parse to every
    `.json()` call; a body that does not parse is retried.

    dlt's RESTClient calls `response.json()` for the data and again in the cursor paginator;
    requests does not cache it, so each 10 MB page was parsed twice (with simplejson). The parse
    is orjson's (it comes with dlt, about twice as fast), or with `schema` Arrow's reader first
    for usage pages (`read_bucket_page`).
    """

    def hook(response: Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code != 200:
            return
        body = None if schema is None else read_bucket_page(response.content, schema)
        if body is None:
            body = parse_json_object(response.content, response.request.path_url.split("?")[0])
        response.json = lambda **_: body  # type: ignore[method-assign]

    return hook


@dataclass(frozen=True)
class ArrowBuckets:
    """A page's buckets as Arrow's JSON reader parsed them: `start_time`, `end_time` and the
    results (`results`, or `result` in specs before 2026-05) as lists of structs."""

    buckets: pa.StructArray

    def __len__(self) -> int:
        return len(self.buckets)


def page_type(schema: pa.Schema) -> pa.Schema:
    """The Arrow type of a usage page whose results fill `schema` (the reader's explicit schema).

    Fields it does not name (`object`, new API fields) are read with the types the reader
    infers (see `read_bucket_page`).
    """
    results = pa.list_(pa.struct([f for f in schema if f.name not in _BUCKET_FIELDS]))
    bucket = pa.struct(
        [
            ("start_time", pa.int64()),
            ("end_time", pa.int64()),
            ("results", results),
            ("result", results),
        ]
    )
    return pa.schema(
        [("has_more", pa.bool_()), ("next_page", pa.string()), ("data", pa.list_(bucket))]
    )


def read_bucket_page(content: bytes, schema: pa.Schema) -> dict[str, Any] | None:
    """A usage page parsed by Arrow's JSON reader straight into `schema`'s types, or None when
    the body does not fit them (invalid JSON, or a value of another type).

    Parsing to Python objects and converting those to Arrow took 6.7 s of CPU for a year of
    completions at `1h` (549 MB); Arrow's reader does both in 1.9 s. Bodies it refuses go to
    the general parse (`parse_json_object`), which says what is wrong or converts what Arrow's
    strict reader does not (e.g. `1.0` for an integer).
    """
    options = pa_json.ParseOptions(
        explicit_schema=page_type(schema),
        # Fields nobody declared are read too (a new counter, say), to be kept and reported.
        unexpected_field_behavior="infer",
        newlines_in_values=True,  # the API may pretty-print its JSON
    )
    try:
        table = pa_json.read_json(
            pa.BufferReader(content),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(content) + 1),
            parse_options=options,
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != 1:
        return None
    return {
        "has_more": table.column("has_more")[0].as_py(),
        "next_page": table.column("next_page")[0].as_py(),
        "data": ArrowBuckets(pc.list_flatten(table.column("data").combine_chunks())),
    }


def parse_json_object(content: bytes, path: str) -> dict[str, Any]:
    """The JSON object of a 200 body, or `MalformedBodyError` saying what arrived."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise MalformedBodyError(
            f"The API answered 200 on {path} with a body that is not valid JSON "
            f"({len(content)} bytes; {exc}). Retried; if it persists, re-run the window later."
        ) from None
    if not isinstance(body, dict):
        raise MalformedBodyError(
            f"The API answered 200 on {path} with JSON that is not an object "
            f"({type(body).__name__}). Retried; if it persists, re-run the window later."
        )
    return body


def response_hooks(client: RESTClient, schema: pa.Schema | None = None) -> dict[str, list[Any]]:
    """What every request checks on its answer: refusals a user can fix (with how), dlt's own
    status handling, then one parse of a 200 body (retried when it does not parse)."""
    return {
        "response": [
            raise_for_admin_status,
            client._create_response_handler(),
            parse_body_once(schema),
        ]
    }


def bucket_pages(
    client: RESTClient, path: str, params: Mapping[str, Any], schema: pa.Schema | None = None
) -> Iterator[list[dict[str, Any]] | ArrowBuckets]:
    """Yield each page's buckets of a usage or costs endpoint, following `next_page`.

    With `schema`, pages come parsed by Arrow's reader into its types (`ArrowBuckets`) when
    they fit them, else as dicts.
    """
    paginator = OnceCursorPaginator(
        cursor_path="next_page", cursor_param="page", has_more_path="has_more"
    )
    hooks = response_hooks(client, schema)
    for page in client.paginate(
        path, params=dict(params), paginator=paginator, data_selector="data", hooks=hooks
    ):
        # dlt wraps a selected value that is not a list into a list of one.
        if len(page) == 1 and isinstance(page[0], ArrowBuckets):
            yield page[0]
        else:
            yield list(page)


def list_pages(
    client: RESTClient, path: str, params: Mapping[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page of a list endpoint (`after` = `last_id`, until `has_more` is false)."""
    paginator = OnceCursorPaginator(
        cursor_path="last_id", cursor_param="after", has_more_path="has_more"
    )
    hooks = response_hooks(client)
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
    buckets: Iterable[Mapping[str, Any]] | ArrowBuckets,
    schema: pa.Schema,
    organization: str,
    adapt: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
    final_before: int | None = None,
) -> pa.Table:
    """Flatten buckets into one Arrow table of `schema`, one row per result.

    `is_final` is true for buckets whose UTC day ended at or before `final_before` (Unix
    seconds: now minus the grace period), false for the open day, null if not given.

    Columns are filled by name from each result, with the bucket's times copied in; missing
    optional counters become null. Result fields the schema does not know (new API fields) are
    kept as further columns after the schema's, with the type Arrow infers (JSON text if their
    values do not share one): a new field must neither break a load nor vanish. `adapt` maps an
    endpoint's result shape onto the schema's names. Building columns directly keeps dlt on its
    fast Arrow path.
    """
    if isinstance(buckets, ArrowBuckets):
        return _arrow_buckets_to_table(buckets, schema, organization, final_before)
    result_fields = [field for field in schema if field.name not in _BUCKET_FIELDS]
    results: list[Mapping[str, Any]] = []
    starts: list[int] = []
    ends: list[int] = []
    for bucket in buckets:
        rows = bucket_results(bucket)
        if adapt is not None:
            rows = [adapt(result) for result in rows]
        results += rows
        starts += [int(bucket["start_time"])] * len(rows)
        ends += [int(bucket["end_time"])] * len(rows)
    if any(field.name == "amount_value" for field in result_fields):
        results = [{**r, "amount_value": _decimal(r.get("amount_value"))} for r in results]
    # pyarrow converts dicts to a struct column in C++, by field name: unknown keys are
    # skipped and missing ones become null, as the per-field Python loop did, 3x faster.
    struct = pa.array(results, type=pa.struct(result_fields))
    known = {*schema.names, *_NOT_KEPT}
    undeclared = sorted({name for result in results for name in result} - known)
    if undeclared:
        extra = [_inferred([r.get(name) for r in results]) for name in undeclared]
        struct = pa.StructArray.from_arrays(
            [struct.field(f.name) for f in result_fields] + extra,
            names=[f.name for f in result_fields] + undeclared,
        )
    return _results_table(
        struct,
        pa.array(starts, type=pa.int64()),
        pa.array(ends, type=pa.int64()),
        schema,
        organization,
        final_before,
    )


# Result fields never kept as columns: the `object` type tag, and the fields an `adapt` function
# maps onto the schema's names (`amount` of costs, the Dec 2024 `sessions`).
_NOT_KEPT = frozenset({"object", "amount", "sessions"})


def _inferred(values: list[Any]) -> pa.Array:
    """Values of an undeclared field as Arrow infers them, or as JSON text when it cannot."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([as_json(v) for v in values], type=pa.string())


def _arrow_buckets_to_table(
    page: ArrowBuckets, schema: pa.Schema, organization: str, final_before: int | None
) -> pa.Table:
    buckets = page.buckets
    results, legacy = buckets.field("results"), buckets.field("result")
    if results.type != legacy.type:
        # Undeclared fields under one of the names: both lists take the fields of both.
        fields = {f.name: f for f in [*results.type.value_type, *legacy.type.value_type]}
        results, legacy = _with_fields(results, fields), _with_fields(legacy, fields)
    results = pc.coalesce(results, legacy)
    bucket_of_row = pc.list_parent_indices(results)
    return _results_table(
        pc.list_flatten(results),
        pc.take(buckets.field("start_time"), bucket_of_row),
        pc.take(buckets.field("end_time"), bucket_of_row),
        schema,
        organization,
        final_before,
    )


def _with_fields(lists: pa.ListArray, fields: dict[str, pa.Field]) -> pa.ListArray:
    """Lists of structs with exactly `fields`, in that order (null where a struct had none)."""
    values = lists.flatten()
    names = set(values.type.names)
    struct = pa.StructArray.from_arrays(
        [
            values.field(name) if name in names else pa.nulls(len(values), type=f.type)
            for name, f in fields.items()
        ],
        fields=list(fields.values()),
    )
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = pa.array([0, *lengths.cumsum()], type=pa.int32())
    return pa.ListArray.from_arrays(offsets, struct, mask=lists.is_null())


def _results_table(
    struct: pa.StructArray,
    start: pa.Array,
    end: pa.Array,
    schema: pa.Schema,
    organization: str,
    final_before: int | None,
) -> pa.Table:
    """The table of `schema` from the results (a struct of its result fields, and maybe of
    fields it does not declare, which follow its columns) and their times."""
    n = len(struct)
    day = pc.divide(start, 86400)  # integer division: bucket starts are positive
    if final_before is None:
        final = pa.nulls(n, type=pa.bool_())
    else:
        final = pc.less_equal(pc.multiply(pc.add(day, 1), 86400), final_before)
    columns = {
        "organization": pa.array([organization] * n, type=pa.string()),
        "bucket_date": day.cast(pa.int32()).cast(pa.date32()),
        "start_time": start,
        "end_time": end,
        "is_final": final,
        "_deleted": pa.nulls(n, type=pa.bool_()),
        **{field.name: struct.field(field.name) for field in struct.type},
    }
    table = pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
    for field in struct.type:
        if field.name in _NOT_KEPT or field.name in schema.names:
            continue
        table = table.append_column(field.name, struct.field(field.name))
    return table


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
            # Days as int32 offsets: converting date objects makes pyarrow import pandas (1 s).
            epoch = dt.date(1970, 1, 1)
            offsets = [(day - epoch).days for day in days]
            arrays.append(pa.array(offsets, type=pa.int32()).cast(pa.date32()))
        elif field.name == "_deleted":
            arrays.append(pa.array([True] * n, type=pa.bool_()))
        else:
            arrays.append(pa.nulls(n, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


_BUCKET_FIELDS = {"organization", "bucket_date", "start_time", "end_time", "is_final", "_deleted"}


def is_final(bucket_start: int, final_before: int) -> bool:
    """Whether the UTC day holding `bucket_start` ended by `final_before` (now minus the grace)."""
    day_end = (bucket_start // 86400 + 1) * 86400
    return day_end <= final_before


def code_interpreter_result(result: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Dec 2024 API named `num_sessions` `sessions` (simulator/spec/README.md, older shapes)."""
    if result.get("num_sessions") is None and "sessions" in result:
        return {**result, "num_sessions": result["sessions"]}
    return result


# The fields of a project API key item `flatten_api_key` reads.
API_KEY_FIELDS = frozenset(
    {"id", "name", "redacted_value", "created_at", "last_used_at", "owner_project_access", "owner"}
)


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


# --------------------------------------------------------------------------------------------
# Directory rows

ROW_VERSION = "_row_version"
# Fields that change on every use: left out of the version hash (see the directory resources).
_VOLATILE = frozenset({"last_used_at", "api_key_last_used_at", ROW_VERSION})


def with_row_version(row: dict[str, Any]) -> dict[str, Any]:
    """The row with `_row_version`: a hash of everything but the volatile fields, so scd2 opens a
    new version only when something meaningful (a name, a status, a role) changed."""
    stable = {k: v for k, v in row.items() if k not in _VOLATILE}
    digest = hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()
    return {**row, ROW_VERSION: digest[:32]}


def as_json(value: Any) -> str | None:
    """Nested lists kept as JSON text (the raw tables are flat)."""
    return None if value is None else json.dumps(value, sort_keys=True)


# User item fields kept under their own name; `user` and `projects` are flattened.
_USER_SCALARS = (
    "id",
    "name",
    "email",
    "role",
    "added_at",
    "is_default",
    "created",
    "is_service_account",
    "is_scale_tier_authorized_purchaser",
    "is_scim_managed",
    "api_key_last_used_at",
    "technical_level",
    "developer_persona",
)
# The fields of a user item `flatten_user` reads.
USER_FIELDS = frozenset({*_USER_SCALARS, "user", "projects"})


def flatten_user(user: Mapping[str, Any], organization: str) -> dict[str, Any]:
    """An organization user with every field; the nested `user` and `projects` flattened."""
    inner = user.get("user") or {}
    projects = user.get("projects")
    if isinstance(projects, Mapping):
        projects = projects.get("data")
    return {
        "organization": organization,
        **{k: user.get(k) for k in _USER_SCALARS},
        "user_picture": inner.get("picture"),
        "user_enabled": inner.get("enabled"),
        "user_banned": inner.get("banned"),
        "user_banned_at": inner.get("banned_at"),
        "projects_json": as_json(projects),
    }


# The fields of an admin API key item `flatten_admin_key` reads.
ADMIN_KEY_FIELDS = frozenset(
    {"id", "name", "redacted_value", "created_at", "expires_at", "last_used_at", "owner"}
)


def flatten_admin_key(key: Mapping[str, Any], organization: str) -> dict[str, Any]:
    """An admin API key with its owner flattened (the secret `value` is never kept)."""
    owner = key.get("owner") or {}
    return {
        "organization": organization,
        "id": key["id"],
        "name": key.get("name"),
        "redacted_value": key.get("redacted_value"),
        "created_at": key.get("created_at"),
        "expires_at": key.get("expires_at"),
        "last_used_at": key.get("last_used_at"),
        "owner_type": owner.get("type"),
        "owner_id": owner.get("id"),
        "owner_name": owner.get("name"),
        "owner_role": owner.get("role"),
        "owner_created_at": owner.get("created_at"),
    }


# --------------------------------------------------------------------------------------------
# Legacy `GET /v1/usage?date=` rows

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

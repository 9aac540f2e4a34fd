"""The REST client of a source run: bearer auth, dlt's retrying session under the shared request
budget, cursor paging that never follows a cursor twice, one parse per body, and how a refusal
of an optional endpoint is told apart from a failure."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import pyarrow as pa
from dlt.common import jsonpath
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests import Response

from . import dlt_compat, settings
from .errors import AdminApiError, MalformedBodyError, raise_for_admin_status, request_path
from .pacing import BudgetedAdapter, RateBudget
from .pages import ArrowBuckets, read_bucket_page

log = logging.getLogger(__name__)

T = TypeVar("T")


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
        if not self.has_next_page:
            return
        # The cursor dlt follows next, read with its public path rather than its private state.
        values = jsonpath.find_values(self.cursor_path, response.json())
        cursor = values[0] if values else None
        if cursor in self._followed:
            raise AdminApiError(
                f"The API sent the page cursor of {request_path(response)} "
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
        adapter = BudgetedAdapter(budget, pool_maxsize=16)
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
            body = parse_json_object(response.content, request_path(response))
        response.json = lambda **_: body  # type: ignore[method-assign]

    return hook


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
            dlt_compat.raise_for_status_hook(client),
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

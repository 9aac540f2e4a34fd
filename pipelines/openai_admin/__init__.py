"""dlt source for the OpenAI Administration API: usage, costs and the organization directory.

Three sources share one client setup (`client.make_client`):
- `openai_usage` pulls bucketed usage and costs for a caller-given window `[start, end)`. The
  window is stateless (no dlt cursor state): a reload replaces every day of the window, so late
  or restated numbers and vanished groups are right after a re-run.
- `openai_directory` pulls users, projects (archived included), each project's API keys, service
  accounts and users, admin keys and invites, with history, so deleted or renamed objects keep
  the names past spend was made under.
- `openai_legacy_usage` (optional) pulls the undocumented per-day `GET /v1/usage?date=`, at its
  pace of 5 requests a minute, for organizations whose history only it serves.

Organizations are often sparse: every table a run touches exists afterwards with its declared
columns, rows or not (`tables.materialized`); an optional endpoint the API refuses leaves its
table empty with a warning (`settings.OPTIONAL_ENDPOINTS`); fields the API sends that nobody
declared are kept as columns and reported once per run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dlt
import pyarrow as pa

from . import directory, legacy, pages, schemas, settings, spend, tables
from .client import OrgClient, bucket_pages, list_pages, make_client, unless_refused
from .errors import AdminApiError, UnsupportedParameterError
from .families import FAMILIES, UsageFamily
from .pacing import RateBudget
from .windows import Window, align_window, is_final, request_end, usage_limit

__all__ = [
    "AdminApiError",
    "Window",
    "align_window",
    "openai_directory",
    "openai_legacy_usage",
    "openai_usage",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Pull:
    """What every bucketed resource of one source run shares."""

    api: OrgClient
    window: Window
    now: dt.datetime
    final_grace_s: int

    @property
    def final_before(self) -> int:
        return int(self.now.timestamp()) - self.final_grace_s


@dlt.source(name="openai_usage", max_table_nesting=0)
def openai_usage(
    start: dt.datetime | dt.date,
    end: dt.datetime | dt.date,
    bucket_width: str = "1d",
    base_url: str = settings.DEFAULT_BASE_URL,
    api_key: str = dlt.secrets.value,
    organization: str = "default",
    now: dt.datetime | None = None,
    requests_per_second: float | None = settings.REQUESTS_PER_SECOND,
    final_grace_s: int = settings.FINAL_GRACE_SECONDS,
) -> Any:
    """Usage of every family (`families.FAMILIES`) and costs, for the UTC days covering
    `[start, end)`.

    Args:
        start, end: the window; widened to whole UTC days.
        bucket_width: usage bucket width `1d`, `1h` or `1m` (costs are always daily).
        base_url: API root, e.g. the simulator's `http://127.0.0.1:PORT/v1`.
        api_key: an admin key (`sk-admin-...`); never logged.
        organization: the configured name of the organization the key belongs to; every row
            carries it, and a reload replaces only that organization's rows.
        now: the current time (tests freeze it); requests never ask past it.
        requests_per_second: the request budget all endpoints share (None: unlimited).
        final_grace_s: a bucket is final once its day has ended this long ago.
    """
    window = align_window(start, end, bucket_width)
    tables.quiet_declared_hints_notice()
    budget = RateBudget(requests_per_second, settings.REQUEST_BURST)
    api = OrgClient(make_client(base_url, api_key, budget), organization)
    pull = _Pull(api, window, now or dt.datetime.now(dt.UTC), final_grace_s)
    usage = [_usage_resource(family)(pull, bucket_width) for family in FAMILIES]
    return (*usage, costs(pull), costs_by_api_key(pull))


def _usage_resource(family: UsageFamily) -> Any:
    """The resource of one usage family: table `<family>_usage`, every group_by dimension."""

    def pull_family(pull: _Pull, bucket_width: str) -> Iterator[pa.Table]:
        params = {
            "bucket_width": bucket_width,
            "limit": usage_limit(bucket_width),
            "group_by": family.group_by,
        }
        path = settings.USAGE_PATH.format(family=family.name)
        yield from _bucketed(pull, path, params, family.schema, family.adapt)

    pull_family.__doc__ = f"{family.name} usage, one row per bucket x group."
    resource_function = tables.materialized(family.schema)(pull_family)
    hints = tables.bucketed_hints(family.schema)
    return dlt.resource(resource_function, name=family.table, parallelized=True, **hints)


@dlt.resource(name="costs", parallelized=True, **tables.bucketed_hints(schemas.COSTS))
@tables.materialized(schemas.COSTS)
def costs(pull: _Pull) -> Iterator[pa.Table]:
    """Billed cost per day x project x line item (the only money source that ties to invoices)."""
    params = {
        "bucket_width": "1d",
        "limit": settings.COSTS_MAX_LIMIT,
        "group_by": settings.COSTS_GROUP_BY,
    }
    yield from _bucketed(pull, settings.COSTS_PATH, params, schemas.COSTS, pages.costs_result)


@dlt.resource(name="costs_by_api_key", parallelized=True, **tables.bucketed_hints(schemas.COSTS))
@tables.materialized(schemas.COSTS)
def costs_by_api_key(pull: _Pull) -> Iterator[pa.Table]:
    """Billed cost per day x project x line item x API key, where the API can group by key."""
    params = {
        "bucket_width": "1d",
        "limit": settings.COSTS_MAX_LIMIT,
        "group_by": settings.COSTS_BY_API_KEY_GROUP_BY,
    }
    try:
        yield from _bucketed(pull, settings.COSTS_PATH, params, schemas.COSTS, pages.costs_result)
    except UnsupportedParameterError as exc:
        # APIs before the 2026 spec refuse group_by=api_key_id; the per-project costs still load
        # and this table stays empty.
        log.warning("Costs by API key are not available from this API: %s", exc)


@dlt.source(name="openai_legacy_usage", max_table_nesting=0)
def openai_legacy_usage(
    start: dt.datetime | dt.date,
    end: dt.datetime | dt.date,
    base_url: str = settings.DEFAULT_BASE_URL,
    api_key: str = dlt.secrets.value,
    organization: str = "default",
    now: dt.datetime | None = None,
    min_interval_s: float = settings.LEGACY_MIN_INTERVAL_SECONDS,
    final_grace_s: int = settings.FINAL_GRACE_SECONDS,
) -> Any:
    """The legacy `GET /v1/usage?date=` for the UTC days covering `[start, end)`: one request per
    day, at most one every `min_interval_s` seconds (the endpoint allows about 5 a minute)."""
    window = align_window(start, end, "1d")
    tables.quiet_declared_hints_notice()
    budget = RateBudget(1.0 / min_interval_s if min_interval_s > 0 else None, burst=1)
    api = OrgClient(make_client(base_url, api_key, budget), organization)
    return legacy_usage(_Pull(api, window, now or dt.datetime.now(dt.UTC), final_grace_s))


@dlt.resource(name="legacy_usage", **tables.bucketed_hints(schemas.LEGACY_USAGE))
@tables.materialized(schemas.LEGACY_USAGE)
def legacy_usage(pull: _Pull) -> Iterator[pa.Table]:
    """Legacy usage, one row per day x section (`data`, `dalle_api_data`, ...) x item."""
    now_ts = int(pull.now.timestamp())
    for day in pull.window.days():
        day_start = (day - dt.date(1970, 1, 1)).days * 86400
        if day_start >= now_ts:
            break  # the API has nothing past now
        body = legacy.legacy_usage_day(pull.api.client, day)
        # The day's marker only once the API has answered for it: a refusal empties nothing.
        yield pages.deletion_markers([day], schemas.LEGACY_USAGE, pull.api.organization)
        final = is_final(day_start, pull.final_before)
        table = legacy.legacy_rows(body, schemas.LEGACY_USAGE, pull.api.organization, day, final)
        log.info("usage?date=%s: %d rows", day, table.num_rows)
        if table.num_rows:
            yield table


def _bucketed(
    pull: _Pull,
    path: str,
    params: dict[str, Any],
    schema: pa.Schema,
    adapt: Any = None,
) -> Iterator[pa.Table]:
    api, window = pull.api, pull.window
    markers = pages.deletion_markers(window.days(), schema, api.organization)
    end_ts = request_end(window, pull.now)
    if end_ts is None:
        yield markers
        return
    query = {**params, "start_time": window.start_ts, "end_time": end_ts}
    rows = 0
    # Results that need adapting (costs, an old field name) are parsed as dicts.
    answers = bucket_pages(api.client, path, query, schema if adapt is None else None)
    for number, buckets in enumerate(unless_refused(api, path, answers), start=1):
        if number == 1:
            # Only once the API has answered: a refused request must not empty stored days.
            yield markers
        table = pages.buckets_to_arrow(
            buckets, schema, api.organization, adapt, final_before=pull.final_before
        )
        table = _report_undeclared(api, path, schema, table)
        rows += table.num_rows
        log.info("%s: page %d, %d buckets, %d rows so far", path, number, len(buckets), rows)
        if table.num_rows:
            yield table


def _report_undeclared(api: OrgClient, path: str, schema: pa.Schema, table: pa.Table) -> pa.Table:
    """Warn, once per run, of result fields the schema does not declare, which `table` keeps as
    columns of their own (dlt adds them); fields that were null throughout a page have no type
    to create a column with and only add to the warning."""
    undeclared = [f for f in table.schema if f.name not in schema.names]
    for column in undeclared:
        api.notices.warn(
            ("undeclared", path, column.name),
            "%s sends result field %r, which pipelines/openai_admin does not declare (families.py "
            "for usage, schemas.py for costs): kept as a column of the raw table when it has "
            "values. Declare it to type it.",
            path,
            column.name,
        )
    untyped = [f.name for f in undeclared if pa.types.is_null(f.type)]
    return table.drop_columns(untyped) if untyped else table


@dlt.source(name="openai_directory", max_table_nesting=0)
def openai_directory(
    base_url: str = settings.DEFAULT_BASE_URL,
    api_key: str = dlt.secrets.value,
    organization: str = "default",
    requests_per_second: float | None = settings.REQUESTS_PER_SECOND,
) -> Any:
    """The organization directory: users, projects (archived included), each project's API keys,
    service accounts and users, admin API keys and invites, and the spend limits and alerts of
    the organization and its projects, each with its history."""
    budget = RateBudget(requests_per_second, settings.REQUEST_BURST)
    api = OrgClient(make_client(base_url, api_key, budget), organization)
    project_list = projects(api)
    resources = (
        users(api),
        project_list,
        project_list | project_api_keys(api),
        project_list | project_service_accounts(api),
        project_list | project_users(api),
        admin_api_keys(api),
        invites(api),
        project_list | spend_limits(api, spend.OptionalRun("Spend limits")),
        project_list | spend_alerts(api, spend.OptionalRun("Spend alerts")),
    )
    # An organization may list nothing (yet) on any of them: the tables are created empty.
    tables.keep_declared_types(dlt.current.source_schema(), resources)
    return resources


def _listing_pages(
    api: OrgClient, listing: directory.Listing, query: dict[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The pages of an organization-wide listing, as its endpoint's settings treat a refusal."""
    pages = list_pages(api.client, listing.endpoint, query)
    yield from unless_refused(api, listing.endpoint, pages)


@dlt.resource(name="users", columns=directory.USER_COLUMNS, parallelized=True, **tables.HISTORY)
@tables.materialized()
def users(api: OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Organization users, every field the API gives."""
    for page in _listing_pages(api, directory.USERS):
        yield directory.versioned_rows(api, directory.USERS, page)


@dlt.resource(name="projects", columns=directory.PROJECT_COLUMNS, **tables.HISTORY)
@tables.materialized()
def projects(api: OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Projects, archived ones included: past spend may belong to them."""
    for page in _listing_pages(api, directory.PROJECTS, {"include_archived": "true"}):
        yield directory.versioned_rows(api, directory.PROJECTS, page)


@dlt.transformer(
    name="project_api_keys", columns=directory.API_KEY_COLUMNS, parallelized=True, **tables.HISTORY
)
@tables.materialized()
def project_api_keys(
    project_page: list[dict[str, Any]], api: OrgClient
) -> Iterator[list[dict[str, Any]]]:
    """API keys of each project, whatever the caller's membership (`owner_project_access=any`)."""
    yield from _each_project(api, project_page, directory.API_KEYS, {"owner_project_access": "any"})


@dlt.transformer(
    name="project_service_accounts",
    columns=directory.SERVICE_ACCOUNT_COLUMNS,
    parallelized=True,
    **tables.HISTORY,
)
@tables.materialized()
def project_service_accounts(
    project_page: list[dict[str, Any]], api: OrgClient
) -> Iterator[list[dict[str, Any]]]:
    """Service accounts of each live project (archived projects answer 400: skipped)."""
    yield from _each_project(api, project_page, directory.SERVICE_ACCOUNTS)


@dlt.transformer(
    name="project_users",
    columns=directory.PROJECT_USER_COLUMNS,
    parallelized=True,
    **tables.HISTORY,
)
@tables.materialized()
def project_users(
    project_page: list[dict[str, Any]], api: OrgClient
) -> Iterator[list[dict[str, Any]]]:
    """Members of each live project and their project role (archived projects: skipped)."""
    yield from _each_project(api, project_page, directory.PROJECT_USERS)


def _each_project(
    api: OrgClient,
    project_page: list[dict[str, Any]],
    listing: directory.Listing,
    query: dict[str, Any] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Every project's listing at `listing.endpoint`, as versioned rows, several at a time.

    An organization with hundreds of projects would otherwise wait one request latency per
    project in turn; the shared request budget still sets the pace.
    """

    def fetch(project: dict[str, Any]) -> list[dict[str, Any]]:
        items = _project_pages(api, project, listing.endpoint, query)
        return directory.versioned_rows(api, listing, items, project_id=project["id"])

    with ThreadPoolExecutor(max_workers=settings.PROJECT_CONCURRENCY) as pool:
        for rows in pool.map(fetch, project_page):
            if rows:
                yield rows


def _project_pages(
    api: OrgClient,
    project: dict[str, Any],
    endpoint: str,
    query: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every item of a per-project listing; an archived project's refusal (400) is not an error,
    nor a refusal of an optional endpoint (`client.unless_refused`)."""
    path = endpoint.format(project_id=project["id"])
    items: list[dict[str, Any]] = []
    try:
        pages = list_pages(api.client, path, query)
        for page in unless_refused(api, endpoint, pages):
            items += page
    except AdminApiError as exc:
        if project.get("archived_at") is None:
            raise
        log.info("Skipping %s of archived project %s: %s", path, project["id"], exc)
    return items


@dlt.resource(
    name="admin_api_keys", columns=directory.ADMIN_KEY_COLUMNS, parallelized=True, **tables.HISTORY
)
@tables.materialized()
def admin_api_keys(api: OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Admin API keys of the organization (never their secret)."""
    for page in _listing_pages(api, directory.ADMIN_KEYS, {"order": "asc"}):
        yield directory.versioned_rows(api, directory.ADMIN_KEYS, page)


@dlt.resource(name="invites", columns=directory.INVITE_COLUMNS, parallelized=True, **tables.HISTORY)
@tables.materialized()
def invites(api: OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Invitations and their status."""
    for page in _listing_pages(api, directory.INVITES):
        yield directory.versioned_rows(api, directory.INVITES, page)


def _per_project(
    project_page: list[dict[str, Any]], fetch: Callable[[dict[str, Any]], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """`fetch` for every project of the page, several at a time."""
    with ThreadPoolExecutor(max_workers=settings.PROJECT_CONCURRENCY) as pool:
        return [row for rows in pool.map(fetch, project_page) for row in rows]


@dlt.transformer(name="spend_limits", columns=spend.LIMIT_COLUMNS, **tables.SPEND_HISTORY)
def spend_limits(
    project_page: list[dict[str, Any]], api: OrgClient, run: spend.OptionalRun
) -> Iterator[Any]:
    """Hard spend limits: the organization's (`project_id` NULL) and each project's that has one.

    The organization's row is written on every run, without an amount when it has no limit:
    scd2 retires rows only in a load that has some, so a limit removed still ends its version.
    """
    if run.first_page():
        try:
            body = spend.read_limit(api.client, settings.SPEND_LIMIT_PATH)
        except AdminApiError as exc:
            run.refuse(exc)
        else:
            yield [spend.limit_row(body, api.organization, None)]
        yield dlt.mark.materialize_table_schema()
    if run.refused:
        return

    def fetch(project: dict[str, Any]) -> list[dict[str, Any]]:
        path = settings.PROJECT_SPEND_LIMIT_PATH.format(project_id=project["id"])
        try:
            body = spend.read_limit(api.client, path)
        except AdminApiError as exc:
            spend.project_refused("Spend limit", project, exc)
            return []
        return [] if body is None else [spend.limit_row(body, api.organization, project["id"])]

    rows = _per_project(project_page, fetch)
    if rows:
        yield rows


@dlt.transformer(name="spend_alerts", columns=spend.ALERT_COLUMNS, **tables.SPEND_HISTORY)
def spend_alerts(
    project_page: list[dict[str, Any]], api: OrgClient, run: spend.OptionalRun
) -> Iterator[Any]:
    """Spend alerts (an e-mail when a month's spend crosses a threshold, in cents) of the
    organization (`project_id` NULL) and of each project.

    An organization-level listing without any alert gives one row without an id instead: scd2
    retires rows only in a load that has some, so the alerts removed since still end.
    """
    if run.first_page():
        try:
            rows = [
                spend.alert_row(alert, api.organization, None)
                for page in spend.alert_pages(api.client, settings.SPEND_ALERTS_PATH)
                for alert in page
            ]
        except AdminApiError as exc:
            run.refuse(exc)
        else:
            yield rows or [spend.no_alerts_row(api.organization)]
        yield dlt.mark.materialize_table_schema()
    if run.refused:
        return

    def fetch(project: dict[str, Any]) -> list[dict[str, Any]]:
        path = settings.PROJECT_SPEND_ALERTS_PATH.format(project_id=project["id"])
        try:
            pages = list(spend.alert_pages(api.client, path))
        except AdminApiError as exc:
            spend.project_refused("Spend alerts", project, exc)
            return []
        return [spend.alert_row(a, api.organization, project["id"]) for p in pages for a in p]

    rows = _per_project(project_page, fetch)
    if rows:
        yield rows

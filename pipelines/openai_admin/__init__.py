"""dlt source for the OpenAI Administration API: usage, costs and the organization directory.

Two sources share one client setup:
- `openai_usage` pulls bucketed usage and costs for a caller-given window `[start, end)`. The
  window is stateless (no dlt cursor state): a reload replaces every day of the window, so late
  or restated numbers and vanished groups are right after a re-run.
- `openai_directory` pulls users, projects (archived included), each project's API keys, service
  accounts and users, admin keys and invites, with history, so deleted or renamed objects keep
  the names past spend was made under.
- `openai_legacy_usage` (optional) pulls the undocumented per-day `GET /v1/usage?date=`, at its
  pace of 5 requests a minute, for organizations whose history only it serves.

Run without Dagster: `python -m pipelines.openai_admin 2025-01-01 2025-01-08`.
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

from . import helpers, schemas, settings, spend
from .helpers import AdminApiError, Window, align_window

__all__ = [
    "AdminApiError",
    "Window",
    "align_window",
    "openai_directory",
    "openai_legacy_usage",
    "openai_usage",
]

log = logging.getLogger(__name__)

# Reloads replace whole days: delete-insert on the day, with the marker column as hard delete.
_BUCKETED = {
    "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
    "merge_key": ["organization", "bucket_date"],
    "columns": {"_deleted": {"hard_delete": True, "data_type": "bool", "nullable": True}},
}


_FAMILY_SCHEMAS = {
    "completions": schemas.COMPLETIONS_USAGE,
    "embeddings": schemas.EMBEDDINGS_USAGE,
    "moderations": schemas.MODERATIONS_USAGE,
    "images": schemas.IMAGES_USAGE,
    "audio_speeches": schemas.AUDIO_SPEECHES_USAGE,
    "audio_transcriptions": schemas.AUDIO_TRANSCRIPTIONS_USAGE,
    "vector_stores": schemas.VECTOR_STORES_USAGE,
    "code_interpreter_sessions": schemas.CODE_INTERPRETER_SESSIONS_USAGE,
    "file_search_calls": schemas.FILE_SEARCH_CALLS_USAGE,
    "web_search_calls": schemas.WEB_SEARCH_CALLS_USAGE,
}
_FAMILY_ADAPTERS = {"code_interpreter_sessions": helpers.code_interpreter_result}


@dataclass(frozen=True)
class _Pull:
    """What every bucketed resource of one source run shares."""

    api: helpers.OrgClient
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
    """Usage of all ten families, and costs, for the UTC days covering `[start, end)`.

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
    helpers.quiet_declared_hints_notice()
    budget = helpers.RateBudget(requests_per_second, settings.REQUEST_BURST)
    api = helpers.OrgClient(helpers.make_client(base_url, api_key, budget), organization)
    pull = _Pull(api, window, now or dt.datetime.now(dt.UTC), final_grace_s)
    usage = [_usage_resource(family)(pull, bucket_width) for family in settings.USAGE_GROUP_BY]
    return (*usage, costs(pull), costs_by_api_key(pull))


def _usage_resource(family: str) -> Any:
    """The resource of one usage family: table `<family>_usage`, every group_by dimension."""

    def pull_family(pull: _Pull, bucket_width: str) -> Iterator[pa.Table]:
        params = {
            "bucket_width": bucket_width,
            "limit": helpers.usage_limit(bucket_width),
            "group_by": settings.USAGE_GROUP_BY[family],
        }
        path = settings.USAGE_PATH.format(family=family)
        yield from _bucketed(
            pull, path, params, _FAMILY_SCHEMAS[family], _FAMILY_ADAPTERS.get(family)
        )

    pull_family.__doc__ = f"{family} usage, one row per bucket x group."
    return dlt.resource(pull_family, name=f"{family}_usage", parallelized=True, **_BUCKETED)


@dlt.resource(name="costs", parallelized=True, **_BUCKETED)
def costs(pull: _Pull) -> Iterator[pa.Table]:
    """Billed cost per day x project x line item (the only money source that ties to invoices)."""
    params = {
        "bucket_width": "1d",
        "limit": settings.COSTS_MAX_LIMIT,
        "group_by": settings.COSTS_GROUP_BY,
    }
    yield from _bucketed(pull, settings.COSTS_PATH, params, schemas.COSTS, helpers.costs_result)


@dlt.resource(name="costs_by_api_key", parallelized=True, **_BUCKETED)
def costs_by_api_key(pull: _Pull) -> Iterator[pa.Table]:
    """Billed cost per day x project x line item x API key, where the API can group by key."""
    params = {
        "bucket_width": "1d",
        "limit": settings.COSTS_MAX_LIMIT,
        "group_by": settings.COSTS_BY_API_KEY_GROUP_BY,
    }
    try:
        yield from _bucketed(pull, settings.COSTS_PATH, params, schemas.COSTS, helpers.costs_result)
    except helpers.UnsupportedParameterError as exc:
        # APIs before the 2026 spec refuse group_by=api_key_id; the per-project costs still load.
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
    helpers.quiet_declared_hints_notice()
    budget = helpers.RateBudget(1.0 / min_interval_s if min_interval_s > 0 else None, burst=1)
    api = helpers.OrgClient(helpers.make_client(base_url, api_key, budget), organization)
    return legacy_usage(_Pull(api, window, now or dt.datetime.now(dt.UTC), final_grace_s))


@dlt.resource(name="legacy_usage", **_BUCKETED)
def legacy_usage(pull: _Pull) -> Iterator[pa.Table]:
    """Legacy usage, one row per day x section (`data`, `dalle_api_data`, ...) x item."""
    now_ts = int(pull.now.timestamp())
    for day in pull.window.days():
        day_start = (day - dt.date(1970, 1, 1)).days * 86400
        if day_start >= now_ts:
            break  # the API has nothing past now
        body = helpers.legacy_usage_day(pull.api.client, day)
        # The day's marker only once the API has answered for it: a refusal empties nothing.
        yield helpers.deletion_markers([day], schemas.LEGACY_USAGE, pull.api.organization)
        final = helpers.is_final(day_start, pull.final_before)
        table = helpers.legacy_rows(body, schemas.LEGACY_USAGE, pull.api.organization, day, final)
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
    markers = helpers.deletion_markers(window.days(), schema, api.organization)
    end_ts = helpers.request_end(window, pull.now)
    if end_ts is None:
        yield markers
        return
    query = {**params, "start_time": window.start_ts, "end_time": end_ts}
    rows = 0
    # Results that need adapting (costs, an old field name) are parsed as dicts.
    pages = helpers.bucket_pages(api.client, path, query, schema if adapt is None else None)
    for number, buckets in enumerate(pages, start=1):
        if number == 1:
            # Only once the API has answered: a refused request must not empty stored days.
            yield markers
        table = helpers.buckets_to_arrow(
            buckets, schema, api.organization, adapt, final_before=pull.final_before
        )
        rows += table.num_rows
        log.info("%s: page %d, %d buckets, %d rows so far", path, number, len(buckets), rows)
        if table.num_rows:
            yield table


def _columns(
    bigint: tuple[str, ...], text: tuple[str, ...], boolean: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Declared column types, so columns the API leaves null still exist for dbt."""
    return (
        {name: {"data_type": "bigint"} for name in bigint}
        | {name: {"data_type": "text"} for name in text}
        | {name: {"data_type": "bool"} for name in boolean}
        | {helpers.ROW_VERSION: {"data_type": "text"}}
    )


_USER_COLUMNS = _columns(
    ("added_at", "created", "api_key_last_used_at", "user_banned_at"),
    (
        "organization",
        "id",
        "name",
        "email",
        "role",
        "technical_level",
        "developer_persona",
        "user_picture",
        "projects_json",
    ),
    (
        "is_default",
        "is_service_account",
        "is_scale_tier_authorized_purchaser",
        "is_scim_managed",
        "user_enabled",
        "user_banned",
    ),
)
_PROJECT_COLUMNS = _columns(
    ("created_at", "archived_at"),
    ("organization", "id", "name", "status", "external_key_id", "residency"),
)
_API_KEY_COLUMNS = _columns(
    ("created_at", "last_used_at"),
    (
        "organization",
        "id",
        "project_id",
        "name",
        "redacted_value",
        "owner_project_access",
        "owner_type",
        "owner_id",
        "owner_name",
        "owner_email",
        "owner_role",
    ),
)
_SERVICE_ACCOUNT_COLUMNS = _columns(
    ("created_at",), ("organization", "project_id", "id", "name", "role")
)
_PROJECT_USER_COLUMNS = _columns(
    ("added_at",), ("organization", "project_id", "id", "name", "email", "role")
)
_ADMIN_KEY_COLUMNS = _columns(
    ("created_at", "expires_at", "last_used_at", "owner_created_at"),
    (
        "organization",
        "id",
        "name",
        "redacted_value",
        "owner_type",
        "owner_id",
        "owner_name",
        "owner_role",
    ),
)
_INVITE_COLUMNS = _columns(
    ("created_at", "expires_at", "accepted_at"),
    ("organization", "id", "email", "role", "status", "projects_json"),
)
# Spend controls: amounts in cents, as the API gives them; `project_id` NULL is the
# organization's own. No declared row version: nothing in them moves on every use, so dlt's own
# row hash serves, and the scd2 hint would drop a declared version column's type, which fails
# the first load of an empty table (an organization that refuses them).
_SPEND_LIMIT_COLUMNS: dict[str, dict[str, Any]] = {
    "organization": {"data_type": "text"},
    "project_id": {"data_type": "text"},
    "object": {"data_type": "text"},
    "threshold_amount": {"data_type": "bigint"},
    "currency": {"data_type": "text"},
    "interval": {"data_type": "text"},
    "enforcement_status": {"data_type": "text"},
}
_SPEND_ALERT_COLUMNS: dict[str, dict[str, Any]] = {
    "organization": {"data_type": "text"},
    "project_id": {"data_type": "text"},
    "id": {"data_type": "text"},
    "object": {"data_type": "text"},
    "threshold_amount": {"data_type": "bigint"},
    "currency": {"data_type": "text"},
    "interval": {"data_type": "text"},
    "notification_type": {"data_type": "text"},
    "recipients_json": {"data_type": "text"},
    "subject_prefix": {"data_type": "text"},
}

# Directory history: dlt's scd2 keeps every version of a row with `_dlt_valid_from` and
# `_dlt_valid_to` (NULL while current); a row the API stops listing is retired, not deleted, so
# past spend keeps the name it had. The merge key limits retiring to the organization loaded.
# The version hash leaves out counters that move on every use (`last_used_at`), which would
# otherwise make a new version per run: those columns hold their value as of the version's start.
_HISTORY = {
    "write_disposition": {
        "disposition": "merge",
        "strategy": "scd2",
        "row_version_column_name": helpers.ROW_VERSION,
    },
    "merge_key": "organization",
}
_SPEND_HISTORY = {**_HISTORY, "write_disposition": {"disposition": "merge", "strategy": "scd2"}}


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
    budget = helpers.RateBudget(requests_per_second, settings.REQUEST_BURST)
    api = helpers.OrgClient(helpers.make_client(base_url, api_key, budget), organization)
    project_list = projects(api)
    return (
        users(api),
        project_list,
        project_list | project_api_keys(api),
        project_list | project_service_accounts(api),
        project_list | project_users(api),
        admin_api_keys(api),
        invites(api),
        project_list | spend_limits(api, _OptionalRun("Spend limits")),
        project_list | spend_alerts(api, _OptionalRun("Spend alerts")),
    )


def _versioned(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [helpers.with_row_version(row) for row in rows]


def _fields(
    items: list[dict[str, Any]], columns: dict[str, Any], api: helpers.OrgClient, **extra: Any
) -> list[dict[str, Any]]:
    """Directory items as rows: the declared columns, `extra` fields, the organization stamp."""
    return [{**{k: item.get(k) for k in columns}, **extra, **api.stamp} for item in items]


def _rows(
    page: list[dict[str, Any]], columns: dict[str, Any], api: helpers.OrgClient, **extra: Any
) -> list[dict[str, Any]]:
    """A directory page as versioned rows (see `_fields`)."""
    return _versioned(_fields(page, columns, api, **extra))


@dlt.resource(name="users", columns=_USER_COLUMNS, parallelized=True, **_HISTORY)
def users(api: helpers.OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Organization users, every field the API gives."""
    for page in helpers.list_pages(api.client, settings.USERS_PATH):
        yield _versioned([helpers.flatten_user(u, api.organization) for u in page])


@dlt.resource(name="projects", columns=_PROJECT_COLUMNS, **_HISTORY)
def projects(api: helpers.OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Projects, archived ones included: past spend may belong to them."""
    query = {"include_archived": "true"}
    for page in helpers.list_pages(api.client, settings.PROJECTS_PATH, query):
        yield _rows(page, _PROJECT_COLUMNS, api)


@dlt.transformer(name="project_api_keys", columns=_API_KEY_COLUMNS, parallelized=True, **_HISTORY)
def project_api_keys(
    project_page: list[dict[str, Any]], api: helpers.OrgClient
) -> Iterator[list[dict[str, Any]]]:
    """API keys of each project, whatever the caller's membership (`owner_project_access=any`)."""

    def shape(items: list[dict[str, Any]], project_id: str) -> list[dict[str, Any]]:
        return [helpers.flatten_api_key(key, project_id, api.organization) for key in items]

    query = {"owner_project_access": "any"}
    yield from _each_project(api, project_page, settings.PROJECT_API_KEYS_PATH, shape, query)


@dlt.transformer(
    name="project_service_accounts",
    columns=_SERVICE_ACCOUNT_COLUMNS,
    parallelized=True,
    **_HISTORY,
)
def project_service_accounts(
    project_page: list[dict[str, Any]], api: helpers.OrgClient
) -> Iterator[list[dict[str, Any]]]:
    """Service accounts of each live project (archived projects answer 400: skipped)."""

    def shape(items: list[dict[str, Any]], project_id: str) -> list[dict[str, Any]]:
        return _fields(items, _SERVICE_ACCOUNT_COLUMNS, api, project_id=project_id)

    path = settings.PROJECT_SERVICE_ACCOUNTS_PATH
    yield from _each_project(api, project_page, path, shape)


@dlt.transformer(name="project_users", columns=_PROJECT_USER_COLUMNS, parallelized=True, **_HISTORY)
def project_users(
    project_page: list[dict[str, Any]], api: helpers.OrgClient
) -> Iterator[list[dict[str, Any]]]:
    """Members of each live project and their project role (archived projects: skipped)."""

    def shape(items: list[dict[str, Any]], project_id: str) -> list[dict[str, Any]]:
        return _fields(items, _PROJECT_USER_COLUMNS, api, project_id=project_id)

    yield from _each_project(api, project_page, settings.PROJECT_USERS_PATH, shape)


def _each_project(
    api: helpers.OrgClient,
    project_page: list[dict[str, Any]],
    path_template: str,
    shape: Callable[[list[dict[str, Any]], str], list[dict[str, Any]]],
    query: dict[str, Any] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Every project's listing at `path_template`, shaped and versioned, several at a time.

    An organization with hundreds of projects would otherwise wait one request latency per
    project in turn; the shared request budget still sets the pace.
    """

    def fetch(project: dict[str, Any]) -> list[dict[str, Any]]:
        path = path_template.format(project_id=project["id"])
        return _versioned(shape(_project_pages(api, project, path, query), project["id"]))

    with ThreadPoolExecutor(max_workers=settings.PROJECT_CONCURRENCY) as pool:
        for rows in pool.map(fetch, project_page):
            if rows:
                yield rows


def _project_pages(
    api: helpers.OrgClient,
    project: dict[str, Any],
    path: str,
    query: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every item of a per-project listing; an archived project's refusal (400) is not an error."""
    items: list[dict[str, Any]] = []
    try:
        for page in helpers.list_pages(api.client, path, query):
            items += page
    except AdminApiError as exc:
        if project.get("archived_at") is None:
            raise
        log.info("Skipping %s of archived project %s: %s", path, project["id"], exc)
    return items


@dlt.resource(name="admin_api_keys", columns=_ADMIN_KEY_COLUMNS, parallelized=True, **_HISTORY)
def admin_api_keys(api: helpers.OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Admin API keys of the organization (never their secret)."""
    for page in helpers.list_pages(api.client, settings.ADMIN_API_KEYS_PATH, {"order": "asc"}):
        yield _versioned([helpers.flatten_admin_key(k, api.organization) for k in page])


@dlt.resource(name="invites", columns=_INVITE_COLUMNS, parallelized=True, **_HISTORY)
def invites(api: helpers.OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Invitations and their status."""
    for page in helpers.list_pages(api.client, settings.INVITES_PATH):
        page = [{**i, "projects_json": helpers.as_json(i.get("projects"))} for i in page]
        yield _rows(page, _INVITE_COLUMNS, api)


# --------------------------------------------------------------------------------------------
# Spend limits and alerts: optional endpoints


class _OptionalRun:
    """One run of an optional resource over the pages of projects.

    The organization-level request goes first, once: when the API refuses it (403: a key
    without the scope; 404: an organization without the feature) the run logs one warning and
    skips every project, and the table keeps what earlier runs loaded. The transformers are
    not parallelized, so pages of projects arrive one after the other.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.started = False
        self.refused = False

    def first_page(self) -> bool:
        first, self.started = not self.started, True
        return first

    def refuse(self, exc: AdminApiError) -> None:
        """Skip the rest of the run on a 403/404; anything else is a real failure."""
        response = spend.refused_response(exc)
        if response is None:
            raise exc
        self.refused = True
        log.warning(
            "%s not loaded: the API refused them (%s). They are optional: the run goes on and "
            "the table keeps what earlier runs loaded. Spend controls need an organization "
            "with the feature and an admin key allowed to read them.",
            self.what,
            spend.refusal_text(response),
        )


def _per_project(
    project_page: list[dict[str, Any]], fetch: Callable[[dict[str, Any]], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """`fetch` for every project of the page, several at a time."""
    with ThreadPoolExecutor(max_workers=settings.PROJECT_CONCURRENCY) as pool:
        return [row for rows in pool.map(fetch, project_page) for row in rows]


def _project_refused(what: str, project: dict[str, Any], exc: AdminApiError) -> None:
    """A project-level refusal skips that project only (e.g. deleted since it was listed); its
    rows then end, as a deleted project's would."""
    response = spend.refused_response(exc)
    if response is None:
        raise exc
    log.warning(
        "%s of project %s not loaded: %s", what, project["id"], spend.refusal_text(response)
    )


@dlt.transformer(name="spend_limits", columns=_SPEND_LIMIT_COLUMNS, **_SPEND_HISTORY)
def spend_limits(
    project_page: list[dict[str, Any]], api: helpers.OrgClient, run: _OptionalRun
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
            _project_refused("Spend limit", project, exc)
            return []
        return [] if body is None else [spend.limit_row(body, api.organization, project["id"])]

    rows = _per_project(project_page, fetch)
    if rows:
        yield rows


@dlt.transformer(name="spend_alerts", columns=_SPEND_ALERT_COLUMNS, **_SPEND_HISTORY)
def spend_alerts(
    project_page: list[dict[str, Any]], api: helpers.OrgClient, run: _OptionalRun
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
            _project_refused("Spend alerts", project, exc)
            return []
        return [spend.alert_row(a, api.organization, project["id"]) for p in pages for a in p]

    rows = _per_project(project_page, fetch)
    if rows:
        yield rows

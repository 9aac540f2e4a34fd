"""dlt source for the OpenAI Administration API: usage, costs and the organization directory.

Two sources share one client setup:
- `openai_usage` pulls bucketed usage and costs for a caller-given window `[start, end)`. The
  window is stateless (no dlt cursor state): a reload replaces every day of the window, so late
  or restated numbers and vanished groups are right after a re-run.
- `openai_directory` pulls users, projects (archived included) and project API keys, merged on
  their ids so deleted objects keep the names past spend was made under.

Run without Dagster: `python -m pipelines.openai_admin 2025-01-01 2025-01-08`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import dlt
import pyarrow as pa

from . import helpers, schemas, settings
from .helpers import AdminApiError, Window, align_window

__all__ = ["AdminApiError", "Window", "align_window", "openai_directory", "openai_usage"]

log = logging.getLogger(__name__)

# Reloads replace whole days: delete-insert on the day, with the marker column as hard delete.
_BUCKETED = {
    "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
    "merge_key": ["organization", "bucket_date"],
    "columns": {"_deleted": {"hard_delete": True, "data_type": "bool", "nullable": True}},
}


@dlt.source(name="openai_usage", max_table_nesting=0)
def openai_usage(
    start: dt.datetime | dt.date,
    end: dt.datetime | dt.date,
    bucket_width: str = "1d",
    base_url: str = settings.DEFAULT_BASE_URL,
    api_key: str = dlt.secrets.value,
    organization: str = "default",
    now: dt.datetime | None = None,
) -> Any:
    """Usage and costs for the UTC days covering `[start, end)`.

    Args:
        start, end: the window; widened to whole UTC days.
        bucket_width: usage bucket width `1d`, `1h` or `1m` (costs are always daily).
        base_url: API root, e.g. the simulator's `http://127.0.0.1:PORT/v1`.
        api_key: an admin key (`sk-admin-...`); never logged.
        organization: the configured name of the organization the key belongs to; every row
            carries it, and a reload replaces only that organization's rows.
        now: the current time (tests freeze it); requests never ask past it.
    """
    window = align_window(start, end, bucket_width)
    helpers.quiet_declared_hints_notice()
    api = helpers.OrgClient(helpers.make_client(base_url, api_key), organization)
    now = now or dt.datetime.now(dt.UTC)
    return (
        completions_usage(api, window, bucket_width, now),
        costs(api, window, now),
    )


@dlt.resource(name="completions_usage", **_BUCKETED)
def completions_usage(
    api: helpers.OrgClient, window: Window, bucket_width: str, now: dt.datetime
) -> Iterator[pa.Table]:
    """Completions usage grouped by every dimension, one row per bucket x group."""
    params = {
        "bucket_width": bucket_width,
        "limit": helpers.usage_limit(bucket_width),
        "group_by": settings.COMPLETIONS_GROUP_BY,
    }
    yield from _bucketed(
        api, settings.COMPLETIONS_PATH, params, window, now, schemas.COMPLETIONS_USAGE
    )


@dlt.resource(name="costs", **_BUCKETED)
def costs(api: helpers.OrgClient, window: Window, now: dt.datetime) -> Iterator[pa.Table]:
    """Billed cost per day x project x line item (the only money source that ties to invoices)."""
    params = {
        "bucket_width": "1d",
        "limit": settings.COSTS_MAX_LIMIT,
        "group_by": settings.COSTS_GROUP_BY,
    }
    yield from _bucketed(
        api, settings.COSTS_PATH, params, window, now, schemas.COSTS, helpers.costs_result
    )


def _bucketed(
    api: helpers.OrgClient,
    path: str,
    params: dict[str, Any],
    window: Window,
    now: dt.datetime,
    schema: pa.Schema,
    adapt: Any = None,
) -> Iterator[pa.Table]:
    yield helpers.deletion_markers(window.days(), schema, api.organization)
    end_ts = helpers.request_end(window, now)
    if end_ts is None:
        return
    query = {**params, "start_time": window.start_ts, "end_time": end_ts}
    rows = 0
    for number, buckets in enumerate(helpers.bucket_pages(api.client, path, query), start=1):
        table = helpers.buckets_to_arrow(buckets, schema, api.organization, adapt)
        rows += table.num_rows
        log.info("%s: page %d, %d buckets, %d rows so far", path, number, len(buckets), rows)
        if table.num_rows:
            yield table


def _columns(bigint: tuple[str, ...], text: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Declared column types, so columns the API leaves null still exist for dbt."""
    return {name: {"data_type": "bigint"} for name in bigint} | {
        name: {"data_type": "text"} for name in text
    }


_USER_COLUMNS = _columns(("added_at",), ("organization", "id", "name", "email", "role"))
_PROJECT_COLUMNS = _columns(("created_at", "archived_at"), ("organization", "id", "name", "status"))
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


@dlt.source(name="openai_directory", max_table_nesting=0)
def openai_directory(
    base_url: str = settings.DEFAULT_BASE_URL,
    api_key: str = dlt.secrets.value,
    organization: str = "default",
) -> Any:
    """Users, projects and project API keys of the organization."""
    api = helpers.OrgClient(helpers.make_client(base_url, api_key), organization)
    project_list = projects(api)
    return users(api), project_list, project_list | project_api_keys(api)


_DIRECTORY_KEY = ("organization", "id")


@dlt.resource(
    name="users", primary_key=_DIRECTORY_KEY, write_disposition="merge", columns=_USER_COLUMNS
)
def users(api: helpers.OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Organization users."""
    for page in helpers.list_pages(api.client, settings.USERS_PATH):
        yield [{**{k: u.get(k) for k in _USER_COLUMNS}, **api.stamp} for u in page]


@dlt.resource(
    name="projects", primary_key=_DIRECTORY_KEY, write_disposition="merge", columns=_PROJECT_COLUMNS
)
def projects(api: helpers.OrgClient) -> Iterator[list[dict[str, Any]]]:
    """Projects, archived ones included: past spend may belong to them."""
    query = {"include_archived": "true"}
    for page in helpers.list_pages(api.client, settings.PROJECTS_PATH, query):
        yield [{**{k: p.get(k) for k in _PROJECT_COLUMNS}, **api.stamp} for p in page]


@dlt.transformer(
    name="project_api_keys",
    primary_key=_DIRECTORY_KEY,
    write_disposition="merge",
    columns=_API_KEY_COLUMNS,
)
def project_api_keys(
    project_page: list[dict[str, Any]], api: helpers.OrgClient
) -> Iterator[list[dict[str, Any]]]:
    """API keys of each project, whatever the caller's membership (`owner_project_access=any`)."""
    for project in project_page:
        path = settings.PROJECT_API_KEYS_PATH.format(project_id=project["id"])
        try:
            for page in helpers.list_pages(api.client, path, {"owner_project_access": "any"}):
                yield [
                    helpers.flatten_api_key(key, project["id"], api.organization) for key in page
                ]
        except AdminApiError as exc:
            # Archived projects may refuse listings (400); their keys are kept from earlier loads.
            if project.get("archived_at") is None:
                raise
            log.warning("Skipping API keys of archived project %s: %s", project["id"], exc)

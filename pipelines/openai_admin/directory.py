"""The organization directory: how the items of each listing become versioned rows.

Each listing declares its columns (so a table the API lists nothing for is created with them),
the item fields it reads, and its row shape; every field the API sends beyond those is kept as a
column of its own and reported, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import settings
from .client import OrgClient
from .tables import ROW_VERSION, as_json

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


# Fields that change on every use: left out of the version hash (see the directory resources).
_VOLATILE = frozenset({"last_used_at", "api_key_last_used_at", ROW_VERSION})


def with_row_version(row: dict[str, Any]) -> dict[str, Any]:
    """The row with `_row_version`: a hash of everything but the volatile fields, so scd2 opens a
    new version only when something meaningful (a name, a status, a role) changed."""
    stable = {k: v for k, v in row.items() if k not in _VOLATILE}
    digest = hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()
    return {**row, ROW_VERSION: digest[:32]}


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


def _columns(
    bigint: tuple[str, ...], text: tuple[str, ...], boolean: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Declared column types, so columns the API leaves null still exist for dbt."""
    return (
        {name: {"data_type": "bigint"} for name in bigint}
        | {name: {"data_type": "text"} for name in text}
        | {name: {"data_type": "bool"} for name in boolean}
        | {ROW_VERSION: {"data_type": "text"}}
    )


USER_COLUMNS = _columns(
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
PROJECT_COLUMNS = _columns(
    ("created_at", "archived_at"),
    ("organization", "id", "name", "status", "external_key_id", "residency"),
)
API_KEY_COLUMNS = _columns(
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
SERVICE_ACCOUNT_COLUMNS = _columns(
    ("created_at",), ("organization", "project_id", "id", "name", "role")
)
PROJECT_USER_COLUMNS = _columns(
    ("added_at",), ("organization", "project_id", "id", "name", "email", "role")
)
ADMIN_KEY_COLUMNS = _columns(
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
INVITE_COLUMNS = _columns(
    ("created_at", "expires_at", "accepted_at"),
    ("organization", "id", "email", "role", "status", "projects_json"),
)


@dataclass(frozen=True)
class Listing:
    """How the items of one directory endpoint become rows of its table."""

    endpoint: str  # path template in `settings`
    table: str
    # Item fields the row shaping reads (a column of the same name, or flattened into others);
    # the `object` type tag is the same on every item. Any other field is one the API added:
    # it is kept as a column of its own and reported (see `versioned_rows`).
    consumed: frozenset[str]
    shape: Callable[..., dict[str, Any]]


def _declared(columns: dict[str, Any], *flattened: str) -> frozenset[str]:
    return frozenset(columns) | frozenset(flattened) | {"object"}


def _columns_of(columns: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """A shape that reads each declared column under its own name."""

    def shape(item: Mapping[str, Any], organization: str, **extra: Any) -> dict[str, Any]:
        return {**{k: item.get(k) for k in columns}, **extra, "organization": organization}

    return shape


def versioned_rows(
    api: OrgClient, listing: Listing, items: list[dict[str, Any]], **extra: Any
) -> list[dict[str, Any]]:
    """Directory items as versioned rows: the declared columns, `extra` fields, the organization
    stamp, and every field the API sends that nobody declared.

    Undeclared fields are new API fields: they are kept under their own name (dlt adds the
    column; nested values are stored as JSON) and reported once per run, never dropped silently.
    They are part of the row version, so a value that changes opens a new version like any other.
    """
    rows = []
    for item in items:
        row = listing.shape(item, api.organization, **extra)
        undeclared = {k: v for k, v in item.items() if k not in listing.consumed}
        for name in undeclared:
            kept = name not in row
            api.notices.warn(
                ("undeclared", listing.endpoint, name),
                "%s sends field %r, which this pipeline does not declare: %s raw.%s. Declare it "
                "in pipelines/openai_admin to document and type it.",
                listing.endpoint,
                name,
                "kept as a column of" if kept else "not kept, a column of that name is taken in",
                listing.table,
            )
        row = {**undeclared, **row}
        rows.append(with_row_version(row))
    return rows


USERS = Listing(
    settings.USERS_PATH,
    "users",
    _declared({}, *USER_FIELDS),
    lambda item, organization: flatten_user(item, organization),
)
PROJECTS = Listing(
    settings.PROJECTS_PATH, "projects", _declared(PROJECT_COLUMNS), _columns_of(PROJECT_COLUMNS)
)
API_KEYS = Listing(
    settings.PROJECT_API_KEYS_PATH,
    "project_api_keys",
    _declared({}, *API_KEY_FIELDS),
    lambda item, organization, project_id: flatten_api_key(item, project_id, organization),
)
SERVICE_ACCOUNTS = Listing(
    settings.PROJECT_SERVICE_ACCOUNTS_PATH,
    "project_service_accounts",
    _declared(SERVICE_ACCOUNT_COLUMNS),
    _columns_of(SERVICE_ACCOUNT_COLUMNS),
)
PROJECT_USERS = Listing(
    settings.PROJECT_USERS_PATH,
    "project_users",
    _declared(PROJECT_USER_COLUMNS),
    _columns_of(PROJECT_USER_COLUMNS),
)
ADMIN_KEYS = Listing(
    settings.ADMIN_API_KEYS_PATH,
    "admin_api_keys",
    # `value`, the secret, comes only with a key's creation; were it ever listed, never kept.
    _declared({}, *ADMIN_KEY_FIELDS, "value"),
    lambda item, organization: flatten_admin_key(item, organization),
)


def _invite_shape(item: Mapping[str, Any], organization: str) -> dict[str, Any]:
    item = {**item, "projects_json": as_json(item.get("projects"))}
    return _columns_of(INVITE_COLUMNS)(item, organization)


INVITES = Listing(
    settings.INVITES_PATH, "invites", _declared(INVITE_COLUMNS, "projects"), _invite_shape
)

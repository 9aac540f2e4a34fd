"""Organization list endpoints: users, projects, a project's API keys, service accounts and users,
admin API keys and invites. All share ``after``/``limit`` cursor paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from simulator.org import AdminKey, ApiKey, Invite, Organization, Project, ServiceAccount, User
from simulator.params import ApiError, Query, get_array, get_bool, get_enum, get_limit

T = TypeVar("T")
LIST_LIMITS = (20, 100)


def _page(items: Sequence[T], query: Query, id_of: Callable[[T], str], render) -> dict:
    """One page of ``items`` after the ``after`` id, ``limit`` long (always 1..100)."""
    limit = get_limit(query, *LIST_LIMITS, over_max="error")
    after = query.get("after", [None])[-1]
    start = 0
    if after:
        ids = [id_of(item) for item in items]
        # An unknown cursor id gives an empty page rather than silently restarting.
        start = ids.index(after) + 1 if after in ids else len(items)
    chunk = items[start : start + limit]
    data = [render(item) for item in chunk]
    return {
        "object": "list",
        "data": data,
        "first_id": id_of(chunk[0]) if chunk else None,
        "last_id": id_of(chunk[-1]) if chunk else None,
        "has_more": start + limit < len(items),
    }


def _user(user: User) -> dict:
    return {
        "object": "organization.user",
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "added_at": user.added_at,
        # Not in the spec: real payloads carry fields the spec does not declare (the costs
        # page's `organization_id`); clients must keep or ignore them, never fail on them.
        "mfa_enabled": user.role == "owner",
    }


def _project(project: Project) -> dict:
    return {
        "id": project.id,
        "object": "organization.project",
        "name": project.name,
        "created_at": project.created_at,
        "archived_at": project.archived_at,
        "status": "archived" if project.archived_at is not None else "active",
        "external_key_id": None,
    }


def list_users(org: Organization, query: Query, now: int) -> dict:
    """``GET /organization/users`` (``emails`` filter)."""
    emails = get_array(query, "emails")
    wanted = {e.lower() for e in emails} if emails is not None else None
    users = [
        u for u in org.users if u.added_at <= now and (wanted is None or u.email.lower() in wanted)
    ]
    return _page(users, query, lambda u: u.id, _user)


def list_projects(org: Organization, query: Query, now: int) -> dict:
    """``GET /organization/projects``; archived projects only with ``include_archived=true``."""
    include_archived = get_bool(query, "include_archived") or False
    projects = [
        p
        for p in org.projects
        if p.created_at <= now and (include_archived or p.archived_at is None)
    ]
    return _page(projects, query, lambda p: p.id, _project)


def _project_or_404(org: Organization, project_id: str) -> Project:
    project = org.project_by_id.get(project_id)
    if project is None:
        raise ApiError(
            404, f"No such project: '{project_id}'.", param="project_id", code="not_found"
        )
    return project


def _refuse_archived(project: Project) -> None:
    if project.archived_at is not None:
        raise ApiError(
            400,
            f"Project '{project.id}' is archived.",
            param="project_id",
            code="project_archived",
        )


def list_project_api_keys(org: Organization, project_id: str, query: Query, now: int) -> dict:
    """``GET /organization/projects/{id}/api_keys``.

    Without ``owner_project_access`` the real API applies membership-based visibility that "may
    exclude some enabled keys"; the simulator models that as hiding keys whose owner lost access.
    """
    _project_or_404(org, project_id)
    access = get_enum(query, "owner_project_access", ("active", "inactive", "any"), None)
    keys = [
        k
        for k in org.api_keys
        if k.project_id == project_id
        and k.created_at <= now
        and (access == "any" or k.owner_project_access == (access or "active"))
    ]

    def render(key: ApiKey) -> dict:
        if key.owner_user_id is not None:
            user = org.user_by_id[key.owner_user_id]
            owner = {
                "type": "user",
                "user": {
                    "id": user.id,
                    "email": user.email,
                    "name": user.name,
                    "created_at": user.added_at,
                    "role": key.owner_role,
                },
            }
        else:
            account = org.service_account_by_id[key.owner_service_account_id]
            owner = {
                "type": "service_account",
                "service_account": {
                    "id": account.id,
                    "name": account.name,
                    "created_at": account.created_at,
                    "role": account.role,
                },
            }
        return {
            "object": "organization.project.api_key",
            "redacted_value": key.redacted_value,
            "name": key.name,
            "created_at": key.created_at,
            "last_used_at": org.key_last_used(key, now),
            "id": key.id,
            "owner_project_access": key.owner_project_access,
            "owner": owner,
        }

    return _page(keys, query, lambda k: k.id, render)


def list_project_service_accounts(
    org: Organization, project_id: str, query: Query, now: int
) -> dict:
    """``GET /organization/projects/{id}/service_accounts`` (400 for archived projects)."""
    _refuse_archived(_project_or_404(org, project_id))
    accounts = [
        s for s in org.service_accounts if s.project_id == project_id and s.created_at <= now
    ]

    def render(account: ServiceAccount) -> dict:
        return {
            "object": "organization.project.service_account",
            "id": account.id,
            "name": account.name,
            "role": account.role,
            "created_at": account.created_at,
        }

    return _page(accounts, query, lambda s: s.id, render)


def list_project_users(org: Organization, project_id: str, query: Query, now: int) -> dict:
    """``GET /organization/projects/{id}/users`` (400 for archived projects).

    Members are the organization's first owner plus every user owning a key in the project.
    """
    project = _project_or_404(org, project_id)
    _refuse_archived(project)
    if not org.lists_project_members:
        return _page([], query, lambda u: u.id, lambda u: u)
    roles: dict[str, str] = {org.users[0].id: "owner"}
    for key in org.api_keys:
        if key.project_id == project_id and key.owner_user_id and key.created_at <= now:
            roles.setdefault(key.owner_user_id, key.owner_role)
    members = [u for u in org.users if u.id in roles]

    def render(user: User) -> dict:
        return {
            "object": "organization.project.user",
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "role": roles[user.id],
            "added_at": max(user.added_at, project.created_at),
        }

    return _page(members, query, lambda u: u.id, render)


def list_admin_api_keys(org: Organization, query: Query, now: int) -> dict:
    """``GET /organization/admin_api_keys`` (``order`` asc|desc by creation time)."""
    order = get_enum(query, "order", ("asc", "desc"), "asc")
    keys = [k for k in org.admin_keys if k.created_at <= now]
    if order == "desc":
        keys.reverse()

    def render(key: AdminKey) -> dict:
        user = org.user_by_id[key.owner_user_id]
        return {
            "object": "organization.admin_api_key",
            "id": key.id,
            "name": key.name,
            "redacted_value": key.redacted_value,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
            "last_used_at": max(key.created_at, now - now % 3600 - 1800),
            "owner": {
                "type": "user",
                "object": "organization.user",
                "id": user.id,
                "name": user.name,
                "created_at": user.added_at,
                "role": user.role,
            },
        }

    return _page(keys, query, lambda k: k.id, render)


def list_invites(org: Organization, query: Query, now: int) -> dict:
    """``GET /organization/invites``."""
    invites = [i for i in org.invites if i.created_at <= now]

    def render(invite: Invite) -> dict:
        expired = invite.status == "pending" and invite.expires_at <= now
        return {
            "object": "organization.invite",
            "id": invite.id,
            "email": invite.email,
            "role": invite.role,
            "status": "expired" if expired else invite.status,
            "created_at": invite.created_at,
            "expires_at": invite.expires_at,
            "accepted_at": invite.accepted_at,
            "projects": [{"id": p, "role": r} for p, r in invite.projects],
        }

    return _page(invites, query, lambda i: i.id, render)

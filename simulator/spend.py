"""Spend alerts and hard spend limits of the organization and of its projects.

Four GET endpoints: ``/organization/spend_alerts``, ``/organization/spend_limit`` and their
``/organization/projects/{id}/...`` twins. Amounts are integer **cents** with uppercase ``USD``
(the Costs API speaks dollars, lowercase ``usd``).

The controls are a pure function of the seed (their own generator, so nothing else of the
organization moves): an organization limit and a few alerts, limits and alerts on some live
projects, nothing on the others. Amounts are round dollar figures, as people set them, and do not
follow spend: a limit does not change because a day went by.

Choices where the real API is silent (``SimulatorConfig`` knobs):
- ``spend_limit_unset``: what a scope without a limit answers. The spec declares only a 200 with a
  required amount; the simulator answers ``404`` by default, or with ``"null"`` a 200 whose
  amount, currency, interval and enforcement are null (an explicit "none", off the spec).
- ``spend_controls``: ``some`` (the default), ``none`` (an organization that set none),
  ``forbidden`` (every endpoint answers 403: a key without the scope) or ``unavailable`` (404: an
  organization without the feature).
"""

from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.params import ApiError, Query, get_enum, get_int

if TYPE_CHECKING:
    from simulator.org import Organization, Project, User

SPEND_CONTROLS = ("some", "none", "forbidden", "unavailable")
SPEND_LIMIT_UNSET = ("404", "null")
# Spend alert lists: `limit` 0..100 in the schema (0 is valid, unlike the other lists), 20 by
# default in the prose.
ALERT_LIMITS = (20, 100)

_ALNUM = string.ascii_letters + string.digits
_ORG_LIMITS_USD = (7_500, 10_000, 12_000, 15_000)
_PROJECT_LIMITS_USD = (500, 750, 1_000, 2_000, 3_000)


@dataclass(frozen=True)
class SpendLimit:
    """The hard limit of the organization (``project_id`` None) or of one project."""

    project_id: str | None
    threshold_amount: int  # cents
    enforcement_status: str  # enforcing | inactive (an open enum)
    currency: str = "USD"
    interval: str = "month"


@dataclass(frozen=True)
class SpendAlert:
    """An e-mail alert when a scope's monthly spend crosses ``threshold_amount`` cents."""

    id: str
    project_id: str | None
    threshold_amount: int  # cents
    recipients: tuple[str, ...]
    subject_prefix: str | None
    currency: str = "USD"
    interval: str = "month"


@dataclass
class SpendControls:
    """Every limit (by project id; None is the organization's) and alert, in creation order."""

    limits: dict[str | None, SpendLimit]
    alerts: list[SpendAlert]

    def alerts_of(self, project_id: str | None) -> list[SpendAlert]:
        return [a for a in self.alerts if a.project_id == project_id]


def _alert_id(rng: random.Random) -> str:
    return "alert_" + "".join(rng.choice(_ALNUM) for _ in range(24))


def make_controls(
    projects: Sequence[Project], users: Sequence[User], rng: random.Random
) -> SpendControls:
    """An organization limit with alerts at half, 80% and all of it; a limit on two or three
    live projects (one of them not enforcing), alerts on two; the other projects have none."""
    owners = [u.email for u in users if u.role == "owner"]
    org_cents = rng.choice(_ORG_LIMITS_USD) * 100
    limits: dict[str | None, SpendLimit] = {None: SpendLimit(None, org_cents, "enforcing")}
    alerts = [
        SpendAlert(
            _alert_id(rng),
            None,
            org_cents * share // 100,
            (owners[0], "finance@example.com"),
            "OpenAI spend alert" if share < 100 else None,
        )
        for share in (50, 80, 100)
    ]
    live = [p for p in projects[1:] if p.archived_at is None]  # the Default project has none
    limited = rng.sample(live, min(len(live), rng.choice((2, 3))))
    for n, project in enumerate(limited):
        status = "inactive" if n == len(limited) - 1 else "enforcing"
        cents = rng.choice(_PROJECT_LIMITS_USD) * 100
        limits[project.id] = SpendLimit(project.id, cents, status)
    alerted = [limited[0], *rng.sample([p for p in live if p not in limited], 1)]
    for project in alerted:
        base = limits[project.id].threshold_amount if project.id in limits else 100_000
        for share in (75, 90):
            recipients = tuple(rng.sample(owners, min(2, len(owners))))
            alerts.append(
                SpendAlert(_alert_id(rng), project.id, base * share // 100, recipients, None)
            )
    return SpendControls(limits, alerts)


def change_controls(controls: SpendControls, seed: int = 0) -> dict[str, object]:
    """Edit the controls as an administrator would: raise the organization limit, flip one
    project limit's enforcement, remove one alert and add another. Returns what changed."""
    rng = random.Random(f"spend-change/{seed}")
    org = controls.limits[None]
    raised = dataclasses.replace(org, threshold_amount=org.threshold_amount + 250_000)
    project_id = rng.choice([p for p in controls.limits if p is not None])
    project = controls.limits[project_id]
    flipped_status = "enforcing" if project.enforcement_status != "enforcing" else "inactive"
    controls.limits = {
        **controls.limits,
        None: raised,
        project_id: dataclasses.replace(project, enforcement_status=flipped_status),
    }
    removed = rng.choice(controls.alerts)
    added = SpendAlert(
        _alert_id(rng), None, raised.threshold_amount * 90 // 100, ("cfo@example.com",), None
    )
    controls.alerts = [a for a in controls.alerts if a.id != removed.id] + [added]
    return {
        "organization_limit": raised.threshold_amount,
        "flipped_project": project_id,
        "removed_alert": removed.id,
        "added_alert": added.id,
    }


# --------------------------------------------------------------------------------------------
# Endpoints


def _available(mode: str) -> bool:
    """Raise what an organization whose controls are out of reach answers; False for `none`."""
    if mode not in SPEND_CONTROLS:
        raise ValueError(f"spend_controls={mode!r}: use one of {', '.join(SPEND_CONTROLS)}")
    if mode == "forbidden":
        raise ApiError(
            403,
            "You have insufficient permissions for this operation. This key cannot read the "
            "organization's spend controls.",
        )
    if mode == "unavailable":
        raise ApiError(404, "Spend controls are not available for this organization.")
    return mode == "some"


def _alert(alert: SpendAlert) -> dict:
    return {
        "id": alert.id,
        "object": "project.spend_alert" if alert.project_id else "organization.spend_alert",
        "threshold_amount": alert.threshold_amount,
        "currency": alert.currency,
        "interval": alert.interval,
        "notification_channel": {
            "type": "email",
            "recipients": list(alert.recipients),
            "subject_prefix": alert.subject_prefix,
        },
    }


def alert_page(alerts: Sequence[SpendAlert], query: Query) -> dict:
    """One page of alerts: ``order`` (asc by creation, or desc), then ``after`` (the page after
    that id) or ``before`` (the page before it); ``limit`` 0..100. An unknown cursor id gives an
    empty page. ``has_more`` tells whether more alerts lie in the direction of travel."""
    minimum, maximum = 0, ALERT_LIMITS[1]
    limit = get_int(query, "limit", minimum=minimum)
    if limit is None:
        limit = ALERT_LIMITS[0]
    if limit > maximum:
        raise ApiError(
            400,
            f"Invalid 'limit': integer above maximum value. Expected a value <= {maximum}, "
            f"but got {limit} instead.",
            param="limit",
            code="integer_above_max_value",
        )
    order = get_enum(query, "order", ("asc", "desc"), "asc")
    after = query.get("after", [None])[-1]
    before = query.get("before", [None])[-1]
    if after and before:
        raise ApiError(400, "Pass either 'after' or 'before', not both.", param="before")
    items = list(alerts) if order == "asc" else list(reversed(alerts))
    ids = [a.id for a in items]
    if before:
        end = ids.index(before) if before in ids else 0
        start = max(0, end - limit)
        has_more = start > 0
    else:
        start = ids.index(after) + 1 if after and after in ids else (len(items) if after else 0)
        end = start + limit
        has_more = end < len(items)
    chunk = items[start:end]
    return {
        "object": "list",
        "data": [_alert(a) for a in chunk],
        "first_id": chunk[0].id if chunk else None,
        "last_id": chunk[-1].id if chunk else None,
        "has_more": has_more,
    }


def _limit(limit: SpendLimit | None, object_name: str, unset: str) -> dict:
    if unset not in SPEND_LIMIT_UNSET:
        raise ValueError(f"spend_limit_unset={unset!r}: use one of {', '.join(SPEND_LIMIT_UNSET)}")
    if limit is None and unset == "404":
        raise ApiError(404, "No hard spend limit is set.", code="not_found")
    return {
        "object": object_name,
        "threshold_amount": limit.threshold_amount if limit else None,
        "currency": limit.currency if limit else None,
        "interval": limit.interval if limit else None,
        "enforcement": {"status": limit.enforcement_status} if limit else None,
    }


def _scope(org: Organization, project_id: str | None, mode: str) -> SpendControls | None:
    """The controls to answer from (None for an organization that set none), after the
    refusals: a project that does not exist (404), then the organization's mode."""
    if project_id is not None and project_id not in org.project_by_id:
        raise ApiError(
            404, f"No such project: '{project_id}'.", param="project_id", code="not_found"
        )
    return org.spend if _available(mode) else None


def list_alerts(org: Organization, project_id: str | None, query: Query, mode: str) -> dict:
    """``GET /organization/spend_alerts`` (``project_id`` None) or a project's."""
    controls = _scope(org, project_id, mode)
    return alert_page(controls.alerts_of(project_id) if controls else [], query)


def get_limit(org: Organization, project_id: str | None, mode: str, unset: str) -> dict:
    """``GET /organization/spend_limit`` (``project_id`` None) or a project's."""
    controls = _scope(org, project_id, mode)
    limit = controls.limits.get(project_id) if controls else None
    name = "project.spend_limit" if project_id else "organization.spend_limit"
    return _limit(limit, name, unset)

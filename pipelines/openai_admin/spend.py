"""Spend alerts and hard spend limits: requests, refusals and row shapes.

Amounts stay in cents, as the API gives them (`threshold_amount`, uppercase `USD`); the Costs
API speaks dollars (lowercase `usd`), so the one conversion is done in dbt. Currency, interval
and enforcement status are open enums: any value is kept as text.

Pure functions here are unit-tested by name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from requests import Response

from . import settings
from .client import OnceCursorPaginator, response_hooks
from .errors import AdminApiError, error_message, request_path
from .tables import as_json

log = logging.getLogger(__name__)


# Spend controls: amounts in cents, as the API gives them; `project_id` NULL is the
# organization's own. No declared row version: nothing in them moves on every use, so dlt's own
# row hash serves, and the scd2 hint would drop a declared version column's type, which fails
# the first load of an empty table (an organization that refuses them).
LIMIT_COLUMNS: dict[str, dict[str, Any]] = {
    "organization": {"data_type": "text"},
    "project_id": {"data_type": "text"},
    "object": {"data_type": "text"},
    "threshold_amount": {"data_type": "bigint"},
    "currency": {"data_type": "text"},
    "interval": {"data_type": "text"},
    "enforcement_status": {"data_type": "text"},
}
ALERT_COLUMNS: dict[str, dict[str, Any]] = {
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


def refused_response(exc: BaseException) -> Response | None:
    """The response of an API refusal the source may skip (403/404), else None."""
    response = getattr(exc.__cause__, "response", None)
    refused = response is not None and response.status_code in settings.OPTIONAL_REFUSALS
    return response if isinstance(exc, AdminApiError) and refused else None


def refusal_text(response: Response) -> str:
    """`403 on /v1/organization/spend_limit: <the API's message>` (never the request's headers)."""
    return f"{response.status_code} on {request_path(response)}: {error_message(response)}"


class OptionalRun:
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
        response = refused_response(exc)
        if response is None:
            raise exc
        self.refused = True
        log.warning(
            "%s not loaded: the API refused them (%s). They are optional: the run goes on and "
            "the table keeps what earlier runs loaded. Spend controls need an organization "
            "with the feature and an admin key allowed to read them.",
            self.what,
            refusal_text(response),
        )


def project_refused(what: str, project: dict[str, Any], exc: AdminApiError) -> None:
    """A project-level refusal skips that project only (e.g. deleted since it was listed); its
    rows then end, as a deleted project's would."""
    response = refused_response(exc)
    if response is None:
        raise exc
    log.warning("%s of project %s not loaded: %s", what, project["id"], refusal_text(response))


def get_object(client: RESTClient, path: str) -> dict[str, Any]:
    """The JSON object of a single-object GET, through the source's response checks."""
    return client.get(path, hooks=response_hooks(client)).json()


def read_limit(client: RESTClient, path: str) -> dict[str, Any] | None:
    """The hard limit at `path`, or None when the scope has none.

    The spec declares only a 200 with a required amount; what a scope without a limit answers
    is undocumented. Both a 404 and a 200 with a null amount read as "no limit"; a 403 (and
    any other refusal) is raised.
    """
    try:
        body = get_object(client, path)
    except AdminApiError as exc:
        response = refused_response(exc)
        if response is not None and response.status_code == 404:
            return None
        raise
    return body if body.get("threshold_amount") is not None else None


def alert_pages(client: RESTClient, path: str) -> Iterator[list[dict[str, Any]]]:
    """Each page of a spend alert listing.

    These lists page unlike the directory's: `limit` may be 0, they take `order` and `before`,
    and `first_id`/`last_id` are null on an empty page. `order=asc` pins the order the `after`
    cursor walks; an empty page ends the walk whatever `has_more` says, since it has no cursor
    to continue after.
    """
    paginator = OnceCursorPaginator(
        cursor_path="last_id",
        cursor_param="after",
        has_more_path="has_more",
        stop_after_empty_page=True,
    )
    query = {"limit": settings.SPEND_ALERTS_MAX_LIMIT, "order": "asc"}
    hooks = response_hooks(client)
    for page in client.paginate(
        path, params=query, paginator=paginator, data_selector="data", hooks=hooks
    ):
        yield list(page)


def limit_row(
    body: Mapping[str, Any] | None, organization: str, project_id: str | None
) -> dict[str, Any]:
    """A hard limit as a row; `body` None (no limit set) gives a row without an amount."""
    body = body or {}
    enforcement = body.get("enforcement")
    return {
        "organization": organization,
        "project_id": project_id,
        "object": body.get("object"),
        "threshold_amount": body.get("threshold_amount"),
        "currency": body.get("currency"),
        "interval": body.get("interval"),
        "enforcement_status": (
            enforcement.get("status") if isinstance(enforcement, Mapping) else None
        ),
    }


def alert_row(
    alert: Mapping[str, Any], organization: str, project_id: str | None
) -> dict[str, Any]:
    """A spend alert as a row, its e-mail channel flattened (recipients as JSON text)."""
    channel = alert.get("notification_channel")
    channel = channel if isinstance(channel, Mapping) else {}
    return {
        "organization": organization,
        "project_id": project_id,
        "id": alert.get("id"),
        "object": alert.get("object"),
        "threshold_amount": alert.get("threshold_amount"),
        "currency": alert.get("currency"),
        "interval": alert.get("interval"),
        "notification_type": channel.get("type"),
        "recipients_json": as_json(channel.get("recipients")),
        "subject_prefix": channel.get("subject_prefix"),
    }


def no_alerts_row(organization: str) -> dict[str, Any]:
    """The row that stands for "this organization has no alert": every field but the
    organization NULL, `id` included."""
    return alert_row({}, organization, None)

"""Refusals of the OpenAI Admin API: the errors a run stops with, each saying what to do."""

from __future__ import annotations

from typing import Any

from requests import HTTPError, Response
from requests.exceptions import ChunkedEncodingError

from . import settings


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


def raise_for_admin_status(response: Response, *args: Any, **kwargs: Any) -> None:
    """Turn the refusals a user can fix into errors that say how; leave the rest to dlt.

    401/403 are not retried by the session. A 403 "Missing scopes" is the classic sign of a
    project key where an admin key is needed, which otherwise reads like a bad key.
    """
    status = response.status_code
    if status not in (400, 401, 403, 404):
        return
    message = error_message(response)
    path = request_path(response)
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


def error_message(response: Response) -> str:
    """The API's own message of a refusal, else the status' reason."""
    try:
        body = response.json()
        return str(body["error"]["message"])
    except Exception:  # noqa: BLE001 - any unparsable body is reported by its status alone
        return response.reason or "no message"


def request_path(response: Response) -> str:
    """The path a response answered, without its query (which may carry a cursor)."""
    return response.request.path_url.split("?")[0] if response.request else ""


class MalformedBodyError(ChunkedEncodingError):
    """A 200 whose body is not the JSON object the API sends: cut short or garbled in transit.

    A subclass of `ChunkedEncodingError` so dlt's retrying session retries it (with backoff) like
    any other broken transfer; only if every attempt fails does the run stop, with this message.
    """

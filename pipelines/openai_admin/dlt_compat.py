"""The one place the source reaches into dlt past its public API.

`RESTClient.paginate` adds dlt's status check (an `HTTPError` with the error body, as dlt's
`http_show_error_body` settings say) only when the caller passes no response hooks. The source
passes its own hooks (refusals with what to do, one parse per body) and wants dlt's check between
them; dlt offers no public way to get it, so it is taken from the client's private factory.
tests/test_dlt_compat.py fails when a dlt upgrade moves or changes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from requests import Response


def raise_for_status_hook(client: RESTClient) -> Callable[[Response, Any, Any], None]:
    """dlt's own response hook of `client`: raises `HTTPError` on a 4xx/5xx answer."""
    return client._create_response_handler()

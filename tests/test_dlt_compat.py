"""The source's one reach into dlt past its public API still holds in the installed dlt: when
these fail after a dlt upgrade, adapt pipelines/openai_admin/dlt_compat.py."""

from __future__ import annotations

import inspect

import pytest
import requests
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.openai_admin import dlt_compat


def _response(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = "http://api.test/v1/organization/costs"
    response.request = requests.Request("GET", response.url).prepare()
    return response


def test_the_client_still_has_its_response_handler_factory():
    factory = RESTClient._create_response_handler
    assert callable(factory)
    assert list(inspect.signature(factory).parameters) == ["self"]


def test_the_wrapped_hook_raises_on_an_error_status_and_passes_a_success():
    hook = dlt_compat.raise_for_status_hook(RESTClient(base_url="http://api.test/v1/"))
    assert hook(_response(200, b'{"data": []}')) is None
    with pytest.raises(requests.HTTPError) as raised:
        hook(_response(500, b'{"error": {"message": "boom"}}'))
    assert raised.value.response.status_code == 500

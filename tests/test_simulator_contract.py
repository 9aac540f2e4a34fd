"""Contract tests: every simulator response validates against the official OpenAPI extract."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import requests
import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from simulator import ADMIN_KEY, PROJECT_KEY, SimulatorConfig, SimulatorHandle, start_simulator
from simulator.families import FAMILIES

SPEC_PATH = Path(__file__).resolve().parents[1] / "simulator/spec/openai-admin-openapi.yaml"
SPEC_URI = "urn:openai-admin-openapi"
NOW = datetime(2026, 3, 18, 15, 31, 39, tzinfo=UTC)  # a Wednesday afternoon
NOW_TS = int(NOW.timestamp())
DAY = 86_400

# The spec's discriminator has no mapping and its values are not schema names (quirk 1 in the
# file header), so validators that honour discriminators need the implied mapping.
RESULT_SCHEMAS = {
    "organization.usage.completions.result": "UsageCompletionsResult",
    "organization.usage.embeddings.result": "UsageEmbeddingsResult",
    "organization.usage.moderations.result": "UsageModerationsResult",
    "organization.usage.images.result": "UsageImagesResult",
    "organization.usage.audio_speeches.result": "UsageAudioSpeechesResult",
    "organization.usage.audio_transcriptions.result": "UsageAudioTranscriptionsResult",
    "organization.usage.vector_stores.result": "UsageVectorStoresResult",
    "organization.usage.code_interpreter_sessions.result": "UsageCodeInterpreterSessionsResult",
    "organization.usage.file_searches.result": "UsageFileSearchCallsResult",
    "organization.usage.web_searches.result": "UsageWebSearchCallsResult",
    "organization.costs.result": "CostsResult",
}
# Path template -> the only `object` its items may carry (the schema cannot check this).
ITEM_OBJECTS = {
    "/organization/usage/completions": "organization.usage.completions.result",
    "/organization/costs": "organization.costs.result",
    "/organization/users": "organization.user",
    "/organization/projects": "organization.project",
    "/organization/projects/{project_id}/api_keys": "organization.project.api_key",
    "/organization/projects/{project_id}/service_accounts": "organization.project.service_account",
    "/organization/projects/{project_id}/users": "organization.project.user",
    "/organization/admin_api_keys": "organization.admin_api_key",
    "/organization/invites": "organization.invite",
    **{f"/organization/usage/{name}": family.object for name, family in FAMILIES.items()},
}


@cache
def _spec() -> dict:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    spec = copy.deepcopy(spec)
    bucket_results = spec["components"]["schemas"]["UsageTimeBucket"]["properties"]["results"]
    bucket_results["items"]["discriminator"]["mapping"] = {
        value: f"#/components/schemas/{name}" for value, name in RESULT_SCHEMAS.items()
    }
    return spec


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(_spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _validator(pointer: str) -> OAS31Validator:
    return OAS31Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry())


def _response_pointer(path_template: str, status: int) -> str:
    """JSON pointer of the body schema the spec declares for ``status`` (ErrorResponse if none)."""
    responses = _spec()["paths"][path_template]["get"]["responses"]
    declared = responses.get(str(status))
    if declared is None:
        return "/components/schemas/ErrorResponse"
    if "$ref" in declared:
        # e.g. '#/components/responses/TooManyRequests'
        declared = _spec()["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
    schema = declared["content"]["application/json"]["schema"]
    if "$ref" in schema:
        return schema["$ref"].removeprefix("#")
    raise AssertionError(f"inline schema for {path_template} {status}")


def assert_conforms(path_template: str, response: requests.Response) -> dict:
    """Validate status-specific body schema, headers, and the endpoint's own item type."""
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    errors = sorted(
        _validator(_response_pointer(path_template, response.status_code)).iter_errors(body),
        key=str,
    )
    assert not errors, f"{path_template} {response.status_code}: {errors[0]}"
    if response.status_code == 200:
        expected = ITEM_OBJECTS[path_template]
        for item in _items(body):
            assert item["object"] == expected
    else:
        assert set(body["error"]) == {"message", "type", "param", "code"}
    return body


def _items(body: dict) -> Iterator[dict]:
    if body["object"] == "page":
        for bucket in body["data"]:
            yield from bucket["results"]
    else:
        yield from body["data"]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator(SimulatorConfig(seed=7, now=NOW, history_days=60)) as handle:
        yield handle


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield session


@pytest.fixture(scope="module")
def project_ids(sim: SimulatorHandle) -> dict[str, str]:
    """An archived project, and a live one that has service accounts (so no list is empty)."""
    org = sim.org
    with_accounts = {s.project_id for s in org.service_accounts}
    return {
        "archived": next(p.id for p in org.projects if p.archived_at is not None),
        "live": next(p.id for p in org.projects if p.archived_at is None and p.id in with_accounts),
    }


def test_spec_file_is_the_reference_extract() -> None:
    assert _spec()["openapi"] == "3.1.0"
    assert set(ITEM_OBJECTS) <= set(_spec()["paths"])


START = NOW_TS - 10 * DAY - 5 * 3600 - 17  # deliberately not aligned
ALL_DIMS = ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]

USAGE_QUERIES = [
    {"start_time": START},
    {"start_time": START, "bucket_width": "1d", "limit": 31, "group_by": ALL_DIMS},
    {"start_time": START, "bucket_width": "1h", "limit": 30, "group_by": ["model", "project_id"]},
    {"start_time": NOW_TS - 3 * 3600, "bucket_width": "1m", "limit": 90, "group_by": ["batch"]},
    {"start_time": START, "end_time": START + 2 * DAY, "bucket_width": "1h", "batch": "true"},
    {"start_time": START, "models": ["gpt-5-2025-08-07", "o3-2025-04-16"], "group_by": "model"},
    {"start_time": 1_000_000_000, "end_time": 1_000_000_000 + 5 * DAY},  # before the org: empty
    {"start_time": NOW_TS + DAY},  # in the future: no buckets
]

COSTS_QUERIES = [
    {"start_time": START},
    {"start_time": START, "group_by": "line_item", "limit": 3},
    {"start_time": START, "group_by": ["project_id", "api_key_id"], "limit": 20},
    {"start_time": START, "group_by": ["line_item", "project_id", "api_key_id"]},
    {"start_time": START, "end_time": START + 3 * DAY, "group_by": "project_id"},
]


@pytest.mark.parametrize("query", USAGE_QUERIES)
def test_usage_completions_pages_conform(sim, http, query) -> None:
    pages = 0
    params = dict(query)
    while True:
        response = http.get(f"{sim.base_url}/organization/usage/completions", params=params)
        assert response.status_code == 200, response.text
        body = assert_conforms("/organization/usage/completions", response)
        pages += 1
        if not body["has_more"] or pages == 3:  # a few pages are enough for the contract
            break
        params["page"] = body["next_page"]


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize(
    "shape",
    [
        {"bucket_width": "1d", "limit": 31, "group_by": "ALL"},
        {"bucket_width": "1h", "limit": 168},
        {"bucket_width": "1m", "limit": 30, "group_by": ["project_id"]},
    ],
)
def test_every_usage_family_pages_conform(sim, http, name, shape) -> None:
    """Each family returns only its own result object, every dimension when grouped."""
    template = f"/organization/usage/{name}"
    params = {"start_time": START, **shape}
    if params.get("group_by") == "ALL":
        params["group_by"] = list(FAMILIES[name].dimensions)
    seen = 0
    for _ in range(2):
        response = http.get(f"{sim.base_url}{template}", params=params)
        assert response.status_code == 200, response.text
        body = assert_conforms(template, response)
        seen += sum(len(b["results"]) for b in body["data"])
        if not body["has_more"]:
            break
        params["page"] = body["next_page"]
    if shape["bucket_width"] == "1d":
        assert seen, f"{name}: no results in ten days"
        result = body["data"][-2]["results"][0] if body["data"][-2]["results"] else None
        if result is not None:
            assert all(result[d] is not None for d in ("project_id",))


def test_family_group_by_outside_its_enum_is_400(sim, http) -> None:
    template = "/organization/usage/vector_stores"
    response = http.get(
        f"{sim.base_url}{template}", params={"start_time": START, "group_by": "model"}
    )
    assert response.status_code == 400
    assert_conforms(template, response)


@pytest.mark.parametrize("query", COSTS_QUERIES)
def test_costs_pages_conform(sim, http, query) -> None:
    params = dict(query)
    for _ in range(3):
        response = http.get(f"{sim.base_url}/organization/costs", params=params)
        assert response.status_code == 200, response.text
        body = assert_conforms("/organization/costs", response)
        if not body["has_more"]:
            break
        params["page"] = body["next_page"]


@pytest.mark.parametrize(
    ("template", "query"),
    [
        ("/organization/users", {}),
        ("/organization/users", {"limit": 5}),
        ("/organization/users", {"emails": ["nobody@example.com"]}),
        ("/organization/projects", {}),
        ("/organization/projects", {"include_archived": "true", "limit": 3}),
        ("/organization/projects/{project_id}/api_keys", {"owner_project_access": "any"}),
        ("/organization/projects/{project_id}/api_keys", {}),
        ("/organization/projects/{project_id}/service_accounts", {}),
        ("/organization/projects/{project_id}/users", {}),
        ("/organization/admin_api_keys", {}),
        ("/organization/admin_api_keys", {"order": "desc", "limit": 2}),
        ("/organization/invites", {}),
    ],
)
def test_list_endpoints_conform(sim, http, project_ids, template, query) -> None:
    path = template.format(project_id=project_ids["live"])
    response = http.get(f"{sim.base_url}{path}", params=query)
    assert response.status_code == 200, response.text
    body = assert_conforms(template, response)
    if "emails" not in query:
        assert body["data"], "the synthetic organization has items on every list"


def test_archived_project_keys_still_listed(sim, http, project_ids) -> None:
    template = "/organization/projects/{project_id}/api_keys"
    response = http.get(
        sim.base_url + template.format(project_id=project_ids["archived"]),
        params={"owner_project_access": "any"},
    )
    assert_conforms(template, response)
    assert response.json()["data"]


USAGE = "/organization/usage/completions"
COSTS = "/organization/costs"
ERROR_CASES = [
    (USAGE, {}, 400),  # start_time missing
    (USAGE, {"start_time": "yesterday"}, 400),
    (USAGE, {"start_time": START, "bucket_width": "1w"}, 400),
    (USAGE, {"start_time": START, "group_by": "organization"}, 400),
    (USAGE, {"start_time": START, "limit": 32}, 400),
    (USAGE, {"start_time": START, "bucket_width": "1h", "limit": 169}, 400),
    (USAGE, {"start_time": START, "bucket_width": "1m", "limit": 1441}, 400),
    (USAGE, {"start_time": START, "limit": 0}, 400),
    (USAGE, {"start_time": START, "batch": "maybe"}, 400),
    (USAGE, {"start_time": START, "page": "page_garbage"}, 400),
    (USAGE, {"start_time": START, "end_time": START}, 400),
    (COSTS, {"start_time": START, "bucket_width": "1h"}, 400),
    (COSTS, {"start_time": START, "limit": 181}, 400),
    (COSTS, {"start_time": START, "group_by": "model"}, 400),
    ("/organization/users", {"limit": 101}, 400),
    ("/organization/projects", {"include_archived": "yes"}, 400),
    ("/organization/projects/{project_id}/api_keys", {"owner_project_access": "all"}, 400),
]


@pytest.mark.parametrize(("template", "query", "status"), ERROR_CASES)
def test_validation_errors_conform(sim, http, project_ids, template, query, status) -> None:
    path = template.format(project_id=project_ids["live"])
    response = http.get(f"{sim.base_url}{path}", params=query)
    assert response.status_code == status, response.text
    body = assert_conforms(template, response)
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"]


@pytest.mark.parametrize(
    "template",
    [
        "/organization/projects/{project_id}/service_accounts",
        "/organization/projects/{project_id}/users",
    ],
)
def test_archived_project_members_are_400(sim, http, project_ids, template) -> None:
    response = http.get(sim.base_url + template.format(project_id=project_ids["archived"]))
    assert response.status_code == 400
    assert_conforms(template, response)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-key"}, 401),
        ({"Authorization": "Basic c2stYWRtaW4tYWJj"}, 401),
        ({"Authorization": f"Bearer {PROJECT_KEY}"}, 403),
        ({"Authorization": "Bearer sk-svcacct-abc"}, 403),
    ],
)
@pytest.mark.parametrize("template", [USAGE, COSTS, "/organization/users"])
def test_auth_errors_conform(sim, template, headers, status) -> None:
    response = requests.get(
        f"{sim.base_url}{template}", params={"start_time": START}, headers=headers
    )
    assert response.status_code == status
    assert_conforms(template, response)


def test_not_found_errors_conform(sim, http) -> None:
    template = "/organization/projects/{project_id}/api_keys"
    response = http.get(sim.base_url + template.format(project_id="proj_doesnotexist"))
    assert response.status_code == 404
    assert_conforms(template, response)
    response = http.get(f"{sim.base_url}/organization/usage/teleportation?start_time=0")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("status", [429, 500, 503])
@pytest.mark.parametrize("template", [USAGE, COSTS, "/organization/projects"])
def test_injected_errors_conform(sim, http, template, status) -> None:
    sim.config.fail_next.append(status)
    response = http.get(f"{sim.base_url}{template}", params={"start_time": START})
    assert response.status_code == status
    assert_conforms(template, response)
    if status == 429:
        # components.responses.TooManyRequests: Retry-After is an integer >= 1
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"]["code"] == "rate_limit_exceeded"


def test_validator_is_not_vacuous() -> None:
    """Broken payloads must fail, or the contract tests above prove nothing."""
    validator = _validator("/components/schemas/UsageResponse")
    result = {"object": "organization.usage.completions.result", "input_tokens": 1}
    page = {
        "object": "page",
        "data": [{"object": "bucket", "start_time": 0, "end_time": 1, "results": [result]}],
        "has_more": False,
        "next_page": None,
    }
    assert list(validator.iter_errors(page))  # output_tokens, num_model_requests missing
    result.update(output_tokens=1, num_model_requests=1)
    assert not list(validator.iter_errors(page))
    result["batch"] = "yes"
    assert list(validator.iter_errors(page))
    error = _validator("/components/schemas/ErrorResponse")
    assert list(error.iter_errors({"error": {"message": "m", "type": "t"}}))

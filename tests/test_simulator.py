"""Behaviour of the OpenAI Admin API simulator: buckets, paging, grouping, money, faults, CLI."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from simulator import (
    ADMIN_KEY,
    PROJECT_KEY,
    SimulatorConfig,
    SimulatorHandle,
    billing,
    reports,
    start_simulator,
)
from simulator.activity import DIMENSIONS, MODELS, day_of
from simulator.org import Organization

NOW = datetime(2026, 3, 18, 15, 31, 39, tzinfo=UTC)  # a Wednesday afternoon
NOW_TS = int(NOW.timestamp())
DAY, HOUR, MINUTE = 86_400, 3_600, 60
TODAY = NOW_TS - NOW_TS % DAY
USAGE = "/organization/usage/completions"
COSTS = "/organization/costs"
COUNTERS = (
    "input_tokens",
    "output_tokens",
    "num_model_requests",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_cached_image_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator(SimulatorConfig(seed=3, now=NOW, history_days=60)) as handle:
        yield handle


def get(sim: SimulatorHandle, path: str, params=None, key: str | None = ADMIN_KEY):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.get(f"{sim.base_url}{path}", params=params, headers=headers, timeout=30)


def ok(sim: SimulatorHandle, path: str, params=None) -> dict:
    response = get(sim, path, params)
    assert response.status_code == 200, response.text
    return response.json()


def walk(sim: SimulatorHandle, path: str, params: dict) -> tuple[list[dict], int]:
    """All buckets of a paged query, and the number of pages it took."""
    params = dict(params)
    buckets, pages = [], 0
    while True:
        body = ok(sim, path, params)
        buckets += body["data"]
        pages += 1
        if not body["has_more"]:
            assert body["next_page"] is None
            return buckets, pages
        assert body["next_page"].startswith("page_")
        params["page"] = body["next_page"]


def totals(results: list[dict], by: tuple[str, ...] = ()) -> dict[tuple, dict[str, int]]:
    """Sum counters of results per values of ``by``."""
    acc: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for result in results:
        row = acc[tuple(result[d] for d in by)]
        for counter in COUNTERS:
            row[counter] += result[counter]
    return dict(acc)


# --------------------------------------------------------------------------------------------
# Buckets and time
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "size", "start"),
    [
        ("1d", DAY, NOW_TS - 4 * DAY - 1234),
        ("1h", HOUR, NOW_TS - 20 * HOUR - 1234),
        ("1m", MINUTE, NOW_TS - 50 * MINUTE - 17),
    ],
)
def test_first_bucket_starts_at_start_time_later_ones_are_aligned(sim, width, size, start):
    data = ok(sim, USAGE, {"start_time": start, "bucket_width": width})["data"]
    assert data[0]["start_time"] == start
    assert data[0]["end_time"] == (start // size + 1) * size
    for previous, bucket in zip(data, data[1:], strict=False):
        assert bucket["start_time"] == previous["end_time"]
        assert bucket["start_time"] % size == 0
        assert bucket["object"] == "bucket"


def test_end_time_is_exclusive_and_cuts_the_last_bucket(sim):
    start = TODAY - 5 * DAY
    aligned = ok(sim, USAGE, {"start_time": start, "end_time": TODAY - 2 * DAY})["data"]
    assert [b["start_time"] for b in aligned] == [start, start + DAY, start + 2 * DAY]
    assert aligned[-1]["end_time"] == TODAY - 2 * DAY

    end = TODAY - 2 * DAY + 5 * HOUR + 7
    cut = ok(sim, USAGE, {"start_time": start, "end_time": end, "group_by": list(DIMENSIONS)})
    last = cut["data"][-1]
    assert (last["start_time"], last["end_time"]) == (TODAY - 2 * DAY, end)
    truth = sim.org.usage_truth(last["start_time"], end)
    assert totals(last["results"], DIMENSIONS) == totals(truth, DIMENSIONS)


def test_without_end_time_the_last_bucket_ends_now(sim):
    for params in ({}, {"end_time": NOW_TS + 7 * DAY}):
        data = ok(sim, USAGE, {"start_time": TODAY - 2 * DAY, **params})["data"]
        assert data[-1]["end_time"] == NOW_TS
        assert data[-1]["start_time"] == TODAY
    assert ok(sim, USAGE, {"start_time": NOW_TS + 60})["data"] == []


def test_partial_buckets_hold_only_usage_inside_them(sim):
    start = TODAY - 3 * DAY - 90 * MINUTE + 17  # 89 whole minutes before midnight
    daily = ok(sim, USAGE, {"start_time": start, "limit": 1, "group_by": list(DIMENSIONS)})
    minutes, _ = walk(
        sim,
        USAGE,
        {"start_time": start, "end_time": TODAY - 3 * DAY, "bucket_width": "1m", "limit": 60},
    )
    assert len(minutes) == 90
    assert minutes[0]["results"] == []  # a minute's usage counts at its start second
    per_minute = [r for b in minutes for r in b["results"]]
    assert totals(per_minute) == totals(daily["data"][0]["results"])
    assert totals(daily["data"][0]["results"], DIMENSIONS) == totals(
        sim.org.usage_truth(start, TODAY - 3 * DAY), DIMENSIONS
    )
    # The still-open current day holds usage up to now only.
    today = ok(sim, USAGE, {"start_time": TODAY})["data"][0]
    assert totals(today["results"]) == totals(sim.org.usage_truth(TODAY, NOW_TS))
    assert totals(today["results"]) != totals(sim.org.usage_truth(TODAY, TODAY + DAY))


def test_empty_buckets_have_empty_results(sim):
    before_org = sim.org.created_at - 10 * DAY
    data = ok(sim, USAGE, {"start_time": before_org, "limit": 3})["data"]
    assert len(data) == 3
    assert all(bucket["results"] == [] for bucket in data)


# --------------------------------------------------------------------------------------------
# limit and paging
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "default", "maximum"), [("1d", 7, 31), ("1h", 24, 168), ("1m", 60, 1440)]
)
def test_limit_defaults_and_maxima_per_width(sim, width, default, maximum):
    start = sim.org.created_at
    params = {"start_time": start, "bucket_width": width}
    assert len(ok(sim, USAGE, params)["data"]) == default
    assert len(ok(sim, USAGE, {**params, "limit": maximum})["data"]) == maximum
    over = get(sim, USAGE, {**params, "limit": maximum + 1})
    assert over.status_code == 400
    assert over.json()["error"]["param"] == "limit"
    assert get(sim, USAGE, {**params, "limit": 0}).status_code == 400


def test_limit_over_max_can_be_clamped(sim):
    sim.config.limit_over_max = "clamp"
    try:
        body = ok(sim, USAGE, {"start_time": sim.org.created_at, "limit": 500})
        assert len(body["data"]) == 31
        assert len(ok(sim, COSTS, {"start_time": sim.org.created_at, "limit": 999})["data"]) == 61
    finally:
        sim.config.limit_over_max = "error"
    assert get(sim, COSTS, {"start_time": sim.org.created_at, "limit": 181}).status_code == 400


def test_pagination_walks_every_bucket_once(sim):
    start, end = TODAY - 3 * DAY + 1800, TODAY - 10 * HOUR
    buckets, pages = walk(
        sim, USAGE, {"start_time": start, "end_time": end, "bucket_width": "1h", "limit": 7}
    )
    starts = [b["start_time"] for b in buckets]
    assert starts[0] == start and buckets[-1]["end_time"] == end
    assert all(a["end_time"] == b["start_time"] for a, b in zip(buckets, buckets[1:], strict=False))
    assert len(starts) == len(set(starts)) == 62
    assert pages == math.ceil(62 / 7)

    days, pages = walk(sim, COSTS, {"start_time": TODAY - 8 * DAY + 5, "limit": 2})
    assert [d["start_time"] for d in days] == [TODAY - (8 - i) * DAY for i in range(9)]
    assert pages == 5


def test_page_cursor_is_tied_to_its_query(sim):
    params = {"start_time": TODAY - 20 * DAY, "group_by": "model"}
    cursor = ok(sim, USAGE, params)["next_page"]
    assert get(sim, USAGE, {**params, "page": cursor}).status_code == 200
    changed = get(sim, USAGE, {**params, "group_by": "project_id", "page": cursor})
    assert changed.status_code == 400
    assert changed.json()["error"]["param"] == "page"


# --------------------------------------------------------------------------------------------
# Grouping and filters
# --------------------------------------------------------------------------------------------


def test_array_parameters_accept_all_three_encodings(sim):
    base = f"{sim.base_url}{USAGE}?start_time={TODAY - 3 * DAY}"
    project = sim.org.projects[0].id
    forms = [
        "&group_by=model&group_by=project_id&project_ids=" + project,
        "&group_by[]=model&group_by[]=project_id&project_ids[]=" + project,
        "&group_by=model,project_id&project_ids=" + project,
    ]
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    bodies = [requests.get(base + form, headers=headers, timeout=30).json() for form in forms]
    assert bodies[0]["data"][1]["results"], "expected grouped results"
    assert bodies[0] == bodies[1] == bodies[2]
    results = [r for b in bodies[0]["data"] for r in b["results"]]
    assert {r["project_id"] for r in results} == {project}


def test_dimensions_are_null_unless_grouped(sim):
    params = {"start_time": TODAY - 2 * DAY, "end_time": TODAY}
    ungrouped = ok(sim, USAGE, params)["data"]
    for bucket in ungrouped:
        assert len(bucket["results"]) == 1
        assert all(bucket["results"][0][d] is None for d in DIMENSIONS)
    for dim in DIMENSIONS:
        grouped = ok(sim, USAGE, {**params, "group_by": dim})["data"]
        for bucket, whole in zip(grouped, ungrouped, strict=True):
            values = [r[dim] for r in bucket["results"]]
            assert len(values) == len(set(values))
            for result in bucket["results"]:
                assert all(result[d] is None for d in DIMENSIONS if d != dim)
            assert totals(bucket["results"]) == totals(whole["results"])


def test_counters_obey_the_accounting_identities(sim):
    params = {"start_time": TODAY - 7 * DAY, "group_by": list(DIMENSIONS), "limit": 8}
    results = [r for b in ok(sim, USAGE, params)["data"] for r in b["results"]]
    assert len(results) > 100
    for r in results:
        assert r["input_tokens"] == (
            r["input_cached_tokens"] + r["input_cache_write_tokens"] + r["input_uncached_tokens"]
        )
        assert r["input_uncached_tokens"] == (
            r["input_text_tokens"] + r["input_audio_tokens"] + r["input_image_tokens"]
        )
        assert r["input_cached_tokens"] == (
            r["input_cached_text_tokens"]
            + r["input_cached_audio_tokens"]
            + r["input_cached_image_tokens"]
        )
        assert r["output_tokens"] == (
            r["output_text_tokens"] + r["output_audio_tokens"] + r["output_image_tokens"]
        )
        assert r["num_model_requests"] > 0
        assert all(r[c] >= 0 for c in COUNTERS)
    assert any(r["input_cached_tokens"] for r in results)
    assert any(r["batch"] for r in results)
    assert {r["user_id"] is None for r in results} == {True, False}  # service accounts too


def test_filters_restrict_usage(sim):
    params = {"start_time": TODAY - 7 * DAY, "group_by": list(DIMENSIONS)}
    every = [r for b in ok(sim, USAGE, params)["data"] for r in b["results"]]
    for flag in (True, False):
        body = ok(sim, USAGE, {**params, "batch": str(flag).lower()})
        got = [r for b in body["data"] for r in b["results"]]
        assert got == [r for r in every if r["batch"] is flag]
    model = every[0]["model"]
    key = every[0]["api_key_id"]
    user = next(r["user_id"] for r in every if r["user_id"])
    for name, field, value in (
        ("models", "model", model),
        ("api_key_ids", "api_key_id", key),
        ("user_ids", "user_id", user),
    ):
        got = [r for b in ok(sim, USAGE, {**params, name: value})["data"] for r in b["results"]]
        assert got == [r for r in every if r[field] == value]


def test_hours_add_up_to_days_and_minutes_to_hours(sim):
    group_by = list(DIMENSIONS)
    start, end = TODAY - 4 * DAY, TODAY - DAY
    days = ok(sim, USAGE, {"start_time": start, "end_time": end, "group_by": group_by})["data"]
    hours, _ = walk(
        sim,
        USAGE,
        {
            "start_time": start,
            "end_time": end,
            "bucket_width": "1h",
            "limit": 168,
            "group_by": group_by,
        },
    )
    assert len(hours) == 72
    for day in days:
        inside = [
            r
            for h in hours
            if day["start_time"] <= h["start_time"] < day["end_time"]
            for r in h["results"]
        ]
        assert totals(inside, DIMENSIONS) == totals(day["results"], DIMENSIONS)

    busiest = max(hours, key=lambda h: sum(r["num_model_requests"] for r in h["results"]))
    minutes = ok(
        sim,
        USAGE,
        {
            "start_time": busiest["start_time"],
            "end_time": busiest["end_time"],
            "bucket_width": "1m",
            "group_by": group_by,
        },
    )["data"]
    assert len(minutes) == 60
    inside = [r for m in minutes for r in m["results"]]
    assert totals(inside, DIMENSIONS) == totals(busiest["results"], DIMENSIONS)
    assert sum(1 for m in minutes if m["results"]) > 10  # traffic spreads over the hour


def test_same_seed_same_data_other_seed_other_data(sim):
    params = {"start_time": TODAY - 5 * DAY, "group_by": ["model", "project_id"]}
    first = get(sim, USAGE, params).content
    assert get(sim, USAGE, params).content == first
    costs = get(sim, COSTS, {**params, "group_by": "line_item"}).content
    with start_simulator(SimulatorConfig(seed=3, now=NOW, history_days=60)) as twin:
        assert get(twin, USAGE, params).content == first
        assert get(twin, COSTS, {**params, "group_by": "line_item"}).content == costs
    with start_simulator(SimulatorConfig(seed=4, now=NOW, history_days=60)) as other:
        assert get(other, USAGE, params).content != first


def test_activity_has_a_plausible_shape():
    org = Organization(seed=11, now_ts=NOW_TS, history_days=400)
    per_day = [
        len(org.activity.day_streams(d)) for d in range(day_of(NOW_TS) - 120, day_of(NOW_TS))
    ]
    assert 20 <= sum(per_day) / len(per_day) <= 60
    weekdays = [n for i, n in enumerate(per_day) if (day_of(NOW_TS) - 120 + i + 3) % 7 < 5]
    weekends = [n for i, n in enumerate(per_day) if (day_of(NOW_TS) - 120 + i + 3) % 7 >= 5]
    assert sum(weekends) / len(weekends) < sum(weekdays) / len(weekdays)
    batch = [s for s in org.streams if s.batch]
    assert 0 < len(batch) < len(org.streams) / 4
    assert {s.service_tier for s in org.streams} <= {"default", "flex", "priority"}
    # A model is only ever used from its release day on.
    early = Organization(seed=11, now_ts=int(datetime(2025, 9, 1, tzinfo=UTC).timestamp()))
    for stream in early.streams:
        released = billing.release_date(stream.model)
        midnight = datetime(released.year, released.month, released.day, tzinfo=UTC)
        assert stream.first_day >= day_of(int(midnight.timestamp()))


def test_benchmark_profile_has_groups_every_hour():
    # How fast a page builds is measured by `make bench` (bench/), not asserted here.
    org = Organization(seed=5, now_ts=NOW_TS, history_days=400, groups_per_hour_target=100)
    query = {
        "start_time": [str(TODAY - 30 * DAY)],
        "bucket_width": ["1h"],
        "limit": ["168"],
        "group_by": [",".join(DIMENSIONS)],
    }
    page = reports.usage_completions(org, query, NOW_TS, "error")
    json.dumps(page)
    assert [len(b["results"]) for b in page["data"]] == [100] * 168


# --------------------------------------------------------------------------------------------
# Costs
# --------------------------------------------------------------------------------------------


def test_costs_buckets_are_whole_utc_days(sim):
    start = TODAY - 3 * DAY + 12345
    data = ok(sim, COSTS, {"start_time": start})["data"]
    assert data[0]["start_time"] == TODAY - 3 * DAY
    assert data[-1]["end_time"] == TODAY + DAY  # the open day ends at the next midnight
    assert all(b["end_time"] - b["start_time"] == DAY for b in data)
    cut = ok(sim, COSTS, {"start_time": start, "end_time": TODAY - DAY + 1})["data"]
    assert cut[-1]["start_time"] == TODAY - DAY
    assert (
        ok(sim, COSTS, {"start_time": start, "end_time": TODAY - DAY})["data"][-1]["start_time"]
        == TODAY - 2 * DAY
    )


def test_costs_line_items_follow_usage_and_the_price_list(sim):
    day_start = TODAY - 2 * DAY
    params = {"start_time": day_start, "end_time": day_start + DAY}
    rows = ok(sim, COSTS, {**params, "group_by": ["line_item", "api_key_id"]})["data"][0]["results"]
    usage = ok(sim, USAGE, {**params, "group_by": list(DIMENSIONS)})["data"][0]["results"]

    expected: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0])
    when = date.fromtimestamp(day_start)
    for u in usage:
        rate_in, rate_cached, rate_out = billing.list_price(u["model"], when)
        factor = (0.5 if u["batch"] else 1.0) * {"default": 1, "flex": 0.5, "priority": 2}[
            u["service_tier"]
        ]
        for direction, qty, rate in (
            ("input", u["input_tokens"] - u["input_cached_tokens"], rate_in),
            ("cached input", u["input_cached_tokens"], rate_cached),
            ("output", u["output_tokens"], rate_out),
        ):
            if qty:
                entry = expected[(f"{u['model']}, {direction}", u["project_id"], u["api_key_id"])]
                entry[0] += qty
                entry[1] += qty * rate * factor / 1e6

    tokens = {
        (r["line_item"], r["project_id"], r["api_key_id"]): r
        for r in rows
        if r["quantity_unit"] == "tokens"
    }
    assert tokens.keys() == expected.keys()
    for key, (qty, amount) in expected.items():
        assert tokens[key]["quantity"] == qty
        assert tokens[key]["amount"]["value"] == pytest.approx(amount, rel=1e-12)
        assert tokens[key]["amount"]["currency"] == "usd"
    others = {r["line_item"] for r in rows if r["quantity_unit"] != "tokens"}
    assert others <= {billing.FILE_SEARCH_LINE_ITEM, billing.WEB_SEARCH_LINE_ITEM}

    total = ok(sim, COSTS, params)["data"][0]["results"]
    assert len(total) == 1 and total[0]["line_item"] is None and total[0]["quantity"] is None
    assert total[0]["amount"]["value"] == pytest.approx(
        math.fsum(r["amount"]["value"] for r in rows), rel=1e-12
    )
    assert total[0]["organization_id"].startswith("org-")


def test_costs_grouping_and_filters(sim):
    params = {"start_time": TODAY - 6 * DAY, "end_time": TODAY}
    by_item = [
        r for b in ok(sim, COSTS, {**params, "group_by": "line_item"})["data"] for r in b["results"]
    ]
    assert all(r["project_id"] for r in by_item)  # line items are per project
    assert all(r["api_key_id"] is None and r["quantity"] is not None for r in by_item)
    assert any(r["quantity_unit"] == "gibibyte_hours" for r in by_item)
    assert any(" | " in r["line_item"] for r in by_item)
    assert any(r["line_item"].endswith(", cached input") for r in by_item)

    by_project = ok(sim, COSTS, {**params, "group_by": "project_id"})["data"]
    for bucket in by_project:
        for r in bucket["results"]:
            assert r["line_item"] is None and r["quantity"] is None and r["quantity_unit"] is None
    project = by_project[0]["results"][0]["project_id"]
    only = ok(sim, COSTS, {**params, "group_by": "project_id", "project_ids": project})["data"]
    assert {r["project_id"] for b in only for r in b["results"]} == {project}

    key_rows = ok(sim, COSTS, {**params, "group_by": "api_key_id"})["data"]
    key = next(r["api_key_id"] for b in key_rows for r in b["results"] if r["api_key_id"])
    filtered = ok(sim, COSTS, {**params, "group_by": "api_key_id", "api_key_ids": [key]})["data"]
    assert {r["api_key_id"] for b in filtered for r in b["results"]} == {key}


def test_list_price_history():
    assert billing.list_price("o3-2025-04-16", date(2025, 6, 9)) == (10.0, 2.5, 40.0)
    assert billing.list_price("o3-2025-04-16", date(2025, 6, 10)) == (2.0, 0.5, 8.0)
    assert billing.list_price("gpt-4o-mini-2024-07-18", date(2026, 1, 1)) == (0.15, 0.075, 0.6)
    assert billing.list_price("gpt-5-2025-08-07", date(2025, 8, 6)) is None
    assert billing.list_price("gpt-17", date(2026, 1, 1)) is None
    assert all(billing.list_price(m.id, date(2026, 1, 1)) for m in MODELS)
    assert billing.multiplier(True, "default") == 0.5
    assert billing.multiplier(False, "flex") == 0.5
    assert billing.multiplier(False, "priority") == 2.0


# --------------------------------------------------------------------------------------------
# Organization lists
# --------------------------------------------------------------------------------------------


def test_organization_shape(sim):
    org = sim.org
    assert len(org.users) == 20 and len(org.projects) == 8 and len(org.api_keys) == 30
    assert org.projects[0].name == "Default Project"
    assert all(u.email.endswith("@example.com") for u in org.users)
    assert {u.role for u in org.users} == {"owner", "reader"}
    assert all(k.id.startswith("key_") and len(k.redacted_value) < 25 for k in org.api_keys)
    assert 8 <= len({s.model for s in org.streams}) <= 10


def test_include_archived(sim):
    visible = ok(sim, "/organization/projects")["data"]
    everything = ok(sim, "/organization/projects", {"include_archived": "true"})["data"]
    assert ok(sim, "/organization/projects", {"include_archived": "false"})["data"] == visible
    archived = [p for p in everything if p["status"] == "archived"]
    assert len(archived) == 1 and archived[0]["archived_at"] > archived[0]["created_at"]
    assert [p for p in everything if p["status"] == "active"] == visible


def test_list_pagination_with_after(sim):
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 7, **({"after": after} if after else {})}
        body = ok(sim, "/organization/users", params)
        seen += [u["id"] for u in body["data"]]
        pages += 1
        assert body["first_id"] == body["data"][0]["id"]
        assert body["last_id"] == body["data"][-1]["id"]
        if not body["has_more"]:
            break
        after = body["last_id"]
    assert pages == 3
    assert seen == [u["id"] for u in ok(sim, "/organization/users", {"limit": 100})["data"]]
    assert len(set(seen)) == 20
    email = sim.org.users[4].email
    assert [u["email"] for u in ok(sim, "/organization/users", {"emails": email})["data"]] == [
        email
    ]


def test_project_api_keys_owner_project_access(sim):
    project = next(p for p in sim.org.projects if p.archived_at is None)
    path = f"/organization/projects/{project.id}/api_keys"
    every = ok(sim, path, {"owner_project_access": "any"})["data"]
    active = ok(sim, path, {"owner_project_access": "active"})["data"]
    inactive = ok(sim, path, {"owner_project_access": "inactive"})["data"]
    assert ok(sim, path)["data"] == active
    assert sorted(k["id"] for k in every) == sorted(k["id"] for k in active + inactive)
    owners = {k["owner"]["type"] for k in every}
    assert owners <= {"user", "service_account"}
    for key in every:
        assert key["owner"][key["owner"]["type"]]["id"]
    missing = get(sim, "/organization/projects/proj_nope/api_keys")
    assert missing.status_code == 404


# --------------------------------------------------------------------------------------------
# Auth and faults
# --------------------------------------------------------------------------------------------


def test_auth_errors(sim):
    secret = "live-this-must-never-be-echoed"
    for key in (None, secret):
        response = get(sim, USAGE, {"start_time": TODAY}, key=key)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert secret not in response.text
    denied = get(sim, USAGE, {"start_time": TODAY}, key=PROJECT_KEY)
    assert denied.status_code == 403
    message = denied.json()["error"]["message"]
    assert "Missing scopes: api.usage.read" in message and "admin" in message
    assert PROJECT_KEY not in denied.text
    other = get(sim, USAGE, {"start_time": TODAY}, key="sk-" + secret)  # any non-admin sk- key
    assert other.status_code == 403 and secret not in other.text
    assert get(sim, USAGE, {"start_time": TODAY}, key="sk-admin-anything").status_code == 200


def test_rate_limit_answers_429_with_retry_after():
    config = SimulatorConfig(seed=1, now=NOW, history_days=5, rate_limit_rps=0.5, burst=2)
    with start_simulator(config) as limited:
        statuses = [get(limited, "/organization/users").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        response = get(limited, "/organization/users")
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")


def test_fail_next_injects_exactly_the_given_statuses(sim):
    sim.reset_requests()
    sim.config.fail_next.extend([429, 503])
    first = get(sim, "/organization/users")
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert get(sim, "/organization/users").status_code == 503
    assert get(sim, "/organization/users").status_code == 200
    records = sim.requests
    assert [r.status for r in records] == [429, 503, 200]
    method, path, query, status = records[0]
    assert (method, path, query) == ("GET", "/v1/organization/users", {})
    sim.reset_requests()
    assert sim.requests == []


def test_latency_delays_every_answer(sim):
    waits: list[float] = []
    sim.wait_with(waits.append)
    sim.config.latency_ms = 150
    try:
        assert get(sim, "/organization/users").status_code == 200
        assert get(sim, "/organization/projects").status_code == 200
    finally:
        sim.config.latency_ms = 0
        sim.wait_with(time.sleep)
    assert waits == [0.15, 0.15]


def test_error_rate_is_seeded():
    def statuses(seed: int) -> list[int]:
        config = SimulatorConfig(seed=seed, now=NOW, history_days=5, error_rate=0.4)
        with start_simulator(config) as flaky:
            return [get(flaky, "/organization/users").status_code for _ in range(25)]

    first = statuses(9)
    assert first == statuses(9)
    assert {200, 500, 503} <= set(first) <= {200, 500, 503}


def test_request_log_records_query_and_status(sim):
    sim.reset_requests()
    get(sim, USAGE, [("start_time", TODAY), ("group_by[]", "model")])
    get(sim, "/nope")
    records = sim.requests
    query = {"start_time": [str(TODAY)], "group_by[]": ["model"]}
    assert records[0] == ("GET", "/v1" + USAGE, query, 200)
    assert records[1].status == 404


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_cli_serves_until_sigterm():
    repo = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--seed", "1", "--history-days", "30"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("SIMULATOR_READY http://127.0.0.1:") and line.endswith("/v1")
        base_url = line.split(" ", 1)[1]
        response = requests.get(
            f"{base_url}/organization/projects",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["data"][0]["name"] == "Default Project"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""  # exactly one line on stdout
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cost_truth_matches_the_costs_endpoint(sim):
    day_start = TODAY - 4 * DAY
    rows = sim.org.cost_truth(day_start + 5 * HOUR)  # any time inside the day
    api = ok(sim, COSTS, {"start_time": day_start, "limit": 1, "group_by": "line_item"})
    by_item: dict[tuple, float] = defaultdict(float)
    for row in rows:
        by_item[(row["line_item"], row["project_id"])] += row["amount"]
    results = api["data"][0]["results"]
    assert {(r["line_item"], r["project_id"]) for r in results} == set(by_item)
    for r in results:
        expected = by_item[(r["line_item"], r["project_id"])]
        assert r["amount"]["value"] == pytest.approx(expected, rel=1e-12)
    # the open day is billed up to now
    today = ok(sim, COSTS, {"start_time": TODAY})["data"][0]["results"][0]["amount"]["value"]
    billed = math.fsum(r["amount"] for r in sim.org.cost_truth(TODAY, until=NOW_TS))
    assert today == pytest.approx(billed, rel=1e-12)
    assert billed < math.fsum(r["amount"] for r in sim.org.cost_truth(TODAY))

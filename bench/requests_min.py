"""The fewest requests the API allows for what a run fetched, from the simulator's request log.

Requests are grouped into chains: the same path and query except the page cursor, i.e. one
paginated listing. A bucketed chain (it has `start_time`) needs ceil(buckets / max limit)
pages; a list chain needs ceil(items / 100) pages, at least one. Items of a list are counted
by listing it again at the maximum limit after the run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import requests

from simulator import reports

DAY = 86400
WIDTH_SECONDS = {"1m": 60, "1h": 3600, "1d": DAY}
LIST_MAX_LIMIT = 100
_CURSORS = ("page", "after", "limit")


def chains(log: list[dict]) -> dict[tuple, list[dict]]:
    """Requests grouped by (path, query without cursor and limit)."""
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for record in log:
        query = tuple(
            sorted((k, tuple(v)) for k, v in record["query"].items() if k not in _CURSORS)
        )
        grouped[(record["path"], query)].append(record)
    return grouped


def max_limit(path: str, width: str) -> int:
    """The API's largest `limit` for a bucketed endpoint (the simulator's documented maxima)."""
    if path.endswith("/costs"):
        return reports.COSTS_LIMITS[1]
    return reports.USAGE_LIMITS[width][1]


def bucket_count(query: dict[str, tuple], now: int, daily: bool) -> int:
    """Buckets a bucketed query covers, up to `now` (the API never answers future buckets)."""
    start = int(query["start_time"][-1])
    end = min(int(query["end_time"][-1]), now) if "end_time" in query else now
    if daily:  # costs: every UTC day touched
        return (end - 1) // DAY - start // DAY + 1
    width = WIDTH_SECONDS[query.get("bucket_width", ("1d",))[-1]]
    return math.ceil((end - start) / width)


def minimum_for_chain(
    path: str, query: dict[str, tuple], now: int, base_url: str, api_key: str
) -> tuple[int, str]:
    """Fewest requests for one chain, and the kind of endpoint (`bucketed` or `list`)."""
    if "start_time" in query:
        width = "1d" if path.endswith("/costs") else query.get("bucket_width", ("1d",))[-1]
        buckets = bucket_count(query, now, daily=path.endswith("/costs"))
        return max(1, math.ceil(buckets / max_limit(path, width))), "bucketed"
    items = count_items(base_url, api_key, path, query)
    return max(1, math.ceil(items / LIST_MAX_LIMIT)), "list"


def count_items(base_url: str, api_key: str, path: str, query: dict[str, tuple]) -> int:
    """Items of a list endpoint, listed at the maximum limit (0 when the API refuses it)."""
    root = base_url.removesuffix("/v1")
    params: dict[str, Any] = {k: list(v) for k, v in query.items()}
    params["limit"] = LIST_MAX_LIMIT
    headers = {"Authorization": f"Bearer {api_key}"}
    items = 0
    while True:
        response = requests.get(root + path, params=params, headers=headers, timeout=60)
        if response.status_code != 200:
            return items  # refused listings (archived projects) need their one request anyway
        body = response.json()
        if "data" not in body:
            return 1  # a single object (a spend limit): its one request
        items += len(body["data"])
        if not body.get("has_more"):
            return items
        params["after"] = body["last_id"]


def summarize(log: list[dict], now: int, base_url: str, api_key: str) -> dict[str, Any]:
    """Per endpoint: requests issued, answered 200, answered 429, the minimum; and the totals.

    Endpoints are named by path with project ids folded (`projects/{id}/api_keys`). Also returns
    the longest chain's minimum, which bounds wall time from below (its pages are sequential).
    """
    per_path: dict[str, dict[str, int]] = defaultdict(
        lambda: {"issued": 0, "ok": 0, "rate_limited": 0, "minimum": 0, "chains": 0}
    )
    longest = 0
    for (path, query), records in chains(log).items():
        minimum, _ = minimum_for_chain(path, dict(query), now, base_url, api_key)
        row = per_path[_endpoint(path)]
        row["issued"] += len(records)
        row["ok"] += sum(r["status"] == 200 for r in records)
        row["rate_limited"] += sum(r["status"] == 429 for r in records)
        row["minimum"] += minimum
        row["chains"] += 1
        longest = max(longest, minimum)
    totals = {k: sum(row[k] for row in per_path.values()) for k in ("issued", "ok", "minimum")}
    totals["rate_limited"] = sum(row["rate_limited"] for row in per_path.values())
    return {"endpoints": dict(per_path), "totals": totals, "longest_chain": longest}


def _endpoint(path: str) -> str:
    parts = path.removeprefix("/v1/").split("/")
    if len(parts) == 4 and parts[1] == "projects":
        parts[2] = "{id}"
    return "/".join(parts)


def wall_bound(
    minimum: int, longest_chain: int, latency_s: float, rate: float | None, burst: int
) -> float:
    """The least wall time latency and rate limit allow for `minimum` requests.

    Pages of one cursor chain are sequential (each needs the previous cursor), so the longest
    chain costs its length in latencies; and the rate limit lets `burst` requests through at
    once, then `rate` per second. Server compute time is not part of the bound.
    """
    chain = longest_chain * latency_s
    if rate is None or minimum <= burst:
        return max(chain, latency_s)
    return max(chain, (minimum - burst) / rate + latency_s)

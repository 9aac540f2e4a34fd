"""``/organization/usage/{family}`` and ``/organization/costs``: buckets, grouping, paging."""

from __future__ import annotations

import base64
import binascii
import math
import struct
import zlib
from dataclasses import dataclass

from simulator.activity import DAY, DIMENSIONS, HOUR, MINUTE, add_into, derive
from simulator.families import FAMILIES
from simulator.org import Organization
from simulator.params import (
    ApiError,
    Query,
    get_array,
    get_bool,
    get_enum,
    get_group_by,
    get_int,
    get_limit,
)

WIDTHS = {"1m": MINUTE, "1h": HOUR, "1d": DAY}
# (default, max) buckets per page, from the parameter descriptions.
USAGE_LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}
COSTS_LIMITS = (7, 180)
COMPLETIONS_OBJECT = "organization.usage.completions.result"
COSTS_OBJECT = "organization.costs.result"
COSTS_GROUP_BY = ("project_id", "line_item", "api_key_id")
# A counter completions results carry beyond the spec, as real payloads carry undeclared fields.
UNDECLARED_COUNTER = "num_cached_requests"
_NO_END = 1 << 62


@dataclass(frozen=True)
class Window:
    """The time range, bucket width and page of a usage or costs request."""

    start: int
    end: int | None  # as sent (exclusive), None if omitted
    width: str
    limit: int
    cursor: int | None  # bucket start the page continues from
    signature: int  # ties a cursor to the query it came from


def _sort_key(key: tuple) -> tuple:
    """Sort group keys that mix None, bools and strings."""
    return tuple("" if v is None else str(v) for v in key)


def _parse_window(
    query: Query,
    widths: tuple[str, ...],
    limits: dict[str, tuple[int, int]],
    over_max: str,
    identity: tuple,
) -> Window:
    start = get_int(query, "start_time", required=True, minimum=0)
    end = get_int(query, "end_time", minimum=0)
    if end is not None and end <= start:
        raise ApiError(
            400, "'end_time' must be greater than 'start_time'.", param="end_time", code=None
        )
    width = get_enum(query, "bucket_width", widths, "1d")
    default, maximum = limits[width]
    limit = get_limit(query, default, maximum, over_max)
    signature = zlib.crc32(repr((start, end, width, identity)).encode())
    cursor = None
    page = query.get("page", [None])[-1]
    if page:
        cursor = _decode_cursor(page, signature, start)
    return Window(start, end, width, limit, cursor, signature)


def _encode_cursor(next_start: int, window: Window) -> str:
    """Opaque cursor, shaped like the real one (``page_`` + base64 of 20 bytes)."""
    raw = struct.pack(">qqI", next_start, window.start, window.signature)
    return "page_" + base64.b64encode(raw).decode()


def _decode_cursor(page: str, signature: int, start: int) -> int:
    invalid = ApiError(400, f"Invalid page cursor: '{page[:64]}'.", param="page", code=None)
    try:
        raw = base64.b64decode(page.removeprefix("page_"), validate=True)
        next_start, cursor_start, cursor_sig = struct.unpack(">qqI", raw)
    except (binascii.Error, struct.error, ValueError):
        raise invalid from None
    if cursor_sig != signature or cursor_start != start or next_start < start:
        # The cursor belongs to a query with other parameters.
        raise invalid
    return next_start


def _envelope(buckets: list[dict], next_start: int | None, window: Window) -> dict:
    return {
        "object": "page",
        "data": buckets,
        "has_more": next_start is not None,
        "next_page": _encode_cursor(next_start, window) if next_start is not None else None,
    }


def usage_completions(org: Organization, query: Query, now: int, over_max: str) -> dict:
    """The ``/organization/usage/completions`` page for ``query`` at time ``now``."""
    group_by = get_group_by(query, DIMENSIONS)
    filters = {
        "project_id": get_array(query, "project_ids"),
        "user_id": get_array(query, "user_ids"),
        "api_key_id": get_array(query, "api_key_ids"),
        "model": get_array(query, "models"),
    }
    batch = get_bool(query, "batch")
    identity = (group_by, tuple((k, tuple(v or ())) for k, v in filters.items()), batch)
    window = _parse_window(query, tuple(WIDTHS), USAGE_LIMITS, over_max, identity)

    # Group key of every stream that passes the filters; the rest are skipped.
    keys: dict[int, tuple] = {}
    for s in org.streams:
        if batch is not None and s.batch != batch:
            continue
        dims = s.dims
        if any(v is not None and dims[DIMENSIONS.index(k)] not in v for k, v in filters.items()):
            continue
        keys[s.idx] = tuple(
            d if name in group_by else None for name, d in zip(DIMENSIONS, dims, strict=True)
        )

    width = WIDTHS[window.width]
    bound = min(window.end or _NO_END, now)
    t = window.start if window.cursor is None else window.cursor
    buckets = []
    while t < bound and len(buckets) < window.limit:
        # The first bucket starts at start_time; later ones sit on UTC boundaries of the width.
        boundary = (t // width + 1) * width
        b = min(boundary, bound)
        acc: dict[tuple, list[int]] = {}
        for idx, leaves in org.activity.slice(t, b):
            key = keys.get(idx)
            if key is None:
                continue
            current = acc.get(key)
            if current is None:
                acc[key] = list(leaves)
            else:
                add_into(current, leaves)
        results = []
        for key in sorted(acc, key=_sort_key):
            result = {"object": COMPLETIONS_OBJECT}
            result.update(derive(acc[key]))
            result.update(zip(DIMENSIONS, key, strict=True))
            # Not in the spec (see listings._user): a counter clients must not fail on.
            cached = result["input_cached_tokens"] > 0
            result[UNDECLARED_COUNTER] = result["num_model_requests"] if cached else 0
            results.append(result)
        buckets.append({"object": "bucket", "start_time": t, "end_time": b, "results": results})
        t = boundary
    return _envelope(buckets, t if t < bound else None, window)


def usage_family(
    org: Organization, name: str, query: Query, now: int, over_max: str, legacy_names: bool = False
) -> dict:
    """The ``/organization/usage/{name}`` page of one of the nine non-completions families.

    ``legacy_names`` answers as the Dec 2024 API did: ``result`` instead of ``results`` and
    ``sessions`` instead of ``num_sessions`` (simulator/spec/README.md, older shapes).
    """
    family = FAMILIES[name]
    activity = org.families[name]
    group_by = get_group_by(query, family.dimensions)
    filters = {dim: get_array(query, param) for param, dim in family.filters}
    for param, allowed in _ENUMS.items():
        if any(p == param for p, _ in family.filters):
            for value in get_array(query, param) or []:
                get_enum({param: [value]}, param, allowed, None)
    identity = (name, group_by, tuple((k, tuple(v or ())) for k, v in filters.items()))
    window = _parse_window(query, tuple(WIDTHS), USAGE_LIMITS, over_max, identity)

    dims = family.dimensions
    keys: dict[int, tuple] = {}
    for g in activity.groups:
        if any(v is not None and g.dims[dims.index(k)] not in v for k, v in filters.items()):
            continue
        keys[g.idx] = tuple(d if n in group_by else None for n, d in zip(dims, g.dims, strict=True))

    width = WIDTHS[window.width]
    bound = min(window.end or _NO_END, now)
    t = window.start if window.cursor is None else window.cursor
    counters = family.counters
    if legacy_names:
        counters = tuple("sessions" if c == "num_sessions" else c for c in counters)
    buckets = []
    while t < bound and len(buckets) < window.limit:
        boundary = (t // width + 1) * width
        b = min(boundary, bound)
        acc: dict[tuple, list[int]] = {}
        for idx, values in activity.slice(t, b):
            key = keys.get(idx)
            if key is None:
                continue
            current = acc.setdefault(key, [0] * len(values))
            add_into(current, values)
        results = []
        for key in sorted(acc, key=_sort_key):
            result = {"object": family.object}
            result.update(zip(counters, acc[key], strict=True))
            result.update(zip(dims, key, strict=True))
            results.append(result)
        field = "result" if legacy_names else "results"
        buckets.append({"object": "bucket", "start_time": t, "end_time": b, field: results})
        t = boundary
    return _envelope(buckets, t if t < bound else None, window)


_ENUMS = {
    "sizes": ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792"),
    "sources": ("image.generation", "image.edit", "image.variation"),
    "context_levels": ("low", "medium", "high"),
}


def costs(
    org: Organization, query: Query, now: int, over_max: str, api_key_grouping: bool = True
) -> dict:
    """The ``/organization/costs`` page for ``query`` at time ``now``."""
    allowed = COSTS_GROUP_BY if api_key_grouping else COSTS_GROUP_BY[:2]
    group_by = get_group_by(query, allowed)
    project_ids = get_array(query, "project_ids")
    api_key_ids = get_array(query, "api_key_ids")
    identity = (group_by, tuple(project_ids or ()), tuple(api_key_ids or ()))
    window = _parse_window(query, ("1d",), {"1d": COSTS_LIMITS}, over_max, identity)

    by_line_item = "line_item" in group_by
    # Real line-item rows are per project, so grouping by line_item also fills project_id.
    by_project = "project_id" in group_by or by_line_item
    by_key = "api_key_id" in group_by
    bound = min(window.end or _NO_END, now)
    day = (window.start if window.cursor is None else window.cursor) // DAY
    last_day = (bound - 1) // DAY  # whole UTC days up to the one containing the bound
    buckets = []
    while day <= last_day and len(buckets) < window.limit:
        groups: dict[tuple, tuple[list[float], list[float], set]] = {}
        for row in org.activity.cost_rows(day, now):
            if project_ids is not None and row.project_id not in project_ids:
                continue
            if api_key_ids is not None and row.api_key_id not in api_key_ids:
                continue
            key = (
                row.line_item if by_line_item else None,
                row.project_id if by_project else None,
                row.api_key_id if by_key else None,
            )
            amounts, quantities, units = groups.setdefault(key, ([], [], set()))
            amounts.append(row.amount)
            quantities.append(row.quantity)
            units.add(row.quantity_unit)
        results = []
        for key in sorted(groups, key=_sort_key):
            amounts, quantities, units = groups[key]
            line_item, project_id, api_key_id = key
            quantity = unit = None
            if by_line_item:
                quantity = sum(quantities)  # ints stay ints (tokens, calls)
                unit = units.pop() if len(units) == 1 else None
            results.append(
                {
                    "object": COSTS_OBJECT,
                    # fsum: the total does not depend on summation order.
                    "amount": {"value": math.fsum(amounts), "currency": "usd"},
                    "line_item": line_item,
                    "project_id": project_id,
                    "api_key_id": api_key_id,
                    "quantity": quantity,
                    "quantity_unit": unit,
                    "organization_id": org.id,  # undeclared, but present in real payloads
                }
            )
        start = day * DAY
        buckets.append(
            {"object": "bucket", "start_time": start, "end_time": start + DAY, "results": results}
        )
        day += 1
    return _envelope(buckets, day * DAY if day <= last_day else None, window)

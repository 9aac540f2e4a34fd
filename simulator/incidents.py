"""Incident scenario: one API key runs away at ten times its usual activity for one UTC day.

Used by the spend-anomaly tests and demos. The incident scales the day's generated activity
(``DayStream`` leaf totals and hour curve) of every stream of the chosen key, so usage and the
costs derived from it (``Activity.cost_rows``) both see it, at every bucket width. It is a pure
function of the generated day; :func:`install` wraps an organization's per-day generator with it
when ``SimulatorConfig.incident_days_ago`` is set.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from simulator.activity import DayStream, Stream, day_of

if TYPE_CHECKING:
    from simulator.config import SimulatorConfig
    from simulator.org import Organization

INCIDENT_FACTOR = 10


@dataclasses.dataclass(frozen=True)
class Incident:
    """``api_key_id`` spends ``factor`` times its generated activity on day index ``day``."""

    day: int
    api_key_id: str
    factor: int = INCIDENT_FACTOR


def busiest_key(day_streams: Sequence[DayStream], streams: Sequence[Stream]) -> str | None:
    """The API key with the most requests in the day's activity (ties: smallest id)."""
    requests: dict[str, int] = {}
    for ds in day_streams:
        key = streams[ds.stream].api_key_id
        requests[key] = requests.get(key, 0) + ds.totals[0]
    if not requests:
        return None
    return min(requests, key=lambda k: (-requests[k], k))


def apply_incident(
    day: int,
    day_streams: tuple[DayStream, ...],
    streams: Sequence[Stream],
    incident: Incident,
) -> tuple[DayStream, ...]:
    """The day's activity with the incident key's streams scaled by ``incident.factor``.

    Scaling every leaf total and the cumulative hour curve by the same integer keeps the
    accounting identities (``cum[24]`` equals the requests) and the shape of the day.
    """
    if day != incident.day:
        return day_streams
    f = incident.factor
    return tuple(
        dataclasses.replace(
            ds,
            totals=tuple(v * f for v in ds.totals),
            cum=tuple(c * f for c in ds.cum),
        )
        if streams[ds.stream].api_key_id == incident.api_key_id
        else ds
        for ds in day_streams
    )


def resolve_incident(org: Organization, config: SimulatorConfig) -> Incident | None:
    """The configured incident: its day, and its key by id or name (default: the busiest key)."""
    if config.incident_days_ago is None:
        return None
    day = day_of(config.now_ts()) - config.incident_days_ago
    wanted = config.incident_api_key
    if wanted is None:
        key_id = busiest_key(org.activity.day_streams(day), org.streams)
        if key_id is None:
            raise ValueError(
                f"incident: no API key has activity {config.incident_days_ago} days ago"
            )
    else:
        matches = [k.id for k in org.api_keys if wanted in (k.id, k.name)]
        if not matches:
            raise ValueError(f"incident_api_key {wanted!r} is neither the id nor the name of a key")
        key_id = matches[0]
    return Incident(day=day, api_key_id=key_id)


def install(org: Organization, config: SimulatorConfig) -> Incident | None:
    """Make ``org``'s per-day activity include the configured incident (no-op if none)."""
    incident = resolve_incident(org, config)
    if incident is None:
        return None
    activity = org.activity
    generate = activity.day_streams

    def with_incident(day: int) -> tuple[DayStream, ...]:
        return apply_incident(day, generate(day), activity.streams, incident)

    activity.day_streams = functools.lru_cache(maxsize=600)(with_incident)
    org.incident = incident
    return incident

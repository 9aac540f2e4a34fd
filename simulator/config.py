"""Simulator settings and the fake credentials it accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# Any bearer token starting with "sk-admin-" is accepted as an admin key; this one is handy.
ADMIN_KEY = "sk-admin-simulator-0000000000000000"
# Any "sk-proj-" (or other non-admin "sk-") token is a project key: authenticated but lacking the
# admin scopes, so usage and organization endpoints answer 403.
PROJECT_KEY = "sk-proj-simulator-0000000000000000"

ADMIN_PREFIX = "sk-admin-"
KEY_PREFIX = "sk-"


@dataclass
class SimulatorConfig:
    """Knobs of one simulator instance.

    Fields read on every request (``latency_ms``, ``error_rate``, ``fail_next``, ``rate_limit_rps``,
    ``burst``, ``retry_after_s``, ``limit_over_max``, ``now``) may be changed on a running server
    through ``handle.config``, as may ``refuse`` and ``empty``. ``seed``, ``history_days``,
    ``groups_per_hour_target`` and ``profile`` shape the synthetic organization, which is built once
    at start.
    """

    seed: int = 0
    # Token bucket shared by all requests; None means unlimited.
    rate_limit_rps: float | None = None
    burst: int = 10
    # Lower bound for the Retry-After header of 429 answers.
    retry_after_s: int = 1
    # The real API may leave Retry-After out of some 429s; set False to simulate that.
    retry_after_header: bool = True
    latency_ms: float = 0
    # Probability of answering 500/503 instead of serving (deterministic RNG seeded from seed).
    error_rate: float = 0.0
    # The organization exists from floor_day(now) - history_days.
    history_days: int = 400
    # "error": limit above the per-width maximum answers 400; "clamp": use the maximum.
    limit_over_max: str = "error"
    # Freeze "now" (tz-aware, or naive meaning UTC). None = the real clock on every request.
    now: datetime | None = None
    # Status codes to answer, in order, for the next requests before serving normally (test
    # hook; e.g. [429] gives one 429 with Retry-After). A code below 400 serves that request.
    fail_next: list[int] = field(default_factory=list)
    # Benchmark profile: this many (project, user, key, model, batch, tier) groups active in every
    # hour of every day. None = the realistic profile (about 20-60 groups per day).
    groups_per_hour_target: int | None = None
    # More organizations, each served under its own admin key: {admin key: seed}. Any other
    # admin key gets the primary organization (``seed``).
    organizations: dict[str, int] = field(default_factory=dict)
    # Answer usage pages as the Dec 2024 API did (`result`, `sessions`), to test old shapes.
    legacy_result_names: bool = False
    # The legacy `GET /v1/usage?date=` limiter (reported 5/min); None = unlimited.
    legacy_requests_per_minute: float | None = 5.0
    legacy_burst: int = 1
    # False: answer like the 2024/2025 API, which could not group costs by api_key_id (400).
    costs_api_key_grouping: bool = True
    # Incident scenario (simulator/incidents.py): this many days before today's UTC day, one API
    # key (id or name; None = the day's busiest key) spends ten times its usual. None = no incident.
    incident_days_ago: int | None = None
    incident_api_key: str | None = None
    # Spend alerts and limits (simulator/spend.py): "some" (an organization limit, alerts, some
    # projects with controls), "none" (an organization that set none), "forbidden" (403: a key
    # without the scope) or "unavailable" (404: an organization without the feature).
    spend_controls: str = "some"
    # What a scope without a hard limit answers (undocumented): "404", or "null" for a 200 whose
    # amount and enforcement are null (an explicit "none", off the spec).
    spend_limit_unset: str = "404"
    # The organization's shape (simulator/profiles.py): "rich" (many users, projects, keys and
    # every usage family), "fresh" (one owner, the Default project, nothing used yet) or
    # "sparse" (few entities, empty listings, days without traffic or without costs).
    profile: str = "rich"
    # Endpoints this organization refuses: {path pattern relative to /v1: status}, e.g.
    # {"organization/invites": 403, "organization/projects/*/users": 404}. `*` matches any
    # text; a pattern also covers the paths below it. Checked on every request.
    refuse: dict[str, int] = field(default_factory=dict)
    # Endpoints that list nothing for this organization, whatever it holds: path patterns as
    # for ``refuse``. Lists answer no items, usage and costs pages buckets without results.
    empty: list[str] = field(default_factory=list)

    def now_ts(self) -> int:
        """Current Unix time in seconds, frozen if ``now`` is set."""
        if self.now is None:
            return int(datetime.now(UTC).timestamp())
        now = self.now if self.now.tzinfo else self.now.replace(tzinfo=UTC)
        return int(now.timestamp())

"""Organization profiles: the rich organization most tests use, and the sparse shapes real
organizations often have.

- ``rich``: what :mod:`simulator.org` builds (twenty users, eight projects, thirty keys, every usage
  family, invites, admin keys). The default; its numbers never depend on the other profiles.
- ``fresh``: a new organization. One owner, the Default project, the owner's admin key, nothing
  else: no project API keys, service accounts or invites, no usage, no costs.
- ``sparse``: a quiet one. Two users, two projects with one key each, no service accounts,
  invites or admin keys listed, project member listings empty, and a weekly pattern of days:
  usage that is billed, usage the Costs API does not bill (complimentary tokens), a day billed for
  file search storage without any usage, and days with nothing at all.

The smaller profiles are cut from the rich organization's directory (the same ids and names), so
a profile changes what is listed, not how it looks.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator import billing
from simulator.activity import ExtraCostSource, Stream, day_of

RICH = "rich"
# The model of the sparse profile's usage: priced from the oldest day any history can start.
_SPARSE_MODEL = "gpt-4o-mini-2024-07-18"


@dataclass(frozen=True)
class Schedule:
    """What happens on a UTC day, by the day's place in the week (day index modulo 7)."""

    traffic: frozenset[int]  # days with completions usage
    unbilled: frozenset[int]  # days whose usage the Costs API does not bill
    storage: frozenset[int]  # days billed for file search storage, the only extra line item

    def has_traffic(self, day: int) -> bool:
        return day % 7 in self.traffic

    def is_billed(self, day: int) -> bool:
        return day % 7 not in self.unbilled

    def bills_storage(self, day: int) -> bool:
        return day % 7 in self.storage


@dataclass(frozen=True)
class Profile:
    """How much of the rich organization a profile keeps, and when its activity happens."""

    name: str
    users: int  # the first users by join date (the first is the founding owner)
    projects: int  # the Default project, then the oldest live ones
    keys_per_project: int  # project API keys, each owned by the founding owner
    admin_keys: bool  # the founding owner's admin key is listed
    project_members: bool  # project user listings list anyone
    schedule: Schedule | None  # None: no usage and no costs at all


PROFILES: dict[str, Profile | None] = {
    RICH: None,  # as generated
    "fresh": Profile(
        "fresh",
        users=1,
        projects=1,
        keys_per_project=0,
        admin_keys=True,
        project_members=True,
        schedule=None,
    ),
    "sparse": Profile(
        "sparse",
        users=2,
        projects=2,
        keys_per_project=1,
        admin_keys=False,
        project_members=False,
        # Within any seven days: billed usage (day 1), unbilled usage (day 3), storage billed
        # without usage (day 5), and four days with nothing.
        schedule=Schedule(
            traffic=frozenset({1, 3}), unbilled=frozenset({3}), storage=frozenset({5})
        ),
    ),
}


def profile_named(name: str) -> Profile | None:
    """The profile called ``name`` (None for ``rich``); a clear error for an unknown name."""
    if name not in PROFILES:
        raise ValueError(f"Unknown simulator profile {name!r}: use one of {', '.join(PROFILES)}.")
    return PROFILES[name]


def streams(keys: list, anchor_day: int, profile: Profile) -> list[Stream]:
    """One steady stream per project API key, active on every traffic day of the schedule."""
    if profile.schedule is None:
        return []
    return [
        Stream(
            idx=idx,
            project_id=key.project_id,
            user_id=key.owner_user_id,
            api_key_id=key.id,
            model=_SPARSE_MODEL,
            batch=False,
            service_tier="default",
            first_day=max(day_of(key.created_at), anchor_day),
            end_day=1 << 40,
            p_active=1.0,
            base_requests=120.0,
            cached_share=0.25,
            peak_hour=14,
            flat=True,  # some usage in every hour of a traffic day, weekends included
        )
        for idx, key in enumerate(keys)
    ]


def extra_costs(project_id: str, first_day: int, profile: Profile) -> list[ExtraCostSource]:
    """File search storage in one project, billed on the schedule's storage days."""
    if profile.schedule is None or not profile.schedule.storage:
        return []
    return [ExtraCostSource(project_id, billing.FILE_SEARCH_LINE_ITEM, first_day, 1 << 40, 1.5)]

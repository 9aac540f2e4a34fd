"""The synthetic organization: users, projects, service accounts, API keys and usage streams.

Everything is a pure function of ``(seed, anchor day)`` where the anchor is the day the
organization was created (``floor_day(now) - history_days``). Which streams (usage groups) exist
and when they are live is decided here; :mod:`simulator.activity` turns them into numbers.
"""

from __future__ import annotations

import dataclasses
import math
import random
import string
from dataclasses import dataclass

from simulator import billing, profiles, spend
from simulator.activity import (
    DAY,
    HOUR,
    MODELS,
    Activity,
    ExtraCostSource,
    ModelSpec,
    Stream,
    day_of,
    release_day,
)
from simulator.families import FAMILIES, FamilyActivity, make_groups

_ALNUM = string.ascii_letters + string.digits

_PROJECT_NAMES = (
    "Default Project",
    "Support Copilot",
    "Search Relevance",
    "Marketing Content",
    "Document Extraction",
    "Internal Tools",
    "Mobile Assistant",
    "Legacy Chatbot",  # archived
)
_ARCHIVED_PROJECT = len(_PROJECT_NAMES) - 1
_FIRST_NAMES = (
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
    "Radia", "Donald", "Karen", "John", "Sophie", "Tim", "Hedy", "Guido", "Shafi", "Leslie",
)  # fmt: skip
_LAST_NAMES = (
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "Dijkstra", "Perlman", "Knuth", "Jones", "McCarthy", "Wilson", "Berners", "Lamarr",
    "Rossum", "Goldwasser", "Lamport",
)  # fmt: skip
_KEY_PURPOSES = ("backend", "batch jobs", "staging", "prod", "eval runner", "notebook", "worker")


@dataclass(frozen=True)
class User:
    """An organization member (``organization.user``)."""

    id: str
    name: str
    email: str
    role: str  # owner | reader
    added_at: int


@dataclass(frozen=True)
class Project:
    """A project (``organization.project``)."""

    id: str
    name: str
    created_at: int
    archived_at: int | None


@dataclass(frozen=True)
class ServiceAccount:
    """A project service account (``organization.project.service_account``)."""

    id: str
    name: str
    project_id: str
    role: str  # owner | member
    created_at: int


@dataclass(frozen=True)
class ApiKey:
    """A project API key (``organization.project.api_key``)."""

    id: str
    name: str
    project_id: str
    created_at: int
    redacted_value: str
    owner_user_id: str | None  # exactly one of owner_user_id / owner_service_account_id is set
    owner_service_account_id: str | None
    owner_role: str  # the owner's role in the project: owner | member
    owner_project_access: str  # active | inactive


@dataclass(frozen=True)
class AdminKey:
    """An organization admin API key (``organization.admin_api_key``)."""

    id: str
    name: str
    redacted_value: str
    created_at: int
    expires_at: int | None
    owner_user_id: str


@dataclass(frozen=True)
class Invite:
    """An invitation to join the organization (``organization.invite``)."""

    id: str
    email: str
    role: str  # owner | reader
    status: str  # accepted | expired | pending
    created_at: int
    expires_at: int
    accepted_at: int | None
    projects: tuple[tuple[str, str], ...]  # (project id, role)


def _rand_id(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(rng.choice(_ALNUM) for _ in range(length))


class Organization:
    """The synthetic organization of one simulator instance (immutable after construction).

    ``activity`` holds its usage and costs; ``usage_truth`` is a shortcut for tests.
    """

    def __init__(
        self,
        seed: int,
        now_ts: int,
        history_days: int = 400,
        groups_per_hour_target: int | None = None,
        profile: str = profiles.RICH,
    ) -> None:
        self.seed = seed
        self.anchor_day = day_of(now_ts) - max(1, history_days)
        self.created_at = self.anchor_day * DAY
        self.history_days = max(1, history_days)
        self.benchmark = groups_per_hour_target is not None
        self.profile = profiles.profile_named(profile)  # None: the rich organization
        rng = random.Random(f"org/{seed}")
        self.id = _rand_id(rng, "org-", 24)
        self.users = self._make_users(rng)
        self.projects = self._make_projects(rng)
        self.service_accounts = self._make_service_accounts(rng)
        self.api_keys = self._make_api_keys(rng)
        if self.profile is None:
            self.streams = self._make_streams(rng, groups_per_hour_target)
            extra_costs = self._make_extra_costs(rng)
        else:
            self._shrink_directory(self.profile)
            self.streams = profiles.streams(self.api_keys, self.anchor_day, self.profile)
            first_day = max(day_of(self.projects[0].created_at), self.anchor_day)
            extra_costs = profiles.extra_costs(self.projects[0].id, first_day, self.profile)
        self.project_by_id = {p.id: p for p in self.projects}
        self.user_by_id = {u.id: u for u in self.users}
        self.service_account_by_id = {s.id: s for s in self.service_accounts}
        # The numbers: usage per stream and day, billed costs, ground truth for tests.
        schedule = None if self.profile is None else self.profile.schedule
        self.activity = Activity(
            seed, self.anchor_day, self.history_days, self.streams, extra_costs, schedule
        )
        # Later additions draw from their own generators, so the entities above stay as they were.
        family_rng = random.Random(f"families/{seed}")
        self.families = {
            name: FamilyActivity(
                seed, family, make_groups(family, self, family_rng) if self.profile is None else []
            )
            for name, family in FAMILIES.items()
        }
        admin_rng = random.Random(f"admin/{seed}")
        self.admin_keys = self._make_admin_keys(admin_rng)
        self.invites = self._make_invites(admin_rng) if self.profile is None else []
        if self.profile is not None and not self.profile.admin_keys:
            self.admin_keys = []
        # Project user listings list nobody (members come from elsewhere, e.g. SCIM groups).
        self.lists_project_members = self.profile is None or self.profile.project_members
        # Spend alerts and hard limits (simulator/spend.py), from a generator of their own;
        # the fresh and sparse organizations have set none.
        self.spend = (
            spend.make_controls(self.projects, self.users, random.Random(f"spend/{seed}"))
            if self.profile is None
            else spend.SpendControls({}, [])
        )
        # Users and keys deleted by evolve_directory(): gone from the lists, kept for lookups.
        self.deleted_user_ids: set[str] = set()

    # ----------------------------------------------------------------------------------------
    # Entities
    # ----------------------------------------------------------------------------------------

    def _at(self, rng: random.Random, lo: float, hi: float) -> int:
        """A timestamp at a random fraction in [lo, hi) of the history (0 in the benchmark)."""
        if self.benchmark:
            return self.created_at + rng.randrange(3_600)
        span = self.history_days * DAY
        return self.created_at + int(span * rng.uniform(lo, hi))

    def _make_users(self, rng: random.Random) -> list[User]:
        users = []
        first_names = rng.sample(_FIRST_NAMES, len(_FIRST_NAMES))
        last_names = rng.sample(_LAST_NAMES, len(_LAST_NAMES))
        for i, (first, last) in enumerate(zip(first_names, last_names, strict=True)):
            added = self.created_at + 60 * i if i == 0 else self._at(rng, 0.0, 0.7)
            users.append(
                User(
                    id=_rand_id(rng, "user-", 24),
                    name=f"{first} {last}",
                    email=f"{first.lower()}.{last.lower()}@example.com",
                    role="owner" if i < 3 else "reader",
                    added_at=added,
                )
            )
        return sorted(users, key=lambda u: (u.added_at, u.id))

    def _make_projects(self, rng: random.Random) -> list[Project]:
        projects = []
        for i, name in enumerate(_PROJECT_NAMES):
            if i == 0:
                created = self.created_at  # the Default project comes with the organization
            elif i == _ARCHIVED_PROJECT:
                created = self._at(rng, 0.02, 0.1)
            else:
                created = self._at(rng, 0.0, 0.3)
            archived = None
            if i == _ARCHIVED_PROJECT:
                archived = max(created + DAY, self._at(rng, 0.5, 0.6))
            projects.append(Project(_rand_id(rng, "proj_", 24), name, created, archived))
        return sorted(projects, key=lambda p: (p.created_at, p.id))

    def _make_service_accounts(self, rng: random.Random) -> list[ServiceAccount]:
        accounts = []
        for project in self.projects:
            for n in range(rng.choice((0, 1, 1, 2))):
                accounts.append(
                    ServiceAccount(
                        id=_rand_id(rng, "svc_acct_", 24),
                        name=f"{project.name.lower().replace(' ', '-')}-bot-{n + 1}",
                        project_id=project.id,
                        role="member",
                        created_at=project.created_at + rng.randrange(DAY),
                    )
                )
        return accounts

    def _make_api_keys(self, rng: random.Random) -> list[ApiKey]:
        keys = []
        counts = [6, 4, 4, 4, 3, 3, 3, 3]  # 30 keys; the Default project has the most
        for project, count in zip(self.projects, counts, strict=True):
            accounts = [s for s in self.service_accounts if s.project_id == project.id]
            # Keys of an archived project all predate the archiving.
            deadline = (project.archived_at or 1 << 40) - DAY
            # The organization starts with a few keys in the Default project.
            immediate = 4 if project.created_at == self.created_at else 1
            for n in range(count):
                if n < immediate:
                    # Every project gets its first key right away, from someone already there.
                    people = [u for u in self.users if u.added_at <= project.created_at]
                else:
                    people = [u for u in self.users if u.added_at < deadline]
                if accounts and rng.random() < 0.35:
                    account = rng.choice(accounts)
                    owner_user, owner_account, role = None, account.id, account.role
                    floor = account.created_at
                else:
                    user = rng.choice(people or self.users[:1])
                    owner_user, owner_account = user.id, None
                    role = "owner" if user.role == "owner" else "member"
                    floor = max(user.added_at, project.created_at)
                if self.benchmark or n < immediate:
                    created = floor + (0 if self.benchmark else rng.randrange(DAY))
                else:
                    # Later keys appear over time, which makes the organization grow.
                    spread = self.history_days * DAY * 0.8 * rng.random() ** 2  # mostly early
                    created = max(floor, self.created_at + int(spread)) + rng.randrange(DAY)
                    created = max(floor, min(created, deadline))
                # A few user-owned keys belong to people who since lost project access.
                access = "inactive" if owner_user and rng.random() < 0.12 else "active"
                key_id = _rand_id(rng, "key_", 16)
                keys.append(
                    ApiKey(
                        id=key_id,
                        name=f"{project.name} {rng.choice(_KEY_PURPOSES)} {n + 1}",
                        project_id=project.id,
                        created_at=created,
                        # Short and obviously redacted: never a plausible full secret.
                        redacted_value=f"sk-proj-****...{key_id[-4:].lower()}",
                        owner_user_id=owner_user,
                        owner_service_account_id=owner_account,
                        owner_role=role,
                        owner_project_access=access,
                    )
                )
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def _shrink_directory(self, profile: profiles.Profile) -> None:
        """Keep a profile's share of the directory: the first users (the founding owner first),
        the Default and oldest live projects, and new project keys owned by the founder."""
        founder = self.users[0]
        self.users = self.users[: profile.users]
        self.projects = [p for p in self.projects if p.archived_at is None][: profile.projects]
        self.service_accounts = []
        rng = random.Random(f"profile/{profile.name}/{self.seed}")
        keys = []
        for project in self.projects:
            for n in range(profile.keys_per_project):
                key_id = _rand_id(rng, "key_", 16)
                keys.append(
                    ApiKey(
                        id=key_id,
                        name=f"{project.name} backend {n + 1}",
                        project_id=project.id,
                        created_at=project.created_at + 3_600,
                        redacted_value=f"sk-proj-****...{key_id[-4:].lower()}",
                        owner_user_id=founder.id,
                        owner_service_account_id=None,
                        owner_role="owner",
                        owner_project_access="active",
                    )
                )
        self.api_keys = keys

    def _make_admin_keys(self, rng: random.Random) -> list[AdminKey]:
        owners = [u for u in self.users if u.role == "owner"]
        keys = []
        for n, user in enumerate(owners):
            key_id = _rand_id(rng, "key_", 16)
            created = max(user.added_at, self.created_at) + rng.randrange(DAY)
            keys.append(
                AdminKey(
                    id=key_id,
                    name=f"usage export {n + 1}" if n else "finance dashboard",
                    redacted_value=f"sk-admin-****...{key_id[-4:].lower()}",
                    created_at=created,
                    expires_at=None if n % 2 == 0 else created + 365 * DAY,
                    owner_user_id=user.id,
                )
            )
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def _make_invites(self, rng: random.Random) -> list[Invite]:
        live = [p for p in self.projects if p.archived_at is None]
        invites = []
        for n, status in enumerate(("accepted", "accepted", "expired", "pending", "pending")):
            created = self._at(rng, 0.2, 0.95)
            project = live[n % len(live)]
            invites.append(
                Invite(
                    id=_rand_id(rng, "invite-", 24),
                    email=f"new.hire{n + 1}@example.com",
                    role="reader" if n else "owner",
                    status=status,
                    created_at=created,
                    expires_at=created + 7 * DAY,
                    accepted_at=created + rng.randrange(DAY) if status == "accepted" else None,
                    projects=((project.id, "member"),),
                )
            )
        return sorted(invites, key=lambda i: (i.created_at, i.id))

    def _available_models(self, day: int) -> list[ModelSpec]:
        return [m for m in MODELS if release_day(m.id) <= day]

    def _make_streams(self, rng: random.Random, target: int | None) -> list[Stream]:
        now_day = self.anchor_day + self.history_days
        archived = {p.id: day_of(p.archived_at) for p in self.projects if p.archived_at}
        # Only keys that are usable: benchmark streams must be active every hour of every day.
        keys = [k for k in self.api_keys if not (target and k.project_id in archived)]
        streams: list[Stream] = []
        seen: set[tuple] = set()
        wanted = target if target is not None else sum(rng.choice((2, 3, 4, 5)) for _ in keys)
        attempts = 0
        while len(streams) < wanted and attempts < wanted * 50:
            attempts += 1
            key = keys[len(streams) % len(keys)] if target else keys[attempts % len(keys)]
            start = max(day_of(key.created_at), self.anchor_day)
            models = self._available_models(self.anchor_day if target else now_day) or list(MODELS)
            model = rng.choices(models, weights=[m.popularity for m in models])[0]
            batch = model.id != "o1-2024-12-17" and rng.random() < 0.1
            tier = "default"
            if not batch:
                roll = rng.random()
                if model.flex and roll < 0.08:
                    tier = "flex"
                elif roll > 0.96:
                    tier = "priority"
            ident = (key.id, model.id, batch, tier)
            if ident in seen:
                continue
            seen.add(ident)
            first = max(start, release_day(model.id))
            end = archived.get(key.project_id, 1 << 40)
            if not target:
                if key.owner_project_access == "inactive":
                    end = min(end, first + rng.randrange(5, max(6, self.history_days)))
                if model.id.startswith(("gpt-4o", "o1")) and rng.random() < 0.5:
                    # Teams migrate off older models.
                    end = min(end, first + rng.randrange(10, max(11, self.history_days)))
            streams.append(
                Stream(
                    idx=len(streams),
                    project_id=key.project_id,
                    user_id=key.owner_user_id,  # None for service-account keys
                    api_key_id=key.id,
                    model=model.id,
                    batch=batch,
                    service_tier=tier,
                    first_day=first,
                    end_day=end,
                    p_active=1.0 if target else rng.uniform(0.4, 0.95),
                    base_requests=math.exp(rng.gauss(math.log(250), 1.0)) * (0.6 if batch else 1),
                    cached_share=rng.choice((0.0, 0.1, 0.25, 0.4, 0.6)),
                    peak_hour=rng.choice((9, 14, 15, 16, 17, 20, 2)),
                    flat=target is not None,
                )
            )
        return streams

    def _make_extra_costs(self, rng: random.Random) -> list[ExtraCostSource]:
        sources = []
        live = [p for p in self.projects if p.archived_at is None]
        for project in rng.sample(live, 2):
            sources.append(
                ExtraCostSource(
                    project.id,
                    billing.FILE_SEARCH_LINE_ITEM,
                    first_day=day_of(self._at(rng, 0.1, 0.5)),
                    end_day=1 << 40,
                    base=rng.uniform(0.5, 6.0),
                )
            )
        for project in rng.sample(live, 3):
            sources.append(
                ExtraCostSource(
                    project.id,
                    billing.WEB_SEARCH_LINE_ITEM,
                    first_day=day_of(self._at(rng, 0.3, 0.8)),
                    end_day=1 << 40,
                    base=rng.uniform(20, 400),
                )
            )
        return sources

    # ----------------------------------------------------------------------------------------
    # Derived facts
    # ----------------------------------------------------------------------------------------

    def usage_truth(self, start: int, end: int) -> list[dict]:
        """Per-group completions usage in ``[start, end)``, every dimension filled.

        Equals the API's results for one bucket covering the interval with ``group_by`` set to
        all six dimensions. The API also cuts at "now": pass ``min(end, now)`` to match it.
        """
        return self.activity.usage_truth(start, end)

    def cost_truth(self, day_start: int, until: int | None = None) -> list[dict]:
        """Billed rows of the UTC day containing ``day_start``, for usage before ``until``
        (default: the whole day; the API uses "now" for the open day).

        One row per project, API key (None for storage/tool items) and line item, with
        ``quantity``, ``quantity_unit`` and the unrounded ``amount`` in USD.
        """
        day = day_of(day_start)
        end = (day + 1) * DAY if until is None else until
        return [row._asdict() for row in self.activity.cost_rows(day, end)]

    def family_truth(self, family: str, start: int, end: int) -> list[dict]:
        """Per-group usage of ``family`` in ``[start, end)``, every dimension filled."""
        activity = self.families[family]
        acc: dict[int, list[int]] = {}
        for idx, values in activity.slice(start, end):
            current = acc.setdefault(idx, [0] * len(values))
            for i, v in enumerate(values):
                current[i] += v
        rows = []
        for idx in sorted(acc):
            row = dict(zip(activity.family.dimensions, activity.groups[idx].dims, strict=True))
            row.update(zip(activity.family.counters, acc[idx], strict=True))
            rows.append(row)
        return rows

    def restate(self, days: int, seed: int, now_ts: int) -> list[int]:
        """Revise the last ``days`` UTC days (today included) of every usage family and so of
        costs: numbers change, one group per day vanishes, a new group appears. Returns the
        revised day indexes."""
        self._require_rich("restate")
        now_day = day_of(now_ts)
        revised = list(range(now_day - days + 1, now_day + 1))
        rng = random.Random(f"restate/{self.seed}/{seed}")
        live_keys = [k for k in self.api_keys if k.project_id not in self._archived_ids()]
        key = rng.choice(live_keys)
        models = [m for m in MODELS if release_day(m.id) <= revised[0]] or list(MODELS)
        newcomer = Stream(
            idx=len(self.streams),
            project_id=key.project_id,
            user_id=key.owner_user_id,
            api_key_id=key.id,
            model=rng.choice(models).id,
            batch=False,
            service_tier="priority",  # a tier the group never had: a genuinely new group
            first_day=revised[0],
            end_day=now_day + 1,
            p_active=1.0,
            base_requests=200.0,
            cached_share=0.1,
            peak_hour=14,
            flat=True,  # some usage in every hour, so every revised bucket shows it
        )
        self.activity.restate(revised, seed, newcomer)
        project_ids = [p.id for p in self.projects]
        for activity in self.families.values():
            activity.restate(revised, seed, now_day, rng, project_ids)
        return revised

    def _require_rich(self, what: str) -> None:
        if self.profile is not None:
            raise ValueError(f"{what} needs the rich profile, not {self.profile.name!r}.")

    def _archived_ids(self) -> set[str]:
        return {p.id for p in self.projects if p.archived_at is not None}

    def evolve_directory(self, now_ts: int, seed: int = 0) -> dict[str, str]:
        """Change the directory as time goes by: a project is renamed and another archived, a
        key is renamed and another deleted, a user is renamed and another removed. Returns the
        ids touched, by change."""
        self._require_rich("evolve_directory")
        rng = random.Random(f"evolve/{self.seed}/{seed}")
        live = [p for p in self.projects[1:] if p.archived_at is None]  # Default stays active
        renamed_project, archived_project = rng.sample(live, 2)
        self.projects = [
            dataclasses.replace(p, name=f"{p.name} (renamed)")
            if p.id == renamed_project.id
            else dataclasses.replace(p, archived_at=now_ts)
            if p.id == archived_project.id
            else p
            for p in self.projects
        ]
        self.project_by_id = {p.id: p for p in self.projects}
        renamed_key, deleted_key = rng.sample(self.api_keys, 2)
        self.api_keys = [
            dataclasses.replace(k, name=f"{k.name} (rotated)") if k.id == renamed_key.id else k
            for k in self.api_keys
            if k.id != deleted_key.id
        ]
        renamed_user, deleted_user = rng.sample(self.users[3:], 2)  # owners stay
        self.users = [
            dataclasses.replace(u, name=f"{u.name} Jr.") if u.id == renamed_user.id else u
            for u in self.users
            if u.id != deleted_user.id
        ]
        # Keys of a removed user keep rendering their owner: lookups keep every user.
        self.user_by_id = {**self.user_by_id, **{u.id: u for u in self.users}}
        self.deleted_user_ids.add(deleted_user.id)
        return {
            "renamed_project": renamed_project.id,
            "archived_project": archived_project.id,
            "renamed_key": renamed_key.id,
            "deleted_key": deleted_key.id,
            "renamed_user": renamed_user.id,
            "deleted_user": deleted_user.id,
        }

    def key_last_used(self, key: ApiKey, now_ts: int) -> int | None:
        """Plausible ``last_used_at``: the end of the key's latest stream window before now."""
        now_day = day_of(now_ts)
        ends = [
            min(s.end_day, now_day + 1)
            for s in self.streams
            if s.api_key_id == key.id and s.first_day <= now_day and s.first_day < s.end_day
        ]
        if not ends:
            return None
        last_day = max(ends) - 1
        if last_day >= now_day:
            return max(key.created_at, now_ts - now_ts % HOUR - 600)
        return max(key.created_at, last_day * DAY + 17 * HOUR)

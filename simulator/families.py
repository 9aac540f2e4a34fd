"""The nine usage families besides completions: embeddings, moderations, images, audio, vector
stores, code interpreter sessions, file search and web search calls (simulator/spec/).

Each family has its own groups (one per combination of its ``group_by`` dimensions) drawn from the
organization's keys and projects, and per-day counters spread over the day like completions:
a cumulative weight curve over the 24 hours, linear inside an hour. A counter over minutes
``[m0, m1)`` of a day is ``v * F(m1) // W - v * F(m0) // W``, which telescopes, so minutes add up
to hours and hours to days exactly.

Choices where the API is silent: ``usage_bytes`` (vector stores) is treated as additive like the
other counters; image sizes and sources, context levels and vector store ids are drawn from the
spec's enums.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

DAY = 86_400
MINUTE = 60
MINUTES_PER_DAY = 1_440

_KEY_DIMS = ("project_id", "user_id", "api_key_id")


@dataclass(frozen=True)
class Family:
    """What one usage endpoint groups by, filters on and counts."""

    name: str  # the path segment
    object: str  # the result `object` it returns (only this one)
    dimensions: tuple[str, ...]  # the `group_by` enum, in the spec's order
    filters: tuple[tuple[str, str], ...]  # (array query parameter, dimension it filters)
    counters: tuple[str, ...]  # counters; the first one drives the others
    ratios: tuple[float, ...]  # mean of each later counter per unit of the first
    base: float  # median of the first counter per active day
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()  # choices of non-key dimensions


_KEY_FILTERS = (
    ("project_ids", "project_id"),
    ("user_ids", "user_id"),
    ("api_key_ids", "api_key_id"),
)
_MODEL_FILTERS = (*_KEY_FILTERS, ("models", "model"))
_FOUR = (*_KEY_DIMS, "model")

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "embeddings",
            "organization.usage.embeddings.result",
            _FOUR,
            _MODEL_FILTERS,
            ("num_model_requests", "input_tokens"),
            (900.0,),
            400.0,
            (("model", ("text-embedding-3-small", "text-embedding-3-large")),),
        ),
        Family(
            "moderations",
            "organization.usage.moderations.result",
            _FOUR,
            _MODEL_FILTERS,
            ("num_model_requests", "input_tokens"),
            (250.0,),
            300.0,
            (("model", ("omni-moderation-2024-09-26", "text-moderation-007")),),
        ),
        Family(
            "images",
            "organization.usage.images.result",
            (*_FOUR, "size", "source"),
            (*_MODEL_FILTERS, ("sizes", "size"), ("sources", "source")),
            ("num_model_requests", "images"),
            (1.6,),
            40.0,
            (
                ("model", ("dall-e-3", "gpt-image-1")),
                ("size", ("1024x1024", "1024x1792", "512x512")),
                ("source", ("image.generation", "image.edit", "image.variation")),
            ),
        ),
        Family(
            "audio_speeches",
            "organization.usage.audio_speeches.result",
            _FOUR,
            _MODEL_FILTERS,
            ("num_model_requests", "characters"),
            (420.0,),
            60.0,
            (("model", ("tts-1", "gpt-4o-mini-tts")),),
        ),
        Family(
            "audio_transcriptions",
            "organization.usage.audio_transcriptions.result",
            _FOUR,
            _MODEL_FILTERS,
            ("num_model_requests", "seconds"),
            (95.0,),
            50.0,
            (("model", ("whisper-1", "gpt-4o-transcribe")),),
        ),
        Family(
            "vector_stores",
            "organization.usage.vector_stores.result",
            ("project_id",),
            (("project_ids", "project_id"),),
            ("usage_bytes",),
            (),
            2.0e9,
        ),
        Family(
            "code_interpreter_sessions",
            "organization.usage.code_interpreter_sessions.result",
            ("project_id",),
            (("project_ids", "project_id"),),
            ("num_sessions",),
            (),
            30.0,
        ),
        Family(
            "file_search_calls",
            "organization.usage.file_searches.result",
            (*_KEY_DIMS, "vector_store_id"),
            (*_KEY_FILTERS, ("vector_store_ids", "vector_store_id")),
            ("num_requests",),
            (),
            120.0,
        ),
        Family(
            "web_search_calls",
            "organization.usage.web_searches.result",
            (*_FOUR, "context_level"),
            (*_MODEL_FILTERS, ("context_levels", "context_level")),
            ("num_model_requests", "num_requests"),
            (1.4,),
            80.0,
            (
                ("model", ("gpt-4o-2024-08-06", "gpt-5-2025-08-07")),
                ("context_level", ("low", "medium", "high")),
            ),
        ),
    )
}


@dataclass(frozen=True)
class Group:
    """One group of a family: its dimension values and when it is live."""

    idx: int
    dims: tuple  # values of the family's dimensions, in order
    first_day: int
    end_day: int  # exclusive
    p_active: float
    base: float  # median of the first counter per active day


class FamilyActivity:
    """Counters of one family, generated per day on first use (deterministic, cached)."""

    def __init__(self, seed: int, family: Family, groups: list[Group]) -> None:
        self.seed = seed
        self.family = family
        self.groups = groups
        # day -> restatement seed: the day's numbers were revised (see restate()).
        self.restated: dict[int, int] = {}
        self.day_groups = functools.lru_cache(maxsize=600)(self._generate_day)

    def restate(
        self, days: list[int], seed: int, now_day: int, rng: random.Random, project_ids: list[str]
    ) -> None:
        """Revise ``days``: numbers change, a group vanishes, a new group appears."""
        for day in days:
            self.restated[day] = seed
        if self.groups:
            template = rng.choice(self.groups)
            dims = list(template.dims)
            # A new group: the template's key/project with another choice where there is one.
            for name, choices in self.family.values:
                i = self.family.dimensions.index(name)
                dims[i] = choices[(choices.index(dims[i]) + 1) % len(choices)]
            if "vector_store_id" in self.family.dimensions:
                dims[self.family.dimensions.index("vector_store_id")] = f"vs_restated{seed}"
            if self.family.dimensions == ("project_id",):  # a project new to this family
                used = {g.dims[0] for g in self.groups}
                dims[0] = next((p for p in project_ids if p not in used), dims[0])
            self.groups.append(
                Group(len(self.groups), tuple(dims), min(days), now_day + 1, 1.0, template.base)
            )
        self.day_groups.cache_clear()

    def _generate_day(self, day: int) -> tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...]:
        out = []
        restated = self.restated.get(day)
        dropped = None
        if restated is not None:
            live = [g.idx for g in self.groups if g.first_day <= day < g.end_day]
            dropped = random.Random(f"restate/{restated}/{day}/{self.family.name}").choice(
                live or [None]
            )
        for g in self.groups:
            if not g.first_day <= day < g.end_day or g.idx == dropped:
                continue
            rng = random.Random(f"{self.seed}/{self.family.name}/{day}/{g.idx}")
            if rng.random() >= g.p_active:
                continue
            first = max(1, int(g.base * math.exp(rng.gauss(0, 0.4))))
            totals = [first] + [
                max(0, int(first * r * rng.uniform(0.7, 1.3))) for r in self.family.ratios
            ]
            if restated is not None:
                factor = random.Random(f"restate/{restated}/{day}/{g.idx}").choice(
                    (0.8, 0.9, 1.1, 1.25)
                )
                totals = [max(1, int(v * factor)) for v in totals]
            flat = self.family.name == "vector_stores"  # storage accrues evenly
            cum, acc = [0], 0
            for _ in range(24):
                acc += 1000 if flat else rng.randrange(50, 2000)
                cum.append(acc)
            out.append((g.idx, tuple(totals), tuple(cum)))
        return tuple(out)

    def slice(self, start: int, end: int) -> Iterator[tuple[int, tuple[int, ...]]]:
        """``(group_idx, counters)`` of usage whose minute starts in ``[start, end)``."""
        if end <= start:
            return
        for day in range(start // DAY, (end - 1) // DAY + 1):
            base = day * DAY
            m0 = max(0, -(-(start - base) // MINUTE))
            m1 = min(MINUTES_PER_DAY, -(-(end - base) // MINUTE))
            if m0 >= m1:
                continue
            for idx, totals, cum in self.day_groups(day):
                if m0 == 0 and m1 == MINUTES_PER_DAY:
                    yield idx, totals
                    continue
                w = cum[24]
                f0, f1 = _before(cum, m0), _before(cum, m1)
                if f0 == f1:
                    continue
                values = tuple(v * f1 // w - v * f0 // w for v in totals)
                if any(values):
                    yield idx, values


def _before(cum: tuple[int, ...], minute: int) -> int:
    hour, k = divmod(minute, 60)
    if hour == 24:
        return cum[24]
    return cum[hour] + (cum[hour + 1] - cum[hour]) * k // 60


def make_groups(family: Family, org, rng: random.Random) -> list[Group]:
    """Groups of ``family`` in ``org``: a few keys (or projects) per family, some values each."""
    archived = {p.id: p.archived_at // DAY for p in org.projects if p.archived_at}
    groups: list[Group] = []
    # The benchmark profile is about completions volume: one group per family keeps it lean.
    size = 1 if org.benchmark else None
    if family.dimensions == ("project_id",):
        owners = [(p.id, None, None, p.created_at) for p in org.projects if p.archived_at is None]
        owners = rng.sample(owners, min(len(owners), size or 4))
    else:
        live = [k for k in org.api_keys if k.project_id not in archived]
        keys = rng.sample(live, min(len(live), size or 6))
        owners = [(k.project_id, k.owner_user_id, k.id, k.created_at) for k in keys]
    for project_id, user_id, key_id, created in owners:
        first = max(created // DAY, org.anchor_day)
        if not org.benchmark:
            first = max(first, org.anchor_day + int(org.history_days * rng.uniform(0.0, 0.4)))
        end = archived.get(project_id, 1 << 40)
        known = {"project_id": project_id, "user_id": user_id, "api_key_id": key_id}
        for _ in range(1 if org.benchmark else rng.choice((1, 2))):
            picked = dict(known)
            for name, choices in family.values:
                picked[name] = rng.choice(choices)
            if "vector_store_id" in family.dimensions:
                picked["vector_store_id"] = "vs_" + "".join(
                    rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24)
                )
            dims = tuple(picked[d] for d in family.dimensions)
            if any(g.dims == dims for g in groups):
                continue
            groups.append(
                Group(
                    len(groups),
                    dims,
                    first,
                    end,
                    1.0 if org.benchmark else rng.uniform(0.4, 0.9),
                    family.base * math.exp(rng.gauss(0, 0.5)),
                )
            )
    return groups

"""Deterministic activity of the synthetic organization: usage counters and billed cost rows.

A *stream* is one group as the usage API sees it: (project, user or None, API key, model, batch,
service tier). ``simulator.org`` decides which streams exist; this module turns them into numbers.
Everything is a pure function of ``(seed, stream, day)``, generated lazily per day and cached:
nothing is precomputed for the whole history.

Each stream has a window of days in which it can be active. On an active day it gets daily totals
for the leaf counters in :data:`LEAVES` and a cumulative request curve over the 24 hours
(``DayStream.cum``); inside an hour, requests spread over minutes by a cumulative minute profile.
Every counter of any minute range ``[m0, m1)`` of a day is then

    leaf_total * F(m1) // R  -  leaf_total * F(m0) // R

where ``F(m)`` is the number of requests in minutes before ``m`` and ``R`` the day's requests.
Because this telescopes, minutes add up exactly to hours and hours to days, a range without requests
has no tokens, and partial buckets need no special case. A usage "event" happens at the start
second of its minute: the minute counts in ``[a, b)`` iff ``a <= minute_start < b``.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, NamedTuple

from simulator import billing

if TYPE_CHECKING:
    from simulator.profiles import Schedule

DAY = 86_400
HOUR = 3_600
MINUTE = 60
MINUTES_PER_DAY = 1_440

# Leaf counters of a completions result; every other counter is a sum of these.
LEAVES = (
    "num_model_requests",
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_cached_image_tokens",
    "input_cache_write_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)
# Grouping dimensions of completions usage, in the API's order.
DIMENSIONS = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")

_MINUTE_PROFILES = 89  # pool size; a prime so (day, stream, hour) picks spread well


@dataclass(frozen=True)
class ModelSpec:
    """A dated model snapshot and the shape of its typical request."""

    id: str
    input_mean: int  # input tokens per request
    output_mean: int  # output tokens per request (reasoning models write a lot)
    image_share: float  # share of uncached input that is image tokens
    cache_write_share: float  # share of input reported as cache writes
    flex: bool  # whether the flex tier exists for the model
    popularity: float  # relative chance a new stream picks it


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("gpt-4o-2024-08-06", 1800, 350, 0.08, 0.0, False, 1.0),
    ModelSpec("gpt-4o-mini-2024-07-18", 1200, 250, 0.05, 0.0, False, 1.4),
    ModelSpec("o1-2024-12-17", 2500, 3000, 0.0, 0.0, False, 0.4),
    ModelSpec("gpt-4.1-2025-04-14", 3000, 450, 0.06, 0.0, False, 1.3),
    ModelSpec("gpt-4.1-mini-2025-04-14", 2000, 300, 0.04, 0.0, False, 1.6),
    ModelSpec("gpt-4.1-nano-2025-04-14", 800, 120, 0.0, 0.0, False, 0.9),
    ModelSpec("o3-2025-04-16", 3000, 2500, 0.03, 0.0, True, 0.8),
    ModelSpec("o4-mini-2025-04-16", 2000, 1800, 0.02, 0.0, True, 1.0),
    ModelSpec("gpt-5-2025-08-07", 3500, 2000, 0.05, 0.02, True, 1.8),
    ModelSpec("gpt-5-mini-2025-08-07", 2000, 1200, 0.03, 0.02, True, 1.8),
)
MODEL_BY_ID = {m.id: m for m in MODELS}


@dataclass(frozen=True)
class Stream:
    """One usage group and how it behaves over time."""

    idx: int
    project_id: str
    user_id: str | None  # None for service-account keys
    api_key_id: str
    model: str
    batch: bool
    service_tier: str
    first_day: int  # first day index it may be active
    end_day: int  # exclusive
    p_active: float  # chance of being active on a weekday
    base_requests: float  # median requests per active weekday at the start of history
    cached_share: float  # share of input tokens served from the cache
    peak_hour: int  # UTC hour with most traffic
    flat: bool  # benchmark profile: traffic in every hour

    @property
    def dims(self) -> tuple:
        """Values of :data:`DIMENSIONS` for this stream."""
        return (
            self.project_id,
            self.user_id,
            self.api_key_id,
            self.model,
            self.batch,
            self.service_tier,
        )


@dataclass(frozen=True, slots=True)
class DayStream:
    """Activity of one stream on one day."""

    stream: int
    totals: tuple[int, ...]  # LEAVES for the whole day; totals[0] = requests R
    cum: tuple[int, ...]  # 25 cumulative request counts at hour boundaries, cum[24] == R


@dataclass(frozen=True)
class ExtraCostSource:
    """A non-token line item some project pays for daily (file search storage, web search)."""

    project_id: str
    line_item: str
    first_day: int
    end_day: int
    base: float  # GiB stored, or web search calls per weekday


class CostRow(NamedTuple):
    """One billed slice: a line item of one project (and key, for token items) on one day."""

    project_id: str
    api_key_id: str | None  # None for project-level items (storage, tool calls)
    line_item: str
    quantity: float  # int for token and call counts
    quantity_unit: str | None
    amount: float  # USD, unrounded


def weekday_factor(day: int) -> float:
    """Weekends are quieter. Day 0 (1970-01-01) was a Thursday."""
    weekday = (day + 3) % 7  # 0 = Monday
    return {5: 0.45, 6: 0.38}.get(weekday, 1.0)


def day_of(ts: int) -> int:
    """Index of the UTC day containing Unix time ``ts``."""
    return ts // DAY


def day_date(day: int) -> date:
    """Calendar date of a day index."""
    return datetime.fromtimestamp(day * DAY, UTC).date()


class Activity:
    """Usage and cost numbers of a set of streams (immutable, caches generated days)."""

    def __init__(
        self,
        seed: int,
        anchor_day: int,
        history_days: int,
        streams: list[Stream],
        extra_costs: list[ExtraCostSource],
        schedule: Schedule | None = None,
    ) -> None:
        self.seed = seed
        # A fixed weekly pattern of days (simulator.profiles); None: every day may be active.
        self.schedule = schedule
        self.anchor_day = anchor_day
        self.history_days = history_days
        self.streams = streams
        self.extra_costs = extra_costs
        self._minute_profiles = self._make_minute_profiles(random.Random(f"minutes/{seed}"))
        # day -> restatement seed: the day's numbers were revised after the fact (restate()).
        self.restated: dict[int, int] = {}
        # Day activity is generated on first use; ~1.5 years of days fit in the cache.
        self.day_streams = functools.lru_cache(maxsize=600)(self._generate_day)

    @staticmethod
    def _make_minute_profiles(rng: random.Random) -> list[tuple[int, ...]]:
        """Cumulative minute weights (61 entries) for bursty traffic within an hour."""
        profiles = []
        for _ in range(_MINUTE_PROFILES):
            cum = [0]
            for _ in range(60):
                cum.append(cum[-1] + int(1000 * rng.random() ** 3) + 1)
            profiles.append(tuple(cum))
        return profiles

    def _generate_day(self, day: int) -> tuple[DayStream, ...]:
        """Activity of every stream active on ``day`` (cached by ``day_streams``)."""
        if day < self.anchor_day or (self.schedule and not self.schedule.has_traffic(day)):
            return ()
        weekday = weekday_factor(day)
        growth = 0.7 + 0.6 * min(1.0, (day - self.anchor_day) / self.history_days)
        restated = self.restated.get(day)
        dropped = None
        if restated is not None:
            # A restated day loses one group the API had reported (it was misattributed).
            live = [s.idx for s in self.streams if s.first_day <= day < s.end_day]
            dropped = random.Random(f"restate/{restated}/{day}").choice(live or [None])
        result = []
        for s in self.streams:
            if not s.first_day <= day < s.end_day or s.idx == dropped:
                continue
            rng = random.Random(f"{self.seed}/{day}/{s.idx}")
            p_active = s.p_active * (1.0 if weekday == 1.0 or s.flat else 0.6)
            if rng.random() >= p_active:
                continue
            noise = math.exp(rng.gauss(0, 0.35))
            requests = max(1, int(s.base_requests * growth * weekday * noise))
            cum = self._hour_curve(rng, s, requests)
            if s.flat:
                requests = cum[-1]
            totals = self._day_totals(rng, s, requests)
            if restated is not None:
                totals, cum = _revise(totals, cum, restated, day, s.idx)
            result.append(DayStream(s.idx, totals, cum))
        return tuple(result)

    def restate(self, days: list[int], seed: int, newcomer: Stream) -> None:
        """Revise ``days`` after the fact: every group's numbers change, one group vanishes
        per day and ``newcomer`` (a group the API had not reported) appears."""
        for day in days:
            self.restated[day] = seed
        self.streams.append(newcomer)
        self.day_streams.cache_clear()

    @staticmethod
    def _hour_curve(rng: random.Random, s: Stream, requests: int) -> tuple[int, ...]:
        """Cumulative requests at the 25 hour boundaries of the day."""
        if s.flat:
            # At least 48 requests and every hour >= 1/48 of the day: each hour gets >= 1.
            requests = max(requests, 48)
            weights = [1000 + rng.randrange(1000) for _ in range(24)]
        else:
            weights = []
            for h in range(24):
                distance = min((h - s.peak_hour) % 24, (s.peak_hour - h) % 24)
                shape = 0.08 + math.exp(-(distance**2) / 18.0)
                weights.append(int(1000 * shape * rng.uniform(0.6, 1.4)) + 1)
        total = sum(weights)
        cum, acc = [0], 0
        for w in weights:
            acc += w
            cum.append(requests * acc // total)
        return tuple(cum)

    @staticmethod
    def _day_totals(rng: random.Random, s: Stream, requests: int) -> tuple[int, ...]:
        """Daily leaf counters, with the accounting identities built in."""
        spec = MODEL_BY_ID[s.model]
        batch_scale = 1.6 if s.batch else 1.0  # batch jobs send bigger prompts
        input_tokens = int(requests * spec.input_mean * batch_scale * math.exp(rng.gauss(0, 0.2)))
        output_tokens = int(requests * spec.output_mean * math.exp(rng.gauss(0, 0.25))) + 1
        input_tokens = max(input_tokens, requests)
        cached = int(input_tokens * min(0.9, s.cached_share * rng.uniform(0.7, 1.3)))
        cached -= cached % 128 if cached > 1024 else 0  # caching works in 128-token chunks
        write = int(input_tokens * spec.cache_write_share * rng.uniform(0.5, 1.5))
        uncached = input_tokens - cached - write
        image = int(uncached * spec.image_share * rng.uniform(0.5, 1.5))
        cached_image = int(cached * spec.image_share * 0.5)
        return (
            requests,
            uncached - image,  # input_text_tokens
            0,  # input_audio_tokens: no audio models in this organization
            image,
            cached - cached_image,  # input_cached_text_tokens
            0,  # input_cached_audio_tokens
            cached_image,
            write,  # input_cache_write_tokens
            output_tokens,  # output_text_tokens
            0,  # output_audio_tokens
            0,  # output_image_tokens
        )

    def _requests_before(self, ds: DayStream, day: int, minute: int) -> int:
        """F(minute): requests of the stream in the day's minutes before ``minute`` (0..1440)."""
        hour, k = divmod(minute, 60)
        base = ds.cum[hour]
        if k == 0:
            return base
        in_hour = ds.cum[hour + 1] - base
        if in_hour == 0:
            return base
        pick = (day * 7919 + ds.stream * 104_729 + hour * 31 + self.seed) % _MINUTE_PROFILES
        profile = self._minute_profiles[pick]
        return base + in_hour * profile[k] // profile[60]

    def slice_day(self, day: int, m0: int, m1: int) -> Iterator[tuple[int, tuple[int, ...]]]:
        """``(stream_idx, leaves)`` for minutes ``[m0, m1)`` of ``day``, streams with requests."""
        if m0 >= m1:
            return
        if m0 == 0 and m1 == MINUTES_PER_DAY:
            for ds in self.day_streams(day):
                yield ds.stream, ds.totals
            return
        for ds in self.day_streams(day):
            f0 = self._requests_before(ds, day, m0)
            f1 = self._requests_before(ds, day, m1)
            if f1 == f0:
                continue
            r = ds.totals[0]
            yield ds.stream, tuple(v * f1 // r - v * f0 // r for v in ds.totals)

    def slice(self, start: int, end: int) -> Iterator[tuple[int, tuple[int, ...]]]:
        """``(stream_idx, leaves)`` for usage whose minute starts in ``[start, end)``.

        A stream appears once per day touched, so callers aggregate.
        """
        if end <= start:
            return
        for day in range(day_of(start), day_of(end - 1) + 1):
            base = day * DAY
            m0 = max(0, -(-(start - base) // MINUTE))  # first minute starting at/after start
            m1 = min(MINUTES_PER_DAY, -(-(end - base) // MINUTE))  # minutes starting before end
            yield from self.slice_day(day, m0, m1)

    def extra_cost_items(self, day: int, until: int) -> list[tuple[str, str, float, str | None]]:
        """Non-token line items ``(project_id, line_item, quantity, unit)`` of ``day`` up to
        ``until`` (a Unix time; the day's share that elapsed before it is billed)."""
        elapsed = min(DAY, until - day * DAY)
        if elapsed <= 0 or day < self.anchor_day:
            return []
        if self.schedule and not self.schedule.bills_storage(day):
            return []
        items = []
        for i, src in enumerate(self.extra_costs):
            if not src.first_day <= day < src.end_day:
                continue
            rng = random.Random(f"{self.seed}/extra/{day}/{i}")
            if src.line_item == billing.FILE_SEARCH_LINE_ITEM:
                gib = src.base * (1 + 0.003 * (day - src.first_day)) * rng.uniform(0.98, 1.02)
                hours = elapsed // MINUTE / 60  # billed by elapsed minutes
                items.append((src.project_id, src.line_item, gib * hours, "gibibyte_hours"))
            elif rng.random() < 0.7:
                calls = int(src.base * weekday_factor(day) * rng.uniform(0.5, 1.5))
                calls = calls * (elapsed // MINUTE) // MINUTES_PER_DAY
                if calls:
                    # Tool calls have no unit among the documented quantity_unit values.
                    items.append((src.project_id, src.line_item, calls, None))
        return items

    def cost_rows(self, day: int, until: int) -> list[CostRow]:
        """Billed rows of ``day`` for usage before ``until`` (a Unix time)."""
        rows = []
        when = day_date(day)
        # Complimentary tokens (a schedule's unbilled days) are used but never billed.
        billed_until = until if not self.schedule or self.schedule.is_billed(day) else day * DAY
        for idx, leaves in self.slice(day * DAY, min((day + 1) * DAY, billed_until)):
            s = self.streams[idx]
            u = derive(leaves)
            for line_item, qty, amount in billing.token_line_items(
                s.model,
                when,
                s.batch,
                s.service_tier,
                u["input_tokens"],
                u["input_cached_tokens"],
                u["output_tokens"],
            ):
                rows.append(CostRow(s.project_id, s.api_key_id, line_item, qty, "tokens", amount))
        for project_id, line_item, qty, unit in self.extra_cost_items(day, until):
            rate = (
                billing.FILE_SEARCH_USD_PER_GIB_HOUR
                if line_item == billing.FILE_SEARCH_LINE_ITEM
                else billing.WEB_SEARCH_USD_PER_CALL
            )
            rows.append(CostRow(project_id, None, line_item, qty, unit, qty * rate))
        return rows

    def usage_truth(self, start: int, end: int) -> list[dict]:
        """Per-group completions usage in ``[start, end)``, all dimensions filled.

        This is what the API returns when grouping by every dimension over one bucket covering
        the interval (the API also cuts at "now"; pass ``min(end, now)`` to match).
        """
        acc: dict[int, list[int]] = {}
        for idx, leaves in self.slice(start, end):
            add_into(acc.setdefault(idx, [0] * len(LEAVES)), leaves)
        rows = []
        for idx in sorted(acc):
            row = dict(zip(DIMENSIONS, self.streams[idx].dims, strict=True))
            row.update(derive(acc[idx]))
            rows.append(row)
        return rows


def _revise(
    totals: tuple[int, ...], cum: tuple[int, ...], seed: int, day: int, idx: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Scale a day's leaves by a revision factor; the hour curve keeps its shape."""
    factor = random.Random(f"restate/{seed}/{day}/{idx}").choice((0.8, 0.9, 1.1, 1.25))
    revised = tuple(int(v * factor) for v in totals)
    requests = max(1, revised[0])
    revised = (requests, *revised[1:])
    return revised, tuple(c * requests // totals[0] for c in cum)


@functools.cache
def release_day(model: str) -> int:
    released = billing.release_date(model)
    assert released is not None, model
    midnight = datetime(released.year, released.month, released.day, tzinfo=UTC)
    return day_of(int(midnight.timestamp()))


def add_into(acc: list[int], leaves: tuple[int, ...] | list[int]) -> None:
    """Add leaf counters into an accumulator in place."""
    for i, v in enumerate(leaves):
        acc[i] += v


def derive(leaves: tuple[int, ...] | list[int]) -> dict[str, int]:
    """All completions counters from the leaves, with the spec's token identities exact."""
    req, text, audio, image, c_text, c_audio, c_image, write, o_text, o_audio, o_image = leaves
    cached = c_text + c_audio + c_image
    uncached = text + audio + image
    return {
        "input_tokens": cached + write + uncached,
        "input_cached_tokens": cached,
        "input_cache_write_tokens": write,
        "input_uncached_tokens": uncached,
        "output_tokens": o_text + o_audio + o_image,
        "input_text_tokens": text,
        "output_text_tokens": o_text,
        "input_cached_text_tokens": c_text,
        "input_audio_tokens": audio,
        "input_cached_audio_tokens": c_audio,
        "output_audio_tokens": o_audio,
        "input_image_tokens": image,
        "input_cached_image_tokens": c_image,
        "output_image_tokens": o_image,
        "num_model_requests": req,
    }

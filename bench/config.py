"""Benchmark settings: the simulator profile, repetitions and ranges, from the environment."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass


def _env_float(name: str, default: float | None) -> float | None:
    """A float variable; unset keeps the default, `none` means no value (e.g. no rate limit)."""
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    return None if raw.lower() == "none" else float(raw)


@dataclass(frozen=True)
class BenchConfig:
    """What one `make bench` measures. `quick` shrinks every range for a smoke run."""

    quick: bool = False
    seed: int = 7
    groups_per_hour: int = 100
    # Scenario 2 and the daily run: the per-request latency and the rate limit they face.
    latency_ms: float = 150.0
    # The pipeline's own default budget (10/s). The only figure published for admin endpoints, a
    # third party's 60/min (low trust), makes a year at 1h take 9.4 min a repetition;
    # BENCH_RATE_LIMIT=1.
    rate_limit_rps: float | None = 10.0
    burst: int = 10
    reps: int = 3
    # Days of each range; quick mode uses a few days so the whole harness runs in seconds.
    ingest_days: int = 365
    growth_days: tuple[int, ...] = (30, 365, 1095)
    # Ranges at or above this many days are measured once (they take minutes).
    single_rep_days: int = 1000
    history_days: int = 1200
    # The UI's backfill button against `make backfill`: days of the range.
    ui_days: int = 8

    @classmethod
    def from_env(cls, quick: bool | None = None) -> BenchConfig:
        """Defaults, `BENCH_QUICK=1` for a smoke run, `BENCH_*` variables to override."""
        if quick is None:
            quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        base = cls.quick_profile() if quick else cls()
        return cls(
            quick=quick,
            seed=int(os.environ.get("BENCH_SEED", base.seed)),
            groups_per_hour=int(os.environ.get("BENCH_GROUPS_PER_HOUR", base.groups_per_hour)),
            latency_ms=_env_float("BENCH_LATENCY_MS", base.latency_ms) or 0.0,
            rate_limit_rps=_env_float("BENCH_RATE_LIMIT", base.rate_limit_rps),
            burst=int(os.environ.get("BENCH_BURST", base.burst)),
            reps=int(os.environ.get("BENCH_REPS", base.reps)),
            ingest_days=base.ingest_days,
            growth_days=tuple(
                int(d) for d in os.environ.get("BENCH_GROWTH_DAYS", "").split(",") if d
            )
            or base.growth_days,
            single_rep_days=base.single_rep_days,
            history_days=base.history_days,
            ui_days=base.ui_days,
        )

    @classmethod
    def quick_profile(cls) -> BenchConfig:
        """A few days per range, one repetition, a faster rate limit: seconds, not minutes."""
        return cls(
            quick=True,
            latency_ms=5.0,
            rate_limit_rps=50.0,
            reps=1,
            ingest_days=3,
            growth_days=(1, 3),
            history_days=30,
            ui_days=2,
        )

    def as_dict(self) -> dict:
        return asdict(self)

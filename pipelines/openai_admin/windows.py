"""UTC windows: which whole days a run asks for and replaces, and when a day is final."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import settings

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval `[start, end)` of whole buckets."""

    start: dt.datetime
    end: dt.datetime

    @property
    def start_ts(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_ts(self) -> int:
        return int(self.end.timestamp())

    def days(self) -> list[dt.date]:
        """Every UTC day the window touches: the days a reload of this window replaces."""
        first = self.start.date()
        last = (self.end - dt.timedelta(microseconds=1)).date()
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _as_utc(value: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def align_window(
    start: dt.datetime | dt.date, end: dt.datetime | dt.date, bucket_width: str = "1d"
) -> Window:
    """Widen `[start, end)` to whole UTC days.

    The usage API starts its first bucket at `start_time` itself, not at a boundary, so an
    unaligned start would split a day across two rows. Reloads replace whole days, so windows are
    widened to day boundaries, which are boundaries of every bucket width as well.
    """
    if bucket_width not in settings.BUCKET_SECONDS:
        raise ValueError(
            f"Unknown bucket width {bucket_width!r}: "
            f"use one of {', '.join(settings.BUCKET_SECONDS)}"
        )
    start_utc, end_utc = _as_utc(start), _as_utc(end)
    if end_utc <= start_utc:
        raise ValueError(f"Empty window: end {end_utc:%Y-%m-%d %H:%M} is not after start.")
    day = 86400
    start_s = int(start_utc.timestamp()) // day * day
    end_s = -(-int(end_utc.timestamp()) // day) * day
    return Window(EPOCH + dt.timedelta(seconds=start_s), EPOCH + dt.timedelta(seconds=end_s))


def request_end(window: Window, now: dt.datetime) -> int | None:
    """The `end_time` to send: the window's end, but never in the future.

    Returns None when the whole window lies in the future and nothing can be asked for.
    """
    now_ts = int(now.timestamp())
    if window.start_ts >= now_ts:
        return None
    return min(window.end_ts, now_ts)


def usage_limit(bucket_width: str) -> int:
    """The largest `limit` the usage API accepts for a width: fewest requests."""
    return settings.USAGE_MAX_LIMIT[bucket_width]


def is_final(bucket_start: int, final_before: int) -> bool:
    """Whether the UTC day holding `bucket_start` ended by `final_before` (now minus the grace)."""
    day_end = (bucket_start // 86400 + 1) * 86400
    return day_end <= final_before

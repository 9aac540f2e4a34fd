"""The request budget every endpoint of a source run shares, and how it learns from the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from requests import Response
from requests.adapters import HTTPAdapter

from . import settings


class RateBudget:
    """A blocking token bucket: `rate` requests per second, bursts of at most `burst`, that slows
    down when the API says so.

    One budget is shared by every endpoint of a source run (they are fetched concurrently), so
    together they stay under the API's pace instead of each provoking 429s on its own. Retries
    take a token too. The admin API's limits are undocumented and may be below the configured
    rate: on a 429 the rate halves (never below `min_rate`) and every caller waits out the
    `Retry-After`; each later success gives back 5%, up to the configured rate. Without that,
    a server slower than us answers most retries with 429 again until they run out. `rate` None
    is unlimited until the first 429. `clock` and `sleep` are injectable for tests.
    """

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        min_rate: float = settings.MIN_REQUESTS_PER_SECOND,
    ) -> None:
        self.ceiling = rate if rate and rate > 0 else None
        self.rate = self.ceiling
        # Never faster than configured, even at the floor (the legacy endpoint's pace is 1/12 s).
        self.min_rate = min(min_rate, self.ceiling) if self.ceiling else min_rate
        self.burst = max(1, burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._hold_until = float("-inf")
        self._cut_at = float("-inf")
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token now or in the future; returns the seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            hold = max(0.0, self._hold_until - now)
            if self.rate is None:
                return hold
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0  # may go negative: later callers queue behind this one
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            return max(wait, hold)

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def throttled(self, retry_after: float | None) -> None:
        """The API answered 429: halve the rate and hold every caller for `retry_after` s."""
        with self._lock:
            now = self._clock()
            # Requests already in flight when the first 429 came back are refused too: one cut
            # per second, or every such echo would halve the rate again.
            if now - self._cut_at >= 1.0:
                current = self.rate if self.rate is not None else settings.REQUESTS_PER_SECOND
                self.rate = max(self.min_rate, current / 2)
                self._cut_at = now
            self._tokens = min(self._tokens, 0.0)  # no burst straight after a refusal
            self._stamp = now
            if retry_after:
                self._hold_until = max(self._hold_until, now + retry_after)

    def succeeded(self) -> None:
        """A request went through: recover 5% of the rate, up to the configured one."""
        with self._lock:
            if self.rate is None:
                return
            raised = self.rate * 1.05
            self.rate = raised if self.ceiling is None else min(self.ceiling, raised)


def retry_after_seconds(response: Response) -> float | None:
    """`Retry-After` in seconds when it is a number (the API sends seconds)."""
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


class BudgetedAdapter(HTTPAdapter):
    """Takes a budget token before every attempt, including the retrying session's retries, and
    tells the budget how the API answered."""

    def __init__(self, budget: RateBudget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._budget = budget

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        self._budget.acquire()
        response = super().send(request, *args, **kwargs)
        if response.status_code == 429:
            self._budget.throttled(retry_after_seconds(response))
        elif response.status_code < 500:
            self._budget.succeeded()
        return response

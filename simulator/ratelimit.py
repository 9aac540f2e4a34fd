"""A thread-safe token bucket shared by all requests of one simulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; one token per request.

    ``rate=None`` disables limiting. The bucket starts full, so a client may send ``burst``
    requests at once before it has to slow down to ``rate``.
    """

    def __init__(
        self,
        rate: float | None,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._settings: tuple[float | None, int] = (None, 0)
        self._tokens = 0.0
        self._stamp = 0.0
        self.configure(rate, burst)

    def configure(self, rate: float | None, burst: int) -> None:
        """Change the settings; a change refills the bucket (cheap no-op when unchanged)."""
        with self._lock:
            if (rate, burst) == self._settings:
                return
            self._settings = (rate, max(1, burst))
            self._tokens = float(max(1, burst))
            self._stamp = self._clock()

    def acquire(self) -> float:
        """Take a token. Returns 0.0 on success, else the seconds until one is available."""
        with self._lock:
            rate, burst = self._settings
            if rate is None:
                return 0.0
            now = self._clock()
            self._tokens = min(float(burst), self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            if rate <= 0:
                return float("inf")
            return (1.0 - self._tokens) / rate

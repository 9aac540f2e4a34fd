"""The request budget on a fake clock: its pace, how a 429 slows it and success recovers it."""

from __future__ import annotations

from pipelines.openai_admin import pacing, settings


def test_rate_budget_queues_callers_at_the_configured_pace():
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    budget = pacing.RateBudget(2.0, burst=2, clock=lambda: clock[0], sleep=sleep)
    waits = [budget.reserve() for _ in range(5)]
    assert waits == [0.0, 0.0, 0.5, 1.0, 1.5]  # the burst, then one every 1/rate seconds
    clock[0] = 10.0
    budget.acquire()
    assert slept == []  # refilled meanwhile
    assert pacing.RateBudget(None).reserve() == 0.0


def test_a_429_halves_the_rate_and_holds_every_caller_for_retry_after():
    clock = [0.0]
    budget = pacing.RateBudget(8.0, burst=1, clock=lambda: clock[0], sleep=lambda _: None)
    assert budget.reserve() == 0.0
    budget.throttled(retry_after=3.0)
    assert budget.rate == 4.0
    assert budget.reserve() == 3.0  # held for Retry-After, whatever the tokens say
    budget.throttled(retry_after=None)
    assert budget.rate == 4.0  # a second 429 within the second is an echo of the first
    for second in range(6):
        clock[0] = 3.0 + second
        budget.throttled(retry_after=None)
    assert budget.rate == settings.MIN_REQUESTS_PER_SECOND  # never below the floor
    for _ in range(200):
        budget.succeeded()
    assert budget.rate == 8.0  # back to, and never above, the configured rate


def test_an_unlimited_budget_paces_itself_once_throttled_and_a_slow_pace_is_kept():
    clock = [0.0]
    budget = pacing.RateBudget(None, clock=lambda: clock[0], sleep=lambda _: None)
    assert budget.reserve() == 0.0
    budget.throttled(retry_after=1.0)
    assert budget.rate == settings.REQUESTS_PER_SECOND / 2
    assert budget.reserve() == 1.0
    legacy = pacing.RateBudget(1 / 12, clock=lambda: clock[0], sleep=lambda _: None)
    clock[0] = 10.0
    legacy.throttled(retry_after=None)
    assert legacy.rate == 1 / 12  # the floor never makes a slow endpoint faster

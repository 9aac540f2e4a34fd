"""The simulator's own price list, used to turn synthetic usage into synthetic costs.

This is deliberately independent of ``genai-prices``: the ETL may use that package for its own
estimates, and a reconciliation test is only meaningful if the "truth" comes from a separate source.

Prices are OpenAI's published list prices in USD per 1M tokens, as ``(input, cached input,
output)``, each with the UTC date from which it applies (the first entry is the model's release).

Billing rules the simulator applies (choices, since OpenAI does not document the exact invoice
maths):

- ``input`` line items bill every input token that was not served from the cache, i.e.
  ``input_tokens - input_cached_tokens`` (uncached text/image/audio tokens plus cache-write tokens)
  at the input rate. ``cached input`` line items bill ``input_cached_tokens`` at the cached rate.
  Cached tokens are part of ``input_tokens``, so they are never billed twice.
- Batch API traffic costs 50% of the list price (all three rates).
- ``service_tier="flex"`` costs 50% of the list price (OpenAI prices Flex like Batch).
- ``service_tier="priority"`` costs 200% of the list price (the real premium is model-dependent,
  roughly 1.7-2x; a flat 2x keeps the maths easy to check).
- Batch traffic always runs on the ``default`` tier in the synthetic organization, so the
  multipliers never combine.
- One line item per model and direction merges all tiers and batch/non-batch traffic, so a line
  item's ``amount`` is ``sum(quantity_part * rate * multiplier)``, not ``quantity * rate``.
"""

from __future__ import annotations

from datetime import date

PER_MILLION = 1_000_000

# model -> [(effective_from, (input, cached_input, output)), ...] in USD per 1M tokens, ascending.
PRICE_HISTORY: dict[str, list[tuple[date, tuple[float, float, float]]]] = {
    "gpt-4o-mini-2024-07-18": [(date(2024, 7, 18), (0.15, 0.075, 0.60))],
    "gpt-4o-2024-08-06": [(date(2024, 8, 6), (2.50, 1.25, 10.00))],
    "o1-2024-12-17": [(date(2024, 12, 17), (15.00, 7.50, 60.00))],
    "gpt-4.1-2025-04-14": [(date(2025, 4, 14), (2.00, 0.50, 8.00))],
    "gpt-4.1-mini-2025-04-14": [(date(2025, 4, 14), (0.40, 0.10, 1.60))],
    "gpt-4.1-nano-2025-04-14": [(date(2025, 4, 14), (0.10, 0.025, 0.40))],
    "o3-2025-04-16": [
        (date(2025, 4, 16), (10.00, 2.50, 40.00)),
        # OpenAI cut o3 prices by 80% on 2025-06-10.
        (date(2025, 6, 10), (2.00, 0.50, 8.00)),
    ],
    "o4-mini-2025-04-16": [(date(2025, 4, 16), (1.10, 0.275, 4.40))],
    "gpt-5-2025-08-07": [(date(2025, 8, 7), (1.25, 0.125, 10.00))],
    "gpt-5-mini-2025-08-07": [(date(2025, 8, 7), (0.25, 0.025, 2.00))],
}

BATCH_MULTIPLIER = 0.5
SERVICE_TIER_MULTIPLIERS: dict[str, float] = {"default": 1.0, "flex": 0.5, "priority": 2.0}

# Non-token line items. File search storage: $0.10 per GiB per day, billed per GiB-hour.
FILE_SEARCH_LINE_ITEM = "assistants api | file search"
FILE_SEARCH_USD_PER_GIB_HOUR = 0.10 / 24
# Web search tool calls: $10 per 1,000 calls.
WEB_SEARCH_LINE_ITEM = "web search tool calls"
WEB_SEARCH_USD_PER_CALL = 10.00 / 1000


def release_date(model: str) -> date | None:
    """First day the model can be used (its first price entry), or None for unknown models."""
    history = PRICE_HISTORY.get(model)
    return history[0][0] if history else None


def list_price(model: str, day: date) -> tuple[float, float, float] | None:
    """List price ``(input, cached_input, output)`` in USD per 1M tokens on ``day``.

    Returns None for unknown models and for days before the model's release.
    """
    current = None
    for effective_from, prices in PRICE_HISTORY.get(model, []):
        if effective_from <= day:
            current = prices
    return current


def multiplier(batch: bool, service_tier: str) -> float:
    """Price multiplier for batch traffic and service tiers (see the module docstring)."""
    factor = SERVICE_TIER_MULTIPLIERS.get(service_tier, 1.0)
    return factor * BATCH_MULTIPLIER if batch else factor


def token_line_items(
    model: str,
    day: date,
    batch: bool,
    service_tier: str,
    input_tokens: int,
    cached_tokens: int,
    output_tokens: int,
) -> list[tuple[str, int, float]]:
    """Billable token line items ``(line_item, quantity_tokens, amount_usd)`` for one usage slice.

    Zero-quantity items are left out, as a real invoice would not show them.
    """
    prices = list_price(model, day)
    if prices is None:
        return []
    factor = multiplier(batch, service_tier) / PER_MILLION
    rate_in, rate_cached, rate_out = prices
    items = [
        (f"{model}, input", input_tokens - cached_tokens, rate_in),
        (f"{model}, cached input", cached_tokens, rate_cached),
        (f"{model}, output", output_tokens, rate_out),
    ]
    return [(name, qty, qty * rate * factor) for name, qty, rate in items if qty > 0]

"""The usage families of the Admin API, one row each: everything else about them is derived.

A family is one endpoint `organization/usage/<name>` loaded into the raw table `<name>_usage`:
its `group_by` (every dimension the endpoint offers, its finest grain), its counters with their
Arrow types, whether an API may not offer it yet, and the older names of its result fields. The
request parameters, the Arrow schema, the dlt resource and the optional endpoints all come from
this table; adding a family is one row here (and its dbt staging model).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .schemas import bucketed

# Every dimension is text but the completions' batch flag.
DIMENSION_TYPES: dict[str, pa.DataType] = {"batch": pa.bool_()}


@dataclass(frozen=True)
class UsageFamily:
    """One usage endpoint and its raw table."""

    name: str
    # The group_by dimensions (the spec's enum), in the order of the table's columns.
    dimensions: tuple[str, ...]
    # The counters of a result (the spec's result schema), in the order of the table's columns.
    counters: tuple[tuple[str, pa.DataType], ...]
    # Newer than some APIs: a 403/404 leaves the table empty with a warning (see settings).
    optional: bool = False
    # (older result field, current field): an older API's name, read when the current is absent.
    renamed: tuple[tuple[str, str], ...] = ()

    @property
    def table(self) -> str:
        return f"{self.name}_usage"

    @property
    def group_by(self) -> list[str]:
        return list(self.dimensions)

    @functools.cached_property
    def schema(self) -> pa.Schema:
        """The raw table's Arrow schema: bookkeeping, the dimensions, the counters, the marker."""
        dims = [(name, DIMENSION_TYPES.get(name, pa.string())) for name in self.dimensions]
        return bucketed(dims + list(self.counters))

    @property
    def adapt(self) -> Callable[[Mapping[str, Any]], Mapping[str, Any]] | None:
        """What maps a result of an older API onto the current names, if any was renamed."""
        return self._current_names if self.renamed else None

    def _current_names(self, result: Mapping[str, Any]) -> Mapping[str, Any]:
        for old, new in self.renamed:
            if result.get(new) is None and old in result:
                result = {**result, new: result[old]}
        return result


def _counts(*names: str) -> tuple[tuple[str, pa.DataType], ...]:
    return tuple((name, pa.int64()) for name in names)


_KEY_DIMS = ("project_id", "user_id", "api_key_id")
_FOUR_DIMS = (*_KEY_DIMS, "model")

FAMILIES: tuple[UsageFamily, ...] = (
    UsageFamily(
        "completions",
        (*_FOUR_DIMS, "batch", "service_tier"),
        _counts(
            "num_model_requests",
            "input_tokens",
            "output_tokens",
            "input_cached_tokens",
            "input_cache_write_tokens",
            "input_uncached_tokens",
            "input_text_tokens",
            "output_text_tokens",
            "input_cached_text_tokens",
            "input_audio_tokens",
            "input_cached_audio_tokens",
            "output_audio_tokens",
            "input_image_tokens",
            "input_cached_image_tokens",
            "output_image_tokens",
        ),
    ),
    UsageFamily("embeddings", _FOUR_DIMS, _counts("num_model_requests", "input_tokens")),
    UsageFamily("moderations", _FOUR_DIMS, _counts("num_model_requests", "input_tokens")),
    UsageFamily("images", (*_FOUR_DIMS, "size", "source"), _counts("num_model_requests", "images")),
    UsageFamily("audio_speeches", _FOUR_DIMS, _counts("num_model_requests", "characters")),
    UsageFamily("audio_transcriptions", _FOUR_DIMS, _counts("num_model_requests", "seconds")),
    UsageFamily("vector_stores", ("project_id",), _counts("usage_bytes")),
    # The Dec 2024 API named `num_sessions` `sessions` (simulator/spec/README.md, older shapes).
    UsageFamily(
        "code_interpreter_sessions",
        ("project_id",),
        _counts("num_sessions"),
        renamed=(("sessions", "num_sessions"),),
    ),
    UsageFamily(
        "file_search_calls",
        (*_KEY_DIMS, "vector_store_id"),
        _counts("num_requests"),
        optional=True,
    ),
    UsageFamily(
        "web_search_calls",
        (*_FOUR_DIMS, "context_level"),
        _counts("num_model_requests", "num_requests"),
        optional=True,
    ),
)
BY_NAME: dict[str, UsageFamily] = {family.name: family for family in FAMILIES}

# Result fields read under a newer name: never kept as columns of their own.
RENAMED_FIELDS = frozenset(old for family in FAMILIES for old, _ in family.renamed)

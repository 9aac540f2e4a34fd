"""Query-string parsing and validation, and the error type every endpoint raises.

Error wording imitates OpenAI's style. The exact status/type/code the real Administration API uses
for bad parameters is not documented (simulator/spec/README.md); 400 ``invalid_request_error``
matches the legacy usage endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable


class ApiError(Exception):
    """An error answered with the official ``ErrorResponse`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict:
        """``{"error": {message, type, param, code}}`` with all four keys present."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


Query = dict[str, list[str]]


def _raw(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def get_int(
    query: Query,
    name: str,
    *,
    required: bool = False,
    minimum: int | None = None,
) -> int | None:
    """An integer parameter; None when absent and not required."""
    raw = _raw(query, name)
    if raw is None or raw == "":
        if required:
            raise ApiError(
                400,
                f"Missing required parameter: '{name}'.",
                param=name,
                code="missing_required_parameter",
            )
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            400,
            f"Invalid type for '{name}': expected an integer, but got a string instead.",
            param=name,
            code="invalid_type",
        ) from None
    if minimum is not None and value < minimum:
        raise ApiError(
            400,
            f"Invalid '{name}': integer below minimum value. Expected a value >= {minimum}, "
            f"but got {value} instead.",
            param=name,
            code="integer_below_min_value",
        )
    return value


def get_limit(query: Query, default: int, maximum: int, over_max: str) -> int:
    """``limit`` in ``1..maximum``; above the maximum is a 400 or clamped (``over_max``)."""
    value = get_int(query, "limit", minimum=1)
    if value is None:
        return default
    if value > maximum:
        if over_max == "clamp":
            return maximum
        raise ApiError(
            400,
            f"Invalid 'limit': integer above maximum value. Expected a value <= {maximum}, "
            f"but got {value} instead.",
            param="limit",
            code="integer_above_max_value",
        )
    return value


def get_enum(query: Query, name: str, allowed: Iterable[str], default: str | None) -> str | None:
    """A string parameter restricted to ``allowed``."""
    raw = _raw(query, name)
    if raw is None:
        return default
    allowed = tuple(allowed)
    if raw not in allowed:
        raise ApiError(
            400,
            f"Invalid value for '{name}': '{raw}'. Supported values are: "
            + ", ".join(f"'{a}'" for a in allowed)
            + ".",
            param=name,
            code="invalid_value",
        )
    return raw


def get_bool(query: Query, name: str) -> bool | None:
    """A ``true``/``false`` parameter; None when absent."""
    raw = _raw(query, name)
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise ApiError(
            400,
            f"Invalid value for '{name}': expected a boolean ('true' or 'false'), got '{raw}'.",
            param=name,
            code="invalid_type",
        )
    return lowered == "true"


def get_array(query: Query, name: str) -> list[str] | None:
    """An array parameter in any of the three encodings clients use.

    ``k=a&k=b`` (OpenAPI default), ``k[]=a&k[]=b`` (openai-python) and ``k=a,b`` all give
    ``["a", "b"]``. Order is kept, duplicates dropped. None when the parameter is absent.
    """
    if name not in query and f"{name}[]" not in query:
        return None
    values: list[str] = []
    for raw in query.get(name, []) + query.get(f"{name}[]", []):
        for part in raw.split(","):
            part = part.strip()
            if part and part not in values:
                values.append(part)
    return values


def get_group_by(query: Query, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``group_by`` values, each checked against the endpoint's enum."""
    values = get_array(query, "group_by") or []
    for value in values:
        if value not in allowed:
            raise ApiError(
                400,
                f"Invalid value for 'group_by': '{value}'. Supported values are: "
                + ", ".join(f"'{a}'" for a in allowed)
                + ".",
                param="group_by",
                code="invalid_value",
            )
    return tuple(v for v in allowed if v in values)

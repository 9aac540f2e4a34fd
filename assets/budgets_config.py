"""`budgets.yaml`: spend budgets per organization, project, API key, user or model.

Pure parsing and validation; the `raw/budgets` asset loads the result into `raw.budgets`, and the
dbt models in `dbt_models/models/budgets/` compare it with spend. Schema::

    budgets:
      - name: support-copilot-monthly   # unique; names the budget in marts and alerts
        scope: project                  # organization | project | api_key | user | model
        project: Support Copilot        # the scoped thing, by id or name: a key named like
                                        # the scope (project:, api_key:, user:, model:)
        period: monthly                 # daily | monthly (UTC days and calendar months)
        limit_usd: 500
        warn_percent: 80                # optional, default 80: warn at this % of the limit
        basis: billed                   # optional, default billed: billed | estimated
        organization: default           # optional: only this configured organization (for
                                        # scope organization: which one; omitted = each)

`billed` is the Costs API amount (allocated to keys and users by usage share); `estimated` is
tokens x list prices, known earlier in the day. Users match by id, name or email. A name that
matches several things (two keys with one name) budgets their sum. Errors name the file, the
line and the fix.
"""

from __future__ import annotations

import os
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from warehouse import paths

SCOPES = ("organization", "project", "api_key", "user", "model")
PERIODS = ("daily", "monthly")
BASES = ("billed", "estimated")
DEFAULT_WARN_PERCENT = 80.0
DEFAULT_BASIS = "billed"
_KEYS = (
    "name",
    "scope",
    "project",
    "api_key",
    "user",
    "model",
    "period",
    "limit_usd",
    "warn_percent",
    "basis",
    "organization",
)


class BudgetConfigError(ValueError):
    """A budgets file that cannot be used; the message names the file, line and fix."""


@dataclass(frozen=True)
class Budget:
    budget_name: str
    organization: str | None
    scope_type: str
    scope_match: str | None
    period: str
    limit_usd: float
    warn_percent: float
    basis: str
    source_line: int

    def row(self) -> tuple[Any, ...]:
        """The budget as a row of raw.budgets, in the order of `COLUMNS`."""
        return astuple(self)


# A budget's row shape; raw.budgets declares the same columns (assets/budgets.py, tested).
COLUMNS = tuple(field.name for field in fields(Budget))


def budgets_path() -> Path:
    """`BUDGETS_PATH`, default `budgets.yaml` at the repo root; relative to the repo root."""
    raw = os.environ.get("BUDGETS_PATH")
    path = Path(raw) if raw else paths.REPO_ROOT / "budgets.yaml"
    return path if path.is_absolute() else (paths.REPO_ROOT / path).resolve()


def load_budgets(path: Path | None = None) -> list[Budget]:
    """The budgets of the file; an absent file means no budgets."""
    path = path or budgets_path()
    if not path.exists():
        return []
    return parse_budgets(path.read_text(encoding="utf-8"), str(path))


def _construct(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_document(node)


def parse_budgets(text: str, source: str = "budgets.yaml") -> list[Budget]:
    """Parse and validate budgets YAML text; raise BudgetConfigError naming the bad line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise BudgetConfigError(f"{where}: not valid YAML: {problem}") from None
    if root is None:
        return []

    def fail(node: yaml.Node, message: str) -> BudgetConfigError:
        return BudgetConfigError(f"{source}:{node.start_mark.line + 1}: {message}")

    if not isinstance(root, yaml.MappingNode):
        raise fail(root, "expected a mapping with a `budgets:` list at the top")
    entries_node = None
    for key_node, value_node in root.value:
        key = _construct(key_node)
        if key != "budgets":
            raise fail(key_node, f"unknown top-level key {key!r}: only `budgets:` is allowed")
        entries_node = value_node
    if entries_node is None or _construct(entries_node) is None:
        return []
    if not isinstance(entries_node, yaml.SequenceNode):
        raise fail(entries_node, "`budgets:` must be a list of budgets (items start with `- `)")

    budgets: list[Budget] = []
    seen: dict[str, int] = {}
    for entry in entries_node.value:
        budget = _parse_entry(entry, fail)
        if budget.budget_name in seen:
            raise fail(
                entry,
                f"budget name {budget.budget_name!r} is already used on line "
                f"{seen[budget.budget_name]}: names must be unique",
            )
        seen[budget.budget_name] = budget.source_line
        budgets.append(budget)
    return budgets


def _parse_entry(entry: yaml.Node, fail: Any) -> Budget:
    line = entry.start_mark.line + 1
    if not isinstance(entry, yaml.MappingNode):
        raise fail(entry, "each budget must be a mapping (name:, scope:, period:, limit_usd:, ...)")
    fields: dict[str, Any] = {}
    nodes: dict[str, yaml.Node] = {}
    for key_node, value_node in entry.value:
        key = _construct(key_node)
        if key not in _KEYS:
            raise fail(key_node, f"unknown field {key!r}; allowed: {', '.join(_KEYS)}")
        fields[key] = _construct(value_node)
        nodes[key] = value_node

    def text(key: str, required: bool = True) -> str | None:
        value = fields.get(key)
        if value is None:
            if required:
                raise fail(entry, f"budget is missing `{key}:`")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise fail(nodes[key], f"`{key}` must be a non-empty text, got {value!r}")
        return str(value).strip()

    def choice(key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = text(key, required=default is None) or default
        assert value is not None
        if value not in allowed:
            raise fail(nodes[key], f"`{key}: {value}` is not one of {', '.join(allowed)}")
        return value

    def number(key: str, default: float | None = None) -> float:
        value = fields.get(key)
        if value is None:
            if default is None:
                raise fail(entry, f"budget is missing `{key}:`")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(nodes[key], f"`{key}` must be a number, got {value!r}")
        return float(value)

    name = text("name")
    assert name is not None
    scope = choice("scope", SCOPES)
    period = choice("period", PERIODS)
    basis = choice("basis", BASES, DEFAULT_BASIS)
    limit = number("limit_usd")
    if not limit > 0:
        raise fail(nodes["limit_usd"], f"`limit_usd` must be above 0, got {fields['limit_usd']!r}")
    warn = number("warn_percent", DEFAULT_WARN_PERCENT)
    if not 0 < warn <= 100:
        raise fail(
            nodes["warn_percent"],
            f"`warn_percent` must be in (0, 100] (a percentage of the limit), got {warn:g}",
        )
    for other in SCOPES[1:]:
        if other != scope and other in fields:
            raise fail(nodes[other], f"`{other}:` does not apply to a budget with scope {scope}")
    organization = text("organization", required=False)
    if scope == "organization":
        match = organization
    else:
        match = text(scope, required=False)
        if match is None:
            raise fail(entry, f"budget {name!r} has scope {scope}: add `{scope}: <id or name>`")
    return Budget(
        budget_name=name,
        organization=organization,
        scope_type=scope,
        scope_match=match,
        period=period,
        limit_usd=limit,
        warn_percent=warn,
        basis=basis,
        source_line=line,
    )

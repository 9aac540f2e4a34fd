"""Non-secret configuration from the environment, validated once.

The variables are the interface contract in docs/architecture.md.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.openai_admin import settings as api
from warehouse import location, paths


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the variable and the fix."""


DEFAULT_ORGANIZATION = "default"
DEFAULT_KEY_VARIABLE = "OPENAI_ADMIN_KEY"
DEFAULT_RUN_RETENTION_DAYS = 30
_ORG_NAME = re.compile(r"[a-z0-9_-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Organization:
    """A configured organization: the name every row carries, and the variable holding its key."""

    name: str
    key_variable: str


def parse_organizations(text: str | None) -> tuple[Organization, ...]:
    """`OPENAI_ORGANIZATIONS="acme=OPENAI_ADMIN_KEY_ACME,labs=OPENAI_ADMIN_KEY_LABS"`.

    Unset or blank means one organization, `default`, keyed by `OPENAI_ADMIN_KEY`.
    """
    if text is None or not text.strip():
        return (Organization(DEFAULT_ORGANIZATION, DEFAULT_KEY_VARIABLE),)
    organizations: list[Organization] = []
    for part in text.split(","):
        name, sep, variable = (p.strip() for p in part.partition("="))
        if not sep or not name or not variable:
            raise ConfigError(
                f"OPENAI_ORGANIZATIONS entry {part.strip()!r} is not name=ENV_VAR, "
                "e.g. OPENAI_ORGANIZATIONS=acme=OPENAI_ADMIN_KEY_ACME,labs=OPENAI_ADMIN_KEY_LABS."
            )
        if not _ORG_NAME.fullmatch(name):
            raise ConfigError(
                f"OPENAI_ORGANIZATIONS name {name!r} is not valid: use lowercase letters, digits, "
                "'_' and '-'."
            )
        if not _ENV_NAME.fullmatch(variable):
            raise ConfigError(
                f"OPENAI_ORGANIZATIONS: {variable!r} (for {name}) is not an environment variable "
                "name; give the name of the variable holding the key, not the key."
            )
        if any(o.name == name for o in organizations):
            raise ConfigError(f"OPENAI_ORGANIZATIONS names organization {name!r} twice.")
        organizations.append(Organization(name, variable))
    return tuple(organizations)


def usage_start_date() -> dt.date:
    """`USAGE_START_DATE`: the first day loaded, which is the first daily partition."""
    text = os.environ.get("USAGE_START_DATE", "2024-01-01")
    try:
        start = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"USAGE_START_DATE={text!r} is not a date: use YYYY-MM-DD.") from None
    if start > dt.datetime.now(dt.UTC).date():
        raise ConfigError(f"USAGE_START_DATE={text} is in the future.")
    return start


@dataclass(frozen=True)
class Settings:
    base_url: str
    warehouse_path: Path
    usage_start_date: dt.date
    bucket_width: str
    organizations: tuple[Organization, ...] = (
        Organization(DEFAULT_ORGANIZATION, DEFAULT_KEY_VARIABLE),
    )
    requests_per_second: float | None = api.REQUESTS_PER_SECOND
    legacy_usage: bool = False
    # `WAREHOUSE_URL`: a Postgres warehouse instead of the DuckDB file (its repr has no password)
    warehouse_url: location.PostgresUrl | None = None
    # `RUN_RETENTION_DAYS`: how long Dagster keeps the record of a finished run (0: for good)
    run_retention_days: int = DEFAULT_RUN_RETENTION_DAYS

    @property
    def warehouse(self) -> location.Warehouse:
        """The working warehouse: the Postgres database when configured, else the DuckDB file."""
        return self.warehouse_url or self.warehouse_path

    def dbt_environment(self) -> dict[str, str | None]:
        """The variables dbt's profile reads (profiles.yml) for this warehouse: its absolute
        path, and the target and connection of a Postgres warehouse (None: unset it)."""
        return {
            "WAREHOUSE_PATH": str(self.warehouse_path),
            **location.dbt_environment(self.warehouse_url),
        }

    @classmethod
    def from_env(cls) -> Settings:
        width = os.environ.get("USAGE_BUCKET_WIDTH", "1d")
        if width not in api.BUCKET_SECONDS:
            raise ConfigError(
                f"USAGE_BUCKET_WIDTH={width!r} is not a bucket width: use 1d, 1h or 1m."
            )
        start = usage_start_date()
        rate = parse_request_rate(os.environ.get("OPENAI_REQUESTS_PER_SECOND"))
        legacy = parse_flag("OPENAI_LEGACY_USAGE", os.environ.get("OPENAI_LEGACY_USAGE"))
        retention = parse_retention_days(os.environ.get("RUN_RETENTION_DAYS"))
        try:
            url = location.postgres_url()
        except location.WarehouseUrlError as exc:
            raise ConfigError(str(exc)) from None
        warehouse = paths.warehouse_path()
        return cls(
            base_url=os.environ.get("OPENAI_BASE_URL", api.DEFAULT_BASE_URL),
            warehouse_path=warehouse,
            usage_start_date=start,
            bucket_width=width,
            organizations=parse_organizations(os.environ.get("OPENAI_ORGANIZATIONS")),
            requests_per_second=rate,
            legacy_usage=legacy,
            warehouse_url=url,
            run_retention_days=retention,
        )


def parse_request_rate(text: str | None) -> float | None:
    """`OPENAI_REQUESTS_PER_SECOND`: the request budget every endpoint of a run shares.

    Unset: the default; `0` or `unlimited`: no client-side pacing (the API's 429s still slow us).
    """
    if text is None or not text.strip():
        return api.REQUESTS_PER_SECOND
    if text.strip().lower() in ("0", "unlimited"):
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise ConfigError(
            f"OPENAI_REQUESTS_PER_SECOND={text!r} is not a rate: give requests per second, "
            "e.g. 5 or 0.5, or 0 for no client-side limit."
        )
    return rate


def parse_retention_days(text: str | None) -> int:
    """`RUN_RETENTION_DAYS`: finished runs older than this many days are deleted from Dagster's
    storage (assets/retention.py). Unset: 30; `0` keeps every run."""
    if text is None or not text.strip():
        return DEFAULT_RUN_RETENTION_DAYS
    try:
        days = int(text.strip())
    except ValueError:
        days = -1
    if days < 0:
        raise ConfigError(
            f"RUN_RETENTION_DAYS={text!r} is not a number of days: give a whole number such as "
            "30, or 0 to keep every run."
        )
    return days


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def parse_flag(name: str, text: str | None) -> bool:
    """An on/off variable; anything but the usual spellings is an error, not a silent off."""
    value = (text or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={text!r} is not on or off: use 1/true or 0/false.")

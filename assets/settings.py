"""Non-secret configuration from the environment (DESIGN.md interface contract), validated once."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.openai_admin import settings as api
from warehouse import paths


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    base_url: str
    warehouse_path: Path
    usage_start_date: dt.date
    bucket_width: str

    @classmethod
    def from_env(cls) -> Settings:
        width = os.environ.get("USAGE_BUCKET_WIDTH", "1d")
        if width not in api.BUCKET_SECONDS:
            raise ConfigError(
                f"USAGE_BUCKET_WIDTH={width!r} is not a bucket width: use 1d, 1h or 1m."
            )
        start_text = os.environ.get("USAGE_START_DATE", "2024-01-01")
        try:
            start = dt.date.fromisoformat(start_text)
        except ValueError:
            raise ConfigError(
                f"USAGE_START_DATE={start_text!r} is not a date: use YYYY-MM-DD."
            ) from None
        if start > dt.datetime.now(dt.UTC).date():
            raise ConfigError(f"USAGE_START_DATE={start_text} is in the future.")
        warehouse = paths.warehouse_path()
        # dbt reads the same variable (profiles.yml); make it the same absolute path.
        os.environ["WAREHOUSE_PATH"] = str(warehouse)
        return cls(
            base_url=os.environ.get("OPENAI_BASE_URL", api.DEFAULT_BASE_URL),
            warehouse_path=warehouse,
            usage_start_date=start,
            bucket_width=width,
        )

"""The Dagster instance at `DAGSTER_HOME`, opened safely when several processes start at once.

Dagster creates its SQLite storages (runs, event log index, schedules) on first use without a
lock between processes: two runs started together on a new `DAGSTER_HOME` (a cron'd backfill and
`make dev`, or the reliability suite's overlapping runs) can stamp the schema version twice, and
from then on every process fails with alembic's "more than one head present". Measured here: 10 of
10 four-process starts on a fresh home. Every entry point opens the instance through
`dagster_instance()`, which creates the storages under an exclusive file lock in `DAGSTER_HOME`;
once they exist the lock is held for milliseconds.

Which storage: `DAGSTER_POSTGRES_URL` set puts runs, event logs and schedules in Postgres through
dagster-postgres' own configuration (`storage: postgres: postgres_url: {env: ...}`); unset, they
stay in SQLite files in `DAGSTER_HOME`. A dagster.yaml cannot say "if set", so the entry points
(`make install`, `make dev`, `make backfill`, `make demo`) write the one that matches into
`DAGSTER_HOME` before opening the instance: the settings of `.dagster_home/dagster.yaml` (written
once, there), plus the storage block when the variable is set. A dagster.yaml edited by hand is
left alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from warehouse.locks import exclusive

if TYPE_CHECKING:
    import dagster as dg

LOCK_FILE = ".openai_usage_warehouse.instance.lock"
CONFIG_FILE = "dagster.yaml"
# The instance settings every home gets (pools, run monitoring, telemetry), written once.
SETTINGS_TEMPLATE = Path(__file__).resolve().parents[1] / ".dagster_home" / CONFIG_FILE
URL_VARIABLE = "DAGSTER_POSTGRES_URL"
POSTGRES_STORAGE = f"""
# Runs, event logs and schedules in Postgres ({URL_VARIABLE}); written by scripts/instance.py
# because {URL_VARIABLE} is set. Unset it and this file goes back to SQLite storage.
storage:
  postgres:
    postgres_url:
      env: {URL_VARIABLE}
"""


class InstanceConfigError(ValueError):
    """The Dagster instance cannot be configured as asked; the message says what to change."""


# dagster-postgres talks to Postgres through psycopg2; SQLAlchemy 2.1 opens a plain
# `postgresql://` URL with psycopg 3 instead, which dagster-postgres' statements fail on.
SQLALCHEMY_SCHEME = "postgresql+psycopg2"


def storage_url(text: str | None) -> str | None:
    """`DAGSTER_POSTGRES_URL` as dagster-postgres opens it (`postgresql+psycopg2://...`), or
    None when unset. A value that is not a Postgres URL is an error, never a silent SQLite."""
    if text is None or not text.strip():
        return None
    try:
        parts = urlsplit(text.strip())
        valid = parts.scheme in ("postgresql", "postgres", SQLALCHEMY_SCHEME) and bool(
            parts.hostname
        )
    except ValueError:
        valid = False
    if not valid:
        raise InstanceConfigError(
            f"{URL_VARIABLE} is not a Postgres URL: use "
            "postgresql://user:password@host:5432/dbname, or unset it for SQLite storage in "
            "DAGSTER_HOME."
        )
    return urlunsplit(parts._replace(scheme=SQLALCHEMY_SCHEME))


def use_storage_url() -> bool:
    """Resolve `DAGSTER_POSTGRES_URL` for this process and the ones it starts (the webserver,
    the daemon, run workers read it from their environment); whether Postgres storage is on."""
    url = storage_url(os.environ.get(URL_VARIABLE))
    if url is not None:
        os.environ[URL_VARIABLE] = url
    return url is not None


def instance_config(postgres: bool, settings: str) -> str:
    """dagster.yaml for a home: the shared `settings`, plus Postgres storage when asked."""
    return settings + POSTGRES_STORAGE if postgres else settings


def prepare_home(home: Path, postgres: bool, template: Path = SETTINGS_TEMPLATE) -> None:
    """Write `home/dagster.yaml` for the storage asked for, unless it is already right.

    A file that is neither variant (edited by hand) is kept; if Postgres storage was asked for
    and it does not configure it, that is an error naming the block to add.
    """
    target = home / CONFIG_FILE
    settings = template.read_text()
    wanted = instance_config(postgres, settings)
    current = target.read_text() if target.exists() else None
    if current == wanted:
        return
    if target.resolve() == template.resolve():
        if postgres:
            raise InstanceConfigError(
                f"DAGSTER_HOME is {home}, whose {CONFIG_FILE} holds the shared settings for "
                f"SQLite storage; with {URL_VARIABLE} set, point DAGSTER_HOME at another folder "
                "(make uses .dagster_home/postgres)."
            )
        return
    ours = (None, instance_config(True, settings), instance_config(False, settings))
    if current in ours:
        home.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{CONFIG_FILE}.{os.getpid()}.tmp")
        staged.write_text(wanted)
        staged.replace(target)
    elif postgres and URL_VARIABLE not in current:
        raise InstanceConfigError(
            f"{target} was edited by hand and does not use {URL_VARIABLE}: add"
            f"{POSTGRES_STORAGE}to it, or use another DAGSTER_HOME."
        )


def dagster_instance() -> dg.DagsterInstance:
    """`DagsterInstance.get()` on a prepared home, its storages created by one process at a
    time."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        # Dagster's own error says to set DAGSTER_HOME; there is no shared home to race on.
        return dg.DagsterInstance.get()
    postgres = use_storage_url()
    with exclusive(Path(home) / LOCK_FILE):
        prepare_home(Path(home), postgres)
        # Building the instance builds its storages (and their SQLite schemas) there and then.
        return dg.DagsterInstance.get()


def main() -> int:
    """`make install` (`python -m scripts.instance`): write DAGSTER_HOME's dagster.yaml for the
    storage asked for."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        print("error: DAGSTER_HOME is not set.", file=sys.stderr)
        return 2
    try:
        postgres = use_storage_url()
        with exclusive(Path(home) / LOCK_FILE):
            prepare_home(Path(home), postgres)
    except InstanceConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

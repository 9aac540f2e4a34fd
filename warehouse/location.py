"""Where the warehouse is: the working DuckDB file, or a Postgres database (`WAREHOUSE_URL`).

`WAREHOUSE_URL=postgresql://user:password@host:port/dbname` moves raw data and marts to Postgres;
unset, the warehouse is the DuckDB file at `WAREHOUSE_PATH` as before. The URL holds a password:
it is parsed once here into a `PostgresUrl` whose `repr` and `masked()` form leave it out, and
every error about the URL quotes the masked form.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

URL_VARIABLE = "WAREHOUSE_URL"
DEFAULT_PORT = 5432
SCHEMES = ("postgresql", "postgres")
# Connection options dbt-postgres takes as well as psycopg2; anything else would reach the loader
# but not dbt, so it is refused rather than half applied.
OPTIONS = ("sslmode",)


class WarehouseUrlError(ValueError):
    """`WAREHOUSE_URL` cannot be used; the message names the fix and never the password."""


@dataclass(frozen=True)
class PostgresUrl:
    """A Postgres database to use as the warehouse."""

    host: str
    port: int
    dbname: str
    user: str
    password: str | None = field(default=None, repr=False)
    options: tuple[tuple[str, str], ...] = ()

    def masked(self) -> str:
        """The URL as it can be shown: the password replaced by `***`."""
        return self._url("***" if self.password is not None else None)

    def secret_url(self) -> str:
        """The full URL, password included, for the loader and the readers only."""
        return self._url(quote(self.password, safe="") if self.password is not None else None)

    def _url(self, password: str | None) -> str:
        auth = quote(self.user, safe="") + (f":{password}" if password is not None else "")
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in self.options)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{auth}@{host}:{self.port}/{quote(self.dbname, safe='')}" + (
            f"?{query}" if query else ""
        )

    def state_name(self) -> str:
        """A file name for this database's local tool state (no credentials in it)."""
        text = f"postgres_{self.host}_{self.port}_{self.dbname}"
        return "".join(c if c.isalnum() or c in "_-" else "_" for c in text)


def mask(text: str, url: PostgresUrl | None) -> str:
    """`text` with the URL's password (raw and URL-encoded) replaced by `***`."""
    if url is None or not url.password:
        return text
    for secret in {url.password, quote(url.password, safe="")}:
        text = text.replace(secret, "***")
    return text


def mask_password_of(url_text: str | None, text: str) -> str:
    """`text` with the password of the URL `url_text` (if it has one) replaced by `***`."""
    try:
        password = urlsplit(url_text or "").password
    except ValueError:
        password = None
    if not password:
        return text
    for secret in {password, unquote(password)}:
        text = text.replace(secret, "***")
    return text


def parse_postgres_url(text: str, variable: str = URL_VARIABLE) -> PostgresUrl:
    """Parse `postgresql://user:password@host:port/dbname[?sslmode=...]`."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise WarehouseUrlError(
            f"{variable} is not a URL: use postgresql://user:password@host:5432/dbname "
            "(percent-encode special characters in the user and password)."
        ) from None
    hint = "use postgresql://user:password@host:5432/dbname"
    if parts.scheme not in SCHEMES:
        shown = parts.scheme or text.strip().split(":", 1)[0]
        raise WarehouseUrlError(
            f"{variable} scheme {shown!r} is not supported: {hint}, or unset {variable} to keep "
            "the DuckDB file at WAREHOUSE_PATH."
        )
    url = PostgresUrl(
        host=parts.hostname or "",
        port=port or DEFAULT_PORT,
        dbname=unquote(parts.path.lstrip("/")),
        user=unquote(parts.username or ""),
        password=unquote(parts.password) if parts.password is not None else None,
    )
    options = tuple(parse_qsl(parts.query, keep_blank_values=True))
    missing = [name for name in ("host", "dbname", "user") if not getattr(url, name)]
    if missing:
        raise WarehouseUrlError(f"{variable}={url.masked()} has no {' or '.join(missing)}: {hint}.")
    unknown = sorted({k for k, _ in options} - set(OPTIONS))
    if unknown:
        raise WarehouseUrlError(
            f"{variable} option(s) {', '.join(unknown)} are not supported "
            f"(supported: {', '.join(OPTIONS)})."
        )
    return replace(url, options=options)


def postgres_url() -> PostgresUrl | None:
    """The Postgres warehouse of `WAREHOUSE_URL`, or None for the DuckDB file."""
    text = os.environ.get(URL_VARIABLE, "")
    return parse_postgres_url(text) if text.strip() else None


Warehouse = Path | PostgresUrl
"""The working warehouse: a DuckDB file, or a Postgres database."""


def describe(warehouse: Warehouse) -> str:
    """How logs and metadata name the warehouse (never with a password)."""
    return warehouse.masked() if isinstance(warehouse, PostgresUrl) else str(warehouse)


# dbt reads its connection from the environment (dbt_models/profiles.yml). The password goes in
# a DBT_ENV_SECRET_ variable, which dbt scrubs from its logs and error messages.
DBT_TARGET_VARIABLE = "WAREHOUSE_DBT_TARGET"
DBT_POSTGRES_VARIABLES = {
    "host": "WAREHOUSE_PG_HOST",
    "port": "WAREHOUSE_PG_PORT",
    "dbname": "WAREHOUSE_PG_DBNAME",
    "user": "WAREHOUSE_PG_USER",
    "password": "DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD",
    "sslmode": "WAREHOUSE_PG_SSLMODE",
}


def dbt_environment(url: PostgresUrl | None) -> dict[str, str | None]:
    """The variables dbt's profile reads for this warehouse (None: unset the variable)."""
    if url is None:
        return {DBT_TARGET_VARIABLE: "duckdb", **dict.fromkeys(DBT_POSTGRES_VARIABLES.values())}
    options = dict(url.options)
    values = {
        "host": url.host,
        "port": str(url.port),
        "dbname": url.dbname,
        "user": url.user,
        "password": url.password or "",
        "sslmode": options.get("sslmode", "prefer"),
    }
    return {
        DBT_TARGET_VARIABLE: "postgres",
        **{DBT_POSTGRES_VARIABLES[k]: v for k, v in values.items()},
    }

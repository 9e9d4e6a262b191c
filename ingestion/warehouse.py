"""Where the warehouse is, and how to reach it.

`WAREHOUSE_URL` (a libpq URL) points at a real PostgreSQL server. Without it the
project starts an embedded PostgreSQL 16 (pgserver) under `.data/pg`, once, and
reuses it, so `make run` and `make test` need nothing installed on the machine.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse, urlunparse

import psycopg

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PCTN_DATA_DIR", REPO_ROOT / ".data"))
EMBEDDED_DB = "pctn"


def embedded_server_url(data_dir: Path | None = None, database: str = EMBEDDED_DB) -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to `database` in it."""
    pgdata = (data_dir or DATA_DIR) / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here
        warnings.simplefilter("ignore")
        import pgserver  # local import: only the embedded path needs it

        server = pgserver.get_server(str(pgdata), cleanup_mode=None)
    admin_url = server.get_uri()
    ensure_database(admin_url, database)
    return with_database(admin_url, database)


def warehouse_url() -> str:
    """The warehouse URL: `WAREHOUSE_URL` if set, else the embedded server."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        return url
    return embedded_server_url()


def with_database(url: str, database: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{database}"))


def ensure_database(admin_url: str, database: str) -> None:
    """Create `database` on the server of `admin_url` if it does not exist."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'create database "{database}"')


def connect(url: str | None = None, **kwargs: object) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)


def libpq_params(url: str) -> dict[str, str]:
    """Split a URL into host/port/user/password/dbname (dbt's profile wants them apart)."""
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return {
        "host": query.get("host") or parts.hostname or "localhost",
        "port": str(query.get("port") or parts.port or 5432),
        "user": unquote(parts.username or query.get("user") or "postgres"),
        "password": unquote(parts.password or query.get("password") or ""),
        "dbname": (parts.path or "/postgres").lstrip("/") or "postgres",
    }


def dbt_env(url: str) -> dict[str, str]:
    """Environment variables read by `dbt_project/profiles.yml`."""
    p = libpq_params(url)
    return {
        "PCTN_DB_HOST": p["host"],
        "PCTN_DB_PORT": p["port"],
        "PCTN_DB_USER": p["user"],
        "PCTN_DB_PASSWORD": p["password"],
        "PCTN_DB_NAME": p["dbname"],
    }

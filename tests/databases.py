"""The databases tests make, and their end: every one made in a session is dropped at its end.

On the shared server (CI's second pass, 127.0.0.1:5432) a kept database per test adds up to
a gigabyte a run, and a database a later session finds means nothing to it. Fixtures still
drop theirs as soon as they are done; what a test keeps for a later test of the session (the
sample warehouse, the clones the extract tests make) or forgets is dropped by
`drop_made_databases`, which tests/conftest.py calls when the session finishes.

One module, imported by the conftest and by tests (`from tests.conftest import ...` re-exports
these), so there is one list of what was made.
"""

from __future__ import annotations

import os
import uuid

import psycopg

from ingestion.platform.warehouse import embedded_server_url, ensure_database, libpq_params, with_database
from ingestion.settings import settings

MADE: list[str] = []


def _fresh_database_url(prefix: str) -> str:
    """A new database on WAREHOUSE_URL's server, or on the embedded one under the data dir's `test/`."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    server_url = os.environ.get("WAREHOUSE_URL")
    if server_url:
        ensure_database(server_url, name)
        url = with_database(server_url, name)
    else:
        url = embedded_server_url(settings().data_dir / "test", database=name)
    MADE.append(url)
    return url


def drop_database(url: str) -> None:
    """Drop a database a test made (on the server or the embedded one)."""
    name = libpq_params(url)["dbname"]
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def drop_made_databases() -> list[str]:
    """Drop what this session made and did not drop already; the names it could not drop."""
    left = []
    while MADE:
        url = MADE.pop()
        try:
            drop_database(url)
        except psycopg.Error:
            left.append(libpq_params(url)["dbname"])
    return left

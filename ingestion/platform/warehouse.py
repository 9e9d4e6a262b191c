"""Where the warehouse is, and how to reach it.

`WAREHOUSE_URL` (a libpq URL) points at a real PostgreSQL server. Without it the
project starts an embedded PostgreSQL 16 (pgserver) under `.data/pg`, once, and
reuses it, so `make run` and `make test` need nothing installed on the machine.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse, urlunparse

import psycopg

from ingestion.settings import env_name, settings

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

EMBEDDED_DB = "pctn"
PORT_ENV = env_name("pg_port")  # default 55433: compose publishes its warehouse on 55432; this one is the demo's

log = logging.getLogger(__name__)


class WarehouseUnreachable(RuntimeError):
    """The warehouse server does not answer: a one-line message with the fix, for the CLI."""


def embedded_port() -> int:
    """The TCP port of the embedded server on 127.0.0.1 (`PCTN_PG_PORT`; 0 = unix socket only)."""
    return settings().pg_port


def _system_user() -> str | None:
    """pgserver runs PostgreSQL as `pgserver` when started by root (initdb refuses root)."""
    return "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None


def _require_passwords_on_tcp(pgdata: Path) -> None:
    """pgserver's initdb trusts every local connection; over TCP, a password must be given.

    The unix socket (same machine, file permissions) stays `trust` for the
    administrator; 127.0.0.1 asks for SCRAM, so the superuser (no password) cannot
    log in over TCP at all and BI users need theirs.
    """
    hba = pgdata / "pg_hba.conf"
    lines = hba.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = False
    for i, line in enumerate(lines):
        fields = line.split()
        if fields and fields[0] in {"host", "hostssl", "hostnossl"} and fields[-1] == "trust":
            lines[i] = line.replace("trust", "scram-sha-256")
            changed = True
    if changed:
        hba.write_text("".join(lines), encoding="utf-8")  # in place: owner and mode stay pgserver's


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listen_on_tcp(server: PostgresServer, pgdata: Path, port: int) -> PostmasterInfo:
    """Make the embedded server also listen on 127.0.0.1:`port`; return its postmaster info.

    pgserver 0.1.4 starts PostgreSQL with `-h ""` (unix socket only) and takes no
    options, and a command-line `-h` beats postgresql.conf; so the server is
    restarted once with `pg_ctl restart -o "-h 127.0.0.1 -p <port> -k <socket dir>"`
    (after pgserver's first start or a reboot), under pgserver's own inter-process lock.
    """
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import, one per binary
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

    with PostgresServer._lock:
        info = PostmasterInfo.read_from_pgdata(pgdata)
        assert info is not None
        if port == 0 or (info.hostname == "127.0.0.1" and info.port == port):
            return info
        if not _port_free(port):
            log.warning(
                "port %s on 127.0.0.1 is in use: the embedded warehouse stays on its unix socket "
                "(set %s to a free port for BI tools)",
                port,
                PORT_ENV,
            )
            return info
        _require_passwords_on_tcp(pgdata)
        options = f"-h 127.0.0.1 -p {port} -k {info.socket_dir}"
        pg_ctl(
            ["-w", "-m", "fast", "-o", options, "-l", str(pgdata / "log"), "restart"],
            pgdata=pgdata,
            user=_system_user(),
            timeout=60,
        )
        info = PostmasterInfo.read_from_pgdata(pgdata)
        assert info is not None and info.is_running()
        server._postmaster_info = info  # pgserver caches the old pid
        return info


def embedded_server_url(data_dir: Path | None = None, database: str = EMBEDDED_DB, *, port: int | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to `database` in it.

    The URL is the administrator's, over the unix socket. The demo server (`.data/pg`)
    also listens on 127.0.0.1:`PCTN_PG_PORT` for BI tools (password required there);
    other data dirs (the tests' servers) stay on their socket unless `port` is given.
    """
    pgdata = ((data_dir or settings().data_dir) / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here
        warnings.simplefilter("ignore")
        import pgserver  # local import: only the embedded path needs it

        server = pgserver.get_server(str(pgdata), cleanup_mode=None)
    wanted = port if port is not None else (embedded_port() if data_dir is None else 0)
    info = _listen_on_tcp(server, pgdata, wanted)
    admin_url = url_from_params(host=str(info.socket_dir), port=info.port, user="postgres", dbname="postgres")
    ensure_database(admin_url, database)
    return with_database(admin_url, database)


def embedded_tcp_port(data_dir: Path | None = None) -> int | None:
    """The 127.0.0.1 port the running embedded server listens on, or None (not running, socket only)."""
    from pgserver.utils import PostmasterInfo

    pgdata = ((data_dir or settings().data_dir) / "pg").resolve()
    if not (pgdata / "postmaster.pid").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.hostname != "127.0.0.1":
        return None
    return info.port


def stop_embedded_server(data_dir: Path | None = None) -> int | None:
    """Stop the embedded PostgreSQL if it runs (`make stop`); return the pid stopped, else None.

    Never starts it: reads `postmaster.pid`, then `pg_ctl stop -m fast`.
    """
    pgdata = ((data_dir or settings().data_dir) / "pg").resolve()
    if not (pgdata / "postmaster.pid").exists():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import, one per binary
        from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_system_user(), timeout=60)
    return info.pid


def describe(url: str) -> str:
    """host:port/dbname of a URL, without user or password (safe to print)."""
    p = libpq_params(url)
    return f"{p['host']}:{p['port']}/{p['dbname']}"


def check_reachable(url: str, timeout: int = 5) -> None:
    """Connect once; raise `WarehouseUnreachable` with a one-line message and the fix."""
    try:
        psycopg.connect(url, connect_timeout=timeout).close()
    except psycopg.OperationalError as exc:
        first = (str(exc).strip().splitlines() or ["no answer"])[-1].strip()
        raise WarehouseUnreachable(
            f"không kết nối được kho dữ liệu / cannot reach the warehouse at {describe(url)}: {first.rstrip('.')} — "
            "fix: start that PostgreSQL server or correct WAREHOUSE_URL (unset it to use the embedded server)."
        ) from exc


def warehouse_url() -> str:
    """The warehouse URL: `WAREHOUSE_URL` if set, else the embedded server."""
    url = settings().warehouse_url
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


def connect(url: str | None = None, **kwargs: Any) -> psycopg.Connection:
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
        "dbname": unquote((parts.path or "/postgres").lstrip("/")) or "postgres",
    }


def url_from_params(
    *,
    host: str | None,
    port: int | str | None = None,
    user: str | None = None,
    password: str | None = None,
    dbname: str = "postgres",
    options: Mapping[str, str] | None = None,
    scheme: str = "postgresql",
) -> str:
    """A libpq URL from its parts: the inverse of `libpq_params`, and the one place URLs are built.

    A host that is a directory (`/tmp/…`, pgserver's and a local server's unix socket) goes
    in the query with the port, as libpq reads it; user, password and database name are
    percent-quoted, so any character survives. `options` are further libpq parameters
    (`sslmode`, …); `scheme` lets SQLAlchemy's `postgresql+psycopg2` share the rules.
    """
    query = dict(options or {})
    netloc = ""
    if user:
        netloc = quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@"
    if host and host.startswith("/"):
        query["host"] = host
        if port:
            query["port"] = str(port)
    elif host:
        netloc += host + (f":{port}" if port else "")
    elif port:
        query["port"] = str(port)
    url = f"{scheme}://{netloc}/{quote(dbname, safe='')}"
    return f"{url}?{urlencode(query, safe='/', quote_via=quote)}" if query else url


def dbt_env(url: str) -> dict[str, str]:
    """Environment variables every dbt run needs: `dbt_project/profiles.yml`'s, and the reference directory.

    When `PCTN_REFERENCE_DIR` is set it is handed on as dbt's `seed-paths` needs it,
    project-relative (`ingestion.reference.dbt_seed_dir`): an absolute seed path makes dbt
    write over the reference's own CSVs. Every caller (the runner, the models DAG, the
    benchmarks) gets it from here.
    """
    from ingestion.reference import REFERENCE_DIR_ENV, dbt_seed_dir

    p = libpq_params(url)
    env = {
        "PCTN_DB_HOST": p["host"],
        "PCTN_DB_PORT": p["port"],
        "PCTN_DB_USER": p["user"],
        "PCTN_DB_PASSWORD": p["password"],
        "PCTN_DB_NAME": p["dbname"],
    }
    if settings().reference_dir is not None:
        env[REFERENCE_DIR_ENV] = dbt_seed_dir()
    return env

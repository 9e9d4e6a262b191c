"""Every environment variable the project reads: read here, once, typed, documented, with its default.

`Settings` is one frozen dataclass; each field names its variable, says in one line what it
does, and holds its default, written nowhere else. The `--help` of every command
(`ingestion.platform.envhelp`) and `python -m ingestion.settings` (the table with the values
in force, secrets masked) are generated from these fields, so a variable cannot be read
without being documented; `tests/test_settings.py` checks that no other module reads a
project variable from `os.environ`.

`settings()` reads the environment each time it is called (a few dozen lookups): values are
never frozen at import, so a test's `monkeypatch.setenv`, the demo key `--demo-key` puts in
the environment, and a child process's own environment are all seen. A value that does not
parse stops the caller with a `ValueError` naming the variable and what it expects.

Variables the project only *writes* stay out of this list: `PCTN_DB_*` (the warehouse URL
split for `dbt_project/profiles.yml`, set by `warehouse.dbt_env`), `GX_ANALYTICS_ENABLED`
and `DBT_SEND_ANONYMOUS_USAGE_STATS` (telemetry off). Standard library only: DAG files
import this at parse time and `--help` must stay instant.
"""

# ruff: noqa: RUF009  (each field's default is `_var(...)`, a dataclasses.field with its documentation)
from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ingestion.paths import DBT_PROJECT_DIR, DBT_TARGET_DIR, REPO_ROOT, SAMPLE_INBOX


class Progress(enum.StrEnum):
    """`PCTN_PROGRESS`: progress bars on a terminal only (`auto`), always, or never."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class ReaderIsolation(enum.StrEnum):
    """`PCTN_READER_ISOLATION`: read each file in a bounded child process, or in this one (tests, profiling)."""

    PROCESS = "process"
    INPROCESS = "inprocess"


DELIVERY_CHANNELS = ("outbox", "sftp", "email")


# ---------------------------------------------------------------- parsers (text -> value)
def _text(name: str, raw: str) -> str:
    return raw


def _path(name: str, raw: str) -> Path:
    return Path(raw)


def _dbt_relative_path(name: str, raw: str) -> Path:
    """A path as dbt resolves `seed-paths`: relative to `dbt_project/`."""
    path = Path(raw)
    return path if path.is_absolute() else (DBT_PROJECT_DIR / path).resolve()


def _whole(name: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw.replace("_", ""))
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc
    if value < minimum:
        raise ValueError(f"{name} must be {'above 0' if minimum == 1 else f'at least {minimum}'}, not {value}")
    return value


def _zero_or_more(name: str, raw: str) -> int:
    return _whole(name, raw, 0)


def _positive(name: str, raw: str) -> int:
    return _whole(name, raw, 1)


def _at_least_one(name: str, raw: str) -> int:
    """A count where 0 or less means 1 (the batch sizes always took it so)."""
    try:
        return max(1, int(raw.replace("_", "")))
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from exc
    if value < 0:
        raise ValueError(f"{name} must be 0 or more seconds, not {value}")
    return value


def _enum(kind: type[enum.StrEnum]) -> Callable[[str, str], enum.StrEnum]:
    def parse(name: str, raw: str) -> enum.StrEnum:
        try:
            return kind(raw.lower())
        except ValueError as exc:
            choices = " | ".join(m.value for m in kind)
            raise ValueError(f"{name} must be one of {choices}, not {raw!r}") from exc

    return parse


def _channels(name: str, raw: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in raw.split(",") if n.strip())
    unknown = [n for n in names if n not in DELIVERY_CHANNELS]
    if unknown:
        raise ValueError(
            f"{name}: kênh không hợp lệ / unknown channel(s) {unknown}; "
            f"expected a comma-separated list of {', '.join(DELIVERY_CHANNELS)}"
        )
    return names


def _addresses(name: str, raw: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in raw.replace(";", ",").split(",") if a.strip())


def _var(
    env: str,
    doc: str,
    default: Any = None,
    parse: Callable[[str, str], Any] = _text,
    *,
    factory: Callable[[], Any] | None = None,
    shown: str | None = None,
    secret: bool = False,
) -> Any:
    """A field read from `env`: `doc` is its line in the help, `shown` its default there when computed."""
    metadata = {"env": env, "doc": doc, "parse": parse, "shown": shown, "secret": secret}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata, repr=not secret)
    return field(default=default, metadata=metadata, repr=not secret)


def _default_workers() -> int:
    return min(os.cpu_count() or 1, 4)


@dataclass(frozen=True)
class Settings:
    """The project's settings; `Settings.from_env()` reads them, `Settings()` is every default."""

    # -- where things are
    warehouse_url: str | None = _var(
        "WAREHOUSE_URL", "libpq URL of the warehouse", shown="the embedded PostgreSQL under .data/pg", secret=True
    )
    data_dir: Path = _var(
        "PCTN_DATA_DIR", "local state: embedded server, demo keys and passwords", REPO_ROOT / ".data", _path
    )
    pg_port: int = _var(
        "PCTN_PG_PORT",
        "TCP port of the embedded server on 127.0.0.1, for BI tools; 0 = socket only",
        55433,
        _zero_or_more,
    )
    returns_inbox: Path = _var("RETURNS_INBOX", "folder of returns to ingest, read only", SAMPLE_INBOX, _path)
    output_dir: Path = _var(
        "PCTN_OUTPUT_DIR",
        "feedback, archive, rejected copies, validation report, extracts",
        REPO_ROOT / "output",
        _path,
    )
    reference_dir: Path | None = _var(
        "PCTN_REFERENCE_DIR",
        "reference directory (seeds) for the intake and dbt, relative to dbt_project/",
        parse=_dbt_relative_path,
        shown="dbt_project/seeds",
    )
    # -- intake
    pseudonym_key: str | None = _var(
        "PCTN_PSEUDONYM_KEY",
        "HMAC key for names of accused/defendants, required; --demo-key makes a local one",
        shown="none",
        secret=True,
    )
    intake_workers: int = _var(
        "PCTN_INTAKE_WORKERS",
        "processes that validate and load files in parallel; 0 or 1: in this process",
        parse=_zero_or_more,
        factory=_default_workers,
        shown="cores, at most 4",
    )
    intake_batch_files: int = _var(
        "PCTN_INTAKE_BATCH_FILES", "files read, then validated together, one GX run per source", 1000, _at_least_one
    )
    intake_batch_rows: int = _var(
        "PCTN_INTAKE_BATCH_ROWS", "a batch is validated once its files hold this many rows", 200_000, _at_least_one
    )
    reader_isolation: ReaderIsolation = _var(
        "PCTN_READER_ISOLATION",
        "process: read each file in a bounded child process; inprocess: in this one, for tests and profiling",
        ReaderIsolation.PROCESS,
        _enum(ReaderIsolation),
    )
    # -- bounds of one return file (ingestion.intake.readers.limits)
    max_file_bytes: int = _var("PCTN_MAX_FILE_BYTES", "bytes of a file as sent", 256 * 1024 * 1024, _positive)
    max_uncompressed_bytes: int = _var(
        "PCTN_MAX_UNCOMPRESSED_BYTES",
        "an xlsx's declared uncompressed size, all parts",
        2 * 1024 * 1024 * 1024,
        _positive,
    )
    max_zip_ratio: int = _var(
        "PCTN_MAX_ZIP_RATIO", "an xlsx part's declared uncompressed/compressed ratio", 200, _positive
    )
    max_rows: int = _var("PCTN_MAX_ROWS", "rows of a table, Excel's own limit", 1_048_576, _positive)
    max_columns: int = _var("PCTN_MAX_COLUMNS", "columns of a table, Excel's own limit", 16_384, _positive)
    max_cells: int = _var("PCTN_MAX_CELLS", "rows x columns of a sheet's declared dimension", 50_000_000, _positive)
    max_cell_chars: int = _var(
        "PCTN_MAX_CELL_CHARS", "characters in one cell; a cell at Excel's 32,767 was cut", 32_766, _positive
    )
    reader_memory_mb: int = _var("PCTN_READER_MEMORY_MB", "address space of the reader process, MB", 4096, _positive)
    reader_timeout_s: int = _var(
        "PCTN_READER_TIMEOUT_S", "wall-clock seconds to read and parse one file", 300, _positive
    )
    # -- models and extract
    marts_lock_timeout_s: float = _var(
        "PCTN_MARTS_LOCK_TIMEOUT",
        "seconds a build or an extract waits for the marts lock; 0: forever",
        3600.0,
        _seconds,
    )
    dbt_invocation_id: str | None = _var(
        "PCTN_DBT_INVOCATION_ID",
        "dbt invocation the extract records",
        shown="the last dbt run in this checkout",
    )
    delivery_channels: tuple[str, ...] = _var(
        "PCTN_DELIVERY_CHANNELS", "extract channels, comma-separated: outbox, sftp, email", ("outbox",), _channels
    )
    outbox_dir: Path | None = _var("PCTN_OUTBOX_DIR", "outbox folder", parse=_path, shown="$PCTN_OUTPUT_DIR/outbox")
    sftp_conn_id: str = _var("PCTN_SFTP_CONN_ID", "Airflow connection of the SFTP channel", "pctn_sftp")
    sftp_dir: str = _var("PCTN_SFTP_DIR", "remote folder on the SFTP server", ".")
    smtp_conn_id: str = _var("PCTN_SMTP_CONN_ID", "Airflow connection of the e-mail channel", "pctn_smtp")
    email_to: tuple[str, ...] = _var(
        "PCTN_EMAIL_TO", "recipients of the extract by e-mail, comma-separated", (), _addresses, shown="none"
    )
    email_from: str | None = _var("PCTN_EMAIL_FROM", "sender of the extract by e-mail", shown="the connection's")
    # -- roles
    bi_password: str | None = _var(
        "PCTN_BI_PASSWORD",
        "password of the read-only BI user pctn_bi",
        shown="make run: a generated demo one",
        secret=True,
    )
    inspectorate_password: str | None = _var(
        "PCTN_INSPECTORATE_PASSWORD",
        "password of the user pctn_inspectorate",
        shown="none: user not created",
        secret=True,
    )
    # -- command line and Airflow
    progress: Progress = _var(
        "PCTN_PROGRESS",
        "progress bars: always | never | auto, only on a terminal",
        Progress.AUTO,
        _enum(Progress),
    )
    airflow_port: int = _var("PCTN_AIRFLOW_PORT", "port of the local Airflow of make up", 8080, _positive)
    dbt_manifest: Path = _var(
        "PCTN_DBT_MANIFEST", "dbt manifest the models DAG renders from", DBT_TARGET_DIR / "manifest.json", _path
    )
    watcher_poke_interval_s: int = _var(
        "PCTN_WATCHER_POKE_INTERVAL", "seconds between a dbt watcher sensor's looks", 5, _positive
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings in `environ`: an unset or blank variable takes its default."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is not None and raw.strip():
                values[f.name] = f.metadata["parse"](f.metadata["env"], raw.strip())
        return cls(**values)

    def outbox(self) -> Path:
        """The outbox folder: `PCTN_OUTBOX_DIR`, else `outbox/` in the output folder."""
        return self.outbox_dir or self.output_dir / "outbox"

    def demo_key_file(self) -> Path:
        """Where `--demo-key` and `make up` keep a local pseudonym key."""
        return self.data_dir / "pseudonym.key"


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings in force now (read from the environment at each call; see the module docstring)."""
    return Settings.from_env(os.environ if environ is None else environ)


def env_name(name: str) -> str:
    """The variable of a `Settings` field: `env_name("output_dir")` is `PCTN_OUTPUT_DIR`."""
    return _FIELDS[name].metadata["env"]


def _shown(value: Any) -> str:
    if isinstance(value, Path):
        return value.relative_to(REPO_ROOT).as_posix() if value.is_relative_to(REPO_ROOT) else str(value)
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    if isinstance(value, int) and value >= 1_000_000:
        return f"{value:_}"
    return str(value)


def documentation() -> dict[str, str]:
    """Each variable's line, its default included: what the `--help` tables and the README point at."""
    defaults = Settings()
    out = {}
    for f in fields(Settings):
        default = f.metadata["shown"] or _shown(getattr(defaults, f.name))
        out[f.metadata["env"]] = f"{f.metadata['doc']} (default: {default})"
    return out


_FIELDS = {f.name: f for f in fields(Settings)}
ENV_NAMES = frozenset(f.metadata["env"] for f in fields(Settings))


def main() -> int:
    """`python -m ingestion.settings`: every variable, its value in force (secrets masked) and its line."""
    current = settings()
    docs = documentation()
    width = max(len(n) for n in ENV_NAMES)
    for f in fields(Settings):
        name = f.metadata["env"]
        value = getattr(current, f.name)
        shown = (
            ("***" if value else "(unset)")
            if f.metadata["secret"]
            else _shown(value)
            if value is not None
            else "(unset)"
        )
        print(f"{name:<{width}}  {shown}\n{'':<{width}}  {docs[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

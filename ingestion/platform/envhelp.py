"""The environment variables each command reads, for its `--help`.

One table, generated from `ingestion.settings` (each variable's line and default are
written there once), so every entry point documents the same names with the same
meaning; a command lists the subset it reads (`epilog(...)`). Light on purpose:
`--help` imports this and nothing that starts a server or a heavy library.
"""

from __future__ import annotations

import argparse

from ingestion.settings import documentation

# Generated from the settings' own fields: a variable the project reads is documented there or nowhere.
VARIABLES: dict[str, str] = documentation()

# What each entry point reads (besides its options); tests/test_settings.py checks that
# together they name every setting.
READER = (
    "PCTN_READER_ISOLATION",
    "PCTN_MAX_FILE_BYTES",
    "PCTN_MAX_UNCOMPRESSED_BYTES",
    "PCTN_MAX_ZIP_RATIO",
    "PCTN_MAX_ROWS",
    "PCTN_MAX_COLUMNS",
    "PCTN_MAX_CELLS",
    "PCTN_MAX_CELL_CHARS",
    "PCTN_READER_MEMORY_MB",
    "PCTN_READER_TIMEOUT_S",
)
DELIVERY = (
    "PCTN_DELIVERY_CHANNELS",
    "PCTN_OUTBOX_DIR",
    "PCTN_SFTP_CONN_ID",
    "PCTN_SFTP_DIR",
    "PCTN_SMTP_CONN_ID",
    "PCTN_EMAIL_TO",
    "PCTN_EMAIL_FROM",
)
INTAKE = (
    "WAREHOUSE_URL",
    "RETURNS_INBOX",
    "PCTN_OUTPUT_DIR",
    "PCTN_PSEUDONYM_KEY",
    "PCTN_INTAKE_WORKERS",
    "PCTN_INTAKE_BATCH_FILES",
    "PCTN_INTAKE_BATCH_ROWS",
    "PCTN_REFERENCE_DIR",
    "PCTN_PROGRESS",
    *READER,
)
INGESTION = (
    "WAREHOUSE_URL",
    "PCTN_DATA_DIR",
    "PCTN_PG_PORT",
    "RETURNS_INBOX",
    "PCTN_OUTPUT_DIR",
    "PCTN_PSEUDONYM_KEY",
    "PCTN_INTAKE_WORKERS",
    "PCTN_INTAKE_BATCH_FILES",
    "PCTN_INTAKE_BATCH_ROWS",
    "PCTN_REFERENCE_DIR",
    "PCTN_MARTS_LOCK_TIMEOUT",
    "PCTN_BI_PASSWORD",
    "PCTN_INSPECTORATE_PASSWORD",
    "PCTN_DBT_INVOCATION_ID",
    *DELIVERY,
    "PCTN_PROGRESS",
    *READER,
)
ROLES = ("WAREHOUSE_URL", "PCTN_DATA_DIR", "PCTN_PG_PORT", "PCTN_BI_PASSWORD", "PCTN_INSPECTORATE_PASSWORD")
EXTRACT = (
    "WAREHOUSE_URL",
    "PCTN_DATA_DIR",
    "PCTN_PG_PORT",
    "PCTN_OUTPUT_DIR",
    "PCTN_MARTS_LOCK_TIMEOUT",
    "PCTN_DBT_INVOCATION_ID",
    *DELIVERY,
)
# `make up`: the Airflow environment it exports, and what its DAGs read at parse and run time
AIRFLOW = (
    "WAREHOUSE_URL",
    "PCTN_DATA_DIR",
    "PCTN_PG_PORT",
    "PCTN_AIRFLOW_PORT",
    "PCTN_PSEUDONYM_KEY",
    "PCTN_DBT_MANIFEST",
    "PCTN_WATCHER_POKE_INTERVAL",
)
ALL_COMMANDS = (INGESTION, INTAKE, ROLES, EXTRACT, AIRFLOW)
EVERY_VARIABLE = "every variable, with the value in force: python -m ingestion.settings"


def epilog(names: tuple[str, ...] | list[str], extra: dict[str, str] | None = None) -> str:
    """The 'environment variables' block of a `--help`."""
    rows = {n: VARIABLES[n] for n in names} | (extra or {})
    if not rows:
        return "biến môi trường / environment variables: none"
    width = max(len(n) for n in rows)
    lines = ["biến môi trường / environment variables:"]
    lines += [f"  {n:<{width}}  {text}" for n, text in rows.items()]
    lines.append(f"  ({EVERY_VARIABLE})")
    return "\n".join(lines)


def parser(
    prog: str, description: str, names: tuple[str, ...] | list[str], **kwargs: object
) -> argparse.ArgumentParser:
    """An ArgumentParser whose help ends with the environment variables the command reads."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=epilog(names, kwargs.pop("extra", None)),  # type: ignore[arg-type]
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,  # type: ignore[arg-type]
    )

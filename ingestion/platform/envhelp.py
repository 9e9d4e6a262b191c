"""The environment variables each command reads, for its `--help`.

One table, so every entry point documents the same names with the same meaning;
a command lists the subset it reads (`epilog(...)`). Light on purpose: `--help`
imports this and nothing that starts a server or a heavy library.
"""

from __future__ import annotations

import argparse

VARIABLES: dict[str, str] = {
    "WAREHOUSE_URL": "libpq URL of the warehouse (default: the embedded PostgreSQL under .data/pg)",
    "PCTN_DATA_DIR": "local state: embedded server, demo keys and passwords (default: .data)",
    "PCTN_PG_PORT": "TCP port of the embedded server on 127.0.0.1, for BI tools (default: 55433; 0 = socket only)",
    "RETURNS_INBOX": "folder of returns to ingest, read only (default: samples/returns)",
    "PCTN_OUTPUT_DIR": "feedback, archive, rejected copies, validation report, extracts (default: output)",
    "PCTN_PSEUDONYM_KEY": "HMAC key for names of accused/defendants (required; --demo-key makes a local one)",
    "PCTN_INTAKE_WORKERS": "processes that validate and load files in parallel (default: cores, at most 4)",
    "PCTN_INTAKE_BATCH_FILES": "files read, then validated together, one GX run per source (default: 1000)",
    "PCTN_INTAKE_BATCH_ROWS": "a batch is validated once its files hold this many rows (default: 200000)",
    "PCTN_REFERENCE_DIR": "reference directory (seeds) for the intake and dbt (default: dbt_project/seeds)",
    "PCTN_MARTS_LOCK_TIMEOUT": "seconds a build or an extract waits for the marts lock (default: 3600; 0: forever)",
    "PCTN_BI_PASSWORD": "password of the read-only BI user pctn_bi (make run: a generated demo one)",
    "PCTN_INSPECTORATE_PASSWORD": "password of the user pctn_inspectorate (none: user not created)",
    "PCTN_DELIVERY_CHANNELS": "extract channels, comma-separated: outbox, sftp, email (default: outbox)",
    "PCTN_OUTBOX_DIR": "outbox folder (default: $PCTN_OUTPUT_DIR/outbox)",
    "PCTN_SFTP_DIR": "remote folder on the SFTP server (connection pctn_sftp)",
    "PCTN_EMAIL_TO": "recipients of the extract by e-mail (connection pctn_smtp)",
    "PCTN_PROGRESS": "progress bars: always | never (default: only on a terminal)",
}

# What each entry point reads (besides its options).
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
    "PCTN_DELIVERY_CHANNELS",
    "PCTN_OUTBOX_DIR",
    "PCTN_PROGRESS",
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
)
ROLES = ("WAREHOUSE_URL", "PCTN_DATA_DIR", "PCTN_PG_PORT", "PCTN_BI_PASSWORD", "PCTN_INSPECTORATE_PASSWORD")
EXTRACT = (
    "WAREHOUSE_URL",
    "PCTN_DATA_DIR",
    "PCTN_PG_PORT",
    "PCTN_OUTPUT_DIR",
    "PCTN_MARTS_LOCK_TIMEOUT",
    "PCTN_DELIVERY_CHANNELS",
    "PCTN_OUTBOX_DIR",
    "PCTN_SFTP_DIR",
    "PCTN_EMAIL_TO",
)


def epilog(names: tuple[str, ...] | list[str], extra: dict[str, str] | None = None) -> str:
    """The 'environment variables' block of a `--help`."""
    rows = {n: VARIABLES[n] for n in names} | (extra or {})
    if not rows:
        return "biến môi trường / environment variables: none"
    width = max(len(n) for n in rows)
    lines = ["biến môi trường / environment variables:"]
    lines += [f"  {n:<{width}}  {text}" for n, text in rows.items()]
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

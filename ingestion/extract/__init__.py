"""Indicator extracts for the provincial Inspectorate, and their delivery.

marts -> `queries` (rows) -> `sheets` (bilingual tables) -> `workbook` (XLSX, the
official document) and `csvs` (one CSV per sheet); for a year or a phase also
`narrative` (sentences) -> `report_docx` (the yearly evaluation draft, DOCX) ->
`manifest` (checksums) -> `store` (bytes in the warehouse, `delivery` schema) ->
`delivery` (outbox, SFTP, email; delivery log).

Building and delivering are separate steps joined only by `extract_id`, so they may run
as two Airflow tasks on different workers: the bytes travel through the warehouse.
Both refuse a period without loaded returns (`guards`): no empty extract is ever sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingestion.extract import csvs, queries, sheets, store
from ingestion.extract.delivery import (
    CHANNELS,
    DeliveryError,
    DeliveryResult,
    configured_channels,
    deliver,
    delivery_log,
)
from ingestion.extract.guards import NoLoadedReturns, reportable_periods, require_loaded_returns
from ingestion.extract.manifest import ExtractFile, build_manifest, render_manifest
from ingestion.extract.queries import ExtractDataError
from ingestion.extract.report_docx import render_report
from ingestion.extract.workbook import BuildInfo, render_workbook
from ingestion.paths import DBT_TARGET_DIR
from ingestion.platform.marts_lock import MartsBusy, MartsIncomplete, marts_read
from ingestion.settings import settings

# Bump when the layout of the files changes, so unchanged marts still give a new extract.
FORMAT_VERSION = "2"
DBT_RUN_RESULTS = DBT_TARGET_DIR / "run_results.json"


def file_stem(period_code: str) -> str:
    return f"pctn_indicators_{period_code}"


def default_folder(period_code: str) -> Path:
    """Where `make run` and `python -m ingestion.extract` write a period: `<PCTN_OUTPUT_DIR>/extract/<period>`."""
    return settings().output_dir / "extract" / period_code


def report_name(period_code: str) -> str:
    """The yearly evaluation draft: `pctn_bao_cao_danh_gia_2025-Y.docx`."""
    return f"pctn_bao_cao_danh_gia_{period_code}.docx"


def _default_dbt_invocation_id() -> str | None:
    """`PCTN_DBT_INVOCATION_ID`, else the last dbt run on this machine, else unknown.

    A DAG should pass the invocation id of its own dbt task explicitly; this fallback
    serves `make run`, where dbt ran just before in the same checkout.
    """
    configured = settings().dbt_invocation_id
    if configured:
        return configured
    try:
        return json.loads(DBT_RUN_RESULTS.read_text(encoding="utf-8"))["metadata"]["invocation_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_marts(url: str, period_code: str) -> queries.MartData:
    """Read every sheet from one snapshot of the marts (repeatable read, read only)."""
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        try:
            return queries.read_marts(conn, period_code)
        finally:
            conn.rollback()


def build_extract(
    url: str,
    period_code: str,
    *,
    built_at: datetime | None = None,
    dbt_invocation_id: str | None = None,
) -> int:
    """Build the extract of `period_code` from the marts, store it, return its `extract_id`.

    The extract is the workbook, one CSV per sheet, for a year (`YYYY-Y`) or a phase
    the yearly evaluation draft (.docx), and the manifest listing them all.

    If an extract of this period was already built from identical mart content (same
    data fingerprint and format version), that extract's id is returned and nothing is
    rebuilt: its files, already perhaps delivered, stay the reference for that state of
    the marts. `built_at` (default: now) and the dbt invocation id are recorded in the
    workbook and the manifest; given the same marts and the same values the bytes are
    identical. A period without any loaded return raises `NoLoadedReturns` before
    anything is read or stored (no empty extract).

    The marts are read under the shared marts lock (`ingestion.platform.marts_lock`): never
    while a build runs (it waits, then `MartsBusy`), never after a failed one
    (`MartsIncomplete`).
    """
    with marts_read(url):
        return _build_extract(url, period_code, built_at=built_at, dbt_invocation_id=dbt_invocation_id)


def _build_extract(url: str, period_code: str, *, built_at: datetime | None, dbt_invocation_id: str | None) -> int:
    require_loaded_returns(url, period_code)
    built = (built_at or datetime.now(UTC)).replace(microsecond=0)
    if built.tzinfo is None:
        built = built.replace(tzinfo=UTC)
    invocation = dbt_invocation_id if dbt_invocation_id is not None else _default_dbt_invocation_id()

    data = _read_marts(url, period_code)
    fingerprint = data.fingerprint(FORMAT_VERSION)
    with psycopg.connect(url, autocommit=True) as conn:
        store.ensure_schema(conn)
        existing = store.find_extract(conn, data.period.code, fingerprint)
        if existing is not None:
            return existing

        tables = sheets.build_tables(data)
        info = BuildInfo(period=data.period, built_at=built, dbt_invocation_id=invocation, content_sha256=fingerprint)
        stem = file_stem(data.period.code)
        workbook = ExtractFile(f"{stem}.xlsx", "workbook", render_workbook(tables, info))
        csv_files = [
            ExtractFile(f"{stem}_{i:02d}_{t.slug}.csv", "csv", csvs.render_csv(t)) for i, t in enumerate(tables, 1)
        ]
        reports = (
            [ExtractFile(report_name(data.period.code), "report", render_report(data, info))]
            if data.period.is_year or data.period.is_phase
            else []
        )
        manifest = build_manifest(info, tables, workbook, csv_files, FORMAT_VERSION, reports)
        manifest_file = ExtractFile(f"{stem}_manifest.json", "manifest", render_manifest(manifest))
        return store.insert_extract(
            conn,
            period_code=data.period.code,
            built_at=built,
            dbt_invocation_id=invocation,
            content_sha256=fingerprint,
            format_version=FORMAT_VERSION,
            manifest=manifest,
            files=[workbook, *reports, *csv_files, manifest_file],
        )


def write_extract(url: str, extract_id: int, out_dir: Path | str) -> Path:
    """Write the stored files of an extract into `out_dir`; return the workbook's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(url, autocommit=True) as conn:
        store.ensure_schema(conn)
        files = store.load_files(conn, extract_id)
    if not files:
        raise LookupError(f"Bản trích xuất {extract_id} không có tệp / extract {extract_id} has no files")
    workbook = None
    for f in files:
        path = out / f.name
        path.write_bytes(f.content)
        if f.role == "workbook":
            workbook = path
    assert workbook is not None
    return workbook


def latest_period(url: str) -> str:
    """The latest reporting period that has indicator values in the marts."""
    with psycopg.connect(url, autocommit=True) as conn:
        code = queries.latest_period_code(conn)
    if code is None:
        raise ExtractDataError("Marts chưa có số liệu chỉ tiêu / the marts have no indicator values yet")
    return code


__all__ = [
    "CHANNELS",
    "FORMAT_VERSION",
    "DeliveryError",
    "DeliveryResult",
    "ExtractDataError",
    "MartsBusy",
    "MartsIncomplete",
    "NoLoadedReturns",
    "build_extract",
    "configured_channels",
    "default_folder",
    "deliver",
    "delivery_log",
    "file_stem",
    "latest_period",
    "report_name",
    "reportable_periods",
    "write_extract",
]

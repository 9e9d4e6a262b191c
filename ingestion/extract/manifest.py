"""The manifest that travels with every extract: what was built, from what, and checksums.

The Inspectorate (or a program on its side) can check that every file arrived whole
by comparing SHA-256 values, and can tell which dbt run and which state of the marts
produced the numbers. The manifest does not list itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from ingestion.extract.sheets import Table
from ingestion.extract.workbook import BuildInfo

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ExtractFile:
    """One built file: its name, role and bytes."""

    name: str
    role: str  # workbook, report (the yearly evaluation draft), csv, manifest
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content)


def build_manifest(
    info: BuildInfo,
    tables: list[Table],
    workbook: ExtractFile,
    csv_files: list[ExtractFile],
    format_version: str,
    reports: list[ExtractFile] | None = None,
) -> dict[str, Any]:
    """The manifest as a dict (see `render_manifest` for the bytes)."""
    p = info.period
    return {
        "manifest_version": MANIFEST_VERSION,
        "format_version": format_version,
        "period": {
            "code": p.code,
            "regime": p.regime,
            "kind": p.kind,
            "report_year": p.report_year,
            "start_date": p.start_date.isoformat(),
            "end_date": p.end_date.isoformat(),
        },
        "built_at": info.built_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "dbt_invocation_id": info.dbt_invocation_id,
        "content_sha256": info.content_sha256,
        "sheets": [
            {"sheet": t.sheet_name, "slug": t.slug, "rows": len(t.rows), "csv": f.name}
            for t, f in zip(tables, csv_files, strict=True)
        ],
        "files": [
            _file_entry(workbook, sum(len(t.rows) for t in tables)),
            *(_file_entry(f, None) for f in reports or []),
            *(_file_entry(f, len(t.rows)) for t, f in zip(tables, csv_files, strict=True)),
        ],
    }


def _file_entry(f: ExtractFile, rows: int | None) -> dict[str, Any]:
    return {"name": f.name, "role": f.role, "bytes": f.size, "sha256": f.sha256, "rows": rows}


def render_manifest(manifest: dict[str, Any]) -> bytes:
    """Stable JSON (sorted keys, UTF-8, trailing newline) so equal manifests have equal bytes."""
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")

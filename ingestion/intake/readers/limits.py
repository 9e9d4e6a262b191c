"""The bounds a return file must stay within before and while it is read.

A return is a few hundred rows; a file far outside that is an accident or an
attack (a zip bomb, a sheet whose only cell sits at `XFD1048576`, a cell of
megabytes). Every bound here is a setting with a documented default, so an
operator with a genuinely large export can raise it without touching code:

| variable | default | what it bounds |
|---|---|---|
| `PCTN_MAX_FILE_BYTES` | 256 MiB | the file as sent |
| `PCTN_MAX_UNCOMPRESSED_BYTES` | 2 GiB | an xlsx's declared uncompressed size, all parts |
| `PCTN_MAX_ZIP_RATIO` | 200 | an xlsx part's declared uncompressed/compressed ratio |
| `PCTN_MAX_ROWS` | 1,048,576 | rows of the table (Excel's own limit) |
| `PCTN_MAX_COLUMNS` | 16,384 | columns of the table (Excel's own limit) |
| `PCTN_MAX_CELLS` | 50,000,000 | rows × columns of a sheet's declared dimension |
| `PCTN_MAX_CELL_CHARS` | 32,766 | characters in one cell (a cell at Excel's 32,767 was cut) |
| `PCTN_READER_MEMORY_MB` | 4,096 | address space of the reader process |
| `PCTN_READER_TIMEOUT_S` | 300 | wall-clock seconds to read and parse one file |

The last two are enforced by `ingestion.intake.readers.isolated`; the others by the
cheap checks in `ingestion.intake.readers.precheck` and by the table reader.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be above 0, not {value}")
    return value


@dataclass(frozen=True)
class ReaderLimits:
    """Bounds for one file; `from_env()` reads the settings above."""

    max_file_bytes: int = 256 * 1024 * 1024
    max_uncompressed_bytes: int = 2 * 1024 * 1024 * 1024
    max_zip_ratio: int = 200
    max_rows: int = EXCEL_MAX_ROWS
    max_columns: int = EXCEL_MAX_COLUMNS
    max_cells: int = 50_000_000
    max_cell_chars: int = EXCEL_MAX_CELL_CHARS - 1
    memory_mb: int = 4096
    timeout_s: int = 300

    @classmethod
    def from_env(cls) -> ReaderLimits:
        d = cls()
        return cls(
            max_file_bytes=_int_env("PCTN_MAX_FILE_BYTES", d.max_file_bytes),
            max_uncompressed_bytes=_int_env("PCTN_MAX_UNCOMPRESSED_BYTES", d.max_uncompressed_bytes),
            max_zip_ratio=_int_env("PCTN_MAX_ZIP_RATIO", d.max_zip_ratio),
            max_rows=_int_env("PCTN_MAX_ROWS", d.max_rows),
            max_columns=_int_env("PCTN_MAX_COLUMNS", d.max_columns),
            max_cells=_int_env("PCTN_MAX_CELLS", d.max_cells),
            max_cell_chars=_int_env("PCTN_MAX_CELL_CHARS", d.max_cell_chars),
            memory_mb=_int_env("PCTN_READER_MEMORY_MB", d.memory_mb),
            timeout_s=_int_env("PCTN_READER_TIMEOUT_S", d.timeout_s),
        )

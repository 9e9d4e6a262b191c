"""The bounds a return file must stay within before and while it is read.

A return is a few hundred rows; a file far outside that is an accident or an
attack (a zip bomb, a sheet whose only cell sits at `XFD1048576`, a cell of
megabytes). Every bound is a setting (`PCTN_MAX_FILE_BYTES`, `PCTN_MAX_ROWS`, …,
`PCTN_READER_MEMORY_MB`, `PCTN_READER_TIMEOUT_S`: `ingestion.settings`, where each is
documented with its default), so an operator with a genuinely large export can raise
it without touching code.

Memory and time are enforced by `ingestion.intake.readers.isolated`; the others by the
cheap checks in `ingestion.intake.readers.precheck` and by the table reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.settings import Settings, settings

EXCEL_MAX_CELL_CHARS = 32_767
_DEFAULTS = Settings()


@dataclass(frozen=True)
class ReaderLimits:
    """Bounds for one file; `from_env()` reads the settings in force, the defaults are the settings' own."""

    max_file_bytes: int = _DEFAULTS.max_file_bytes
    max_uncompressed_bytes: int = _DEFAULTS.max_uncompressed_bytes
    max_zip_ratio: int = _DEFAULTS.max_zip_ratio
    max_rows: int = _DEFAULTS.max_rows
    max_columns: int = _DEFAULTS.max_columns
    max_cells: int = _DEFAULTS.max_cells
    max_cell_chars: int = _DEFAULTS.max_cell_chars
    memory_mb: int = _DEFAULTS.reader_memory_mb
    timeout_s: int = _DEFAULTS.reader_timeout_s

    @classmethod
    def from_env(cls) -> ReaderLimits:
        return cls.from_settings(settings())

    @classmethod
    def from_settings(cls, s: Settings) -> ReaderLimits:
        return cls(
            max_file_bytes=s.max_file_bytes,
            max_uncompressed_bytes=s.max_uncompressed_bytes,
            max_zip_ratio=s.max_zip_ratio,
            max_rows=s.max_rows,
            max_columns=s.max_columns,
            max_cells=s.max_cells,
            max_cell_chars=s.max_cell_chars,
            memory_mb=s.reader_memory_mb,
            timeout_s=s.reader_timeout_s,
        )

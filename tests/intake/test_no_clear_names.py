"""No clear name anywhere: every table, every output file and the logs of a whole run.

`make run`'s own entry point (`python -m ingestion run`) runs on the bundled
sample plus the hostile files that carry names in odd places (a variant header,
an unlisted names column, a quarantined row, a names line after the signatures,
rejected files full of names). Then every text/JSON/array column of every
table, every file under the output folder (workbooks opened part by part) and
the run's log are searched for every clear name written into the inbox,
case-, Unicode-form- and diacritic-insensitively. The search asserts what it
scanned, so it cannot pass by scanning nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

from tests import hostile_files as h
from tests.clear_names import fold, name_pattern, scan_tables
from tests.conftest import REPO, SAMPLES, _fresh_database_url
from tests.returns_factory import DIEUTRA_HEADERS, dieutra_row

pytestmark = pytest.mark.slow

RUN_SCRIPT = (
    "import logging, sys; logging.basicConfig(level=logging.INFO);"
    " from ingestion.cli import main; sys.exit(main(['--demo-key', 'run']))"
)


def _names_after_footer() -> bytes:
    """A dieutra return with one more line of names under the names column, after the signatures."""
    names_col = DIEUTRA_HEADERS.index("Họ tên bị can")
    tail: list[object] = [None] * len(DIEUTRA_HEADERS)
    tail[names_col] = h.CLEAR_NAMES[3]
    signature: list[object] = [None] * len(DIEUTRA_HEADERS)
    signature[1] = "Người lập biểu"
    return h.csv_bytes(DIEUTRA_HEADERS, [dieutra_row(1), dieutra_row(2), signature, tail])


HOSTILE_WITH_NAMES = {
    "dieutra_CA-HUYEN-HOANGHOA_2022-Y.csv": lambda: h.names_under_variant_header("Họ và tên bị can"),
    "thanhtra_TT-HUYEN-HOANGHOA_2022-Y.csv": h.unknown_names_column,
    "dieutra_CA-HUYEN-SAMSON_2022-Y.csv": h.quarantined_row_with_names,
    "dieutra_CA-HUYEN-NGAS0N_2022-Y.csv": _names_after_footer,  # unknown unit: rejected, full of names
    "dieutra_CA-HUYEN-NGASON_2022-Y.csv": _names_after_footer,
    "dieutra_CA-HUYEN-HOANGHOA_2022-9M.csv": lambda: _broken_quote_with_names(),
}


def _broken_quote_with_names() -> bytes:
    text = h.csv_bytes(DIEUTRA_HEADERS, [dieutra_row(i) for i in range(1, 5)]).decode("utf-8")
    lines = text.split("\r\n")
    lines[2] = lines[2].replace("Vụ tham ô", '"Vụ tham ô', 1)
    return "\r\n".join(lines).encode("utf-8")


def _texts(path: Path) -> list[str]:
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as archive:
            return [archive.read(m).decode("utf-8", errors="ignore") for m in archive.namelist()]
    return [data.decode("utf-8", errors="ignore")]


def test_no_clear_name_in_tables_output_files_or_logs(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    for name, build in HOSTILE_WITH_NAMES.items():
        (inbox / name).write_bytes(build())
    names = list(json.loads((SAMPLES.parent / "expected.json").read_text(encoding="utf-8"))["names"])
    names += list(h.CLEAR_NAMES)
    pattern = name_pattern(names)
    url = _fresh_database_url("pctn_names")
    out = tmp_path / "output"
    env = {
        **os.environ,
        "WAREHOUSE_URL": url,
        "RETURNS_INBOX": str(inbox),
        "PCTN_OUTPUT_DIR": str(out),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT], env=env, cwd=REPO, capture_output=True, text=True, timeout=1500
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]

    with psycopg.connect(url) as conn:
        scan = scan_tables(conn, pattern)
        hits = list(scan.hits)
        for required in (
            ("raw", "dieutra_cases"),
            ("audit", "quarantine"),
            ("audit", "skipped_rows"),
            ("marts", "fct_cases"),
        ):
            assert required in scan.tables
        values = scan.values
        loaded_pseudonyms = conn.execute(
            "select count(*) from raw.dieutra_cases where cardinality(accused_names_pseudonyms) > 0"
        ).fetchone()[0]
        rejected = conn.execute("select count(*) from registry.files where status = 'rejected'").fetchone()[0]
    files = [p for p in out.rglob("*") if p.is_file()]
    for path in files:
        hits += [f"file {path.relative_to(out)}" for text in _texts(path) if pattern.search(fold(text))]
    if pattern.search(fold(log)):
        hits.append("the run's log")

    assert not hits, "names in clear:\n" + "\n".join(hits[:40])
    # what was scanned: not nothing
    assert values > 1000 and loaded_pseudonyms > 0 and rejected >= 12
    assert any(p.suffix == ".xlsx" and "feedback" in p.parts for p in files)
    assert any(p.name.endswith(".report.txt") for p in files)
    assert len(log) > 200

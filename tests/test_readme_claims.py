"""README promises that had no test of their own, one test each (real files, real PostgreSQL).

- the inbox is read only: every file's bytes, name and modification time are the same
  after an intake (README, "The inbox");
- a CSV saved as UTF-16 ("Unicode Text") is rejected as `bad_encoding`, with its report
  and feedback (README, "Rejections");
- intake in parallel (`workers=`, `PCTN_INTAKE_WORKERS`) leaves the same registry, raw and
  audit rows as a serial one;
- `dbt build` succeeds on an empty warehouse (the intake's schemas, no file yet);
- the node counts the README states are those of the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import SAMPLES, _fresh_database_url

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
EXPECTED = json.loads((SAMPLES.parent / "expected.json").read_text(encoding="utf-8"))

# A slice of the sample with one file of every kind of outcome: loaded (xlsx and csv, legacy
# encodings), rejected for several reasons (bad_encoding among them), a correction (_v2) and
# the file it supersedes, and the same bytes sent again under resend/.
SLICE = [
    "thanhtra_TT-HUYEN-NGASON_2024-Y.csv",  # bad_encoding (UTF-16)
    "thads_THADS-TINH_2024-6M.xlsx",  # unreadable
    "dieutra_CA-TINH_2024-Q5.xlsx",  # bad_period
    "thanhtra_TT-SO-TAICHINH_2024-Y.xlsx",
    "thanhtra_TT-SO-TAICHINH_2024-Y_v2.xlsx",
    "dieutra_CA-TINH_2024-Q3.xlsx",
    "resend/dieutra_CA-TINH_2024-Q3.xlsx",
]


def _entry(path: str) -> dict:
    (entry,) = [f for f in EXPECTED["files"] if f["path"] == path]
    return entry


def sample_slice(inbox: Path, extra_loaded: int = 6) -> list[str]:
    """Copy SLICE plus `extra_loaded` loaded csv/xlsx files of the sample into `inbox`."""
    loaded = [f["path"] for f in EXPECTED["files"] if f["status"] == "loaded" and "/" not in f["path"]]
    chosen = SLICE + [p for p in loaded if p not in SLICE][:extra_loaded]
    for rel in chosen:
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLES / rel, inbox / rel)
    return chosen


def inbox_state(inbox: Path) -> dict[str, tuple[str, int, int]]:
    """Every file (and folder) of the inbox: SHA-256, size and modification time in ns."""
    return {
        str(p.relative_to(inbox)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir",
            p.stat().st_size if p.is_file() else 0,
            p.stat().st_mtime_ns,
        )
        for p in sorted(inbox.rglob("*"))
    }


def _drop(url: str) -> None:
    from ingestion.platform.warehouse import libpq_params, with_database

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{libpq_params(url)["dbname"]}" with (force)')


def test_the_inbox_is_left_unchanged(tmp_path: Path) -> None:
    from ingestion.intake.pipeline import run_intake

    inbox = tmp_path / "inbox"
    chosen = sample_slice(inbox, extra_loaded=2)
    before = inbox_state(inbox)
    assert len([k for k, v in before.items() if v[0] != "dir"]) == len(chosen)
    url = _fresh_database_url("pctn_inbox")
    try:
        outcomes = run_intake(url, inbox, tmp_path / "out", workers=1)
    finally:
        _drop(url)
    statuses = {o.status for o in outcomes}
    assert {"loaded", "rejected", "superseded", "duplicate"} <= statuses, statuses  # every path ran
    assert inbox_state(inbox) == before  # no file moved, renamed, rewritten or touched; none added


def test_utf16_csv_is_rejected_as_bad_encoding(tmp_path: Path) -> None:
    from ingestion.intake.pipeline import run_intake

    name = SLICE[0]
    assert _entry(name)["reject_code"] == "bad_encoding"
    data = (SAMPLES / name).read_bytes()
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")  # the real bytes: Excel "Unicode Text"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / name).write_bytes(data)
    url = _fresh_database_url("pctn_enc")
    try:
        (outcome,) = run_intake(url, inbox, tmp_path / "out")
        with psycopg.connect(url) as conn:
            status, code, reason_vi, reason_en = conn.execute(
                "select status, reject_code, reject_reason_vi, reject_reason_en from registry.files where file_id = %s",
                (outcome.file_id,),
            ).fetchone()
            feedback = conn.execute(
                "select kind from audit.feedback_files where file_id = %s", (outcome.file_id,)
            ).fetchall()
    finally:
        _drop(url)
    assert (outcome.status, outcome.reject_code) == ("rejected", "bad_encoding")
    assert (status, code) == ("rejected", "bad_encoding")
    assert "UTF-16" in reason_en and "UTF-16" in reason_vi
    assert feedback == [("rejection",)]
    assert list((tmp_path / "out" / "feedback").rglob("*.xlsx"))


# Known difference, not hidden: a return and its correction (_v2) in one parallel intake may
# finish in either order, so the first version's feedback says "accepted" or "accepted, a newer
# version replaces it" depending on which finished first (serially it is always "accepted").
# Its registry status (`superseded`), raw rows and quarantine are the same either way.
SUPERSEDED_OUTCOME = "Đã tiếp nhận (đã có bản thay thế mới hơn) / Accepted (a newer version replaces it)"
ACCEPTED_OUTCOME = "Đã tiếp nhận / Accepted"


def _cells(workbook: bytes, *, superseded: bool = False) -> str:
    """Every sheet's cell values, as text (what the sending unit reads)."""
    import io

    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(workbook))
    text = repr([(name, book.get_sheet_by_name(name).to_python()) for name in book.sheet_names])
    return text.replace(SUPERSEDED_OUTCOME, ACCEPTED_OUTCOME) if superseded else text


VERDICTS = (
    "jsonb_build_object('success', result -> 'success', 'statistics', result -> 'statistics',"
    " 'results', jsonb_path_query_array(result, '$.results[*].success'))"
)


def _contents(url: str) -> dict[str, list[str]]:
    """registry, raw and audit rows as text, sorted; what says *when* or names a run is left out.

    Left out: timestamp columns, the GX run ids (`run_id`, a fresh uuid per validation) and,
    of the stored GX result, everything but its verdicts (success, statistics, each
    expectation's success). The sealed originals are compared unsealed: sealing draws a
    fresh nonce each time. Feedback workbooks are compared by their cells: xlsxwriter stamps
    each file with the time it was written (docProps, zip entries), so their bytes and
    SHA-256 differ between two intakes made at different times.
    """
    from ingestion.intake.pseudonym import pseudonym_key
    from ingestion.intake.sealing import unseal

    out: dict[str, list[str]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('registry', 'raw', 'audit') and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                name
                for name, dtype in conn.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, table),
                )
                if not dtype.startswith("timestamp")
                and name != "run_id"
                and (schema, table, name) != ("registry", "file_contents", "content")
                and not ((schema, table) == ("audit", "feedback_files") and name in ("content", "sha256"))
            ]
            selected = [
                sql.SQL(VERDICTS) if (schema, table, c) == ("audit", "validation_runs", "result") else sql.Identifier(c)
                for c in columns
            ]
            query = sql.SQL("select {} from {}.{}").format(
                sql.SQL(", ").join(selected), sql.Identifier(schema), sql.Identifier(table)
            )
            out[f"{schema}.{table}"] = sorted(repr(row) for row in conn.execute(query))
        out["audit.feedback_files (cells)"] = sorted(
            f"{file_id}:{_cells(bytes(content), superseded=status == 'superseded')}"
            for file_id, content, status in conn.execute(
                "select b.file_id, b.content, f.status"
                " from audit.feedback_files b join registry.files f using (file_id)"
            )
        )
        key = pseudonym_key()
        out["registry.file_contents (unsealed)"] = sorted(
            f"{sha}:{hashlib.sha256(unseal(bytes(content), key)).hexdigest()}"
            for sha, content in conn.execute("select sha256, content from registry.file_contents")
        )
    return out


@pytest.mark.slow  # two intakes of 13 files, one in 2 spawned processes (GX imported in each)
def test_parallel_intake_equals_a_serial_one(tmp_path: Path) -> None:
    from ingestion.intake.pipeline import PARALLEL_MIN_FILES, run_intake

    inbox = tmp_path / "inbox"
    chosen = sample_slice(inbox)
    assert len(chosen) >= PARALLEL_MIN_FILES  # otherwise run_intake would not use the pool
    serial, parallel = _fresh_database_url("pctn_serial"), _fresh_database_url("pctn_par")
    try:
        a = run_intake(serial, inbox, tmp_path / "out_serial", workers=1)
        b = run_intake(parallel, inbox, tmp_path / "out_parallel", workers=2)
        rows_serial, rows_parallel = _contents(serial), _contents(parallel)
    finally:
        _drop(serial)
        _drop(parallel)
    assert [(o.file_name, o.status, o.rows_loaded) for o in a] == [(o.file_name, o.status, o.rows_loaded) for o in b]
    assert sum(len(v) for k, v in rows_serial.items() if k.startswith("raw.")) > 50
    assert set(rows_parallel) == set(rows_serial)
    for table, rows in rows_serial.items():
        only_serial = sorted(set(rows) - set(rows_parallel[table]))[:3]
        only_parallel = sorted(set(rows_parallel[table]) - set(rows))[:3]
        assert rows_parallel[table] == rows, (table, only_serial, only_parallel)


@pytest.mark.slow  # a real `dbt build`
def test_dbt_build_on_an_empty_warehouse(tmp_path: Path) -> None:
    """What `make run` does with an empty inbox: the intake creates its schemas, dbt builds on no rows."""
    from ingestion.intake.pipeline import run_intake
    from ingestion.platform.transform import run_dbt

    empty = tmp_path / "inbox"
    empty.mkdir()
    url = _fresh_database_url("pctn_empty")
    try:
        assert run_intake(url, empty, tmp_path / "out") == []
        results = run_dbt(url, ["build"], target_path=tmp_path / "target")
        with psycopg.connect(url) as conn:
            marts = conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
            values = conn.execute(
                "select count(*) filter (where indicator_code not like 'DQ\\_%%'), count(*)"
                " from marts.fct_indicator_values"
            ).fetchone()
            submissions = conn.execute("select count(*) from marts.fct_return_submissions").fetchone()[0]
            statuses_due = {r[0] for r in conn.execute("select distinct status from marts.fct_return_submissions")}
    finally:
        _drop(url)
    statuses = {str(r.status) for r in results.results}
    assert statuses <= {"success", "pass", "no-op"}, statuses  # no-op: the two exposures
    assert len(results.results) > 100
    assert len(marts) >= 9
    # no return, so no indicator but the chase list's: every return already due (as of today) is missing
    assert values[0] == 0, values
    assert statuses_due <= {"missing"}, statuses_due
    assert (submissions > 0) == (values[1] > 0)


# ---------------------------------------------------------------- node counts in the README
def _manifest_counts(tmp_path: Path) -> dict[str, int]:
    from ingestion.platform.transform import run_dbt

    run_dbt("postgresql://nobody@localhost:1/none", ["parse"], target_path=tmp_path)  # parse never connects
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    kinds = [n["resource_type"] for n in manifest["nodes"].values()]
    return {
        "seeds": kinds.count("seed"),
        "models": kinds.count("model"),
        "data tests": kinds.count("test"),
        "unit tests": len(manifest.get("unit_tests", {})),
        "exposures": len(manifest.get("exposures", {})),
    }


def test_node_counts_in_the_readme_are_the_manifest_s(tmp_path: Path) -> None:
    counts = _manifest_counts(tmp_path)
    text = README.read_text(encoding="utf-8")
    m = re.search(
        r"runs (\d+) nodes: (\d+) seeds, (\d+) models, (\d+) data tests, (\d+) unit tests,\s+(\d+) exposures", text
    )
    assert m, "README (dbt Tests): the sentence with the node counts is gone or reworded"
    total, seeds, models, data_tests, unit_tests, exposures = map(int, m.groups())
    assert {
        "seeds": seeds,
        "models": models,
        "data tests": data_tests,
        "unit tests": unit_tests,
        "exposures": exposures,
    } == counts
    assert total == sum(counts.values())
    for claim in re.findall(r"(\d+) data tests, (\d+) unit tests\)", text):  # the Tests table says it again
        assert tuple(map(int, claim)) == (counts["data tests"], counts["unit tests"])

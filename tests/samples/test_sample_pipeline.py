"""The bundled sample end to end: every file does what `samples/expected.json` says.

`expected.json` is written by the generator from what it put in each file (bad
rows, bad files, duplicates, corrections), independently of the intake code, so
this compares two separate accounts of the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow  # `sample_warehouse`: the whole sample through intake and `dbt build`

EXPECTED = json.loads((SAMPLES.parent / "expected.json").read_text(encoding="utf-8"))


def _outcome_for(outcomes, entry):
    name = Path(entry["path"]).name
    duplicate = entry["status"] == "duplicate"
    for o in outcomes:
        if o.file_name in (entry["path"], name) and (o.status == "duplicate") == duplicate:
            return o
    raise AssertionError(f"no outcome for {entry['path']}")


@pytest.mark.parametrize("entry", EXPECTED["files"], ids=[f["path"] for f in EXPECTED["files"]])
def test_each_sample_file_as_expected(sample_warehouse, entry):
    o = _outcome_for(sample_warehouse.outcomes, entry)
    if entry["status"] == "duplicate":  # nothing is read again: only the receipt is new
        assert (o.status, o.rows_read, o.rows_loaded) == ("duplicate", 0, 0)
        return
    got = (o.status, o.reject_code, o.rows_read, o.rows_skipped, o.rows_quarantined, o.rows_flagged)
    want = tuple(entry[k] for k in ("status", "reject_code", "rows_read", "rows_skipped", "rows_quarantined"))
    assert got == (*want, entry["rows_flagged"]), o.reason_en
    if o.status in ("loaded", "superseded"):
        assert o.rows_read == o.rows_loaded + o.rows_quarantined + o.rows_skipped


def test_nothing_lost_for_any_file(sample_warehouse):
    with psycopg.connect(sample_warehouse.url) as conn:
        bad = conn.execute(
            """
            select f.file_name, f.rows_read, f.rows_loaded, f.rows_quarantined, raw_count, q_rows, s_rows
            from registry.files f
            left join lateral (
                select count(*) as raw_count from (
                    select file_id from raw.thanhtra_inspections union all select file_id from raw.dieutra_cases
                    union all select file_id from raw.truyto_cases union all select file_id from raw.xetxu_cases
                    union all select file_id from raw.thads_matters) r where r.file_id = f.file_id) r on true
            left join lateral (
                select count(distinct row_number) as q_rows from audit.quarantine q
                where q.file_id = f.file_id and q.severity = 'row') q on true
            left join lateral (
                select count(*) as s_rows from audit.skipped_rows s where s.file_id = f.file_id) s on true
            where f.status <> 'rejected'
              and (f.rows_read <> f.rows_loaded + f.rows_quarantined + f.rows_skipped or raw_count <> f.rows_loaded
                   or q_rows <> f.rows_quarantined or s_rows <> f.rows_skipped)
            """
        ).fetchall()
        assert bad == []
        originals = conn.execute(
            "select count(*) from registry.files f join registry.file_contents c using (sha256)"
        ).fetchone()[0]
        assert originals == conn.execute("select count(*) from registry.files").fetchone()[0]


def test_stored_codes_are_members_of_the_enumeration(sample_warehouse):
    """Reject, not-read and rule codes in the registry and the audit are all `Code` values (and some are there)."""
    from ingestion.intake.problems import Code

    with psycopg.connect(sample_warehouse.url) as conn:
        stored = conn.execute(
            """
            select 'registry.files.reject_code', reject_code from registry.files where reject_code is not null
            union select 'registry.receipts.reason_code', reason_code from registry.receipts
              where reason_code is not null
            union select 'audit.quarantine.rule', rule from audit.quarantine
            union select 'audit.validation_results.rule', rule from audit.validation_results
            """
        ).fetchall()
    assert {where for where, _ in stored} >= {"registry.files.reject_code", "audit.quarantine.rule"}
    assert [(where, code) for where, code in stored if code not in Code._value2member_map_] == []


def test_archive_is_byte_for_byte(sample_warehouse):
    import hashlib

    from ingestion.intake.pseudonym import pseudonym_key
    from ingestion.intake.sealing import unseal

    with psycopg.connect(sample_warehouse.url) as conn:
        for sha, size, content in conn.execute("select sha256, size_bytes, content from registry.file_contents"):
            original = unseal(bytes(content), pseudonym_key())
            assert hashlib.sha256(original).hexdigest() == sha and len(original) == size
            assert hashlib.sha256(bytes(content)).hexdigest() != sha  # stored sealed, never in clear
    # originals are never copied out in clear: the output folder holds reports and feedback only
    for entry in EXPECTED["files"]:
        assert not (sample_warehouse.out_dir / "rejected" / Path(entry["path"]).name).exists()
        if entry["status"] == "rejected":
            assert (sample_warehouse.out_dir / "rejected" / (Path(entry["path"]).name + ".report.txt")).exists()
    assert not (sample_warehouse.out_dir / "archive").exists()


def test_second_run_changes_nothing(sample_warehouse):
    from ingestion.intake.pipeline import run_intake

    def counts():
        with psycopg.connect(sample_warehouse.url) as conn:
            return conn.execute(
                "select (select count(*) from registry.files), (select count(*) from raw.dieutra_cases),"
                " (select count(*) from audit.quarantine),"
                " (select string_agg(file_id || status, ',' order by file_id) from registry.files)"
            ).fetchone()

    before = counts()
    again = run_intake(sample_warehouse.url, SAMPLES, sample_warehouse.out_dir)
    assert {o.status for o in again} == {"duplicate"}
    assert counts() == before

"""The bundled sample inbox: deterministic, up to date with its generator, and true to expected.json.

Real files only: the generator writes into tmp_path, the committed sample is read
from `samples/`, CSVs are decoded with the intake's own `decode_bytes`.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from ingestion.contract.sources import SOURCES
from ingestion.intake.readers.encodings import EncodingError, decode_bytes
from ingestion_samples.generate import (
    REJECT_CODES,
    ROW_RULES,
    Options,
    generate,
    main,
    write_big_csv,
    write_big_xlsx,
)
from ingestion_samples.story import load_reference

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
INBOX = SAMPLES / "returns"
NAME = re.compile(r"^(?P<source>[a-z]+)_(?P<unit>[A-Z0-9-]+)_(?P<period>\d{4}-(?:Q[1-4]|6M|9M|Y))(?:_v(?P<v>\d+))?\.")


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for run in ("a", "b"):
        assert main(["--seed", "168", "--years", "2024", "--out", str(tmp_path / run / "returns")]) == 0
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second
    assert any(p.endswith(".xlsx") for p in first) and any(p.endswith(".csv") for p in first)
    other = generate(tmp_path / "c" / "returns", Options(seed=169, first_year=2024, last_year=2024))
    assert digests(tmp_path / "c") != first and other["files"]


def test_committed_sample_is_a_fresh_generation(tmp_path: Path, expected: dict) -> None:
    """If this fails, regenerate: python -m ingestion_samples.generate --seed 168 --out samples/returns"""
    assert expected["seed"] == 168 and expected["years"] == [2023, 2025] and expected["provinces"] == 1
    generate(tmp_path / "returns", Options(seed=168))
    assert digests(tmp_path / "returns") == digests(INBOX)
    assert (tmp_path / "expected.json").read_bytes() == (SAMPLES / "expected.json").read_bytes()


def test_expected_lists_exactly_the_files_present(expected: dict) -> None:
    on_disk = digests(INBOX)
    listed = {f["path"]: f for f in expected["files"]}
    assert set(listed) == set(on_disk)
    for path, f in listed.items():
        assert f["sha256"] == on_disk[path], path
        assert f["bytes"] == (INBOX / path).stat().st_size
    assert expected["totals"]["files"] == len(on_disk)


def test_sample_is_small(expected: dict) -> None:
    assert expected["totals"]["bytes"] < 1_000_000 and len(expected["files"]) < 150


def test_every_reject_code_once_and_the_good_files_are_well_named(expected: dict) -> None:
    ref = load_reference()
    rejected = Counter(f["reject_code"] for f in expected["files"] if f["status"] == "rejected")
    assert set(rejected) == set(REJECT_CODES)
    for f in expected["files"]:
        if f["status"] == "rejected":
            assert f["rows_read"] == 0 and f["reason"]
            continue
        m = NAME.match(Path(f["path"]).name)
        assert m, f["path"]
        assert (m["source"], m["unit"], m["period"]) == (f["source"], f["unit_code"], f["period_code"])
        assert f["source"] in SOURCES
        unit, period = ref.units[f["unit_code"]], ref.periods[f["period_code"]]
        assert unit.valid_on(period.end), f["path"]  # validated on the period's end date


def test_row_rules_and_warnings_all_occur_in_current_files(expected: dict) -> None:
    current = [f for f in expected["files"] if f["status"] == "loaded"]
    rules = {i["rule"] for f in current for i in f["issues"] if i["severity"] == "row"}
    warns = {i["rule"] for f in current for i in f["issues"] if i["severity"] == "warn"}
    assert rules == set(ROW_RULES)
    assert warns == {rule.code for s in SOURCES.values() for rule in s.plausibility}
    for f in expected["files"]:
        rows = {i["data_row"] for i in f["issues"] if i["severity"] == "row"}
        flagged = {i["data_row"] for i in f["issues"] if i["severity"] == "warn"} - rows
        assert (f["rows_quarantined"], f["rows_flagged"]) == (len(rows), len(flagged))
        assert f["rows_quarantined"] <= f["rows_read"]
        if f["status"] == "loaded":
            assert f["rows_loaded"] == f["rows_read"] - f["rows_skipped"] - f["rows_quarantined"]


def test_correction_and_resend(expected: dict) -> None:
    files = {f["path"]: f for f in expected["files"]}
    (v2,) = [f for f in files.values() if f["supersedes"]]
    v1 = files[v2["supersedes"]]
    assert v1["status"] == "superseded" and v2["status"] == "loaded" and v2["version"] == 2
    assert (v1["source"], v1["unit_code"], v1["period_code"]) == (v2["source"], v2["unit_code"], v2["period_code"])
    assert v1["rows_quarantined"] > 0 and v2["rows_quarantined"] == 0 and v1["rows_read"] == v2["rows_read"]
    (dup,) = [f for f in files.values() if f["status"] == "duplicate"]
    assert dup["path"] == f"resend/{dup['duplicate_of']}"
    assert (INBOX / dup["path"]).read_bytes() == (INBOX / dup["duplicate_of"]).read_bytes()


def test_csv_returns_decode_as_declared(expected: dict) -> None:
    seen = set()
    for f in expected["files"]:
        if f["format"] != "csv" or f["status"] == "duplicate":
            continue
        data = (INBOX / f["path"]).read_bytes()
        if f["reject_code"] == "bad_encoding":
            with pytest.raises(EncodingError):
                decode_bytes(data)
            continue
        decoded = decode_bytes(data)
        assert (decoded.encoding, decoded.repaired) == (f["encoding"], f["legacy_encoding"]), f["path"]
        lines = [line for line in decoded.text.splitlines() if line]
        if f["status"] != "rejected":
            assert len(lines) - 1 == f["rows_read"], f["path"]  # no multi-line cells in the sample's CSVs
        seen.add((decoded.encoding, decoded.repaired))
    assert {("utf-8", None), ("utf-8-sig", None), ("cp1258", None), ("cp1252", "tcvn3"), ("cp1252", "vni")} <= seen


def test_xlsx_returns_are_zips_except_the_unreadable_one(expected: dict) -> None:
    for f in expected["files"]:
        if f["format"] == "xlsx":
            assert zipfile.is_zipfile(INBOX / f["path"]) == (f["reject_code"] != "unreadable"), f["path"]


def test_cumulative_counts_are_monotone(expected: dict) -> None:
    rows = {
        (f["source"], f["unit_code"], f["period_code"]): f["rows_read"]
        for f in expected["files"]
        if f["status"] == "loaded"
    }
    order = ("Q1", "6M", "9M", "Y")
    checked = 0
    for (source, unit, period), n in rows.items():
        year, kind = period.split("-")
        if kind not in order:
            continue
        for later in order[order.index(kind) + 1 :]:
            if (source, unit, f"{year}-{later}") in rows:
                assert n <= rows[(source, unit, f"{year}-{later}")], (source, unit, period, later)
                checked += 1
    assert checked >= 12


def test_names_are_listed_and_really_in_the_files(expected: dict) -> None:
    names = expected["names"]
    assert len(names) >= 50 and names == sorted(set(names))
    text = "".join(
        decode_bytes((INBOX / f["path"]).read_bytes()).text
        for f in expected["files"]
        if f["format"] == "csv" and f["status"] == "loaded"
    )
    assert sum(name in text for name in names) >= 10


def test_big_files(tmp_path: Path) -> None:
    csv_path = write_big_csv(tmp_path / "dieutra_CA-TINH_2024-Y.csv", 2_000, seed=1)
    decoded = decode_bytes(csv_path.read_bytes())
    lines = decoded.text.splitlines()
    assert len(lines) == 2_001 and lines[0].startswith("Mã vụ án,")
    assert write_big_csv(tmp_path / "again.csv", 2_000, seed=1).read_bytes() == csv_path.read_bytes()
    xlsx_path = write_big_xlsx(tmp_path / "dieutra_CA-TINH_2024-Y.xlsx", 2_000, seed=1)
    assert zipfile.is_zipfile(xlsx_path)

"""`dbt build` on a small hand-made warehouse, against a real PostgreSQL.

The fixture is a few returns written the way the intake leaves them in
`registry.files` and `raw.*`: cases moving investigation -> prosecution -> trial
-> enforcement, an inspection that transferred a case, a superseded correction,
a district procuracy and its regional successor, quarterly and cumulative
returns, a rejected file and quarantined rows. The expected indicator values
are worked out by hand in the comments and checked against the marts; a second
test recomputes some of them in plain Python from the raw rows (see
`test_dbt_recompute.py` for the generic recomputation).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ingestion.contract.sources import SOURCES
from ingestion.intake.schema import ensure_schema
from ingestion.platform.transform import run_dbt
from tests.conftest import _fresh_database_url

pytestmark = pytest.mark.slow

VN = timezone(timedelta(hours=7))


@dataclass
class Return:
    source: str
    unit_code: str
    period_code: str
    received: str  # local date the file arrived, ISO
    rows: list[dict[str, object]] = field(default_factory=list)
    version: int = 1
    status: str = "loaded"


# --- the fixture ---------------------------------------------------------------------------
# Cases: C1 VA-2024-001 (art. 353, from inspection TTT-2024-01), C2 VA-2024-002 (354, district
# police, then district procuracy, then its successor VKS-KV6), C3 VA-2023-015 (219, court row
# without case id, linked through the enforcement matter), C4 VA-2024-003 (355, terminated),
# C5 VA-2025-001 (364: a position crime, not corruption).
C1 = {
    "case_id": "VA-2024-001",
    "case_title": "Tham ô tại Ban QLDA",
    "initiation_date": date(2024, 2, 10),
    "article": 353,
    "accused_count": 3,
    "detection_channel": "inspection",
    "transfer_ref": "HS-TT-01",
    "damage_vnd": 3_000_000_000,
}
C2 = {
    "case_id": "VA-2024-002",
    "case_title": "Nhận hối lộ cấp GCN",
    "initiation_date": date(2024, 5, 20),
    "article": 354,
    "accused_count": 2,
    "detection_channel": "complaint",
    "damage_vnd": 500_000_000,
    "secured_vnd": 0,
}
C3 = {
    "case_id": "VA-2023-015",
    "case_title": "Vi phạm quản lý tài sản",
    "initiation_date": date(2023, 6, 1),
    "article": 219,
    "accused_count": 1,
    "detection_channel": "complaint",
}
C4 = {
    "case_id": "VA-2024-003",
    "case_title": "Lạm dụng chức vụ",
    "initiation_date": date(2024, 9, 20),
    "article": 355,
    "accused_count": 1,
    "detection_channel": "press",
}
C5 = {
    "case_id": "VA-2025-001",
    "case_title": "Đưa hối lộ",
    "initiation_date": date(2025, 2, 1),
    "article": 364,
    "accused_count": 2,
    "detection_channel": "investigation_own",
}

I1 = {"inspection_id": "TTT-2024-01", "title": "Thanh tra dự án", "kind": "planned", "start_date": date(2023, 11, 1)}
I2 = {"inspection_id": "TTT-2024-02", "title": "Thanh tra đột xuất", "kind": "ad_hoc", "start_date": date(2024, 10, 1)}
I3 = {
    "inspection_id": "HH-2024-01",
    "title": "Kiểm tra nội bộ",
    "kind": "internal_check",
    "start_date": date(2024, 3, 1),
}

RETURNS: list[Return] = [
    # thanhtra
    Return(
        "thanhtra",
        "TT-HUYEN-HOANGHOA",
        "2024-Y",
        "2024-12-18",
        version=1,
        status="superseded",
        rows=[
            I3
            | {
                "status": "concluded",
                "conclusion_no": "KL-05",
                "conclusion_date": date(2024, 6, 30),
                "violation_vnd": 100_000_000,
            },
        ],
    ),
    Return(
        "thanhtra",
        "TT-HUYEN-HOANGHOA",
        "2024-Y",
        "2024-12-28",
        version=2,
        rows=[
            I3
            | {
                "status": "concluded",
                "conclusion_no": "KL-05",
                "conclusion_date": date(2024, 6, 30),
                "violation_vnd": 120_000_000,
                "recommended_recovery_vnd": 50_000_000,
                "recovered_vnd": 50_000_000,
                "heads_disciplined": 0,
                "transferred_cases": 0,
            },
        ],
    ),
    Return(
        "thanhtra",
        "TT-TINH",
        "2024-Y",
        "2024-12-19",
        rows=[
            I1
            | {
                "status": "concluded",
                "conclusion_no": "KL-01",
                "conclusion_date": date(2024, 1, 20),
                "violation_vnd": 5_000_000_000,
                "recommended_recovery_vnd": 2_000_000_000,
                "recovered_vnd": 1_500_000_000,
                "heads_disciplined": 1,
                "corruption_cases": 1,
                "transferred_cases": 1,
                "transfer_ref": "HS-TT-01",
            },
            I2 | {"status": "in_progress"},
        ],
    ),
    Return(
        "thanhtra",
        "TT-TINH",
        "2025-Y",
        "2025-12-19",
        rows=[
            I2
            | {
                "status": "concluded",
                "conclusion_no": "KL-09",
                "conclusion_date": date(2025, 3, 1),
                "violation_vnd": 800_000_000,
                "recommended_recovery_vnd": 300_000_000,
                "recovered_vnd": 100_000_000,
                "heads_disciplined": 2,
                "transferred_cases": 0,
            },
        ],
    ),
    Return("thanhtra", "TT-SO-XAYDUNG", "2024-Y", "2024-12-19", status="rejected"),
    # dieutra
    Return(
        "dieutra",
        "CA-TINH",
        "2024-6M",
        "2024-06-18",
        rows=[
            C1 | {"status": "investigating", "secured_vnd": 1_000_000_000},
            C3 | {"status": "proposed_prosecution", "closing_date": date(2023, 11, 30)},
        ],
    ),
    Return(
        "dieutra",
        "CA-TINH",
        "2024-Y",
        "2024-12-19",
        rows=[
            C1 | {"status": "proposed_prosecution", "closing_date": date(2024, 8, 30), "secured_vnd": 1_200_000_000},
            C4 | {"status": "terminated", "closing_date": date(2024, 12, 1)},
        ],
    ),
    Return("dieutra", "CA-HUYEN-HOANGHOA", "2024-Y", "2024-12-25", rows=[C2 | {"status": "investigating"}]),
    Return("dieutra", "CA-TINH", "2025-Q1", "2025-03-18", rows=[C5 | {"status": "investigating"}]),
    Return("dieutra", "CA-TINH", "2025-6M", "2025-06-18", rows=[C5 | {"status": "investigating"}]),
    Return(
        "dieutra",
        "CA-TINH",
        "2025-Y",
        "2025-12-19",
        rows=[
            C5 | {"status": "proposed_prosecution", "closing_date": date(2025, 10, 1)},
        ],
    ),
    # truyto
    Return(
        "truyto",
        "VKS-TINH",
        "2024-Y",
        "2024-12-19",
        rows=[
            {
                "case_id": "VA-2024-001",
                "received_date": date(2024, 9, 5),
                "article": 353,
                "accused_count": 3,
                "indictment_no": "CT-01/2024",
                "indictment_date": date(2024, 10, 5),
                "indicted_count": 3,
                "status": "indicted",
            },
        ],
    ),
    Return(
        "truyto",
        "VKS-HUYEN-HOANGHOA",
        "2025-6M",
        "2025-06-18",
        rows=[
            {
                "case_id": "VA-2023-015",
                "received_date": date(2025, 1, 5),
                "article": 219,
                "accused_count": 1,
                "indictment_no": "CT-02/2025",
                "indictment_date": date(2025, 4, 2),
                "indicted_count": 1,
                "status": "indicted",
            },
            {
                "case_id": "VA-2024-002",
                "received_date": date(2025, 3, 1),
                "article": 354,
                "accused_count": 2,
                "status": "pending",
            },
        ],
    ),
    Return(
        "truyto",
        "VKS-KV6",
        "2025-Y",
        "2025-12-19",
        rows=[
            {
                "case_id": "VA-2023-015",
                "received_date": date(2025, 1, 5),
                "article": 219,
                "accused_count": 1,
                "indictment_no": "CT-02/2025",
                "indictment_date": date(2025, 4, 2),
                "indicted_count": 1,
                "status": "indicted",
            },
            {
                "case_id": "VA-2024-002",
                "received_date": date(2025, 3, 1),
                "article": 354,
                "accused_count": 2,
                "indictment_no": "CT-11/2025",
                "indictment_date": date(2025, 8, 10),
                "indicted_count": 2,
                "status": "indicted",
            },
        ],
    ),
    # xetxu
    Return(
        "xetxu",
        "TA-TINH",
        "2024-Y",
        "2024-12-19",
        rows=[
            {
                "case_id": "VA-2024-001",
                "trial_level": "first_instance",
                "received_date": date(2024, 11, 1),
                "article": 353,
                "defendants_count": 3,
                "status": "not_tried",
            },
        ],
    ),
    Return(
        "xetxu",
        "TA-TINH",
        "2025-Y",
        "2025-12-19",
        rows=[
            {
                "case_id": "VA-2024-001",
                "trial_level": "first_instance",
                "received_date": date(2024, 11, 1),
                "article": 353,
                "defendants_count": 3,
                "judgment_no": "12/2025/HS-ST",
                "trial_date": date(2025, 1, 20),
                "convicted_count": 3,
                "ordered_vnd": 2_000_000_000,
                "status": "tried",
            },
            {
                "case_id": None,
                "trial_level": "first_instance",
                "received_date": date(2025, 5, 1),
                "article": 219,
                "defendants_count": 1,
                "judgment_no": "30/2025/HS-ST",
                "trial_date": date(2025, 9, 1),
                "convicted_count": 1,
                "status": "tried",
            },
        ],
    ),
    # thads
    Return(
        "thads",
        "THADS-TINH",
        "2025-Y",
        "2025-12-19",
        rows=[
            {
                "decision_no": "01/QĐ-CTHADS",
                "judgment_no": "12/2025/HS-ST",
                "decision_date": date(2025, 3, 1),
                "due_vnd": 2_000_000_000,
                "enforceable": True,
                "collected_vnd": 500_000_000,
                "status": "enforcing",
            },
            {
                "decision_no": "07/QĐ-CTHADS",
                "judgment_no": "30/2025/HS-ST",
                "case_id": "VA-2023-015",
                "decision_date": date(2025, 10, 1),
                "due_vnd": 300_000_000,
                "enforceable": True,
                "collected_vnd": 300_000_000,
                "status": "completed",
            },
            {
                "decision_no": "09/QĐ-CTHADS",
                "judgment_no": "99/2024/HS-ST",
                "decision_date": date(2025, 1, 10),
                "due_vnd": 100_000_000,
                "enforceable": False,
                "collected_vnd": 0,
                "status": "no_means",
            },
        ],
    ),
]
# rows quarantined in dieutra CA-TINH 2024-Y (2 not loaded, 1 loaded with a warning)
QUARANTINE = [
    (3, "initiation_date", "31/12/2024", "date_after_period_end", "row"),
    (4, "article", "Điều ?", "invalid_article", "row"),
    (2, "secured_vnd", "1.200.000.000", "secured_above_damage", "warn"),
]


def load_fixture(conn: psycopg.Connection) -> dict[tuple[str, str, str, int], int]:
    """Insert the fixture as the intake would leave it; return file ids by (source, unit, period, version)."""
    ensure_schema(conn)
    ids: dict[tuple[str, str, str, int], int] = {}
    for n, ret in enumerate(RETURNS):
        content = f"{ret.source}|{ret.unit_code}|{ret.period_code}|{ret.version}|{n}".encode()
        sha = hashlib.sha256(content).hexdigest()
        received_at = datetime.fromisoformat(ret.received).replace(hour=9, tzinfo=VN)
        conn.execute(
            "insert into registry.file_contents (sha256, size_bytes, content) values (%s, %s, %s)",
            (sha, len(content), content),
        )
        suffix = f"_v{ret.version}" if ret.version > 1 else ""
        file_id = conn.execute(
            """insert into registry.files (sha256, file_name, source, unit_code, period_code, version,
                   received_at, processed_at, status, rows_read, rows_loaded, rows_quarantined, rows_flagged,
                   reject_code)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning file_id""",
            (
                sha,
                f"{ret.source}_{ret.unit_code}_{ret.period_code}{suffix}.csv",
                ret.source,
                ret.unit_code,
                ret.period_code,
                ret.version,
                received_at,
                received_at,
                ret.status,
                len(ret.rows),
                len(ret.rows) if ret.status != "rejected" else 0,
                0,
                0,
                "missing_required_column" if ret.status == "rejected" else None,
            ),
        ).fetchone()[0]
        ids[(ret.source, ret.unit_code, ret.period_code, ret.version)] = file_id
        source = SOURCES[ret.source]
        columns = [c.load_name for c in source.columns]
        for row_number, row in enumerate(ret.rows, start=2):
            unknown = set(row) - {c.name for c in source.columns}
            assert not unknown, unknown
            values = [row.get(c.name) for c in source.columns]
            conn.execute(
                f"insert into raw.{source.raw_table} (file_id, row_number, {', '.join(columns)}) "
                f"values (%s, %s, {', '.join(['%s'] * len(columns))})",
                (file_id, row_number, *values),
            )
    superseded = ids[("thanhtra", "TT-HUYEN-HOANGHOA", "2024-Y", 1)]
    conn.execute(
        "update registry.files set superseded_by = %s where file_id = %s",
        (ids[("thanhtra", "TT-HUYEN-HOANGHOA", "2024-Y", 2)], superseded),
    )
    # a file whose name could not be read: no source, unit or period
    sha = hashlib.sha256(b"unreadable").hexdigest()
    conn.execute(
        "insert into registry.file_contents (sha256, size_bytes, content) values (%s, 10, 'unreadable')", (sha,)
    )
    conn.execute(
        "insert into registry.files (sha256, file_name, status, reject_code, received_at) "
        "values (%s, 'bao cao.xlsx', 'rejected', 'malformed_name', '2025-01-05 10:00+07')",
        (sha,),
    )
    quarantined_file = ids[("dieutra", "CA-TINH", "2024-Y", 1)]
    for row_number, column, value, rule, severity in QUARANTINE:
        conn.execute(
            """insert into audit.quarantine (file_id, row_number, column_name, value, rule, severity,
                   reason_vi, reason_en) values (%s, %s, %s, %s, %s, %s, 'lý do', 'reason')""",
            (quarantined_file, row_number, column, value, rule, severity),
        )
    conn.execute(
        "update registry.files set rows_read = rows_read + 2, rows_quarantined = 2, rows_flagged = 1 "
        "where file_id = %s",
        (quarantined_file,),
    )
    return ids


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A fresh database with the fixture, after `dbt build` (seeds, models, data and unit tests)."""
    url = _fresh_database_url("pctn_dbt")
    with psycopg.connect(url, autocommit=True) as conn:
        load_fixture(conn)
    target = tmp_path_factory.mktemp("dbt_target")
    started = time.monotonic()
    run_dbt(url, ["build"], target_path=target)
    return {"url": url, "seconds": time.monotonic() - started, "target": target}


def indicator(
    url: str, code: str, period: str, scope: str = "all", unit: str = "THANHHOA", restatement: str = "restated"
) -> Decimal | None:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """select value from marts.fct_indicator_values
               where indicator_code = %s and period_code = %s and scope = %s and unit_code = %s
                 and restatement = %s""",
            (code, period, scope, unit, restatement),
        ).fetchall()
    assert len(rows) <= 1
    return rows[0][0] if rows else None


def ratio(num: float, den: float) -> Decimal:
    return round(Decimal(num) / Decimal(den), 6)


def test_dbt_build_passes(built_warehouse: dict[str, object]) -> None:
    """`dbt build` ran seeds, models, data tests and unit tests without a failure."""
    import json

    results = json.loads((Path(str(built_warehouse["target"])) / "run_results.json").read_text())
    statuses = {r["status"] for r in results["results"]}
    assert statuses <= {"success", "pass", "warn", "no-op"}, statuses
    print(f"dbt build: {len(results['results'])} nodes in {built_warehouse['seconds']:.1f} s")


EXPECTED = [
    # (indicator, period, scope, value) at province level, restated.
    # 2024-Y: C1, C2, C4 initiated (C3 in 2023); 3 + 2 + 1 accused; C1 from inspection.
    ("DET_CASES_NEW", "2024-Y", "corruption", Decimal(3)),
    ("DET_PERSONS_NEW", "2024-Y", "corruption", Decimal(6)),
    ("DET_SELF_SHARE", "2024-Y", "corruption", ratio(1, 3)),
    # TTT-2024-01 and HH-2024-01 (its correction v2, not the superseded v1) concluded in 2024.
    ("DET_INSPECTIONS_CONCLUDED", "2024-Y", "all", Decimal(2)),
    ("DET_VIOLATION_VND", "2024-Y", "all", Decimal(5_120_000_000)),
    ("DET_TRANSFER_RATE", "2024-Y", "all", ratio(1, 2)),
    ("DET_TRANSFER_CONVERSION", "2024-Y", "all", ratio(1, 1)),
    ("HDL_HEADS_DISCIPLINED", "2024-Y", "all", Decimal(1)),
    ("REC_ADMIN_RATE", "2024-Y", "all", ratio(1_550_000_000, 2_050_000_000)),
    # C1 latest secured 1.2 bn of 3 bn damage; C2 0 of 0.5 bn.
    ("REC_SECURED_RATE", "2024-Y", "corruption", ratio(1_200_000_000, 3_500_000_000)),
    ("HDL_INDICTED_CASES", "2024-Y", "corruption", Decimal(1)),
    ("HDL_INDICTED_PERSONS", "2024-Y", "corruption", Decimal(3)),
    ("HDL_DAYS_TO_INDICTMENT_MEDIAN", "2024-Y", "corruption", Decimal((date(2024, 10, 5) - date(2024, 2, 10)).days)),
    # caseload C1, C2, C4 (C3 closed before the year); C4 terminated in the year
    ("HDL_ATTRITION_RATE", "2024-Y", "all", ratio(1, 3)),
    # at 14/12/2024: C1 not yet tried at court, C2 still under investigation
    ("HDL_BACKLOG_CASES", "2024-Y", "corruption", Decimal(2)),
    ("DQ_ROWS_QUARANTINED", "2024-Y", "all", Decimal(2)),
    # 2025-Y: only C5 (art. 364) initiated: position, not corruption
    ("DET_CASES_NEW", "2025-Y", "corruption", Decimal(0)),
    ("DET_CASES_NEW", "2025-Y", "position", Decimal(1)),
    ("DET_CASES_NEW", "2025-Q1", "position", Decimal(1)),
    ("DET_CASES_NEW", "2025-6M", "position", Decimal(1)),
    # C3 (district procuracy, then VKS-KV6) and C2 indicted, each once
    ("HDL_INDICTED_CASES", "2025-Y", "all", Decimal(2)),
    ("HDL_INDICTED_CASES", "2025-Y", "corruption", Decimal(1)),
    ("HDL_TRIED_CASES", "2025-Y", "all", Decimal(2)),
    ("HDL_TRIED_PERSONS", "2025-Y", "corruption", Decimal(3)),
    ("HDL_CONVICTION_RATE", "2025-Y", "all", ratio(4, 4)),
    (
        "HDL_DAYS_TO_TRIAL_MEDIAN",
        "2025-Y",
        "all",
        Decimal(((date(2025, 1, 20) - date(2024, 2, 10)).days + (date(2025, 9, 1) - date(2023, 6, 1)).days) / 2),
    ),
    ("HDL_BACKLOG_CASES", "2025-Y", "all", Decimal(0)),
    ("DET_INSPECTIONS_CONCLUDED", "2025-Y", "all", Decimal(1)),
    ("REC_ENFORCEMENT_RATE", "2025-Y", "all", ratio(800_000_000, 2_400_000_000)),
    ("REC_ENFORCEMENT_ENFORCEABLE_RATE", "2025-Y", "all", ratio(800_000_000, 2_300_000_000)),
    ("REC_OUTSTANDING_VND", "2025-Y", "all", Decimal(1_600_000_000)),
    # 2025-Y returns list C2, C3 (procuracy), C1, C3 (court), three matters; one matter unlinked
    ("DQ_CASE_LINK_RATE", "2025-Y", "all", ratio(6, 7)),
]


@pytest.mark.parametrize(
    ("code", "period", "scope", "expected"), EXPECTED, ids=[f"{c}-{p}-{s}" for c, p, s, _ in EXPECTED]
)
def test_indicator_values_by_hand(
    built_warehouse: dict[str, object], code: str, period: str, scope: str, expected: Decimal
) -> None:
    assert indicator(str(built_warehouse["url"]), code, period, scope) == expected


def test_restatement_moves_units_not_totals(built_warehouse: dict[str, object]) -> None:
    url = str(built_warehouse["url"])
    # C3's indictment was first reported by the district procuracy, C2's by its successor VKS-KV6
    assert indicator(url, "HDL_INDICTED_CASES", "2025-Y", unit="VKS-HUYEN-HOANGHOA", restatement="as_reported") == 1
    assert indicator(url, "HDL_INDICTED_CASES", "2025-Y", unit="VKS-KV6", restatement="as_reported") == 1
    assert indicator(url, "HDL_INDICTED_CASES", "2025-Y", unit="VKS-KV6", restatement="restated") == 2
    assert indicator(url, "HDL_INDICTED_CASES", "2025-Y", unit="VKS-HUYEN-HOANGHOA", restatement="restated") is None
    # district inspectorates restate onto the provincial inspectorate
    assert indicator(url, "DET_INSPECTIONS_CONCLUDED", "2024-Y", unit="TT-TINH", restatement="as_reported") == 1
    assert indicator(url, "DET_INSPECTIONS_CONCLUDED", "2024-Y", unit="TT-TINH", restatement="restated") == 2
    for restatement in ("as_reported", "restated"):
        assert indicator(url, "HDL_INDICTED_CASES", "2025-Y", unit="VKS", restatement=restatement) == 2


def _expected_units(source: str, on: date) -> set[str]:
    """Units of `source` expected on `on`: the calendar's rule (unit valid then) over the seeds."""
    from ingestion.calendar import expected_units

    return {unit for s, unit in expected_units(on) if s == source}


def test_returns_missing_and_submission_status(built_warehouse: dict[str, object]) -> None:
    url = str(built_warehouse["url"])
    period_end = date(2024, 12, 14)
    expected = {(s, u) for s in SOURCES for u in _expected_units(s, period_end)}
    loaded = {(r.source, r.unit_code) for r in RETURNS if r.period_code == "2024-Y" and r.status == "loaded"}
    assert loaded <= expected
    assert indicator(url, "DQ_RETURNS_MISSING", "2024-Y") == len(expected - loaded)
    with psycopg.connect(url) as conn:
        status = dict(
            conn.execute(
                """select source || ' ' || unit_code, status from marts.fct_return_submissions
                   where period_code = '2024-Y'"""
            ).fetchall()
        )
    assert status["thanhtra TT-HUYEN-HOANGHOA"] == "on_time"  # v1 arrived on time, v2 corrected it
    assert status["dieutra CA-HUYEN-HOANGHOA"] == "late"
    assert status["thanhtra TT-SO-XAYDUNG"] == "rejected"
    assert status["thads THADS-TINH"] == "missing"
    # Đông Sơn's units ended on 31/10/2024: nothing is expected of them for 2024-Y
    assert "thanhtra TT-HUYEN-DONGSON" not in status


def test_each_case_once_in_the_spine(built_warehouse: dict[str, object]) -> None:
    with psycopg.connect(str(built_warehouse["url"])) as conn:
        cases = dict(conn.execute("select case_key, furthest_stage from marts.fct_cases").fetchall())
        linked = dict(conn.execute("select case_key, is_linked from marts.fct_cases").fetchall())
    assert cases["VA-2024-001"] == "enforcement"  # linked to its matter through the judgment number
    assert cases["VA-2023-015"] == "enforcement"  # court row without case id, linked via the matter
    assert cases["VA-2024-002"] == "prosecution"  # two procuracies, one case
    assert "judgment:99/2024/HS-ST" in cases and not linked["judgment:99/2024/HS-ST"]
    assert not any(k.startswith("judgment:30/2025") for k in cases)
    assert len([k for k in cases if k.startswith("VA-")]) == 5


def test_headline_table(built_warehouse: dict[str, object]) -> None:
    from ingestion.extract.headline import format_headline, headline_indicators

    rows = headline_indicators(str(built_warehouse["url"]))
    assert rows and {r["report_year"] for r in rows} == {2025}
    text = format_headline(rows)
    assert "DET_CASES_NEW" in text and "2025" in text


def test_every_built_column_is_documented(built_warehouse: dict[str, object]) -> None:
    """The columns each model really has are the columns its yml describes."""
    import json

    manifest = json.loads((Path(str(built_warehouse["target"])) / "manifest.json").read_text())
    documented = {
        (n["schema"], n["name"]): set(n["columns"]) for n in manifest["nodes"].values() if n["resource_type"] == "model"
    }
    with psycopg.connect(str(built_warehouse["url"])) as conn:
        rows = conn.execute(
            """select table_schema, table_name, column_name from information_schema.columns
               where table_schema in ('staging', 'intermediate', 'marts')"""
        ).fetchall()
    actual: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in rows:
        actual.setdefault((schema, table), set()).add(column)
    assert set(actual) == set(documented)
    missing = {k: sorted(actual[k] - documented[k]) for k in actual if actual[k] - documented[k]}
    extra = {k: sorted(documented[k] - actual[k]) for k in actual if documented[k] - actual[k]}
    assert not missing, missing
    assert not extra, extra


def test_marts_carry_bilingual_comments(built_warehouse: dict[str, object]) -> None:
    """persist_docs puts the descriptions into PostgreSQL comments, where BI tools read them."""
    with psycopg.connect(str(built_warehouse["url"])) as conn:
        comment = conn.execute(
            """select col_description('marts.fct_indicator_values'::regclass, a.attnum)
               from pg_attribute a where a.attrelid = 'marts.fct_indicator_values'::regclass
                 and a.attname = 'indicator_code'"""
        ).fetchone()[0]
        indexes = {
            r[0]
            for r in conn.execute(
                "select indexdef from pg_indexes where schemaname = 'marts' and tablename = 'fct_indicator_values'"
            ).fetchall()
        }
    assert comment == "Mã chỉ tiêu / Indicator code."
    assert any("(period_code)" in i for i in indexes) and any("(unit_code)" in i for i in indexes)


def test_run_dbt_names_failing_nodes(built_warehouse: dict[str, object], tmp_path: Path) -> None:
    from ingestion.platform.transform import DbtRunError

    url = str(built_warehouse["url"])
    duplicate = (
        "insert into marts.fct_quarantine_summary (source, unit_code, period_code, rule, severity, rows, "
        "province_code, severity_order) values ('thads', 'X', '2024-Y', 'test_rule', 'row', 1, 'THANHHOA', 1)"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(duplicate)
        conn.execute(duplicate)
    try:
        with pytest.raises(DbtRunError, match="unique_combination_fct_quarantine_summary"):
            run_dbt(url, ["test", "--select", "fct_quarantine_summary"], target_path=tmp_path)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("delete from marts.fct_quarantine_summary where rule = 'test_rule'")


def test_mart_primary_keys_have_meaningful_names_after_rebuilds(
    built_warehouse: dict[str, object], tmp_path: Path
) -> None:
    """`<table>_pkey`, not dbt's temporary `…__dbt_tmp_pkey(1)`, after the first build and a rebuild."""
    url = str(built_warehouse["url"])
    sql = (
        "select t.relname, c.conname from pg_constraint c join pg_class t on t.oid = c.conrelid"
        " join pg_namespace n on n.oid = t.relnamespace where n.nspname = 'marts' and c.contype = 'p'"
    )
    for build in range(2):
        with psycopg.connect(url) as conn:
            keys = dict(conn.execute(sql).fetchall())
        assert "fct_indicator_values" in keys and len(keys) >= 5, keys
        assert keys == {table: f"{table}_pkey" for table in keys}, f"build {build + 1}: {keys}"
        if build == 0:
            run_dbt(url, ["run", "--select", "marts"], target_path=tmp_path)


def test_contract_constraints_are_enforced_by_the_database(built_warehouse: dict[str, object]) -> None:
    """Every constraint a contracted model declares is on its table (they replace data tests).

    dbt_project.yml: the intermediate and mart contracts are enforced, so PostgreSQL checks
    every row as the table is built; a constraint missing from the table would be a test lost.
    """
    import json

    manifest = json.loads((Path(str(built_warehouse["target"])) / "manifest.json").read_text())
    models = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["config"]["contract"]["enforced"]
    ]
    assert {n["schema"] for n in models} == {"intermediate", "marts"}
    with psycopg.connect(str(built_warehouse["url"])) as conn:
        for node in models:
            table = f'"{node["schema"]}"."{node["alias"]}"'
            not_null = {
                r[0]
                for r in conn.execute(
                    "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and attnotnull",
                    (table,),
                ).fetchall()
            }
            kinds = [
                r[0] for r in conn.execute("select contype from pg_constraint where conrelid = %s::regclass", (table,))
            ]
            declared = [(c["type"], name) for name, col in node["columns"].items() for c in col["constraints"]]
            declared += [(c["type"], None) for c in node["constraints"]]
            for kind, column in declared:
                if kind == "not_null":
                    assert column in not_null, f"{table}.{column} is not NOT NULL"
            assert kinds.count("p") == sum(k == "primary_key" for k, _ in declared), (table, kinds)
            assert kinds.count("c") == sum(k == "check" for k, _ in declared), (table, kinds)
            assert kinds.count("u") == sum(k == "unique" for k, _ in declared), (table, kinds)


def test_state_table_built_before_its_contract_gets_its_constraints(
    built_warehouse: dict[str, object], tmp_path: Path
) -> None:
    """An incremental table without the constraints (an older warehouse) gets them on its next build
    (macro ensure_constraints), and a row that breaks one fails that build, as the data test it replaces did."""
    from ingestion.platform.transform import DbtRunError

    url = str(built_warehouse["url"])
    table = "intermediate.int_dieutra_case_states"
    catalog = (
        "select (select count(*) from pg_attribute where attrelid = %(t)s::regclass and attnum > 0 and attnotnull),"
        " (select string_agg(contype::text, '' order by contype) from pg_constraint where conrelid = %(t)s::regclass)"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        built = conn.execute(catalog, {"t": table}).fetchone()
        assert built == (4, "cp"), built  # file_id, unit_code, period_code, record_key; key and status check
        for (name,) in conn.execute("select conname from pg_constraint where conrelid = %s::regclass", (table,)):
            conn.execute(f"alter table {table} drop constraint {name}")
        for column in ("file_id", "unit_code", "period_code", "record_key"):
            conn.execute(f"alter table {table} alter column {column} drop not null")
        assert conn.execute(catalog, {"t": table}).fetchone() == (0, None)
        conn.execute(f"insert into {table} select * from {table} limit 1")
        conn.execute(f"update {table} set status = 'not_a_status' where ctid = (select max(ctid) from {table})")
    select = ["run", "--select", "int_dieutra_case_states"]
    try:
        with pytest.raises(DbtRunError, match="int_dieutra_case_states"):
            run_dbt(url, select, target_path=tmp_path)  # the duplicate breaks the key
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"delete from {table} where ctid = (select max(ctid) from {table})")
    run_dbt(url, select, target_path=tmp_path)
    with psycopg.connect(url) as conn:
        assert conn.execute(catalog, {"t": table}).fetchone() == built

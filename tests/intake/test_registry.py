"""Registration in batches (`registry.register_offers`): one statement per offer, one round trip for many.

What must hold whatever the batch: every offer gets its registry row once per (bytes, name)
and a receipt per inbox state, the same bytes offered twice in one batch are one file, and
an offer racing another intake's registration of the same file ends with that file's id.
Real PostgreSQL, real concurrent connections.
"""

from __future__ import annotations

import threading
import time

import psycopg

from ingestion.intake.registry import Offer, register_bytes, register_offers, sha256_of
from ingestion.intake.schema import ensure_schema
from ingestion.intake.sealing import seal


def test_a_batch_registers_each_offer_once_with_a_receipt_each(fresh_warehouse_url, monkeypatch) -> None:
    monkeypatch.setenv("PCTN_PSEUDONYM_KEY", "test-key")
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
        ensure_schema(conn)
        offers = [
            Offer("dieutra_CA-TINH_2024-Y.csv", b"a,b\n1,2\n", "dieutra_CA-TINH_2024-Y.csv", 1),
            Offer("dieutra_CA-TINH_2024-Y.csv", b"a,b\n1,2\n", "copy/dieutra_CA-TINH_2024-Y.csv", 2),  # same file
            Offer("truyto_VKS-TINH_2024-Y.csv", b"a,b\n1,2\n", "truyto_VKS-TINH_2024-Y.csv", 3),  # same bytes
            Offer("xetxu_TA-TINH_2024-Y.csv", b"c\n3\n", None, None),
        ]
        first = register_offers(conn, offers)
        assert [r.is_new for r in first] == [True, False, True, True]
        assert first[0].file_id == first[1].file_id != first[2].file_id
        assert {r.status for r in first} == {"received"}
        counts = conn.execute(
            "select (select count(*) from registry.file_contents), (select count(*) from registry.files),"
            " (select count(*) from registry.receipts)"
        ).fetchone()
        assert counts == (2, 3, 4)
        # the same inbox states again: no new row, and no new receipt but for the offer that lay
        # nowhere in the inbox (bytes handed over directly are a new offer each time)
        again = register_offers(conn, offers)
        assert [r.file_id for r in again] == [r.file_id for r in first]
        assert not any(r.is_new for r in again)
        outcomes = conn.execute("select outcome, count(*) from registry.receipts group by 1 order by 1").fetchall()
        assert outcomes == [("duplicate", 2), ("new", 3)]


def test_an_offer_racing_another_intake_gets_that_intakes_file(fresh_warehouse_url, monkeypatch) -> None:
    """Another intake inserts the same file and commits while this offer waits on its conflict: the
    offer's statement cannot see the row (its snapshot is older), so it is asked again and ends with
    the other intake's file_id, as a duplicate offer."""
    monkeypatch.setenv("PCTN_PSEUDONYM_KEY", "test-key")
    name, data = "dieutra_CA-TINH_2024-Y.csv", b"a,b\n1,2\n"
    with (
        psycopg.connect(fresh_warehouse_url, autocommit=True) as other,
        psycopg.connect(fresh_warehouse_url, autocommit=True) as conn,
    ):
        ensure_schema(conn)
        other.execute("begin")
        other.execute(
            "insert into registry.file_contents (sha256, size_bytes, content) values (%s, %s, %s)",
            (sha256_of(data), len(data), seal(data, b"test-key")),
        )
        (theirs,) = other.execute(
            "insert into registry.files (sha256, file_name) values (%s, %s) returning file_id", (sha256_of(data), name)
        ).fetchone()  # type: ignore[misc]
        result: list[object] = []
        racer = threading.Thread(target=lambda: result.append(register_bytes(conn, name, data, name, 7)))
        racer.start()
        time.sleep(1.0)
        assert racer.is_alive(), "the offer should wait for the other intake's transaction"
        other.execute("commit")
        racer.join(timeout=30)
        (registration,) = result
        assert registration.file_id == theirs and not registration.is_new  # type: ignore[attr-defined]
        assert conn.execute("select outcome from registry.receipts").fetchall() == [("duplicate",)]

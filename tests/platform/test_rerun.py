""" "A second `make run` changes nothing", tested on `make run`'s own entry point.

`python -m ingestion --demo-key run` (what `make run` calls) runs twice in a subprocess
on a fresh database, a fresh output folder and a fresh outbox, with the bundled sample
inbox. Between the runs nothing else happens. Compared before and after the second run:

- every table of every schema of the warehouse (registry, raw, audit, staging,
  intermediate, marts, reference, delivery, …), as the multiset of its rows, with only
  the documented growth excluded (`RERUN_GROWTH` below says what and why);
- every file under the output folder and the outbox, by SHA-256, except the pages of the
  GX Data Docs site (`output/data_docs/`): GX's renderer writes the render time and random
  element ids into every page, so those are compared as the same set of files, not bytes;
- the deliveries: the second run delivers nothing (outcome `skipped`), no new extract;
- the inbox: every file's SHA-256 is the same before the first run and after the second
  (the intake reads it and never moves or changes anything there).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import _fresh_database_url, drop_database

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "returns"

# Nothing may change, `registry.receipts` included: a receipt is one per *offer*, an inbox
# entry in one state (path, size, modification time), and the unchanged inbox offered again
# is not a new offer (README, "Inbox hygiene"). `delivery.deliveries` too (a `skipped`
# delivery is not logged): every table equal row for row, except the log of dbt builds: the
# second run does build (and finds nothing to change), so `audit.marts_builds` gains its row
# while the first run's row stays as it was.
RERUN_GROWTH: set[str] = {"audit.marts_builds"}


def _fresh_database() -> str:
    return _fresh_database_url("pctn_rerun")


def _drop_database(url: str) -> None:
    drop_database(url)


def warehouse_rows(url: str) -> dict[str, list[str]]:
    """Every table and view of every non-system schema: its rows as text, sorted (a multiset)."""
    with psycopg.connect(url, autocommit=True) as conn:
        relations = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema not in ('pg_catalog', 'information_schema') and table_schema not like 'pg_%%'"
            " order by 1, 2"
        ).fetchall()
        out: dict[str, list[str]] = {}
        for schema, table in relations:
            query = sql.SQL("select t::text from {}.{} as t").format(sql.Identifier(schema), sql.Identifier(table))
            out[f"{schema}.{table}"] = sorted(row[0] for row in conn.execute(query))
    return out


def file_digests(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "ingestion", "--demo-key", "run"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def test_a_second_make_run_changes_nothing(tmp_path: Path) -> None:
    url = _fresh_database()
    out, outbox = tmp_path / "output", tmp_path / "outbox"
    env = {
        **os.environ,
        "WAREHOUSE_URL": url,
        "RETURNS_INBOX": str(SAMPLES),
        "PCTN_OUTPUT_DIR": str(out),
        "PCTN_OUTBOX_DIR": str(outbox),
        "PCTN_DELIVERY_CHANNELS": "outbox",
        "PCTN_PSEUDONYM_KEY": os.environ.get("PCTN_PSEUDONYM_KEY", "test-key-not-secret"),
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    inbox_before = file_digests(SAMPLES)
    try:
        first = make_run(env)
        tables_first = warehouse_rows(url)
        files_first = file_digests(out, outbox)
        second = make_run(env)
        tables_second = warehouse_rows(url)
        files_second = file_digests(out, outbox)
    finally:
        _drop_database(url)

    # what the comparison covers is not empty: the schemas of every step, the files of every kind
    schemas = {name.split(".")[0] for name in tables_first}
    assert {"registry", "raw", "audit", "staging", "intermediate", "marts", "reference", "delivery"} <= schemas
    assert sum(len(rows) for rows in tables_first.values()) > 10_000
    assert any("/extract/" in f for f in files_first) and any(f.startswith(str(outbox)) for f in files_first)
    assert any("/feedback/" in f for f in files_first)

    assert set(tables_second) == set(tables_first)
    changed = sorted(t for t in tables_first if t not in RERUN_GROWTH and tables_second[t] != tables_first[t])
    assert changed == [], changed
    for table in RERUN_GROWTH:
        kept = sorted(set(tables_first[table]) - set(tables_second[table]))
        assert kept == [], (table, kept)  # the first run's rows are unchanged
    # an offer is an inbox entry in one state: the unchanged inbox offered again adds no receipt
    assert tables_second["registry.receipts"] == tables_first["registry.receipts"]
    assert len(tables_second["delivery.deliveries"]) == 1  # the second run delivered nothing (skipped, not logged)

    data_docs = str(out / "data_docs") + os.sep
    assert set(files_second) == set(files_first)  # no output file added or removed
    rewritten = sorted(f for f in files_first if files_second[f] != files_first[f] and not f.startswith(data_docs))
    assert rewritten == []  # nor rewritten with other bytes (Data Docs pages: see the module docstring)
    assert file_digests(SAMPLES) == inbox_before  # the inbox was only read

    (delivery,) = tables_first["delivery.deliveries"]
    assert ",outbox," in delivery and ",delivered," in delivery, delivery  # the first run delivered on the outbox
    print(f"\nfirst run:\n{first.stdout[-1500:]}\nsecond run:\n{second.stdout[-1500:]}")

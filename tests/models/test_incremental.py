"""Incremental dbt builds give the same warehouse as a full refresh.

The state-history and latest-state models are incremental tables keyed on the
registry (macros `state_history`, `latest_state`): a build recomputes only the
records that newly loaded files touch, or that files no longer loaded held;
fct_indicator_values rebuilds only the periods whose inputs changed
(int_indicator_value_slices), int_indicator_events_inspections only the
inspections whose inputs changed: the test checks both kept some rows. This
test takes part of the bundled sample through intake and a first build, then
adds a new period (every unit's 2025-Y return), a superseding `_v2` file, a
forced reprocess of a loaded file and a file taken out (rejected on reprocessing),
builds incrementally, keeps a copy of every
built table, rebuilds everything with `--full-refresh` and compares the two
row for row (EXCEPT ALL both ways). Real intake, real dbt, real PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.conftest import SAMPLES, _fresh_database_url, drop_database

pytestmark = pytest.mark.slow

# Models and tests are rebuilt; data tests and unit tests do not change what is built.
BUILD = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
# Columns that say when a row was computed, not what it holds.
BUILD_STAMPS = frozenset({"refreshed_at", "states_refreshed_at"})
V1 = "thanhtra_TT-SO-TAICHINH_2024-Y.xlsx"
V2 = "thanhtra_TT-SO-TAICHINH_2024-Y_v2.xlsx"
REPROCESSED = "thanhtra_TT-TINH_2025-9M.xlsx"
COPY_SCHEMA = "incremental_copy"
EVENTS = "intermediate.int_indicator_events_inspections"


def _split_sample() -> tuple[list[Path], list[Path]]:
    """The 2025 returns and a 2024 return with its later version, minus what arrives later.

    First: every 2025 return except the yearly ones, and version 1 of a 2024-Y return.
    Added: every unit's 2025-Y return (one new period) and version 2 of that 2024-Y return.
    """
    files = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    year_2025 = [p for p in files if "_2025-" in p.name]
    first = [p for p in year_2025 if "_2025-Y" not in p.name] + [SAMPLES / V1]
    added = [p for p in year_2025 if "_2025-Y" in p.name] + [SAMPLES / V2]
    return first, added


def _built_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        """
        select table_schema, table_name from information_schema.tables
        where table_schema in ('staging', 'intermediate', 'marts') and table_type = 'BASE TABLE'
        order by 1, 2
        """
    ).fetchall()
    return [(schema, name) for schema, name in rows]


def _columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    ).fetchall()
    return [name for (name,) in rows if name not in BUILD_STAMPS]


def _copy_built_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    tables = _built_tables(conn)
    conn.execute(f"drop schema if exists {COPY_SCHEMA} cascade")
    conn.execute(f"create schema {COPY_SCHEMA}")
    for schema, table in tables:
        conn.execute(f'create table {COPY_SCHEMA}."{schema}__{table}" as select * from {schema}."{table}"')
    return tables


def _differences(conn: psycopg.Connection, schema: str, table: str) -> tuple[int, int, int]:
    """Rows only in the incremental copy, rows only in the full refresh, and the row count."""
    columns = ", ".join(f'"{c}"' for c in _columns(conn, schema, table))
    copy = f'{COPY_SCHEMA}."{schema}__{table}"'
    built = f'{schema}."{table}"'
    only_incremental = conn.execute(
        f"select count(*) from (select {columns} from {copy} except all select {columns} from {built}) as d"
    ).fetchone()[0]  # type: ignore[index]
    only_full = conn.execute(
        f"select count(*) from (select {columns} from {built} except all select {columns} from {copy}) as d"
    ).fetchone()[0]  # type: ignore[index]
    count = conn.execute(f"select count(*) from {built}").fetchone()[0]  # type: ignore[index]
    return only_incremental, only_full, count


def _stamps(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """Per state-history table: rows, and rows recomputed by the latest build."""
    out: dict[str, tuple[int, int]] = {}
    for _, table in _built_tables(conn):
        if table.endswith("_states"):
            out[table] = conn.execute(
                "select count(*), count(*) filter (where refreshed_at = latest.at)"
                f" from intermediate.{table}, (select max(refreshed_at) as at from intermediate.{table}) as latest"
            ).fetchone()  # type: ignore[assignment]
    return out


def _row_versions(conn: psycopg.Connection, table: str) -> set[str]:
    """The transaction ids that wrote the rows of `table` (xmin): a row rewritten gets a new one."""
    return {version for (version,) in conn.execute(f"select distinct xmin::text from {table}").fetchall()}


def _row_versions_by_period(conn: psycopg.Connection) -> dict[str, frozenset[str]]:
    """Per period of fct_indicator_values, the transaction ids that wrote its rows (xmin)."""
    rows = conn.execute(
        "select period_code, array_agg(distinct xmin::text) from marts.fct_indicator_values group by period_code"
    ).fetchall()
    return {period: frozenset(versions) for period, versions in rows}


def _reject_a_file_alone_in_its_records(conn: psycopg.Connection) -> tuple[int, int]:
    """Take a loaded thanhtra file out as a reprocess that ends in rejection would; its id and lone records.

    The file chosen is one the last build took in and holds records no other loaded
    file holds, so the incremental build must delete records that no new row replaces.
    The same two writes as `pipeline._store` for a rejected attempt: the file's rows
    cleared, its status `rejected`.
    """
    from ingestion.contract.sources import SOURCES
    from ingestion.intake.load import clear_file

    file_id, lone = conn.execute(
        """
        with current_rows as (
            select r.file_id, f.unit_code || '|' || trim(r.inspection_id) as record_key
            from raw.thanhtra_inspections as r
            inner join registry.files as f on r.file_id = f.file_id and f.status = 'loaded'
        ),
        lone as (
            select min(file_id) as file_id from current_rows group by record_key having count(*) = 1
        )
        select file_id, count(*) from lone
        where file_id in (select states.file_id from intermediate.int_thanhtra_inspection_states as states)
        group by file_id order by count(*) desc, file_id limit 1
        """
    ).fetchone()  # type: ignore[misc]
    with conn.transaction():
        clear_file(conn, file_id, SOURCES["thanhtra"])
        conn.execute(
            "update registry.files set status = 'rejected', rows_loaded = 0, processed_at = now() where file_id = %s",
            (file_id,),
        )
    return file_id, lone


def test_incremental_build_equals_full_refresh(tmp_path: Path) -> None:
    from ingestion.intake.pipeline import process_file, run_intake
    from ingestion.platform.transform import run_dbt

    url = _fresh_database_url("pctn_incr")
    first, added = _split_sample()
    try:
        run_intake(url, SAMPLES, tmp_path / "out", paths=first)
        # the first build makes every incremental table the second adds to (staging, fct_indicator_values)
        run_dbt(url, BUILD, target_path=tmp_path / "t1", quiet=True)
        with psycopg.connect(url, autocommit=True) as conn:
            states_before = _stamps(conn)
            values_before = _row_versions_by_period(conn)
            inspection_events_before = _row_versions(conn, EVENTS)
            v1_id = conn.execute("select file_id from registry.files where file_name = %s", (V1,)).fetchone()[0]  # type: ignore[index]
            reprocessed_id, processed_before = conn.execute(
                "select file_id, processed_at from registry.files where file_name = %s and status = 'loaded'",
                (REPROCESSED,),
            ).fetchone()  # type: ignore[misc]
            v1_rows = conn.execute(
                "select count(*) from intermediate.int_thanhtra_inspection_states where file_id = %s", (v1_id,)
            ).fetchone()[0]  # type: ignore[index]
            assert v1_rows > 0, "version 1 is loaded before version 2 arrives"

        run_intake(url, SAMPLES, tmp_path / "out", paths=added)
        with psycopg.connect(url, autocommit=True) as conn:
            process_file(conn, reprocessed_id, force=True)
            cleared_id, vanishing = _reject_a_file_alone_in_its_records(conn)
            assert vanishing > 0
            processed_after = conn.execute(
                "select processed_at from registry.files where file_id = %s", (reprocessed_id,)
            ).fetchone()[0]  # type: ignore[index]
            assert processed_after > processed_before
            assert conn.execute("select status from registry.files where file_id = %s", (v1_id,)).fetchone()[0] == (
                "superseded"
            )

        run_dbt(url, BUILD, target_path=tmp_path / "t2", quiet=True)
        with psycopg.connect(url, autocommit=True) as conn:
            # the superseded version's rows are gone, the reprocessed file's rows are its new load
            assert not conn.execute(
                "select count(*) from intermediate.int_thanhtra_inspection_states where file_id = %s", (v1_id,)
            ).fetchone()[0]  # type: ignore[index]
            assert not conn.execute(
                "select count(*) from intermediate.int_thanhtra_inspection_states where file_id = %s", (cleared_id,)
            ).fetchone()[0]  # type: ignore[index]
            stale = conn.execute(
                "select count(*) from intermediate.int_thanhtra_inspection_states"
                " where file_id = %s and file_processed_at <> %s",
                (reprocessed_id, processed_after),
            ).fetchone()[0]  # type: ignore[index]
            assert stale == 0
            # incremental: records no new or removed file touches were left as they were
            states_after = _stamps(conn)
            recomputed = sum(n for _, n in states_after.values())
            total = sum(n for n, _ in states_after.values())
            assert 0 < recomputed < total, states_after
            assert sum(n for n, _ in states_before.values()) < total
            # fct_indicator_values: the new period and the periods the changes touch were
            # rebuilt, the others' rows left as they were (same row versions)
            values_after = _row_versions_by_period(conn)
            kept = {p for p, versions in values_after.items() if versions == values_before.get(p)}
            rebuilt = set(values_after) - kept
            # the new period and the period of the superseding _v2 were rebuilt; others kept
            assert {"2025-Y", "2024-Y"} <= rebuilt and kept, (sorted(rebuilt), sorted(kept))
            # int_indicator_events_inspections: the changed inspections' rows rewritten, the others' kept
            inspection_events_after = _row_versions(conn, EVENTS)
            assert inspection_events_after & inspection_events_before, "unchanged inspections keep their rows"
            assert inspection_events_after - inspection_events_before, "changed inspections are recomputed"
            tables = _copy_built_tables(conn)
            assert {"fct_indicator_values", "fct_cases", "int_thanhtra_inspections_latest"} <= {t for _, t in tables}

        run_dbt(url, [*BUILD, "--full-refresh"], target_path=tmp_path / "t3", quiet=True)
        with psycopg.connect(url, autocommit=True) as conn:
            assert _built_tables(conn) == tables
            differences = {
                f"{schema}.{table}": diff
                for schema, table in tables
                if (diff := _differences(conn, schema, table))[:2] != (0, 0)
            }
            assert not differences, f"incremental vs full refresh (only incremental, only full, rows): {differences}"
            marts_rows = sum(_differences(conn, "marts", t)[2] for s, t in tables if s == "marts")
            assert marts_rows > 1000  # the comparison compared something
    finally:
        drop_database(url)

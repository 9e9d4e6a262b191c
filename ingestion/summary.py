"""The closing summary of `make run`: what was loaded, what was refused, the latest
year's headline indicators, and where every output is."""

from __future__ import annotations

from pathlib import Path

import psycopg

from ingestion.warehouse import libpq_params


def _fmt(value: object, unit: str | None) -> str:
    if value is None:
        return "—"
    number = float(value)  # type: ignore[arg-type]
    if unit == "ratio":
        return f"{number:.1%}"
    if unit == "vnd":
        return f"{number / 1e9:,.1f} tỷ"
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.1f}"


def headline_rows(conn: psycopg.Connection) -> tuple[int | None, list[tuple]]:
    year = conn.execute(
        "select max(p.report_year) from marts.fct_return_submissions s"
        " join marts.dim_reporting_periods p using (period_code)"
        " where s.status in ('on_time', 'late') and p.period_kind = 'Y'"
    ).fetchone()
    if not year or year[0] is None:
        return None, []
    rows = conn.execute(
        """
        select i.indicator_code, i.name_vi, i.name_en, i.unit, e.value, e.previous_value, e.target_value
        from marts.fct_yearly_evaluation e
        join marts.dim_indicators i using (indicator_code)
        where e.report_year = %s and e.unit_level = 'province' and e.scope = i.default_scope
        order by i.sort_order
        """,
        (year[0],),
    ).fetchall()
    return year[0], rows


def print_run_summary(url: str, out_dir: Path, extract_path: Path | None = None, data_docs: Path | None = None) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        files = conn.execute(
            "select status, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined)"
            " from registry.files group by status order by status"
        ).fetchall()
        print("\nWarehouse registry (all runs):")
        for status, n, read, loaded, quarantined in files:
            print(
                f"  {status:11} {n:4} files  rows read {read or 0:>7}  loaded {loaded or 0:>7}"
                f"  quarantined {quarantined or 0:>5}"
            )
        rules = conn.execute(
            "select rule, severity, count(distinct (file_id, row_number)) from audit.quarantine"
            " group by rule, severity order by severity, count(*) desc"
        ).fetchall()
        if rules:
            print("Problems found in rows (row = quarantined, warn = loaded and flagged):")
            print("  " + ", ".join(f"{rule} [{sev}] {n}" for rule, sev, n in rules))
        year, rows = headline_rows(conn)
    if year is not None:
        print(f"\nHeadline indicators, Thanh Hóa, {year} (previous year beside it):")
        print(f"  {'code':34} {'value':>14} {'previous':>14}  name")
        for code, name_vi, name_en, unit, value, previous, _target in rows:
            print(f"  {code:34} {_fmt(value, unit):>14} {_fmt(previous, unit):>14}  {name_vi} / {name_en}")
    p = libpq_params(url)
    print("\nWhere everything is:")
    print(f"  warehouse        postgresql host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}")
    print("                   schemas: registry, raw, audit, staging, intermediate, marts, delivery")
    print(f"  feedback files   {out_dir / 'feedback'}")
    print(f"  archive          {out_dir / 'archive'} (originals also in registry.file_contents)")
    print(f"  rejected files   {out_dir / 'rejected'} (each with a .report.txt)")
    if data_docs is not None:
        print(f"  GX Data Docs     {data_docs}")
    if extract_path is not None:
        print(f"  extract          {extract_path}")

"""The closing summary of `make run`: what was loaded, what was refused, the latest
year's headline indicators, and where every output is."""

from __future__ import annotations

from pathlib import Path

import psycopg

from ingestion.extract.headline import format_headline, headline_indicators
from ingestion.platform.warehouse import libpq_params


def print_run_summary(
    url: str,
    out_dir: Path,
    extract_path: Path | None = None,
    data_docs: Path | None = None,
    bi_url: str | None = None,
) -> None:
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
    print()
    print(format_headline(headline_indicators(url)))
    p = libpq_params(url)
    print("\nWhere everything is:")
    print(f"  warehouse        postgresql host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}")
    print("                   schemas: registry, raw, audit, staging, intermediate, marts, delivery")
    if bi_url:
        print(f"  BI (read-only)   {bi_url}")
        print("                   DBeaver/Metabase: host, port, database, user, password of that URL (README, BI)")
    print(f"  feedback files   {out_dir / 'feedback'}")
    print("  originals        sealed in registry.file_contents (python -m ingestion unseal FILE_ID --to DIR)")
    print(f"  rejections       {out_dir / 'rejected'} (a .report.txt per rejected file)")
    if data_docs is not None:
        print(f"  validation       {data_docs} (offline HTML report, one page per file)")
    if extract_path is not None:
        print(f"  extract          {extract_path}")

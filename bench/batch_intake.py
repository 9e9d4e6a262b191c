"""Validation in batches vs one file at a time: the intake of an inbox, and GX alone.

For each inbox: the full intake (`run_intake`, one worker) with `PCTN_INTAKE_BATCH_FILES=1`
(one GX run per file, as before batches) and with batches (default 1000), each into a
fresh database, in files/s; then GX alone on the inbox's parsed returns: `validate` per
file vs `validate_batch` over all of them, in seconds per file; and GX on one large return,
every row vs one-value rules judged on distinct values (`--rows`). Writes
`bench/results/batch_intake.md`.

    python -m bench.batch_intake --inbox samples/returns --inbox /tmp/decade/returns
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg

RESULTS = Path(__file__).resolve().parent / "results" / "batch_intake.md"


def _fresh(admin: str, name: str) -> str:
    from ingestion.platform.warehouse import ensure_database, with_database

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
    ensure_database(admin, name)
    return with_database(admin, name)


def intake_seconds(admin: str, inbox: Path, out: Path, batch: int) -> tuple[float, int]:
    from ingestion.intake.pipeline import run_intake

    os.environ["PCTN_INTAKE_BATCH_FILES"] = str(batch)
    url = _fresh(admin, "pctn_bench_batch")
    start = time.perf_counter()
    outcomes = run_intake(url, inbox, out / f"batch{batch}", workers=1)
    return time.perf_counter() - start, len(outcomes)


def gx_seconds(inbox: Path) -> tuple[int, int, float, float]:
    """(files, rows, seconds one by one, seconds as one batch) of GX on the inbox's readable returns."""
    from ingestion.intake.pipeline import _check_title, _identify
    from ingestion.intake.problems import Rejection
    from ingestion.intake.pseudonym import pseudonym_key
    from ingestion.intake.readers.isolated import shared_reader
    from ingestion.intake.validate import BatchItem, validate, validate_batch

    items = []
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        try:
            rn, source, period = _identify(path.name)
            read = shared_reader().read(path.read_bytes(), rn.extension, source.code, pseudonym_key())
            _check_title(read, rn)
        except Rejection:
            continue
        items.append(BatchItem(read.parsed.frame, source, period.end_date, read.parsed.written))
    validate(items[0].frame, items[0].source, items[0].period_end, items[0].written)  # import and warm GX
    start = time.perf_counter()
    for i in items:
        validate(i.frame, i.source, i.period_end, i.written)
    one = time.perf_counter() - start
    start = time.perf_counter()
    validate_batch(items)
    return len(items), sum(len(i.frame) for i in items), one, time.perf_counter() - start


def distinct_seconds(rows: int, workdir: Path) -> tuple[int, float, float]:
    """GX on one large return: every row (`validate`) vs one-value rules on distinct values (`validate_batch`)."""
    from bench.intake import make_rows, write_csv
    from ingestion.contract.sources import SOURCES
    from ingestion.intake.parse import parse_table
    from ingestion.intake.pseudonym import pseudonym_key
    from ingestion.intake.readers.table import read_table
    from ingestion.intake.validate import BatchItem, validate, validate_batch
    from ingestion.reference import periods

    source = SOURCES["dieutra"]
    path = workdir / "dieutra_CA-TINH_2024-Y.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, make_rows(rows))
    parsed = parse_table(read_table(path.read_bytes(), "csv", source), source, pseudonym_key())
    end = periods()["2024-Y"].end_date
    start = time.perf_counter()
    alone = validate(parsed.frame, source, end, parsed.written)
    every_row = time.perf_counter() - start
    start = time.perf_counter()
    (batched,) = validate_batch([BatchItem(parsed.frame, source, end, parsed.written)])
    distinct = time.perf_counter() - start
    assert batched.problems == alone.problems and batched.outcomes == alone.outcomes
    return len(parsed.frame), every_row, distinct


def main(argv: list[str] | None = None) -> int:
    from ingestion.platform import envhelp
    from ingestion.platform.warehouse import embedded_server_url

    parser = envhelp.parser(
        "python -m bench.batch_intake",
        "Intake and GX: one file at a time vs batches. Writes bench/results/batch_intake.md.",
        ("WAREHOUSE_URL", "PCTN_PSEUDONYM_KEY"),
    )
    parser.add_argument("--inbox", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/pctn_bench_batch"))
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the one large return (0: skip)")
    args = parser.parse_args(argv)
    admin = os.environ.get("WAREHOUSE_URL") or embedded_server_url(database="postgres")
    lines = [
        "| inbox | files | intake, 1 file per GX run: s (files/s) | intake, batches: s (files/s) | speed-up |"
        " GX readable files, rows | GX per file: s (s/file) | GX one batch: s (s/file) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for inbox in args.inbox:
        t1, n = intake_seconds(admin, inbox, args.out, 1)
        tb, _ = intake_seconds(admin, inbox, args.out, 200)
        files, rows, g1, gb = gx_seconds(inbox)
        lines.append(
            f"| `{inbox}` | {n} | {t1:.1f} ({n / t1:.1f}) | {tb:.1f} ({n / tb:.1f}) | {t1 / tb:.1f}× |"
            f" {files}, {rows:,} | {g1:.1f} ({g1 / files:.3f}) | {gb:.1f} ({gb / files:.3f}) |"
        )
        print(lines[-1], flush=True)
    if args.rows:
        n, every_row, distinct = distinct_seconds(args.rows, args.out / "large")
        lines += [
            "",
            "| return | rows | GX, every row (`validate`) s | value rules on distinct values (`validate_batch`) s |",
            "|---|---:|---:|---:|",
            f"| dieutra CSV | {n:,} | {every_row:.1f} | {distinct:.1f} |",
        ]
        print(lines[-1], flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

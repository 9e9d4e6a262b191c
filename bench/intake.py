"""Intake throughput at scale, against a plain PostgreSQL COPY of the same rows.

`python -m bench.intake --rows 1000000` writes a dieutra return of N rows as CSV
and as XLSX (official layout not needed at this size: a header and rows), then in
one run and one fresh database measures:

- baseline: `COPY … FROM STDIN (FORMAT csv)` of the CSV bytes into a table of
  text columns (what PostgreSQL alone costs);
- intake of the CSV and of the XLSX through the real pipeline (register → read →
  parse → validate with GX → COPY), with the time of each step;
- validation alone: the GX suite vs one hand-written SQL pass over the same rules.

Results are printed as a markdown table and written to bench/results/intake.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import time
from pathlib import Path

import psycopg

from ingestion.contract.sources import SOURCES

RESULTS = Path(__file__).resolve().parent / "results"
CHANNELS = ["Thanh tra", "Kiểm tra", "Tố cáo, tin báo", "Báo chí", "Cơ quan điều tra tự phát hiện"]
STATUSES = ["Đang điều tra", "Đề nghị truy tố", "Tạm đình chỉ", "Đình chỉ"]
ARTICLES = ["353", "Điều 354", "355 BLHS", "khoản 3 Điều 356", "357", "358", "359", "Điều 219"]


def make_rows(n: int, seed: int = 168) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        day, month = rnd.randint(1, 28), rnd.randint(1, 11)
        rows.append(
            [
                f"VA-{i:08d}",
                f"Vụ án tham nhũng số {i} tại đơn vị {i % 977}",
                f"{day:02d}/{month:02d}/2024",
                rnd.choice(ARTICLES),
                str(rnd.randint(1, 9)),
                rnd.choice(CHANNELS),
                f"HS-{i}" if i % 7 == 0 else "",
                f"{(damage := rnd.randint(1, 900)) * 1_000_000:,}".replace(",", "."),
                f"{rnd.randint(0, damage)} triệu",
                rnd.choice(STATUSES),
                "",
                f"Người Thứ {i}; Người Khác {i}",
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    header = [c.header_vi for c in SOURCES["dieutra"].columns]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    import xlsxwriter

    header = [c.header_vi for c in SOURCES["dieutra"].columns]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, row)
    wb.close()


def timed(label: str, timings: dict[str, float]):
    class _T:
        def __enter__(self):
            self.t, self.cpu = time.perf_counter(), time.process_time()

        def __exit__(self, *exc):
            timings[label] = time.perf_counter() - self.t
            # CPU seconds of this process: on a shared, loaded machine the steadier measure of one step
            timings[f"{label} cpu"] = time.process_time() - self.cpu

    return _T()


def baseline_copy(url: str, path: Path) -> float:
    cols = ", ".join(f"c{i} text" for i in range(len(SOURCES["dieutra"].columns)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop table if exists bench_copy; create unlogged table bench_copy ({cols})")
        t = time.perf_counter()
        with conn.cursor().copy("copy bench_copy from stdin (format csv, header true)") as copy, path.open("rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        return time.perf_counter() - t


def intake_steps(url: str, path: Path) -> dict[str, float]:
    """The pipeline's steps, timed one by one on one file (same code as process_file)."""
    from ingestion.intake.filenames import parse_file_name
    from ingestion.intake.parse import parse_table
    from ingestion.intake.pipeline import process_file
    from ingestion.intake.pseudonym import pseudonym_key
    from ingestion.intake.readers.table import read_table
    from ingestion.intake.registry import register_file
    from ingestion.intake.schema import ensure_schema
    from ingestion.intake.validate import validate
    from ingestion.reference import periods

    source = SOURCES["dieutra"]
    t: dict[str, float] = {}
    data = path.read_bytes()
    rn = parse_file_name(path.name)
    with timed("read", t):
        table = read_table(data, rn.extension, source)
    with timed("parse", t):
        parsed = parse_table(table, source, pseudonym_key())
    with timed("validate (GX)", t):
        validate(parsed.frame, source, periods()[rn.period_code].end_date)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        conn.execute(f"truncate raw.{source.raw_table}")
        # the real end-to-end path: registry, read, parse, validate, COPY, one transaction
        with timed("end to end (process_file)", t):
            reg = register_file(conn, path)
            outcome = process_file(conn, reg.file_id, force=True)
        assert outcome.status == "loaded", outcome
        t["rows loaded"] = outcome.rows_loaded
    from ingestion.intake.readers.isolated import shared_reader

    t["reader peak MB"] = shared_reader().last_peak_rss_kb / 1024  # the child that read the file (RLIMIT_AS)
    shared_reader().close()  # a fresh child for the next file: its peak is that file's alone
    return t


def sql_validation(url: str) -> float:
    """The same row rules as the suite, hand-written as one SQL pass over the loaded rows."""
    sql = """
    select count(*) filter (where case_id is null or case_title is null or initiation_date is null
                               or article is null or accused_count is null or detection_channel is null
                               or status is null),
           count(*) filter (where detection_channel not in ('inspection','internal_check','audit','complaint',
                                  'press','investigation_own','other')),
           count(*) filter (where status not in ('investigating','proposed_prosecution','suspended','terminated')),
           count(*) filter (where accused_count < 0 or damage_vnd < 0 or secured_vnd < 0),
           count(*) filter (where initiation_date > date '2024-12-14' or closing_date > date '2024-12-14'),
           count(*) filter (where initiation_date < date '1990-01-01' or closing_date < date '1990-01-01'),
           count(*) filter (where secured_vnd > damage_vnd),
           (select count(*) from (select case_id from raw.dieutra_cases group by case_id having count(*) > 1) d)
    from raw.dieutra_cases
    """
    with psycopg.connect(url, autocommit=True) as conn:
        t = time.perf_counter()
        conn.execute(sql).fetchone()
        return time.perf_counter() - t


def main() -> None:
    from ingestion.platform.envhelp import epilog
    from ingestion.platform.warehouse import embedded_server_url

    parser = argparse.ArgumentParser(
        prog="python -m bench.intake",
        description="Intake benchmark: read, parse, validate, load N generated rows (CSV and XLSX) into a fresh "
        "database (--database, default pctn_bench); writes bench/results/intake.md.",
        epilog=epilog(("WAREHOUSE_URL", "PCTN_DATA_DIR", "PCTN_PSEUDONYM_KEY")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=None, help="rows of the XLSX case (default: --rows)")
    parser.add_argument("--database", default="pctn_bench", help="the database created afresh (default pctn_bench)")
    args = parser.parse_args()
    os.environ.setdefault("PCTN_PSEUDONYM_KEY", "bench-key")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    admin = os.environ.get("WAREHOUSE_URL") or embedded_server_url(database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:  # one fresh database per run
        conn.execute(f'drop database if exists "{args.database}" with (force)')
    from ingestion.platform.warehouse import ensure_database, with_database

    ensure_database(admin, args.database)
    url = with_database(admin, args.database)
    data_dir = RESULTS / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    rows = make_rows(args.rows)
    csv_path = data_dir / "dieutra_CA-TINH_2024-Y.csv"
    write_csv(csv_path, rows)
    xlsx_rows = rows[: args.xlsx_rows] if args.xlsx_rows else rows
    xlsx_path = data_dir / "xlsx" / "dieutra_CA-TINH_2024-Y.xlsx"
    xlsx_path.parent.mkdir(exist_ok=True)
    write_xlsx(xlsx_path, xlsx_rows)
    del rows

    copy_s = baseline_copy(url, csv_path)
    csv_t = intake_steps(url, csv_path)
    sql_s = sql_validation(url)
    xlsx_t = intake_steps(url, xlsx_path)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n, nx = args.rows, len(xlsx_rows)
    lines = [
        f"Rows: CSV {n:,}, XLSX {nx:,}; one fresh database; peak RSS of the benchmark process {peak_mb:,.0f} MB.",
        "",
        f"Peak RSS of the reader child (`peaks_kb`): CSV {csv_t['reader peak MB']:,.0f} MB,"
        f" XLSX {xlsx_t['reader peak MB']:,.0f} MB.",
        "",
        "| step | CSV s | CSV CPU s | CSV rows/s | XLSX s | XLSX CPU s | XLSX rows/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for step in ("read", "parse", "validate (GX)", "end to end (process_file)"):
        cpu = step != "end to end (process_file)"  # end to end reads in the child: its CPU is not this process's
        c_cpu = f"{csv_t[step + ' cpu']:.1f}" if cpu else ""
        x_cpu = f"{xlsx_t[step + ' cpu']:.1f}" if cpu else ""
        lines.append(
            f"| {step} | {csv_t[step]:.1f} | {c_cpu} | {n / csv_t[step]:,.0f} | {xlsx_t[step]:.1f} | {x_cpu}"
            f" | {nx / xlsx_t[step]:,.0f} |"
        )
    lines += [
        f"| baseline: plain `COPY` of the CSV | {copy_s:.1f} | | {n / copy_s:,.0f} | | | |",
        "",
        f"- intake / plain COPY, CSV: **{csv_t['end to end (process_file)'] / copy_s:.1f}×** the time",
        f"- intake / plain COPY, XLSX: **{xlsx_t['end to end (process_file)'] / copy_s * n / nx:.1f}×** "
        "(per row, against the CSV COPY)",
        f"- validation: GX suite {csv_t['validate (GX)']:.1f} s vs hand-written SQL of the same rules {sql_s:.2f} s "
        f"(**{csv_t['validate (GX)'] / sql_s:.0f}×**; per 1M rows GX costs {csv_t['validate (GX)'] / n * 1e6:.1f} s)",
    ]
    text = "\n".join(lines)
    print(text)
    (RESULTS / "intake.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

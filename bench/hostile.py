"""What each hostile file costs the intake, and what the reader isolation costs on the sample.

`python -m bench.hostile` reads every case of the hostile corpus
(`tests/hostile_files.py`) through the isolated reader, one at a time, and
reports the outcome, the wall time and the peak RSS of the reader process (the
child, which is what the limits bound). Then it runs the bundled sample through
the whole intake twice in fresh databases, once reading in process
(`PCTN_READER_ISOLATION=inprocess`, the intake as it was) and once isolated
(the default), and reports the ratio measured in the same run.

Results: printed as markdown and written to bench/results/hostile.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def cases() -> list[tuple[str, str, object]]:
    from tests import hostile_files as h

    return [
        ("far cell XFD1048576, with dimension", "xlsx", lambda: h.far_cell(True)),
        ("far cell XFD1048576, no dimension", "xlsx", lambda: h.far_cell(False)),
        ("zip bomb (64 MB sheet XML)", "xlsx", lambda: h.zip_bomb(64)),
        ("truncated zip", "xlsx", h.truncated_zip),
        ("DTD entities", "xlsx", h.dtd_entities),
        ("password-protected", "xlsx", h.encrypted),
        ("empty file", "csv", lambda: b""),
        ("5 MB cell (csv)", "csv", lambda: h.csv_with_cell(5_000_000)),
        ("40,000-char cell (xlsx)", "xlsx", lambda: h.xlsx_with_cell(40_000)),
        ("unterminated quote", "csv", h.unterminated_quote),
        ("quote closed by luck", "csv", h.quote_closed_by_luck),
        ("two matching sheets", "xlsx", h.two_matching_sheets),
        ("hidden sheet of old data first", "xlsx", h.hidden_old_data_first),
        ("signature line mid-table", "csv", h.signature_line_mid_table),
        ("numbers beyond int4/bigint", "csv", h.overflowing_numbers),
        ("formula without value", "xlsx", h.formula_without_value),
        ("1,048,576 blank rows", "xlsx", h.million_blank_rows),
        ("merged cells over data", "xlsx", h.merged_over_data),
        ("200,000-row csv", "csv", lambda: h.many_rows_csv(200_000)),
    ]


def hostile_table() -> list[str]:
    from ingestion.intake.problems import Rejection
    from ingestion.intake.readers.isolated import IsolatedReader

    reader = IsolatedReader()
    lines = [
        f"Reader limits: {reader.limits.memory_mb:,} MB address space, {reader.limits.timeout_s} s per file.",
        "",
        "| case | bytes | outcome | seconds | reader peak RSS MB |",
        "|---|---:|---|---:|---:|",
    ]
    from tests.hostile_files import many_rows_csv

    warm = many_rows_csv(1)
    for label, ext, build in cases():
        data = build()  # type: ignore[operator]
        reader.close()  # a fresh child per case, so each peak is that case's own ...
        reader.read(warm, "csv", "thanhtra", b"bench-key")  # ... started and warm before the clock starts
        t = time.perf_counter()
        try:
            result = reader.read(data, ext, "thanhtra", b"bench-key")
            outcome = f"read: {len(result.parsed.frame):,} records, {len(result.parsed.skipped)} skipped"
        except Rejection as exc:
            outcome = f"rejected `{exc.code}`"
        seconds = time.perf_counter() - t
        lines.append(f"| {label} | {len(data):,} | {outcome} | {seconds:.2f} | {reader.last_peak_rss_kb / 1024:,.0f} |")
    reader.close()
    return lines


def isolation_overhead(admin: str) -> list[str]:
    from ingestion.intake.pipeline import run_intake
    from ingestion.platform.warehouse import ensure_database, with_database

    samples = Path(__file__).resolve().parent.parent / "samples" / "returns"
    import psycopg

    timings: dict[str, list[float]] = {"inprocess": [], "process": []}
    # alternate the two modes, twice each, and keep each mode's best: the first run also pays imports
    for i, mode in enumerate(("process", "inprocess", "process", "inprocess")):
        name = f"pctn_bench_iso_{i}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
        ensure_database(admin, name)
        os.environ["PCTN_READER_ISOLATION"] = mode
        t = time.perf_counter()
        outcomes = run_intake(with_database(admin, name), samples, None, workers=1)
        timings[mode].append(time.perf_counter() - t)
        assert len(outcomes) == 114
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
    os.environ.pop("PCTN_READER_ISOLATION")
    best = {mode: min(ts) for mode, ts in timings.items()}
    ratio = best["process"] / best["inprocess"]
    runs = {mode: ", ".join(f"{t:.1f}" for t in ts) for mode, ts in timings.items()}
    return [
        "",
        "Bundled sample (114 files), whole intake, one worker, a fresh database per run, modes alternated:",
        "",
        "| reader | best s | runs s |",
        "|---|---:|---|",
        f"| in process (the intake without isolation) | {best['inprocess']:.1f} | {runs['inprocess']} |",
        f"| isolated child (default) | {best['process']:.1f} | {runs['process']} |",
        "",
        f"- isolation overhead: **{ratio:.2f}×** the in-process intake (best against best)",
        f"- peak RSS of the benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__)
    parser.add_argument("--no-sample", action="store_true", help="skip the isolation-overhead run on the sample")
    args = parser.parse_args()
    os.environ.setdefault("PCTN_PSEUDONYM_KEY", "bench-key")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    lines = hostile_table()
    if not args.no_sample:
        from ingestion.platform.warehouse import embedded_server_url

        admin = os.environ.get("WAREHOUSE_URL") or embedded_server_url(database="postgres")
        lines += isolation_overhead(admin)
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hostile.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Peak memory of every process that handles one large CSV return, and where its CPU goes.

`python -m bench.memory --rows 1000000 --database pctn_bench_mem` writes (or reuses)
the generated `dieutra` CSV of `bench.intake`, then runs `process_file` on it in a
fresh Python process, the way an intake worker does (the file is registered first,
in a process of its own, as the intake's registering step does): the isolated reader child
reads and parses it, the worker unpickles the result, validates it with GX and
COPYs it. Reported per process: its own peak RSS (`VmHWM`, which `exec` resets,
unlike `ru_maxrss`) and its CPU seconds. Add `--rounds 2` to run it twice in a row
(fresh processes each time) and see the noise.

Results are printed and, with `--out NAME`, written to `bench/results/NAME.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _vmhwm_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _register(url: str, path: str) -> None:
    """In a fresh process, as the intake's registering step: store the sealed original, print its id and peak."""
    import psycopg

    from ingestion.intake.registry import register_file
    from ingestion.intake.schema import ensure_schema

    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        conn.execute("truncate raw.dieutra_cases")
        reg = register_file(conn, Path(path))
    print(json.dumps({"file_id": reg.file_id, "register_peak_mb": _vmhwm_kb() / 1024}))


def _one_file(url: str, file_id: str) -> None:
    """In the fresh worker process: process the registered file, print the measures as JSON."""
    import resource

    import psycopg

    from ingestion.intake.pipeline import process_file
    from ingestion.intake.readers.isolated import shared_reader

    with psycopg.connect(url, autocommit=True) as conn:
        before_kb = _vmhwm_kb()
        t, cpu = time.perf_counter(), time.process_time()
        outcome = process_file(conn, int(file_id), force=True)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    reader = shared_reader()
    child_kb = reader.last_peak_rss_kb
    reader.close()  # reaps the child: its CPU is then in RUSAGE_CHILDREN
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "status": outcome.status,
                "rows_loaded": outcome.rows_loaded,
                "wall_s": wall,
                "worker_cpu_s": cpu,
                "reader_cpu_s": children.ru_utime + children.ru_stime,
                "worker_peak_mb": _vmhwm_kb() / 1024,
                "worker_before_mb": before_kb / 1024,
                "reader_peak_mb": child_kb / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="pctn_bench_mem", help="created afresh")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", default=None, help="write bench/results/OUT.md")
    parser.add_argument("--one-file", nargs=2, metavar=("URL", "FILE_ID"), help=argparse.SUPPRESS)
    parser.add_argument("--register", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("PCTN_PSEUDONYM_KEY", "bench-key")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if args.one_file:
        _one_file(*args.one_file)
        return
    if args.register:
        _register(*args.register)
        return

    import psycopg

    from bench.intake import make_rows, write_csv
    from ingestion.platform.warehouse import embedded_server_url, ensure_database, with_database

    admin = os.environ.get("WAREHOUSE_URL") or embedded_server_url(database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.database}" with (force)')
    ensure_database(admin, args.database)
    url = with_database(admin, args.database)
    data_dir = RESULTS / "data" / f"memory-{args.rows}"
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "dieutra_CA-TINH_2024-Y.csv"
    if not path.exists():  # the generator is deterministic: the file of N rows is made once
        write_csv(path, make_rows(args.rows))

    def run(*argv: str) -> dict[str, float]:
        out = subprocess.run([sys.executable, "-m", "bench.memory", *argv], check=True, capture_output=True, text=True)
        measured: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return measured

    from bench.intake import baseline_copy

    copy_s = baseline_copy(url, path)  # plain COPY of the same bytes into text columns: the throughput baseline
    runs = []
    for _ in range(args.rounds):
        reg = run("--register", url, str(path))
        runs.append({**reg, **run("--one-file", url, str(int(reg["file_id"])))})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.database}" with (force)')
    lines = [
        f"One `dieutra` CSV of {args.rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB) through `process_file`"
        " in a fresh worker process, per round:",
        "",
        "| round | status | rows loaded | wall s | reader child CPU s | worker CPU s | reader child peak MB"
        " | worker peak MB | registering process peak MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(runs, start=1):
        lines.append(
            f"| {i} | {r['status']} | {r['rows_loaded']:,} | {r['wall_s']:.1f} | {r['reader_cpu_s']:.1f}"
            f" | {r['worker_cpu_s']:.1f} | {r['reader_peak_mb']:,.0f} | {r['worker_peak_mb']:,.0f}"
            f" | {r['register_peak_mb']:,.0f} |"
        )
    lines += [
        "",
        f"Plain `COPY` of the same CSV into text columns, same run: {copy_s:.1f} s wall;"
        f" intake / COPY: {min(r['wall_s'] for r in runs) / copy_s:.1f}x the time (best round).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        (RESULTS / f"{args.out}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

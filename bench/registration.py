"""Registration alone: every file of an inbox read, sealed and registered, into a fresh database.

Registration is the sequential first step of every intake (it decides what is new), so
its per-file cost is paid once per file of the inbox, before any worker starts:

    python -m bench.registration --inbox DIR [--database pctn_bench_registration]

prints the files, seconds, files/s and the client's CPU seconds (JSON). Run it on two
commits back to back to compare them; `WAREHOUSE_URL` names the server (else the
embedded one).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import psycopg


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.registration", description=__doc__.split("\n\n")[0])
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--database", default="pctn_bench_registration")
    args = parser.parse_args()
    os.environ.setdefault("PCTN_PSEUDONYM_KEY", "bench-key")
    from bench.national import fresh_database
    from ingestion.intake.pipeline import entry_name, register_entries
    from ingestion.intake.schema import ensure_schema
    from ingestion.platform.warehouse import embedded_server_url

    admin = os.environ.get("WAREHOUSE_URL") or embedded_server_url(database="postgres")
    url = fresh_database(admin, args.database)
    paths = sorted(p for p in args.inbox.rglob("*") if p.is_file())
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        cpu, start = time.process_time(), time.perf_counter()
        registered, _ = register_entries(conn, [(p, entry_name(args.inbox, p)) for p in paths])
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.database}" with (force)')
    result = {"files": len(registered), "seconds": round(seconds, 1), "files_per_s": round(len(registered) / seconds)}
    print(json.dumps(result | {"client_cpu_s": round(cpu, 1)}))


if __name__ == "__main__":
    main()

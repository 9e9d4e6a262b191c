"""dbt at scale: a full build, then one new period's incremental build, as a ratio of it.

`measure_builds(url, inbox_first, inbox_added)` takes a fresh warehouse through
intake of `inbox_first` and a full `dbt build`, then intake of `inbox_added` (e.g.
one period's returns) and the incremental build that follows, and, optionally, a
build with nothing new (dbt's fixed cost: the floor under any incremental build).
Each build runs in its own process, so its peak RSS is its own. The national
benchmark calls it; `python -m bench.dbt_scale` runs it by hand:

    python -m ingestion_samples.generate --provinces 34 --years 2023-2025 \
        --inspections-per-year 800 --no-bad --out /tmp/nat/returns
    python -m bench.dbt_scale --inbox /tmp/nat/returns --hold-out 2025-Q4 \
        --url postgresql://postgres@127.0.0.1:5432/nat_bench

Builds exclude unit tests (they test the SQL, not the data; the DAG leaves them out
too); data tests run, as in production. The builds share one target folder, which an
untimed `dbt parse` fills first: dbt parses partially, as `python -m ingestion` (the
project's own target), the national benchmark and the DAG's producer (cosmos keeps a
partial-parse cache) do; a cold parse is not a cost production pays per build.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psycopg

RESULTS = Path(__file__).resolve().parent / "results"
BUILD_ARGS = ["build", "--exclude", "resource_type:unit_test"]
STATE_TABLES = (
    "int_thanhtra_inspection_states",
    "int_dieutra_case_states",
    "int_truyto_case_states",
    "int_xetxu_case_states",
    "int_thads_matter_states",
)


def split_period(inbox: Path, period_code: str, workdir: Path) -> tuple[Path, Path]:
    """Two inboxes from one: `first` without the returns of `period_code`, `added` with only them.

    Files are hard-linked where the file system allows (copied otherwise): the intake
    refuses symbolic links.
    """
    first, added = workdir / "first", workdir / "added"
    for folder in (first, added):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):
        target = (added if f"_{period_code}." in path.name or f"_{period_code}_" in path.name else first) / path.name
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
    if not any(added.iterdir()):
        raise ValueError(f"no return of period {period_code} in {inbox}")
    return first, added


def _build_in_child(url: str, args: list[str], target: str) -> dict[str, Any]:
    """Run one dbt build (in a child process) and summarise it with its peak RSS."""
    from ingestion.platform.transform import run_dbt

    started = time.perf_counter()
    run_dbt(url, args, target_path=Path(target), quiet=True)
    seconds = time.perf_counter() - started
    results = json.loads((Path(target) / "run_results.json").read_text())
    nodes = results["results"]
    by_type: dict[str, float] = {}
    for node in nodes:
        kind = node["unique_id"].split(".")[0]
        by_type[kind] = round(by_type.get(kind, 0.0) + node["execution_time"], 2)
    slowest = sorted(nodes, key=lambda n: -n["execution_time"])[:10]
    return {
        "seconds": round(seconds, 2),
        "dbt_elapsed_s": round(results["elapsed_time"], 2),
        "nodes": len(nodes),
        "node_seconds_by_type": by_type,
        "slowest": [[n["unique_id"], round(n["execution_time"], 2)] for n in slowest],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _build(url: str, args: list[str], target: Path) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_build_in_child, url, args, str(target)).result()


def _parse_in_child(url: str, target: str) -> None:
    from ingestion.platform.transform import run_dbt

    run_dbt(url, ["parse"], target_path=Path(target), quiet=True)


def _warm_parse(url: str, target: Path) -> None:
    """Fill `target` with dbt's partial-parse state (not timed)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        pool.submit(_parse_in_child, url, str(target)).result()


def _intake(url: str, inbox: Path, out_dir: Path) -> dict[str, Any]:
    from ingestion.intake.pipeline import run_intake

    started = time.perf_counter()
    outcomes = run_intake(url, inbox, out_dir)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "files": len(outcomes),
        "rows_loaded": sum(o.rows_loaded or 0 for o in outcomes),
    }


def _state_rows(url: str) -> dict[str, int]:
    """Rows of the state-history tables, and how many the latest build recomputed."""
    total = recomputed = 0
    with psycopg.connect(url) as conn:
        for table in STATE_TABLES:
            n, m = conn.execute(
                "select count(*), count(*) filter (where refreshed_at = latest.at)"
                f" from intermediate.{table}, (select max(refreshed_at) as at from intermediate.{table}) as latest"
            ).fetchone()  # type: ignore[misc]
            total, recomputed = total + n, recomputed + m
    return {"state_rows": total, "state_rows_recomputed": recomputed}


def measure_builds(
    url: str,
    inbox_first: Path,
    inbox_added: Path,
    *,
    work_dir: Path | None = None,
    measure_noop: bool = True,
) -> dict[str, Any]:
    """Full build after `inbox_first`, incremental build after `inbox_added`; seconds, ratio, slowest nodes.

    `url` should name an empty database: what is already loaded there counts as the first part.
    """
    work = work_dir or Path(os.environ.get("TMPDIR", "/tmp")) / f"dbt_scale_{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    target = work / "target"
    out: dict[str, Any] = {"intake_first": _intake(url, inbox_first, work / "out")}
    _warm_parse(url, target)
    out["full"] = _build(url, BUILD_ARGS, target)
    out["intake_added"] = _intake(url, inbox_added, work / "out")
    out["incremental"] = _build(url, BUILD_ARGS, target)
    out["incremental"] |= _state_rows(url)
    if measure_noop:
        out["nothing_new"] = _build(url, BUILD_ARGS, target)
    out["ratio_incremental_to_full"] = round(out["incremental"]["seconds"] / out["full"]["seconds"], 3)
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    out["cpus"] = os.cpu_count()
    return out


def markdown(result: dict[str, Any]) -> str:
    """The README table of one measurement."""
    rows = [("full `dbt build`", result["full"]), ("one new period, incremental", result["incremental"])]
    if "nothing_new" in result:
        rows.append(("nothing new (dbt's fixed cost)", result["nothing_new"]))
    lines = [
        f"First intake: {result['intake_first']['files']} files, {result['intake_first']['rows_loaded']:,} rows; "
        f"added: {result['intake_added']['files']} files, {result['intake_added']['rows_loaded']:,} rows. "
        f"Load average {result['load_average_1m']} on {result['cpus']} CPUs.",
        "",
        "| build | seconds | ratio to full | models s | tests s | peak RSS MB | slowest node |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    full = result["full"]["seconds"]
    for label, r in rows:
        by = r["node_seconds_by_type"]
        name, secs = r["slowest"][0]
        lines.append(
            f"| {label} | {r['seconds']:.1f} | {r['seconds'] / full:.2f} | {by.get('model', 0):.1f} | "
            f"{by.get('test', 0):.1f} | {r['peak_rss_mb']:.0f} | {name.split('.')[-1]} {secs:.1f} s |"
        )
    inc = result["incremental"]
    lines += [
        "",
        f"State-history rows recomputed by the incremental build: {inc['state_rows_recomputed']:,} "
        f"of {inc['state_rows']:,}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="an empty warehouse database")
    parser.add_argument("--inbox", type=Path, required=True, help="the whole inbox")
    parser.add_argument("--hold-out", required=True, help="period code whose returns arrive second, e.g. 2025-Q4")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--no-noop", action="store_true", help="skip the build with nothing new")
    parser.add_argument("--results", type=Path, default=RESULTS / "dbt_scale")
    args = parser.parse_args(argv)
    work = args.work_dir or Path(os.environ.get("TMPDIR", "/tmp")) / f"dbt_scale_{os.getpid()}"
    first, added = split_period(args.inbox, args.hold_out, work / "inboxes")
    result = measure_builds(args.url, first, added, work_dir=work, measure_noop=not args.no_noop)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    args.results.with_suffix(".md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

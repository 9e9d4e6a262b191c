"""National scale, end to end: a generated country-wide inbox through intake, dbt and extract.

`python -m bench.national --provinces 34 --years 2016-2025` (the full form, by hand)
or `make bench-national` (a small form that fits beside CI) generates the national
inbox, then in one run and one fresh database measures, each step in its own process
(seconds and the peak RSS of its largest process):

- a bare loop over the same files (read with calamine or the csv module, COPY the
  cells as text): the baseline the intake is compared with;
- the intake of everything but the latest period, then dbt's full build, then the
  extract: "the decade end to end";
- the latest period added: its intake and the incremental dbt build, as a ratio
  of the full build;
- the models DAG (Airflow, cosmos) against one `dbt build` of the same project;
- optionally one large CSV against a plain COPY (`bench.intake`).

Each step runs as a subprocess so its peak memory is its own (`os.wait4`); the
results go to `bench/results/national.md` and `national.json`, with each target of
issue 11 marked met or missed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
KIND_ORDER = {"Q1": 1, "Q2": 2, "6M": 3, "Q3": 4, "9M": 5, "Q4": 6, "Y": 7}
BARE_COLUMNS = 48


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss_mb: float
    detail: str = ""
    cpu_seconds: float = 0.0  # user + system CPU of the step and its children (not the server's)


def run_step(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Step:
    """Run one step as a child process; its wall time and the peak RSS of its largest process."""
    log = log_dir / f"{name.replace(' ', '_').replace('/', '_')}.log"
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"step '{name}' failed (exit {proc.returncode}); log {log}:\n{tail}")
    step = Step(name, seconds, usage.ru_maxrss / 1024, cpu_seconds=usage.ru_utime + usage.ru_stime)
    print(f"  {name:<40} {seconds:8.1f} s  {step.cpu_seconds:8.1f} CPU s  {step.peak_rss_mb:8.0f} MB", flush=True)
    return step


def period_of(name: str) -> str | None:
    from ingestion.intake.filenames import parse_file_name
    from ingestion.intake.problems import Rejection

    try:
        return parse_file_name(name).period_code
    except Rejection:
        return None


def latest_period(names: list[str]) -> str:
    codes = {p for n in names if (p := period_of(n))}
    return max(codes, key=lambda c: (int(c[:4]), KIND_ORDER.get(c[5:], 0)))


def split_latest(inbox: Path, added: Path) -> tuple[str, int]:
    """Move the files of the latest period out of the inbox into `added`: the period to add later."""
    period = latest_period([p.name for p in inbox.rglob("*") if p.is_file()])
    added.mkdir(parents=True, exist_ok=True)
    moved = 0
    for path in sorted(inbox.rglob("*")):
        if path.is_file() and period_of(path.name) == period:
            shutil.move(path, added / path.name)
            moved += 1
    return period, moved


def bare_loop(url: str, inbox: Path) -> tuple[int, int]:
    """The baseline: read each file with calamine or the csv module, COPY its cells as text. Files, rows."""
    from python_calamine import CalamineWorkbook

    cols = ", ".join(f"c{i} text" for i in range(BARE_COLUMNS))
    files = rows = 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop table if exists bench_bare; create unlogged table bench_bare (file text, {cols})")
        for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if path.suffix == ".csv":
                text = data.decode("utf-8", errors="replace")
                table = list(csv.reader(io.StringIO(text)))
            else:
                book = CalamineWorkbook.from_filelike(io.BytesIO(data))
                table = book.get_sheet_by_index(0).to_python()
            with conn.transaction(), conn.cursor().copy("copy bench_bare from stdin") as copy:
                for record in table:
                    cells = ["" if v is None else str(v) for v in record][:BARE_COLUMNS]
                    copy.write_row([path.name, *cells, *([None] * (BARE_COLUMNS - len(cells)))])
                    rows += 1
            files += 1
    return files, rows


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]


def fresh_database(admin: str, name: str) -> str:
    from ingestion.platform.warehouse import ensure_database, with_database

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
    ensure_database(admin, name)
    return with_database(admin, name)


def py(*code: str) -> list[str]:
    return [sys.executable, "-c", "\n".join(code)]


def dbt_build_argv(url: str, *extra: str) -> list[str]:
    return py(
        "import sys",
        "from ingestion.platform.transform import run_dbt",
        f"run_dbt({url!r}, ['build', *sys.argv[1:]], quiet=True)",
    ) + list(extra)


def generate(options: list[str], work: Path, cache: Path | None, env: dict[str, str], logs: Path) -> Step:
    """Generate the inbox (returns/, reference/, expected.json) into `work`.

    With a cache folder the generator runs once per set of options and later runs take a
    hard-linked copy: the decade takes minutes to generate, and the generator is deterministic.
    """
    argv = [sys.executable, "-m", "ingestion_samples.generate", *options]
    into = work if cache is None else cache
    generated = [*argv, "--out", str(into / "returns"), "--expected", str(into / "expected.json")]
    if cache is None:
        return run_step("generate", generated, env, logs)
    marker = cache / "generator.json"
    if marker.is_file() and json.loads(marker.read_text()) == options:
        step = run_step("generate (cached copy)", ["cp", "-al", str(cache / "returns"), str(work)], env, logs)
    else:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        step = run_step("generate", generated, env, logs)
        marker.write_text(json.dumps(options))
        subprocess.run(["cp", "-al", str(cache / "returns"), str(work)], check=True)
    for name in ("reference", "expected.json"):
        if (cache / name).exists():
            subprocess.run(["cp", "-al", str(cache / name), str(work / name)], check=True)
    return step


def measure(args: argparse.Namespace) -> dict[str, object]:
    from ingestion.platform.warehouse import embedded_server_url

    work = Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    logs = work / "logs"
    env = dict(os.environ)
    env.setdefault("PCTN_PSEUDONYM_KEY", "bench-key")
    env |= {"GX_ANALYTICS_ENABLED": "false", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PCTN_PROGRESS": "never"}
    env["PYTHONPATH"] = str(REPO)
    admin = os.environ.get("WAREHOUSE_URL") or embedded_server_url(database="postgres")
    steps: list[Step] = []
    print(f"national benchmark: {args.provinces} provinces, years {args.years}, work folder {work}", flush=True)

    inbox = work / "returns"
    options = ["--provinces", str(args.provinces), "--years", args.years, "--no-bad", *args.generator_args]
    steps.append(generate(options, work, Path(args.inbox_cache).resolve() if args.inbox_cache else None, env, logs))
    reference = work / "reference"
    if reference.is_dir():  # the generator's reference data for provinces beyond the committed seeds
        env["PCTN_REFERENCE_DIR"] = str(reference)
    added = work / "added"
    period, moved = split_latest(inbox, added)
    all_files = sum(1 for p in inbox.rglob("*") if p.is_file()) + moved

    url = fresh_database(admin, args.database)
    bare_out = work / "bare.json"
    bare_code = py(
        "import sys, json",
        "from bench.national import bare_loop",
        "from pathlib import Path",
        "files, rows = bare_loop(sys.argv[1], Path(sys.argv[2]))",
        "Path(sys.argv[3]).write_text(json.dumps({'files': files, 'rows': rows}))",
    )
    bare = run_step("baseline: bare loop (read + COPY)", [*bare_code, url, str(inbox), str(bare_out)], env, logs)
    steps.append(bare)
    bare_counts = json.loads(bare_out.read_text())
    url = fresh_database(admin, args.database)  # the intake starts on an empty warehouse
    env_db = env | {"WAREHOUSE_URL": url, "PCTN_OUTPUT_DIR": str(work / "output")}
    intake = [sys.executable, "-m", "ingestion", "intake"]
    steps.append(run_step("intake (all but the latest period)", intake, env_db | {"RETURNS_INBOX": str(inbox)}, logs))
    files_in = _count(url, "select count(*) from registry.files")
    rows_in = _count(url, "select coalesce(sum(rows_read), 0) from registry.files")
    steps.append(run_step("dbt build (full)", dbt_build_argv(url), env_db, logs))
    first_latest = latest_period([p.name for p in inbox.rglob("*") if p.is_file()])
    extract = [sys.executable, "-m", "ingestion.extract", "--period", first_latest]
    extract += ["--out", str(work / "output" / "extract")]
    if args.extract:
        steps.append(run_step("extract", extract, env_db, logs))
    steps.append(run_step(f"intake of {period} ({moved} files)", intake, env_db | {"RETURNS_INBOX": str(added)}, logs))
    steps.append(run_step("dbt build (one period added)", dbt_build_argv(url), env_db, logs))
    if args.models_dag:
        dag_out = work / "models_dag.json"
        dag_code = py(
            "import sys, json",
            "from pathlib import Path",
            "from bench.models_dag import measure",
            "Path(sys.argv[2]).write_text(json.dumps(measure(sys.argv[1]), default=str))",
        )
        steps.append(run_step("models DAG vs dbt build", [*dag_code, url, str(dag_out)], env_db, logs))
    large: dict[str, object] = {}
    if args.large_csv_rows:
        steps.append(
            run_step(
                f"large CSV vs COPY ({args.large_csv_rows:,} rows)",
                [sys.executable, "-m", "bench.intake", "--rows", str(args.large_csv_rows), "--xlsx-rows", "1000"],
                env,
                logs,
            )
        )
        large["table"] = (RESULTS / "intake.md").read_text(encoding="utf-8")

    by_name = {s.name: s for s in steps}
    intake_s = by_name["intake (all but the latest period)"].seconds
    full_s = by_name["dbt build (full)"].seconds
    inc_s = by_name["dbt build (one period added)"].seconds
    end_to_end = intake_s + full_s + (by_name["extract"].seconds if args.extract else 0)
    result: dict[str, object] = {
        "provinces": args.provinces,
        "years": args.years,
        "files": all_files,
        "files_first_intake": files_in,
        "rows_first_intake": rows_in,
        "added_period": period,
        "added_files": moved,
        "bare_loop": bare_counts,
        "steps": [asdict(s) for s in steps],
        "ratios": {
            "intake_vs_bare_loop": intake_s / bare.seconds,
            # CPU of the client side (the server's is not counted): steadier than wall time on a loaded machine
            "intake_vs_bare_loop_cpu": by_name["intake (all but the latest period)"].cpu_seconds
            / max(bare.cpu_seconds, 1e-9),
            "intake_files_per_s": files_in / intake_s,
            "intake_rows_per_s": rows_in / intake_s,
            "incremental_vs_full_build": inc_s / full_s,
            "end_to_end_s": end_to_end,
        },
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    if args.models_dag:
        dag = json.loads((work / "models_dag.json").read_text())
        result["models_dag"] = dag
    result["large_csv"] = large
    return result


def report(result: dict[str, object]) -> str:
    ratios = result["ratios"]
    assert isinstance(ratios, dict)
    lines = [
        f"National benchmark, {result['date']}: {result['provinces']} provinces, years {result['years']}, "
        f"{result['files']:,} files ({result['files_first_intake']:,} in the first intake, "
        f"{result['rows_first_intake']:,} rows; then {result['added_period']}: {result['added_files']} files); "
        f"{result['cpu_count']} cores.",
        "",
        "| step | seconds | CPU seconds | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for s in result["steps"]:  # type: ignore[attr-defined]
        lines.append(f"| {s['name']} | {s['seconds']:.1f} | {s.get('cpu_seconds', 0):.1f} | {s['peak_rss_mb']:,.0f} |")
    met = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    lines += [
        "",
        "| measure | value | target | |",
        "|---|---:|---:|---|",
        f"| intake / bare loop (time) | {ratios['intake_vs_bare_loop']:.1f}× | ≤ 3× | "
        f"{met(ratios['intake_vs_bare_loop'] <= 3)} |",
        f"| intake / bare loop (client CPU) | {ratios.get('intake_vs_bare_loop_cpu', 0):.1f}× | | |",
        f"| intake files/s, rows/s | {ratios['intake_files_per_s']:.1f}, {ratios['intake_rows_per_s']:,.0f} | | |",
        f"| incremental build / full build | {ratios['incremental_vs_full_build']:.2f} | ≤ 0.1 | "
        f"{met(ratios['incremental_vs_full_build'] <= 0.1)} |",
        f"| end to end (intake + full build + extract) | {ratios['end_to_end_s'] / 60:.1f} min | "
        f"≤ 30 min (decade) / ≤ 3 min (a year) | |",
    ]
    dag = result.get("models_dag")
    if isinstance(dag, dict) and "ratio" in dag:
        lines.append(f"| models DAG / one dbt build | {dag['ratio']:.2f}× | ≤ 1.5× | {met(dag['ratio'] <= 1.5)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.national", description=__doc__.split("\n\n")[0])
    parser.add_argument("--provinces", type=int, default=34)
    parser.add_argument("--years", default="2016-2025")
    parser.add_argument("--work", default=str(REPO / "bench" / "results" / "national-data"))
    parser.add_argument("--no-models-dag", dest="models_dag", action="store_false")
    parser.add_argument("--no-extract", dest="extract", action="store_false")
    parser.add_argument("--large-csv-rows", type=int, default=0, help="also bench.intake with this many rows")
    parser.add_argument("--database", default="pctn_national", help="the database made afresh on the server")
    parser.add_argument(
        "--inbox-cache",
        default="",
        help="generate the inbox once into this folder and reuse it (hard links) while the options are the same",
    )
    parser.add_argument("--name", default="national", help="results file name (bench/results/<name>.md)")
    parser.add_argument("generator_args", nargs="*", help="after --: more options for the generator")
    args = parser.parse_args()
    result = measure(args)
    text = report(result)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text(text + "\n", encoding="utf-8")
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

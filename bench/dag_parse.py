"""Parse time of each DAG file, as the dag-processor sees it.

Each file is parsed in a fresh interpreter that has already imported Airflow (as
the dag-processor has), so the number is what the file itself costs: its imports,
the cosmos rendering of the dbt manifest, building the DAG. Best of `--repeat` runs.

    python bench/dag_parse.py            # one line per file + a summary line
    python bench/dag_parse.py --json     # machine-readable (the DagBag test uses it)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DAGS = REPO / "dags"

_PROBE = r"""
import json, sys, time
import airflow.sdk  # noqa: F401  (warm, like the dag-processor)
from airflow.dag_processing.dagbag import BundleDagBag
path, bundle = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
bag = BundleDagBag(path, bundle_path=bundle)
elapsed = time.perf_counter() - t0
HEAVY = ("pandas", "great_expectations", "dbt.cli", "polars", "ingestion.intake.pipeline")
heavy = [m for m in HEAVY if m in sys.modules]
print(json.dumps({"seconds": elapsed, "dags": sorted(bag.dag_ids), "errors": bag.import_errors, "heavy": heavy,
                  "tasks": sum(len(d.tasks) for d in bag.dags.values())}))
"""


def parse_env(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    return env


def dag_files() -> list[Path]:
    return sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))


def measure(path: Path, env: dict[str, str], repeat: int = 3) -> dict:
    best: dict | None = None
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path), str(DAGS)],
            env=env, capture_output=True, text=True, check=True, cwd=REPO,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return {"file": path.name, **best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="biến môi trường / environment variables: none read (each probe gets a throw-away AIRFLOW_HOME)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="parses per file; the best is kept (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON list instead of lines")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pctn-dagparse-") as home:
        env = parse_env(home)
        results = [measure(p, env, args.repeat) for p in dag_files()]
    if args.json:
        print(json.dumps(results))
        return 0
    for r in results:
        print(f"{r['file']:28} {r['seconds'] * 1000:8.0f} ms  {r['tasks']:3d} tasks  {', '.join(r['dags'])}")
    print("dag_parse: " + ", ".join(f"{r['file']} {r['seconds']:.2f}s" for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

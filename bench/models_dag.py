"""The `pctn_models` DAG against one `dbt build` of the same project, in the same run.

Both run as fresh processes on the same warehouse, one after the other, so each pays
its own imports and dbt parse, as it would in production:

- baseline: the `dbt` executable, `dbt build --exclude resource_type:unit_test` (the
  selection the DAG builds), artefacts in a temporary folder that a `dbt parse` (not
  timed) filled first, so dbt parses partially, as in a checkout that ran dbt before
  and as the DAG's producer does (cosmos keeps a partial-parse cache);
- the DAG: `airflow dags test pctn_models` (dag.test(): every task of the run in one
  process, SQLite metadata in a temporary AIRFLOW_HOME migrated beforehand and not
  timed), the warehouse as the connection `warehouse`.

Peak RSS is the largest sum of the resident memory of the process and its children,
sampled every 0.2 s. The target (issue 11) is a ratio of at most 1.5.

    python bench/models_dag.py [WAREHOUSE_URL]       # prints JSON; the lead's bench calls measure(url)
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent

TARGET_RATIO = 1.5
DBT_ARGS = ["build", "--exclude", "resource_type:unit_test"]


def run_measured(cmd: Sequence[str], env: dict[str, str], timeout: float = 3600) -> dict:
    """Run `cmd`; its wall seconds, peak RSS (MB, process tree), return code and output tail."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(list(cmd), env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            if time.perf_counter() - started > timeout:
                proc.kill()
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        out.seek(0)
        tail = out.read()[-4000:]
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak / 2**20),
        "returncode": proc.returncode,
        "tail": tail,
    }


def dbt_build(url: str) -> dict:
    """One `dbt build` of the project (no unit tests), as a fresh `dbt` process, partial parse warm."""
    from ingestion.platform.transform import DBT_PROJECT_DIR
    from ingestion.platform.warehouse import dbt_env

    dbt = Path(sys.executable).parent / "dbt"
    with tempfile.TemporaryDirectory(prefix="pctn-bench-dbt-") as target:
        env = {
            **os.environ,
            **dbt_env(url),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_LOG_PATH": str(Path(target) / "logs"),
        }
        dirs = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", target]
        subprocess.run([str(dbt), "parse", *dirs], env=env, cwd=REPO, capture_output=True, check=True)  # warm
        return run_measured([str(dbt), *DBT_ARGS, *dirs], env)


def _airflow_env(home: Path, url: str) -> dict[str, str]:
    from ingestion.platform.airflow_env import airflow_env, connection_json

    env = {**os.environ, **airflow_env(home, url, f"sqlite:///{home}/airflow.db")}
    env["AIRFLOW_CONN_WAREHOUSE"] = connection_json(url)
    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "false"
    env.pop("WAREHOUSE_URL", None)  # the connection is the only way in, as under Airflow
    return env


def _task_states(home: Path) -> dict[str, int]:
    with sqlite3.connect(home / "airflow.db") as db:
        (run_id,) = db.execute(
            "select run_id from dag_run where dag_id = 'pctn_models' order by id desc limit 1"
        ).fetchone()
        rows = db.execute(
            "select coalesce(state, 'none'), count(*) from task_instance"
            " where dag_id = 'pctn_models' and run_id = ? group by 1",
            (run_id,),
        ).fetchall()
    return dict(rows)


def models_dag(url: str) -> dict:
    """One `airflow dags test pctn_models` run (metadata migrated first, not timed)."""
    from ingestion.platform.airflow_env import DBT_MANIFEST
    from ingestion.platform.transform import run_dbt

    if not DBT_MANIFEST.exists():  # cosmos renders the DAG from it; parse never connects
        run_dbt(url, ["parse"], quiet=True)
    with tempfile.TemporaryDirectory(prefix="pctn-bench-airflow-") as tmp:
        home = Path(tmp)
        env = _airflow_env(home, url)
        migrate = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed: {migrate.stderr[-2000:]}")
        result = run_measured([sys.executable, "-m", "airflow", "dags", "test", "pctn_models"], env)
        result["task_states"] = _task_states(home)
    return result


def measure(url: str) -> dict:
    """Both, same warehouse, same run: seconds, peak RSS, and the DAG/build ratio (target <= 1.5)."""
    build = dbt_build(url)
    if build["returncode"] != 0:
        raise RuntimeError(f"dbt build failed:\n{build['tail']}")
    dag = models_dag(url)
    failed = {s: n for s, n in dag["task_states"].items() if s != "success"}
    if dag["returncode"] != 0 or failed:
        raise RuntimeError(f"pctn_models did not succeed ({failed}):\n{dag['tail']}")
    ratio = dag["seconds"] / build["seconds"]
    return {
        "dbt_build_s": build["seconds"],
        "dbt_build_peak_rss_mb": build["peak_rss_mb"],
        "models_dag_s": dag["seconds"],
        "models_dag_peak_rss_mb": dag["peak_rss_mb"],
        "models_dag_tasks": sum(dag["task_states"].values()),
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    from ingestion.platform.warehouse import warehouse_url

    print(json.dumps(measure(args[0] if args else warehouse_url()), indent=2))


if __name__ == "__main__":
    main()

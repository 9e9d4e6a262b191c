"""Run the dbt project (staging -> case spine -> indicators) against a warehouse.

dbt runs in-process through `dbtRunner`, with the profile in `dbt_project/`
and the connection taken from the warehouse URL (`ingestion.platform.warehouse.dbt_env`),
so the embedded pgserver's unix-socket host works as well as a TCP server.
dbt reads its profile's `env_var`s from the process environment, so they are set
for the duration of the call and restored afterwards. A run that writes relations
holds the marts lock exclusively and records itself (`ingestion.platform.marts_lock`), so a
build never overlaps another build or an extract, whoever started them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ingestion.paths import REPO_ROOT
from ingestion.platform.marts_lock import is_writing, marts_build
from ingestion.platform.warehouse import dbt_env

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"  # = ingestion.paths.DBT_PROJECT_DIR

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# dbtRunner is not re-entrant and the environment is process-wide: one run at a time.
_DBT_LOCK = threading.Lock()


class DbtRunError(RuntimeError):
    """dbt ended with an error or with failing nodes (models, tests, seeds)."""

    def __init__(self, args: Sequence[str], failures: list[str], exception: BaseException | None = None):
        self.args_used = list(args)
        self.failures = failures
        detail = "; ".join(failures) if failures else (repr(exception) if exception else "unknown error")
        super().__init__(f"dbt {' '.join(args)} failed: {detail}")


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _failures(result: object) -> list[str]:
    """Names and messages of the nodes that errored or failed."""
    failures: list[str] = []
    results = getattr(result, "results", None) or []
    for node_result in results:
        status = str(getattr(node_result, "status", "")).lower()
        if status in {"error", "fail", "runtime error", "runtimeerror"} or status.endswith(("error", "fail")):
            node = getattr(node_result, "node", None)
            name = getattr(node, "unique_id", None) or getattr(node, "name", "?")
            message = _ANSI.sub("", getattr(node_result, "message", "") or "").strip().splitlines()
            failures.append(f"{name}: {message[0] if message else status}")
    return failures


def invocation_id(target_dir: Path) -> str | None:
    """dbt's invocation id of the run whose artefacts are in `target_dir` (its run_results.json)."""
    import json

    try:
        return json.loads((target_dir / "run_results.json").read_text(encoding="utf-8"))["metadata"]["invocation_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _invoke(cli_args: list[str], env: dict[str, str], callbacks: Sequence[Callable[[Any], None]]) -> Any:
    from dbt.cli.main import dbtRunner  # local import: dbt takes a few seconds to import

    with _DBT_LOCK, _environment(env):
        return dbtRunner(callbacks=list(callbacks)).invoke(cli_args)


def run_dbt(
    url: str,
    args: list[str],
    *,
    target_path: Path | None = None,
    quiet: bool = False,
    callbacks: Sequence[Callable[[Any], None]] = (),
) -> Any:
    """Run `dbt <args>` on the warehouse at `url`; raise `DbtRunError` naming the failing nodes.

    `target_path` keeps dbt's artefacts (manifest, run results) out of the source tree,
    e.g. a temporary directory in tests or a task's own folder in Airflow. `quiet` keeps
    dbt's own log lines off the console (errors still show); `callbacks` receive every
    dbt event, whatever the log level (the CLI's progress bar counts finished nodes).
    A writing command (build, run, seed, snapshot) waits for the marts lock first
    (`PCTN_MARTS_LOCK_TIMEOUT`) and records itself complete or failed.
    """
    env = dbt_env(url) | {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }
    cli_args = [
        *(["--quiet"] if quiet else []),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    if target_path is not None:
        cli_args += ["--target-path", str(target_path)]
        env["DBT_LOG_PATH"] = str(target_path / "logs")

    if is_writing(args):
        with marts_build(url, args, origin="ingestion.platform.transform") as build:
            result = _invoke(cli_args, env, callbacks)
            build.succeeded = bool(result.success)
            build.invocation_id = invocation_id(target_path or DBT_PROJECT_DIR / "target")
            if not result.success:
                build.detail = "; ".join(_failures(result.result))[:2000] or repr(result.exception)[:2000]
    else:
        result = _invoke(cli_args, env, callbacks)
    if not result.success:
        raise DbtRunError(args, _failures(result.result), result.exception)
    return result.result

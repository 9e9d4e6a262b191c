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

import psycopg

from ingestion.paths import REPO_ROOT
from ingestion.platform.marts_lock import is_writing, marts_build
from ingestion.platform.warehouse import dbt_env

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

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


HEADLINE_SQL = """
select
    e.indicator_code,
    i.name_vi,
    i.name_en,
    i.unit,
    e.scope,
    e.report_year,
    e.value,
    e.previous_value,
    e.change_pct
from marts.fct_yearly_evaluation as e
inner join marts.dim_indicators as i on e.indicator_code = i.indicator_code
where i.is_headline
  and e.scope = i.default_scope
  and e.province_code = %(province)s
  and e.unit_level = 'province'
  and e.report_year = %(year)s
order by i.display_order
"""


def headline_indicators(url: str) -> list[dict[str, object]]:
    """Headline indicators (the deployment's province, restated, default scope) of the latest year with yearly returns.

    Which indicators are headlines, and their order, is `marts.dim_indicators` (`is_headline`,
    `display_order`): the same list the extract's summary and the yearly draft show.

    The year is the calendar's latest `Y` period with loaded returns (`ingestion.calendar`);
    none loaded, no rows. The marts hold every province of the reference and a national
    total: the summary keeps to the deployment's own province (dbt var `province_code`), as
    the extract does.
    """
    from ingestion.calendar import latest_reported
    from ingestion.reference import PROVINCE_CODE

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        year = latest_reported(conn, "Y")
        if year is None:
            return []
        cur.execute(HEADLINE_SQL, {"province": PROVINCE_CODE, "year": year.report_year})
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _fmt(value: object, unit: str) -> str:
    if value is None:
        return "–"
    number = float(value)  # type: ignore[arg-type]
    if unit == "ratio":
        return f"{number:.1%}"
    if unit == "vnd":
        return f"{number / 1e9:,.2f} tỷ"
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.1f}"


def format_headline(rows: list[dict[str, object]]) -> str:
    """A plain-text table of `headline_indicators` for the end of `make run`."""
    if not rows:
        return "No yearly indicator values yet (no Y returns loaded)."
    year = rows[0]["report_year"]
    header = ("Indicator", "Scope", str(year), str(int(year) - 1), "Change")  # type: ignore[call-overload]
    lines = []
    for r in rows:
        unit = str(r["unit"])
        change = r["change_pct"]
        lines.append(
            (
                f"{r['name_en']} ({r['indicator_code']})",
                str(r["scope"]),
                _fmt(r["value"], unit),
                _fmt(r["previous_value"], unit),
                "–" if change is None else f"{float(change):+.0%}",  # type: ignore[arg-type]
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def row(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [f"Headline indicators {year}, Thanh Hóa province, today's units", row(header)]
    out.append("  ".join("-" * w for w in widths))
    out += [row(line) for line in lines]
    return "\n".join(out)

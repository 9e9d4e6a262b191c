"""Keeps `-m "not slow"` honest: a test without the `slow` marker may not run dbt or Airflow.

The README promises that `pytest -m "not slow"` (`make test-fast`) runs no dbt and no
Airflow. `tests/conftest.py` turns this guard on around the setup and the call of every
test that is not marked `slow` (session fixtures such as `sample_warehouse` are built in
the setup of the first test that asks for them, so they are covered too). It sees:

- dbt, through the project's one way in, `ingestion.platform.transform.run_dbt` (wrapped: the
  call goes through unchanged, and is recorded). `parse`, `ls`, `compile --help`-like
  commands that read the project without a warehouse are allowed; `build`, `run`,
  `test`, `seed`, `snapshot`, `source`, `docs` are not.
- any subprocess that runs dbt or an Airflow command beyond parsing (`dags test`,
  `tasks test`, `backfill`, `db migrate`, `scheduler`, `celery`, …), through a Python
  audit hook on `subprocess.Popen` (PEP 578), which no code can bypass by importing
  `subprocess` differently.

A violation fails the test with the command it tried; mark such a test `slow`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from typing import Any

DBT_READ_ONLY = {"parse", "ls", "list", "debug", "--version", "--help"}
AIRFLOW_ALLOWED = {"version", "info", "config", "--help", "cheat-sheet"}


def _dbt_command(args: Sequence[str]) -> str | None:
    words = [a for a in args if not a.startswith("-")]
    return words[0] if words else None


def dbt_violation(args: Sequence[str]) -> str | None:
    command = _dbt_command(args)
    if command is None or command in DBT_READ_ONLY:
        return None
    return "dbt " + " ".join(args)


def _program(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """('airflow' | 'dbt', the arguments after it) for a command line that runs either."""
    argv = [str(a) for a in argv]
    for i, word in enumerate(argv):
        name = os.path.basename(word)
        if name in ("airflow", "dbt"):
            return name, argv[i + 1 :]
        if word == "-m" and i + 1 < len(argv) and argv[i + 1] in ("airflow", "dbt"):
            return argv[i + 1], argv[i + 2 :]
    return None


def popen_violation(argv: Sequence[str] | str | bytes) -> str | None:
    if isinstance(argv, str | bytes):
        argv = str(argv).split()
    found = _program(argv)
    if found is None:
        return None
    program, rest = found
    if program == "dbt":
        return dbt_violation(rest)
    command = _dbt_command(rest)
    if command is None or command in AIRFLOW_ALLOWED:
        return None
    return "airflow " + " ".join(rest)


class RunGuard:
    """Records dbt/Airflow runs while `active` names a test that is not marked slow."""

    def __init__(self) -> None:
        self.active: str | None = None
        self.violations: list[str] = []

    def start(self, nodeid: str) -> None:
        self.active, self.violations = nodeid, []

    def stop(self) -> list[str]:
        found, self.active, self.violations = self.violations, None, []
        return found

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self.active is None or event != "subprocess.Popen":
            return
        violation = popen_violation(args[1] if len(args) > 1 and args[1] is not None else args[0])
        if violation:
            self.violations.append(violation)

    def wrap_run_dbt(self, module: Any) -> None:
        original = module.run_dbt
        if getattr(original, "__pctn_guarded__", False):
            return

        @functools.wraps(original)
        def run_dbt(url: str, args: list[str], *a: Any, **kw: Any) -> Any:
            if self.active is not None:
                violation = dbt_violation(args)
                if violation:
                    self.violations.append(violation)
            return original(url, args, *a, **kw)

        run_dbt.__pctn_guarded__ = True  # type: ignore[attr-defined]
        module.run_dbt = run_dbt


GUARD = RunGuard()


def install() -> RunGuard:
    import ingestion.platform.transform

    GUARD.wrap_run_dbt(ingestion.platform.transform)
    if not getattr(sys, "__pctn_run_guard__", False):
        sys.addaudithook(GUARD.audit)
        sys.__pctn_run_guard__ = True  # type: ignore[attr-defined]
    return GUARD

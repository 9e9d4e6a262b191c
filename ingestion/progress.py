"""Progress of the CLI's long steps: files through the intake, dbt nodes, extract steps.

On a terminal a `rich` progress bar shows counts, the current file and an estimate;
elsewhere (CI, Airflow logs, a pipe) the bars are off and the intake writes one plain
line per file, so logs stay readable and grep-able. The choice is made once, from
whether stdout is a terminal (`PCTN_PROGRESS=always|never` forces it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ingestion.settings import env_name, settings

if TYPE_CHECKING:
    from ingestion.intake.pipeline import FileOutcome

PROGRESS_ENV = env_name("progress")

# dbt events that end one node (model, seed, test, unit test, snapshot)
_DBT_RESULT_EVENTS = frozenset(
    {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeResult", "LogNodeNoOpResult"}
)


def interactive(stream: Any = None) -> bool:
    """Bars on a terminal only, unless `PCTN_PROGRESS` says `always` or `never`."""
    forced = settings().progress
    if forced != "auto":
        return forced == "always"
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def outcome_line(outcome: FileOutcome) -> str:
    """One line per file: what the log of a non-interactive run shows."""
    if outcome.status == "rejected":
        return f"{outcome.file_name}: rejected {outcome.reject_code} — {outcome.reason_en}"
    if outcome.status in ("loaded", "superseded"):
        return (
            f"{outcome.file_name}: {outcome.status} (rows read {outcome.rows_read}, loaded {outcome.rows_loaded},"
            f" quarantined {outcome.rows_quarantined})"
        )
    return f"{outcome.file_name}: {outcome.status}"


def _columns() -> tuple[Any, ...]:
    return (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}", style="dim"),
    )


class Reporter:
    """Progress for one CLI command; plain lines when not interactive."""

    def __init__(self, interactive_: bool | None = None, console: Console | None = None) -> None:
        self.interactive = interactive() if interactive_ is None else interactive_
        self.console = console or Console(highlight=False)

    def _print(self, text: str) -> None:
        print(text, flush=True)

    @contextmanager
    def intake(self) -> Iterator[tuple[Callable[[int], None], Callable[[FileOutcome], None]]]:
        """`(on_start, on_outcome)` for `run_intake`."""
        counts = {"done": 0, "total": 0}
        if not self.interactive:

            def start(total: int) -> None:
                counts["total"] = total
                self._print(f"Intake: {total} file(s) to read, validate and load")

            def outcome(o: FileOutcome) -> None:
                counts["done"] += 1
                self._print(f"  [{counts['done']}/{counts['total']}] {outcome_line(o)}")

            yield start, outcome
            return
        with Progress(*_columns(), console=self.console, transient=False) as progress:
            task = progress.add_task("intake: files", total=None, detail="registering …")
            stats = {"loaded": 0, "rejected": 0, "duplicate": 0, "rows": 0}

            def start(total: int) -> None:
                progress.update(task, total=total)

            def outcome(o: FileOutcome) -> None:
                key = o.status if o.status in stats else "loaded"
                stats[key] += 1
                stats["rows"] += o.rows_loaded
                detail = (
                    f"{o.file_name}  (loaded {stats['loaded']}, rejected {stats['rejected']},"
                    f" duplicate {stats['duplicate']}; rows {stats['rows']})"
                )
                progress.update(task, advance=1, detail=detail)

            yield start, outcome

    @contextmanager
    def dbt(self, label: str) -> Iterator[Callable[[Any], None] | None]:
        """A dbtRunner callback that advances a bar per finished node (None when not interactive)."""
        if not self.interactive:
            self._print(f"{label} …")
            yield None
            return
        with Progress(*_columns(), console=self.console) as progress:
            task = progress.add_task(label, total=None, detail="parsing …")

            def callback(event: Any) -> None:
                name = event.info.name
                if name == "LogStartLine":
                    progress.update(task, total=event.data.total, detail=event.data.description)
                elif name in _DBT_RESULT_EVENTS:
                    progress.update(task, advance=1, detail=f"{event.data.status} {getattr(event.data, 'name', '')}")

            yield callback
            total = progress.tasks[0].total
            if total:
                progress.update(task, completed=total, detail="done")

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        """One named step (extract, Data Docs …): a spinner on a terminal, a line otherwise."""
        if not self.interactive:
            self._print(f"{text} …")
            yield
            return
        with self.console.status(text):
            yield
        self.console.print(f"[green]✓[/green] {text}")

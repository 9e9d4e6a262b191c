"""No empty delivery: an extract is built and sent only for a period (or phase) with returns.

On its first start, or on a deadline before any unit has sent, the reporting calendar
used to build and deliver an extract of empty tables and log it `delivered`. The
Inspectorate cannot tell such a file from a real "nothing happened" report, so the
guard refuses it before anything is built or sent, with a reason in Vietnamese and
English that the DAG shows as the task's skip reason.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

from ingestion.extract.queries import ExtractDataError
from ingestion.reference import SEEDS, periods


class NoLoadedReturns(ExtractDataError):
    """No return of the period (or phase) has a loaded version with rows: nothing to report."""

    def __init__(self, code: str, period_codes: Sequence[str]) -> None:
        self.code = code
        self.period_codes = list(period_codes)
        super().__init__(
            f"Kỳ {code}: chưa có báo cáo nào được nạp nên không lập và không gửi bảng số liệu"
            f" / {code}: no return has been loaded, so no extract is built or delivered"
        )


def periods_of(code: str) -> list[str]:
    """The reporting periods an extract code covers: itself, or every period of a phase's years."""
    all_periods = periods()
    if code in all_periods:
        return [code]
    with (SEEDS / "strategy_phases.csv").open(encoding="utf-8") as f:
        for phase in csv.DictReader(f):
            if phase["phase_code"] == code:
                first, last = int(phase["start_year"]), int(phase["end_year"])
                return sorted(p for p, info in all_periods.items() if first <= info.report_year <= last)
    raise ExtractDataError(f"Mã kỳ hoặc giai đoạn không có / unknown period or phase code {code!r}")


def require_loaded_returns(url: str, code: str) -> int:
    """The number of loaded returns for `code`; raise `NoLoadedReturns` when there is none."""
    from ingestion.intake.submissions import loaded_returns

    covered = periods_of(code)
    count = loaded_returns(url, covered)
    if count == 0:
        raise NoLoadedReturns(code, covered)
    return count


def reportable_periods(url: str, codes: Sequence[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Of `codes`, those with loaded returns (and how many), and the others with the reason (Vietnamese and English).

    What the extract DAG keeps before `build`, so a period without any return is never
    built or delivered and does not hold up the others.
    """
    kept: dict[str, int] = {}
    dropped: dict[str, str] = {}
    for code in codes:
        try:
            kept[code] = require_loaded_returns(url, code)
        except NoLoadedReturns as exc:
            dropped[code] = str(exc)
    return kept, dropped

"""The headline indicators at the end of `make run`: a report, so it selects from the marts.

Which indicators are headlines, and their order, is `marts.dim_indicators` (`is_headline`,
`display_order`); the year is the calendar's latest `Y` period with loaded returns. This used
to live inside the dbt runner (`ingestion.platform.transform`); the runner now only runs dbt.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from ingestion.calendar import latest_reported
from ingestion.reference import PROVINCE_CODE

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

"""The e-mails the platform sends an operator (subject and HTML body); `dags/_common.send_notice` sends them.

Every value put into the HTML is escaped: an exception's text can quote a file name an agency
chose (`<img onerror=…>.xlsx`), and a mail client renders what it is given.
"""

from __future__ import annotations

from html import escape


def failure_notice(
    dag_id: str, task_id: str, run_id: str, try_number: int, exc: BaseException | None
) -> tuple[str, str]:
    """A failed task (after its last retry): which, in which run, after how many tries, and its error."""
    subject = f"[PCTN] {dag_id}.{task_id} failed (run {run_id})"
    html = f"<p>Task <b>{escape(task_id)}</b> of DAG <b>{escape(dag_id)}</b> failed after {try_number} tries.</p>"
    if exc is not None:
        html += f"<p>{escape(type(exc).__name__)}: {escape(str(exc)[:500])}</p>"
    return subject, html


def missing_returns_notice(periods: list[str], missing: list[dict[str, str]]) -> tuple[str, str]:
    """The chase list of a deadline: one row per expected return not received (period, source, unit, due date)."""
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{escape(str(m[key]))}</td>" for key in ("period_code", "source", "unit_code", "due_date"))
        + "</tr>"
        for m in missing
    )
    html = (
        f"<p>Đơn vị chưa gửi báo cáo / returns not received: {len(missing)}</p>"
        f"<table><tr><th>Kỳ</th><th>Nguồn</th><th>Đơn vị</th><th>Hạn</th></tr>{rows}</table>"
    )
    return f"[PCTN] Missing returns {', '.join(periods)}", html

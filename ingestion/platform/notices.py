"""The e-mails the platform sends an operator (subject and HTML body); `dags/_common.send_notice` sends them."""

from __future__ import annotations


def failure_notice(
    dag_id: str, task_id: str, run_id: str, try_number: int, exc: BaseException | None
) -> tuple[str, str]:
    """A failed task (after its last retry): which, in which run, after how many tries, and its error."""
    subject = f"[PCTN] {dag_id}.{task_id} failed (run {run_id})"
    html = f"<p>Task <b>{task_id}</b> of DAG <b>{dag_id}</b> failed after {try_number} tries.</p>"
    if exc is not None:
        html += f"<p>{type(exc).__name__}: {str(exc)[:500]}</p>"
    return subject, html


def missing_returns_notice(periods: list[str], missing: list[dict[str, str]]) -> tuple[str, str]:
    """The chase list of a deadline: one row per expected return not received (period, source, unit, due date)."""
    rows = "".join(
        f"<tr><td>{m['period_code']}</td><td>{m['source']}</td><td>{m['unit_code']}</td><td>{m['due_date']}</td></tr>"
        for m in missing
    )
    html = (
        f"<p>Đơn vị chưa gửi báo cáo / returns not received: {len(missing)}</p>"
        f"<table><tr><th>Kỳ</th><th>Nguồn</th><th>Đơn vị</th><th>Hạn</th></tr>{rows}</table>"
    )
    return f"[PCTN] Missing returns {', '.join(periods)}", html

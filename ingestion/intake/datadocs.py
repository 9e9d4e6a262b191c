"""The validation report: static HTML pages built from the audit tables, readable offline.

Validation may run on any Celery worker, so no single process holds every result:
the report is rebuilt from what the warehouse keeps (`registry.files`,
`audit.validation_results`, `audit.quarantine`). It replaces GX Data Docs, whose
site loads its CSS and scripts from public CDNs (blank on a machine without
internet), names a page's data asset "None" and its run `__none__`, and writes
quarantined values into the page unescaped (stored XSS, issue 10).

So: one index of every file and one page per file, naming the file, source, unit,
period and run time; styles inlined, no script, no external URL; every value from a
return goes through Jinja2 with autoescape on, so `<script>` in a cell is text.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg
from jinja2 import DictLoader, Environment, select_autoescape

from ingestion.contract.sources import SOURCES
from ingestion.reference import units

MAX_ROWS_PER_PAGE = 1000  # quarantined/flagged problems listed on a file's page (the feedback workbook has all)

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#0b3d91;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.85}main{padding:18px 24px}a{color:#0b3d91}
table{border-collapse:collapse;width:100%;background:#fff;margin:10px 0 22px;box-shadow:0 1px 2px #0002}
th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
th{background:#e4e7eb;font-weight:600;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.loaded{background:#2f8132}.superseded{background:#7b8794}.rejected{background:#c62828}.received{background:#b7791f}
.ok{color:#2f8132;font-weight:600}.fail{color:#c62828;font-weight:600}.warn{color:#b7791f;font-weight:600}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 18px}.card{background:#fff;padding:10px 14px;
box-shadow:0 1px 2px #0002;min-width:120px}.card b{display:block;font-size:20px}
dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px;background:#fff;padding:12px 16px;
box-shadow:0 1px 2px #0002}dt{font-weight:600}dd{margin:0}code,.v{font-family:ui-monospace,monospace;
white-space:pre-wrap;word-break:break-all}.muted{color:#7b8794}td.t{white-space:nowrap}
"""

BASE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'none'">
<title>{% block title %}{% endblock %}</title><style>{{ style }}</style></head>
<body><header><h1>{% block heading %}{% endblock %}</h1>
<p>Báo cáo kiểm tra dữ liệu / Validation report · PCTN Thanh Hóa · built {{ built_at }}</p></header>
<main>{% block main %}{% endblock %}</main></body></html>
"""

INDEX = """{% extends "base" %}
{% block title %}Kiểm tra dữ liệu / Validation report{% endblock %}
{% block heading %}Kiểm tra dữ liệu các báo cáo / Validation of the returns{% endblock %}
{% block main %}
<div class="cards">
<div class="card"><b>{{ files|length }}</b>tệp / files</div>
{% for status, n in by_status %}
<div class="card"><b>{{ n }}</b><span class="badge {{ status }}">{{ status }}</span></div>
{% endfor %}
<div class="card"><b>{{ totals.loaded }}</b>dòng nạp / rows loaded</div>
<div class="card"><b>{{ totals.quarantined }}</b>dòng cách ly / rows quarantined</div>
<div class="card"><b>{{ totals.flagged }}</b>dòng cảnh báo / rows flagged</div>
</div>
<table><thead><tr><th>Chạy lúc / Run time</th><th>Tệp / File</th><th>Nguồn / Source</th><th>Đơn vị / Unit</th>
<th>Kỳ / Period</th><th>Trạng thái / Status</th><th>Đọc / Read</th><th>Nạp / Loaded</th><th>Cách ly / Quarantined</th>
<th>Cảnh báo / Flagged</th><th>Quy tắc không đạt / Failed rules</th></tr></thead><tbody>
{% for f in files %}<tr>
<td class="t">{{ f.run_time }}</td><td><a href="files/{{ f.file_id }}.html">{{ f.file_name }}</a></td>
<td>{{ f.source or "–" }}</td><td>{{ f.unit_code or "–" }}</td><td>{{ f.period_code or "–" }}</td>
<td><span class="badge {{ f.status }}">{{ f.status }}</span>{% if f.reject_code %} {{ f.reject_code }}{% endif %}</td>
<td class="n">{{ f.rows_read }}</td><td class="n">{{ f.rows_loaded }}</td><td class="n">{{ f.rows_quarantined }}</td>
<td class="n">{{ f.rows_flagged }}</td><td>{{ f.failed_rules|join(", ") or "–" }}</td></tr>
{% else %}<tr><td colspan="11" class="muted">Chưa có tệp nào / no file processed yet</td></tr>{% endfor %}
</tbody></table>
{% endblock %}
"""

PAGE = """{% extends "base" %}
{% block title %}{{ f.file_name }} · kiểm tra / validation{% endblock %}
{% block heading %}{{ f.file_name }}{% endblock %}
{% block main %}
<p><a href="../index.html">← tất cả tệp / all files</a></p>
<dl>
<dt>Tệp / File</dt><dd><code>{{ f.file_name }}</code>
(file_id {{ f.file_id }}, sha256 <code>{{ f.sha256[:12] }}</code>)</dd>
<dt>Nguồn / Source</dt><dd>{{ f.source or "–" }}{% if f.source_name %} — {{ f.source_name }}{% endif %}</dd>
<dt>Đơn vị / Unit</dt><dd>{{ f.unit_code or "–" }}{% if f.unit_name %} — {{ f.unit_name }}{% endif %}</dd>
<dt>Kỳ / Period</dt><dd>{{ f.period_code or "–" }}{% if f.version %} (v{{ f.version }}){% endif %}</dd>
<dt>Nhận lúc / Received</dt><dd>{{ f.received_at }}</dd>
<dt>Chạy kiểm tra / Run time</dt><dd>{{ f.run_time }}{% if f.run_id %} (run <code>{{ f.run_id }}</code>,
suite <code>{{ f.suite }}</code>){% endif %}</dd>
<dt>Trạng thái / Status</dt><dd><span class="badge {{ f.status }}">{{ f.status }}</span></dd>
{% if f.reject_code %}<dt>Lý do / Reason</dt><dd><b>{{ f.reject_code }}</b>: {{ f.reject_reason_vi }}<br>
<span class="muted">{{ f.reject_reason_en }}</span></dd>{% endif %}
<dt>Dòng / Rows</dt><dd>read {{ f.rows_read }} · loaded {{ f.rows_loaded }} · quarantined {{ f.rows_quarantined }}
· flagged {{ f.rows_flagged }}</dd>
</dl>
<h2>Quy tắc / Expectations ({{ results|length }})</h2>
{% if results %}<table><thead><tr><th>Kết quả / Result</th><th>Quy tắc / Rule</th><th>Cột / Column</th>
<th>Mức / Severity</th><th>Kiểm tra GX / GX expectation</th><th>Số phần tử / Elements</th>
<th>Không đạt / Unexpected</th><th>Ví dụ / Sample values</th></tr></thead><tbody>
{% for r in results %}<tr><td class="{{ 'ok' if r.success else ('warn' if r.severity == 'warn' else 'fail') }}">
{{ "đạt / passed" if r.success else "không đạt / failed" }}</td><td>{{ r.rule }}</td><td>{{ r.column_name or "–" }}</td>
<td>{{ r.severity }}</td><td><code>{{ r.expectation_type }}</code></td>
<td class="n">{{ "–" if r.element_count is none else r.element_count }}</td>
<td class="n">{{ "–" if r.unexpected_count is none else r.unexpected_count }}</td><td class="v">{{ r.sample }}</td></tr>
{% endfor %}
</tbody></table>{% else %}<p class="muted">Không có kết quả kiểm tra (tệp bị từ chối trước khi kiểm tra)
/ no validation result (the file was refused before validation).</p>{% endif %}
<h2>Dòng có vấn đề / Rows with problems ({{ problems_total }})</h2>
{% if problems %}<table><thead><tr><th>Dòng / Row</th><th>Cột / Column</th><th>Giá trị / Value</th>
<th>Quy tắc / Rule</th><th>Mức / Severity</th><th>Lý do / Reason</th></tr></thead><tbody>
{% for p in problems %}<tr><td class="n">{{ p.row_number }}</td><td>{{ p.column_name or "–" }}</td>
<td class="v">{{ p.value if p.value is not none else "" }}</td><td>{{ p.rule }}</td><td>{{ p.severity }}</td>
<td>{{ p.reason_vi }}<br><span class="muted">{{ p.reason_en }}</span></td></tr>{% endfor %}
</tbody></table>{% if problems_total > problems|length %}<p class="muted">{{ problems|length }} of {{ problems_total }}
shown; the feedback workbook lists all.</p>{% endif %}{% else %}<p class="muted">Không có / none.</p>{% endif %}
{% endblock %}
"""

FILES_SQL = """
select f.file_id, f.file_name, f.sha256, f.source, f.unit_code, f.period_code, f.version, f.status,
       f.received_at, f.processed_at, coalesce(f.rows_read, 0), coalesce(f.rows_loaded, 0),
       coalesce(f.rows_quarantined, 0), coalesce(f.rows_flagged, 0), f.reject_code, f.reject_reason_vi,
       f.reject_reason_en, r.run_id, r.suite, r.run_at
from registry.files as f
left join lateral (
    select run_id, suite, run_at from audit.validation_runs as v
    where v.file_id = f.file_id order by run_at desc limit 1
) as r on true
order by coalesce(r.run_at, f.processed_at, f.received_at) desc, f.file_id desc
"""
FILE_COLUMNS = (
    "file_id",
    "file_name",
    "sha256",
    "source",
    "unit_code",
    "period_code",
    "version",
    "status",
    "received_at",
    "processed_at",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_flagged",
    "reject_code",
    "reject_reason_vi",
    "reject_reason_en",
    "run_id",
    "suite",
    "run_at",
)

RESULTS_SQL = """
select v.file_id, v.rule, v.column_name, v.severity, v.success, v.expectation_type, v.element_count,
       v.unexpected_count, v.unexpected_sample
from audit.validation_results as v
inner join (
    select distinct on (file_id) file_id, run_id from audit.validation_runs order by file_id, run_at desc
) as latest using (file_id, run_id)
order by v.file_id, v.success, v.severity, v.rule, v.column_name
"""

PROBLEMS_SQL = """
select file_id, row_number, column_name, value, rule, severity, reason_vi, reason_en
from audit.quarantine
order by file_id, row_number, column_name nulls first, rule
"""


def _environment() -> Environment:
    return Environment(
        loader=DictLoader({"base": BASE, "index": INDEX, "page": PAGE}),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "–"


def _sample(value: Any) -> str:
    if value in (None, [], {}):
        return ""
    return json.dumps(value, ensure_ascii=False)[:500]


def _read(url: str) -> tuple[list[dict[str, Any]], dict[int, list], dict[int, list], dict[int, int]]:
    """Files (latest run each), their expectation results, their row problems (capped) and problem totals."""
    results: dict[int, list[dict[str, Any]]] = defaultdict(list)
    problems: dict[int, list[dict[str, Any]]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    with psycopg.connect(url) as conn:
        files = [dict(zip(FILE_COLUMNS, row, strict=True)) for row in conn.execute(FILES_SQL).fetchall()]
        result_keys = ("rule", "column_name", "severity", "success", "expectation_type", "element_count")
        for row in conn.execute(RESULTS_SQL):
            item = dict(zip((*result_keys, "unexpected_count"), row[1:8], strict=True))
            item["sample"] = _sample(row[8])
            results[row[0]].append(item)
        problem_keys = ("row_number", "column_name", "value", "rule", "severity", "reason_vi", "reason_en")
        for row in conn.execute(PROBLEMS_SQL):
            totals[row[0]] += 1
            if len(problems[row[0]]) < MAX_ROWS_PER_PAGE:
                problems[row[0]].append(dict(zip(problem_keys, row[1:], strict=True)))
    return files, results, problems, totals


def build_data_docs(url: str, out_dir: Path) -> Path:
    """Write `index.html` and `files/<file_id>.html` for every registered file; return the index."""
    files, results, problems, totals = _read(url)
    known_units = units()
    env = _environment()
    built_at = _when(dt.datetime.now(dt.UTC))
    pages = out_dir / "files"
    pages.mkdir(parents=True, exist_ok=True)
    for stale in pages.glob("*.html"):  # files reprocessed or gone since the last build
        stale.unlink()
    for gx_leftover in ("validations", "expectations", "static"):  # the GX Data Docs site this replaces
        shutil.rmtree(out_dir / gx_leftover, ignore_errors=True)
    for f in files:
        f["run_time"] = _when(f["run_at"] or f["processed_at"])
        f["received_at"] = _when(f["received_at"])
        f["source_name"] = SOURCES[f["source"]].name_vi if f["source"] in SOURCES else None
        unit = known_units.get(f["unit_code"] or "")
        f["unit_name"] = unit.name_vi if unit else None
        f["failed_rules"] = sorted({r["rule"] for r in results[f["file_id"]] if not r["success"]})
        html = env.get_template("page").render(
            style=STYLE,
            built_at=built_at,
            f=f,
            results=results[f["file_id"]],
            problems=problems[f["file_id"]],
            problems_total=totals[f["file_id"]],
        )
        (pages / f"{f['file_id']}.html").write_text(html, encoding="utf-8")
    status_counts: dict[str, int] = defaultdict(int)
    for f in files:
        status_counts[f["status"]] += 1
    index = out_dir / "index.html"
    index.write_text(
        env.get_template("index").render(
            style=STYLE,
            built_at=built_at,
            files=files,
            by_status=sorted(status_counts.items()),
            totals={k: sum(f[f"rows_{k}"] for f in files) for k in ("loaded", "quarantined", "flagged")},
        ),
        encoding="utf-8",
    )
    return index

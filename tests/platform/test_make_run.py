"""`make run` as a new user meets it (issue 13): progress lines, the BI URL over TCP, `make stop`.

The real command (`python -m ingestion --demo-key run`) runs on the bundled sample
against a fresh embedded server of its own (`PCTN_DATA_DIR` in a temporary folder, a
free port). Its output is read as a user would: the BI URL it prints is given to
`psql` over TCP, which runs every example query of the README's BI section as the
read-only user and is refused a write; the superuser is refused over TCP (no
password, no login there). The validation report it points to is screenshotted
by headless Chromium when one is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform.test_bi_access import _psql_binary, example_queries

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "img" / "validation-report.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("make_run")
    port = _free_port()
    env = {
        **os.environ,
        "PCTN_DATA_DIR": str(base / "data"),
        "PCTN_PG_PORT": str(port),
        "PCTN_OUTPUT_DIR": str(base / "out"),
        "PCTN_OUTBOX_DIR": str(base / "out" / "outbox"),
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for name in ("WAREHOUSE_URL", "PCTN_PSEUDONYM_KEY", "PCTN_BI_PASSWORD", "RETURNS_INBOX", "PCTN_PROGRESS"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "ingestion", "--demo-key", "run"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    yield {"proc": proc, "env": env, "port": port, "base": base}
    subprocess.run([sys.executable, "-m", "ingestion", "stop"], env=env, cwd=REPO, capture_output=True, timeout=120)


def _psql(url: str, sql: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(
        [_psql_binary(), url, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_run_prints_progress_per_file_and_a_bi_url(make_run) -> None:
    proc = make_run["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    n_files = sum(1 for p in (REPO / "samples" / "returns").rglob("*") if p.is_file())
    assert f"Intake: {n_files} file(s) to read, validate and load" in lines
    assert sum(1 for line in lines if re.match(r"  \[\d+/\d+\] ", line)) == n_files
    assert "dbt build (seeds, models, data tests, unit tests) …" in lines
    assert any(line.startswith("Extract: build from the marts") for line in lines)
    bi = [line for line in lines if "BI (read-only)" in line]
    assert len(bi) == 1
    url = bi[0].split()[-1]
    assert re.fullmatch(rf"postgresql://pctn_bi:[^@]+@127\.0\.0\.1:{make_run['port']}/pctn", url), url
    password = (make_run["base"] / "data" / "bi_password").read_text().strip()
    assert password in url  # the generated demo password, kept under .data/
    assert oct((make_run["base"] / "data" / "bi_password").stat().st_mode & 0o777) == "0o600"


def test_readme_queries_run_over_tcp_as_the_bi_user(make_run) -> None:
    url = next(line for line in make_run["proc"].stdout.splitlines() if "BI (read-only)" in line).split()[-1]
    queries = example_queries()
    assert len(queries) >= 4
    for title, sql in queries:
        result = _psql(url, sql)
        assert result.returncode == 0, f"{title}: {result.stderr}"
        assert result.stdout.strip(), f"{title}: no rows on the sample"
    who = _psql(url, "select current_user, inet_server_addr()::text, current_setting('transaction_read_only')")
    assert who.stdout.strip() == "pctn_bi|127.0.0.1/32|on" or who.stdout.strip().startswith("pctn_bi|127.0.0.1")
    denied = _psql(url, "select count(*) from raw.dieutra_cases")
    assert denied.returncode != 0 and "permission denied" in denied.stderr
    write = _psql(url, "create table marts.x (i int)")
    assert write.returncode != 0


def test_superuser_cannot_log_in_over_tcp(make_run) -> None:
    result = _psql(f"postgresql://postgres@127.0.0.1:{make_run['port']}/pctn", "select 1")
    assert result.returncode != 0
    assert "password" in result.stderr


def test_validation_report_screenshot(make_run) -> None:
    out = make_run["base"] / "out" / "data_docs" / "index.html"
    assert out.exists() and f"{out.parent}" in make_run["proc"].stdout
    text = out.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    browser = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if browser is None:
        pytest.skip("no headless Chromium on this machine: screenshot not refreshed")
    shot = make_run["base"] / "report.png"
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1000",
         "--virtual-time-budget=5000", f"--screenshot={shot}", out.as_uri()],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    if os.environ.get("PCTN_UPDATE_SCREENSHOTS"):
        shutil.copy(shot, SCREENSHOT)

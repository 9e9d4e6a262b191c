"""The command line as an operator meets it: help, one-line errors, progress, stopping the server.

Every entry point is run as a real process (`python -m …`). `--help` is run against a
warehouse URL that points at a TCP listener opened by the test, so "never touches the
warehouse" is observed (no connection arrives), not assumed; and with no URL at all,
against a fresh data dir, so the embedded server is seen not to start.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import psutil
import pytest
from rich.console import Console

from ingestion.intake.pipeline import FileOutcome
from ingestion.progress import Reporter

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "returns"

ENTRY_POINTS = [
    ("ingestion",),
    ("ingestion", "run"),
    ("ingestion", "intake"),
    ("ingestion", "docs"),
    ("ingestion", "stop"),
    ("ingestion.platform.roles",),
    ("ingestion.extract",),
    ("ingestion.contract.suites",),
    ("ingestion_samples.generate",),
    ("bench.intake",),
    ("bench.dag_parse",),
]
# entry points that read the warehouse: their help must say so
READS_WAREHOUSE = {("ingestion",), ("ingestion", "run"), ("ingestion", "intake"), ("ingestion.platform.roles",)}
READS_WAREHOUSE |= {("ingestion.extract",), ("bench.intake",), ("ingestion", "docs")}


def _env(**overrides: str | None) -> dict[str, str]:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture()
def listener() -> Iterator[socket.socket]:
    """A TCP port that records whether anyone connected to it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connections(sock: socket.socket) -> int:
    n = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return n
        conn.close()
        n += 1


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda e: " ".join(e))
def test_help_lists_options_and_environment_and_touches_nothing(
    entry: tuple[str, ...], listener: socket.socket, tmp_path: Path
) -> None:
    port = listener.getsockname()[1]
    env = _env(WAREHOUSE_URL=f"postgresql://nobody@127.0.0.1:{port}/x", PCTN_DATA_DIR=str(tmp_path / "data"))
    proc = _run(*entry, "--help", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "options:" in proc.stdout and "--help" in proc.stdout
    assert "environment variables" in proc.stdout
    if entry in READS_WAREHOUSE:
        assert "WAREHOUSE_URL" in proc.stdout
    assert _connections(listener) == 0, "--help connected to the warehouse"
    assert not (tmp_path / "data").exists(), "--help created local state"

    # no WAREHOUSE_URL: the embedded server must not be started either
    proc = _run(*entry, "--help", env=_env(WAREHOUSE_URL=None, PCTN_DATA_DIR=str(tmp_path / "data")))
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "data").exists(), "--help started the embedded server"


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "entry", [("ingestion", "intake"), ("ingestion", "run"), ("ingestion.platform.roles",), ("ingestion.extract",)]
)
def test_unreachable_warehouse_is_one_line_with_the_fix(entry: tuple[str, ...], listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    listener.close()  # now a port nobody listens on
    env = _env(WAREHOUSE_URL=f"postgresql://nobody:secret-pw@127.0.0.1:{port}/x", PCTN_PSEUDONYM_KEY="k")
    line = _one_line_error(_run(*entry, env=env), "cannot reach the warehouse", "WAREHOUSE_URL", "fix")
    assert "secret-pw" not in line  # the password never reaches the message


def test_missing_pseudonym_key_is_one_line_with_the_fix(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    env = _env(WAREHOUSE_URL=f"postgresql://nobody@127.0.0.1:{port}/x", PCTN_PSEUDONYM_KEY=None)
    _one_line_error(_run("ingestion", "intake", env=env), "PCTN_PSEUDONYM_KEY", "--demo-key", "Fix")
    assert _connections(listener) == 0  # refused before any connection


def test_missing_inbox_is_one_line_with_the_fix(listener: socket.socket, tmp_path: Path) -> None:
    port = listener.getsockname()[1]
    env = _env(WAREHOUSE_URL=f"postgresql://nobody@127.0.0.1:{port}/x", RETURNS_INBOX=str(tmp_path / "nope"))
    _one_line_error(_run("ingestion", "intake", env=env), str(tmp_path / "nope"), "does not exist", "RETURNS_INBOX")
    _one_line_error(_run("ingestion", "run", env=env), "RETURNS_INBOX")


def test_intake_not_on_a_terminal_prints_one_line_per_file(fresh_warehouse_url: str, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = ["dieutra_CA-TINH_2024-Y.xlsx", "thads_THADS-TINH_2024-6M.xlsx"]  # one good, one corrupt
    for name in names:
        shutil.copy(SAMPLES / name, inbox / name)
    env = _env(WAREHOUSE_URL=fresh_warehouse_url, RETURNS_INBOX=str(inbox), PCTN_OUTPUT_DIR=str(tmp_path / "out"))
    proc = _run("ingestion", "intake", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "Intake: 2 file(s) to read, validate and load" in lines
    progress = [line for line in lines if line.startswith("  [")]
    assert len(progress) == 2
    assert any(line.startswith("  [") and "dieutra_CA-TINH_2024-Y.xlsx: loaded (rows read" in line for line in lines)
    assert any("thads_THADS-TINH_2024-6M.xlsx: rejected unreadable" in line for line in progress)
    assert "\x1b[" not in proc.stdout  # no escape codes in a log
    # a second run: every file is a duplicate, still one line each
    again = _run("ingestion", "intake", env=env, timeout=300)
    assert sum(": duplicate" in line for line in again.stdout.splitlines() if line.startswith("  [")) == 2


def test_progress_bar_on_a_terminal_counts_files() -> None:
    buffer = StringIO()
    console = Console(file=buffer, force_terminal=True, width=160)
    reporter = Reporter(interactive_=True, console=console)
    with reporter.intake() as (on_start, on_outcome):
        on_start(2)
        on_outcome(FileOutcome(1, "a.csv", "loaded", rows_loaded=5))
        on_outcome(FileOutcome(2, "b.csv", "rejected", reject_code="bad_header"))
    text = buffer.getvalue()
    assert "2/2" in text and "rejected 1" in text and "rows 5" in text


def test_stop_stops_the_embedded_server(tmp_path: Path) -> None:
    from ingestion.platform.warehouse import embedded_server_url

    data = tmp_path / "data"
    embedded_server_url(data, database="postgres", port=0)
    pid = int((data / "pg" / "postmaster.pid").read_text().split()[0])
    assert psutil.pid_exists(pid)
    proc = _run("ingestion", "stop", env=_env(PCTN_DATA_DIR=str(data)))
    assert proc.returncode == 0, proc.stderr
    assert f"pid {pid}" in proc.stdout
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    again = _run("ingestion", "stop", env=_env(PCTN_DATA_DIR=str(data)))
    assert again.returncode == 0 and "not running" in again.stdout


def test_docs_site_graph_leaves_unit_tests_out_by_default(tmp_path: Path) -> None:
    """The site dbt 1.11 bundles, patched as `python -m ingestion docs` does; the filter still offers them."""
    import dbt.task.docs

    from ingestion.cli import hide_unit_tests_in_docs_graph

    site = tmp_path / "index.html"
    shutil.copy(Path(dbt.task.docs.__file__).parent / "index.html", site)
    assert hide_unit_tests_in_docs_graph(site)
    text = site.read_text(encoding="utf-8")
    start = text.index('factory("selectorService"')
    default = text[start : text.index("depth:1}", start)]
    options = text[text.index("options:{", start) : text.index("]}", text.index("options:{", start))]
    assert '"model"' in default and '"unit_test"' not in default
    assert '"unit_test"' in options
    assert not hide_unit_tests_in_docs_graph(site)  # a second run finds nothing to change
    assert site.read_text(encoding="utf-8") == text


def test_make_help_lists_every_target_with_one_line() -> None:
    # no "make[1]: Entering directory" lines when the suite itself runs under make
    proc = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0]: line for line in proc.stdout.splitlines()[1:] if line.strip()}
    # every target the Makefile defines (read from it) has its line in the help
    defined = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(encoding="utf-8"), re.M))
    assert {"help", "run", "test", "test-fast", "stop", "bench"} <= defined
    assert set(listed) == defined
    assert all(len(line.split()) > 2 for line in listed.values())  # a description on each line


@pytest.mark.slow  # a real `dbt seed`
def test_dbt_progress_counts_the_nodes_of_a_real_run(fresh_warehouse_url: str, tmp_path: Path) -> None:
    """The bar's callback on a real `dbt seed` of two seeds: it learns the total and ends at 2/2."""
    from ingestion.platform.transform import run_dbt

    buffer = StringIO()
    reporter = Reporter(interactive_=True, console=Console(file=buffer, force_terminal=True, width=160))
    with reporter.dbt("dbt seed") as callback:
        assert callback is not None
        run_dbt(
            fresh_warehouse_url,
            ["seed", "--select", "agencies", "strategy_phases"],
            quiet=True,
            callbacks=[callback],
            target_path=tmp_path,
        )
    assert "2/2" in buffer.getvalue()
    quiet = Reporter(interactive_=False)
    with quiet.dbt("dbt seed") as none:
        assert none is None  # off a terminal: one line, no per-node output

"""One owner per setting: `ingestion/settings.py` reads every environment variable, the help documents it.

The AST check below is what keeps it so: a module of the package or a DAG file that reads a
project variable from `os.environ` (or `os.getenv`) fails it, naming the file and line.
Passing the whole environment to a child process (`dict(os.environ)`), writing a variable
for a child or a library, and reading variables that are not the project's (`PYTHONPATH`)
stay allowed.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from ingestion.platform import envhelp
from ingestion.settings import ENV_NAMES, Progress, ReaderIsolation, Settings, documentation, settings

REPO = Path(__file__).resolve().parent.parent
SCANNED = [*sorted((REPO / "ingestion").rglob("*.py")), *sorted((REPO / "dags").glob("*.py"))]
OWNER = REPO / "ingestion" / "settings.py"
# Functions that read variables by a name held in a variable, for a reason other than settings.
ALLOWED = {
    ("ingestion/platform/transform.py", "_environment"): "saves and restores the PCTN_DB_* it sets for dbt",
}


def _project_variable(name: str) -> bool:
    return name in ENV_NAMES or name.startswith("PCTN_")


def _key_of(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _function_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node.name
    return None


def _judge_getenv(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
    call = parents.get(node)
    key = _key_of(call.args[0]) if isinstance(call, ast.Call) and call.args else None
    return f"os.getenv({key!r})" if key is None or _project_variable(key) else None


def _judge_environ(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
    """What a use of `os.environ` reads, or None when it only writes or copies the environment."""
    parent = parents.get(node)
    if isinstance(parent, ast.Attribute):  # os.environ.<method>(key, ...)
        call = parents.get(parent)
        args = call.args if isinstance(call, ast.Call) else []
        key = _key_of(args[0]) if args else None
        if parent.attr in {"update", "copy"}:
            return None  # writes many, or a copy for a child process
        if parent.attr in {"get", "setdefault", "pop"} and key is not None and not _project_variable(key):
            return None  # another program's variable (PYTHONPATH), or a library's setting (telemetry off)
        return f"os.environ.{parent.attr}({key!r})"
    if isinstance(parent, ast.Subscript):
        if isinstance(parent.ctx, ast.Store | ast.Del):
            return None  # setting a variable (the demo key, the demo BI password) for what runs next
        key = _key_of(parent.slice)
        return f"os.environ[{key!r}]" if key is None or _project_variable(key) else None
    if isinstance(parent, ast.Call) and getattr(parent.func, "id", "") == "dict":
        return None  # the whole environment, for a child process
    if isinstance(parent, ast.Compare):
        return "`in os.environ`"
    return "os.environ used as a mapping"


def _environ_reads(path: Path, root: Path = REPO) -> list[str]:
    """`file:line what` for each read of a project variable (or of a name the check cannot see)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(root).as_posix()
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "os"):
            continue
        if node.attr not in {"environ", "getenv"} or (rel, _function_of(node, parents)) in ALLOWED:
            continue
        what = _judge_getenv(node, parents) if node.attr == "getenv" else _judge_environ(node, parents)
        if what is not None:
            found.append(f"{rel}:{node.lineno} {what}")
    return sorted(found, key=lambda r: int(r.split()[0].rsplit(":", 1)[1]))


def test_no_module_but_settings_reads_a_project_variable() -> None:
    assert OWNER in SCANNED and len(SCANNED) > 50
    reads = [r for path in SCANNED if path != OWNER for r in _environ_reads(path)]
    assert reads == [], "read these through ingestion.settings:\n" + "\n".join(reads)


def test_the_check_sees_the_reads_it_forbids(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "a = os.environ.get('PCTN_OUTPUT_DIR')\n"
        "b = os.environ['WAREHOUSE_URL']\n"
        "c = os.getenv('RETURNS_INBOX')\n"
        "d = os.environ.get(name)\n"
        "e = 'PCTN_X' in os.environ\n"
        "env = os.environ\n"
        "ok = dict(os.environ)\n"
        "os.environ['PCTN_PSEUDONYM_KEY'] = 'k'\n"
        "os.environ.setdefault('GX_ANALYTICS_ENABLED', 'false')\n"
        "p = os.environ.get('PYTHONPATH')\n",
        encoding="utf-8",
    )
    reads = _environ_reads(sample, root=tmp_path)
    assert sorted(r.split()[0] for r in reads) == [f"sample.py:{n}" for n in (2, 3, 4, 5, 6, 7)]


def test_every_setting_is_documented_in_the_help() -> None:
    assert set(envhelp.VARIABLES) == ENV_NAMES == set(documentation())
    named = {name for command in envhelp.ALL_COMMANDS for name in command}
    assert named == ENV_NAMES, f"in no command's --help: {sorted(ENV_NAMES - named)}"
    for command in envhelp.ALL_COMMANDS:
        text = envhelp.epilog(command)
        for name in command:
            assert f"  {name}  " in text.replace(" " * 3, "  ")
    for f in fields(Settings):
        line = documentation()[f.metadata["env"]]
        assert "(default: " in line and line.split(" (default: ")[0] == f.metadata["doc"]


def test_python_m_ingestion_settings_lists_every_variable_and_masks_secrets() -> None:
    env = {**os.environ, "PCTN_PSEUDONYM_KEY": "very-secret-key", "PCTN_OUTPUT_DIR": "/srv/pctn/out"}
    proc = subprocess.run(
        [sys.executable, "-m", "ingestion.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    for name in ENV_NAMES:
        assert name in proc.stdout
    assert "very-secret-key" not in proc.stdout and "/srv/pctn/out" in proc.stdout


def test_defaults_and_types() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.output_dir == REPO / "output" and s.returns_inbox == REPO / "samples" / "returns"
    assert s.data_dir == REPO / ".data" and s.outbox() == REPO / "output" / "outbox"
    assert s.pg_port == 55433 and s.marts_lock_timeout_s == 3600.0 and s.delivery_channels == ("outbox",)
    assert s.progress is Progress.AUTO and s.reader_isolation is ReaderIsolation.PROCESS
    assert 1 <= s.intake_workers <= 4 and s.reference_dir is None and s.warehouse_url is None


def test_values_are_parsed_to_their_types() -> None:
    s = Settings.from_env(
        {
            "PCTN_OUTPUT_DIR": "/tmp/out",
            "PCTN_PG_PORT": "0",
            "PCTN_INTAKE_BATCH_FILES": "-3",  # 0 or less: one file per batch, as before
            "PCTN_MAX_ROWS": "1_000",
            "PCTN_MARTS_LOCK_TIMEOUT": "2.5",
            "PCTN_PROGRESS": "NEVER",
            "PCTN_DELIVERY_CHANNELS": "outbox, SFTP",
            "PCTN_EMAIL_TO": "a@x.vn; b@x.vn",
            "PCTN_REFERENCE_DIR": "../samples/national/reference",
            "PCTN_BI_PASSWORD": "pw",
            "RETURNS_INBOX": "  ",  # blank: the default
        }
    )
    assert s.output_dir == Path("/tmp/out") and s.outbox() == Path("/tmp/out/outbox")
    assert s.pg_port == 0 and s.intake_batch_files == 1 and s.max_rows == 1000 and s.marts_lock_timeout_s == 2.5
    assert s.progress is Progress.NEVER and s.delivery_channels == ("outbox", "sftp")
    assert s.email_to == ("a@x.vn", "b@x.vn")
    assert s.reference_dir == (REPO / "samples" / "national" / "reference").resolve()
    assert s.returns_inbox == REPO / "samples" / "returns"
    assert "pw" not in repr(s), "a password in a settings repr ends up in logs"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PCTN_MAX_ROWS", "many", "must be a whole number"),
        ("PCTN_MAX_ROWS", "0", "must be above 0"),
        ("PCTN_PG_PORT", "-1", "at least 0"),
        ("PCTN_MARTS_LOCK_TIMEOUT", "soon", "number of seconds"),
        ("PCTN_PROGRESS", "sometimes", "always | never"),
        ("PCTN_READER_ISOLATION", "thread", "process | inprocess"),
        ("PCTN_DELIVERY_CHANNELS", "outbox,fax", "fax"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as info:
        Settings.from_env({name: value})
    assert name in str(info.value)


def test_settings_are_read_when_asked_not_at_import(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The owners of the output folder, the inbox and the data dir all follow a variable set late."""
    from ingestion import cli
    from ingestion.extract import default_folder
    from ingestion.extract.delivery import make_channel
    from ingestion.intake.readers.limits import ReaderLimits
    from ingestion.platform import marts_lock
    from ingestion.reference import reference_dir

    monkeypatch.setenv("PCTN_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("RETURNS_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("PCTN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PCTN_MARTS_LOCK_TIMEOUT", "7")
    monkeypatch.setenv("PCTN_MAX_CELLS", "99")
    monkeypatch.setenv("PCTN_REFERENCE_DIR", str(tmp_path / "ref"))
    assert settings().data_dir == tmp_path / "data"
    assert cli._out() == tmp_path / "out" and cli._inbox() == tmp_path / "inbox"
    assert default_folder("2025-Y") == tmp_path / "out" / "extract" / "2025-Y"
    assert make_channel("outbox").recipient("2025-Y") == str(tmp_path / "out" / "outbox" / "2025-Y")
    assert marts_lock.lock_timeout_s() == 7.0 and ReaderLimits.from_env().max_cells == 99
    assert reference_dir() == tmp_path / "ref"
    monkeypatch.setenv("PCTN_OUTBOX_DIR", str(tmp_path / "box"))
    assert make_channel("outbox").recipient("2025-Y") == str(tmp_path / "box" / "2025-Y")


def test_reader_limits_default_to_the_settings_defaults() -> None:
    from ingestion.intake.readers.limits import ReaderLimits

    assert ReaderLimits() == ReaderLimits.from_settings(Settings())


def test_settings_import_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules); import ingestion.settings; "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] not in sys.stdlib_module_names))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['ingestion', 'ingestion.paths', 'ingestion.settings']"

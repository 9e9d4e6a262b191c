"""Error paths run for real in Airflow: retries with back-off, failure notices over STARTTLS, `fail_run`.

Each run is `airflow dags test` in a subprocess (SQLite metadata, migrated once for the
module) against a real PostgreSQL warehouse, with the connection `pctn_smtp` pointing at
an aiosmtpd server on 127.0.0.1 that *requires* STARTTLS, using a self-signed certificate
made here (the Airflow process trusts it through `SSL_CERT_FILE`, as an operator would
install a private CA). The assertions read Airflow's own metadata (task instances and
their try history, asset events), the warehouse and the messages the server received.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import os
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import asyncssh
import psycopg
import pytest
from aiosmtpd.controller import Controller

from ingestion.platform.airflow_env import airflow_env
from tests.conftest import _fresh_database_url, drop_database, migrate_airflow_home
from tests.sftp_server import SFTP_PASSWORD, SFTP_USER, start_sftp

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "returns"
TEST_DAGS = Path(__file__).resolve().parent / "airflow_dags"
NOTIFY_TO = "thanhtra.tinh@thanhhoa.example.vn,pctn-data@thanhhoa.example.vn"


# ---------------------------------------------------------------- SMTP with STARTTLS
def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Received:
    message: Message
    recipients: list[str]
    tls: bool


@dataclass
class TlsSmtpServer:
    port: int
    cert: Path
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            Received(email.message_from_bytes(envelope.content), list(envelope.rcpt_tos), session.ssl is not None)
        )
        return "250 OK"

    def subjects(self) -> list[str]:
        return sorted(str(m.message["Subject"]) for m in self.messages)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSmtpServer]:
    """aiosmtpd on 127.0.0.1 that refuses MAIL before STARTTLS."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = TlsSmtpServer(_free_port(), cert)
    controller = Controller(server, hostname="127.0.0.1", port=server.port, tls_context=context, require_starttls=True)
    controller.start()
    yield server
    controller.stop()


def test_the_test_server_requires_starttls(smtp_server: TlsSmtpServer) -> None:
    """Mail sent without STARTTLS is refused, so every notice received below came over TLS."""
    with (
        smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        client.sendmail("a@example.vn", ["b@example.vn"], "Subject: plain\r\n\r\nno tls")
    assert refused.value.smtp_code == 530
    assert smtp_server.messages == []


# ---------------------------------------------------------------- Airflow runs
@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow_errors")
    migrate_airflow_home(home)
    return home


def _fresh_database() -> str:
    return _fresh_database_url("pctn_err")


def _drop_database(url: str) -> None:
    drop_database(url)


@dataclass
class Run:
    """The outcome of one `airflow dags test`, read from the metadata database."""

    state: str | None
    tasks: dict[str, list[tuple[str, int]]]  # task_id -> [(state, try_number)] by map index
    tries: dict[str, list[tuple[int, str, str, str]]]  # task_id -> [(try, state, start, end)] (map index 0 / -1)
    asset_events: list[str]
    output: str


def dags_test(home: Path, dag_id: str, *, warehouse: str, smtp: TlsSmtpServer, extra: dict[str, str]) -> Run:
    env = {**os.environ, **airflow_env(home, warehouse, f"sqlite:///{home}/airflow.db")}
    env.update(
        {
            "AIRFLOW_CONN_PCTN_SMTP": (
                f"smtp://127.0.0.1:{smtp.port}?disable_ssl=true&from_email=pctn%40thanhhoa.example.vn&timeout=20"
            ),  # port 587 style: no implicit TLS, STARTTLS on (disable_tls not set)
            "AIRFLOW_VAR_PCTN_NOTIFY_TO": NOTIFY_TO,
            "SSL_CERT_FILE": str(smtp.cert),  # the Airflow process trusts the test server's certificate
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            **extra,
        }
    )
    env.pop("WAREHOUSE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id],
        env=env, capture_output=True, text=True, timeout=900, cwd=REPO,
    )  # fmt: skip
    with sqlite3.connect(home / "airflow.db") as db:
        run_id, state = db.execute(
            "select run_id, state from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
        ).fetchone()
        tasks: dict[str, list[tuple[str, int]]] = {}
        for task_id, ti_state, try_number in db.execute(
            "select task_id, state, try_number from task_instance where dag_id = ? and run_id = ?"
            " order by task_id, map_index",
            (dag_id, run_id),
        ):
            tasks.setdefault(task_id, []).append((ti_state, try_number))
        tries: dict[str, list[tuple[int, str, str, str]]] = {}
        history = db.execute(
            "select task_id, try_number, state, start_date, end_date from task_instance_history"
            " where dag_id = ? and run_id = ? and map_index in (-1, 0)"
            " union all select task_id, try_number, state, start_date, end_date from task_instance"
            " where dag_id = ? and run_id = ? and map_index in (-1, 0) order by 1, 2",
            (dag_id, run_id, dag_id, run_id),
        )
        for task_id, try_number, ti_state, start, end in history:
            tries.setdefault(task_id, []).append((try_number, ti_state, start, end))
        events = [
            name
            for (name,) in db.execute(
                "select a.name from asset_event e join asset a on a.id = e.asset_id"
                " where e.source_dag_id = ? and e.source_run_id = ?",
                (dag_id, run_id),
            )
        ]
    return Run(state, tasks, tries, events, proc.stdout[-8000:] + proc.stderr[-8000:])


def _seconds(a: str, b: str) -> float:
    return (dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds()


@pytest.fixture(scope="module")
def warehouse() -> Iterator[str]:
    url = _fresh_database()
    yield url
    _drop_database(url)


def test_transient_errors_are_retried_with_backoff_and_a_bad_value_is_not(
    airflow_home: Path, warehouse: str, smtp_server: TlsSmtpServer
) -> None:
    before = len(smtp_server.messages)
    run = dags_test(
        airflow_home,
        "pctn_error_paths",
        warehouse=warehouse,
        smtp=smtp_server,
        extra={"AIRFLOW__CORE__DAGS_FOLDER": str(TEST_DAGS)},
    )
    assert run.state == "failed", run.output
    retried = ("cursor_closed", "timed_out", "warehouse_refused")  # InterfaceError, TimeoutError, OperationalError
    for task_id in retried:
        assert run.tasks[task_id] == [("failed", 4)], (task_id, run.tasks, run.output)  # 1 try + 3 retries
    assert run.tasks["bad_value"] == [("failed", 1)], run.output  # a bug or bad data: failed at once

    # Back-off: the wait before retry n is at least 1 s * 2^(n-1) (Airflow adds up to as much again
    # as jitter) and never the same for every retry: 1-2 s, 2-4 s, 4-8 s with a 1 s first delay.
    for task_id in retried:
        tries = run.tries[task_id]
        assert [t[0] for t in tries] == [1, 2, 3, 4], tries
        waits = [_seconds(tries[i][3], tries[i + 1][2]) for i in range(3)]
        for n, wait in enumerate(waits):
            assert wait >= 2**n * 0.95, (task_id, waits)
        assert waits[2] > waits[0], (task_id, waits)
        print(f"{task_id}: waits before retries {[round(w, 1) for w in waits]} s")

    # One notice per finally failed task (not per try), over TLS, to every recipient of the Variable.
    notices = smtp_server.messages[before:]
    assert sorted(str(m.message["Subject"]) for m in notices) == sorted(
        f"[PCTN] pctn_error_paths.{t} failed (run {_run_id(airflow_home, 'pctn_error_paths')})"
        for t in (*retried, "bad_value")
    )
    for m in notices:
        assert m.tls and sorted(m.recipients) == sorted(NOTIFY_TO.split(","))
    body = {str(m.message["Subject"]).split(".")[1].split()[0]: _body(m.message) for m in notices}
    assert "after 4 tries" in body["timed_out"] and "TimeoutError" in body["timed_out"]
    assert "after 1 tries" in body["bad_value"] and "ValueError" in body["bad_value"]
    assert "InterfaceError" in body["cursor_closed"] and "OperationalError" in body["warehouse_refused"]


def _run_id(home: Path, dag_id: str) -> str:
    with sqlite3.connect(home / "airflow.db") as db:
        return db.execute("select run_id from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)).fetchone()[
            0
        ]


def _body(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(
        p.get_payload(decode=True).decode("utf-8", "replace") for p in parts if p.get_content_maintype() == "text"
    )


FAILING_FILE = "xetxu_TA-HUYEN-HOANGHOA_2024-Y.csv"
LOADING_FILE = "truyto_VKS-KV6_2025-Y.csv"


def test_a_failed_file_fails_the_run_while_publish_still_emits(
    airflow_home: Path, warehouse: str, smtp_server: TlsSmtpServer, tmp_path: Path
) -> None:
    """One file's load hits a database error (a trigger raises): that task fails at once, `fail_run`
    turns the run red, and `publish` still emits the raw Assets for the file that loaded."""
    from ingestion.intake.schema import ensure_schema

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in (FAILING_FILE, LOADING_FILE):
        shutil.copy2(SAMPLES / name, inbox / name)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        conn.execute(
            """
            create or replace function public.pctn_test_refuse_rows() returns trigger
            language plpgsql as $$
            begin
                if (select file_name from registry.files where file_id = new.file_id) = '%s' then
                    raise exception 'injected by the test: this file cannot be written';
                end if;
                return new;
            end $$
            """.replace("%s", FAILING_FILE)
        )
        conn.execute(
            "create trigger pctn_test_refuse_rows before insert on raw.xetxu_cases"
            " for each row execute function public.pctn_test_refuse_rows()"
        )
    before = len(smtp_server.messages)
    run = dags_test(
        airflow_home,
        "pctn_intake",
        warehouse=warehouse,
        smtp=smtp_server,
        extra={"RETURNS_INBOX": str(inbox), "PCTN_OUTPUT_DIR": str(tmp_path / "out")},
    )
    assert run.state == "failed", run.output
    assert sorted(run.tasks["process"]) == [("failed", 1), ("success", 1)], run.output  # not retried: not transient
    assert run.tasks["fail_run"] == [("failed", 1)]
    assert run.tasks["publish"] == [("success", 1)] and run.tasks["publish_registry"] == [("success", 1)]
    assert "pctn.raw.truyto_cases" in run.asset_events and "pctn.registry.files" in run.asset_events, run.asset_events

    with psycopg.connect(warehouse, autocommit=True) as conn:
        statuses = dict(conn.execute("select file_name, status from registry.files").fetchall())
        failed_rows = conn.execute(
            "select count(*) from raw.xetxu_cases r join registry.files f using (file_id) where f.file_name = %s",
            (FAILING_FILE,),
        ).fetchone()[0]
    assert statuses == {FAILING_FILE: "received", LOADING_FILE: "loaded"}  # the failed file is offered again next run
    assert failed_rows == 0  # its transaction rolled back

    run_id = _run_id(airflow_home, "pctn_intake")
    notices = smtp_server.messages[before:]
    assert sorted(str(m.message["Subject"]) for m in notices) == [
        f"[PCTN] pctn_intake.fail_run failed (run {run_id})",
        f"[PCTN] pctn_intake.process failed (run {run_id})",
    ]
    assert all(m.tls for m in notices)
    assert "injected by the test" in "".join(_body(m.message) for m in notices)


# ---------------------------------------------------------------- a delivery that fails, then succeeds
def _notify_env(smtp_server: TlsSmtpServer) -> dict[str, str]:
    """The Airflow settings of a run that mails its notice through `smtp_server` (STARTTLS, its test CA)."""
    return {
        "AIRFLOW_CONN_PCTN_SMTP": (
            f"smtp://127.0.0.1:{smtp_server.port}?disable_ssl=true&from_email=pctn%40thanhhoa.example.vn"
        ),
        "AIRFLOW_VAR_PCTN_NOTIFY_TO": NOTIFY_TO,
        "SSL_CERT_FILE": str(smtp_server.cert),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
    }


def _ti_state(home: Path, dag_id: str, task_id: str) -> tuple[str | None, int] | None:
    try:
        with sqlite3.connect(home / "airflow.db", timeout=30) as db:
            return db.execute(
                "select t.state, t.try_number from task_instance t join dag_run r"
                " on r.dag_id = t.dag_id and r.run_id = t.run_id"
                " where t.dag_id = ? and t.task_id = ? order by r.id desc limit 1",
                (dag_id, task_id),
            ).fetchone()
    except sqlite3.OperationalError:  # the run holds the write lock for a moment
        return None


@pytest.fixture(scope="module")
def marts_2024(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A warehouse with real marts: the sample's 2024-Y returns through the intake and `dbt build`."""
    from ingestion.intake.pipeline import run_intake
    from ingestion.platform.transform import run_dbt

    base = tmp_path_factory.mktemp("marts_2024")
    inbox = base / "inbox"
    inbox.mkdir()
    for path in sorted(SAMPLES.glob("*_2024-Y*")):
        shutil.copy2(path, inbox / path.name)
    url = _fresh_database()
    try:
        run_intake(url, inbox, base / "out")
        run_dbt(url, ["build"], target_path=base / "target", quiet=True)
        yield url
    finally:
        _drop_database(url)


def test_a_failed_delivery_is_retried_and_arrives_once_the_server_is_back(
    airflow_home: Path, smtp_server: TlsSmtpServer, marts_2024: str, tmp_path: Path
) -> None:
    """`pctn_extract` with the SFTP server down: `deliver` fails, the DeliveryError is logged and
    wrapped as transient, the task waits its 30-60 s back-off; the server comes up and the retry
    delivers every file byte for byte."""
    from ingestion.extract.store import load_files

    url = marts_2024
    key = asyncssh.generate_private_key("ssh-ed25519")
    public = key.export_public_key().decode().split()
    port = _free_port()  # nothing listens there yet
    root = tmp_path / "sftp-root"
    root.mkdir()
    connection = {
        "conn_type": "sftp", "host": "127.0.0.1", "port": port, "login": SFTP_USER, "password": SFTP_PASSWORD,
        "extra": {"host_key": f"{public[0]} {public[1]}", "look_for_keys": "false", "conn_timeout": "10"},
    }  # fmt: skip
    env = {**os.environ, **airflow_env(airflow_home, url, f"sqlite:///{airflow_home}/airflow.db")}
    env.update(
        {
            "AIRFLOW_CONN_PCTN_SFTP": json.dumps(connection),
            "PCTN_DELIVERY_CHANNELS": "sftp",
            "PCTN_SFTP_DIR": "inbox/pctn",
            **_notify_env(smtp_server),
        }
    )
    env.pop("WAREHOUSE_URL", None)
    before = len(smtp_server.messages)
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow", "dags", "test", "pctn_extract", "--conf", '{"period_code": "2024-Y"}'],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    sftp = None
    try:
        deadline = time.monotonic() + 600
        while _ti_state(airflow_home, "pctn_extract", "deliver") != ("up_for_retry", 1):
            assert proc.poll() is None, proc.stdout.read()[-6000:] if proc.stdout else ""
            assert time.monotonic() < deadline, "deliver never failed its first try"
            time.sleep(0.5)
        with psycopg.connect(url) as conn:
            failed = conn.execute(
                "select outcome, error from delivery.deliveries where channel = 'sftp' order by delivery_id"
            ).fetchall()
        sftp = start_sftp(root, port, key)  # the channel is back before the retry
        output, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
        if sftp is not None:
            sftp.stop()
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        state = db.execute(
            "select state from dag_run where dag_id = 'pctn_extract' order by id desc limit 1"
        ).fetchone()[0]
    with psycopg.connect(url) as conn:
        outcomes = conn.execute(
            "select outcome, extract_id from delivery.deliveries where channel = 'sftp' order by delivery_id"
        ).fetchall()
        stored = {f.name: f.content for f in load_files(conn, outcomes[-1][1])}

    assert state == "success", output[-6000:]
    assert _ti_state(airflow_home, "pctn_extract", "deliver") == ("success", 2)  # one retry, then delivered
    assert [o for o, _ in failed] == ["failed"] and failed[0][1]  # the failure is logged with its error
    assert [o for o, _ in outcomes] == ["failed", "delivered"]
    arrived = {p.name: p.read_bytes() for p in (root / "inbox" / "pctn" / "2024-Y").iterdir()}
    assert arrived == stored and len(arrived) >= 3  # workbook, CSVs, manifest: byte for byte
    assert "TransientError" in output
    assert smtp_server.messages[before:] == []  # retried and then succeeded: no failure notice


def test_missing_returns_are_e_mailed_over_starttls(
    airflow_home: Path, smtp_server: TlsSmtpServer, marts_2024: str
) -> None:
    """`pctn_missing_returns` for the deadline of 20/12/2024 e-mails exactly the mart's missing returns."""
    before = len(smtp_server.messages)
    env = {**os.environ, **airflow_env(airflow_home, marts_2024, f"sqlite:///{airflow_home}/airflow.db")}
    env.update(
        {
            **_notify_env(smtp_server),
        }
    )
    env.pop("WAREHOUSE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "pctn_missing_returns", "2024-12-21T00:00:00+00:00"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert _ti_state(airflow_home, "pctn_missing_returns", "notify") == ("success", 1), proc.stdout[-4000:]
    with psycopg.connect(marts_2024) as conn:
        missing = conn.execute(
            "select period_code, source, unit_code from marts.fct_return_submissions"
            " where period_code in ('2024-Q4', '2024-Y') and expected and status = 'missing'"
        ).fetchall()
    assert len(missing) > 0
    (notice,) = smtp_server.messages[before:]
    assert notice.tls and sorted(notice.recipients) == sorted(NOTIFY_TO.split(","))
    assert str(notice.message["Subject"]) == "[PCTN] Missing returns 2024-Q4, 2024-Y"
    body = _body(notice.message)
    assert f"returns not received: {len(missing)}<" in body
    for period, source, unit in missing:
        assert f"<td>{period}</td><td>{source}</td><td>{unit}</td>" in body, (period, source, unit)


def test_the_extract_e_mail_channel_uses_starttls(
    smtp_server: TlsSmtpServer, marts_2024: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: "SMTP on 587 with STARTTLS: disable_ssl=true (no implicit TLS), TLS stays on".

    The server refuses mail before STARTTLS, so a delivery that arrives went over TLS; the
    workbook, draft and manifest arrive as the bytes stored in `delivery.extract_files`.
    """
    from ingestion.extract import build_extract, deliver
    from ingestion.extract.store import load_files

    monkeypatch.setenv(
        "AIRFLOW_CONN_PCTN_SMTP",
        f"smtp://127.0.0.1:{smtp_server.port}?disable_ssl=true&from_email=pctn%40thanhhoa.example.vn&timeout=20",
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_server.cert))
    before = len(smtp_server.messages)
    extract_id = build_extract(marts_2024, "2024-Y")
    result = deliver(marts_2024, extract_id, "email", env={"PCTN_EMAIL_TO": "thanhtra.tinh@thanhhoa.example.vn"})
    assert result.outcome == "delivered"
    (received,) = smtp_server.messages[before:]
    assert received.tls and received.recipients == ["thanhtra.tinh@thanhhoa.example.vn"]
    with psycopg.connect(marts_2024) as conn:
        stored = {f.name: f.content for f in load_files(conn, extract_id)}
    attachments = {
        part.get_filename(): part.get_payload(decode=True) for part in received.message.walk() if part.get_filename()
    }
    # the workbook, the yearly evaluation draft and the manifest (issue 12)
    assert attachments == {n: c for n, c in stored.items() if n.endswith((".xlsx", ".docx", "_manifest.json"))}
    assert any(n.endswith(".docx") for n in attachments)

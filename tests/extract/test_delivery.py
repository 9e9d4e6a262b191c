"""Delivery of extracts: outbox, a real SFTP server and a real SMTP server on 127.0.0.1.

The servers are started by the tests (asyncssh, aiosmtpd); the channels reach them
through Airflow's SFTP and SMTP hooks with connections given as `AIRFLOW_CONN_*`
environment variables (no Airflow metadata database). What arrives is compared byte
for byte with what the warehouse stored.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncssh
import psycopg
import pytest
from aiosmtpd.controller import Controller
from test_extract_marts import clone_of

from ingestion.extract import (
    DeliveryError,
    build_extract,
    configured_channels,
    deliver,
    delivery_log,
)
from ingestion.extract.store import load_files
from tests.sftp_server import SFTP_PASSWORD, SFTP_USER, start_sftp

os.environ.setdefault("AIRFLOW_HOME", str(Path(__file__).resolve().parents[2] / ".data" / "airflow-test"))

BUILT_AT = datetime(2025, 1, 6, 1, 30, tzinfo=UTC)


@pytest.fixture()
def marts_url(sample_warehouse: Any) -> Iterator[str]:
    """A copy of the sample's real warehouse (dbt-built marts), so each test's delivery log starts empty."""
    with clone_of(sample_warehouse.url) as url:
        yield url


@pytest.fixture()
def extract_id(marts_url: str) -> int:
    return build_extract(marts_url, "2024-Y", built_at=BUILT_AT, dbt_invocation_id="test-run")


def stored(url: str, extract_id: int) -> dict[str, bytes]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {f.name: f.content for f in load_files(conn, extract_id)}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- servers -----------------------------------------------------------------------------------------


@dataclass
class SftpServer:
    root: Path
    port: int
    host_key: str  # "ssh-ed25519 AAAA..." as the connection's `host_key` extra wants it


@pytest.fixture()
def sftp_server(tmp_path: Path) -> Iterator[SftpServer]:
    """An asyncssh SFTP server on 127.0.0.1, a random port, chrooted to a temp folder."""
    root = tmp_path / "sftp-root"
    root.mkdir()
    key = asyncssh.generate_private_key("ssh-ed25519")
    sftp = start_sftp(root, 0, key)
    try:
        public = key.export_public_key().decode().split()
        yield SftpServer(root, sftp.port, f"{public[0]} {public[1]}")
    finally:
        sftp.stop()


def use_sftp_connection(monkeypatch: pytest.MonkeyPatch, server: SftpServer, port: int | None = None) -> None:
    """The Airflow connection `pctn_sftp`, JSON form, verifying the server's host key."""
    connection = {
        "conn_type": "sftp",
        "host": "127.0.0.1",
        "port": port or server.port,
        "login": SFTP_USER,
        "password": SFTP_PASSWORD,
        "extra": {"host_key": server.host_key, "look_for_keys": "false", "conn_timeout": "10"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_PCTN_SFTP", json.dumps(connection))


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


# --- channels ------------------------------------------------------------------------------------------


def test_outbox_delivers_once_and_logs_it(marts_url: str, extract_id: int, tmp_path: Path) -> None:
    env = {"PCTN_OUTBOX_DIR": str(tmp_path / "outbox")}
    result = deliver(marts_url, extract_id, "outbox", env=env)
    assert result.outcome == "delivered" and not result.is_resend
    files = stored(marts_url, extract_id)
    folder = tmp_path / "outbox" / "2024-Y"
    assert {p.name for p in folder.iterdir()} == set(files)  # no temporary files left
    for name, content in files.items():
        assert (folder / name).read_bytes() == content

    again = deliver(marts_url, extract_id, "outbox", env=env)
    assert again.outcome == "skipped" and again.previous_delivery_id == result.delivery_id

    log = delivery_log(marts_url, "2024-Y")
    assert len(log) == 1
    row = log[0]
    assert (row["channel"], row["outcome"], row["is_resend"], row["extract_id"]) == (
        "outbox",
        "delivered",
        False,
        extract_id,
    )
    assert row["recipient"] == str(folder.resolve()) and row["error"] is None
    assert {f["name"]: f["sha256"] for f in row["files"]} == {n: sha(c) for n, c in files.items()}
    assert row["delivered_at"] is not None


def test_sftp_delivery_arrives_byte_for_byte(
    marts_url: str, extract_id: int, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sftp_connection(monkeypatch, sftp_server)
    env = {"PCTN_SFTP_DIR": "/inbox/pctn"}
    result = deliver(marts_url, extract_id, "sftp", env=env)
    assert result.outcome == "delivered"
    assert result.recipient == f"sftp://{SFTP_USER}@127.0.0.1:{sftp_server.port}/inbox/pctn/2024-Y"
    arrived = sftp_server.root / "inbox" / "pctn" / "2024-Y"
    files = stored(marts_url, extract_id)
    assert {p.name for p in arrived.iterdir()} == set(files)
    for name, content in files.items():
        assert (arrived / name).read_bytes() == content, name

    assert deliver(marts_url, extract_id, "sftp", env=env).outcome == "skipped"
    assert [(r["channel"], r["outcome"]) for r in delivery_log(marts_url, "2024-Y")] == [("sftp", "delivered")]


def test_resend_sends_the_same_bytes_after_the_marts_changed(
    marts_url: str, extract_id: int, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sftp_connection(monkeypatch, sftp_server)
    env = {"PCTN_SFTP_DIR": "upload"}
    first = deliver(marts_url, extract_id, "sftp", env=env)
    arrived = sftp_server.root / "upload" / "2024-Y"
    original = {p.name: p.read_bytes() for p in arrived.iterdir()}
    for p in arrived.iterdir():  # the Inspectorate moved the files away
        p.unlink()

    with psycopg.connect(marts_url, autocommit=True) as conn:
        conn.execute("update marts.fct_indicator_comparisons set value = value + 7 where period_code = '2024-Y'")
    rebuilt = build_extract(marts_url, "2024-Y", built_at=datetime(2025, 3, 1, tzinfo=UTC))
    assert rebuilt != extract_id
    assert stored(marts_url, rebuilt) != stored(marts_url, extract_id)

    assert deliver(marts_url, rebuilt, "sftp", env=env).outcome == "skipped"  # delivered once per channel
    again = deliver(marts_url, rebuilt, "sftp", env=env, resend=True)
    assert again.outcome == "delivered" and again.is_resend and again.extract_id == extract_id
    assert again.previous_delivery_id == first.delivery_id
    assert {p.name: p.read_bytes() for p in arrived.iterdir()} == original
    log = delivery_log(marts_url, "2024-Y")
    assert [(r["is_resend"], r["extract_id"]) for r in log] == [(True, extract_id), (False, extract_id)]
    assert log[0]["files"] == log[1]["files"]


def test_email_carries_the_workbook_the_draft_and_the_manifest(
    marts_url: str, extract_id: int, smtp_server: tuple[_Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp_server
    monkeypatch.setenv(
        "AIRFLOW_CONN_PCTN_SMTP",
        f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true&from_email=pctn%40thanhhoa.example.vn"
        "&retry_limit=0&timeout=10",
    )
    env = {"PCTN_EMAIL_TO": "thanhtra@thanhhoa.example.vn; lanhdao@thanhhoa.example.vn"}
    result = deliver(marts_url, extract_id, "email", env=env)
    assert result.outcome == "delivered"
    assert result.recipient == "thanhtra@thanhhoa.example.vn, lanhdao@thanhhoa.example.vn"
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "pctn@thanhhoa.example.vn"
    assert envelope.rcpt_tos == ["thanhtra@thanhhoa.example.vn", "lanhdao@thanhhoa.example.vn"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert "2024-Y" in str(message["Subject"])
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}
    files = stored(marts_url, extract_id)
    expected = {n: c for n, c in files.items() if n.endswith((".xlsx", ".docx", "_manifest.json"))}
    assert "pctn_bao_cao_danh_gia_2024-Y.docx" in expected
    assert attachments == expected
    body = message.get_body(("html",))
    assert body is not None and sha(expected["pctn_indicators_2024-Y.xlsx"]) in body.get_content()

    assert deliver(marts_url, extract_id, "email", env=env).outcome == "skipped"
    assert len(inbox.envelopes) == 1


# --- failures, concurrency, configuration -----------------------------------------------------------------


def test_a_failed_delivery_is_logged_and_may_be_retried(marts_url: str, extract_id: int, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the outbox folder should be")
    with pytest.raises(DeliveryError, match="outbox"):
        deliver(marts_url, extract_id, "outbox", env={"PCTN_OUTBOX_DIR": str(blocked)})
    failed = delivery_log(marts_url, "2024-Y")
    assert [(r["outcome"], r["is_resend"]) for r in failed] == [("failed", False)]
    assert failed[0]["error"] and "Error" in failed[0]["error"]

    ok = deliver(marts_url, extract_id, "outbox", env={"PCTN_OUTBOX_DIR": str(tmp_path / "outbox")})
    assert ok.outcome == "delivered"
    assert [r["outcome"] for r in delivery_log(marts_url, "2024-Y")] == ["delivered", "failed"]


def test_an_unreachable_sftp_server_is_a_logged_failure(
    marts_url: str, extract_id: int, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sftp_connection(monkeypatch, sftp_server, port=_free_port())
    with pytest.raises(DeliveryError):
        deliver(marts_url, extract_id, "sftp", env={"PCTN_SFTP_DIR": "x"})
    assert [r["outcome"] for r in delivery_log(marts_url, "2024-Y")] == ["failed"]


def test_two_workers_at_once_deliver_only_once(marts_url: str, extract_id: int, tmp_path: Path) -> None:
    env = {"PCTN_OUTBOX_DIR": str(tmp_path / "outbox")}
    results: list[str] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        results.append(deliver(marts_url, extract_id, "outbox", env=env).outcome)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["delivered", "skipped", "skipped", "skipped"]
    assert len(delivery_log(marts_url, "2024-Y")) == 1


def test_channels_are_configured_without_code() -> None:
    assert configured_channels({}) == ["outbox"]
    assert configured_channels({"PCTN_DELIVERY_CHANNELS": "outbox, SFTP,email"}) == ["outbox", "sftp", "email"]
    with pytest.raises(ValueError, match="fax"):
        configured_channels({"PCTN_DELIVERY_CHANNELS": "outbox,fax"})


def test_email_without_recipients_fails_clearly(marts_url: str, extract_id: int) -> None:
    with pytest.raises(DeliveryError, match="PCTN_EMAIL_TO"):
        deliver(marts_url, extract_id, "email", env={})

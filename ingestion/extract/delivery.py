"""Deliver a stored extract on a channel, once per period and channel, and log it.

Channels are chosen and configured without code, by environment variables and
Airflow connections (README, "Indicator extracts"):

- `outbox`: copies every file to `<PCTN_OUTBOX_DIR>/<period>/` (default `output/outbox`);
- `sftp`: uploads every file to `<PCTN_SFTP_DIR>/<period>/` with Airflow's `SFTPHook`, connection
  `PCTN_SFTP_CONN_ID` (default `pctn_sftp`, e.g. from `AIRFLOW_CONN_PCTN_SFTP`);
- `email`: mails the workbook and the manifest with Airflow's `SmtpHook`, connection
  `PCTN_SMTP_CONN_ID` (default `pctn_smtp`), recipients `PCTN_EMAIL_TO`, sender `PCTN_EMAIL_FROM`
  (else the connection's `from_email` extra).

`PCTN_DELIVERY_CHANNELS` (default `outbox`) lists the channels a scheduled run uses.

Once per channel: the check and the log row happen under a transaction-level
advisory lock on (period, channel), so two workers cannot both deliver; a partial
unique index backs it up. A period without loaded returns is never sent
(`guards.NoLoadedReturns`), even if an empty extract of it was stored before the guard.
A resend sends the files of the first delivery of that period on that channel, byte for
byte, from the warehouse, never a rebuilt version.
"""

from __future__ import annotations

import html
import io
import logging
import os
import posixpath
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import psycopg
from psycopg.types.json import Jsonb

from ingestion.extract.manifest import ExtractFile
from ingestion.extract.store import ensure_schema, files_json, load_extract, load_files
from ingestion.settings import DELIVERY_CHANNELS, settings

log = logging.getLogger(__name__)

CHANNELS = DELIVERY_CHANNELS


class DeliveryError(RuntimeError):
    """A delivery failed; the failure is in the delivery log, the cause is chained."""


@dataclass(frozen=True)
class DeliveryResult:
    """What `deliver` did.

    outcome `delivered`: files sent now (`delivery_id` is the new log row);
    `skipped`: the period was already delivered on this channel and no resend was asked
    (`previous_delivery_id` is that delivery; nothing was sent or logged).
    """

    outcome: Literal["delivered", "skipped"]
    channel: str
    period_code: str
    extract_id: int
    recipient: str
    delivery_id: int | None = None
    previous_delivery_id: int | None = None
    is_resend: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)


class Channel(Protocol):
    name: str

    def recipient(self, period_code: str) -> str: ...

    def select(self, files: list[ExtractFile]) -> list[ExtractFile]: ...

    def send(self, period_code: str, files: list[ExtractFile], *, resend: bool) -> None: ...


def configured_channels(env: Mapping[str, str] | None = None) -> list[str]:
    """The channels named in `PCTN_DELIVERY_CHANNELS` (default: the outbox only) of `env` (default: the environment)."""
    return list(settings(env).delivery_channels)


# --- channels ------------------------------------------------------------------------------------


@dataclass
class OutboxChannel:
    """A folder the Inspectorate (or a sync job) picks files up from."""

    root: Path
    name: str = "outbox"

    def recipient(self, period_code: str) -> str:
        return str((self.root / period_code).resolve())

    def select(self, files: list[ExtractFile]) -> list[ExtractFile]:
        return files

    def send(self, period_code: str, files: list[ExtractFile], *, resend: bool) -> None:
        folder = self.root / period_code
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            part = folder / f".{f.name}.part"
            part.write_bytes(f.content)
            os.replace(part, folder / f.name)  # readers never see half a file


@dataclass
class SftpChannel:
    """Upload to the Inspectorate's SFTP server through Airflow's SFTP provider."""

    conn_id: str
    remote_dir: str
    name: str = "sftp"

    def _hook(self) -> Any:
        from airflow.providers.sftp.hooks.sftp import SFTPHook  # heavy import, only when used

        return SFTPHook(ssh_conn_id=self.conn_id)

    def recipient(self, period_code: str) -> str:
        target = posixpath.join(self.remote_dir, period_code)
        try:
            hook = self._hook()
            return f"sftp://{hook.username}@{hook.remote_host}:{hook.port}/{target.lstrip('/')}"
        except Exception:  # the failure itself is logged by `send`
            return f"sftp://[{self.conn_id}]/{target.lstrip('/')}"

    def select(self, files: list[ExtractFile]) -> list[ExtractFile]:
        return files

    def send(self, period_code: str, files: list[ExtractFile], *, resend: bool) -> None:
        hook = self._hook()
        target = posixpath.join(self.remote_dir, period_code)
        with hook.get_managed_conn() as sftp:
            hook.create_directory(target)
            for f in files:
                final = posixpath.join(target, f.name)
                part = posixpath.join(target, f".{f.name}.part")
                hook.store_file(part, io.BytesIO(f.content))
                try:
                    sftp.posix_rename(part, final)  # atomic replace where the server supports it
                except OSError:
                    if hook.isfile(final):
                        hook.delete_file(final)
                    sftp.rename(part, final)


@dataclass
class EmailChannel:
    """Mail the workbook, the yearly draft (if any) and the manifest through Airflow's SMTP provider."""

    conn_id: str
    to: list[str]
    from_email: str | None
    name: str = "email"

    def recipient(self, period_code: str) -> str:
        return ", ".join(self.to)

    def select(self, files: list[ExtractFile]) -> list[ExtractFile]:
        return [f for f in files if f.role in ("workbook", "report", "manifest")]

    def send(self, period_code: str, files: list[ExtractFile], *, resend: bool) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook  # heavy import, only when used

        if not self.to:
            raise ValueError("PCTN_EMAIL_TO trống / PCTN_EMAIL_TO is empty: no recipient for the email channel")
        again = " (gửi lại / resent)" if resend else ""
        subject = f"PCTN Thanh Hóa: chỉ tiêu kỳ {period_code} / anti-corruption indicators, {period_code}{again}"
        rows = "".join(
            f"<tr><td>{html.escape(f.name)}</td><td>{f.size:,}</td><td><code>{f.sha256}</code></td></tr>" for f in files
        )
        body = (
            f"<p>Kính gửi Thanh tra tỉnh,<br>Dear Inspectorate,</p>"
            f"<p>Gửi kèm bảng chỉ tiêu thực hiện Chiến lược PCTN kỳ <b>{html.escape(period_code)}</b>{again}.<br>"
            f"Attached: the anti-corruption strategy indicators for period <b>{html.escape(period_code)}</b>.</p>"
            f"<table border='1' cellpadding='4'><tr><th>Tệp / File</th><th>Byte</th><th>SHA-256</th></tr>"
            f"{rows}</table>"
            f"<p>Thư tự động, vui lòng không trả lời / Automatic message, please do not reply.</p>"
        )
        with tempfile.TemporaryDirectory(prefix="pctn-mail-") as tmp:
            paths = []
            for f in files:  # the hook attaches files by path; this folder lives only in this task
                path = Path(tmp) / f.name
                path.write_bytes(f.content)
                paths.append(str(path))
            with SmtpHook(smtp_conn_id=self.conn_id) as hook:
                hook.send_email_smtp(
                    to=self.to,
                    subject=subject,
                    html_content=body,
                    from_email=self.from_email,
                    files=paths,
                )


def make_channel(name: str, env: Mapping[str, str] | None = None) -> Channel:
    """A channel configured from the settings of `env` (default: the environment; see the module docstring)."""
    s = settings(env)
    if name == "outbox":
        return OutboxChannel(s.outbox())
    if name == "sftp":
        return SftpChannel(s.sftp_conn_id, s.sftp_dir)
    if name == "email":
        return EmailChannel(s.smtp_conn_id, list(s.email_to), s.email_from)
    raise ValueError(f"Kênh không hợp lệ / unknown channel {name!r}; expected one of {', '.join(CHANNELS)}")


# --- deliver -------------------------------------------------------------------------------------


def deliver(
    url: str,
    extract_id: int,
    channel: str,
    *,
    resend: bool = False,
    env: Mapping[str, str] | None = None,
) -> DeliveryResult:
    """Send extract `extract_id` on `channel` unless its period was already delivered there.

    With `resend=True` the files of the period's first delivery on this channel are sent
    again (same bytes, even if `extract_id` is a newer build); if the period was never
    delivered on this channel, it is a first delivery of `extract_id`. A failed send is
    logged with outcome `failed` and raised as `DeliveryError` (so Airflow retries it).
    """
    from ingestion.extract.guards import require_loaded_returns

    ch = make_channel(channel, env)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        period_code = load_extract(conn, extract_id).period_code
    require_loaded_returns(url, period_code)  # before any send or log row: no empty delivery
    with psycopg.connect(url, autocommit=True) as conn:
        failure: Exception | None = None
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"pctn.delivery:{period_code}:{channel}",))
            first = conn.execute(
                """
                select delivery_id, extract_id, files from delivery.deliveries
                where period_code = %s and channel = %s and outcome = 'delivered' and not is_resend
                """,
                (period_code, channel),
            ).fetchone()
            if first is not None and not resend:
                log.info("period %s already delivered on %s (delivery %s): skipped", period_code, channel, first[0])
                return DeliveryResult(
                    outcome="skipped",
                    channel=channel,
                    period_code=period_code,
                    extract_id=int(first[1]),
                    recipient=ch.recipient(period_code),
                    previous_delivery_id=int(first[0]),
                    files=list(first[2]),
                )
            is_resend = first is not None
            source_extract = int(first[1]) if first is not None else extract_id
            if is_resend and source_extract != extract_id:
                log.info("resend of %s on %s sends extract %s as first delivered", period_code, channel, source_extract)
            files = ch.select(load_files(conn, source_extract))
            sent = files_json(files)
            if first is not None and [f["sha256"] for f in sent] != [f["sha256"] for f in first[2]]:
                raise DeliveryError(
                    f"Gửi lại kỳ {period_code} qua {channel}: tệp khác với lần gửi đầu / resend would not send "
                    f"the files of the first delivery (delivery {first[0]})"
                )
            recipient = ch.recipient(period_code)
            try:
                ch.send(period_code, files, resend=is_resend)
            except Exception as exc:  # any failure of the channel is logged, then raised
                failure = exc
                conn.execute(
                    """
                    insert into delivery.deliveries
                        (extract_id, period_code, channel, recipient, files, outcome, error, is_resend)
                    values (%s, %s, %s, %s, %s, 'failed', %s, %s)
                    """,
                    (
                        source_extract,
                        period_code,
                        channel,
                        recipient,
                        Jsonb(sent),
                        f"{type(exc).__name__}: {exc}",
                        is_resend,
                    ),
                )
            else:
                row = conn.execute(
                    """
                    insert into delivery.deliveries
                        (extract_id, period_code, channel, recipient, files, outcome, is_resend)
                    values (%s, %s, %s, %s, %s, 'delivered', %s)
                    returning delivery_id
                    """,
                    (source_extract, period_code, channel, recipient, Jsonb(sent), is_resend),
                ).fetchone()
                assert row is not None
                delivery_id = int(row[0])
    if failure is not None:
        raise DeliveryError(
            f"Gửi kỳ {period_code} qua kênh {channel} tới {recipient} thất bại / delivery of {period_code} "
            f"on {channel} to {recipient} failed: {failure}"
        ) from failure
    return DeliveryResult(
        outcome="delivered",
        channel=channel,
        period_code=period_code,
        extract_id=source_extract,
        recipient=recipient,
        delivery_id=delivery_id,
        previous_delivery_id=int(first[0]) if first is not None else None,
        is_resend=is_resend,
        files=sent,
    )


def delivery_log(url: str, period_code: str | None = None) -> list[dict[str, Any]]:
    """The delivery log, newest first (for people and tests)."""
    from psycopg.rows import dict_row

    with psycopg.connect(url, autocommit=True) as conn, conn.cursor(row_factory=dict_row) as cur:
        ensure_schema(conn)
        cur.execute(
            """
            select delivery_id, extract_id, period_code, channel, recipient, files, delivered_at, outcome,
                   error, is_resend
            from delivery.deliveries
            where %(period)s::text is null or period_code = %(period)s
            order by delivered_at desc, delivery_id desc
            """,
            {"period": period_code},
        )
        return list(cur.fetchall())


__all__ = [
    "CHANNELS",
    "DeliveryError",
    "DeliveryResult",
    "configured_channels",
    "deliver",
    "delivery_log",
    "make_channel",
]

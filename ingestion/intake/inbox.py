"""What the intake may read from its inbox: regular files inside it, nothing else.

An inbox is a folder people and mail robots drop files into, so it also holds
links (a link to `/etc/passwd` is a file as far as `Path.read_bytes` knows),
editors' dot-files, sockets and half-copied folders. The intake reads only
regular files reached without following any link, opened with `O_NOFOLLOW` and
checked again after opening (a file swapped for a link between the listing and
the read is refused too). Every entry that is not read gets a receipt with the
reason, so nothing in the inbox is passed over silently.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from ingestion.intake.problems import Code
from ingestion.intake.readers.limits import ReaderLimits


@dataclass(frozen=True)
class InboxEntry:
    """One regular file of the inbox, with the state that identifies this offer of it."""

    path: Path
    relative: str
    size_bytes: int
    mtime_ns: int


@dataclass(frozen=True)
class NotRead:
    """An inbox entry the intake refuses to read, and why (in Vietnamese and English)."""

    relative: str
    code: Code
    reason_vi: str
    reason_en: str
    size_bytes: int | None = None
    mtime_ns: int | None = None


@dataclass
class InboxSurvey:
    files: list[InboxEntry] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)


class InboxError(RuntimeError):
    """The inbox itself cannot be listed (missing, not a folder)."""


_REASONS = {
    Code.SYMLINK: (
        "Là liên kết (symlink): không bao giờ được đọc theo; hãy đặt chính tệp vào thư mục nhận",
        "A symbolic link: never followed; put the file itself in the inbox",
    ),
    Code.SPECIAL_FILE: (
        "Không phải tệp thông thường (thiết bị, socket hoặc FIFO): không đọc",
        "Not a regular file (device, socket or FIFO): not read",
    ),
    Code.HIDDEN: (
        "Tệp hoặc thư mục ẩn (tên bắt đầu bằng dấu chấm): không đọc",
        "A hidden file or folder (name starts with a dot): not read",
    ),
}


def _not_read(relative: str, code: Code, st: os.stat_result | None = None) -> NotRead:
    vi, en = _REASONS[code]
    return NotRead(relative, code, vi, en, st.st_size if st else None, st.st_mtime_ns if st else None)


def survey_inbox(inbox: Path, limits: ReaderLimits | None = None) -> InboxSurvey:
    """Every entry under the inbox, in a stable order: regular files to read, the rest with a reason."""
    limits = limits or ReaderLimits.from_env()
    try:
        top = os.lstat(inbox)
    except FileNotFoundError as exc:
        raise InboxError(f"The inbox {inbox} does not exist (set RETURNS_INBOX to the folder of returns)") from exc
    if not stat.S_ISDIR(top.st_mode):
        raise InboxError(f"The inbox {inbox} is not a folder")
    survey = InboxSurvey()
    _walk(inbox, inbox, survey, limits)
    survey.files.sort(key=lambda e: e.relative)
    survey.not_read.sort(key=lambda e: e.relative)
    return survey


def _walk(inbox: Path, folder: Path, survey: InboxSurvey, limits: ReaderLimits) -> None:
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            path = Path(entry.path)
            relative = str(path.relative_to(inbox))
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                survey.not_read.append(_not_read(relative, Code.SYMLINK, st))
            elif entry.name.startswith("."):
                survey.not_read.append(_not_read(relative, Code.HIDDEN, st))
            elif stat.S_ISDIR(st.st_mode):
                _walk(inbox, path, survey, limits)
            elif not stat.S_ISREG(st.st_mode):
                survey.not_read.append(_not_read(relative, Code.SPECIAL_FILE, st))
            elif st.st_size > limits.max_file_bytes:
                mib = 1024 * 1024
                survey.not_read.append(
                    NotRead(
                        relative,
                        Code.TOO_LARGE,
                        f"Tệp {st.st_size / mib:,.0f} MiB vượt giới hạn {limits.max_file_bytes / mib:,.0f} MiB"
                        " (thiết lập PCTN_MAX_FILE_BYTES): không đọc",
                        f"The file is {st.st_size / mib:,.0f} MiB, over the limit of"
                        f" {limits.max_file_bytes / mib:,.0f} MiB (setting PCTN_MAX_FILE_BYTES): not read",
                        st.st_size,
                        st.st_mtime_ns,
                    )
                )
            else:
                survey.files.append(InboxEntry(path, relative, st.st_size, st.st_mtime_ns))


class UnsafeEntry(OSError):
    """The entry changed into something that is not a regular file between listing and reading."""


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, refusing links (`O_NOFOLLOW`) and anything not regular after opening."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeEntry(f"{path} is not a regular file")
        if st.st_size > max_bytes:
            raise UnsafeEntry(f"{path} grew over the size limit while being read")
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise UnsafeEntry(f"{path} grew over the size limit while being read")
        return data
    finally:
        os.close(fd)


def record_not_read(conn: psycopg.Connection, entries: list[NotRead]) -> None:
    """One receipt per entry not read (not repeated while the entry stays as it is)."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into registry.receipts (sha256, file_name, outcome, entry_path, mtime_ns, size_bytes,"
            " reason_code, reason_vi, reason_en) values (null, %s, 'not_read', %s, %s, %s, %s, %s, %s)"
            " on conflict do nothing",
            [
                (
                    Path(e.relative).name,
                    e.relative,
                    e.mtime_ns,
                    e.size_bytes,
                    e.code,
                    e.reason_vi,
                    e.reason_en,
                )
                for e in entries
            ],
        )

"""File identity, history and supersession in `registry`.

A file is identified by the SHA-256 of its bytes and its name: the same bytes
offered twice are one registry row (the second offer is only a receipt). The same
bytes under another name are a new offer, because the name carries the return's
identity: a unit that first sent a file under a wrong name (rejected) and then
renamed it must see it processed. The bytes themselves go to
`registry.file_contents`, which is the archive *and* the hand-over between tasks (sealed, see
`ingestion.intake.sealing`, since returns carry names):
a worker that processes a file reads it from the warehouse, never from another
worker's disk. Among the loaded files of one return (source, unit, period) the
highest version wins; ties go to the later arrival, and the others become
`superseded` but stay in history with their rows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingestion.intake.pseudonym import pseudonym_key
from ingestion.intake.sealing import seal, unseal


@dataclass(frozen=True)
class Registration:
    file_id: int
    sha256: str
    file_name: str
    is_new: bool
    status: str


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# One statement per offer: the sealed original (once per SHA-256), the registry row (once per
# bytes and name) and the offer's receipt. Data-modifying CTEs all run to completion; the
# foreign keys are checked at the statement's end, when the content row is there.
_REGISTER = """
with content as (
    insert into registry.file_contents (sha256, size_bytes, content)
    values (%(sha256)s, %(size)s, %(sealed)s)
    on conflict (sha256) do nothing
), added as (
    insert into registry.files (sha256, file_name) values (%(sha256)s, %(name)s)
    on conflict (sha256, file_name) do nothing
    returning file_id, status
), registered as (
    select file_id, status, true as is_new from added
    union all
    select file_id, status, false from registry.files
    where sha256 = %(sha256)s and file_name = %(name)s and not exists (select from added)
), receipt as (
    insert into registry.receipts (sha256, file_name, outcome, entry_path, mtime_ns, size_bytes)
    select %(sha256)s::text, %(name)s::text, case when is_new then 'new' else 'duplicate' end,
        %(path)s::text, %(mtime)s::bigint, %(size)s::bigint
    from registered
    on conflict do nothing
)
select file_id, status, is_new from registered
"""
# Offers sent in one pipeline (one round trip): a few hundred files, or fewer large ones.
REGISTER_BATCH_FILES = 200
REGISTER_BATCH_BYTES = 64 << 20


@dataclass(frozen=True)
class Offer:
    """One file offered to the registry: its name, bytes and where in the inbox it lay (path, mtime)."""

    file_name: str
    data: bytes
    entry_path: str | None = None
    mtime_ns: int | None = None


def _params(offer: Offer, key: bytes) -> dict[str, object]:
    return {
        "sha256": sha256_of(offer.data),
        "size": len(offer.data),
        "sealed": seal(offer.data, key),
        "name": offer.file_name,
        "path": offer.entry_path,
        "mtime": offer.mtime_ns,
    }


def register_offers(conn: psycopg.Connection, offers: Sequence[Offer]) -> list[Registration]:
    """Register the offers in order, in one pipeline: each is one statement and one round trip for all.

    Store the original (sealed) and its registry row once; every offer leaves a receipt.
    An offer is the inbox entry in one state (path, size, modification time): a rerun
    over an unchanged inbox adds no receipt, a resend (a new copy) does. On an
    autocommit connection the pipeline's statements commit together at its sync.
    """
    key = pseudonym_key()
    params = [_params(o, key) for o in offers]
    with conn.pipeline():
        cursors = [conn.execute(_REGISTER, p) for p in params]
    out: list[Registration] = []
    for p, cursor in zip(params, cursors, strict=True):
        row = cursor.fetchone()
        if row is None:  # another intake added the row after this statement's snapshot: it is there now
            row = conn.execute(_REGISTER, p).fetchone()
        assert row is not None
        out.append(
            Registration(
                file_id=row[0], sha256=str(p["sha256"]), file_name=str(p["name"]), is_new=row[2], status=row[1]
            )
        )
    return out


def register_bytes(
    conn: psycopg.Connection,
    file_name: str,
    data: bytes,
    entry_path: str | None = None,
    mtime_ns: int | None = None,
) -> Registration:
    """Register one file's bytes (see `register_offers`)."""
    (registration,) = register_offers(conn, [Offer(file_name, data, entry_path, mtime_ns)])
    return registration


def read_offer(path: Path, relative: str | None = None) -> Offer:
    """An inbox file as an offer (links and special files are refused, see `ingestion.intake.inbox`)."""
    from ingestion.intake.inbox import read_regular_file
    from ingestion.intake.readers.limits import ReaderLimits

    st = os.lstat(path)
    data = read_regular_file(path, ReaderLimits.from_env().max_file_bytes)
    return Offer(path.name, data, relative or path.name, st.st_mtime_ns)


def register_file(conn: psycopg.Connection, path: Path, relative: str | None = None) -> Registration:
    """Register one regular file of the inbox."""
    (registration,) = register_offers(conn, [read_offer(path, relative)])
    return registration


def is_processed(conn: psycopg.Connection, sha256: str, file_name: str) -> bool:
    """These bytes under this name (the registry's identity of a file) are registered and processed."""
    row = conn.execute(
        "select 1 from registry.files where sha256 = %s and file_name = %s and status <> 'received'",
        (sha256, file_name),
    ).fetchone()
    return row is not None


def file_bytes(conn: psycopg.Connection, file_id: int) -> tuple[str, bytes]:
    # binary: a bytea in text form comes as hex, twice the file, before psycopg turns it into bytes
    row = conn.execute(
        "select f.file_name, c.content from registry.files f join registry.file_contents c using (sha256)"
        " where f.file_id = %s",
        (file_id,),
        binary=True,
    ).fetchone()
    if row is None:
        raise LookupError(f"file_id {file_id} is not registered")
    name, sealed = row
    del row
    return name, unseal(sealed, pseudonym_key())


def return_lock(conn: psycopg.Connection, source: str, unit_code: str, period_code: str) -> None:
    """Serialise the writers of one return (source, unit, period) until the transaction ends.

    Taken before any row lock, so two versions of one return stored at once queue
    instead of deadlocking on each other's registry rows.
    """
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{source}|{unit_code}|{period_code}",))


def apply_supersession(conn: psycopg.Connection, source: str, unit_code: str, period_code: str) -> None:
    """Mark the winning version of one return `loaded` and the others `superseded`.

    Runs inside the caller's transaction, under a lock on the return, so two
    workers finishing versions of the same return at once cannot both win.
    """
    return_lock(conn, source, unit_code, period_code)
    conn.execute(
        """
        with ranked as (
            select file_id,
                   first_value(file_id) over (order by version desc, file_id desc) as winner
            from registry.files
            where source = %s and unit_code = %s and period_code = %s
              and status in ('loaded', 'superseded')
        )
        update registry.files f
        set status = case when f.file_id = r.winner then 'loaded' else 'superseded' end,
            superseded_by = case when f.file_id = r.winner then null else r.winner end
        from ranked r
        where f.file_id = r.file_id
        """,
        (source, unit_code, period_code),
    )


def unseal_to(conn: psycopg.Connection, file_id: int, folder: Path) -> Path:
    """Write one original back, byte for byte, into a folder the operator names (the only clear copy).

    Returns the path written; the SHA-256 is checked against the registry first.
    The file name is reduced to its last component so a stored name cannot point
    outside `folder`.
    """
    name, data = file_bytes(conn, file_id)
    row = conn.execute("select sha256 from registry.files where file_id = %s", (file_id,)).fetchone()
    if row is None or sha256_of(data) != row[0]:
        raise ValueError(f"file_id {file_id}: the unsealed bytes do not match the registry's SHA-256")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{file_id}_{Path(name).name}"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return target

"""Read and parse one return in a child process that may crash, hang or run out of memory alone.

The Excel reader is native code: on a hostile sheet it aborts the whole process
from Rust (SIGABRT), which no Python `except` catches, and a zip bomb can hold a
core for minutes. So the dangerous part of the intake (cheap checks, decoding,
the table reader, the value parsers) runs in a child process with an
address-space limit (`PCTN_READER_MEMORY_MB`), no core dumps, and a wall-clock
limit (`PCTN_READER_TIMEOUT_S`) enforced by the parent. A file that kills its
reader becomes a rejection (`reader_crashed`, `reader_timeout`) and the next file
gets a fresh child; the parent process, its connections and the other files go on.

The child is started with `subprocess` (not `multiprocessing`) because Celery's
prefork workers are daemonic processes, which `multiprocessing` refuses to let
have children. It stays up between files (pandas and calamine are imported once),
and is replaced after a failure or when it has grown. Requests and answers are
pickles streamed over its stdin/stdout (both ends are this module): `pickle.dump`
writes to the pipe frame by frame and `pickle.load` reads them back, so neither
side ever holds the whole pickle of a 1M-row return as one more copy next to the
objects (about 0.25 GB on each side, issue 11). Each answer is followed by one pickle
per parsed column, then a small one with the child's peak memory, measured after the
answer was written; the parent reads them through one buffered reader per child.

`PCTN_READER_ISOLATION=inprocess` reads in the calling process instead; it exists
only so the benchmark can measure what the isolation costs, never for production.
"""

from __future__ import annotations

import atexit
import os
import pickle
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ingestion.intake.problems import Code, Rejection
from ingestion.intake.readers.limits import ReaderLimits
from ingestion.intake.readers.table import FileData
from ingestion.paths import REPO_ROOT
from ingestion.settings import settings

RECYCLE_AFTER_FILES = 5000  # a fresh child costs ~0.7 CPU s (Python, pandas, calamine): 1.4 ms a file at 500
STARTUP_TIMEOUT_S = 120
RECYCLE_ABOVE_FRACTION = 0.5  # of the memory limit, as peak RSS
OUT_OF_MEMORY_EXIT = 3  # the child's exit status when memory ran out while it was writing an answer
PACKAGE_ROOT = REPO_ROOT


@dataclass
class ReadResult:
    """What the child hands back for one file: the parsed rows and the table's facts."""

    parsed: Any  # ingestion.intake.parse.ParsedReturn
    title_unit: str | None
    title_period: str | None
    encoding: str | None
    legacy_repair: str | None
    sheet_name: str | None
    peak_rss_kb: int = 0


def read_and_parse(
    data: bytes | FileData, extension: str, source_code: str, key: bytes, limits: ReaderLimits
) -> ReadResult:
    """The work itself, the same in the child and in process: checks, table, typed columns.

    Given a `FileData`, the reader drops the file's bytes as soon as it no longer needs them.
    """
    from ingestion.contract.sources import SOURCES
    from ingestion.intake.parse import parse_table
    from ingestion.intake.readers.table import read_table

    source = SOURCES[source_code]
    table = read_table(data, extension, source, limits)
    parsed = parse_table(table, source, key, consume=True)  # the rows are not needed once parsed
    return ReadResult(
        parsed=parsed,
        title_unit=table.title_unit,
        title_period=table.title_period,
        encoding=table.encoding,
        legacy_repair=table.legacy_repair,
        sheet_name=table.sheet_name,
    )


def _mode() -> str:
    return settings().reader_isolation.value


class IsolatedReader:
    """One reusable child process; `read` never raises for what a file does to its reader."""

    def __init__(self, limits: ReaderLimits | None = None) -> None:
        self.limits = limits or ReaderLimits.from_env()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._files = 0
        self.last_peak_rss_kb = 0
        self.peaks_kb: list[int] = []  # peak RSS of the child after each file, for tests and benchmarks
        # the file submitted and not yet collected: its request in process mode, () when the child holds it
        self._request: tuple[bytes | FileData, str, str, bytes] | tuple[()] | None = None
        self._deadline = 0.0
        self._write_error: OSError | None = None
        self._pipe: _PipeReader | None = None  # the current child's stdout, buffered

    # -- child lifecycle ---------------------------------------------------------------
    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  closed in close()/_kill()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "ingestion.intake.readers.isolated", str(self.limits.memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            close_fds=True,
        )
        self._files = 0
        try:  # the child says it is ready once pandas and calamine are imported: not part of any file's time
            self._receive(self._proc, time.monotonic() + STARTUP_TIMEOUT_S)
        except (TimeoutError, EOFError, OSError) as exc:
            code, _ = self._kill()
            raise RuntimeError(f"the isolated reader did not start (exit {code})") from exc
        return self._proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        self._pipe = None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        self._close_streams(proc)

    def _close_streams(self, proc: subprocess.Popen[bytes]) -> None:
        for stream in (proc.stdout, proc.stdin):
            if stream is not None:
                stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _kill(self) -> tuple[int | None, int]:
        """Kill the child; return its exit status (negative signal) and peak RSS in KiB."""
        proc, self._proc = self._proc, None
        self._pipe = None
        if proc is None:
            return None, 0
        try:  # reap it ourselves (not with poll()): wait4 also gives its peak RSS
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == 0:  # still running (a hang, or a child we give up on): kill it first
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            proc.returncode = code
            peak = int(usage.ru_maxrss)
        except ChildProcessError:  # already reaped elsewhere
            code, peak = proc.returncode, 0
        self._close_streams(proc)
        self.last_peak_rss_kb = peak
        self.peaks_kb.append(peak)
        return code, peak

    # -- one file -------------------------------------------------------------------------
    def read(self, data: bytes | FileData, extension: str, source_code: str, key: bytes) -> ReadResult:
        """Read one file in the child; a crash, a hang or exhausted memory comes back as a `Rejection`."""
        self.submit(data, extension, source_code, key)
        return self.collect()

    def submit(self, data: bytes | FileData, extension: str, source_code: str, key: bytes) -> None:
        """Hand one file to the child and return at once: the caller works while the child reads.

        One file at a time: `collect` must take its answer before the next `submit` (so
        neither side can block the other on a full pipe). The timeout runs from here.
        Given a `FileData` (and no other reference to the bytes), the bytes are dropped
        once sent: this process does not hold the file while the child reads it.
        """
        if self._request is not None:
            raise RuntimeError("the reader already holds a file: collect it first")
        self._deadline = time.monotonic() + self.limits.timeout_s
        self._write_error = None
        if _mode() == "inprocess":
            self._request = (data, extension, source_code, key)  # read at `collect`, in this process
            return
        self._request = ()
        proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
        request = (data.take() if isinstance(data, FileData) else data, extension, source_code, key, self.limits)
        del data
        try:
            assert proc.stdin is not None
            # streamed: the file's bytes go to the pipe as they are, never copied into one request blob
            pickle.dump(request, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            del request
            proc.stdin.flush()
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            self._write_error = exc  # the child died: `collect` reports it as the file's outcome

    def ready(self) -> bool:
        """Whether `collect` would not wait: the child has begun its answer (or is gone)."""
        if self._request is None or _mode() == "inprocess" or self._write_error is not None:
            return True
        proc = self._proc
        if proc is None or proc.stdout is None:
            return True
        if self._pipe is not None and self._pipe.pending():
            return True
        readable, _, _ = select.select([proc.stdout.fileno()], [], [], 0)
        return bool(readable)

    def collect(self) -> ReadResult:
        """The answer for the file `submit` handed over (waiting for it until its deadline)."""
        if self._request is None:
            raise RuntimeError("no file was submitted")
        request, self._request = self._request, None
        if request:  # in process
            return read_and_parse(*request, self.limits)
        proc, deadline = self._proc, self._deadline
        try:
            if self._write_error is not None or proc is None:
                raise EOFError
            answer = self._receive(proc, deadline)
            if answer[0] == "ok":  # the parsed columns follow, one pickle each (`_detach_parts`)
                _attach_parts(answer[1], [self._receive(proc, deadline) for _ in range(answer[2])])
            _, _, peak = self._receive(proc, deadline)  # measured once the answer was written
        except TimeoutError:
            self._kill()
            raise Rejection(
                Code.READER_TIMEOUT,
                f"Đọc tệp quá {self.limits.timeout_s} giây (giới hạn PCTN_READER_TIMEOUT_S) nên đã dừng: tệp quá lớn"
                " hoặc có cấu trúc bất thường. Các tệp khác vẫn được xử lý",
                f"Reading the file took longer than {self.limits.timeout_s} s (limit PCTN_READER_TIMEOUT_S) and was"
                " stopped: the file is too large or oddly built. The other files go on",
            ) from None
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError, pickle.UnpicklingError):
            code, _ = self._kill()
            if code == OUT_OF_MEMORY_EXIT:
                raise _out_of_memory(self.limits) from None
            raise _crashed(code, self.limits) from None
        kind, payload, _ = answer
        self.last_peak_rss_kb = peak
        self.peaks_kb.append(peak)
        self._files += 1
        if (
            kind != "ok"
            or self._files >= RECYCLE_AFTER_FILES
            or peak > self.limits.memory_mb * 1024 * RECYCLE_ABOVE_FRACTION
        ):
            self.close()  # a child that failed or grew is not reused
        if kind == "ok":
            payload.peak_rss_kb = peak
            return payload
        if kind == "rejected":
            raise Rejection(*payload)
        if kind == "memory":
            raise _out_of_memory(self.limits)
        raise Rejection(
            Code.UNREADABLE,
            f"Không đọc được tệp (lỗi của bộ đọc: {payload})",
            f"The file cannot be read (reader error: {payload})",
        )

    def abandon(self) -> None:
        """Forget a submitted file whose answer will not be collected (the batch stopped): the child is
        stopped, so its answer cannot be taken for the next file's."""
        if self._request is not None:
            self._request = None
            if self._proc is not None:
                self._kill()

    def _receive(self, proc: subprocess.Popen[bytes], deadline: float) -> tuple[str, Any, int]:
        assert proc.stdout is not None
        if self._pipe is None or self._pipe.fd != proc.stdout.fileno():
            self._pipe = _PipeReader(proc.stdout.fileno())
        self._pipe.deadline = deadline
        answer: tuple[str, Any, int] = pickle.load(self._pipe)
        return answer


def _detach_parts(result: ReadResult) -> list[tuple[str, Any, Any]]:
    """Take the parsed columns out of a result, to be pickled one by one after it.

    One pickle of a whole 1M-row return keeps a memo entry for every string and list
    in it until the end (~0.13 GB in the child); a pickle per column keeps one
    column's. Frame columns and pseudonym columns; `_attach_parts` puts them back.
    """
    parsed = result.parsed
    parts: list[tuple[str, Any, Any]] = [("frame", name, parsed.frame[name]) for name in parsed.frame.columns]
    parts += [("pseudonyms", name, column) for name, column in parsed.pseudonyms.items()]
    parsed.frame = parsed.frame.iloc[:0, :0]
    parsed.pseudonyms = {}
    return parts


def _attach_parts(result: ReadResult, parts: list[tuple[str, Any, Any]]) -> None:
    """The inverse of `_detach_parts`: the frame rebuilt from its columns, in order, and the pseudonyms."""
    parsed = result.parsed
    parsed.frame = pd.DataFrame({name: column for where, name, column in parts if where == "frame"})
    parsed.pseudonyms = {name: column for where, name, column in parts if where == "pseudonyms"}


class _PipeReader:
    """The child's stdout as `pickle.load` reads it: buffered, each wait bounded by a deadline.

    One per child process, kept from answer to answer: the bytes read past one pickle's end
    are the start of the next (the child writes only what the parent reads, in order), so
    buffering loses nothing. An unbuffered reader cost a `select` and a `read` per opcode
    group, ~80 system calls for a small file's answer (16 pickles: the answer, a pickle per
    column, the peak). A silent child past the deadline is `TimeoutError`; a closed pipe is
    `EOFError`. An answer already there is taken even past the deadline: the caller was
    busy, not the child. No `peek`, so `pickle.load` asks for exactly what it consumes.
    """

    CHUNK = 1 << 16

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.deadline = 0.0
        self._buffer = bytearray()
        self._at = 0

    def pending(self) -> bool:
        """Whether bytes of an answer are already here, read from the pipe but not yet taken."""
        return self._at < len(self._buffer)

    def _wait(self) -> None:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, self.deadline - time.monotonic()))
        if not ready:
            raise TimeoutError

    def _fill(self) -> None:
        self._wait()
        chunk = os.read(self.fd, self.CHUNK)
        if not chunk:
            raise EOFError
        if self._at:
            del self._buffer[: self._at]
            self._at = 0
        self._buffer += chunk

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        held = min(len(view), len(self._buffer) - self._at)
        view[:held] = self._buffer[self._at : self._at + held]
        self._at += held
        done = held
        while done < len(view):  # a large object: straight from the pipe into its place
            self._wait()
            got = os.readv(self.fd, [view[done:]])
            if not got:
                raise EOFError
            done += got
        return done

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise ValueError("the pickle stream has no end to read to")
        if size > self.CHUNK:
            buffer = bytearray(size)
            self.readinto(buffer)
            return bytes(buffer)
        while len(self._buffer) - self._at < size:
            self._fill()
        out = bytes(self._buffer[self._at : self._at + size])
        self._at += size
        return out

    def readline(self) -> bytes:  # only protocol 0 opcodes use it
        while (end := self._buffer.find(b"\n", self._at)) < 0:
            self._fill()
        return self.read(end + 1 - self._at)


def _crashed(code: int | None, limits: ReaderLimits) -> Rejection:
    name = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
    return Rejection(
        Code.READER_CRASHED,
        f"Bộ đọc tệp bị dừng bất thường ({name}) khi đọc tệp này: tệp hỏng, quá lớn hoặc cần nhiều hơn"
        f" {limits.memory_mb:,} MB bộ nhớ (giới hạn PCTN_READER_MEMORY_MB). Hãy lưu lại tệp bằng Excel rồi gửi lại;"
        " các tệp khác vẫn được xử lý",
        f"The file reader stopped abnormally ({name}) on this file: the file is damaged, too large, or needs more"
        f" than {limits.memory_mb:,} MB of memory (limit PCTN_READER_MEMORY_MB). Save it again in Excel and resend;"
        " the other files go on",
    )


def _out_of_memory(limits: ReaderLimits) -> Rejection:
    return Rejection(
        Code.TOO_LARGE,
        f"Đọc tệp cần nhiều hơn {limits.memory_mb:,} MB bộ nhớ (giới hạn PCTN_READER_MEMORY_MB)",
        f"Reading the file needs more than {limits.memory_mb:,} MB of memory (limit PCTN_READER_MEMORY_MB)",
    )


_READER: IsolatedReader | None = None


def shared_reader() -> IsolatedReader:
    """The reader of this process (one child per process, closed at exit; renewed when the limits change)."""
    global _READER
    limits = ReaderLimits.from_env()
    if _READER is not None and _READER.limits != limits:
        _READER.close()
        _READER = None
    if _READER is None:
        _READER = IsolatedReader(limits)
        atexit.register(_READER.close)
    return _READER


# -- the child ------------------------------------------------------------------------------


def _own_peak_rss_kb() -> int:
    """This process's own peak RSS in KiB: `VmHWM` of its address space.

    `ru_maxrss` is not it: Linux carries it over `fork` and `exec`, so a child
    started by a parent holding 1 GB reported 1 GB before reading a byte (and was
    recycled as "grown"). `VmHWM` belongs to the address space `exec` made.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _child(memory_mb: int) -> None:
    """Serve read requests on stdin until it closes; never let an exception through."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not write the file's data to disk
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import pandas  # noqa: F401  imported once, before the first file
    import python_calamine  # noqa: F401

    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing a library prints may corrupt the answers
    pickle.dump(("ready", None, 0), out)
    out.flush()
    while True:
        try:
            request = pickle.load(stdin)
        except EOFError:
            return
        data = FileData(request[0])  # the only reference: the reader drops the bytes once decoded
        extension, source_code, key, limits = request[1:]
        del request
        answer: tuple[str, Any, int]
        try:
            answer = ("ok", read_and_parse(data, extension, source_code, key, limits), 0)
        except Rejection as exc:
            answer = ("rejected", (exc.code, exc.reason_vi, exc.reason_en), 0)
        except MemoryError:
            answer = ("memory", None, 0)
        except RecursionError:
            answer = ("error", "RecursionError", 0)
        except Exception as exc:  # a bug or a file no reader understands: the file's outcome, not a crash
            answer = ("error", type(exc).__name__, 0)
        del data
        try:
            parts = _detach_parts(answer[1]) if isinstance(answer[1], ReadResult) else []
            pickle.dump((answer[0], answer[1], len(parts)), out, protocol=pickle.HIGHEST_PROTOCOL)
            del answer
            while parts:  # one pickle a column: the pickler's memo (an entry per object) lives for one column
                pickle.dump(parts.pop(0), out, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:  # part of the answer may be in the pipe already: the parent sees the exit status
            os._exit(OUT_OF_MEMORY_EXIT)
        pickle.dump(("peak", None, _own_peak_rss_kb()), out)
        out.flush()


if __name__ == "__main__":
    # run the imported module's copy, so what is pickled names `ingestion.intake.readers.isolated`, not `__main__`
    from ingestion.intake.readers.isolated import _child as serve

    serve(int(sys.argv[1]))

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
length-prefixed pickles over its stdin/stdout: both ends are this module.

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
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from ingestion.intake.problems import Code, Rejection
from ingestion.intake.readers.limits import ReaderLimits
from ingestion.paths import REPO_ROOT
from ingestion.settings import settings

_HEADER = struct.Struct("!Q")
RECYCLE_AFTER_FILES = 500
STARTUP_TIMEOUT_S = 120
RECYCLE_ABOVE_FRACTION = 0.5  # of the memory limit, as peak RSS
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


def read_and_parse(data: bytes, extension: str, source_code: str, key: bytes, limits: ReaderLimits) -> ReadResult:
    """The work itself, the same in the child and in process: checks, table, typed columns."""
    from ingestion.contract.sources import SOURCES
    from ingestion.intake.parse import parse_table
    from ingestion.intake.readers.table import read_table

    source = SOURCES[source_code]
    table = read_table(data, extension, source, limits)
    parsed = parse_table(table, source, key)
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
        self._request: tuple[bytes, str, str, bytes] | None = None  # the file submitted, not yet collected
        self._deadline = 0.0
        self._write_error: OSError | None = None

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
    def read(self, data: bytes, extension: str, source_code: str, key: bytes) -> ReadResult:
        """Read one file in the child; a crash, a hang or exhausted memory comes back as a `Rejection`."""
        self.submit(data, extension, source_code, key)
        return self.collect()

    def submit(self, data: bytes, extension: str, source_code: str, key: bytes) -> None:
        """Hand one file to the child and return at once: the caller works while the child reads.

        One file at a time: `collect` must take its answer before the next `submit` (so
        neither side can block the other on a full pipe). The timeout runs from here.
        """
        if self._request is not None:
            raise RuntimeError("the reader already holds a file: collect it first")
        self._request = (data, extension, source_code, key)
        self._deadline = time.monotonic() + self.limits.timeout_s
        self._write_error = None
        if _mode() == "inprocess":
            return  # read at `collect`, in this process
        proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
        request = pickle.dumps((data, extension, source_code, key, self.limits), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            assert proc.stdin is not None
            proc.stdin.write(_HEADER.pack(len(request)) + request)
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
        readable, _, _ = select.select([proc.stdout.fileno()], [], [], 0)
        return bool(readable)

    def collect(self) -> ReadResult:
        """The answer for the file `submit` handed over (waiting for it until its deadline)."""
        if self._request is None:
            raise RuntimeError("no file was submitted")
        request, self._request = self._request, None
        if _mode() == "inprocess":
            return read_and_parse(*request, self.limits)
        proc = self._proc
        try:
            if self._write_error is not None or proc is None:
                raise EOFError
            answer = self._receive(proc, self._deadline)
        except TimeoutError:
            self._kill()
            raise Rejection(
                Code.READER_TIMEOUT,
                f"Đọc tệp quá {self.limits.timeout_s} giây (giới hạn PCTN_READER_TIMEOUT_S) nên đã dừng: tệp quá lớn"
                " hoặc có cấu trúc bất thường. Các tệp khác vẫn được xử lý",
                f"Reading the file took longer than {self.limits.timeout_s} s (limit PCTN_READER_TIMEOUT_S) and was"
                " stopped: the file is too large or oddly built. The other files go on",
            ) from None
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            code, _ = self._kill()
            raise _crashed(code, self.limits) from None
        kind, payload, peak = answer
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
        fd = proc.stdout.fileno()
        header = _read_exact(fd, _HEADER.size, deadline)
        (size,) = _HEADER.unpack(header)
        return pickle.loads(_read_exact(fd, size, deadline))


def _read_exact(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        # an answer already there is taken even past the deadline: the caller was busy, not the child
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


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
    ready = pickle.dumps(("ready", None, 0))
    out.write(_HEADER.pack(len(ready)) + ready)
    out.flush()
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        data, extension, source_code, key, limits = pickle.loads(stdin.read(size))
        answer: tuple[str, Any, int]
        try:
            result = read_and_parse(data, extension, source_code, key, limits)
            answer = ("ok", result, 0)
        except Rejection as exc:
            answer = ("rejected", (exc.code, exc.reason_vi, exc.reason_en), 0)
        except MemoryError:
            answer = ("memory", None, 0)
        except RecursionError:
            answer = ("error", "RecursionError", 0)
        except Exception as exc:  # a bug or a file no reader understands: the file's outcome, not a crash
            answer = ("error", type(exc).__name__, 0)
        peak = _own_peak_rss_kb()
        try:
            blob = pickle.dumps((answer[0], answer[1], peak), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            blob = pickle.dumps(("memory", None, peak))
        out.write(_HEADER.pack(len(blob)) + blob)
        out.flush()
        del data, answer


if __name__ == "__main__":
    # run the imported module's copy, so what is pickled names `ingestion.intake.readers.isolated`, not `__main__`
    from ingestion.intake.readers.isolated import _child as serve

    serve(int(sys.argv[1]))

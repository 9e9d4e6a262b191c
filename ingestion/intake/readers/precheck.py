"""Cheap checks that refuse what cannot be a return, before any reader touches it.

The Excel reader (calamine) allocates a sheet densely and trusts the zip: a 2 KB
file whose only far cell is `XFD1048576` makes it ask for 512 GB and abort the
process, and a 3 MB zip bomb inflates to gigabytes. These checks look only at
the zip's directory and at the first few kilobytes of each XML part, so they cost
milliseconds whatever the file claims to hold. What they cannot see (a zip that
lies about its sizes, a sheet without a dimension) is bounded by the reader's
process limits (`ingestion.intake.readers.isolated`).

No library does this: openpyxl and calamine both read the parts first and check
nothing; `zipfile` exposes the declared sizes, which is what is used here.
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

from ingestion.intake.problems import Code, Rejection
from ingestion.intake.readers.limits import ReaderLimits

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,4})?(\d+)?(?::([A-Z]{1,4})(\d+))?"')
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
HEAD_BYTES = 8192
MIN_RATIO_CHECK_BYTES = 1024 * 1024  # tiny parts compress absurdly well and are harmless


def column_number(letters: str) -> int:
    """`A` -> 1, `Z` -> 26, `XFD` -> 16384."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MiB" if n >= 10 * 1024 * 1024 else f"{n:,} bytes"


def too_large(what_vi: str, what_en: str, value: str, limit: str, setting: str) -> Rejection:
    return Rejection(
        Code.TOO_LARGE,
        f"Tệp vượt giới hạn: {what_vi} là {value}, giới hạn {limit} (thiết lập {setting})",
        f"The file is over a limit: {what_en} is {value}, the limit is {limit} (setting {setting})",
    )


def check_file(data: bytes, extension: str, limits: ReaderLimits) -> None:
    """Reject an empty, oversized, encrypted, damaged or bomb-like file; return quietly otherwise."""
    if not data:
        raise Rejection(
            Code.EMPTY_FILE,
            "Tệp rỗng (0 byte): không có nội dung nào để đọc; hãy gửi lại tệp có dữ liệu",
            "The file is empty (0 bytes): there is nothing to read; send the file again with its data",
        )
    if len(data) > limits.max_file_bytes:
        raise too_large(
            "dung lượng tệp",
            "the file size",
            _mib(len(data)),
            _mib(limits.max_file_bytes),
            "PCTN_MAX_FILE_BYTES",
        )
    if extension == "xlsx":
        check_xlsx(data, limits)


def check_xlsx(data: bytes, limits: ReaderLimits) -> None:
    if data.startswith(OLE2_MAGIC):
        if any(marker in data for marker in _ENCRYPTED_MARKERS):
            raise Rejection(
                Code.ENCRYPTED,
                "Tệp Excel được bảo vệ bằng mật khẩu nên không đọc được:"
                " hãy lưu lại tệp không đặt mật khẩu rồi gửi lại",
                "The Excel file is protected by a password and cannot be read: save it without one and send it again",
            )
        raise Rejection(
            Code.UNREADABLE,
            "Tệp là định dạng Excel cũ (.xls) dù mang đuôi .xlsx: hãy mở và lưu lại dưới dạng .xlsx",
            "The file is an old Excel (.xls) workbook named .xlsx: open it and save it as .xlsx",
        )
    if not data.startswith(b"PK"):
        raise Rejection(
            Code.UNREADABLE,
            "Tệp không phải là bảng tính Excel (.xlsx)",
            "The file is not an Excel (.xlsx) workbook",
        )
    try:
        zf = zipfile.ZipFile(BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise Rejection(
            Code.UNREADABLE,
            f"Tệp Excel (.xlsx) bị hỏng hoặc không trọn vẹn (tệp nén lỗi: {type(exc).__name__})",
            f"The Excel (.xlsx) file is damaged or truncated (bad zip: {type(exc).__name__})",
        ) from exc
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise too_large(
            "dung lượng sau giải nén",
            "the uncompressed size",
            _mib(total),
            _mib(limits.max_uncompressed_bytes),
            "PCTN_MAX_UNCOMPRESSED_BYTES",
        )
    for info in infos:
        if info.file_size >= MIN_RATIO_CHECK_BYTES and info.file_size > limits.max_zip_ratio * max(
            info.compress_size, 1
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise too_large(
                f"tỷ lệ nén của phần {info.filename}",
                f"the compression ratio of part {info.filename}",
                f"{ratio:,.0f}:1",
                f"{limits.max_zip_ratio}:1",
                "PCTN_MAX_ZIP_RATIO",
            )
    if not any(i.filename == "xl/workbook.xml" for i in infos):
        raise Rejection(
            Code.UNREADABLE,
            "Tệp .xlsx không có phần bảng tính (xl/workbook.xml): không phải tệp Excel hợp lệ",
            "The .xlsx has no workbook part (xl/workbook.xml): it is not a valid Excel file",
        )
    for info in infos:
        if not info.filename.endswith((".xml", ".rels")):
            continue
        head = _head(zf, info)
        if _DTD.search(head):
            raise Rejection(
                Code.UNREADABLE,
                f"Phần {info.filename} của tệp có khai báo DTD/ENTITY, tệp Excel thật không có: tệp bị từ chối",
                f"Part {info.filename} declares a DTD/ENTITY, which real Excel files never do: the file is refused",
            )
        if info.filename.startswith("xl/worksheets/"):
            _check_dimension(info.filename, head, limits)


def _head(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zf.open(info) as part:
            return part.read(HEAD_BYTES)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise Rejection(
            Code.UNREADABLE,
            f"Không giải nén được phần {info.filename} của tệp Excel ({type(exc).__name__})",
            f"Part {info.filename} of the Excel file cannot be decompressed ({type(exc).__name__})",
        ) from exc


def _check_dimension(part: str, head: bytes, limits: ReaderLimits) -> None:
    match = _DIMENSION.search(head)
    if match is None:
        return
    first_col, first_row, last_col, last_row = match.groups()
    cols = column_number(last_col.decode()) if last_col else column_number(first_col.decode()) if first_col else 1
    rows = int(last_row) if last_row else int(first_row) if first_row else 1
    if rows > limits.max_rows:
        raise too_large(
            f"số dòng của trang {part}",
            f"the row count of sheet {part}",
            f"{rows:,}",
            f"{limits.max_rows:,}",
            "PCTN_MAX_ROWS",
        )
    if cols > limits.max_columns:
        raise too_large(
            f"số cột của trang {part}",
            f"the column count of sheet {part}",
            f"{cols:,}",
            f"{limits.max_columns:,}",
            "PCTN_MAX_COLUMNS",
        )
    if rows * cols > limits.max_cells:
        raise too_large(
            f"vùng dữ liệu của trang {part} ({rows:,} dòng × {cols:,} cột)",
            f"the used area of sheet {part} ({rows:,} rows × {cols:,} columns)",
            f"{rows * cols:,} ô/cells",
            f"{limits.max_cells:,}",
            "PCTN_MAX_CELLS",
        )

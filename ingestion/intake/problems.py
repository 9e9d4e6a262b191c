"""The two kinds of bad input the contract names, as values the pipeline passes on.

A `Rejection` refuses a whole file (it is moved aside with a report); a
`RowProblem` quarantines or flags one row. Both carry a rule code and a reason in
Vietnamese and English, because the sending unit and the Inspectorate read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Code(StrEnum):
    """Every code the intake stores for a refused file, an entry not read or a row rule.

    The value is what the registry and the audit keep (`registry.files.reject_code`,
    `registry.receipts.reason_code`, `audit.quarantine.rule`, `audit.validation_results.rule`),
    so a member's value never changes; `text_vi` / `text_en` name it for a reader. The reason
    a unit reads (with the file's own details) is written where the problem is found.
    """

    # a file refused: registry.files.reject_code
    BAD_FILE_NAME = "bad_file_name"
    UNKNOWN_SOURCE = "unknown_source"
    BAD_PERIOD = "bad_period"
    UNKNOWN_UNIT = "unknown_unit"
    UNIT_NOT_VALID = "unit_not_valid"
    TITLE_MISMATCH = "title_mismatch"
    EMPTY_FILE = "empty_file"
    TOO_LARGE = "too_large"  # also an inbox entry not read
    ENCRYPTED = "encrypted"
    UNREADABLE = "unreadable"
    BAD_ENCODING = "bad_encoding"
    READER_TIMEOUT = "reader_timeout"
    READER_CRASHED = "reader_crashed"
    AMBIGUOUS_SHEET = "ambiguous_sheet"
    MISSING_COLUMNS = "missing_columns"
    NO_ROWS = "no_rows"
    # an inbox entry not read: registry.receipts.reason_code
    SYMLINK = "symlink"
    HIDDEN = "hidden"
    SPECIAL_FILE = "special_file"
    CHANGED = "changed"
    # a row rule (the contract's suites, the value readers): audit.quarantine.rule
    REQUIRED = "required"
    CONDITIONAL_REQUIRED = "conditional_required"
    BAD_LABEL = "bad_label"
    BAD_DATE = "bad_date"
    BAD_MONEY = "bad_money"
    BAD_COUNT = "bad_count"
    BAD_DECIMAL = "bad_decimal"
    BAD_ARTICLE = "bad_article"
    BAD_BOOL = "bad_bool"
    NEGATIVE = "negative"
    IMPLAUSIBLE_DATE = "implausible_date"
    AFTER_PERIOD_END = "after_period_end"
    DUPLICATE_KEY = "duplicate_key"
    FORMULA_NO_VALUE = "formula_no_value"
    # a plausibility rule of the contract (flags, loads): audit.quarantine.rule with severity warn
    RECOVERED_ABOVE_RECOMMENDED = "recovered_above_recommended"
    TRANSFERRED_ABOVE_DETECTED = "transferred_above_detected"
    SECURED_ABOVE_DAMAGE = "secured_above_damage"
    INDICTED_ABOVE_ACCUSED = "indicted_above_accused"
    CONVICTED_ABOVE_DEFENDANTS = "convicted_above_defendants"
    COLLECTED_ABOVE_DUE = "collected_above_due"

    @property
    def text_vi(self) -> str:
        return CODE_TEXTS[self][0]

    @property
    def text_en(self) -> str:
        return CODE_TEXTS[self][1]


CODE_TEXTS: dict[Code, tuple[str, str]] = {
    Code.BAD_FILE_NAME: ("Tên tệp sai quy ước", "File name not in the naming convention"),
    Code.UNKNOWN_SOURCE: ("Nguồn báo cáo không có trong danh mục", "Unknown source"),
    Code.BAD_PERIOD: ("Kỳ báo cáo không hợp lệ", "Invalid reporting period"),
    Code.UNKNOWN_UNIT: ("Đơn vị không có trong danh mục", "Unknown unit"),
    Code.UNIT_NOT_VALID: ("Đơn vị không còn hiệu lực trong kỳ", "Unit not valid in the period"),
    Code.TITLE_MISMATCH: ("Tiêu đề biểu không khớp tên tệp", "Title lines do not match the file name"),
    Code.EMPTY_FILE: ("Tệp rỗng", "Empty file"),
    Code.TOO_LARGE: ("Tệp vượt giới hạn", "File over the limit"),
    Code.ENCRYPTED: ("Tệp có mật khẩu", "Password-protected file"),
    Code.UNREADABLE: ("Không đọc được tệp", "File cannot be read"),
    Code.BAD_ENCODING: ("Bảng mã chữ không đọc được", "Text encoding cannot be read"),
    Code.READER_TIMEOUT: ("Đọc tệp quá thời gian", "Reading the file timed out"),
    Code.READER_CRASHED: ("Trình đọc tệp bị lỗi", "The file reader crashed"),
    Code.AMBIGUOUS_SHEET: ("Nhiều trang tính có thể là biểu", "More than one sheet could be the return"),
    Code.MISSING_COLUMNS: ("Thiếu cột bắt buộc", "Required column missing"),
    Code.NO_ROWS: ("Biểu không có dòng số liệu", "No data rows"),
    Code.SYMLINK: ("Liên kết (symlink), không đọc", "Symbolic link, not read"),
    Code.HIDDEN: ("Tệp hoặc thư mục ẩn, không đọc", "Hidden entry, not read"),
    Code.SPECIAL_FILE: ("Không phải tệp thông thường, không đọc", "Not a regular file, not read"),
    Code.CHANGED: ("Mục đã đổi trong lúc đọc", "Entry changed while being read"),
    Code.REQUIRED: ("Thiếu giá trị bắt buộc", "Required value missing"),
    Code.CONDITIONAL_REQUIRED: ("Thiếu giá trị bắt buộc theo trạng thái", "Value required by the status missing"),
    Code.BAD_LABEL: ("Giá trị không thuộc danh mục", "Label not in the list"),
    Code.BAD_DATE: ("Ngày không đọc được", "Date cannot be read"),
    Code.BAD_MONEY: ("Số tiền không đọc được", "Amount cannot be read"),
    Code.BAD_COUNT: ("Số lượng không đọc được", "Count cannot be read"),
    Code.BAD_DECIMAL: ("Số thập phân không đọc được", "Decimal cannot be read"),
    Code.BAD_ARTICLE: ("Điều luật không đọc được", "Article of the Penal Code cannot be read"),
    Code.BAD_BOOL: ("Giá trị Có/Không không đọc được", "Yes/no value cannot be read"),
    Code.NEGATIVE: ("Giá trị âm", "Negative value"),
    Code.IMPLAUSIBLE_DATE: ("Ngày không hợp lý", "Implausible date"),
    Code.AFTER_PERIOD_END: ("Ngày sau cuối kỳ báo cáo", "Date after the period end"),
    Code.DUPLICATE_KEY: ("Trùng mã hồ sơ", "Duplicate key"),
    Code.FORMULA_NO_VALUE: ("Công thức chưa được tính", "Formula without a calculated value"),
    Code.RECOVERED_ABOVE_RECOMMENDED: ("Thu hồi lớn hơn kiến nghị", "Recovered above recommended"),
    Code.TRANSFERRED_ABOVE_DETECTED: ("Chuyển điều tra nhiều hơn phát hiện", "Transferred above detected"),
    Code.SECURED_ABOVE_DAMAGE: ("Kê biên lớn hơn thiệt hại", "Secured above damage"),
    Code.INDICTED_ABOVE_ACCUSED: ("Truy tố nhiều hơn bị can", "Indicted above accused"),
    Code.CONVICTED_ABOVE_DEFENDANTS: ("Kết án nhiều hơn bị cáo", "Convicted above defendants"),
    Code.COLLECTED_ABOVE_DUE: ("Thu được lớn hơn phải thi hành", "Collected above due"),
}


class Rejection(Exception):
    """A file that cannot be read as a return; `code` is a `Code` (a string from a reader's process is checked)."""

    def __init__(self, code: Code | str, reason_vi: str, reason_en: str) -> None:
        super().__init__(f"{code}: {reason_en}")
        self.code = Code(code)
        self.reason_vi = reason_vi
        self.reason_en = reason_en


@dataclass(frozen=True)
class RowProblem:
    """One problem in one row: `row` severity quarantines it, `warn` only flags it."""

    row_number: int
    column: str | None
    value: str | None
    rule: Code
    severity: Literal["row", "warn"]
    reason_vi: str
    reason_en: str


SkippedKind = Literal["totals", "footer", "note", "column_numbers", "header"]


@dataclass(frozen=True)
class SkippedRow:
    """A non-blank row below the header that is not a record: kept with its text, never dropped.

    `kind`: `totals` (Tổng cộng), `footer` (signatures, place and date after the
    last record), `note` (a note or signature-like line among the records),
    `column_numbers` (the `(1) (2) (3)` row under the header), `header` (the
    header repeated, e.g. at a page break). The sender sees each in its feedback.
    """

    row_number: int
    kind: SkippedKind
    text: str

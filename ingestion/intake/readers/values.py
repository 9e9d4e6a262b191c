"""Parsing of the contract's value types from what people type into returns.

Each parser takes a cell as it came out of the file (text, or a number/date that
Excel stored natively) and returns the typed value, or raises `ValueProblem` with
the rule code the quarantine and the feedback file use. Parsers only decide
whether a value *can be read*; whether it is *allowed* (not negative, not after
the period's end, a known label) is the expectation suite's job, so the parsers
keep negative numbers and unknown labels for GX to judge.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from ingestion.intake.problems import Code

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


class ValueProblem(ValueError):
    """A cell that cannot be read as its column's type."""

    def __init__(self, rule: Code, expected_vi: str, expected_en: str) -> None:
        super().__init__(expected_en)
        self.rule = rule
        self.expected_vi = expected_vi
        self.expected_en = expected_en


_WS = re.compile(r"\s+")
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")  # a BOM or zero-width mark in the middle of text

# What the warehouse columns hold (contract types -> PostgreSQL): a value outside is a
# row problem like any unreadable value, never an exception at COPY time.
MAX_COUNT = 2**31 - 1  # integer
MAX_MONEY = 2**63 - 1  # bigint
MAX_DECIMAL = Decimal(10) ** 16  # numeric(18,2)


def clean_text(value: Cell) -> str | None:
    """Text as NFC, whitespace folded; blank -> None.

    Legacy TCVN3/VNI text is repaired by the readers, once per file, before cells
    get here (the scheme is decided on the whole file, which one cell cannot do).
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if text.isprintable() and "  " not in text:  # no invisible mark, no whitespace but single spaces: most cells
        return unicodedata.normalize("NFC", text).strip() or None
    text = _INVISIBLE.sub("", text)
    text = _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return text or None


@functools.cache
def _combining_marks() -> dict[int, None]:
    """Every code point with a combining class, for `str.translate` (built once, on first use)."""
    return {cp: None for cp in range(0x110000) if unicodedata.combining(chr(cp))}


def fold(text: str) -> str:
    """Case-, diacritic- and whitespace-insensitive key: 'Đã  Kết luận' -> 'da ket luan'.

    The marks are removed with one `str.translate` (C) rather than a generator over
    the characters: the table locator folds cells of every row, and on a 1M-row file
    that generator was the largest single cost of reading. ASCII text has no marks.
    """
    if text.isascii():
        return _WS.sub(" ", text.casefold()).strip()
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return _WS.sub(" ", decomposed.translate(_combining_marks()).casefold()).strip()


# --- dates -----------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: Cell) -> dt.date | None:
    """dd/mm/yyyy, d/m/yyyy, yyyy-mm-dd, an Excel date cell or an Excel serial number."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell that lost its format arrives as the serial day number.
        if 20000 <= value <= 80000 and float(value).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise _bad_date()
    text = clean_text(value)
    if text is None:
        return None
    match = _DMY.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        match = _ISO.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError as exc:
        raise _bad_date() from exc
    raise _bad_date()


def _bad_date() -> ValueProblem:
    return ValueProblem(Code.BAD_DATE, "ngày dạng dd/mm/yyyy", "a date as dd/mm/yyyy")


# --- numbers -----------------------------------------------------------------

_UNIT_WORDS = {
    "ty": 10**9,
    "ti": 10**9,
    "trieu": 10**6,
    "nghin": 10**3,
    "ngan": 10**3,
}
_CURRENCY_WORDS = re.compile(r"(dong|vnd|d)\.?$")
_GROUPED = re.compile(r"^\d{1,3}(?:([.,\u00a0 ])\d{3})?(?:\1\d{3})*$")


def _number_text(text: str) -> tuple[bool, str]:
    """Strip sign and parentheses; return (negative, rest)."""
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text.startswith(("-", "−")):
        negative, text = True, text[1:].strip()
    elif text.startswith("+"):
        text = text[1:].strip()
    return negative, text


def _grouped_integer(text: str) -> int | None:
    """`1.234.567`, `1 234 567`, `1,234,567` or `1234567` -> int; else None."""
    compact = text.replace("\u00a0", " ")
    if compact.isdecimal():  # not isdigit(): `¹` is a digit that int() refuses
        return int(compact)
    if _GROUPED.match(compact):
        return int(re.sub(r"[.,\u00a0 ]", "", compact))
    return None


def _decimal_vi(text: str) -> Decimal | None:
    """A decimal written the Vietnamese way (`1,5`, `1.234,5`) or the English way (`1.5`)."""
    text = text.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        # whichever comes last is the decimal separator
        comma_last = text.rfind(",") > text.rfind(".")
        text = text.replace(".", "").replace(",", ".") if comma_last else text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_money(value: Cell) -> int | None:
    """Whole VND from `1.234.567`, `1 234 567`, numbers, or `1,5 tỷ` / `250 triệu`.

    Negative amounts are returned (negative) so the suite reports them as such;
    an amount beyond the warehouse's bigint is unreadable (`bad_money`).
    """
    amount = _parse_money(value)
    if amount is not None and abs(amount) > MAX_MONEY:
        raise ValueProblem(
            Code.BAD_MONEY,
            "số tiền không quá " + f"{MAX_MONEY:,}".replace(",", ".") + " đồng",
            f"an amount of at most {MAX_MONEY:,} VND",
        )
    return amount


def _parse_money(value: Cell) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad_money()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise _bad_money()
        if abs(value - round(value)) > 0.01:
            raise _bad_money()
        return round(value)
    text = clean_text(value)
    if text is None:
        return None
    negative, body = _number_text(fold(text))
    body = _CURRENCY_WORDS.sub("", body).strip()
    multiplier = 1
    for word, factor in _UNIT_WORDS.items():
        if body.endswith(word):
            body, multiplier = body[: -len(word)].strip(), factor
            break
    if multiplier == 1:
        amount = _grouped_integer(body)
        if amount is None:
            raise _bad_money()
    else:
        # with a unit word a dot between thousands is still a grouping (`1.500 tỷ`)
        number = _decimal_vi(body) if not _GROUPED.match(body) or "," in body else Decimal(_grouped_integer(body) or 0)
        if number is None or not body:
            raise _bad_money()
        scaled = number * multiplier
        if scaled != scaled.to_integral_value():
            raise _bad_money()
        amount = int(scaled)
    return -amount if negative else amount


def _bad_money() -> ValueProblem:
    return ValueProblem(
        Code.BAD_MONEY,
        "số tiền nguyên (đồng), ví dụ 1.234.567 hoặc 1,5 tỷ",
        "a whole amount in VND, e.g. 1.234.567 or 1,5 tỷ",
    )


def parse_count(value: Cell) -> int | None:
    """A whole number; negatives are returned for the suite to reject; above int4 is unreadable."""
    count = _parse_count(value)
    if count is not None and abs(count) > MAX_COUNT:
        raise ValueProblem(
            Code.BAD_COUNT,
            "số nguyên không âm, không quá " + f"{MAX_COUNT:,}".replace(",", "."),
            f"a whole number from 0 to {MAX_COUNT:,}",
        )
    return count


def _parse_count(value: Cell) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad_count()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or not value.is_integer():
            raise _bad_count()
        return int(value)
    text = clean_text(value)
    if text is None:
        return None
    negative, body = _number_text(text)
    number = _grouped_integer(body)
    if number is None:
        raise _bad_count()
    return -number if negative else number


def _bad_count() -> ValueProblem:
    return ValueProblem(Code.BAD_COUNT, "số nguyên không âm", "a whole number, 0 or more")


def parse_decimal(value: Cell) -> Decimal | None:
    """A decimal such as an area in m² (`1.234,5`, `1234.5`, or a number cell); bounded by numeric(18,2)."""
    number = _parse_decimal(value)
    if number is not None and abs(number) >= MAX_DECIMAL:
        raise ValueProblem(
            Code.BAD_DECIMAL,
            "số thập phân nhỏ hơn 10^16",
            "a decimal number below 10^16",
        )
    return number


def _parse_decimal(value: Cell) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad_decimal()
    if isinstance(value, int | float):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise _bad_decimal()
        return Decimal(str(value))
    text = clean_text(value)
    if text is None:
        return None
    negative, body = _number_text(text)
    number = _decimal_vi(body)
    if number is None:
        raise _bad_decimal()
    return -number if negative else number


def _bad_decimal() -> ValueProblem:
    return ValueProblem(Code.BAD_DECIMAL, "số thập phân, ví dụ 1.234,5", "a decimal number, e.g. 1.234,5")


# --- articles, labels, booleans ----------------------------------------------

_ARTICLE_AFTER_DIEU = re.compile(r"dieu\s*(\d{1,3})\b")
_ANY_NUMBER = re.compile(r"\b(\d{1,3})\b")
MAX_ARTICLE = 426  # the Penal Code 2015 has 426 articles


def parse_article(value: Cell) -> int | None:
    """Penal Code article from `353`, `Điều 354`, `354 BLHS`, `khoản 3 Điều 353`."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 1 <= value <= MAX_ARTICLE:
            return int(value)
        raise _bad_article()
    text = clean_text(value)
    if text is None:
        return None
    folded = fold(text)
    match = _ARTICLE_AFTER_DIEU.search(folded)
    if match is None and "khoan" not in folded and "diem" not in folded:
        match = _ANY_NUMBER.search(folded)
    if match is None:
        raise _bad_article()
    article = int(match.group(1))
    if not 1 <= article <= MAX_ARTICLE:
        raise _bad_article()
    return article


def _bad_article() -> ValueProblem:
    return ValueProblem(
        Code.BAD_ARTICLE,
        "điều luật của Bộ luật Hình sự, ví dụ 353 hoặc Điều 354",
        "a Penal Code article, e.g. 353 or Điều 354",
    )


def parse_label(value: Cell, labels: dict[str, str]) -> str | None:
    """Map a label to its code, diacritic- and case-insensitively.

    An unknown label is returned folded (not as a code) so the suite's value-set
    expectation rejects it and the quarantine shows what was written.
    """
    text = clean_text(value)
    if text is None:
        return None
    key = fold(text)
    for label, code in labels.items():
        if key in (fold(label), code):
            return code
    return text


_TRUE = {"co", "x", "1", "yes", "true", "c", "y"}
_FALSE = {"khong", "0", "no", "false", "k", "n", ""}


def parse_bool(value: Cell) -> bool | None:
    """`Có`/`Không`, `x`/blank, `1`/`0`. A blank means no (the form's tick box)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise _bad_bool()
    text = clean_text(value)
    key = fold(text or "")
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise _bad_bool()


def _bad_bool() -> ValueProblem:
    return ValueProblem(Code.BAD_BOOL, "Có/Không, x/để trống, 1/0", "yes/no: Có/Không, x/blank, 1/0")


_NAME_SPLIT = re.compile(r"[;\n]|,(?!\s*(?:jr|sr)\b)")


def split_names(value: Cell) -> list[str]:
    """A cell listing persons (`Nguyễn Văn A; Trần Thị B`) -> normalised names."""
    text = clean_text(value)
    if text is None:
        return []
    return [_WS.sub(" ", part).strip().casefold() for part in _NAME_SPLIT.split(text) if part.strip()]

"""Bytes and cells of a return -> Unicode NFC text (contract: "Values", legacy encodings).

Agencies send CSV in UTF-8 (with or without BOM), Windows-1258 or cp1252, and
older offices still type in the legacy TCVN3 (ABC, `.VnTime`) or VNI-Windows
(`VNI-Times`) fonts. Such text is stored as Latin-1 code points that only the
font draws as Vietnamese, so once read as cp1252 it is mojibake
("Thanh tra tØnh", "Thanh tra tænh"). Unicode text can also arrive decomposed
(NFD). Everything leaves this module as NFC.

Why hand-written: the only maintained Python packages for this are `viparse`
(a document loader for RAG whose TCVN3/VNI tables deliberately omit letters
never seen in its corpus, e.g. VNI `ẳ`, and offer no Unicode -> legacy direction)
and `vniencoder` (the VNI *typing* method, "a1" -> "á", not the VNI font
encoding). Neither gives the full tables nor the inverse the sample generator
needs, so the two tables below are written out in full and checked against
public converter tables (unikey/VBKey code tables): TCVN 5712:1993 VN3 and
VNI-Windows.

Detection is per string and conservative: a string is converted only when every
non-ASCII character in it is a code point of the legacy table (nothing left
over) and the result reads as Vietnamese syllables clearly better than the
original did. Genuine Unicode (which always passes as valid syllables, or uses
letters outside Latin-1) and ASCII are never touched. Because one cell can be
ambiguous on its own (TCVN3 "Cã" is a valid-looking syllable but means "Có"),
`repair_many` decides a scheme from the confident cells of a file first and then
applies it to the ambiguous ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

LegacyScheme = Literal["tcvn3", "vni"]

UTF8_BOM = b"\xef\xbb\xbf"


class EncodingError(Exception):
    """The bytes are not text in any encoding the contract accepts.

    Carries the reason in Vietnamese and English, for the rejection report that
    goes back to the sending unit.
    """

    def __init__(self, reason_vi: str, reason_en: str) -> None:
        super().__init__(f"{reason_en} / {reason_vi}")
        self.reason_vi = reason_vi
        self.reason_en = reason_en


@dataclass(frozen=True)
class DecodedText:
    """Text of a CSV return with how it was read (kept in the file's report)."""

    text: str
    encoding: str  # 'utf-8-sig', 'utf-8', 'cp1258', 'cp1252'
    repaired: LegacyScheme | None = None


def nfc(s: str) -> str:
    """Unicode NFC: the one form the warehouse stores (NFD input composes)."""
    return unicodedata.normalize("NFC", s)


# --------------------------------------------------------------------------
# TCVN3 (TCVN 5712:1993, VN3 subset used by the ABC fonts).
# One byte per letter. VN3 has no upper-case *toned* letters: headings were
# typed with the lower-case codes in an all-caps font (.VnTimeH), so those
# letters come back lower-case; `_restore_caps` upper-cases them again inside
# words that are otherwise all caps.
# --------------------------------------------------------------------------
_TCVN3_BYTES: dict[int, str] = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}  # fmt: skip
# Bytes 0xA0-0xFF read the same in cp1252 and latin-1, so the surface character is chr(byte).
TCVN3_DECODE: dict[str, str] = {chr(b): u for b, u in _TCVN3_BYTES.items()}
TCVN3_ENCODE: dict[str, str] = {u: chr(b) for b, u in _TCVN3_BYTES.items()}
_TCVN3_CAPITALS = frozenset(chr(b) for b in range(0xA1, 0xA8))  # Ă Â Ê Ô Ơ Ư Đ, the only capitals VN3 has
for _surface, _letter in list(TCVN3_DECODE.items()):
    if _letter.islower() and _letter.upper() not in TCVN3_ENCODE:
        TCVN3_ENCODE[_letter.upper()] = _surface  # upper-case toned letters: the lower-case code (VN3 has none)


# --------------------------------------------------------------------------
# VNI-Windows: a base ASCII letter followed by a mark byte; a few letters are
# single bytes (đ ơ ư and the i-family, ỵ). Upper-case text uses the upper-case
# mark bytes (the lower-case ones minus 0x20).
# --------------------------------------------------------------------------
_TONES = ("", "acute", "grave", "hook", "tilde", "dot")
_VNI_TONE = {"acute": "ù", "grave": "ø", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_CIRCUMFLEX = {"": "â", "acute": "á", "grave": "à", "hook": "å", "tilde": "ã", "dot": "ä"}
_VNI_BREVE = {"": "ê", "acute": "é", "grave": "è", "hook": "ú", "tilde": "ü", "dot": "ë"}
_VNI_SINGLE_I = {"grave": "ì", "acute": "í", "hook": "æ", "tilde": "ó", "dot": "ò"}
_COMBINING = {"acute": "\u0301", "grave": "\u0300", "hook": "\u0309", "tilde": "\u0303", "dot": "\u0323"}


def _vni_pairs() -> list[tuple[str, str]]:
    """(Unicode letter, VNI surface) for all 134 Vietnamese letters, lower and upper case."""
    pairs: list[tuple[str, str]] = []

    def add(base_letter: str, tone: str, surface: str) -> None:
        letter = nfc(base_letter + (_COMBINING[tone] if tone else ""))
        pairs.append((letter, surface))
        upper = "".join(c.upper() if c.isascii() else chr(ord(c) - 0x20) for c in surface)
        pairs.append((letter.upper(), upper))

    for tone in _TONES:
        mark = _VNI_TONE.get(tone, "")
        if tone:
            for vowel in "aeouy":
                add(vowel, tone, "î" if (vowel, tone) == ("y", "dot") else vowel + mark)  # ỵ is one byte
            add("i", tone, _VNI_SINGLE_I[tone])
        add("â", tone, "a" + _VNI_CIRCUMFLEX[tone])
        add("ê", tone, "e" + _VNI_CIRCUMFLEX[tone])
        add("ô", tone, "o" + _VNI_CIRCUMFLEX[tone])
        add("ă", tone, "a" + _VNI_BREVE[tone])
        add("ơ", tone, "ô" + mark)
        add("ư", tone, "ö" + mark)
    add("đ", "", "ñ")
    return pairs


VNI_ENCODE: dict[str, str] = dict(_vni_pairs())
VNI_DECODE: dict[str, str] = {surface: letter for letter, surface in VNI_ENCODE.items()}
# Spellings seen in real VNI files besides the canonical ones: i and y with a tone mark byte.
for _tone, _mark in _VNI_TONE.items():
    for _base in "iy":
        _letter = nfc(_base + _COMBINING[_tone])
        VNI_DECODE.setdefault(_base + _mark, _letter)
        VNI_DECODE.setdefault(_base.upper() + chr(ord(_mark) - 0x20), _letter.upper())
# Identity entries (ì í Ì Í) carry no evidence of VNI; drop them so they do not count as "legacy".
for _same in [k for k, v in VNI_DECODE.items() if k == v]:
    del VNI_DECODE[_same]

_VNI_SINGLE_SURFACE = {k for k in VNI_DECODE if len(k) == 1}
_VNI_IDENTITY = frozenset("ìíÌÍ")  # in VNI these bytes are the letters they look like

# --------------------------------------------------------------------------
# Vietnamese syllable check: the plausibility test that decides between readings.
# --------------------------------------------------------------------------
_TONE_MARKS = {"\u0300": "grave", "\u0301": "acute", "\u0303": "tilde", "\u0309": "hook", "\u0323": "dot"}
_ONSETS = (
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)  # fmt: skip
_NUCLEI_OPEN = {
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ui", "ưi", "ưu", "ua", "ưa",
    "iêu", "yêu", "oai", "oay", "oao", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyu", "uơ", "ya",
}  # fmt: skip
_NUCLEI_CLOSED = {"ă", "â", "iê", "yê", "uô", "ươ", "uâ", "oă", "uyê"}
_NUCLEI_EITHER = {"a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uê", "uy"}
_CODAS = ("ch", "nh", "ng", "c", "m", "n", "p", "t")
_PALATAL_NUCLEI = {"a", "ê", "i", "y", "oa", "uê", "uy"}  # the only nuclei before -ch / -nh
_FRONT_NUCLEI = {"ê", "i", "y", "uy", "uê"}  # never before -c / -ng
_VN_BASE_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzăâđêôơư")
_VN_LETTERS = _VN_BASE_LETTERS | {letter for letter in VNI_ENCODE if letter.islower()}


def _nucleus_ok(nucleus: str, coda: str, tone: str | None) -> bool:
    if coda:
        if nucleus not in _NUCLEI_CLOSED and nucleus not in _NUCLEI_EITHER:
            return False
        if coda in ("ch", "nh") and nucleus not in _PALATAL_NUCLEI:
            return False
        if coda in ("c", "ng") and nucleus in _FRONT_NUCLEI:
            return False
        return coda not in ("c", "ch", "p", "t") or tone in ("acute", "dot")  # stop codas take only sắc/nặng
    return nucleus in _NUCLEI_OPEN or nucleus in _NUCLEI_EITHER


@lru_cache(maxsize=65536)
def is_vietnamese_syllable(word: str) -> bool:
    """Whether `word` can be one written Vietnamese syllable (onset, vowel nucleus, coda, one tone).

    Used only to compare readings of the same bytes, so it is a phonotactic
    sketch, not a dictionary: "Nguyễn", "thuở", "quyết", "gì" pass, "tØnh",
    "tổnh", "caùc", "Sociộtộ" do not.
    """
    lowered = nfc(word.lower())
    if any(c not in _VN_LETTERS for c in lowered):
        return False  # ñ, ü, µ...: NFD would otherwise pass them off as n, u plus a tone
    decomposed = unicodedata.normalize("NFD", lowered)
    tones = [_TONE_MARKS[c] for c in decomposed if c in _TONE_MARKS]
    if len(tones) > 1:
        return False
    base = nfc("".join(c for c in decomposed if c not in _TONE_MARKS))
    if not base or any(c not in _VN_BASE_LETTERS for c in base):
        return False
    tone = tones[0] if tones else None
    for onset in _ONSETS:
        if not base.startswith(onset):
            continue
        rest = base[len(onset) :]
        if onset == "gi" and not rest:
            continue  # "gì": onset g + nucleus i, tried with onset "g"
        for coda in (*_CODAS, ""):
            if coda and not rest.endswith(coda):
                continue
            nucleus = rest[: len(rest) - len(coda)] if coda else rest
            if nucleus and _nucleus_ok(nucleus, coda, tone):
                return True
    return False


_WORD = re.compile(r"[A-Za-z\u00a1-\u00ff\u0100-\u024f\u0300-\u036f\u1e00-\u1eff]+")


# Frequent syllables of Vietnamese and of these returns: they break ties between two readings that are
# both well-formed ("Khoâng" is VNI "không", not TCVN3 "khoõng").
_COMMON_SYLLABLES_TEXT = """
    và của có không là được các cho trong một những người với đã này đến năm khi để từ theo về ra nhiều nhà
    tại công như sau phải cũng nhưng đó thì hiện nước làm bị ngày tháng trên vụ án tỉnh huyện xã thành phố thị
    quản lý việc kết luận điều tra thanh kiểm sát tòa toà xét xử thi hành đồng tiền đất sai phạm thu hồi kiến
    nghị tổ chức cá nhân phát tham nhũng chuyển cơ quan số hồ sơ đơn vị báo cáo kỳ biểu cộng hòa hoà hội chủ
    nghĩa việt nam độc lập tự do hạnh phúc tổng trưởng đang tiến đột xuất kế hoạch nội bộ lĩnh vực ngân sách
    tài chính xây dựng giáo dục tế nông nghiệp môi trường tố tin chí toán khác can đề truy tạm đình chỉ giải
    quyết trả bổ sung thẩm chưa xong hoãn kiện định bản luật khởi thụ thiệt hại kê biên phong tỏa toả họ tên
    nguồn mã cuộc hình thức trạng thái đối tượng đứng đầu tuyên bồi thường cấp triệu tỷ nguyễn trần lê hoàng
    vũ đỗ bùi đặng ngô dương văn đức hữu minh ngọc xuân quang hùng dũng tuấn hải long sơn thắng hương lan hà
    hoa thủy thuỷ nga phương cường bình khánh linh trang hiếu tâm thảo yến hằng giang lợi toàn vinh thịnh
    trung hóa hoá ký ghi rõ ban ủy uỷ dân khu sự cảnh lộc hậu sầm bỉm nghi tĩnh thọ như xương cống triệu
    thiệu yên vĩnh thạch cẩm thủy ngọc lặc chánh bá thước mường lát thường quảng hoằng đông
    """
_COMMON_SYLLABLES = frozenset(_COMMON_SYLLABLES_TEXT.split())


@dataclass(frozen=True)
class _Plausibility:
    valid: int  # words with a non-ASCII letter that read as Vietnamese syllables
    invalid: int  # words with a non-ASCII letter that do not
    common: int = 0  # valid words among the frequent syllables

    @property
    def net(self) -> int:
        return self.valid - self.invalid

    @property
    def rank(self) -> tuple[int, int]:
        return (self.net, self.common)


_ABBREVIATION = re.compile(r"[A-ZĐ]+")


def _is_abbreviation(word: str) -> bool:
    """CSĐT, QĐ, HĐND: capitals without a vowel are abbreviations, not syllables (and no evidence either way)."""
    return _ABBREVIATION.fullmatch(word) is not None and not any(c in "AEIOUY" for c in word)


def _plausibility(text: str) -> _Plausibility:
    valid = invalid = common = 0
    for m in _WORD.finditer(text):
        word = m.group()
        if word.isascii() or _is_abbreviation(word):
            continue
        if is_vietnamese_syllable(word):
            valid += 1
            common += nfc(word.lower()) in _COMMON_SYLLABLES
        else:
            invalid += 1
    return _Plausibility(valid, invalid, common)


# Characters a cp1252 reading can produce besides ASCII: latin-1 and the 0x80-0x9F specials.
_CP1252_SPECIALS = frozenset(bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore"))
_VIETNAMESE_LATIN1 = frozenset("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")


def _is_single_byte_text(s: str) -> bool:
    return all(ord(c) < 0x100 or c in _CP1252_SPECIALS for c in s)


def _convert_tcvn3(s: str) -> tuple[str, int]:
    """Replace TCVN3 code points; returns (text, number of legacy characters left unconverted)."""
    out = "".join(TCVN3_DECODE.get(c, c) for c in s)
    leftover = sum(1 for c in s if 0xA0 < ord(c) < 0x100 and c not in TCVN3_DECODE)
    return _restore_caps(out, s), leftover


def _convert_vni(s: str) -> tuple[str, int]:
    out: list[str] = []
    leftover = 0
    i = 0
    n = len(s)
    while i < n:
        pair = s[i : i + 2]
        if len(pair) == 2 and pair in VNI_DECODE:
            out.append(VNI_DECODE[pair])
            i += 2
            continue
        c = s[i]
        if c in _VNI_SINGLE_SURFACE:
            out.append(VNI_DECODE[c])
        else:
            out.append(c)
            if 0xA0 < ord(c) < 0x100 and c not in _VNI_IDENTITY:
                leftover += 1  # a mark byte with no base letter, or a character VNI never writes
        i += 1
    return "".join(out), leftover


def _is_capital(c: str) -> bool:
    return c in _TCVN3_CAPITALS or (c.isascii() and c.isupper())


def _restore_caps(converted: str, original: str) -> str:
    """Upper-case TCVN3 letters typed in an all-caps font (.VnTimeH): VN3 has no upper-case toned letters.

    Words with at least two capitals (ASCII or TCVN3's Ă Â Ê Ô Ơ Ư Đ) and no small
    ASCII letter ("HO¸") are upper-cased; a string whose letters are all capitals
    with such a word (a heading) is upper-cased whole. "Lª Hµ" (a name) stays "Lê Hà".
    """
    if converted == original:
        return converted
    words = []
    for m in _WORD.finditer(original):
        letters = [c for c in m.group() if (c.isascii() and c.isalpha()) or c in _TCVN3_CAPITALS]
        words.append((m.span(), letters))
    caps_words = [span for span, letters in words if len(letters) >= 2 and all(map(_is_capital, letters))]
    if not caps_words:
        return converted
    if all(_is_capital(c) for _, letters in words for c in letters):
        return converted.upper()  # a heading: every letter is a capital and some word is all caps
    chars = list(converted)
    for start, end in caps_words:
        for k in range(start, end):
            chars[k] = chars[k].upper()
    return "".join(chars)


_CONVERTERS = {"tcvn3": _convert_tcvn3, "vni": _convert_vni}


def _candidates(s: str) -> list[tuple[LegacyScheme, str, _Plausibility]]:
    """Legacy readings of `s` that consume every legacy code point, with their plausibility."""
    out: list[tuple[LegacyScheme, str, _Plausibility]] = []
    for scheme in ("tcvn3", "vni"):
        text, leftover = _CONVERTERS[scheme](s)
        if leftover == 0 and text != s:
            out.append((scheme, nfc(text), _plausibility(text)))
    return out


def _may_be_legacy(s: str) -> bool:
    return not s.isascii() and _is_single_byte_text(s) and any(0xA0 < ord(c) < 0x100 for c in s)


@lru_cache(maxsize=65536)
def _detect(s: str) -> tuple[str, LegacyScheme | None, bool]:
    """Best legacy reading of `s` alone: (text, scheme, confident).

    Not confident when both schemes give equally well-formed text (VNI "ñi" is
    "đi", TCVN3 reads "ủi"): then only frequent syllables broke the tie, and
    `repair_many` lets the file's confident cells decide instead.
    """
    if not _may_be_legacy(s):
        return s, None, False
    original = _plausibility(s)
    if original.invalid == 0:
        return s, None, False  # every word already reads as Vietnamese: genuine text, leave it
    accepted = [
        cand
        for cand in _candidates(s)
        if cand[2].net > original.net and cand[2].invalid * 4 <= cand[2].valid + cand[2].invalid
    ]  # clearly better than the original, and at most a quarter of its words still nonsense
    if not accepted:
        return s, None, False
    accepted.sort(key=lambda cand: cand[2].rank, reverse=True)
    confident = len(accepted) == 1 or accepted[0][2].net > accepted[1][2].net
    return accepted[0][1], accepted[0][0], confident


def legacy_share(s: str, scheme: LegacyScheme) -> float:
    """Fraction of the non-ASCII characters of `s` that are code points of `scheme`'s table.

    1.0 is necessary (not sufficient) for `s` to be text in that scheme; the
    syllable test then decides. Exposed for readers' reports and tests.
    """
    non_ascii = [c for c in s if not c.isascii()]
    if not non_ascii:
        return 0.0
    if scheme == "tcvn3":
        hits = sum(1 for c in non_ascii if c in TCVN3_DECODE)
    else:
        marks = {ch for key in VNI_DECODE for ch in key if not ch.isascii()}
        hits = sum(1 for c in non_ascii if c in marks or c in _VNI_IDENTITY)
    return hits / len(non_ascii)


def repair_legacy_text(s: str, prefer: LegacyScheme | None = None) -> tuple[str, LegacyScheme | None]:
    """Convert one string typed in TCVN3 or VNI (read as cp1252/latin-1) to NFC Unicode.

    Returns `(text, scheme)`; `scheme` is None and `text is s` when nothing was
    converted: ASCII and genuine Unicode Vietnamese pass through unchanged.
    `prefer` is the scheme already established for the same file: with it, a
    string that is ambiguous alone (TCVN3 "Cã" = "Có", VNI "ñi" = "đi") is read
    in that scheme when every legacy code point converts and the result is all
    Vietnamese syllables or has fewer non-words than before ("Müller" stays).
    """
    text, scheme, confident = _detect(s)
    if scheme is None:
        text = s  # the very object passed in (the detection cache may hold an equal one)
    if prefer is None or confident or not _may_be_legacy(s):
        return text, scheme
    converted, leftover = _CONVERTERS[prefer](s)
    if leftover == 0 and converted != s:
        after = _plausibility(converted).invalid
        if after == 0 or after < _plausibility(s).invalid:  # all syllables, or fewer non-words than before
            return nfc(converted), prefer
    return text, scheme


def repair_many(values: Sequence[str]) -> tuple[list[str], LegacyScheme | None]:
    """Repair all text cells of one file: decide the scheme on confident cells, then apply it.

    Returns the repaired values (same order) and the file's scheme, or None when
    nothing was converted. Readers of xlsx call this on every text cell of a
    sheet, title lines and headers included: a legacy office types those in the
    same font.
    """
    first = [_detect(v) for v in values]
    counts = Counter(scheme for _, scheme, confident in first if scheme is not None and confident)
    if not counts:
        counts = Counter(scheme for _, scheme, _ in first if scheme is not None)
    if not counts:
        return list(values), None
    prefer: LegacyScheme = max(("tcvn3", "vni"), key=lambda k: counts.get(k, 0))
    return [repair_legacy_text(v, prefer=prefer)[0] for v in values], prefer


def encode_legacy(s: str, scheme: LegacyScheme) -> str:
    """Unicode -> the string a TCVN3 / VNI file shows when read as cp1252 (mojibake).

    The inverse of `repair_legacy_text`, for the sample generator and tests.
    TCVN3 has no upper-case toned letters, so those are written with the
    lower-case code, as the all-caps fonts did; `repair` restores them inside
    all-caps words. Characters outside Vietnamese pass through unchanged.
    """
    table = TCVN3_ENCODE if scheme == "tcvn3" else VNI_ENCODE
    return "".join(table.get(c, c) for c in nfc(s))


# --------------------------------------------------------------------------
# Whole CSV files.
# --------------------------------------------------------------------------
# A field that may hold legacy text: only single-byte characters (latin-1 or cp1252's specials), at least one
# of them in 0xA1-0xFF, between CSV separators (ASCII in every scheme, so no CSV parsing is needed).
_FIELD_CHAR = '(?:[^\\r\\n,;\\t"|\\u0100-\\U0010ffff]|[' + "".join(sorted(_CP1252_SPECIALS)) + "])"
_SUSPECT_FIELD = re.compile(
    '(?:(?<=[\\r\\n,;\\t"|])|^)' + _FIELD_CHAR + "*[\\u00a1-\\u00ff]" + _FIELD_CHAR + '*(?=[\\r\\n,;\\t"|]|$)',
    re.MULTILINE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Latin-1 code points that are no Vietnamese letter: legacy-font text always has some (TCVN3 "µ ¸ Ø", VNI
# "ø û ï ñ ö"); a file without any is not scanned field by field (a 200 MB UTF-8 CSV in ~1 s, not ~15 s).
_LEGACY_EVIDENCE = re.compile(
    "[" + "".join(chr(c) for c in range(0xA1, 0x100) if chr(c) not in _VIETNAMESE_LATIN1) + "]"
)


def _repair_fields(text: str) -> tuple[str, LegacyScheme | None]:
    """Repair legacy text field by field without parsing the CSV (separators are ASCII in every scheme)."""
    if not _LEGACY_EVIDENCE.search(text):
        return text, None
    spans = [(m.start(), m.end()) for m in _SUSPECT_FIELD.finditer(text)]
    if not spans:
        return text, None
    values = [text[a:b] for a, b in spans]
    repaired, scheme = repair_many(values)
    if scheme is None:
        return text, None
    parts: list[str] = []
    pos = 0
    for (a, b), new in zip(spans, repaired, strict=True):
        parts.append(text[pos:a])
        parts.append(new)
        pos = b
    parts.append(text[pos:])
    return "".join(parts), scheme


def _reject_controls(text: str, encoding: str) -> None:
    if _CONTROL.search(text):
        raise EncodingError(
            f"Tệp chứa ký tự điều khiển khi đọc theo bảng mã {encoding}: không phải tệp văn bản CSV. "
            "Hãy lưu lại dưới dạng CSV UTF-8.",
            f"The file contains control characters when read as {encoding}: it is not a CSV text file. "
            "Save it again as CSV UTF-8.",
        )


def decode_bytes(data: bytes) -> DecodedText:
    """Decode a CSV return: UTF-8 with BOM, UTF-8, else Windows-1258 or cp1252, then legacy repair.

    Windows-1258 and cp1252 share most bytes; the reading whose words are
    Vietnamese syllables wins (cp1258 writes tones as combining marks, hence the
    NFC). Any reading may still hold TCVN3/VNI cells, repaired field by field.
    Raises `EncodingError` for UTF-16 (Excel's "Unicode Text"), control bytes,
    and bytes that are not plausible Vietnamese in any accepted encoding.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EncodingError(
            "Tệp CSV được lưu ở bảng mã UTF-16 (Unicode Text), không thuộc các bảng mã được chấp nhận. "
            "Hãy lưu lại dưới dạng CSV UTF-8.",
            "The CSV is saved as UTF-16 (Excel 'Unicode Text'), which the contract does not accept. "
            "Save it again as CSV UTF-8.",
        )
    if data.startswith(UTF8_BOM):
        try:
            text = data[len(UTF8_BOM) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(
                f"Tệp có dấu BOM UTF-8 nhưng nội dung không phải UTF-8 hợp lệ (byte {exc.start}).",
                f"The file starts with a UTF-8 BOM but is not valid UTF-8 (byte {exc.start}).",
            ) from exc
        return _finish(text, "utf-8-sig")
    try:
        return _finish(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass

    readings: list[tuple[_Plausibility, str, str, LegacyScheme | None]] = []
    for encoding in ("cp1258", "cp1252"):
        try:
            raw = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        _reject_controls(raw, encoding)
        text, scheme = _repair_fields(nfc(raw))
        readings.append((_plausibility(text), encoding, text, scheme))
    if not readings:
        raise EncodingError(
            "Không đọc được tệp: không phải UTF-8, Windows-1258 hay cp1252. Hãy lưu lại dưới dạng CSV UTF-8.",
            "Cannot read the file: it is neither UTF-8, Windows-1258 nor cp1252. Save it again as CSV UTF-8.",
        )
    # Best reading: most net Vietnamese words; on a tie a legacy repair implies cp1252, else cp1258.
    readings.sort(key=lambda r: (r[0].rank, r[3] is not None and r[1] == "cp1252", r[1] == "cp1258"), reverse=True)
    plaus, encoding, text, scheme = readings[0]
    if plaus.invalid > plaus.valid:
        raise EncodingError(
            f"Không nhận ra bảng mã của tệp: đọc theo {encoding} thì {plaus.invalid} từ không phải tiếng Việt "
            "(có thể là VISCII, VPS hoặc bảng mã khác). Hãy lưu lại dưới dạng CSV UTF-8.",
            f"Cannot tell the file's encoding: read as {encoding}, {plaus.invalid} words are not Vietnamese "
            "(perhaps VISCII, VPS or another code page). Save it again as CSV UTF-8.",
        )
    return DecodedText(text=text, encoding=encoding, repaired=scheme)


def _finish(text: str, encoding: str) -> DecodedText:
    _reject_controls(text, encoding)
    text, scheme = _repair_fields(nfc(text))
    return DecodedText(text=text, encoding=encoding, repaired=scheme)

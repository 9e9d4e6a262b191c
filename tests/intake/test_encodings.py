"""Encodings of returns: real bytes through every path of `decode_bytes`, legacy fonts both ways.

No mocks: the bytes are what Windows code pages and the TCVN3/VNI fonts produce
(literal byte strings where a reader can check them by eye). Legacy bytes come from
`tests/legacy_code_tables.py`, transcribed from another project's published code
tables, never from `encode_legacy` (the inverse of the decoder's own tables, which
would pass with a wrong entry).
"""

from __future__ import annotations

import random
import unicodedata

import pytest

from ingestion.intake.readers.encodings import (
    TCVN3_DECODE,
    TCVN3_ENCODE,
    VNI_DECODE,
    VNI_ENCODE,
    DecodedText,
    EncodingError,
    decode_bytes,
    is_vietnamese_syllable,
    legacy_share,
    nfc,
    repair_legacy_text,
    repair_many,
)
from ingestion_samples.writers import encode_cp1258
from tests.legacy_code_tables import TCVN3_PUBLISHED, TCVN3_TEXT, VNI_PUBLISHED, VNI_TEXT

TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # ngang, sắc, huyền, hỏi, ngã, nặng
VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")
ALL_LETTERS = sorted({nfc(v + t) for v in VOWELS for t in TONES} | {"đ"})

RETURN_CSV = (
    "Mã cuộc thanh tra,Tên cuộc thanh tra,Hình thức,Trạng thái,Có điều kiện thi hành,Sai phạm về tiền (đồng)\r\n"
    'TTT-2024-001,Thanh tra việc quản lý đất đai tại UBND xã Quảng Tâm,Theo kế hoạch,Đã kết luận,Có,"1,5 tỷ"\r\n'
    "TTT-2024-002,Kiểm tra nội bộ công tác tài chính - ngân sách,Kiểm tra nội bộ,Đang tiến hành,Không,250 triệu\r\n"
    "TTT-2024-003,Thanh tra đột xuất dự án đường giao thông huyện Hoằng Hóa,Đột xuất,Đã kết luận,Có,1.234.567\r\n"
)
GENUINE = [
    "Thanh tra tỉnh Thanh Hóa",
    "Cộng hòa xã hội chủ nghĩa Việt Nam",
    "Cà Mau",
    "ông bà",
    "Có",
    "Không",
    "Đã thi hành xong",
    "Nguyễn Thị Thủy; Lê Văn Hùng",
    "Société Générale",
    "Müller",
    "café au lait",
    "VA-2024-0012",
    "45/2024/HS-ST",
    "plain ASCII text, with commas",
]


PUBLISHED = {"tcvn3": TCVN3_PUBLISHED, "vni": VNI_PUBLISHED}


def legacy_bytes(text: str, scheme: str) -> bytes:
    """`text` as a legacy office's file holds it, written with the published table (not ours).

    TCVN3 has no capital toned letters: as in a title typed in .VnTime with caps lock,
    they are written with the lower-case letter's code.
    """
    table = PUBLISHED[scheme]
    out = bytearray()
    for ch in text:
        if ch.isascii():
            out += ch.encode("ascii")
        elif ch in table:
            out += table[ch]
        else:
            out += table[ch.lower()]
    return bytes(out)


def syllable_rows() -> list[str]:
    """Every vowel with every tone, in syllables a return could hold (â and ă need a final consonant)."""
    rows = []
    for v in VOWELS:
        final = "n" if v in ("ă", "â") else ""
        rows.append(" ".join(nfc(f"t{v}{t}{final}") for t in TONES))
    return rows


# -- decode_bytes: one test per path -------------------------------------------------
def test_utf8() -> None:
    d = decode_bytes(RETURN_CSV.encode("utf-8"))
    assert d == DecodedText(RETURN_CSV, "utf-8", None)


def test_utf8_with_bom() -> None:
    d = decode_bytes(b"\xef\xbb\xbf" + RETURN_CSV.encode("utf-8"))
    assert (d.text, d.encoding, d.repaired) == (RETURN_CSV, "utf-8-sig", None)


def test_nfd_utf8_comes_out_nfc() -> None:
    data = unicodedata.normalize("NFD", RETURN_CSV).encode("utf-8")
    assert data != RETURN_CSV.encode("utf-8")
    d = decode_bytes(data)
    assert d.text == RETURN_CSV and unicodedata.is_normalized("NFC", d.text)


def test_windows_1258_bytes() -> None:
    # "tỉnh" in Windows-1258: base letters, then the hook as a combining byte (0xD2).
    assert decode_bytes(b"Thanh tra ti\xd2nh,\xd0a\xde thi ha\xccnh xong\r\n").text == (
        "Thanh tra tỉnh,Đã thi hành xong\r\n"
    )
    d = decode_bytes(encode_cp1258(RETURN_CSV))
    assert (d.text, d.encoding, d.repaired) == (RETURN_CSV, "cp1258", None)


def test_cp1252_tcvn3() -> None:
    # TCVN3 as typed in .VnTime and saved by a Western Windows: 0xD8 is "ỉ", 0xE3 "ó".
    d = decode_bytes(b"Thanh tra t\xd8nh Thanh H\xe3a,C\xe3\r\n")
    assert (d.text, d.encoding, d.repaired) == ("Thanh tra tỉnh Thanh Hóa,Có\r\n", "cp1252", "tcvn3")
    d = decode_bytes(legacy_bytes(RETURN_CSV, "tcvn3"))
    assert (d.text, d.encoding, d.repaired) == (RETURN_CSV, "cp1252", "tcvn3")


def test_cp1252_vni() -> None:
    # VNI-Windows: "tỉnh" is t + 0xE6 + nh, "Hóa" is Ho + 0xF9 + a.
    d = decode_bytes(b"Thanh tra t\xe6nh Thanh Ho\xf9a\r\n")
    assert (d.text, d.encoding, d.repaired) == ("Thanh tra tỉnh Thanh Hóa\r\n", "cp1252", "vni")
    d = decode_bytes(legacy_bytes(RETURN_CSV, "vni"))
    assert (d.text, d.encoding, d.repaired) == (RETURN_CSV, "cp1252", "vni")


def test_legacy_text_saved_as_utf8_is_repaired() -> None:
    """Mojibake that went through Excel's 'CSV UTF-8' is still TCVN3 underneath."""
    d = decode_bytes(legacy_bytes(RETURN_CSV, "tcvn3").decode("cp1252").encode("utf-8"))
    assert (d.text, d.encoding, d.repaired) == (RETURN_CSV, "utf-8", "tcvn3")


def test_mixed_file_keeps_ascii_and_repairs_ambiguous_cells_in_the_file_scheme() -> None:
    """TCVN3 "Cã" alone reads as a syllable; the file's other cells say it is TCVN3 for "Có"."""
    assert repair_legacy_text("Cã") == ("Cã", None)
    text = "decision_no,enforceable,status\r\n43/QD-CCTHADS,Cã,§ang thi hµnh\r\n"
    assert decode_bytes(text.encode("cp1252")).text == (
        "decision_no,enforceable,status\r\n43/QD-CCTHADS,Có,Đang thi hành\r\n"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe" + RETURN_CSV.encode("utf-16-le"),  # Excel "Unicode Text"
        RETURN_CSV.encode("utf-16-le"),  # the same without BOM: NUL bytes everywhere
        b"\xef\xbb\xbf" + b"abc\xff\xfe",  # a BOM but not UTF-8
        bytes(random.Random(7).randrange(0x80, 0x100) for _ in range(400)),  # noise
        b"ma,ten\r\n\x81\x8d\x8f\x90\x9d\r\n",  # bytes undefined in both Windows code pages
    ],
    ids=["utf16-bom", "utf16", "bad-bom", "noise", "undefined-bytes"],
)
def test_undecodable_raises_with_both_languages(data: bytes) -> None:
    with pytest.raises(EncodingError) as err:
        decode_bytes(data)
    assert err.value.reason_vi and err.value.reason_en
    assert err.value.reason_en in str(err.value)


# -- legacy tables and round trips ------------------------------------------------------
def test_tables_cover_every_vietnamese_letter() -> None:
    letters = {c for c in ALL_LETTERS if not c.isascii()}
    letters |= {c.upper() for c in letters}
    assert len(letters) == 134  # 67 letters outside ASCII, each in two cases
    assert letters <= set(VNI_ENCODE) and letters <= set(TCVN3_ENCODE)
    assert len(TCVN3_DECODE) == 74  # VN3: 67 lower-case letters, 7 capitals Ă Â Ê Ô Ơ Ư Đ
    assert all(0xA1 <= ord(k) <= 0xFE for k in TCVN3_DECODE)


def test_tcvn3_table_equals_the_published_one() -> None:
    published = {data.decode("cp1252"): letter for letter, data in TCVN3_PUBLISHED.items()}
    assert len(published) == 74
    assert published == TCVN3_DECODE


@pytest.mark.parametrize("letter", sorted(VNI_PUBLISHED))
def test_vni_table_decodes_the_published_spelling(letter: str) -> None:
    surface = VNI_PUBLISHED[letter].decode("cp1252")
    assert VNI_DECODE.get(surface, surface) == letter  # ì í Ì Í are themselves in VNI


@pytest.mark.parametrize("scheme", ["tcvn3", "vni"])
def test_published_bytes_every_vowel_and_tone(scheme: str) -> None:
    """Every vowel with every tone, as the published table writes it, in a CSV the decoder reads."""
    context = legacy_bytes("Thanh tra tỉnh Thanh Hóa", scheme)
    for row in syllable_rows():
        for text in (row, row.title(), row.upper()):
            d = decode_bytes(context + b"," + legacy_bytes(text, scheme) + b"\r\n")
            assert d.text == f"Thanh tra tỉnh Thanh Hóa,{text}\r\n", (scheme, text)
            assert (d.encoding, d.repaired) == ("cp1252", scheme)


@pytest.mark.parametrize(
    ("scheme", "text", "data"),
    [("tcvn3", t, b) for t, b in TCVN3_TEXT] + [("vni", t, b) for t, b in VNI_TEXT],
    ids=[f"tcvn3-{t}" for t, _ in TCVN3_TEXT] + [f"vni-{t}" for t, _ in VNI_TEXT],
)
def test_literal_legacy_text_alone(scheme: str, text: str, data: bytes) -> None:
    """A cell in literal TCVN3/VNI bytes comes back as the Unicode text: alone, and in a CSV file."""
    assert legacy_bytes(text, scheme) == data  # the fixture and the published table agree
    assert repair_legacy_text(data.decode("cp1252")) == (text, scheme)
    title = dict(TCVN3_TEXT if scheme == "tcvn3" else VNI_TEXT)["Thanh tra tỉnh Thanh Hóa"]
    d = decode_bytes(b"ma,ten\r\n1," + title + b"\r\n2," + data + b"\r\n")
    assert d.text == f"ma,ten\r\n1,Thanh tra tỉnh Thanh Hóa\r\n2,{text}\r\n"
    assert d.repaired == scheme


def test_legacy_share_is_one_for_legacy_text() -> None:
    assert legacy_share("Thanh tra tØnh", "tcvn3") == 1.0
    assert legacy_share("Thanh tra tænh", "vni") == 1.0
    assert legacy_share("Thanh tra tỉnh", "tcvn3") == 0.0
    assert legacy_share("plain", "vni") == 0.0


@pytest.mark.parametrize("text", GENUINE)
def test_genuine_unicode_and_ascii_left_unchanged(text: str) -> None:
    out, scheme = repair_legacy_text(text)
    assert out is text and scheme is None
    assert repair_many([text]) == ([text], None)
    if not any(c in "óô" for c in text):  # in a TCVN3 file "Có" is read as TCVN3 "Cú": the file decides
        assert repair_legacy_text(text, prefer="tcvn3")[0] == text


def test_genuine_unicode_csv_unchanged() -> None:
    rows = "\r\n".join(GENUINE) + "\r\n"
    assert decode_bytes(rows.encode("utf-8")).text == rows


def test_nfc_helper() -> None:
    nfd = unicodedata.normalize("NFD", "Hoằng Hóa")
    assert nfd != "Hoằng Hóa" and nfc(nfd) == "Hoằng Hóa"


def test_syllable_sketch() -> None:
    for ok in ("Nguyễn", "thuở", "quyết", "gì", "người", "được", "khuya", "Huỳnh", "tỉnh"):
        assert is_vietnamese_syllable(ok), ok
    for bad in ("tØnh", "tổnh", "caùc", "Sociộtộ", "Müller", "ñi", "tat"):
        assert not is_vietnamese_syllable(bad), bad

"""TCVN3 (ABC) and VNI-Windows bytes from a source other than this project's tables.

The letter → bytes tables below were transcribed from the code tables of xvnkb,
the X11 Vietnamese keyboard by Dao Hai Lam (github.com/lamdao/xvnkb, files
`tcvn.h` and `vni.h` at commit 00463256ebcd6dd73dfc142da6e5cdb750a0298b; each
array lists A, Á, À, Ả, Ã, Ạ, then Â…, Ă…, E…, Ê…, O…, Ô…, Ơ…, U…, Ư…, I…, Y…, Đ,
capitals first, as bytes). Only the parts that are plain TCVN3/VNI are kept:
`tcvn.h` is TCVN 5712 "VN1", whose capital toned letters sit in the C0/C1 range
that the .VnTime (ABC, "VN3") fonts do not have, so for TCVN3 only the 67
lower-case letters and the seven capitals Ă Â Ê Ô Ơ Ư Đ are taken (they agree
with the VN3 table published with the ABC fonts, 0xA1–0xFE).

The texts are return cells written out as bytes with those tables, the way a
legacy office's Excel saves them: TCVN3 has no capital toned letters, so an
all-caps title typed in .VnTime carries the lower-case code of each toned
letter (`C\\xe9NG H\\xdfA` for "CỘNG HÒA"). None of this is produced by
`ingestion.intake.readers.encodings`, so a wrong entry there fails a test.
"""

from __future__ import annotations

TCVN3_PUBLISHED: dict[str, bytes] = {
    "á": b"\xb8", "à": b"\xb5", "ả": b"\xb6", "ã": b"\xb7", "ạ": b"\xb9", "â": b"\xa9", "ấ": b"\xca", "ầ": b"\xc7",
    "ẩ": b"\xc8", "ẫ": b"\xc9", "ậ": b"\xcb", "ă": b"\xa8", "ắ": b"\xbe", "ằ": b"\xbb", "ẳ": b"\xbc", "ẵ": b"\xbd",
    "ặ": b"\xc6", "é": b"\xd0", "è": b"\xcc", "ẻ": b"\xce", "ẽ": b"\xcf", "ẹ": b"\xd1", "ê": b"\xaa", "ế": b"\xd5",
    "ề": b"\xd2", "ể": b"\xd3", "ễ": b"\xd4", "ệ": b"\xd6", "ó": b"\xe3", "ò": b"\xdf", "ỏ": b"\xe1", "õ": b"\xe2",
    "ọ": b"\xe4", "ô": b"\xab", "ố": b"\xe8", "ồ": b"\xe5", "ổ": b"\xe6", "ỗ": b"\xe7", "ộ": b"\xe9", "ơ": b"\xac",
    "ớ": b"\xed", "ờ": b"\xea", "ở": b"\xeb", "ỡ": b"\xec", "ợ": b"\xee", "ú": b"\xf3", "ù": b"\xef", "ủ": b"\xf1",
    "ũ": b"\xf2", "ụ": b"\xf4", "ư": b"\xad", "ứ": b"\xf8", "ừ": b"\xf5", "ử": b"\xf6", "ữ": b"\xf7", "ự": b"\xf9",
    "í": b"\xdd", "ì": b"\xd7", "ỉ": b"\xd8", "ĩ": b"\xdc", "ị": b"\xde", "ý": b"\xfd", "ỳ": b"\xfa", "ỷ": b"\xfb",
    "ỹ": b"\xfc", "ỵ": b"\xfe", "đ": b"\xae", "Ă": b"\xa1", "Â": b"\xa2", "Ê": b"\xa3", "Ô": b"\xa4", "Ơ": b"\xa5",
    "Ư": b"\xa6", "Đ": b"\xa7",
}  # fmt: skip

VNI_PUBLISHED: dict[str, bytes] = {
    "Á": b"A\xd9", "À": b"A\xd8", "Ả": b"A\xdb", "Ã": b"A\xd5", "Ạ": b"A\xcf", "Â": b"A\xc2",
    "Ấ": b"A\xc1", "Ầ": b"A\xc0", "Ẩ": b"A\xc5", "Ẫ": b"A\xc3", "Ậ": b"A\xc4", "Ă": b"A\xca",
    "Ắ": b"A\xc9", "Ằ": b"A\xc8", "Ẳ": b"A\xda", "Ẵ": b"A\xdc", "Ặ": b"A\xcb", "É": b"E\xd9",
    "È": b"E\xd8", "Ẻ": b"E\xdb", "Ẽ": b"E\xd5", "Ẹ": b"E\xcf", "Ê": b"E\xc2", "Ế": b"E\xc1",
    "Ề": b"E\xc0", "Ể": b"E\xc5", "Ễ": b"E\xc3", "Ệ": b"E\xc4", "Ó": b"O\xd9", "Ò": b"O\xd8",
    "Ỏ": b"O\xdb", "Õ": b"O\xd5", "Ọ": b"O\xcf", "Ô": b"O\xc2", "Ố": b"O\xc1", "Ồ": b"O\xc0",
    "Ổ": b"O\xc5", "Ỗ": b"O\xc3", "Ộ": b"O\xc4", "Ơ": b"\xd4", "Ớ": b"\xd4\xd9", "Ờ": b"\xd4\xd8",
    "Ở": b"\xd4\xdb", "Ỡ": b"\xd4\xd5", "Ợ": b"\xd4\xcf", "Ú": b"U\xd9", "Ù": b"U\xd8", "Ủ": b"U\xdb",
    "Ũ": b"U\xd5", "Ụ": b"U\xcf", "Ư": b"\xd6", "Ứ": b"\xd6\xd9", "Ừ": b"\xd6\xd8", "Ử": b"\xd6\xdb",
    "Ữ": b"\xd6\xd5", "Ự": b"\xd6\xcf", "Í": b"\xcd", "Ì": b"\xcc", "Ỉ": b"\xc6", "Ĩ": b"\xd3",
    "Ị": b"\xd2", "Ý": b"Y\xd9", "Ỳ": b"Y\xd8", "Ỷ": b"Y\xdb", "Ỹ": b"Y\xd5", "Ỵ": b"\xce",
    "Đ": b"\xd1", "á": b"a\xf9", "à": b"a\xf8", "ả": b"a\xfb", "ã": b"a\xf5", "ạ": b"a\xef",
    "â": b"a\xe2", "ấ": b"a\xe1", "ầ": b"a\xe0", "ẩ": b"a\xe5", "ẫ": b"a\xe3", "ậ": b"a\xe4",
    "ă": b"a\xea", "ắ": b"a\xe9", "ằ": b"a\xe8", "ẳ": b"a\xfa", "ẵ": b"a\xfc", "ặ": b"a\xeb",
    "é": b"e\xf9", "è": b"e\xf8", "ẻ": b"e\xfb", "ẽ": b"e\xf5", "ẹ": b"e\xef", "ê": b"e\xe2",
    "ế": b"e\xe1", "ề": b"e\xe0", "ể": b"e\xe5", "ễ": b"e\xe3", "ệ": b"e\xe4", "ó": b"o\xf9",
    "ò": b"o\xf8", "ỏ": b"o\xfb", "õ": b"o\xf5", "ọ": b"o\xef", "ô": b"o\xe2", "ố": b"o\xe1",
    "ồ": b"o\xe0", "ổ": b"o\xe5", "ỗ": b"o\xe3", "ộ": b"o\xe4", "ơ": b"\xf4", "ớ": b"\xf4\xf9",
    "ờ": b"\xf4\xf8", "ở": b"\xf4\xfb", "ỡ": b"\xf4\xf5", "ợ": b"\xf4\xef", "ú": b"u\xf9", "ù": b"u\xf8",
    "ủ": b"u\xfb", "ũ": b"u\xf5", "ụ": b"u\xef", "ư": b"\xf6", "ứ": b"\xf6\xf9", "ừ": b"\xf6\xf8",
    "ử": b"\xf6\xfb", "ữ": b"\xf6\xf5", "ự": b"\xf6\xef", "í": b"\xed", "ì": b"\xec", "ỉ": b"\xe6",
    "ĩ": b"\xf3", "ị": b"\xf2", "ý": b"y\xf9", "ỳ": b"y\xf8", "ỷ": b"y\xfb", "ỹ": b"y\xf5",
    "ỵ": b"\xee", "đ": b"\xf1",
}  # fmt: skip

# (Unicode text, the bytes a legacy file holds for it)
TCVN3_TEXT: list[tuple[str, bytes]] = [
    ("Thanh tra tỉnh Thanh Hóa", b"Thanh tra t\xd8nh Thanh H\xe3a"),
    ("Cộng hòa xã hội chủ nghĩa Việt Nam", b"C\xe9ng h\xdfa x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam"),
    ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", b"C\xe9NG H\xdfA X\xb7 H\xe9I CH\xf1 NGH\xdcA VI\xd6T NAM"),
    ("Người lập biểu", b"Ng\xad\xeai l\xcbp bi\xd3u"),
    ("Đã kết luận", b"\xa7\xb7 k\xd5t lu\xcbn"),
    ("Tố cáo, tin báo", b"T\xe8 c\xb8o, tin b\xb8o"),
    (
        "Nguyễn Văn Hùng; Lê Thị Hà; Đỗ Đức Thắng",
        b"Nguy\xd4n V\xa8n H\xefng; L\xaa Th\xde H\xb5; \xa7\xe7 \xa7\xf8c Th\xbeng",
    ),
    ("khoản 3 Điều 353", b"kho\xb6n 3 \xa7i\xd2u 353"),
    ("1,5 tỷ", b"1,5 t\xfb"),
    ("250 triệu", b"250 tri\xd6u"),
    ("Cơ quan CSĐT Công an tỉnh", b"C\xac quan CS\xa7T C\xabng an t\xd8nh"),
    ("Trả hồ sơ điều tra bổ sung", b"Tr\xb6 h\xe5 s\xac \xaei\xd2u tra b\xe6 sung"),
    ("Hoãn, tạm đình chỉ", b"Ho\xb7n, t\xb9m \xae\xd7nh ch\xd8"),
    (
        "Lợi dụng chức vụ, quyền hạn trong khi thi hành công vụ",
        b"L\xeei d\xf4ng ch\xf8c v\xf4, quy\xd2n h\xb9n trong khi thi h\xb5nh c\xabng v\xf4",
    ),
]

VNI_TEXT: list[tuple[str, bytes]] = [
    ("Thanh tra tỉnh Thanh Hóa", b"Thanh tra t\xe6nh Thanh Ho\xf9a"),
    ("Cộng hòa xã hội chủ nghĩa Việt Nam", b"Co\xe4ng ho\xf8a xa\xf5 ho\xe4i chu\xfb ngh\xf3a Vie\xe4t Nam"),
    ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", b"CO\xc4NG HO\xd8A XA\xd5 HO\xc4I CHU\xdb NGH\xd3A VIE\xc4T NAM"),
    ("Người lập biểu", b"Ng\xf6\xf4\xf8i la\xe4p bie\xe5u"),
    ("Đã kết luận", b"\xd1a\xf5 ke\xe1t lua\xe4n"),
    ("Tố cáo, tin báo", b"To\xe1 ca\xf9o, tin ba\xf9o"),
    (
        "Nguyễn Văn Hùng; Lê Thị Hà; Đỗ Đức Thắng",
        b"Nguye\xe3n Va\xean Hu\xf8ng; Le\xe2 Th\xf2 Ha\xf8; \xd1o\xe3 \xd1\xf6\xf9c Tha\xe9ng",
    ),
    ("khoản 3 Điều 353", b"khoa\xfbn 3 \xd1ie\xe0u 353"),
    ("1,5 tỷ", b"1,5 ty\xfb"),
    ("250 triệu", b"250 trie\xe4u"),
    ("Cơ quan CSĐT Công an tỉnh", b"C\xf4 quan CS\xd1T Co\xe2ng an t\xe6nh"),
    ("Trả hồ sơ điều tra bổ sung", b"Tra\xfb ho\xe0 s\xf4 \xf1ie\xe0u tra bo\xe5 sung"),
    ("Hoãn, tạm đình chỉ", b"Hoa\xf5n, ta\xefm \xf1\xecnh ch\xe6"),
    (
        "Lợi dụng chức vụ, quyền hạn trong khi thi hành công vụ",
        b"L\xf4\xefi du\xefng ch\xf6\xf9c vu\xef, quye\xe0n ha\xefn trong khi thi ha\xf8nh co\xe2ng vu\xef",
    ),
]

"""The operator e-mails escape what they quote: an exception can carry a file name an agency chose."""

from __future__ import annotations

from html.parser import HTMLParser

from ingestion.platform.notices import failure_notice, missing_returns_notice

PAYLOAD = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_failure_notice_shows_an_exception_s_markup_as_text() -> None:
    _, html = failure_notice("pctn_intake", "process", "manual__1", 3, ValueError(f"cannot read {PAYLOAD}.xlsx"))
    parsed = _parse(html)
    assert set(parsed.tags) == {"p", "b"}  # no img, no script: the payload is text
    assert f"cannot read {PAYLOAD}.xlsx" in "".join(parsed.text)


def test_missing_returns_notice_escapes_every_cell() -> None:
    row = {"period_code": "2025-Y", "source": "thanhtra", "unit_code": PAYLOAD, "due_date": "2026-01-20"}
    _, html = missing_returns_notice(["2025-Y"], [row])
    parsed = _parse(html)
    assert set(parsed.tags) == {"p", "table", "tr", "th", "td"}
    assert PAYLOAD in parsed.text and "2025-Y" in parsed.text

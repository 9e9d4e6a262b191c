"""The validation report is complete offline and shows hostile values as text (issue 13 item 4, issue 10 item 7).

A return with a script/img payload in a labelled column goes through the real intake
into a real warehouse; the report is rebuilt from the audit tables and parsed with the
standard library's HTML parser: the payload must be in the text, never an element or
an attribute, and no page may reference anything outside the folder.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from ingestion.intake.datadocs import build_data_docs
from ingestion.intake.pipeline import run_intake
from tests.returns_factory import THANHTRA_HEADERS, thanhtra_row, write_csv

HOSTILE = "<img src=x onerror=alert(1)><script>alert(1)</script>"
URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "srcset", "background", "content"}


class Page(HTMLParser):
    """Tags, attributes and text of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles = getattr(self, "styles", "") + data
        else:
            self.text.append(data)

    @property
    def body_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _external(page: Page) -> list[str]:
    found = []
    for tag, attr, value in page.attrs:
        v = value.strip().lower()
        if attr in URL_ATTRS and ("//" in v or v.startswith(("http:", "https:", "data:", "javascript:"))):
            found.append(f"<{tag} {attr}={value}>")
    styles = getattr(page, "styles", "")
    if "url(" in styles or "@import" in styles:
        found.append("css url()/@import")
    return found


def test_report_is_offline_names_the_file_and_escapes_hostile_values(warehouse_url, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile = write_csv(
        inbox / "thanhtra_TT-SO-XAYDUNG_2024-Y.csv",
        THANHTRA_HEADERS,
        [thanhtra_row(1), thanhtra_row(2, kind=HOSTILE), thanhtra_row(3, title=HOSTILE)],
    )
    corrupt = inbox / "thanhtra_TT-SO-XAYDUNG_2024-6M.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not a workbook")
    outcomes = run_intake(warehouse_url, inbox, tmp_path / "out", paths=[hostile, corrupt])
    by_name = {o.file_name: o for o in outcomes}
    loaded = by_name[hostile.name]
    assert loaded.status == "loaded" and loaded.rows_quarantined == 1

    index = build_data_docs(warehouse_url, tmp_path / "report")
    pages = [index, *sorted((tmp_path / "report" / "files").glob("*.html"))]
    assert len(pages) >= 3
    for path in pages:
        page = parse(path)
        assert _external(page) == [], f"{path.name} references outside the folder"
        assert "script" not in page.tags and "img" not in page.tags, f"{path.name}: injected element"
        assert not [a for a in page.attrs if a[1].startswith("on")], f"{path.name}: event handler attribute"
        for tag, attr, value in page.attrs:  # every link stays inside the report
            if tag == "a" and attr == "href":
                assert (path.parent / value).resolve().exists(), value

    index_page = parse(index)
    assert hostile.name in index_page.body_text and corrupt.name in index_page.body_text

    page = parse(tmp_path / "report" / "files" / f"{loaded.file_id}.html")
    text = page.body_text
    assert HOSTILE in text  # the quarantined value (kind) and the loaded title, shown as written, as text
    for needle in ("thanhtra", "TT-SO-XAYDUNG", "2024-Y", "UTC", "quarantined 1", "Run time"):
        assert needle in text, needle
    assert "Data asset: None" not in text and "__none__" not in text

    rejected = parse(tmp_path / "report" / "files" / f"{by_name[corrupt.name].file_id}.html").body_text
    assert "rejected" in rejected and by_name[corrupt.name].reject_code in rejected

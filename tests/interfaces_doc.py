"""The mart columns that docs/interfaces.md fixes, parsed from the document itself.

Tests compare the built marts with this, so the document and the models cannot
drift apart silently (a hand copy of the lists in a test could).
"""

from __future__ import annotations

import re
from pathlib import Path

INTERFACES_MD = Path(__file__).resolve().parent.parent / "docs" / "interfaces.md"


def _strip_parentheses(text: str) -> str:
    """Drop (nested) parenthesised remarks: they hold example values, not columns."""
    while re.search(r"\([^()]*\)", text):
        text = re.sub(r"\([^()]*\)", "", text)
    return text


def mart_columns(path: Path = INTERFACES_MD) -> dict[str, list[str]]:
    """`{mart: [column, ...]}` from the bullets of the section "Marts (schema `marts`) …"."""
    text = path.read_text(encoding="utf-8")
    section = text.split("\n## Marts", 1)[1].split("\n## ", 1)[0]
    out: dict[str, list[str]] = {}
    for bullet in re.split(r"\n- ", "\n" + section):
        m = re.match(r"`(\w+)`(?:\s*\([^)]*\))?:\s*(.*)", bullet, re.S)
        if not m:
            continue
        name, body = m.group(1), m.group(2)
        columns = re.findall(r"`(\w+)`", _strip_parentheses(body))
        if not columns:  # "the seed's columns (`period_code`, …)": the list is the parenthesis
            columns = re.findall(r"`(\w+)`", body)
        out[name] = columns
    return out

"""Reject, not-read and rule codes are one enumeration (`ingestion.intake.problems.Code`).

Every code has a Vietnamese and an English name; the contract's rules, the sample
generator's lists and every raise site use members, never a bare string; the values
the warehouse stores are members (`tests/samples/test_sample_pipeline.py`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ingestion.contract.sources import SOURCES
from ingestion.contract.suites import build_suite
from ingestion.intake.problems import CODE_TEXTS, Code, Rejection

REPO = Path(__file__).resolve().parents[2]
# calls that take a code, and the position of the code among their arguments
CODE_ARGUMENT = {"Rejection": 0, "ValueProblem": 0, "NotRead": 1, "_not_read": 1, "Issue": 3, "_reject": 2}
CODE_KEYWORDS = {"rule", "code", "reject_code"}


def test_every_code_has_a_vietnamese_and_an_english_name():
    assert set(CODE_TEXTS) == set(Code)
    for code in Code:
        assert code.text_vi.strip() and code.text_en.strip(), code
        assert code.text_vi != code.text_en, code
    assert len({c.text_en for c in Code}) == len(Code), "two codes share an English name"


def test_the_contract_s_rules_are_members():
    for source in SOURCES.values():
        for exp in build_suite(source)["expectations"]:
            assert exp["meta"]["rule"] in Code._value2member_map_, (source.code, exp["meta"]["rule"])
        for rule in source.plausibility:
            assert rule.code in Code._value2member_map_, (source.code, rule.code)


def test_the_generator_s_lists_are_members():
    from ingestion_samples.generate import REJECT_CODES, ROW_RULES

    assert all(isinstance(c, Code) for c in (*REJECT_CODES, *ROW_RULES))


def test_a_code_from_the_reader_process_becomes_a_member_and_an_unknown_one_fails():
    assert Rejection("unreadable", "vi", "en").code is Code.UNREADABLE
    with pytest.raises(ValueError):
        Rejection("no_such_code", "vi", "en")


def _bare_codes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        args = []
        if name in CODE_ARGUMENT and len(node.args) > CODE_ARGUMENT[name]:
            args.append(node.args[CODE_ARGUMENT[name]])
        if name in (*CODE_ARGUMENT, "RowProblem", "set"):
            args += [k.value for k in node.keywords if k.arg in CODE_KEYWORDS]
            if name == "set" and len(node.args) >= 4:  # the generator's rows.set(test, column, value, rule)
                args.append(node.args[3])
        for arg in args:
            if isinstance(arg, ast.Constant) and arg.value in Code._value2member_map_:
                found.append(f"{path.relative_to(REPO)}:{arg.lineno} {name}({arg.value!r})")
    return found


def test_no_raise_site_writes_a_code_as_a_bare_string():
    files = [*(REPO / "ingestion").rglob("*.py"), *(REPO / "ingestion_samples").rglob("*.py")]
    bare = [hit for path in sorted(files) for hit in _bare_codes(path)]
    assert not bare, "use the `Code` member:\n" + "\n".join(bare)

"""The national benchmark's own parts: the period it holds back, and its baseline.

The benchmark itself is run by hand (`make bench-national`); these check that what it
compares with is what it says: the latest period's files are held back whole, and the
bare loop reads and COPYs every row of every file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from bench.national import bare_loop, latest_period, split_latest

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "returns"


def test_latest_period_orders_kinds_within_a_year() -> None:
    names = ["thanhtra_TT-TINH_2025-9M.xlsx", "dieutra_CA-TINH_2025-6M_v2.csv", "xetxu_TA-KV1_2024-Y.xlsx"]
    assert latest_period(names) == "2025-9M"
    assert latest_period([*names, "thads_THADS-KV1_2025-Y.csv", "not a return.xlsx"]) == "2025-Y"


def test_split_latest_moves_exactly_the_latest_period(tmp_path: Path) -> None:
    inbox = tmp_path / "returns"
    shutil.copytree(SAMPLE, inbox)
    before = sorted(p.name for p in inbox.iterdir())
    period, moved = split_latest(inbox, tmp_path / "added")
    added = sorted(p.name for p in (tmp_path / "added").iterdir())
    assert moved == len(added) > 0
    assert all(f"_{period}" in name for name in added)
    assert not any(f"_{period}." in n or f"_{period}_v" in n for n in (p.name for p in inbox.iterdir()))
    assert sorted([*added, *(p.name for p in inbox.iterdir())]) == before


def test_bare_loop_copies_every_row_of_every_file(fresh_warehouse_url: str, tmp_path: Path) -> None:
    inbox = tmp_path / "returns"
    inbox.mkdir()
    for name in ("dieutra_CA-HUYEN-HOANGHOA_2024-Y.csv", "thanhtra_TT-TINH_2024-Y.xlsx"):
        shutil.copy(SAMPLE / name, inbox / name)
    files, rows = bare_loop(fresh_warehouse_url, inbox)
    csv_rows = sum(1 for line in (inbox / "dieutra_CA-HUYEN-HOANGHOA_2024-Y.csv").read_bytes().splitlines() if line)
    with psycopg.connect(fresh_warehouse_url) as conn:
        per_file = dict(conn.execute("select file, count(*) from bench_bare group by file").fetchall())
    assert files == 2
    assert sum(per_file.values()) == rows
    assert per_file["dieutra_CA-HUYEN-HOANGHOA_2024-Y.csv"] == csv_rows
    assert per_file["thanhtra_TT-TINH_2024-Y.xlsx"] > 10


def test_the_inbox_cache_generates_once_and_copies_the_same_files(tmp_path: Path) -> None:
    """`--inbox-cache`: the first run generates into the cache, the next one with the same options takes
    a hard-linked copy (no generator run), and other options generate afresh."""
    import os

    from bench.national import generate

    env = dict(os.environ) | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    cache, logs = tmp_path / "cache", tmp_path / "logs"
    logs.mkdir()
    options = ["--provinces", "2", "--years", "2025", "--no-bad"]
    runs = []
    for n in range(2):
        work = tmp_path / f"work{n}"
        work.mkdir()
        runs.append((generate(options, work, cache, env, logs), work))
    (first, w0), (second, w1) = runs
    assert first.name == "generate" and second.name == "generate (cached copy)"
    names = sorted(p.name for p in (w0 / "returns").rglob("*") if p.is_file())
    assert names and names == sorted(p.name for p in (w1 / "returns").rglob("*") if p.is_file())
    one = next(p for p in (w1 / "returns").rglob("*") if p.is_file())
    assert one.stat().st_nlink > 1  # a link to the cache's file, not a copy
    assert (w1 / "reference").is_dir()
    work = tmp_path / "work2"
    work.mkdir()
    assert generate([*options[:3], "2024", "--no-bad"], work, cache, env, logs).name == "generate"

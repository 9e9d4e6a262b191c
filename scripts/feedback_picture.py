"""Pictures of a feedback workbook as the unit prints it, for the README (docs/img/).

    python scripts/feedback_picture.py                       # after `make run`
    python scripts/feedback_picture.py FEEDBACK.xlsx --out docs/img

LibreOffice (headless) prints the workbook to PDF exactly as the tests check it, and
poppler's `pdftoppm` turns each page into a PNG: `feedback-summary.png` (page 1: unit,
outcome, next step) and `feedback-problems.png` (page 2: the problems, if any). The
default workbook is the sample's 7-problem return from the provincial police, which
`make run` writes to output/feedback/.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "output" / "feedback" / "dieutra_CA-TINH_2024-Y.phan-hoi.feedback.xlsx"
NAMES = ("feedback-summary.png", "feedback-problems.png")


def render(workbook: Path, out_dir: Path, dpi: int = 80) -> list[Path]:
    """PNG of the first two printed pages of `workbook` in `out_dir`; returns the files written."""
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (LibreOffice, poppler-utils)")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pctn-feedback-png-") as tmp:
        subprocess.run(
            ["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
             "--outdir", tmp, str(workbook)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        pdf = Path(tmp) / (workbook.stem + ".pdf")
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "2", str(pdf), f"{tmp}/page"], check=True)
        written = []
        for page, name in zip(sorted(Path(tmp).glob("page-*.png")), NAMES, strict=False):
            target = out_dir / name
            shutil.copyfile(page, target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args(argv)
    if not args.workbook.exists():
        print(f"{args.workbook} not found: run `make run` first (it writes output/feedback/)", file=sys.stderr)
        return 1
    for path in render(args.workbook, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

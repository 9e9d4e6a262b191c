"""Command line: the steps of the pipeline, and `run` that chains them for `make run`.

`python -m ingestion run` = intake of the inbox → dbt build → Inspectorate
extract → a summary of where everything is. The same functions are what the
Airflow tasks call, so the command and the DAGs cannot drift apart.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from pathlib import Path

from ingestion.pipeline import FileOutcome, run_intake
from ingestion.pseudonym import KEY_ENV, ensure_demo_key
from ingestion.warehouse import DATA_DIR, REPO_ROOT, warehouse_url

DEFAULT_INBOX = REPO_ROOT / "samples" / "returns"
DEFAULT_OUT = REPO_ROOT / "output"


def _inbox() -> Path:
    return Path(os.environ.get("RETURNS_INBOX", DEFAULT_INBOX))


def _out() -> Path:
    return Path(os.environ.get("PCTN_OUTPUT_DIR", DEFAULT_OUT))


def _demo_key() -> None:
    if not os.environ.get(KEY_ENV):
        path = DATA_DIR / "pseudonym.key"
        os.environ[KEY_ENV] = ensure_demo_key(path)
        print(f"[demo] {KEY_ENV} not set: using a local demo key from {path} (set your own in production)")


def print_intake_summary(outcomes: list[FileOutcome]) -> None:
    by_status = Counter(o.status for o in outcomes)
    print(f"\nIntake: {len(outcomes)} files offered — " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    rejected = [o for o in outcomes if o.status == "rejected"]
    if rejected:
        print("Rejected files (moved aside with a report):")
        for o in rejected:
            print(f"  {o.file_name}: {o.reject_code} — {o.reason_en}")
    per_source: dict[str, Counter[str]] = {}
    for o in outcomes:
        if o.status in ("loaded", "superseded") and o.source:
            c = per_source.setdefault(o.source, Counter())
            c["files"] += 1
            c["read"] += o.rows_read
            c["loaded"] += o.rows_loaded
            c["quarantined"] += o.rows_quarantined
            c["flagged"] += o.rows_flagged
    if per_source:
        print(f"{'source':10} {'files':>6} {'rows read':>10} {'loaded':>8} {'quarantined':>12} {'flagged':>8}")
        for src, c in sorted(per_source.items()):
            print(f"{src:10} {c['files']:>6} {c['read']:>10} {c['loaded']:>8} {c['quarantined']:>12} {c['flagged']:>8}")


def cmd_intake(args: argparse.Namespace) -> list[FileOutcome]:
    url = warehouse_url()
    outcomes = run_intake(url, _inbox(), _out())
    print_intake_summary(outcomes)
    return outcomes


def cmd_run(args: argparse.Namespace) -> None:
    """Intake → roles → dbt build → Data Docs → extract (outbox) → summary."""
    from ingestion.datadocs import build_data_docs
    from ingestion.extract import build_extract, configured_channels, deliver, latest_period, write_extract
    from ingestion.summary import print_run_summary
    from ingestion.transform import run_dbt

    url = warehouse_url()
    out = _out()
    print(f"Inbox: {_inbox()}")
    outcomes = run_intake(url, _inbox(), out)
    print_intake_summary(outcomes)
    _ensure_roles(url)
    print("\ndbt build (seeds, models, data tests, unit tests) …")
    results = run_dbt(url, ["build"], quiet=True)
    statuses = Counter(str(getattr(r, "status", "")) for r in getattr(results, "results", []))
    print("dbt build: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    docs = build_data_docs(url, out / "data_docs")
    period = latest_period(url)
    extract_id = build_extract(url, period)
    workbook = write_extract(url, extract_id, out / "extract" / period)
    for channel in configured_channels():
        result = deliver(url, extract_id, channel)
        print(f"Extract {period} → {channel}: {result.outcome} ({result.recipient})")
    print_run_summary(url, out, extract_path=workbook, data_docs=docs)


def _ensure_roles(url: str) -> None:
    try:
        from ingestion.roles import ensure_roles
    except ImportError:  # pragma: no cover - roles module is optional until the BI issue lands
        return
    ensure_roles(url)


def cmd_docs(args: argparse.Namespace) -> None:
    """dbt docs with lineage: generate against the warehouse, then serve (unless --no-serve)."""
    from ingestion.transform import run_dbt

    url = warehouse_url()
    run_dbt(url, ["docs", "generate"], quiet=True)
    print(f"dbt docs generated in {REPO_ROOT / 'dbt_project' / 'target'} (index.html, catalog.json, manifest.json)")
    if not args.no_serve:
        print(f"Serving on http://127.0.0.1:{args.port} (Ctrl-C to stop)")
        run_dbt(url, ["docs", "serve", "--port", str(args.port), "--host", "127.0.0.1", "--no-browser"])


def cmd_unseal(args: argparse.Namespace) -> None:
    """Write originals back, byte for byte, to a folder the operator names (they hold names in clear)."""
    from ingestion.registry import unseal_to
    from ingestion.warehouse import connect

    with connect(warehouse_url(), autocommit=True) as conn:
        for file_id in args.file_ids:
            print(unseal_to(conn, file_id, Path(args.to)))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    parser = argparse.ArgumentParser(prog="python -m ingestion", description=__doc__)
    parser.add_argument("--demo-key", action="store_true", help="create/use a local pseudonym key if none is set")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("url", help="print the warehouse URL (starts the embedded server if needed)")
    sub.add_parser("intake", help="register, validate and load the inbox")
    sub.add_parser("run", help="the whole pipeline on the inbox, then a summary")
    docs = sub.add_parser("docs", help="generate and serve the dbt documentation site (lineage)")
    docs.add_argument("--port", type=int, default=8081)
    docs.add_argument("--no-serve", action="store_true")
    unseal = sub.add_parser(
        "unseal",
        help="write original returns (sealed in registry.file_contents) back to a folder: they hold names in clear",
    )
    unseal.add_argument("file_ids", type=int, nargs="+", metavar="FILE_ID", help="registry.files.file_id")
    unseal.add_argument("--to", required=True, metavar="DIR", help="folder to write the originals into (mode 0600)")
    args = parser.parse_args(argv)
    if args.demo_key:
        _demo_key()
    if args.command == "url":
        print(warehouse_url())
    elif args.command == "intake":
        cmd_intake(args)
    elif args.command == "run":
        cmd_run(args)
    elif args.command == "docs":
        cmd_docs(args)
    elif args.command == "unseal":
        cmd_unseal(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

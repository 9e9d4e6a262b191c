"""Command line: the steps of the pipeline, and `run` that chains them for `make run`.

`python -m ingestion run` = intake of the inbox → dbt build → validation report →
Inspectorate extract → a summary of where everything is. The same functions are
what the Airflow tasks call, so the command and the DAGs cannot drift apart.

Errors a user can fix (no pseudonym key, no inbox folder, no warehouse) end the
command with one line saying what is wrong and how to fix it, and exit status 2;
anything else is a bug and keeps its traceback. Heavy modules (pandas, GX, dbt)
are imported by the commands, so `--help` is instant and touches nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.paths import DBT_TARGET_DIR
from ingestion.platform import envhelp
from ingestion.platform.warehouse import WarehouseUnreachable, check_reachable, warehouse_url
from ingestion.settings import env_name, settings

if TYPE_CHECKING:
    from ingestion.intake.pipeline import FileOutcome
    from ingestion.progress import Reporter

KEY_ENV = env_name("pseudonym_key")
EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the user can fix; the message is one line with the fix."""


def _inbox() -> Path:
    return settings().returns_inbox


def _out() -> Path:
    return settings().output_dir


def _demo_key() -> None:
    from ingestion.intake.pseudonym import ensure_demo_key

    current = settings()
    if not current.pseudonym_key:
        path = current.demo_key_file()
        os.environ[KEY_ENV] = ensure_demo_key(path)  # in the environment: the intake's worker processes inherit it
        print(f"[demo] {KEY_ENV} not set: using a local demo key from {path} (set your own in production)")


def _require_key() -> None:
    if not settings().pseudonym_key:
        raise UserError(
            f"thiếu khóa bí danh / {KEY_ENV} is not set: names cannot be pseudonymised, so no return is read. "
            f"Fix: export {KEY_ENV}=<a long random secret, kept for good>, or add --demo-key for a local demo key "
            "(make run does)."
        )


def _require_inbox(inbox: Path) -> None:
    if not inbox.is_dir():
        what = "is not a folder" if inbox.exists() else "does not exist"
        raise UserError(
            f"không có thư mục hộp thư / inbox {inbox} {what}. "
            "Fix: create it or set RETURNS_INBOX to the folder the returns arrive in."
        )


def _warehouse() -> str:
    """The warehouse URL, checked to answer (a one-line error otherwise)."""
    url = warehouse_url()
    check_reachable(url)
    return url


def print_intake_summary(outcomes: list[FileOutcome], not_read: list[tuple[str, str, str]] | None = None) -> None:
    by_status = Counter(o.status for o in outcomes)
    print(f"\nIntake: {len(outcomes)} files offered — " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    rejected = [o for o in outcomes if o.status == "rejected"]
    if rejected:
        print("Rejected files (kept sealed in the warehouse, with a report):")
        for o in rejected:
            print(f"  {o.file_name}: {o.reject_code} — {o.reason_en}")
    if not_read:
        print("Inbox entries not read (each has a receipt in registry.receipts):")
        for path, code, reason in not_read:
            print(f"  {path}: {code} — {reason}")
    per_source: dict[str, Counter[str]] = {}
    for o in outcomes:
        if o.status in ("loaded", "superseded") and o.source:
            c = per_source.setdefault(o.source, Counter())
            c["files"] += 1
            c["read"] += o.rows_read
            c["loaded"] += o.rows_loaded
            c["quarantined"] += o.rows_quarantined
            c["skipped"] += o.rows_skipped
            c["flagged"] += o.rows_flagged
    if per_source:
        print(
            f"{'source':10} {'files':>6} {'rows read':>10} {'loaded':>8} {'quarantined':>12} {'skipped':>8}"
            f" {'flagged':>8}"
        )
        for src, c in sorted(per_source.items()):
            print(
                f"{src:10} {c['files']:>6} {c['read']:>10} {c['loaded']:>8} {c['quarantined']:>12}"
                f" {c['skipped']:>8} {c['flagged']:>8}"
            )


def _intake(url: str, reporter: Reporter) -> list[FileOutcome]:
    from ingestion.intake.pipeline import run_intake

    inbox = _inbox()
    _require_inbox(inbox)
    _require_key()
    with reporter.intake() as (on_start, on_outcome):
        outcomes = run_intake(url, inbox, _out(), on_start=on_start, on_outcome=on_outcome)
    from ingestion.intake.pipeline import not_read_entries

    print_intake_summary(outcomes, not_read_entries(inbox))
    return outcomes


def cmd_intake(args: argparse.Namespace) -> list[FileOutcome]:
    from ingestion.progress import Reporter

    _require_inbox(_inbox())  # the checks that need no server come first
    _require_key()
    return _intake(_warehouse(), Reporter())


def cmd_run(args: argparse.Namespace) -> None:
    """Intake → roles → dbt build → validation report → extract (outbox) → summary."""
    from ingestion.progress import Reporter

    reporter = Reporter()
    _require_inbox(_inbox())
    _require_key()
    url = _warehouse()
    out = _out()
    print(f"Inbox: {_inbox()}")
    _intake(url, reporter)
    bi = _ensure_roles(url)
    from ingestion.platform.transform import run_dbt

    with reporter.dbt("dbt build (seeds, models, data tests, unit tests)") as callback:
        results = run_dbt(url, ["build"], quiet=True, callbacks=[callback] if callback else ())
    statuses = Counter(str(getattr(r, "status", "")) for r in getattr(results, "results", []))
    print("dbt build: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    from ingestion.intake.datadocs import build_data_docs

    with reporter.step("Validation report (offline HTML) from audit tables"):
        docs = build_data_docs(url, out / "data_docs")
    from ingestion.extract import (
        build_extract,
        configured_channels,
        default_folder,
        deliver,
        latest_period,
        write_extract,
    )

    with reporter.step("Extract: build from the marts"):
        period = latest_period(url)
        extract_id = build_extract(url, period)
    with reporter.step(f"Extract {period}: write workbook and CSVs"):
        workbook = write_extract(url, extract_id, default_folder(period))
    for channel in configured_channels():
        with reporter.step(f"Extract {period}: deliver on {channel}"):
            result = deliver(url, extract_id, channel)
        print(f"Extract {period} → {channel}: {result.outcome} ({result.recipient})")
    from ingestion.summary import print_run_summary

    print_run_summary(url, out, extract_path=workbook, data_docs=docs, bi_url=bi)


def _ensure_roles(url: str) -> str | None:
    """Roles and grants; on the embedded server also the BI user; return its TCP URL if any."""
    from ingestion.platform.roles import ensure_roles, prepare_demo_bi_password

    prepare_demo_bi_password(url)
    ensure_roles(url)
    from ingestion.platform.roles import bi_tcp_url

    return bi_tcp_url(url)


# dbt-docs' default graph selection, as bundled with dbt-core 1.11 (index.html is one static file)
_DOCS_DEFAULT_TYPES = 'resource_types:["model","seed","snapshot","source","test","unit_test",'


def hide_unit_tests_in_docs_graph(index_html: Path) -> bool:
    """Make the docs site's lineage graph leave unit tests out by default (one click brings them back).

    dbt 1.11 offers no setting for this: unit tests take no `docs: show`, and the site's
    default graph selection holds every resource type. The default is changed in the
    generated `index.html` (the "resources" filter still lists unit tests); False, and
    nothing changed, when the site's code is not the one this was written for.
    """
    text = index_html.read_text(encoding="utf-8")
    start = text.find('factory("selectorService"')
    at = text.find(_DOCS_DEFAULT_TYPES, start)
    if start < 0 or at < 0 or at - start > 200:
        return False
    patched = text[:at] + _DOCS_DEFAULT_TYPES.replace('"unit_test",', "") + text[at + len(_DOCS_DEFAULT_TYPES) :]
    index_html.write_text(patched, encoding="utf-8")
    return True


def cmd_docs(args: argparse.Namespace) -> None:
    """dbt docs with lineage: generate against the warehouse, then serve (unless --no-serve)."""
    from ingestion.platform.transform import run_dbt

    url = _warehouse()
    run_dbt(url, ["docs", "generate"], quiet=True)
    target = DBT_TARGET_DIR
    if not hide_unit_tests_in_docs_graph(target / "index.html"):
        print("warning: the docs site's lineage graph shows unit tests (untick them under 'resources')")
    print(f"dbt docs generated in {target} (index.html, catalog.json, manifest.json)")
    if not args.no_serve:
        print(f"Serving on http://127.0.0.1:{args.port} (Ctrl-C to stop); the project overview opens first,")
        print(f"  lineage without unit tests: http://127.0.0.1:{args.port}/#!/overview?g_v=1")
        run_dbt(url, ["docs", "serve", "--port", str(args.port), "--host", "127.0.0.1", "--no-browser"])


def cmd_unseal(args: argparse.Namespace) -> None:
    """Write originals back, byte for byte, to a folder the operator names (they hold names in clear)."""
    from ingestion.intake.registry import unseal_to
    from ingestion.platform.warehouse import connect

    with connect(_warehouse(), autocommit=True) as conn:
        for file_id in args.file_ids:
            print(unseal_to(conn, file_id, Path(args.to)))


def cmd_stop(args: argparse.Namespace) -> None:
    """Stop the embedded PostgreSQL (never starts it)."""
    from ingestion.platform.warehouse import stop_embedded_server

    pid = stop_embedded_server()
    pgdata = settings().data_dir / "pg"
    if pid is None:
        print(f"Embedded PostgreSQL ({pgdata}) is not running.")
    else:
        print(f"Stopped the embedded PostgreSQL (pid {pid}, {pgdata}); the next command starts it again.")


def build_parser() -> argparse.ArgumentParser:
    parser = envhelp.parser(
        "python -m ingestion",
        (__doc__ or "").split("\n\n")[0] + "\n\nEach command has its own --help.",
        envhelp.INGESTION,
    )
    parser.add_argument(
        "--demo-key", action="store_true", help=f"create/use a local pseudonym key in .data/ if {KEY_ENV} is not set"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, names: tuple[str, ...]) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=envhelp.epilog(names),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    add("url", "print the warehouse URL (starts the embedded server if needed)", ("WAREHOUSE_URL", "PCTN_DATA_DIR"))
    add(
        "intake",
        "register, validate and load the inbox (one line or a progress bar per file)",
        envhelp.INTAKE,
    )
    add("run", "the whole pipeline on the inbox (intake, dbt, report, extract), then a summary", envhelp.INGESTION)
    docs = add("docs", "generate and serve the dbt documentation site (lineage)", ("WAREHOUSE_URL", "PCTN_DATA_DIR"))
    docs.add_argument("--port", type=int, default=8081, help="port of the docs server (default 8081)")
    docs.add_argument("--no-serve", action="store_true", help="only generate dbt_project/target/index.html")
    add("stop", "stop the embedded PostgreSQL under .data/pg (make stop)", ("PCTN_DATA_DIR",))
    unseal = add(
        "unseal",
        "write original returns (kept sealed in registry.file_contents) back to a folder: they hold names in clear",
        ("WAREHOUSE_URL", "PCTN_PSEUDONYM_KEY", "PCTN_DATA_DIR"),
    )
    unseal.add_argument("file_ids", type=int, nargs="+", metavar="FILE_ID", help="registry.files.file_id")
    unseal.add_argument("--to", required=True, metavar="DIR", help="folder to write the originals into (mode 0600)")
    return parser


COMMANDS = {"intake": cmd_intake, "run": cmd_run, "docs": cmd_docs, "stop": cmd_stop, "unseal": cmd_unseal}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # --help and usage errors exit here, before anything runs
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        if args.demo_key:
            _demo_key()
        if args.command == "url":
            print(warehouse_url())
        else:
            COMMANDS[args.command](args)
    except (UserError, WarehouseUnreachable) as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())

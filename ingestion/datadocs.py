"""GX Data Docs, rebuilt from the validation results stored in the warehouse.

Validation may run on any Celery worker, so no single process holds every result.
Each run's GX result is kept in `audit.validation_runs`; this module loads the
suites (from `expectations/`) and the results of the files' latest runs into an
ephemeral GX context and renders the static site into a folder.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import psycopg

from ingestion.contract.sources import SOURCES
from ingestion.contract.suites import suite_path


def build_data_docs(url: str, out_dir: Path) -> Path:
    """Render Data Docs for every registered file's latest validation; return index.html."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)  # after import: GX sets its own levels
    out_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        site_name="pctn",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for code in SOURCES:
        context.suites.add(ExpectationSuite(**json.loads(suite_path(code).read_text(encoding="utf-8"))))
    with psycopg.connect(url) as conn:
        runs = conn.execute(
            """
            select distinct on (r.file_id) r.run_id, r.suite, r.run_at, f.file_name, r.result
            from audit.validation_runs r join registry.files f using (file_id)
            order by r.file_id, r.run_at desc
            """
        ).fetchall()
    for run_id, suite, run_at, file_name, result in runs:
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
            run_id=RunIdentifier(run_name=file_name, run_time=run_at),
            batch_identifier=run_id,
        )
        context.validation_results_store.set(key, ExpectationSuiteValidationResult(**result))
    urls = context.build_data_docs(site_names=["pctn"])
    return Path(urls["pctn"].removeprefix("file://"))

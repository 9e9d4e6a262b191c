"""
### Models: the dbt project as Airflow tasks (*mô hình chỉ tiêu*)

Runs whenever the intake loaded new rows into any `raw` table, or gave any
file a status (a rejection counts in the data-quality mart): Asset schedule.
The dbt project (`dbt_project/`) is rendered by astronomer-cosmos as one
`DbtTaskGroup`: one task per seed and model, each model followed by its data
tests (`TestBehavior.AFTER_EACH`); a test spanning two models (relationships)
runs as its own task once both exist. dbt **unit tests are excluded** here
(they run in CI and `make run`). The graph is read from `dbt_project/target/manifest.json` (`dbt parse`),
so parsing this file never runs dbt.

Without a manifest the file still imports: the group is replaced by one task,
`dbt_build`, that runs `dbt build` of the whole project (same result, coarser
retries), and the import log says to run `dbt parse`.

dbt reaches the warehouse through the Airflow connection `warehouse`: the
project's `profiles.yml` reads `PCTN_DB_*`, which are set in the task process
only, from that connection. Every model is a full rebuild (table/view), so a
rerun gives the same marts. On success the marts Asset is emitted (it schedules
nothing by itself; the extract runs on the reporting calendar).
"""

from __future__ import annotations

import logging

import _common as c
from airflow.sdk import dag, task

log = logging.getLogger(__name__)


def _set_warehouse_env(context, operator) -> None:
    """Cosmos interceptor: give dbt the warehouse from the Airflow connection (task time only)."""
    from ingestion.warehouse import dbt_env

    operator.env = {**(operator.env or {}), **dbt_env(c.warehouse_url())}


def _dbt_group():
    """The cosmos task group, or None when there is no manifest to render from."""
    if not c.DBT_MANIFEST.exists():
        log.warning(
            "%s not found: run `python -m ingestion.airflow_env manifest` (dbt parse; make up does it); "
            "rendering a single dbt_build task",
            c.DBT_MANIFEST,
        )
        return None
    from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, TestBehavior

    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=c.DBT_PROJECT_DIR,
            manifest_path=c.DBT_MANIFEST,
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name=c.DBT_PROFILE,
            target_name=c.DBT_TARGET,
            profiles_yml_filepath=c.DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            dbt_executable_path=str(c.DBT_EXECUTABLE),
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            exclude=["resource_type:unit_test"],
            # a test on two models (relationships) runs once both are built, as its own task
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        operator_args={"interceptors": [_set_warehouse_env]},
    )


@dag(
    dag_id="pctn_models",
    schedule=c.any_asset([*c.RAW_ASSETS.values(), c.REGISTRY_ASSET]),
    start_date=c.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=c.default_args(),
    tags=["pctn", "dbt", "models"],
    doc_md=__doc__,
)
def pctn_models():
    @task(outlets=[c.MARTS_ASSET])
    def marts_ready() -> None:
        """Marks the marts as rebuilt (Asset event) once every model and test has passed."""

    group = _dbt_group()
    if group is None:

        @task
        def dbt_build() -> None:
            """Fallback without a manifest: the whole project in one `dbt build` (no unit tests)."""
            import tempfile
            from pathlib import Path

            from ingestion.transform import run_dbt

            with tempfile.TemporaryDirectory(prefix="pctn-dbt-") as target:  # artefacts stay this task's own
                run_dbt(c.warehouse_url(), ["build", "--exclude", "resource_type:unit_test"], target_path=Path(target))

        group = dbt_build()
    group >> marts_ready()


pctn_models()

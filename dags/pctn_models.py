"""
### Models: the dbt project as Airflow tasks, at the cost of one build (*mô hình chỉ tiêu*)

Runs whenever the intake loaded new rows into any `raw` table, or gave any
file a status (a rejection counts in the data-quality mart): Asset schedule.
The dbt project (`dbt_project/`) is rendered by astronomer-cosmos as one
`DbtTaskGroup` in **`ExecutionMode.WATCHER`**: one task, `dbt.dbt_producer_watcher`,
runs a single `dbt build` of the whole project (`dbt` as a child process of the
task, its JSON log read line by line), and one sensor task per seed and model (`<model>.run`) plus one
per model's data tests (`<model>.test`, `TestBehavior.AFTER_EACH`) follow its
events and end as the node ended: the graph shows per-model state and logs, the
cost is one build (LOCAL mode paid ~18 s per node). A test spanning two models
(relationships) is watched by its own task. dbt **unit tests are excluded** here
(they run in CI and `make run`). The graph is read from `dbt_project/target/manifest.json`
(`dbt parse`), so parsing this file never runs dbt. The watchers start once the
producer has ended (see `_watch_after_the_producer`) and read each node's result from
its XComs. A retry of the producer (transient errors only) never builds twice:
cosmos ends it skipped, and the watchers without a result run their own node
(`dbt run --select`), as does a watcher's own retry.

Without a manifest the file still imports: the group is replaced by one task,
`dbt_build`, that runs `dbt build` of the whole project (same result, one task),
and the import log says to run `dbt parse`.

dbt reaches the warehouse through the Airflow connection `warehouse`: the
project's `profiles.yml` reads `PCTN_DB_*`, which are set in the task process
only, from that connection (`ingestion.platform.warehouse.dbt_env`, as for `make run`).
Not cosmos' `PostgresUserPasswordProfileMapping`: it requires a password (cosmos 1.15
refuses the connection, "password is not set", and no profile is rendered), and the
embedded PostgreSQL of `make up` trusts its unix socket without one; it also has no
fallback when the connection is absent (the warehouse then comes from `WAREHOUSE_URL`),
and does not hand on `PCTN_REFERENCE_DIR`. A socket directory as host would be fine.

**No reader on half-rebuilt marts:** the build holds the warehouse advisory lock
`pctn.marts` exclusively and records itself in `audit.marts_builds`
(`ingestion.platform.marts_lock`), as `make run` and `python -m ingestion` do; the extract
reads under the same lock, shared, and refuses marts whose last build failed.
`max_active_runs=1` keeps two runs of this DAG from queueing builds on the lock.
On success the marts Asset is emitted (it schedules nothing by itself; the
extract runs on the reporting calendar).
"""

from __future__ import annotations

import logging

import _common as c
from airflow.sdk import dag, task

log = logging.getLogger(__name__)


def _set_warehouse_env(context, operator) -> None:
    """Cosmos interceptor: give dbt the warehouse from the Airflow connection and the reference directory."""
    from ingestion.platform.warehouse import dbt_env

    operator.env = {**(operator.env or {}), **dbt_env(c.warehouse_url())}


def _dbt_group():
    """The cosmos task group (watcher mode), or None when there is no manifest to render from."""
    if not c.DBT_MANIFEST.exists():
        log.warning(
            "%s not found: run `python -m ingestion.platform.airflow_env manifest` (dbt parse; make up does it); "
            "rendering a single dbt_build task",
            c.DBT_MANIFEST,
        )
        return None
    from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, TestBehavior

    interceptors = [_set_warehouse_env, c.hold_marts_lock]
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
            execution_mode=ExecutionMode.WATCHER,
            # dbt in a child process, its JSON log lines parsed as they come: with DBT_RUNNER every
            # dbt event (debug ones too) is turned into JSON under the GIL beside dbt's threads,
            # and the sample's build took 46 s of dbt time instead of 18 s
            dbt_executable_path=str(c.DBT_EXECUTABLE),
            invocation_mode=InvocationMode.SUBPROCESS,
            # a retry of the producer never builds twice: cosmos ends it skipped, and the
            # watchers without a result then run their own node
            setup_operator_args={"interceptors": interceptors},
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            exclude=["resource_type:unit_test"],
            # a test on two models (relationships) is watched once both are built, as its own task
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        # sensors: a retry (after the producer ended) runs their node alone, under the same lock
        operator_args={"interceptors": interceptors, "poke_interval": c.WATCHER_POKE_INTERVAL_S},
    )


def _watch_after_the_producer(group) -> None:
    """Put the producer upstream of every root watcher (trigger rule `all_done`).

    Cosmos wires a `DbtTaskGroup`'s root sensors beside the producer and relies on
    the scheduler running the producer first (priority weight). `dag.test()` (the DAG
    tests, `airflow dags test`, the benchmark) runs ready tasks one at a time in any
    order: a sensor that started first would wait on a producer that never starts.
    (cosmos' `DbtDag` sets `always`, which in Airflow means "regardless of upstream,
    at any time", so it does not order anything either.) With the producer upstream the
    sensors read its results as soon as it ends, whether it succeeded or not
    (`all_done`), so every model still shows its own state and log, and the run still
    costs one build.
    """
    from airflow.sdk import TriggerRule

    producer = group.children[f"{group.group_id}.dbt_producer_watcher"]
    for root in list(group.get_roots()):
        if root is not producer:
            producer >> root
            root.trigger_rule = TriggerRule.ALL_DONE


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
    if group is not None:
        _watch_after_the_producer(group)
    else:

        @task
        def dbt_build() -> None:
            """Fallback without a manifest: the whole project in one `dbt build` (no unit tests), under the lock."""
            import tempfile
            from pathlib import Path

            from ingestion.platform.transform import run_dbt

            with tempfile.TemporaryDirectory(prefix="pctn-dbt-") as target:  # artefacts stay this task's own
                run_dbt(c.warehouse_url(), ["build", "--exclude", "resource_type:unit_test"], target_path=Path(target))

        group = dbt_build()
    group >> marts_ready()


pctn_models()

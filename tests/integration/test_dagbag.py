"""The DAG files import cleanly, fast, and wire what the architecture says."""

import pytest
from references import REPO_ROOT

from outcome_monitor.config import RECORD_TYPES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def assets_of(condition) -> list:
    """The assets in a schedule condition (AssetAll/AssetAny nest), flattened."""
    if hasattr(condition, "objects"):
        return [asset for part in condition.objects for asset in assets_of(part)]
    return [condition]


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"ingest_submissions", "transform_publish", "close_year", "export_year"}


def test_ingest_is_driven_by_the_inbox_watcher(dagbag):
    dag = dagbag.dags["ingest_submissions"]
    (asset,) = assets_of(dag.timetable.asset_condition)
    assert asset.name == "inbox"
    (watcher,) = asset.watchers
    assert type(watcher.trigger).__name__ == "InboxTrigger"
    assert [task.task_id for task in dag.tasks] == ["ingest"]
    assert dag.tasks[0].retries == 2


def test_transform_runs_on_any_raw_asset_one_at_a_time(dagbag):
    dag = dagbag.dags["transform_publish"]
    names = {asset.name for asset in assets_of(dag.timetable.asset_condition)}
    assert names == {f"raw.{record_type}" for record_type in RECORD_TYPES}
    assert {"raw.toewijzing", "raw.declaratie_regel", "raw.uitkomst", "raw.afspraak"} <= names
    assert dag.max_active_runs == 1
    assert dag.get_task("publish").upstream_task_ids == {"check_marts"}
    assert dag.get_task("check_marts").upstream_task_ids == {"dbt_build"}
    assert [outlet.name for outlet in dag.get_task("publish").outlets] == ["published"]


def test_year_end_dags_run_only_when_a_controller_triggers_them(dagbag):
    for dag_id, params in (("close_year", {"verslagjaar", "reden"}), ("export_year", {"verslagjaar", "voorlopig"})):
        dag = dagbag.dags[dag_id]
        assert type(dag.timetable).__name__ == "NullTimetable" and dag.max_active_runs == 1, dag_id
        assert set(dag.params) == params, dag_id
    assert dagbag.dags["export_year"].params["voorlopig"] is False  # an open year only when asked for


def test_every_dag_is_tagged_and_retries(dagbag):
    for dag in dagbag.dags.values():
        assert "outcome-monitor" in dag.tags
        assert all(task.retries >= 1 for task in dag.tasks)


def test_dag_files_import_no_heavy_libraries():
    # The DAG processor re-imports these constantly: GX, pandas, dbt and DuckDB load inside tasks only.
    import subprocess
    import sys

    probe = (
        "import runpy, sys\n"
        f"for name in ('ingest_submissions', 'transform_publish', 'close_year', 'export_year'):\n"
        f"    runpy.run_path('{REPO_ROOT / 'dags'}/' + name + '.py')\n"
        "print(sorted(m for m in ('great_expectations', 'pandas', 'dbt', 'duckdb') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"

"""The production configuration on a real PostgreSQL server: Airflow, Superset, backup and restore.

What docker-compose.yml runs, minus the containers: Airflow's four components with the warm
LocalExecutor and their metadata in PostgreSQL ingest a generated region dropped into the inbox
and publish it; Superset, its metadata in PostgreSQL too, imports the dashboards and serves chart
data from the published warehouse; the compose file's own health checks are run against the live
components; and docker/backup.sh backs everything up and restores it into a fresh home and fresh
databases, from which a rebuild publishes identical figures.

One Airflow and one Superset serve the whole module (they cost about a minute each to start).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import requests
from pg_server import REPO_ROOT, PostgresServer, compose_postgres_major, free_port

from outcome_monitor.config import Paths
from outcome_monitor.stack import airflow, superset
from outcome_monitor.stack.demo import drop_into_inbox, submission_ids, wait_until_published

pytestmark = pytest.mark.integration

BACKUP_SCRIPT = REPO_ROOT / "docker" / "backup.sh"
DASHBOARD_SLUG = superset.DASHBOARD_SLUG
PUBLISHED_TABLES = ("fct_declaration_line", "fct_indicator")
# Airflow 3 opens an async engine on its metadata database too; for PostgreSQL that is asyncpg.
ASYNC_DRIVER_MISSING = (
    "Airflow on PostgreSQL needs the asyncpg driver (settings.create_async_metadata_engine): "
    "add asyncpg to requirements/pipeline.in and locks/pipeline.txt"
)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from outcome_monitor.generate import generate

    out = tmp_path_factory.mktemp("region")
    # Half a year (about half the files of the integration test's region): the same paths, less waiting.
    truth = generate(out, seed=7, scale=0.1, defect_rate=0.03, start=date(2025, 1, 1), end=date(2025, 6, 30))
    return out, json.loads(Path(truth).read_text())


@pytest.fixture(scope="module")
def timings() -> dict[str, float]:
    measured: dict[str, float] = {}
    yield measured
    print("\nPostgreSQL suite timings (s): " + json.dumps(measured))


@pytest.fixture(scope="module")
def stack(postgres_server: PostgresServer, region, tmp_path_factory, timings):
    """Airflow on PostgreSQL, every submission dropped and published; yields (home, health port)."""
    out, _ = region
    if importlib.util.find_spec("asyncpg") is None:
        pytest.fail(ASYNC_DRIVER_MISSING)
    home = Paths(tmp_path_factory.mktemp("home"))
    port, scheduler_health_port = free_port(), free_port()
    env = pytest.MonkeyPatch()
    env.setenv("OUTCOME_MONITOR_HOME", str(home.home))
    env.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "postgres-suite-key-not-secret")
    env.setenv(airflow.DB_URL_VARIABLE, postgres_server.url("airflow"))
    env.setenv(superset.DB_URL_VARIABLE, postgres_server.url("superset"))
    # As in docker-compose.yml, on a free port: the scheduler's own health endpoint.
    env.setenv("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "True")
    env.setenv("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT", str(scheduler_health_port))
    try:
        started = time.monotonic()
        airflow.init(home, REPO_ROOT, port)
        timings["airflow_db_migrate"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        airflow.start(home, REPO_ROOT, port)
        timings["airflow_start"] = round(time.monotonic() - started, 1)
        files = sorted((out / "submissions").iterdir())
        started = time.monotonic()
        drop_into_inbox(files, home.inbox)
        reports = wait_for_feedback(home, files, timeout=600)
        # A file rejected as a whole writes no raw rows, so it triggers no build: wait for the others.
        with_rows = {r["submission_id"] for r in reports if r["counts"].get("by_record_type")}
        assert with_rows <= submission_ids(files)
        wait_until_published(home, with_rows, timeout=600)
        timings[f"inbox_to_published_{len(files)}_files"] = round(time.monotonic() - started, 1)
        yield home, port, scheduler_health_port, files
    finally:
        airflow.stop(home)
        env.undo()


@pytest.fixture(scope="module")
def superset_server(stack, postgres_server: PostgresServer, timings):
    home = stack[0]
    env = pytest.MonkeyPatch()
    env.setenv(superset.DB_URL_VARIABLE, postgres_server.url("superset"))
    env.setenv("OUTCOME_MONITOR_HOME", str(home.home))
    try:
        started = time.monotonic()
        credentials = superset.setup(home.home, home.published_warehouse, REPO_ROOT)
        timings["superset_setup"] = round(time.monotonic() - started, 1)
        port = free_port()
        started = time.monotonic()
        superset.start(home.home, port)
        timings["superset_start"] = round(time.monotonic() - started, 1)
        yield {**credentials, "url": f"http://127.0.0.1:{port}"}
    finally:
        superset.stop(home.home)
        env.undo()


def wait_for_feedback(home: Paths, files: list[Path], timeout: float) -> list[dict]:
    """Every dropped file has its feedback report, i.e. has been through an ingest run."""
    deadline = time.monotonic() + timeout
    expected = sorted(f.name for f in files)
    while True:
        reports = []
        for path in home.feedback.glob("*.json"):
            try:
                reports.append(json.loads(path.read_text()))
            except json.JSONDecodeError:
                continue  # being written
        if sorted(r["file_name"] for r in reports) == expected:
            return reports
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(reports)} of {len(files)} feedback reports after {timeout:.0f} s; see {home.logs}"
            )
        time.sleep(2)


def published_rows(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: con.execute(f"select * from {table} order by all").fetchall() for table in PUBLISHED_TABLES}


# ------------------------------------------------------------------------------------------- the server


def test_the_server_is_the_major_version_compose_runs(postgres_server, compose_file):
    assert postgres_server.major_version == compose_postgres_major(compose_file)


def test_the_init_script_gives_each_tool_its_own_database(postgres_server):
    owners = dict(postgres_server.query("select datname, pg_get_userbyid(datdba) from pg_database"))
    assert owners["airflow"] == "airflow" and owners["superset"] == "superset"
    # Superset's role cannot even connect to Airflow's database.
    with pytest.raises(AssertionError, match="permission denied"):
        postgres_server.query("select 1", database="airflow", role="superset")


# ------------------------------------------------------------------------------------------- Airflow


def test_airflow_keeps_its_metadata_in_postgresql_with_the_local_executor(stack, postgres_server):
    home, _, _, files = stack

    def airflow_query(sql: str) -> list[tuple[str, ...]]:
        return postgres_server.query(sql, database="airflow", role="airflow")

    # At least one inbox event per file (the watcher may announce a file twice, see inbox_trigger); the
    # runs they triggered all succeeded (several events may share a run).
    (inbox_events,) = airflow_query(
        "select count(*) from asset_event e join asset a on a.id = e.asset_id where a.name = 'inbox'"
    )
    assert int(inbox_events[0]) >= len(files)
    states = dict(airflow_query("select state, count(*) from dag_run where dag_id = 'ingest_submissions' group by 1"))
    failed_task_updates = [
        line
        for line in (home.logs / "airflow-api-server.log").read_text(errors="replace").splitlines()
        if "Error updating Task Instance state" in line or "Violation" in line
    ]
    assert set(states) == {"success"}, f"ingest runs by state: {states}; api-server: {failed_task_updates[:4]}"
    # The publish that the fixture waited for is in a run the scheduler marks finished a moment later.
    successful_builds = "select count(*) from dag_run where dag_id = 'transform_publish' and state = 'success'"
    deadline = time.monotonic() + 60
    while airflow_query(successful_builds) == [("0",)]:
        assert time.monotonic() < deadline, "no successful transform_publish run recorded in PostgreSQL"
        time.sleep(1)
    (schedulers,) = airflow_query("select count(*) from job where job_type = 'SchedulerJob'")
    assert int(schedulers[0]) >= 1
    # Airflow 3 no longer records the executor in the job table: the scheduler says which it loaded.
    loaded = re.findall(r"Loaded executor: (\S+)", (home.logs / "airflow-scheduler.log").read_text(errors="replace"))
    assert loaded and all(name.endswith("LocalExecutor") for name in loaded), loaded
    assert not list(home.home.rglob("airflow.db")), "no SQLite metadata beside PostgreSQL"


def test_every_submission_is_published_with_its_feedback_report(stack):
    home, _, _, files = stack
    reports = [json.loads(p.read_text()) for p in home.feedback.glob("*.json")]
    assert sorted(r["file_name"] for r in reports) == sorted(f.name for f in files)
    assert list(home.inbox.iterdir()) == [] and list(home.processing.iterdir()) == []


def test_published_figures_match_the_ground_truth(stack, region):
    home = stack[0]
    expected = region[1]["expected"]
    with duckdb.connect(str(home.published_warehouse), read_only=True) as con:
        received, rejected = con.execute(
            "select count(*), count(*) filter (where status = 'afgewezen') from fct_declaration_line"
        ).fetchone()
        indicators = con.execute(
            "select indicator_code, gemeente_code, aanbieder_agb, period, numerator, denominator "
            "from fct_indicator where indicator_code in ('UITVAL', 'VOLGENS_PLAN') and domein = 'jeugd' "
            "and productcategorie = '*' and gemeente_code <> '*' and period like '%-H_' and denominator > 0"
        ).fetchall()
    assert (received, rejected) == (expected["declaratie"]["lines_received"], expected["declaratie"]["lines_rejected"])
    assert indicators, "the region has ended trajectories, so indicators"
    assert {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in indicators} == {
        (i["indicator_code"], i["gemeente_code"], i["aanbieder_agb"], i["period"]): (i["numerator"], i["denominator"])
        for i in expected["indicators"]
        if i["denominator"] > 0
    }


def test_the_compose_health_checks_pass_against_the_running_components(stack, compose_file):
    """Each Airflow health check of docker-compose.yml, run as written against the live components."""
    home, port, scheduler_health_port, _ = stack
    env = airflow.environment(home, REPO_ROOT, port)
    from airflow.utils.net import get_hostname

    hostname = get_hostname()  # what the jobs record; in a container it is $HOSTNAME

    def check(service: str, host: str) -> subprocess.CompletedProcess:
        kind, *test = compose_file["services"][service]["healthcheck"]["test"]
        argv = ["sh", "-c", test[0]] if kind == "CMD-SHELL" else test
        argv = [a.replace(":8974/", f":{scheduler_health_port}/").replace("$$", "$") for a in argv]
        return subprocess.run(argv, env={**env, "HOSTNAME": host}, capture_output=True, text=True, timeout=120)

    for service in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        if service == "airflow-api-server":
            test = compose_file["services"][service]["healthcheck"]["test"]
            argv = [a.replace("localhost:8080", f"localhost:{port}") for a in test[1:]]
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        else:
            result = check(service, hostname)
        assert result.returncode == 0, f"{service}: {result.stdout}{result.stderr}"
    # And the job checks can fail: no triggerer runs on another host.
    assert check("airflow-triggerer", "no-such-host").returncode != 0


# ------------------------------------------------------------------------------------------- Superset


def login(url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    response = session.post(
        f"{url}/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": False},
        timeout=30,
    )
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


def test_superset_keeps_its_metadata_in_postgresql(superset_server, postgres_server, stack):
    home = stack[0]
    users = postgres_server.query("select username from ab_user", database="superset", role="superset")
    assert (superset_server["username"],) in users
    slugs = postgres_server.query("select slug from dashboards", database="superset", role="superset")
    assert (DASHBOARD_SLUG,) in slugs
    assert not (home.home / "superset" / "superset.db").exists(), "no SQLite metadata beside PostgreSQL"


def test_chart_data_from_superset_on_postgresql_matches_the_warehouse(superset_server, stack):
    home = stack[0]
    session = login(superset_server["url"], superset_server["username"], superset_server["password"])
    charts = session.get(f"{superset_server['url']}/api/v1/dashboard/{DASHBOARD_SLUG}/charts", timeout=60)
    assert charts.status_code == 200, charts.text
    chart_ids = {chart["slice_name"]: chart["id"] for chart in charts.json()["result"]}
    response = session.get(
        f"{superset_server['url']}/api/v1/chart/{chart_ids['Totaal gedeclareerd']}/data/", timeout=60
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["result"]
    with duckdb.connect(str(home.published_warehouse), read_only=True) as con:
        (total,) = con.execute("select sum(bedrag_euro) from rpt_raad__gedeclareerd where domein = 'jeugd'").fetchone()
    assert total > 0
    assert result["data"] == [{"gedeclareerd_euro": pytest.approx(total, rel=1e-9)}]


def test_superset_setup_again_on_postgresql_keeps_the_admin(superset_server, stack, postgres_server):
    home = stack[0]
    with pytest.MonkeyPatch.context() as env:
        env.setenv(superset.DB_URL_VARIABLE, postgres_server.url("superset"))
        again = superset.setup(home.home, home.published_warehouse, REPO_ROOT)
    assert again["password"] == superset_server["password"]
    log = (home.logs / "superset-setup.log").read_text()
    assert "db upgrade and init skipped" in log.split("== set-up of")[-1], "the admin was found in PostgreSQL"
    count = postgres_server.query(
        f"select count(*) from dashboards where slug = '{DASHBOARD_SLUG}'", database="superset", role="superset"
    )
    assert count == [("1",)], "imported again in place, not duplicated"


# ------------------------------------------------------------------------------------------- backup and restore


def test_backup_and_restore_rebuild_identical_published_figures(
    stack, superset_server, postgres_server, tmp_path, timings
):
    """docker/backup.sh, as the compose `backup` service runs it: back up, restore elsewhere, rebuild, compare."""
    from outcome_monitor.build import build_and_publish

    home = stack[0]
    original = published_rows(home.published_warehouse)
    as_of = json.loads((home.published / "build.json").read_text())["as_of_date"]
    backup = tmp_path / "backup"
    script_env = {**postgres_server.client_env(), "OUTCOME_MONITOR_HOME": str(home.home)}

    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BACKUP_SCRIPT), "backup", str(backup)], env=script_env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    timings["backup"] = round(time.monotonic() - started, 1)
    assert {p.name for p in backup.iterdir()} == {"files.tar.gz", "airflow.dump", "superset.dump", "SHA256SUMS"}

    # A fresh machine: an empty home and empty databases, owned by the roles the init script creates.
    restored = Paths(tmp_path / "restored-home")
    for database, owner in (("airflow_restored", "airflow"), ("superset_restored", "superset")):
        postgres_server.run("createdb", "--owner", owner, database)
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BACKUP_SCRIPT), "restore", str(backup)],
        env={
            **script_env,
            "OUTCOME_MONITOR_HOME": str(restored.home),
            "AIRFLOW_DB_NAME": "airflow_restored",
            "SUPERSET_DB_NAME": "superset_restored",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    timings["restore"] = round(time.monotonic() - started, 1)
    # Restoring twice would mix two histories: the script refuses a home that has a raw zone.
    again = subprocess.run(
        ["bash", str(BACKUP_SCRIPT), "restore", str(backup)],
        env={**script_env, "OUTCOME_MONITOR_HOME": str(restored.home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 1 and "not empty" in again.stderr

    started = time.monotonic()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OUTCOME_MONITOR_HOME", str(restored.home))
        build_and_publish(restored, as_of_date=as_of)
    timings["rebuild"] = round(time.monotonic() - started, 1)

    rebuilt = published_rows(restored.published_warehouse)
    assert all(original[table] for table in PUBLISHED_TABLES)
    for table in PUBLISHED_TABLES:
        assert len(rebuilt[table]) == len(original[table]), table
        assert rebuilt[table] == original[table], f"{table} differs after restore"

    # The metadata came back too, owned by the tools' own roles.
    def same(sql: str, database: str, role: str) -> None:
        assert postgres_server.query(sql, f"{database}_restored", role) == postgres_server.query(sql, database, role)

    same("select dag_id, run_id, state from dag_run order by 1, 2", "airflow", "airflow")
    same("select username, active from ab_user order by 1", "superset", "superset")
    same("select slug, dashboard_title from dashboards order by 1", "superset", "superset")
    tables = postgres_server.query(
        "select tablename, tableowner from pg_tables where schemaname = 'public' and tableowner <> 'airflow'",
        database="airflow_restored",
    )
    assert tables == []

"""Transform and publish: raw-zone Parquet -> dbt build -> mart checks -> atomic swap.

The published warehouse (``published/warehouse.duckdb``) is only ever replaced, never written:
DuckDB allows one writer or many readers, and Superset keeps reading the published file while a
build runs. So every build goes into a fresh ``build/warehouse.next.duckdb``; when dbt's own tests
and the Great Expectations mart suites pass, ``os.replace`` swaps it in. A reader that opened the
old file keeps its (unlinked) copy; the next connection sees the new one. A failed build or
check leaves the published file exactly as it was.

The Airflow DAG calls ``run_dbt``, ``check_marts`` and ``publish`` as separate tasks (one run at a
time); ``build_and_publish`` chains them for the CLI and the tests. dbt and Great Expectations
take seconds to import, so they are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths
from outcome_monitor.raw_zone import ensure_schema_files
from outcome_monitor.relational_feedback import update_feedback_reports

DBT_PROJECT_DIR = Path(
    os.environ.get("OUTCOME_MONITOR_DBT_PROJECT", Path(__file__).resolve().parents[2] / "dbt_project")
)
NEXT_WAREHOUSE_NAME = "warehouse.next.duckdb"
BUILD_INFO_NAME = "build.json"
# expectations/mart_<table>.json checks the mart table <table> of the built warehouse.
MART_SUITE_PREFIX = "mart_"
log = logging.getLogger(__name__)

# Tables counted in build.json: the marts and the dashboard tables, not seeds or staging.
PUBLISHED_TABLE_PREFIXES = ("fct_", "rpt_")


class BuildError(RuntimeError):
    """The build cannot be published; the message says which node or check failed and why."""


@dataclass(frozen=True)
class MartCheck:
    """One mart expectation's verdict, flat and JSON-serialisable for the task's return value."""

    table: str
    expectation_type: str
    code: str
    severity: str
    message: str
    success: bool
    failed_row_count: int
    error: str | None = None

    def describe(self) -> str:
        detail = self.error or f"{self.failed_row_count} rijen"
        return f"{self.table}: {self.expectation_type} [{self.code}] {self.message} ({detail})"


# --- small helpers (pure, unit-tested) ---------------------------------------------------------


def build_dir(paths: Paths, workspace: str | None = None) -> Path:
    """Where a build writes: ``build/`` or, for a caller that may run beside the transform, ``build/<workspace>/``."""
    return paths.build / workspace if workspace else paths.build


def next_warehouse_path(paths: Paths, workspace: str | None = None) -> Path:
    return build_dir(paths, workspace) / NEXT_WAREHOUSE_NAME


def wal_path(db_path: Path) -> Path:
    """DuckDB's write-ahead log beside a database file; present only if it was not closed cleanly."""
    return db_path.with_name(db_path.name + ".wal")


def normalise_as_of_date(as_of_date: dt.date | str | None) -> str | None:
    """``YYYY-MM-DD`` or None (dbt then uses the current date); anything else is an error."""
    if as_of_date is None:
        return None
    if isinstance(as_of_date, dt.datetime):
        as_of_date = as_of_date.date()
    if isinstance(as_of_date, dt.date):
        return as_of_date.isoformat()
    try:
        return dt.date.fromisoformat(str(as_of_date)).isoformat()
    except ValueError as exc:
        raise BuildError(f"as_of_date {as_of_date!r} is geen datum (JJJJ-MM-DD)") from exc


def dbt_build_args(
    paths: Paths, as_of_date: dt.date | str | None = None, unit_tests: bool = True, workspace: str | None = None
) -> list[str]:
    """The arguments of the in-process ``dbt build``: project from the repo, state under build/."""
    dbt_dir = build_dir(paths, workspace) / "dbt"
    args = [
        "build",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(dbt_dir / "target"),
        "--log-path", str(dbt_dir / "logs"),
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
        "--no-use-colors",
    ]  # fmt: skip
    as_of = normalise_as_of_date(as_of_date)
    if as_of is not None:
        args += ["--vars", json.dumps({"as_of_date": as_of})]
    if not unit_tests:
        # Unit tests check the SQL against fixed rows, not the data: CI runs them, an event's rebuild need not.
        args += ["--exclude-resource-type", "unit_test"]
    return args


def dbt_failures(results: Iterable[Any], statuses: tuple[str, ...] = ("error", "fail")) -> list[str]:
    """``<unique_id>: <message>`` for each node dbt reports with one of `statuses`.

    By default the errors and failed tests; skipped nodes are only their consequence.
    """
    found = []
    for result in results:
        status = str(getattr(result.status, "value", result.status)).lower()
        if status in statuses:
            message = " ".join(str(result.message or "").split())
            found.append(f"{result.node.unique_id}: {message}")
    return found


def mart_suites(expectations_dir: Path) -> dict[str, str]:
    """Suite name -> mart table, for every ``mart_<table>.json`` in `expectations_dir`."""
    return {
        path.stem: path.stem.removeprefix(MART_SUITE_PREFIX)
        for path in sorted(expectations_dir.glob(f"{MART_SUITE_PREFIX}*.json"))
    }


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of an in-process dbt run, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _release_dbt_connections() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an in-process run.

    dbt-duckdb caches its DuckDB instance on a class attribute; while it lives, this process cannot
    open the built file read-only (DuckDB refuses a second configuration for one file) and the
    file may not be checkpointed. Closing it here makes the build file complete and free.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    reset_adapters()  # closes dbt's connections (DuckDB cursors)
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()  # closes the DuckDB connection itself
    DuckDBConnectionManager.close_all_connections()


def _remove_database(db_path: Path) -> None:
    for path in (db_path, wal_path(db_path)):
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomically(path: Path, payload: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, path)


# --- the tasks ----------------------------------------------------------------------------------


def run_dbt(
    paths: Paths, as_of_date: dt.date | str | None = None, unit_tests: bool = True, workspace: str | None = None
) -> Path:
    """``dbt build`` (seeds, models, dbt tests and unit tests) of the raw zone into a new file.

    Returns ``build/warehouse.next.duckdb`` (``build/<workspace>/...`` if given: the year close builds
    there, so it never shares a file with a transform run beside it). A leftover from an earlier,
    failed run is deleted first, so a retry starts clean. Raises BuildError naming each failing node
    and dbt's message.
    """
    from dbt.cli.main import dbtRunner

    ensure_schema_files(paths)
    db_path = next_warehouse_path(paths, workspace)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _remove_database(db_path)

    env = {
        "OUTCOME_MONITOR_HOME": str(paths.home),
        "OUTCOME_MONITOR_BUILD_DB": str(db_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    with _environ(env):
        try:
            result = dbtRunner().invoke(dbt_build_args(paths, as_of_date, unit_tests, workspace))
        finally:
            _release_dbt_connections()

    results = getattr(result.result, "results", None) or []
    for warning in dbt_failures(results, statuses=("warn",)):
        log.warning("dbt waarschuwing: %s", warning)
    if result.success:
        from outcome_monitor.year_end.layout import YearEndError
        from outcome_monitor.year_end.overlay import apply_closed_years

        try:
            apply_closed_years(db_path, paths)  # closed years' figures come from their snapshots
        except YearEndError as error:
            raise BuildError(f"jaarafsluiting: {error}") from error
        return db_path
    if result.exception is not None:
        raise BuildError(f"dbt build mislukt: {result.exception}") from result.exception
    failures = dbt_failures(results)
    detail = "; ".join(failures) or "geen foutmelding van dbt; zie de dbt-log in build/dbt/logs"
    raise BuildError(f"dbt build mislukt: {detail}")


def check_marts(db_path: Path | str) -> list[MartCheck]:
    """Run every ``expectations/mart_<table>.json`` suite on its table of the built warehouse.

    DuckDB counts the failing rows inside the (read-only) warehouse file, one query per mart
    (``validation/mart_rules.py``): no mart is copied into pandas, and Great Expectations is not needed.
    Returns all outcomes; raises BuildError naming the failed expectations and their codes if any
    expectation with severity ``afwijzing`` fails (``signalering`` failures are only returned).
    """
    import duckdb

    from outcome_monitor.validation import gx_runner, mart_rules
    from outcome_monitor.validation.sql_rules import Untranslatable

    db_path = Path(db_path)
    suites = mart_suites(gx_runner.EXPECTATIONS_DIR)
    if not suites:
        raise BuildError(f"geen mart-suites ({MART_SUITE_PREFIX}*.json) in {gx_runner.EXPECTATIONS_DIR}")

    checks = []
    with duckdb.connect(str(db_path), read_only=True, config={"enable_external_access": False}) as con:
        for suite_name, table in suites.items():
            try:
                outcomes = mart_rules.count_failures(con, table, gx_runner.load_suite(suite_name))
            except duckdb.CatalogException as exc:
                raise BuildError(f"mart {table} ontbreekt in {db_path.name}") from exc
            except Untranslatable as exc:
                raise BuildError(f"{suite_name}.json: regel niet naar DuckDB-SQL te vertalen ({exc})") from exc
            checks.extend(MartCheck(table=table, **asdict(outcome)) for outcome in outcomes)
    failed = [check for check in checks if not check.success and check.severity == "afwijzing"]
    if failed:
        raise BuildError("mart-controle mislukt: " + "; ".join(check.describe() for check in failed))
    return checks


def describe_warehouse(db_path: Path) -> dict[str, Any]:
    """What build.json records: peildatum, row count per mart, submissions included."""
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' and table_type = 'BASE TABLE' order by table_name"
            ).fetchall()
            if name.startswith(PUBLISHED_TABLE_PREFIXES)
        ]
        row_counts = {name: con.execute(f'select count(*) from main."{name}"').fetchone()[0] for name in tables}
        submissions = [
            submission_id
            for (submission_id,) in con.execute(
                "select distinct submission_id from main.fct_submission order by submission_id"
            ).fetchall()
        ]
        info = con.execute("select as_of_date, dbt_invocation_id from main.rpt_build_info").fetchone()
    return {
        "as_of_date": info[0].isoformat() if info else None,
        "dbt_invocation_id": info[1] if info else None,
        "row_counts": row_counts,
        "submissions": submissions,
    }


def publish(db_path: Path | str, paths: Paths) -> Path:
    """Swap the checked build onto ``published/warehouse.duckdb`` atomically; write build.json.

    Refuses a database with a ``.wal`` beside it (its writer did not close cleanly, so the file
    alone is not the whole database). Open read-only readers of the old file are not disturbed.
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        raise BuildError(f"{db_path} bestaat niet: niets te publiceren")
    if wal_path(db_path).exists():
        raise BuildError(f"{wal_path(db_path).name} staat nog naast {db_path.name}: build niet netjes afgesloten")

    from outcome_monitor.year_end.layout import YearEndError, YearEndLayout
    from outcome_monitor.year_end.overlay import apply_closed_years

    # Under the year-end lock, so a close or reopen cannot slip between the overlay and the swap.
    with YearEndLayout.of(paths).lock():
        try:
            # Again, cheaply: a year closed while this build ran must not be published as open.
            apply_closed_years(db_path, paths)
        except YearEndError as error:
            raise BuildError(f"jaarafsluiting: {error}") from error
        info = {
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **describe_warehouse(db_path),
        }
        target = paths.published_warehouse
        target.parent.mkdir(parents=True, exist_ok=True)
        source = db_path
        if db_path.stat().st_dev != target.parent.stat().st_dev:
            # os.replace is only atomic within one file system: copy next to the target first.
            source = target.with_name(target.name + ".incoming")
            shutil.copyfile(db_path, source)
        _fsync(source)
        os.replace(source, target)
        if source != db_path:
            db_path.unlink()
        _write_json_atomically(paths.published / BUILD_INFO_NAME, info)
    return target


def build_and_publish(paths: Paths, as_of_date: dt.date | str | None = None) -> dict[str, Any]:
    """run_dbt -> check_marts -> publish; nothing is published unless all three succeed."""
    started = time.perf_counter()
    db_path = run_dbt(paths, as_of_date)
    built = time.perf_counter()
    checks = check_marts(db_path)
    checked = time.perf_counter()
    published = publish(db_path, paths)
    rewritten = update_feedback_reports(published, paths)
    done = time.perf_counter()
    info = json.loads((paths.published / BUILD_INFO_NAME).read_text(encoding="utf-8"))
    return {
        **info,
        "published": str(published),
        "checks": [asdict(check) for check in checks],
        "feedback_rewritten": rewritten,
        "durations_seconds": {
            "dbt": round(built - started, 2),
            "checks": round(checked - built, 2),
            "publish_and_feedback": round(done - checked, 2),
        },
    }

"""Close and reopen a verslagjaar.

A close builds the warehouse afresh from the current raw zone, freezes the year's rows of every
controller table as a snapshot, overlays all closed years (this one included), checks the marts
and only then records the close in the audit log and publishes: the published warehouse shows
the year as 'afgesloten' at once, and a failed build or check leaves no close behind. A reopen is
recorded with its reason and rebuilds, so the live figures are published again.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths
from outcome_monitor.raw_zone import committed_submissions
from outcome_monitor.year_end.audit import (
    AuditEntry,
    append_entry,
    current_user,
    now_utc,
    read_entries,
    state_of,
    year_states,
)
from outcome_monitor.year_end.layout import YearEndError, YearEndLayout
from outcome_monitor.year_end.overlay import apply_overlay
from outcome_monitor.year_end.provenance import code_version, submissions_manifest
from outcome_monitor.year_end.snapshot import Snapshot, write_snapshot, year_row_counts


class PackageNotStored(YearEndError):
    """The year is closed and published, but its auditor's package could not be put in the store."""


def _refuse_if_closed(layout: YearEndLayout, year: int, request_id: str | None) -> bool:
    """False if the year is open; True if a retry of `request_id` finds its own close; else refuses."""
    state = state_of(layout, year)
    if not state.closed:
        return False
    close = state.last_close
    if request_id is not None and close.request_id == request_id:
        return True
    raise YearEndError(
        f"Verslagjaar {year} is al afgesloten (snapshot {close.snapshot_id}, op {close.at} door {close.who}). "
        f'Heropen het eerst met: outcome-monitor reopen-year {year} --reason "..."'
    )


def freeze_year(
    db_path: Path,
    paths: Paths,
    year: int,
    *,
    who: str,
    reason: str | None = None,
    request_id: str | None = None,
    submissions: list[dict[str, Any]],
) -> tuple[Snapshot, AuditEntry]:
    """Snapshot `year` from the built warehouse and overlay it there; returns the entry still to record.

    The caller checks the marts, then appends the entry (under the layout lock) and publishes.
    """
    import duckdb

    from outcome_monitor.build import DBT_PROJECT_DIR

    layout = YearEndLayout.of(paths)
    created_at = now_utc().isoformat(timespec="seconds")
    with duckdb.connect(str(db_path), read_only=True) as con:
        counts = year_row_counts(con, year)
        if not counts:
            raise YearEndError(
                f"{db_path.name} heeft geen rpt_controller__-tabellen met een kolom verslagjaar: "
                f"er is niets om verslagjaar {year} mee af te sluiten"
            )
        if not any(counts.values()):
            raise YearEndError(
                f"Verslagjaar {year} heeft geen gegevens in {', '.join(counts)}: er valt niets af te sluiten"
            )
        snapshot = write_snapshot(
            con,
            layout,
            year,
            created_at=created_at,
            created_by=who,
            submissions=submissions,
            code_version=code_version(DBT_PROJECT_DIR),
            build=_build_info(con),
        )
    entry = AuditEntry(
        at=created_at,
        who=who,
        action="close",
        year=year,
        snapshot_id=snapshot.snapshot_id,
        reason=reason,
        request_id=request_id,
    )
    states = year_states([*read_entries(layout), entry])
    apply_overlay(db_path, paths, states)
    return snapshot, entry


def _build_info(con) -> dict[str, Any]:
    """The peildatum and dbt invocation of the build the snapshot was taken from (rpt_build_info)."""
    import duckdb

    try:
        row = con.execute("select as_of_date, dbt_invocation_id from main.rpt_build_info").fetchone()
    except duckdb.CatalogException:  # a hand-made warehouse without it
        return {}
    return {"as_of_date": row[0].isoformat(), "dbt_invocation_id": row[1]} if row else {}


def close_year(
    paths: Paths,
    year: int,
    *,
    who: str | None = None,
    reason: str | None = None,
    request_id: str | None = None,
    as_of_date: dt.date | str | None = None,
) -> dict[str, Any]:
    """Build, freeze `year`, check, record, publish. Returns what was done, with timings in seconds."""
    from outcome_monitor.build import check_marts, publish, run_dbt
    from outcome_monitor.relational_feedback import update_feedback_reports

    year = int(year)
    who = who or current_user()
    layout = YearEndLayout.of(paths)
    with layout.lock():
        if _refuse_if_closed(layout, year, request_id):
            published = publish_with_overlay(paths, as_of_date)
            state = state_of(layout, year)
            package = _store_package(paths, year, state.snapshot_id)
            return {"verslagjaar": year, "snapshot_id": state.snapshot_id, "herhaald": True, **published, **package}
        timings: dict[str, float] = {}
        started = time.perf_counter()
        submissions = submissions_manifest(paths)
        timings["manifest"] = time.perf_counter() - started
        db_path = run_dbt(paths, as_of_date, workspace="close")  # never the file a transform run builds
        timings["dbt"] = time.perf_counter() - started - sum(timings.values())
        if committed_submissions(paths) != [s["submission_id"] for s in submissions]:
            # dbt may or may not have read it: the manifest would not be exactly what the figures came from.
            raise YearEndError(
                f"Tijdens het afsluiten van {year} kwam een nieuwe aanlevering binnen; "
                "niet afgesloten, probeer het opnieuw"
            )
        snapshot, entry = freeze_year(
            db_path, paths, year, who=who, reason=reason, request_id=request_id, submissions=submissions
        )
        timings["snapshot_and_overlay"] = time.perf_counter() - started - sum(timings.values())
        check_marts(db_path)
        timings["checks"] = time.perf_counter() - started - sum(timings.values())
        recorded = append_entry(layout, entry)
        published = publish(db_path, paths)
        update_feedback_reports(published, paths)
        timings["publish"] = time.perf_counter() - started - sum(timings.values())
        package = _store_package(paths, year, snapshot.snapshot_id)
        timings["package"] = time.perf_counter() - started - sum(timings.values())
    return {
        "verslagjaar": year,
        "snapshot_id": snapshot.snapshot_id,
        "snapshot": str(snapshot.folder),
        "tabellen": {table: info["rows"] for table, info in snapshot.tables.items()},
        "aanleveringen": len(submissions),
        "audit": asdict(recorded),
        "published": str(published),
        **package,
        "durations_seconds": {name: round(seconds, 2) for name, seconds in timings.items()},
    }


def _store_package(paths: Paths, year: int, snapshot_id: str) -> dict[str, Any]:
    """The auditor's package of the close in the package store (a retried close reuses its own)."""
    from outcome_monitor.year_end.export import ExportError
    from outcome_monitor.year_end.package_store import ensure_closed_package

    try:
        return {"pakket": ensure_closed_package(paths, year, snapshot_id).summary()}
    except (ExportError, OSError) as error:
        raise PackageNotStored(
            f"verslagjaar {year} is afgesloten (snapshot {snapshot_id}), maar het pakket voor de accountant is "
            f"niet gemaakt: {error}. Maak het met de DAG export_year, of herhaal de afsluiting"
        ) from error


def reopen_year(
    paths: Paths,
    year: int,
    *,
    reason: str,
    who: str | None = None,
    rebuild: bool = True,
    as_of_date: dt.date | str | None = None,
) -> dict[str, Any]:
    """Record the reopen (a reason is required); by default rebuild and publish the live figures."""
    year = int(year)
    reason = (reason or "").strip()
    if not reason:
        raise YearEndError(f'Heropenen van {year} vraagt een reden: outcome-monitor reopen-year {year} --reason "..."')
    layout = YearEndLayout.of(paths)
    with layout.lock():
        state = state_of(layout, year)
        if not state.closed:
            raise YearEndError(f"Verslagjaar {year} is niet afgesloten: er valt niets te heropenen")
        entry = AuditEntry(
            at=now_utc().isoformat(timespec="seconds"),
            who=who or current_user(),
            action="reopen",
            year=year,
            snapshot_id=state.snapshot_id,
            reason=reason,
        )
        recorded = append_entry(layout, entry)
        result: dict[str, Any] = {"verslagjaar": year, "audit": asdict(recorded)}
        if rebuild:
            result |= publish_with_overlay(paths, as_of_date)
    return result


def publish_with_overlay(paths: Paths, as_of_date: dt.date | str | None = None) -> dict[str, Any]:
    """A normal build and publish: run_dbt overlays the closed years' snapshots on every build."""
    from outcome_monitor.build import build_and_publish

    return {"published": build_and_publish(paths, as_of_date)["published"]}

"""Airflow DAG: one run per file that lands in the inbox (event-driven, no polling schedule).

The InboxTrigger claims each complete file and the run ingests it: archive, parse, check,
pseudonymise, write the raw zone and the provider's feedback report. Each successful run emits
the `raw.<record_type>` asset events (with the submission ids it wrote), which schedule the
transform DAG.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, AssetWatcher, dag, task

from outcome_monitor.config import RECORD_TYPES, paths
from outcome_monitor.stack.inbox_trigger import InboxTrigger

_paths = paths()
inbox = Asset(
    "inbox",
    uri=f"file://{_paths.inbox}",
    watchers=[
        AssetWatcher(
            name="inbox_watcher",
            trigger=InboxTrigger(inbox=str(_paths.inbox), processing=str(_paths.processing)),
        )
    ],
)
RAW_ASSETS = {record_type: Asset(f"raw.{record_type}") for record_type in RECORD_TYPES}


@dag(
    dag_id="ingest_submissions",
    schedule=[inbox],
    catchup=False,
    max_active_runs=8,
    tags=["outcome-monitor", "ingest"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
    doc_md=__doc__,
)
def ingest_submissions():
    # Fixed outlets, not an AssetAlias: on PostgreSQL, concurrent runs linking an alias to its assets
    # collide on asset_alias_asset_pkey and fail a run whose work was done (seen in tests/postgres).
    @task(outlets=list(RAW_ASSETS.values()))
    def ingest(*, triggering_asset_events=None, outlet_events=None) -> list[dict]:
        from outcome_monitor.stack.tasks import ingest_claimed_file, record_types_of

        summaries = []
        for event in triggering_asset_events[inbox]:
            report = ingest_claimed_file(event.extra["payload"])
            if report is None:
                continue
            for record_type in record_types_of(report):
                ids = outlet_events[RAW_ASSETS[record_type]].extra.setdefault("submission_ids", [])
                ids.append(report["submission_id"])
            summaries.append({key: report[key] for key in ("submission_id", "file_name", "status", "counts")})
        return summaries

    ingest()


ingest_submissions()

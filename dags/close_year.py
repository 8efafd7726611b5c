"""Airflow DAG: a controller closes a verslagjaar (trigger with the year as parameter).

The task builds the warehouse afresh, freezes the year as a snapshot, records the close in the
audit log with the triggering user, publishes and puts the auditor's package in the package store
(outcome_monitor.year_end.close; controllers download it at /jaarafsluiting/ in Superset). No schedule:
it runs only when triggered, one at a time. A retry of the same run recognises its own close.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, Param, dag, get_current_context, task

published = Asset("published")


@dag(
    dag_id="close_year",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    tags=["outcome-monitor", "jaarafsluiting"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    params={
        "verslagjaar": Param(type="integer", minimum=2015, maximum=2100, description="Het jaar dat wordt afgesloten"),
        "reden": Param("", type="string", description="Toelichting voor het auditlog (optioneel)"),
    },
    doc_md=__doc__,
)
def close_year():
    @task(outlets=[published])
    def close() -> dict:
        from outcome_monitor.config import paths
        from outcome_monitor.year_end.close import close_year as close_verslagjaar

        context = get_current_context()
        run = context["dag_run"]
        params = context["params"]
        return close_verslagjaar(
            paths(),
            int(params["verslagjaar"]),
            who=run.triggering_user_name or f"airflow:{run.dag_id}",
            reason=params["reden"] or None,
            request_id=f"airflow:{run.dag_id}:{run.run_id}",
        )

    close()


close_year()

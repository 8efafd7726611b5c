"""Year-end close: freeze a verslagjaar's controller figures as a snapshot, overlay it on every build.

Storage under ``$OUTCOME_MONITOR_HOME/year_end/`` (see ``layout``): immutable snapshots named by
their content hash and an append-only audit log from which the state of every year is derived.
``close`` closes and reopens a year, ``overlay.apply_closed_years`` runs after each dbt build.
Kept free of imports so the close_year DAG stays light.
"""

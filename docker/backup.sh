#!/usr/bin/env bash
# Back up or restore what cannot be rebuilt: the raw zone, the archive, the year-end snapshots with
# their audit log, the auditor's packages, the feedback reports and upload records (one tar) and the two metadata databases (pg_dump, custom format).
# The published warehouse is not backed up: `outcome-monitor build` rebuilds it from the raw zone.
#
#   backup.sh backup  <folder>   writes files.tar.gz, airflow.dump, superset.dump, SHA256SUMS
#   backup.sh restore <folder>   into an EMPTY home and EMPTY (freshly created) databases
#
# Reads OUTCOME_MONITOR_HOME and the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD); the
# database names default to airflow and superset (AIRFLOW_DB_NAME, SUPERSET_DB_NAME), and so do the
# roles that own them (AIRFLOW_DB_ROLE, SUPERSET_DB_ROLE).
# docker-compose.yml runs it as the `backup` service; tests/postgres runs it against a real server.
set -euo pipefail

usage() { echo "usage: $0 backup|restore <folder>" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
folder=$2
home=${OUTCOME_MONITOR_HOME:?OUTCOME_MONITOR_HOME is not set}
airflow_db=${AIRFLOW_DB_NAME:-airflow}
superset_db=${SUPERSET_DB_NAME:-superset}
airflow_role=${AIRFLOW_DB_ROLE:-airflow}
superset_role=${SUPERSET_DB_ROLE:-superset}
# What the pipeline cannot derive again; raw/_staging holds half-written submissions only.
parts=(raw archive year_end exports feedback uploads)

case $action in
backup)
    mkdir -p "$folder"
    present=()
    for part in "${parts[@]}"; do [[ -d $home/$part ]] && present+=("$part"); done
    # The metadata first: a submission committed meanwhile is in the tar and simply not yet in Airflow's history.
    pg_dump --format=custom --dbname="$airflow_db" --file="$folder/airflow.dump"
    pg_dump --format=custom --dbname="$superset_db" --file="$folder/superset.dump"
    tar --create --gzip --file="$folder/files.tar.gz" --directory="$home" --exclude=raw/_staging "${present[@]}"
    (cd "$folder" && sha256sum files.tar.gz airflow.dump superset.dump > SHA256SUMS)
    echo "backup written to $folder: ${present[*]} + $airflow_db + $superset_db"
    ;;
restore)
    (cd "$folder" && sha256sum --check --quiet SHA256SUMS)
    if [[ -d $home/raw/submissions ]] && [[ -n $(ls -A "$home/raw/submissions") ]]; then
        echo "error: $home/raw/submissions is not empty: restore only into an empty home" >&2
        exit 1
    fi
    mkdir -p "$home"
    tar --extract --gzip --file="$folder/files.tar.gz" --directory="$home"
    # Every restored object belongs to the database's own role, as when Airflow and Superset created it.
    pg_restore --exit-on-error --no-owner --role="$airflow_role" --dbname="$airflow_db" "$folder/airflow.dump"
    pg_restore --exit-on-error --no-owner --role="$superset_role" --dbname="$superset_db" "$folder/superset.dump"
    echo "restored $folder into $home, $airflow_db and $superset_db; now rebuild: outcome-monitor build"
    ;;
*)
    usage
    ;;
esac

#!/usr/bin/env bash
# Creates the Airflow and Superset metadata databases, each owned by its own role with the password
# from .env. The postgres image runs it once, on the first start of an empty data volume
# (/docker-entrypoint-initdb.d); tests/postgres runs the same script against a real server.
# Passwords reach SQL as psql variables (:'name' quotes them), never pasted into the statement text.
set -eo pipefail  # no -u: the postgres image may source this file into its own entrypoint

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is empty: set it in .env}"
: "${SUPERSET_DB_PASSWORD:?SUPERSET_DB_PASSWORD is empty: set it in .env}"

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" -v superset_password="$SUPERSET_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow ENCODING 'UTF8';
CREATE ROLE superset LOGIN PASSWORD :'superset_password';
CREATE DATABASE superset OWNER superset ENCODING 'UTF8';
REVOKE ALL ON DATABASE airflow FROM PUBLIC;
REVOKE ALL ON DATABASE superset FROM PUBLIC;
SQL

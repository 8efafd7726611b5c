-- Metadata databases for Airflow and Superset; passwords are set by the operator after first start
-- (ALTER ROLE ... PASSWORD), never in this file.
CREATE ROLE airflow LOGIN;
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE superset LOGIN;
CREATE DATABASE superset OWNER superset;

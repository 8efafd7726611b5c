"""Running the parts of the stack (Airflow, Superset) on one machine, and the demo that ties them together."""

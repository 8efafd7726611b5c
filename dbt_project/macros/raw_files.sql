{#
    True when the raw-zone location of source('raw', <table_name>) matches at least one file.

    `ensure_schema_files` writes an empty typed Parquet file for every record type in
    raw_schema.SCHEMAS, so for those this is always true. It guards the sources that may exist
    before ingest writes them (record types still being added to the contract, and the submission
    manifests, which are JSON and have no empty schema file): DuckDB refuses a glob that matches
    nothing, and an empty raw zone must still build. The path is taken from the source's own
    external location, so the source definition stays the single place that names it.
    During parsing (no database) it answers true, so that dbt records the dependency on the source.
#}
{% macro raw_source_has_files(table_name) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set location = source('raw', table_name) | string -%}
    {%- set pattern = location.split("'")[1] -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {{ return(found > 0) }}
{%- endmacro %}

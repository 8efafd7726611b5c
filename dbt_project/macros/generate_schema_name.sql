{#
    Use a model's custom schema as it is (`staging`, `intermediate`) instead of dbt's default
    `<target schema>_<custom schema>`; everything without one (marts, rpt_, seeds) lands in `main`,
    which is what Superset and the exports read.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

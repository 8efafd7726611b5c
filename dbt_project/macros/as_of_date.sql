{#
    The peildatum as a SQL date expression: var `as_of_date` ('YYYY-MM-DD') when given, else the
    current date. Indicator status (voorlopig/definitief) depends on it, so a rebuild with the same
    var gives the same figures.
#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value == '' -%}
        current_date
    {%- else -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}

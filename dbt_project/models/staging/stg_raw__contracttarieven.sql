-- Contract tariffs delivered by the municipality. Until the first contracttarief submission exists
-- (and before the record type has its empty schema file) this is an empty, typed relation.
with

{% if raw_source_has_files('contracttarief') %}
source as (
    select * from {{ source('raw', 'contracttarief') }}
),
{% else %}
source as (
    select
        cast(null as varchar) as submission_id,
        cast(null as varchar) as member_name,
        cast(null as integer) as line_number,
        cast(null as varchar) as domein,
        cast(null as varchar) as gemeente_code,
        cast(null as varchar) as aanbieder_agb,
        cast(null as varchar) as productcode,
        cast(null as varchar) as eenheid,
        cast(null as bigint) as tarief_cents,
        cast(null as date) as ingangsdatum,
        cast(null as date) as einddatum,
        cast(null as varchar) as status
    where false
),
{% endif %}

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as contracttarief_record_id,
        submission_id,
        member_name,
        line_number,

        -- dimensions
        domein,
        gemeente_code,
        aanbieder_agb,
        productcode,
        eenheid,
        status,
        status = 'geaccepteerd' as is_accepted,

        -- measures
        cast(tarief_cents as bigint) as tarief_cents,

        -- dates
        cast(ingangsdatum as date) as start_date,
        cast(einddatum as date) as end_date

    from source
)

select * from renamed

-- Annual production statements. Empty (typed) until the first productieverantwoording submission exists.
with

{% if raw_source_has_files('productieverantwoording') %}
source as (
    select * from {{ source('raw', 'productieverantwoording') }}
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
        cast(null as integer) as jaar,
        cast(null as varchar) as status
    where false
),
{% endif %}

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as productieverantwoording_record_id,
        submission_id,
        member_name,
        line_number,

        -- dimensions
        domein,
        gemeente_code,
        aanbieder_agb,
        cast(jaar as integer) as jaar,
        status,
        status = 'geaccepteerd' as is_accepted

    from source
)

select * from renamed

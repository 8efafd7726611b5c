-- Outcome measurements. Empty (typed) until the first uitkomst submission exists.
with

{% if raw_source_has_files('uitkomst') %}
source as (
    select * from {{ source('raw', 'uitkomst') }}
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
        cast(null as varchar) as client_pseudonym,
        cast(null as varchar) as toewijzingnummer,
        cast(null as date) as meetdatum,
        cast(null as varchar) as informant,
        cast(null as bigint) as tevredenheid,
        cast(null as varchar) as zonder_hulp_verder,
        cast(null as bigint) as doelrealisatie,
        cast(null as varchar) as status
    where false
),
{% endif %}

renamed as (
    select
        -- ids
        submission_id || '/' || coalesce(member_name, '') || '#' || cast(line_number as varchar)
            as uitkomst_record_id,
        submission_id,
        member_name,
        line_number,
        toewijzingnummer,
        client_pseudonym,

        -- dimensions
        domein,
        gemeente_code,
        aanbieder_agb,
        informant,
        status,
        status = 'geaccepteerd' as is_accepted,

        -- measures
        cast(tevredenheid as integer) as tevredenheid,
        zonder_hulp_verder,
        cast(doelrealisatie as integer) as doelrealisatie,

        -- dates
        cast(meetdatum as date) as measured_date

    from source
)

select * from renamed

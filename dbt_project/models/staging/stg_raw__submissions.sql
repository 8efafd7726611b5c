-- The manifest of each committed submission: when it was received. Empty when no submission has a
-- manifest yet (a hand-made raw zone in a test may have none).
with

{% if raw_source_has_files('submission_manifest') %}
source as (
    select * from {{ source('raw', 'submission_manifest') }}
),
{% else %}
source as (
    select
        cast(null as varchar) as filename,
        cast(null as varchar) as content
    where false
),
{% endif %}

renamed as (
    select
        json_extract_string(content, '$.submission_id') as submission_id,
        json_extract_string(content, '$.file_name') as file_name,
        json_extract_string(content, '$.sha256') as sha256,
        json_extract_string(content, '$.submitted_by') as submitted_by,
        cast(json_extract_string(content, '$.received_at') as timestamptz) as received_at
    from source
),

final as (
    select
        *,
        cast(timezone('Europe/Amsterdam', received_at) as date) as received_date
    from renamed
)

select * from final

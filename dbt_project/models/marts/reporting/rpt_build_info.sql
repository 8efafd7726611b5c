-- One row describing this build, so a dashboard can say "stand per" and an export can cite it.
with

final as (
    select
        '{{ invocation_id }}' as dbt_invocation_id,
        '{{ dbt_version }}' as dbt_version,
        {{ as_of_date() }} as as_of_date,
        cast(current_timestamp as timestamptz) as built_at
)

select * from final

-- Observations of ZRM_VERBETERD, one per client with a T0 and a later Tn measurement at the same
-- provider (and municipality and domain), counted by the Tn date: the first T0 against the last
-- Tn after it, over the ZRM domains scored at both. Improved: at least one domain at least one
-- point higher and none lower. A client without a domain scored at both moments is not counted.
with

scores as (
    select * from {{ ref('stg_raw__zrm_metingen') }}
),

current_scores as (
    select *
    from scores
    where is_accepted
        and measured_date is not null
        and meetmoment in ('T0', 'Tn')
        and score between 1 and 5
    qualify row_number() over (
        partition by gemeente_code, domein, aanbieder_agb, client_pseudonym, meetmoment, measured_date, zrm_domein
        order by submission_id desc, member_name desc, line_number desc
    ) = 1
),

moments as (
    select
        gemeente_code,
        domein,
        aanbieder_agb,
        client_pseudonym,
        min(measured_date) filter (where meetmoment = 'T0') as t0_date
    from current_scores
    group by all
),

with_tn as (
    select
        moments.*,
        max(current_scores.measured_date) as tn_date
    from moments
    inner join current_scores
        on moments.gemeente_code = current_scores.gemeente_code
        and moments.domein = current_scores.domein
        and moments.aanbieder_agb = current_scores.aanbieder_agb
        and moments.client_pseudonym = current_scores.client_pseudonym
        and current_scores.meetmoment = 'Tn'
        and current_scores.measured_date > moments.t0_date
    group by all
),

compared as (
    select
        with_tn.gemeente_code,
        with_tn.domein,
        with_tn.aanbieder_agb,
        with_tn.client_pseudonym,
        with_tn.tn_date,
        count(*) filter (where tn.score > t0.score) as domains_higher,
        count(*) filter (where tn.score < t0.score) as domains_lower
    from with_tn
    inner join current_scores as t0
        on with_tn.gemeente_code = t0.gemeente_code
        and with_tn.domein = t0.domein
        and with_tn.aanbieder_agb = t0.aanbieder_agb
        and with_tn.client_pseudonym = t0.client_pseudonym
        and t0.meetmoment = 'T0'
        and t0.measured_date = with_tn.t0_date
    inner join current_scores as tn
        on with_tn.gemeente_code = tn.gemeente_code
        and with_tn.domein = tn.domein
        and with_tn.aanbieder_agb = tn.aanbieder_agb
        and with_tn.client_pseudonym = tn.client_pseudonym
        and tn.meetmoment = 'Tn'
        and tn.measured_date = with_tn.tn_date
        and tn.zrm_domein = t0.zrm_domein
    group by all
),

final as (
    select
        'ZRM_VERBETERD' as indicator_code,
        gemeente_code,
        domein,
        aanbieder_agb,
        cast(null as varchar) as productcategorie,
        cast(null as varchar) as informant,
        md5(concat_ws('|', gemeente_code, domein, aanbieder_agb, client_pseudonym)) as unit_id,
        tn_date as observation_date,
        true as has_half_year,
        cast(domains_higher > 0 and domains_lower = 0 as bigint) as numerator,
        cast(1 as bigint) as denominator,
        cast(null as double) as sum_of_squares
    from compared
)

select * from final

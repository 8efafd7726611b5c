-- Provider dashboard: findings per provider, municipality, domain, record type, code and month,
-- with the number of findings and records and the euros concerned (declaration lines). About the
-- provider's own deliveries, not about clients, so nothing is suppressed; aanbieder_agb is the
-- column row-level security filters on. Findings without a provider are left out.
with

findings as (
    select * from {{ ref('fct_finding') }}
),

codes as (
    select * from {{ ref('bevindingen') }}
),

municipalities as (
    select * from {{ ref('gemeenten') }}
),

final as (
    select
        -- ids
        findings.aanbieder_agb,
        findings.gemeente_code,
        coalesce(municipalities.gemeente_naam, 'Onbekende gemeente ' || findings.gemeente_code) as gemeente_naam,
        findings.domein,
        findings.record_type,
        findings.code,
        findings.month_start_date,

        -- dimensions
        findings.severity,
        findings.classification,
        coalesce(codes.message, min(findings.message)) as message,

        -- measures
        cast(count(*) as bigint) as finding_count,
        cast(count(distinct findings.record_id) as bigint) as record_count,
        cast(coalesce(sum(findings.bedrag_cents), 0) as bigint) as bedrag_cents,
        cast(coalesce(sum(findings.bedrag_cents), 0) as double) / 100 as bedrag_euro,
        cast(coalesce(sum(findings.signed_bedrag_cents), 0) as bigint) as signed_bedrag_cents

    from findings
    left join codes
        on findings.code = codes.code
    left join municipalities
        on findings.gemeente_code = municipalities.gemeente_code
    where findings.aanbieder_agb is not null
    group by
        findings.aanbieder_agb, findings.gemeente_code, municipalities.gemeente_naam, findings.domein,
        findings.record_type, findings.code, findings.month_start_date, findings.severity,
        findings.classification, codes.message
)

select * from final

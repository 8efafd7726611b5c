-- One row per finding per received record: what ingest found (all record types) and what the
-- relational checks of this build found on declaration lines. Severity, Dutch message and the
-- controller's classification come from the seed bevindingen; a code missing there keeps its
-- code as message and takes its severity from the record's status (tested: warn).
with

declaration_lines as (
    select * from {{ ref('fct_declaration_line') }}
),

toewijzingen as (
    select * from {{ ref('stg_raw__toewijzingen') }}
),

starts as (
    select * from {{ ref('stg_raw__start_zorg') }}
),

stops as (
    select * from {{ ref('stg_raw__stop_zorg') }}
),

codes as (
    select * from {{ ref('bevindingen') }}
),

declaration_findings as (
    select
        'declaratie_regel' as record_type,
        declaration_line_id as record_id,
        submission_id, member_name, line_number, referentienummer, toewijzingnummer, declaratienummer,
        aanbieder_agb, gemeente_code, domein, month_start_date, bedrag_cents, signed_bedrag_cents,
        ingest_status as record_status,
        'ingest' as source,
        unnest(ingest_finding_codes) as code
    from declaration_lines
    union all
    select
        'declaratie_regel' as record_type,
        declaration_line_id as record_id,
        submission_id, member_name, line_number, referentienummer, toewijzingnummer, declaratienummer,
        aanbieder_agb, gemeente_code, domein, month_start_date, bedrag_cents, signed_bedrag_cents,
        status as record_status,
        'relationeel' as source,
        unnest(relational_finding_codes) as code
    from declaration_lines
),

{% set other_record_types = [
    ('toewijzing', 'toewijzingen', 'toewijzing_record_id', 'start_date'),
    ('start_zorg', 'starts', 'start_record_id', 'begin_date'),
    ('stop_zorg', 'stops', 'stop_record_id', 'end_date'),
] %}
other_findings as (
    {% for record_type, relation, record_id, date_column in other_record_types %}
    select
        '{{ record_type }}' as record_type,
        {{ record_id }} as record_id,
        submission_id, member_name, line_number,
        cast(null as varchar) as referentienummer,
        toewijzingnummer,
        cast(null as varchar) as declaratienummer,
        aanbieder_agb, gemeente_code, domein,
        cast(date_trunc('month', {{ date_column }}) as date) as month_start_date,
        cast(null as bigint) as bedrag_cents,
        cast(null as bigint) as signed_bedrag_cents,
        status as record_status,
        'ingest' as source,
        unnest(finding_codes) as code
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

all_findings as (
    select * from declaration_findings
    union all
    select * from other_findings
),

final as (
    select
        -- ids
        md5(concat_ws('|', all_findings.record_type, all_findings.record_id, all_findings.source, all_findings.code))
            as finding_id,
        all_findings.submission_id,
        all_findings.record_type,
        all_findings.record_id,
        all_findings.member_name,
        all_findings.line_number,
        all_findings.referentienummer,
        all_findings.toewijzingnummer,
        all_findings.declaratienummer,

        -- dimensions
        all_findings.code,
        coalesce(
            codes.severity,
            case when all_findings.record_status = 'afgewezen' then 'afwijzing' else 'signalering' end
        ) as severity,
        coalesce(codes.message, 'Bevinding ' || all_findings.code) as message,
        coalesce(codes.classificatie, 'geen') as classification,
        all_findings.source,
        all_findings.record_status,
        all_findings.aanbieder_agb,
        all_findings.gemeente_code,
        all_findings.domein,

        -- measures
        all_findings.bedrag_cents,
        all_findings.signed_bedrag_cents,

        -- dates
        all_findings.month_start_date

    from all_findings
    left join codes
        on all_findings.code = codes.code
)

select * from final

-- The providers' cells of fct_indicator (each provider and '*' as the regional benchmark, per
-- municipality and for the region, per product category and '*', domain, informant and period)
-- with the publishing rules applied along every hierarchy the provider table shows: gemeente x
-- '*', aanbieder x '*', productcategorie x '*', informant x '*' and the year as the sum of its
-- half-years. rpt_aanbieder__indicatoren and provider-level agreements read it.
{{ indicator_publication(
    where="domein <> '*'",
    hierarchies=['gemeente_code', 'aanbieder_agb', 'productcategorie', 'informant', 'period_half'],
) }}

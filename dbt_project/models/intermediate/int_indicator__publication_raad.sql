-- The council's cells of fct_indicator (all providers and product categories together, per
-- municipality and for the region, per domain, informant and period) with the publishing rules
-- applied along the hierarchies the council tables show: gemeente x '*', informant x '*' and the
-- year as the sum of its half-years. rpt_raad__indicatoren, rpt_raad__clientervaring and the
-- agreements read it, so a cell is hidden or shown the same way everywhere the council looks.
{{ indicator_publication(
    where="aanbieder_agb = '*' and productcategorie = '*' and domein <> '*'",
    hierarchies=['gemeente_code', 'informant', 'period_half'],
) }}

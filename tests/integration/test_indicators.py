"""Every indicator of a generated sample region, through the real pipeline, against its ground truth.

generate -> ingest_file (every submission) -> build_and_publish (dbt build, mart checks, publish),
as tests/e2e/conftest.py does; then fct_indicator is compared with ``expected.indicators_all`` of
ground_truth.json, which the generator counts independently of dbt (indicator_truth.py).
Where the two shapes differ by design (see fct_indicator.yml):

- TEVREDENHEID: the truth's ``sum`` / ``n`` is our numerator / denominator (value = the mean), its
  ``numerator`` (marks >= 7) / ``n`` is our TEVREDENHEID_7PLUS;
- the truth has only ``productcategorie = '*'`` per municipality; we compare exactly those rows
  and check our extra rollups (gemeente '*', domein '*') add up.
"""

from __future__ import annotations

import math
import statistics
from datetime import date

import duckdb
import pytest
from fixtures_sample import published_sample
from test_suppression import assert_no_client_identifiers

pytestmark = pytest.mark.integration

AS_OF = date(2026, 11, 22)  # 2026-H1 is definitief for most indicators, its GEEN_NIEUWE_START still voorlopig
SCALE = 0.25


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    """(published warehouse, ground truth) of a generated region ingested and built without Airflow."""
    warehouse, truth = published_sample(tmp_path_factory, scale=SCALE, as_of=AS_OF)
    return warehouse, truth


@pytest.fixture(scope="module")
def con(sample):
    connection = duckdb.connect(str(sample[0]), read_only=True)
    yield connection
    connection.close()


def expected_figures(truth: dict) -> dict[tuple, tuple[int, int]]:
    """(code, gemeente, domein, aanbieder, informant, period) -> (numerator, denominator), in our shape."""
    out = {}
    for row in truth["expected"]["indicators_all"]:
        key = (row["gemeente_code"], row["domein"], row["aanbieder_agb"], row.get("informant", "*"), row["period"])
        if row["indicator_code"] == "TEVREDENHEID":
            out[("TEVREDENHEID", *key)] = (row["sum"], row["n"])
            out[("TEVREDENHEID_7PLUS", *key)] = (row["numerator"], row["n"])
        else:
            out[(row["indicator_code"], *key)] = (row["numerator"], row["denominator"])
    return out


def published_figures(con) -> dict[tuple, tuple]:
    rows = con.execute(
        "select indicator_code, gemeente_code, domein, aanbieder_agb, informant, period, numerator, denominator, "
        "n, value, ci_lower, ci_upper, status from fct_indicator "
        "where productcategorie = '*' and gemeente_code <> '*' and domein <> '*'"
    ).fetchall()
    return {tuple(r[:6]): r[6:] for r in rows}


def test_every_indicator_of_the_ground_truth_is_published_with_its_counts(sample, con) -> None:
    _, truth = sample
    expected = expected_figures(truth)
    published = published_figures(con)
    codes = {key[0] for key in expected}
    assert {"UITVAL", "VOLGENS_PLAN", "GEEN_NIEUWE_START", "ZONDER_HULP_VERDER", "DOELREALISATIE",
            "TEVREDENHEID", "TEVREDENHEID_7PLUS", "ZRM_VERBETERD", "UITPUTTING", "CEO_01"} <= codes  # fmt: skip
    for code in sorted(codes):
        mine = {key: figures[:2] for key, figures in published.items() if key[0] == code}
        theirs = {key: value for key, value in expected.items() if key[0] == code}
        assert mine == theirs, code
    # and nothing beyond the catalogue the truth counts
    assert {key[0] for key in published} == codes


def test_ceo_questions_have_n_and_the_wilson_interval_of_the_ground_truth(sample, con) -> None:
    _, truth = sample
    published = published_figures(con)
    ceo = [r for r in truth["expected"]["indicators_all"] if r["indicator_code"].startswith("CEO_")]
    assert ceo
    for row in ceo:
        key = (row["indicator_code"], row["gemeente_code"], row["domein"], row["aanbieder_agb"], "*", row["period"])
        _num, _den, n, value, ci_lower, ci_upper, _status = published[key]
        assert n == row["n"]
        assert value == pytest.approx(row["value"], abs=1e-6)
        assert (ci_lower, ci_upper) == (pytest.approx(row["ci_low"], abs=1e-6), pytest.approx(row["ci_high"], abs=1e-6))


def test_geen_nieuwe_start_is_voorlopig_exactly_where_the_next_half_year_is_incomplete(sample, con) -> None:
    _, truth = sample
    published = published_figures(con)
    rows = [r for r in truth["expected"]["indicators_all"] if r["indicator_code"] == "GEEN_NIEUWE_START"]
    assert {r["status"] for r in rows} == {"voorlopig", "definitief"}
    for row in rows:
        key = ("GEEN_NIEUWE_START", row["gemeente_code"], row["domein"], row["aanbieder_agb"], "*", row["period"])
        assert published[key][-1] == row["status"], key


def test_tevredenheid_interval_is_the_mean_plus_minus_1_96_standard_errors(con) -> None:
    marks = [
        mark
        for (mark,) in con.execute(
            "select tevredenheid from staging.stg_raw__uitkomsten where is_accepted and domein = 'jeugd' "
            "and tevredenheid between 1 and 10 and year(measured_date) = 2025"
        ).fetchall()
    ]
    mean, se = statistics.mean(marks), statistics.stdev(marks) / math.sqrt(len(marks))
    n, value, ci_lower, ci_upper = con.execute(
        "select n, value, ci_lower, ci_upper from fct_indicator where indicator_code = 'TEVREDENHEID' "
        "and gemeente_code = '*' and domein = 'jeugd' and aanbieder_agb = '*' and productcategorie = '*' "
        "and informant = '*' and period = '2025'"
    ).fetchone()
    assert n == len(marks)
    assert value == pytest.approx(mean)
    assert (ci_lower, ci_upper) == (pytest.approx(mean - 1.96 * se), pytest.approx(mean + 1.96 * se))


def test_region_totals_and_both_domains_add_up(con) -> None:
    mismatched = con.execute(
        """
        with parts as (
            select indicator_code, domein, informant, period,
                sum(numerator) as numerator, sum(denominator) as denominator
            from fct_indicator
            where gemeente_code <> '*' and aanbieder_agb = '*' and productcategorie = '*' and domein <> '*'
            group by all
        )
        select count(*)
        from parts
        join fct_indicator as total using (indicator_code, domein, informant, period)
        where total.gemeente_code = '*' and total.aanbieder_agb = '*' and total.productcategorie = '*'
            and (total.numerator <> parts.numerator or total.denominator <> parts.denominator)
        """
    ).fetchone()[0]
    assert mismatched == 0
    # an agreement on both domains adds the Jeugd and Wmo counts up
    both, parts = con.execute(
        """
        select a.numerator, (
            select sum(i.numerator) from fct_indicator as i
            where i.indicator_code = a.indicator_code and i.gemeente_code = a.gemeente_code and i.period = a.period
                and i.aanbieder_agb = '*' and i.productcategorie = '*' and i.informant = '*'
        )
        from fct_afspraak as a where a.domein = '*' and a.value is not null limit 1
        """
    ).fetchone()
    assert both == parts


def test_the_sample_agreements_are_all_evaluated(sample, con) -> None:
    delivered = con.execute("select count(*) from staging.stg_raw__afspraken where is_accepted").fetchone()[0]
    agreements = con.execute("select * from fct_afspraak").df()
    assert delivered > 0 and len(agreements) == delivered  # the generator sends no duplicates
    with_value = agreements[agreements["value"].notna()]
    assert len(with_value) > 0
    expected = (with_value["value"] - with_value["baseline"]) / (with_value["streefwaarde"] - with_value["baseline"])
    assert (with_value["attainment"] - expected).abs().max() < 1e-12
    shown = con.execute(
        "select count(*) filter (where value is not null), count(*) filter (where is_suppressed and value is null), "
        "count(*) filter (where is_suppressed and value is not null) from rpt_raad__afspraken"
    ).fetchone()
    assert shown[0] > 0 and shown[2] == 0
    # an agreement for the region (gemeente '*'), one across both domains, and one for a provider
    scopes = set(
        zip(agreements["gemeente_code"], agreements["domein"], agreements["aanbieder_agb"] != "*", strict=True)
    )
    assert ("*", "jeugd", False) in scopes and ("*", "*", False) in scopes and any(s[2] for s in scopes)
    assert set(agreements["status"]) <= {"voorlopig", "definitief"}
    assert set(agreements["trend"]) <= {"verbetert", "verslechtert", "stabiel", "onvoldoende gegevens"}


def test_published_figures_respect_the_thresholds(con) -> None:
    for table, threshold_sql in (
        ("rpt_raad__indicatoren", "10"),
        ("rpt_raad__clientervaring", "30"),
        ("rpt_aanbieder__indicatoren", "case when indicator_code like 'CEO\\_%' escape '\\' then 30 else 10 end"),
        ("rpt_raad__afspraken", "case when indicator_code like 'CEO\\_%' escape '\\' then 30 else 10 end"),
    ):
        too_small = con.execute(f"select count(*) from {table} where value is not null and n < {threshold_sql}")
        assert too_small.fetchone()[0] == 0, table
        hidden, shown = con.execute(
            f"select count(*) filter (where is_suppressed), count(*) filter (where not is_suppressed) from {table}"
        ).fetchone()
        assert hidden > 0 and shown > 0, table


def test_no_rpt_table_holds_a_client_identifier(con) -> None:
    assert_no_client_identifiers(con)


def test_declared_amounts_pool_small_cells_and_keep_the_totals(con) -> None:
    small_shown = con.execute(
        "select count(*) from rpt_raad__gedeclareerd where aanbieder_agb <> '*' and line_count < 10"
    ).fetchone()[0]
    assert small_shown == 0
    differences = con.execute(
        """
        select count(*) from (
            select gemeente_code, domein, month_start_date, sum(bedrag_cents) as cents, sum(line_count) as lines
            from rpt_raad__gedeclareerd group by all
        ) as shown
        full join (
            select gemeente_code, domein, month_start_date,
                sum(bedrag_cents) as cents, sum(accepted_line_count) as lines
            from fct_declared_amount_monthly where accepted_line_count > 0 group by all
        ) as all_lines using (gemeente_code, domein, month_start_date)
        where shown.cents is distinct from all_lines.cents or shown.lines is distinct from all_lines.lines
        """
    ).fetchone()[0]
    assert differences == 0

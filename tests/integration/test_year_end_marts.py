"""The year-end marts of a generated sample region, through the real pipeline, against its ground truth.

generate -> ingest_file (every submission) -> build_and_publish (dbt build with its unit and data
tests, mart checks, publish), as test_indicators.py does; then the rpt_controller__ tables are
compared with ``expected.reconciliation`` and ``expected.productieverantwoording`` of
ground_truth.json, which the generator computes from the care it generated (generate/annual.py),
independently of dbt. The peildatum 2026-02-15 lies inside the declaration term of 2025 (until
2026-03-31), so 2025 is voorlopig and its accruals are open.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from fixtures_sample import published_sample

pytestmark = pytest.mark.integration

AS_OF = date(2026, 2, 15)
YEAR = 2025
SCALE = 0.1
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
CAUSE_OF_PLANTED = {
    "nog_niet_gedeclareerd": "nog niet gedeclareerd",
    "credit_niet_verwerkt": (
        "verantwoord bedrag lager bij gelijk volume: creditering of tariefverschil niet gedeclareerd"
    ),
    "product_ontbreekt": "product ontbreekt in de productieverantwoording",
}
CAUSES_OF_REJECTIONS = {"afgewezen declaraties", "gedeclareerd boven toegewezen volume (afgewezen)"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    """(published warehouse, ground truth) of a generated region ingested and built without Airflow."""
    warehouse, truth = published_sample(tmp_path_factory, scale=SCALE, as_of=AS_OF)
    return warehouse, truth["expected"]


@pytest.fixture(scope="module")
def con(sample):
    connection = duckdb.connect(str(sample[0]), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def expected(sample) -> dict:
    return sample[1]


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def key(row: dict) -> tuple:
    return row["aanbieder_agb"], row["gemeente_code"], row["productcode"]


def reconciliation(con) -> dict[tuple, dict]:
    found = rows(con, "select * from rpt_controller__reconciliatie where verslagjaar = ?", [YEAR])
    return {key(row): row for row in found}


def project_vars() -> dict:
    return yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def test_reconciliation_has_the_ground_truths_accepted_and_productieverantwoording_to_the_cent(con, expected):
    mine = reconciliation(con)
    truth = {key(row): row for row in expected["reconciliation"] if row["jaar"] == YEAR}
    assert len(truth) > 20
    for k, row in truth.items():
        assert k in mine, k
        got = mine[k]
        assert got["domein"] == row["domein"]
        assert (got["geaccepteerd_bedrag_cents"], got["geaccepteerd_volume"]) == (
            row["declared_cents"],
            row["declared_volume"],
        ), k
        assert (got["pv_bedrag_cents"], got["pv_volume"]) == (row["pv_cents"], row["pv_volume"]), k
        assert got["verschil_pv_cents"] == row["difference_cents"], k
    # nothing accepted or accounted for beyond the truth (rows with toewijzingen only may exist)
    extra = [k for k, row in mine.items() if k not in truth and (row["geaccepteerd_bedrag_cents"] or row["pv_volume"])]
    assert extra == []


def test_differences_above_the_threshold_are_flagged_with_their_cause(con, expected):
    mine = reconciliation(con)
    variables = project_vars()
    drempel_cents, drempel_pct = variables["reconciliatie_drempel_cents"], variables["reconciliatie_drempel_pct"]
    planted = set()
    for row in (r for r in expected["reconciliation"] if r["jaar"] == YEAR):
        got = mine[key(row)]
        difference = (row["pv_cents"] or 0) - row["declared_cents"]
        base = max(abs(row["pv_cents"] or 0), abs(row["declared_cents"]))
        assert got["boven_drempel"] == (abs(difference) > drempel_cents and abs(difference) * 100 > drempel_pct * base)
        if row["planted_discrepancy"]:
            planted.add(row["planted_discrepancy"])
            assert got["boven_drempel"], row
            assert got["oorzaak"] == CAUSE_OF_PLANTED[row["planted_discrepancy"]], row
        elif difference:
            # the care of the lines ingest or the relational checks rejected
            assert got["afgewezen_bedrag_cents"] > 0 or got["aantal_regels"] > 0, row
            assert got["oorzaak"] in CAUSES_OF_REJECTIONS, (row, got["oorzaak"])
        else:
            assert got["oorzaak"] is None, row
    assert planted == set(CAUSE_OF_PLANTED)


def test_declared_is_accepted_plus_rejected_and_the_years_add_up_to_the_declaration_lines(con):
    unbalanced = con.execute(
        "select count(*) from rpt_controller__reconciliatie "
        "where gedeclareerd_bedrag_cents <> geaccepteerd_bedrag_cents + afgewezen_bedrag_cents"
    ).fetchone()[0]
    assert unbalanced == 0
    per_year = dict(
        con.execute(
            "select verslagjaar, sum(gedeclareerd_bedrag_cents) from rpt_controller__reconciliatie group by all"
        ).fetchall()
    )
    lines = dict(
        con.execute(
            "select year(period_start_date), sum(coalesce(signed_bedrag_cents, 0)) from fct_declaration_line "
            "where period_start_date is not null group by all"
        ).fetchall()
    )
    assert per_year == lines
    assert set(per_year) == {2025, 2026}


def test_turnover_and_controleverklaring_follow_the_statements(con, expected):
    statements = rows(
        con,
        "select distinct aanbieder_agb, omzet_cents, controleverklaring, is_controleverklaring_vereist, "
        "is_controleverklaring_ontbreekt from intermediate.int_jaarafsluiting__productieverantwoording "
        "where verslagjaar = ?",
        [YEAR],
    )
    mine = {row["aanbieder_agb"]: row for row in statements}
    truth = {row["aanbieder_agb"]: row for row in expected["productieverantwoording"] if row["jaar"] == YEAR}
    assert set(mine) == set(truth)
    for agb, row in truth.items():
        assert mine[agb]["omzet_cents"] == row["national_turnover_cents"], agb
        assert mine[agb]["controleverklaring"] == row["controleverklaring"], agb
        assert mine[agb]["is_controleverklaring_vereist"] == row["controleverklaring_required"], agb
        assert mine[agb]["is_controleverklaring_ontbreekt"] == row["controleverklaring_missing"], agb
    assert any(row["controleverklaring_missing"] for row in truth.values())


def uncertain_products(expected) -> dict[tuple, tuple[str, int]]:
    """(agb, gemeente, product) -> (code, accepted cents) the truth says is uncertain in YEAR."""
    missing = {
        row["aanbieder_agb"]
        for row in expected["productieverantwoording"]
        if row["jaar"] == YEAR and row["controleverklaring_missing"]
    }
    found = {}
    for row in expected["reconciliation"]:
        if row["jaar"] != YEAR or not row["declared_cents"]:
            continue
        if row["pv_cents"] is None:
            found[key(row)] = ("OM301", row["declared_cents"])
        elif row["aanbieder_agb"] in missing:
            found[key(row)] = ("OM302", row["declared_cents"])
    return found


def test_missing_statements_and_controleverklaringen_are_uncertainties_in_euros(con, expected):
    product_findings = rows(
        con,
        "select * from rpt_controller__bevindingen where verslagjaar = ? and declaration_line_id is null",
        [YEAR],
    )
    mine = {key(row): (row["bevinding_code"], row["bedrag_cents"]) for row in product_findings}
    assert mine == uncertain_products(expected)
    assert {row["klasse"] for row in product_findings} == {"onzekerheid"}
    assert all(row["omschrijving"] and row["client_pseudonym"] is None for row in product_findings)


def test_line_findings_are_every_error_and_uncertainty_code_of_the_lines(con):
    listed = con.execute(
        "select declaration_line_id, bevinding_code from rpt_controller__bevindingen "
        "where declaration_line_id is not null order by all"
    ).fetchall()
    on_lines = con.execute(
        "select declaration_line_id, code from (select declaration_line_id, unnest(finding_codes) as code "
        "from fct_declaration_line where period_start_date is not null) join bevindingen using (code) "
        "where classificatie in ('fout', 'onzekerheid') "
        "order by all"
    ).fetchall()
    assert listed == on_lines
    assert listed  # the sample has duplicates (8021) at least


def test_tolerance_test_of_2025_against_the_truth_and_the_versioned_limits(con, expected):
    (test,) = rows(con, "select * from rpt_controller__tolerantietoets where verslagjaar = ?", [YEAR])
    lasten = sum(row["declared_cents"] for row in expected["reconciliation"] if row["jaar"] == YEAR)
    in_lasten_line_findings = con.execute(
        "select coalesce(sum(meegeteld_cents), 0) from rpt_controller__bevindingen "
        "where verslagjaar = ? and in_lasten and declaration_line_id is not null",
        [YEAR],
    ).fetchone()[0]
    assert in_lasten_line_findings == 0  # premise: the sample's defects are all rejected, none paid
    onzekerheden = sum(cents for _code, cents in uncertain_products(expected).values())
    with (DBT_PROJECT / "seeds" / "tolerantiegrenzen.csv").open(encoding="utf-8") as fh:
        limits = max((row for row in csv.DictReader(fh) if int(row["verslagjaar_vanaf"]) <= YEAR),
                     key=lambda row: int(row["verslagjaar_vanaf"]))  # fmt: skip
    grens_onzekerheid = int(lasten * float(limits["onzekerheid_pct"]) / 100)

    assert (test["lasten_cents"], test["fouten_cents"], test["onzekerheden_cents"]) == (lasten, 0, onzekerheden)
    assert test["grens_fout_pct"] == float(limits["fout_pct"]) == 2.0
    assert test["grens_onzekerheid_cents"] == grens_onzekerheid
    assert test["onzekerheid_pct"] == pytest.approx(100 * onzekerheden / lasten, abs=1e-4)
    assert test["oordeel"] == ("binnen de tolerantie" if onzekerheden <= grens_onzekerheid else "buiten de tolerantie")
    assert test["bron"] == limits["bron"]
    assert (test["status"], test["declaratietermijn_tot"]) == ("voorlopig", date(2026, 3, 31))
    # errors the checks caught (rejected lines) are reported but not tested against the lasten
    rejected_errors = con.execute(
        "select coalesce(sum(meegeteld_cents), 0) from rpt_controller__bevindingen "
        "where verslagjaar = ? and klasse = 'fout' and regelstatus = 'afgewezen'",
        [YEAR],
    ).fetchone()[0]
    assert test["afgewezen_fouten_cents"] == rejected_errors > 0


def test_findings_per_provider_add_up_to_the_tolerance_test(con):
    totals = con.execute(
        "select verslagjaar, klasse, sum(bedrag_in_lasten_cents) from rpt_controller__bevindingen_per_aanbieder "
        "group by all order by all"
    ).fetchall()
    tests = con.execute(
        "select verslagjaar, fouten_cents, onzekerheden_cents from rpt_controller__tolerantietoets order by 1"
    ).fetchall()
    by_class = {(year, klasse): cents for year, klasse, cents in totals}
    for year, fouten, onzekerheden in tests:
        assert (by_class.get((year, "fout"), 0), by_class.get((year, "onzekerheid"), 0)) == (fouten, onzekerheden)


def test_accruals_estimate_undeclared_care_months_and_explain_the_method(con):
    accruals = rows(con, "select * from rpt_controller__nog_te_betalen where verslagjaar = ?", [YEAR])
    assert accruals
    for row in accruals:
        assert row["bedrag_cents"] == row["geschat_bedrag_cents"] > 0, row  # the 2025 term is still open
        assert not row["termijn_verstreken"]
        assert row["tariefbron"] == "contracttarief"  # the sample has a contract tariff for every product
        assert abs(row["tarief_cents"] * row["geschat_volume"] - row["geschat_bedrag_cents"]) <= row["geschat_volume"]
        assert "15-02-2026" in row["methode"] and "31-03-2026" in row["methode"]
    # every month estimated is a toewijzing-month with care and without an accepted declaration
    months = con.execute(
        """
        select count(*), coalesce(sum(months.zorg_volume * months.contract_tarief_cents), 0)
        from intermediate.int_jaarafsluiting__toewijzing_maanden as months
        where months.verslagjaar = ? and months.zorg_volume > 0 and months.month_end_date <= ?
            and exists (
                select 1 from fct_declaration_line as any_line
                where any_line.gemeente_code = months.gemeente_code and any_line.domein = months.domein
            )
            and not exists (
                select 1 from fct_declaration_line as lines
                where lines.status = 'geaccepteerd' and lines.toewijzingnummer = months.toewijzingnummer
                    and lines.client_pseudonym = months.client_pseudonym
                    and lines.aanbieder_agb = months.aanbieder_agb
                    and lines.month_start_date = months.month_start_date
            )
        """,
        [YEAR, AS_OF],
    ).fetchone()
    assert (sum(row["aantal_maanden"] for row in accruals), sum(row["bedrag_cents"] for row in accruals)) == months


def test_every_controller_table_starts_with_verslagjaar_and_only_the_detail_has_pseudonyms(con):
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_name like 'rpt\\_controller\\_\\_%' escape '\\'"
        ).fetchall()
    ]
    assert {
        "rpt_controller__reconciliatie", "rpt_controller__bevindingen", "rpt_controller__bevindingen_per_aanbieder",
        "rpt_controller__tolerantietoets", "rpt_controller__nog_te_betalen",
    } <= set(tables)  # fmt: skip
    for table in tables:
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        ]
        assert columns[0] == "verslagjaar", table
        personal = [c for c in columns if any(word in c for word in ("bsn", "pseudonym", "geboorte", "postcode"))]
        assert personal == (["client_pseudonym"] if table == "rpt_controller__bevindingen" else []), table

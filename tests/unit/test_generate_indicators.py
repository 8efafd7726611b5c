"""The expected indicators and reconciliation in ground_truth.json: recounted from the generated files
with the DOMAIN.md definitions, and a tiny case checked by hand."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from test_generate_files import Table, parse_cents, parse_date, parse_int, read_tables

from outcome_monitor.generate import generate
from outcome_monitor.generate.indicator_truth import IndicatorTruth, wilson


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[Table]]:
    out = tmp_path_factory.mktemp("indicators")
    generate(out, seed=3, scale=0.3, defect_rate=0.04)
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    return truth, read_tables(out, truth)


def expected(truth: dict, code: str, **extra: str) -> dict[tuple, tuple[int, int]]:
    return {
        (r["gemeente_code"], r["domein"], r["aanbieder_agb"], r["period"]): (r["numerator"], r["denominator"])
        for r in truth["expected"]["indicators_all"]
        if r["indicator_code"] == code and all(r.get(k) == v for k, v in extra.items())
    }


def periods(day: date) -> tuple[str, str]:
    return f"{day.year}-H{1 if day.month <= 6 else 2}", str(day.year)


def clean_rows(truth: dict, tables: list[Table], kind: str):
    rejected = {(d["file"], d["member"], d["line_number"]) for d in truth["defects"]}
    for t in tables:
        if t.kind == kind:
            for r in t.rows:
                if (t.file, t.member, r["_line"]) not in rejected:
                    yield r


def tally(rows, key, hit) -> dict[tuple, tuple[int, int]]:
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        for k in key(r):
            counts[k][0] += hit(r)
            counts[k][1] += 1
    return {k: (n, d) for k, (n, d) in counts.items()}


def scopes(r: dict, day: date) -> list[tuple]:
    return [(r["gemeente_code"], r["domein"], agb, p) for agb in (r["aanbieder_agb"], "*") for p in periods(day)]


def test_outcome_indicators_are_the_counts_over_accepted_outcome_rows(region) -> None:
    truth, tables = region
    rows = list(clean_rows(truth, tables, "uitkomst"))
    zonder = [r for r in rows if r["zonder_hulp_verder"] in ("01", "02", "03")]
    assert expected(truth, "ZONDER_HULP_VERDER") == tally(
        zonder, lambda r: scopes(r, parse_date(r["meetdatum"])), lambda r: r["zonder_hulp_verder"] == "01"
    )
    doel = [r for r in rows if r["doelrealisatie"] is not None]
    assert expected(truth, "DOELREALISATIE") == tally(
        doel, lambda r: scopes(r, parse_date(r["meetdatum"])), lambda r: parse_int(r["doelrealisatie"]) <= 2
    )
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        informant = "client" if r["informant"] == "cliënt" else r["informant"]
        for scope in scopes(r, parse_date(r["meetdatum"])):
            for who in (informant, "*"):
                s = sums[(*scope, who)]
                mark = parse_int(r["tevredenheid"])
                s[0], s[1], s[2] = s[0] + 1, s[1] + mark, s[2] + (mark >= 7)
    published = {
        (r["gemeente_code"], r["domein"], r["aanbieder_agb"], r["period"], r["informant"]): (
            r["n"], r["sum"], r["numerator"], r["value"], r["share_7_plus"]
        )
        for r in truth["expected"]["indicators_all"] if r["indicator_code"] == "TEVREDENHEID"
    }  # fmt: skip
    assert published == {k: (n, s, seven, round(s / n, 6), round(seven / n, 6)) for k, (n, s, seven) in sums.items()}
    assert {k[4] for k in published} == {"jeugdige", "ouder", "client", "*"}


def test_outcomes_differ_by_end_reason_and_by_provider(region) -> None:
    truth, _ = region
    by_provider = [
        v for (g, domein, agb, period), v in expected(truth, "ZONDER_HULP_VERDER").items()
        if agb != "*" and len(period) == 4 and v[1] >= 15
    ]  # fmt: skip
    shares = [n / d for n, d in by_provider]
    assert max(shares) - min(shares) > 0.15  # providers really differ
    tev = [r for r in truth["expected"]["indicators_all"] if r["indicator_code"] == "TEVREDENHEID"]
    assert (
        6.0
        < sum(r["sum"] for r in tev if r["informant"] == "*") / sum(r["n"] for r in tev if r["informant"] == "*")
        < 8.5
    )


def test_zrm_verbeterd_compares_t0_and_tn_over_the_domains_measured_twice(region) -> None:
    truth, tables = region
    measurements: dict[tuple, dict[str, tuple[date, dict[int, int]]]] = defaultdict(dict)
    for r in clean_rows(truth, tables, "zrm"):
        key = (r["gemeente_code"], r["aanbieder_agb"], r["bsn"])
        day, scores = measurements[key].get(r["meetmoment"], (parse_date(r["meetdatum"]), {}))
        scores[parse_int(r["zrm_domein"])] = parse_int(r["score"])
        measurements[key][r["meetmoment"]] = (day, scores)
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (gemeente, agb, _bsn), m in measurements.items():
        if "T0" not in m or "Tn" not in m or not (m["T0"][1].keys() & m["Tn"][1].keys()):
            continue
        t0, (tn_day, tn) = m["T0"][1], m["Tn"]
        assert tn_day > m["T0"][0]
        common = t0.keys() & tn.keys()
        better = any(tn[d] > t0[d] for d in common) and not any(tn[d] < t0[d] for d in common)
        for key in ((gemeente, "wmo", a, p) for a in (agb, "*") for p in periods(tn_day)):
            counts[key][0] += better
            counts[key][1] += 1
    assert expected(truth, "ZRM_VERBETERD") == {k: tuple(v) for k, v in counts.items()}
    improved, total = map(sum, zip(*(v for k, v in counts.items() if k[2] == "*" and len(k[3]) == 4), strict=True))
    assert 0.3 < improved / total < 0.9


def test_ceo_shares_count_answers_4_and_5_out_of_1_to_5_with_small_cells(region) -> None:
    truth, tables = region
    rows = [r for r in clean_rows(truth, tables, "clientervaring") if parse_int(r["antwoord"]) != 9]
    counts: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in rows:
        domein = "jeugd" if r["wet"] == "jeugdwet" else "wmo"
        for agb in (r["aanbieder_agb"], "*"):
            c = counts[f"CEO_{r['vraag_code']}"][(r["gemeente_code"], domein, agb, str(r["jaar"]))]
            c[0] += parse_int(r["antwoord"]) >= 4
            c[1] += 1
    assert set(counts) == {f"CEO_{i:02d}" for i in range(1, 10)}
    for code, cells in counts.items():
        assert expected(truth, code) == {k: tuple(v) for k, v in cells.items()}
    region_rows = [r for r in truth["expected"]["indicators_all"] if r["indicator_code"].startswith("CEO_")]
    assert all(r["n"] == r["denominator"] and r["ci_low"] <= r["value"] <= r["ci_high"] for r in region_rows)
    totals = [r["n"] for r in region_rows if r["aanbieder_agb"] == "*"]
    assert min(totals) < 30 <= max(totals)  # some cells must be suppressed, others published


def test_reconciliation_sets_declared_against_the_productieverantwoording(region) -> None:
    truth, tables = region
    monthly = defaultdict(int)
    for m in truth["expected"]["declaratie"]["accepted_net_cents_by_gemeente_month"]:
        monthly[(m["gemeente_code"], int(m["month"][:4]))] += m["bedrag_cents"]
    recon = truth["expected"]["reconciliation"]
    declared = defaultdict(int)
    for r in recon:
        declared[(r["gemeente_code"], r["jaar"])] += r["declared_cents"]
    assert declared == {k: v for k, v in monthly.items() if k[1] == 2025}
    pv_rows = {
        (r["aanbieder_agb"], r["gemeente_code"], r["productcode"], r["jaar"]): parse_cents(r["bedrag"])
        for t in tables if t.kind == "productieverantwoording" for r in t.rows
    }  # fmt: skip
    assert pv_rows == {
        (r["aanbieder_agb"], r["gemeente_code"], r["productcode"], r["jaar"]): r["pv_cents"]
        for r in recon if r["pv_cents"] is not None
    }  # fmt: skip
    planted = {r["planted_discrepancy"] for r in recon} - {None}
    assert planted == {"nog_niet_gedeclareerd", "credit_niet_verwerkt", "product_ontbreekt"}
    statements = truth["expected"]["productieverantwoording"]
    assert sum(s["controleverklaring_missing"] for s in statements) == 1
    assert [s["on_time"] for s in statements].count(False) == 1
    assert all(s["deadline"] == "2026-04-01" for s in statements)


def test_a_tiny_region_counted_by_hand() -> None:
    day = date(2025, 3, 10).toordinal()
    h2 = date(2025, 9, 1).toordinal()
    ind = IndicatorTruth(date(2025, 12, 31).toordinal())
    # Two youth trajectories of provider A ended: 31 (by plan) and 32 (dropped out); one of B by 33.
    ind.ended("jeugd", "1731", "A", day, "31", 1)
    ind.ended("jeugd", "1731", "A", day, "32", 1)
    ind.ended("jeugd", "1731", "B", h2, "33", 2)
    ind.ended("jeugd", "1731", "B", h2, "35", 1)  # not in the denominator
    # Outcomes: A answers 01 and 03; B answers 04 (unknown: not counted) and 02.
    ind.outcome("1731", "jeugd", "A", day, "ouder", 8, "01", 1)
    ind.outcome("1731", "jeugd", "A", day, "jeugdige", 6, "03", 4)
    ind.outcome("1731", "jeugd", "B", h2, "ouder", 7, "04", None)
    ind.outcome("1731", "jeugd", "B", h2, "ouder", 9, "02", 2)
    ind.zrm("1731", "B", {1: 2, 2: 3}, {1: 3, 2: 3, 3: 1}, h2)  # domain 3 has no T0: improved
    ind.zrm("1731", "B", {1: 2, 2: 3}, {1: 3, 2: 2}, h2)  # one domain lower: not improved
    ind.geen_nieuwe_start("jeugd", "1731", "A", day, restarted=False, n=1, complete=True)
    ind.geen_nieuwe_start("jeugd", "1731", "A", h2, restarted=True, n=1, complete=False)
    for answer in (4, 5, 3, 9, 1):
        ind.ceo("1731", "jeugdwet", "A", 2025, "05", answer)
    rows = {(r["indicator_code"], r["aanbieder_agb"], r["period"], r.get("informant")): r for r in ind.rows()}

    def nd(code: str, agb: str, period: str, informant: str | None = None) -> tuple[int, int]:
        r = rows[(code, agb, period, informant)]
        return r["numerator"], r["denominator"]

    assert nd("UITVAL", "A", "2025-H1") == (1, 2) and nd("VOLGENS_PLAN", "*", "2025") == (1, 4)
    assert nd("UITVAL", "B", "2025-H2") == (0, 2)
    assert nd("ZONDER_HULP_VERDER", "*", "2025") == (1, 3)
    assert nd("DOELREALISATIE", "*", "2025") == (2, 3)
    assert nd("ZRM_VERBETERD", "B", "2025-H2") == (1, 2)
    assert nd("GEEN_NIEUWE_START", "A", "2025") == (1, 2)
    assert rows[("GEEN_NIEUWE_START", "A", "2025-H1", None)]["status"] == "definitief"
    assert rows[("GEEN_NIEUWE_START", "A", "2025-H2", None)]["status"] == "voorlopig"
    ceo = rows[("CEO_05", "*", "2025", None)]
    assert (ceo["numerator"], ceo["n"]) == (2, 4)
    assert (ceo["ci_low"], ceo["ci_high"]) == wilson(2, 4) == (0.150036, 0.849964)
    tev = rows[("TEVREDENHEID", "*", "2025", "ouder")]
    assert (tev["n"], tev["value"], tev["numerator"]) == (3, 8.0, 3)
    assert rows[("TEVREDENHEID", "A", "2025-H1", "*")]["value"] == 7.0


def test_same_seed_same_tabular_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, seed=9, scale=0.05, defect_rate=0.1)
    generate(b, seed=9, scale=0.05, defect_rate=0.1)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)

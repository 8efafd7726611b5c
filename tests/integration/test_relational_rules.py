"""Relational checks, corrections and stop withdrawals on a real build of a hand-made raw zone.

One scenario (provider A in Amsterdam, Jeugd) holds a failing and a passing line for every code;
it is built twice, with its submissions written and received in opposite orders, and both builds
must agree line for line. Every expected value is worked out in the comments beside the rows.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from fixtures_raw import write_ingest_report, write_manifest, write_raw_zone

from outcome_monitor import build
from outcome_monitor.config import Paths
from outcome_monitor.relational_feedback import update_feedback_reports

pytestmark = pytest.mark.integration

AS_OF = "2025-09-15"
AMSTERDAM, AGB_A = "0363", "12345678"
UTC = dt.UTC


def month(year: int, number: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, number, 1)
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def toewijzing(client, nr, **extra):
    return {
        "submission_id": "tw-1", "domein": "jeugd", "berichtcode": "JW301", "gemeente_code": AMSTERDAM,
        "aanbieder_agb": AGB_A, "client_pseudonym": client, "toewijzingnummer": nr, "productcategorie": "45",
        "productcode": "45A01", "toewijzingsdatum": dt.date(2024, 12, 15), "ingangsdatum": dt.date(2025, 1, 1),
        "einddatum": dt.date(2025, 6, 30), **extra,
    }  # fmt: skip


def levering(client, nr, submission_id, **extra):
    return {
        "submission_id": submission_id, "domein": "jeugd", "berichtcode": "JW305", "gemeente_code": AMSTERDAM,
        "aanbieder_agb": AGB_A, "client_pseudonym": client, "toewijzingnummer": nr, "productcategorie": "45",
        "productcode": "45A01", "begindatum": dt.date(2025, 1, 1), "status_aanlevering": "1", **extra,
    }  # fmt: skip


DECLARATIONS = {  # submission id -> (declaratienummer, dagtekening)
    "decl-1": ("D1", dt.date(2025, 3, 5)),
    "decl-2": ("D2", dt.date(2025, 4, 5)),
    "decl-3": ("D3", dt.date(2025, 5, 10)),
    "decl-4": ("D4", dt.date(2025, 6, 5)),
    "decl-5": ("D5", dt.date(2025, 6, 5)),
    "decl-6": ("D5", dt.date(2025, 6, 5)),
}


def line(submission_id, ref, client, nr, period, *, volume=1, tarief=100, dc="D", **extra):
    declaratienummer, dagtekening = DECLARATIONS[submission_id]
    start, end = month(*period)
    return {
        "submission_id": submission_id, "domein": "jeugd", "berichtcode": "JW323", "gemeente_code": AMSTERDAM,
        "aanbieder_agb": AGB_A, "client_pseudonym": client, "declaratienummer": declaratienummer,
        "declaratie_begindatum": dt.date(2024, 12, 1), "declaratie_einddatum": dt.date(2025, 12, 31),
        "declaratie_dagtekening": dagtekening, "referentienummer": ref, "toewijzingnummer": nr,
        "productcategorie": "45", "productcode": "45A01", "period_start_date": start, "period_end_date": end,
        "volume": volume, "eenheid": "04", "tarief_cents": tarief, "bedrag_cents": volume * tarief,
        "debet_credit": dc, **extra,
    }  # fmt: skip


def scenario() -> dict[str, list[dict]]:
    toewijzingen = [
        toewijzing("c01", "T1", volume=10, eenheid="04", frequentie="4"),  # 10 hours per month
        toewijzing("c02", "T2", volume=20, eenheid="04", frequentie="6", einddatum=dt.date(2025, 12, 31)),  # 20 in all
        toewijzing("c03", "T3", einddatum=dt.date(2025, 12, 31)),  # no volume: no volume checks
        toewijzing("c05", "T5"),  # never started
    ]
    starts = [levering(client, nr, "lev-start") for client, nr in (("c01", "T1"), ("c02", "T2"), ("c03", "T3"))]
    stop = {"berichtcode": "JW307", "reden_beeindiging": "32", "einddatum": dt.date(2025, 3, 31)}
    stops = [
        # T3 ended on 30 April: care declared from May on is signalled (OM201).
        levering("c03", "T3", "lev-stop-1", berichtcode="JW307", reden_beeindiging="31",
                 einddatum=dt.date(2025, 4, 30)),
        # T2's stop is withdrawn (status 3) in a later submission: T2 has not ended.
        levering("c02", "T2", "lev-stop-1", **stop),
        levering("c02", "T2", "lev-stop-2", **{**stop, "status_aanlevering": "3"}),
    ]  # fmt: skip
    lines = [
        line("decl-1", "P1", "c01", "T1", (2025, 2), volume=5),  # clean: passes 9338, 9307, 9308, 9321, 0611, OM202
        line("decl-1", "X1", "c01", "T9", (2025, 2)),  # 9338: no toewijzing T9
        line("decl-1", "X2", "c01", "T1", (2024, 12)),  # 9307: before T1's ingangsdatum
        line("decl-4", "X3", "c01", "T1", (2025, 7)),  # 9308: after T1's einddatum
        line("decl-4", "X1", "c01", "T1", (2025, 4)),  # X1 again, corrected: its first try was rejected, no 8021
        line("decl-2", "X4", "c01", "T1", (2025, 3), volume=11),  # 9321: 11 > 10 per month
        line("decl-1", "P2", "c02", "T2", (2025, 1), volume=15),  # T2: 15 of 20
        line("decl-2", "X5", "c02", "T2", (2025, 2), volume=10),  # 9322: 15 + 10 > 20
        line("decl-3", "P5", "c02", "T2", (2025, 5), volume=5),  # 15 + 5 = 20 fits; no OM201 (stop withdrawn)
        line("decl-1", "P3", "c03", "T3", (2025, 1)),  # tariff 100 = contract: passes 0611; keeps P3 (8021)
        line("decl-1", "X6", "c03", "T3", (2025, 2), tarief=120),  # 0611: 120 <> 100
        line("decl-2", "P3", "c03", "T3", (2025, 2)),  # 8021: P3 again, later dagtekening
        line("decl-2", "X8", "c03", "T3", (2025, 2), dc="C", vorig_referentienummer="NOPE"),  # 8017
        # Correction: K1 (2 hours) is credited by K2 and re-declared as K3 (1 hour): net 100.
        line("decl-1", "K1", "c03", "T3", (2025, 3), volume=2),
        line("decl-3", "K2", "c03", "T3", (2025, 3), volume=2, dc="C", vorig_referentienummer="K1"),
        line("decl-3", "K3", "c03", "T3", (2025, 3), volume=1),
        line("decl-3", "P4", "c03", "T3", (2025, 4)),  # April, the stop month: no OM201
        line("decl-3", "S1", "c03", "T3", (2025, 5)),  # OM201: May, after the stop of 30 April (accepted)
        line("decl-1", "S2", "c05", "T5", (2025, 2)),  # OM202: no start message for T5 (accepted)
        # The same referentienummer twice on one dagtekening and declaratienummer: the submission id decides.
        line("decl-5", "DUP", "c03", "T3", (2025, 4)),
        line("decl-6", "DUP", "c03", "T3", (2025, 4)),  # 8021
    ]
    return {"toewijzing": toewijzingen, "start_zorg": starts, "stop_zorg": stops, "declaratie_regel": lines}


CONTRACT_TARIFFS = [
    {"submission_id": "ct-1", "domein": "jeugd", "berichtcode": "CSV", "gemeente_code": AMSTERDAM,
     "aanbieder_agb": AGB_A, "productcode": "45A01", "eenheid": "04", "tarief_cents": 100,
     "ingangsdatum": dt.date(2025, 1, 1), "einddatum": dt.date(2025, 12, 31)},
]  # fmt: skip


def build_scenario(home, *, reverse: bool) -> Paths:
    """Write the scenario's submissions in one order or the other, each received a day after the last."""
    records = scenario()
    submissions = sorted({row["submission_id"] for rows in records.values() for row in rows} | {"ct-1"})
    if reverse:
        submissions.reverse()
    paths = Paths(home)
    for day, submission_id in enumerate(submissions):
        subset = {
            kind: [row for row in rows if row["submission_id"] == submission_id] for kind, rows in records.items()
        }
        write_raw_zone(home, {kind: rows for kind, rows in subset.items() if rows})
        if submission_id == "ct-1":
            write_raw_zone(home, {"contracttarief": CONTRACT_TARIFFS})
        write_manifest(paths, submission_id, dt.datetime(2025, 7, 1, 9, tzinfo=UTC) + dt.timedelta(days=day))
    return paths


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The scenario built twice: written and received in one order, and in the opposite order."""
    built = {}
    for reverse in (False, True):
        home = tmp_path_factory.mktemp("reversed" if reverse else "forward")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("OUTCOME_MONITOR_HOME", str(home))
            paths = build_scenario(home, reverse=reverse)
            build.build_and_publish(paths, as_of_date=AS_OF)
        built[reverse] = paths
    return built


@pytest.fixture(scope="module")
def warehouse(builds):
    with duckdb.connect(str(builds[False].published_warehouse), read_only=True) as con:
        yield con


def lines_by_ref(con) -> dict[str, list[dict]]:
    cursor = con.execute("select * from fct_declaration_line order by declaration_line_id")
    names = [column[0] for column in cursor.description]
    found: dict[str, list[dict]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        found.setdefault(record["referentienummer"], []).append(record)
    return found


def verdict(con, ref, submission_id=None):
    rows = [row for row in lines_by_ref(con)[ref] if submission_id in (None, row["submission_id"])]
    assert len(rows) == 1, rows
    return rows[0]["status"], rows[0]["finding_codes"]


ACCEPTED, REJECTED = "geaccepteerd", "afgewezen"


@pytest.mark.parametrize(
    ("ref", "submission_id", "expected"),
    [
        ("P1", None, (ACCEPTED, [])),
        ("X1", "decl-1", (REJECTED, ["9338"])),
        ("X1", "decl-4", (ACCEPTED, [])),
        ("X2", None, (REJECTED, ["9307"])),
        ("X3", None, (REJECTED, ["9308"])),
        ("X4", None, (REJECTED, ["9321"])),
        ("P2", None, (ACCEPTED, [])),
        ("X5", None, (REJECTED, ["9322"])),
        ("P5", None, (ACCEPTED, [])),
        ("P3", "decl-1", (ACCEPTED, [])),
        ("X6", None, (REJECTED, ["0611"])),
        ("P3", "decl-2", (REJECTED, ["8021"])),
        ("X8", None, (REJECTED, ["8017"])),
        ("K1", None, (ACCEPTED, [])),
        ("K2", None, (ACCEPTED, [])),
        ("K3", None, (ACCEPTED, [])),
        ("P4", None, (ACCEPTED, [])),
        ("S1", None, (ACCEPTED, ["OM201"])),
        ("S2", None, (ACCEPTED, ["OM202"])),
        ("DUP", "decl-5", (ACCEPTED, [])),
        ("DUP", "decl-6", (REJECTED, ["8021"])),
    ],
)
def test_each_relational_rule_fails_and_passes(warehouse, ref, submission_id, expected):
    assert verdict(warehouse, ref, submission_id) == expected


def test_a_correction_supersedes_the_credited_debit_and_nets_to_the_new_debit(warehouse):
    lines = lines_by_ref(warehouse)
    k1, k2, k3 = lines["K1"][0], lines["K2"][0], lines["K3"][0]
    assert (k1["is_superseded"], k1["credited_by_referentienummer"], k1["superseded_by_referentienummer"]) == (
        True, "K2", "K3",
    )  # fmt: skip
    assert not k2["is_superseded"] and not k3["is_superseded"]
    net = warehouse.execute(
        "select sum(signed_bedrag_cents) from fct_declaration_line where status = 'geaccepteerd' "
        "and toewijzingnummer = 'T3' and month_start_date = date '2025-03-01'"
    ).fetchone()[0]
    assert net == k3["bedrag_cents"] == 100


def test_net_accepted_production_is_accepted_debits_minus_accepted_credits(warehouse):
    # Accepted: P1 500, X1 (again) 100, P2 1500, P5 500, P3 100, K1 200, K2 -200, K3 100, P4 100, S1 100,
    # S2 100, DUP 100.
    net = warehouse.execute(
        "select sum(signed_bedrag_cents) from fct_declaration_line where status = 'geaccepteerd'"
    ).fetchone()[0]
    assert net == 500 + 100 + 1500 + 500 + 100 + 200 - 200 + 100 + 100 + 100 + 100 + 100
    monthly = warehouse.execute("select sum(bedrag_cents) from fct_declared_amount_monthly").fetchone()[0]
    assert monthly == net


def test_a_stop_withdrawn_in_a_later_submission_no_longer_counts(warehouse):
    stops = warehouse.execute("select toewijzingnummer from intermediate.int_stops__effective order by all").fetchall()
    assert stops == [("T3",)]
    ended = warehouse.execute("select toewijzingnummer from intermediate.int_trajectories__ended").fetchall()
    assert ended == [("T3",)]


def test_fct_finding_has_one_row_per_finding_with_message_and_amount(warehouse):
    cursor = warehouse.execute(
        "select referentienummer, code, severity, classification, source, bedrag_cents, line_number, "
        "submission_id, message from fct_finding where record_type = 'declaratie_regel' order by code, submission_id"
    )
    found = [row[:8] for row in cursor.fetchall()]
    assert found == [
        # line numbers are positions within each submission, in the order of scenario()
        ("X6", "0611", "afwijzing", "fout", "relationeel", 120, 6, "decl-1"),
        ("X8", "8017", "afwijzing", "fout", "relationeel", 100, 4, "decl-2"),
        ("P3", "8021", "afwijzing", "fout", "relationeel", 100, 3, "decl-2"),
        ("DUP", "8021", "afwijzing", "fout", "relationeel", 100, 1, "decl-6"),
        ("X2", "9307", "afwijzing", "fout", "relationeel", 100, 3, "decl-1"),
        ("X3", "9308", "afwijzing", "fout", "relationeel", 100, 1, "decl-4"),
        ("X4", "9321", "afwijzing", "fout", "relationeel", 1100, 1, "decl-2"),
        ("X5", "9322", "afwijzing", "fout", "relationeel", 1000, 2, "decl-2"),
        ("X1", "9338", "afwijzing", "fout", "relationeel", 100, 2, "decl-1"),
        ("S1", "OM201", "signalering", "onzekerheid", "relationeel", 100, 5, "decl-3"),
        ("S2", "OM202", "signalering", "onzekerheid", "relationeel", 100, 8, "decl-1"),
    ]
    messages = dict(warehouse.execute("select code, message from fct_finding").fetchall())
    assert messages["9338"].startswith("Er is geen toewijzing")


def test_the_result_does_not_depend_on_the_order_files_arrived(builds):
    def table(paths, name, key):
        with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
            return con.execute(f"select * from {name} order by {key}").fetchall()

    forward, reverse = builds[False], builds[True]
    for name, key in (("fct_declaration_line", "declaration_line_id"), ("fct_finding", "finding_id")):
        assert table(forward, name, key) == table(reverse, name, key), name
    # ... although the submissions were really received in opposite orders.
    received = [table(paths, "fct_submission", "submission_id, record_type")[0][-2] for paths in (forward, reverse)]
    assert received[0] != received[1]


def test_feedback_report_gets_the_relational_findings_and_is_rewritten_only_when_they_change(builds):
    paths = builds[False]
    ingest_report = {
        "file_name": "decl-1.xml", "sha256": "0" * 64, "received_at": "2025-07-02T09:00:00+00:00",
        "status": "accepted", "sender": AGB_A,
        "counts": {"received": 8, "accepted": 8, "rejected": 0, "messages": 1, "messages_rejected": 0},
        "findings": [],
    }  # fmt: skip
    write_ingest_report(paths, "decl-1", ingest_report)
    rewritten = update_feedback_reports(paths.published_warehouse, paths)
    assert "decl-1" in rewritten and "decl-2" not in rewritten  # decl-2 has no ingest report here
    report = json.loads((paths.feedback / "decl-1.json").read_text(encoding="utf-8"))
    assert report["ingest"]["counts"] == ingest_report["counts"]
    # decl-1: P1, X1, X2, P2, P3, X6, K1, S2; X1, X2 and X6 rejected, K1 superseded (and still accepted).
    assert (report["counts"]["accepted"], report["counts"]["rejected"], report["counts"]["superseded"]) == (5, 3, 1)
    assert report["status"] == "partially_accepted"
    codes = {finding["code"]: finding for finding in report["findings"]}
    assert sorted(codes) == ["0611", "9307", "9338", "OM202"]
    assert codes["9338"]["severity"] == "afwijzing"
    assert codes["9338"]["rows"] == [
        {"member": "decl-1.xml", "line_number": 2, "referentienummer": "X1", "toewijzingnummer": "T9"}
    ]
    assert codes["OM202"]["severity"] == "signalering"
    assert report["build_id"] and report["relational_evaluated_at"]
    assert "9338" in (paths.feedback / "decl-1.html").read_text(encoding="utf-8")
    # Nothing changed: nothing is rewritten.
    assert update_feedback_reports(paths.published_warehouse, paths) == []

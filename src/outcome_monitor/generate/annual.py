"""Files a sender delivers once or once a year: contract tariffs, agreements, productieverantwoording.

The productieverantwoording is what a provider's own administration says it produced: the care it
delivered (volume x contract tariff of every line before any defect was planted), so lines that
ingest rejects already make real differences with the approved declarations. On top of that a few
rows carry a planted discrepancy (care not yet declared, a credit not processed, a product left out),
one provider above the EUR 125,000 threshold sends no controleverklaring and one provider is late
(the deadline for the final version is 1 April of the next year).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from outcome_monitor.generate.periods import Calendar
from outcome_monitor.generate.profiles import CSV_NL
from outcome_monitor.generate.region import PRODUCTS, Region

CONTRACTTARIEF_FORMAT = CSV_NL  # as Dutch Excel writes it: ";", decimal comma, DD-MM-YYYY, Windows-1252
CONTROLEVERKLARING_THRESHOLD_CENTS = 12_500_000
LATE_PROVIDER_INDEX = 2  # this provider sends its productieverantwoording after 1 April
DISCREPANCIES = ("nog_niet_gedeclareerd", "credit_niet_verwerkt", "product_ontbreekt")


def contracttarief_rows(region: Region, gemeente: str, start_ord: int) -> list[list]:
    ingang = date(date.fromordinal(start_ord).year, 1, 1).toordinal()
    rows = []
    for aanbieder in region.providers_by_gemeente[gemeente]:
        for (agb, code), tarief in sorted(region.tarieven.items()):
            if agb == aanbieder.agb:
                rows.append([gemeente, agb, "jeugd", code, PRODUCTS[code].eenheid, tarief, ingang, None])
    return rows


# (indicator, domein, richting, typical baseline, improvement agreed)
_AGREEMENTS = (
    ("UITVAL", "jeugd", "lager", 0.15, 0.02),
    ("VOLGENS_PLAN", "jeugd", "hoger", 0.55, 0.04),
    ("GEEN_NIEUWE_START", "jeugd", "hoger", 0.82, 0.03),
    ("ZONDER_HULP_VERDER", "jeugd", "hoger", 0.38, 0.05),
    ("DOELREALISATIE", "jeugd", "hoger", 0.62, 0.05),
    ("TEVREDENHEID", "jeugd", "hoger", 7.3, 0.2),
    ("CEO_05", "jeugd", "hoger", 0.72, 0.03),
    ("CEO_08", "jeugd", "hoger", 0.60, 0.05),
    ("UITVAL", "wmo", "lager", 0.10, 0.02),
    ("VOLGENS_PLAN", "wmo", "hoger", 0.52, 0.04),
    ("ZRM_VERBETERD", "wmo", "hoger", 0.50, 0.05),
    ("TEVREDENHEID", "wmo", "hoger", 7.6, 0.1),
    ("CEO_03", "wmo", "hoger", 0.85, 0.02),
    ("CEO_07", "wmo", "hoger", 0.68, 0.04),
)
REGION_WIDE_SENDER = "1969"  # the centre municipality sends the region's joint agreements


def _value(x: float, code: str) -> str:
    return f"{x:.1f}" if code == "TEVREDENHEID" else f"{x:.2f}"


def afspraak_rows(rng: random.Random, region: Region, gemeente: str, cal: Calendar) -> list[list]:
    """Agreements per indicator and domain for each year of the period, with a 2024 baseline.

    Baselines lie near typical levels (they describe the year before the data); targets move them a
    little in the better direction. One agreement names a provider, one a half-year.
    """
    agreed = date(cal.start.year - 1, 11, rng.randint(4, 28)).toordinal()
    years = sorted({m.year for m in cal.months})
    rows = []
    for code, domein, richting, typical, step in _AGREEMENTS:
        baseline = typical * rng.uniform(0.9, 1.1) if code != "TEVREDENHEID" else typical + rng.uniform(-0.3, 0.3)
        for i, year in enumerate(years):
            target = baseline - step * (i + 1) if richting == "lager" else baseline + step * (i + 1)
            if code != "TEVREDENHEID":
                target = min(1.0, max(0.0, target))
            rows.append([code, gemeente, domein, "*", "*", str(year), _value(baseline, code), _value(target, code),
                         richting, agreed])  # fmt: skip
    provider = region.providers_by_gemeente[gemeente][0].agb
    rows.append(["ZONDER_HULP_VERDER", gemeente, "jeugd", provider, "*", f"{years[0]}-H2", "0.35", "0.40", "hoger",
                 agreed])  # fmt: skip
    if gemeente == REGION_WIDE_SENDER:
        for code, domein, richting, baseline, target in (
            ("UITVAL", "jeugd", "lager", "0.16", "0.14"),
            ("DOELREALISATIE", "*", "hoger", "0.60", "0.65"),
            ("CEO_06", "*", "hoger", "0.75", "0.78"),
        ):
            rows.append([code, "*", domein, "*", "*", str(years[0]), baseline, target, richting, agreed])
    return rows


@dataclass(slots=True)
class Statement:
    """One provider's productieverantwoording for one year."""

    agb: str
    year: int
    delivered: int
    turnover_cents: int
    controleverklaring: str
    rows: list[list] = field(default_factory=list)

    def truth(self) -> dict:
        deadline = date(self.year + 1, 4, 1)
        required = self.turnover_cents > CONTROLEVERKLARING_THRESHOLD_CENTS
        return {
            "aanbieder_agb": self.agb, "jaar": self.year,
            "delivered_on": date.fromordinal(self.delivered).isoformat(), "deadline": deadline.isoformat(),
            "on_time": date.fromordinal(self.delivered) < deadline,
            "national_turnover_cents": self.turnover_cents, "controleverklaring": self.controleverklaring,
            "controleverklaring_required": required,
            "controleverklaring_missing": required and self.controleverklaring == "nee",
        }  # fmt: skip


def productieverantwoording(
    rng: random.Random,
    region: Region,
    years: list[int],
    care: dict[tuple[str, str, str, int], list[int]],
    declared: dict[tuple[str, str, str, int], list[int]],
) -> tuple[list[Statement], list[dict]]:
    """Statements per youth-care provider and completed year, and the expected reconciliation."""
    keys = sorted(k for k in care if k[3] in years)
    planted: dict[tuple[str, str, str, int], str] = {}
    if keys:
        for kind in DISCREPANCIES:
            planted[keys[int(rng.random() * len(keys))]] = kind
    statements = []
    pv: dict[tuple[str, str, str, int], tuple[int, int]] = {}
    for index, aanbieder in enumerate(region.aanbieders):
        for year in years:
            mine = [k for k in keys if k[0] == aanbieder.agb and k[3] == year]
            if not mine:
                continue
            if index == LATE_PROVIDER_INDEX:
                delivered = date(year + 1, 5, rng.randint(6, 28)).toordinal()
            else:
                delivered = date(year + 1, 2, 15).toordinal() + rng.randint(0, 40)
            for key in mine:
                volume, cents = care[key]
                kind = planted.get(key)
                if kind == "product_ontbreekt":
                    continue
                if kind == "nog_niet_gedeclareerd":  # about a month of care the provider has not declared yet
                    extra = max(1, volume // 12)
                    volume, cents = volume + extra, cents + cents * extra // volume
                elif kind == "credit_niet_verwerkt":
                    cents -= cents // 10
                pv[key] = (volume, cents)
            turnover = sum(pv[k][1] for k in mine if k in pv)
            controle = "ja" if turnover > CONTROLEVERKLARING_THRESHOLD_CENTS else "nee"
            statements.append(Statement(aanbieder.agb, year, delivered, turnover, controle))
    # One provider above the threshold delivers without a controleverklaring.
    above = [s for s in statements if s.controleverklaring == "ja"]
    if above:
        above[int(rng.random() * len(above))].controleverklaring = "nee"
    for st in statements:
        for key in keys:
            if key[0] == st.agb and key[3] == st.year and key in pv:
                volume, cents = pv[key]
                st.rows.append([st.agb, st.year, key[1], "jeugd", key[2], volume, cents, st.controleverklaring,
                                "definitief"])  # fmt: skip
    reconciliation = []
    for key in sorted(set(keys) | {k for k in declared if k[3] in years}):
        agb, gemeente, code, year = key
        dec_volume, dec_cents = declared.get(key, (0, 0))
        pv_volume, pv_cents = pv.get(key, (None, None))
        reconciliation.append(
            {
                "aanbieder_agb": agb, "gemeente_code": gemeente, "domein": "jeugd", "productcode": code,
                "jaar": year, "declared_volume": dec_volume, "declared_cents": dec_cents,
                "pv_volume": pv_volume, "pv_cents": pv_cents,
                "difference_cents": None if pv_cents is None else pv_cents - dec_cents,
                "planted_discrepancy": planted.get(key),
            }
        )  # fmt: skip
    return statements, reconciliation

"""Expected values of every indicator, counted from the generated facts with the DOMAIN.md definitions.

Counted while generating, never from the output files, and independently of dbt: a row with a planted
defect is rejected by a correct ingest, so it is left out here. Each figure exists per municipality x
domain x provider (and ``*`` for all providers) x period (half-year ``2025-H1`` and year ``2025``);
``productcategorie`` is always ``*``.

Definitions as counted here (where DOMAIN.md leaves a choice, the choice is named):

- UITVAL / VOLGENS_PLAN: trajectories (toewijzingen) by the date of their accepted ending stop.
- GEEN_NIEUWE_START: trajectories ended with 31/34 (wmo 19/23) whose client has no trajectory in the
  same domain whose first start lies after the end date and on or before the last day of the next
  half-year. A year counts the trajectories of both its half-years. ``status`` is ``voorlopig`` when
  that next half-year reaches beyond the generated period.
- ZONDER_HULP_VERDER, DOELREALISATIE: accepted outcome rows by meetdatum (one row per trajectory
  carries these answers; a second informant's row only a tevredenheid).
- TEVREDENHEID: per informant and for all informants (``*``): n, sum, mean and the number >= 7.
- ZRM_VERBETERD: per client with an accepted T0 and a later Tn at the provider, by the Tn date, over
  the domains present in both; improved = some domain higher, none lower.
- CEO_<vraag>: answers 4-5 / answers 1-5 (9 excluded) per municipality x law x year, per provider
  named in the survey and ``*``; with a 95% Wilson interval.
- UITPUTTING: accepted declared volume / assigned volume, both by month: a toewijzing assigns
  volume x days/7 (per week) or volume x days/month-days (per month), rounded down per month, for
  the days of the month within the toewijzing; declared volume by the product period's month.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

_WILSON_Z = 1.96


def periods_of(ordinal: int) -> tuple[str, str]:
    d = date.fromordinal(ordinal)
    return f"{d.year}-H{1 if d.month <= 6 else 2}", str(d.year)


def wilson(successes: int, n: int) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = _WILSON_Z**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    margin = _WILSON_Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return round(max(0.0, centre - margin), 6), round(min(1.0, centre + margin), 6)


class IndicatorTruth:
    def __init__(self, period_end: int) -> None:
        self.period_end = period_end
        # (code, gemeente, domein, agb, period) -> [numerator, denominator]
        self.ratios: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        # (gemeente, domein, agb, period, informant) -> [n, sum, n >= 7]
        self.tevredenheid: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        self.provisional: set[str] = set()  # GEEN_NIEUWE_START periods whose next half-year is incomplete

    def ratio(self, code: str, gemeente: str, domein: str, agb: str, ordinal: int, hit: bool, n: int = 1) -> None:
        for period in periods_of(ordinal):
            tally = self.ratios[(code, gemeente, domein, agb, period)]
            tally[0] += n if hit else 0
            tally[1] += n

    def volume(self, gemeente: str, agb: str, periods: tuple[str, str], declared: int, assigned: int) -> None:
        """UITPUTTING (jeugd): volumes of one month, whose half-year and year are ``periods``."""
        for period in periods:
            tally = self.ratios[("UITPUTTING", gemeente, "jeugd", agb, period)]
            tally[0] += declared
            tally[1] += assigned

    def ended(self, domein: str, gemeente: str, agb: str, ordinal: int, reason: str, n: int) -> None:
        denominator = ("31", "32", "33", "34") if domein == "jeugd" else ("19", "21", "22", "23")
        if reason in denominator:
            self.ratio("UITVAL", gemeente, domein, agb, ordinal, reason == denominator[1], n)
            self.ratio("VOLGENS_PLAN", gemeente, domein, agb, ordinal, reason == denominator[0], n)

    def geen_nieuwe_start(
        self, domein: str, gemeente: str, agb: str, ordinal: int, restarted: bool, n: int, complete: bool
    ) -> None:
        self.ratio("GEEN_NIEUWE_START", gemeente, domein, agb, ordinal, not restarted, n)
        if not complete:
            self.provisional.update(periods_of(ordinal))

    def outcome(
        self, gemeente: str, domein: str, agb: str, ordinal: int, informant: str,
        tevredenheid: int | None, zonder_hulp: str | None, doel: int | None,
    ) -> None:  # fmt: skip
        if zonder_hulp in ("01", "02", "03"):
            self.ratio("ZONDER_HULP_VERDER", gemeente, domein, agb, ordinal, zonder_hulp == "01")
        if doel is not None:
            self.ratio("DOELREALISATIE", gemeente, domein, agb, ordinal, doel <= 2)
        if tevredenheid is not None:
            for period in periods_of(ordinal):
                tally = self.tevredenheid[(gemeente, domein, agb, period, informant)]
                tally[0] += 1
                tally[1] += tevredenheid
                tally[2] += tevredenheid >= 7

    def zrm(self, gemeente: str, agb: str, t0: dict[int, int], tn: dict[int, int], tn_ordinal: int) -> None:
        common = t0.keys() & tn.keys()
        if not common:
            return
        improved = any(tn[d] > t0[d] for d in common) and not any(tn[d] < t0[d] for d in common)
        self.ratio("ZRM_VERBETERD", gemeente, "wmo", agb, tn_ordinal, improved)

    def ceo(self, gemeente: str, wet: str, agb: str, year: int, vraag: str, antwoord: int) -> None:
        if 1 <= antwoord <= 5:
            domein = "jeugd" if wet == "jeugdwet" else "wmo"
            tally = self.ratios[(f"CEO_{vraag}", gemeente, domein, agb, str(year))]
            tally[0] += antwoord >= 4
            tally[1] += 1

    # -- output ------------------------------------------------------------------------------

    def rows(self) -> list[dict]:
        totals: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for (code, gemeente, domein, agb, period), (num, den) in self.ratios.items():
            for key in ((code, gemeente, domein, agb, period), (code, gemeente, domein, "*", period)):
                totals[key][0] += num
                totals[key][1] += den
        out = []
        for (code, gemeente, domein, agb, period), (num, den) in sorted(totals.items()):
            if den == 0:
                continue
            row = {
                "indicator_code": code, "gemeente_code": gemeente, "domein": domein, "aanbieder_agb": agb,
                "productcategorie": "*", "period": period, "numerator": num, "denominator": den,
                "value": round(num / den, 6),
            }  # fmt: skip
            if code.startswith("CEO_"):
                row["n"] = den
                row["ci_low"], row["ci_high"] = wilson(num, den)
            if code == "GEEN_NIEUWE_START":
                row["status"] = "voorlopig" if period in self.provisional else "definitief"
            out.append(row)
        tev: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for (gemeente, domein, agb, period, informant), tally in self.tevredenheid.items():
            for key in (
                (gemeente, domein, agb, period, informant), (gemeente, domein, "*", period, informant),
                (gemeente, domein, agb, period, "*"), (gemeente, domein, "*", period, "*"),
            ):  # fmt: skip
                for i in range(3):
                    tev[key][i] += tally[i]
        for (gemeente, domein, agb, period, informant), (n, total, seven) in sorted(tev.items()):
            out.append(
                {
                    "indicator_code": "TEVREDENHEID", "gemeente_code": gemeente, "domein": domein,
                    "aanbieder_agb": agb, "productcategorie": "*", "period": period, "informant": informant,
                    "n": n, "sum": total, "value": round(total / n, 6), "numerator": seven, "denominator": n,
                    "share_7_plus": round(seven / n, 6),
                }
            )  # fmt: skip
        return out

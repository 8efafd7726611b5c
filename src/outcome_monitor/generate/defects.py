"""Business-rule defects the generator plants, and the finding code a correct ingest must give each.

All defects in XML keep the message valid against its XSD: they are errors of content, not of form.
Defects in tabular files are cells a correct tabular parser or row suite rejects (``TABULAR_DEFECTS``).

``unknown_productcategorie`` (OM102) is listed but never planted: in iJw 3.2 ``LDT_ProductCategorie``
is an XSD enumeration holding exactly the JZ020 codes, so a category outside JZ020 cannot be written
without making the message XSD-invalid (it would be a file-level rejection, not an OM102 line finding).
"""

from __future__ import annotations

import random

from outcome_monitor.generate.care import Toewijzing, allowed_volume
from outcome_monitor.generate.periods import Month

EXPECTED_CODE = {
    "bsn_elfproef": "OM101",  # the client's BSN fails the elfproef
    "bedrag_mismatch": "9346",  # IngediendBedrag != GeleverdVolume x ProductTarief (TR346)
    "period_outside_declaration": "9319",  # product period not within the DeclaratiePeriode
    "period_spans_months": "OM105",  # product period crosses a month boundary
    "repeated_referentienummer": "8021",  # ReferentieNummer used before (only the repeat is rejected)
    "unknown_productcategorie": "OM102",  # not planted, see the module docstring
    # Tabular files (CSV/XLSX): codes of the tabular parser; out-of-range values are OM024 as in the suites.
    "ambiguous_amount": "OM021",  # "1.250,00": a thousands separator makes the amount ambiguous
    "impossible_date": "OM020",  # 31-02-2025 is no date
    "not_a_whole_number": "OM022",  # tevredenheid "7,5"
    "required_field_empty": "OM023",  # a ZRM row without its score
    "tevredenheid_out_of_range": "OM024",  # 11 on a 1-10 scale
    "unknown_informant": "OM024",  # "leerkracht" is not jeugdige, ouder or client
    "zrm_score_out_of_range": "OM024",  # 6 on a 1-5 scale
    "antwoord_out_of_range": "OM024",  # survey answer 7: only 1-5 and 9 exist
}
LINE_DEFECTS = (
    "bsn_elfproef",
    "bedrag_mismatch",
    "period_outside_declaration",
    "period_spans_months",
    "repeated_referentienummer",
)
STOP_DEFECTS = ("bsn_elfproef",)
# Defects of tabular rows, per record type (declaration lines in a file get LINE_DEFECTS as well).
TABULAR_DEFECTS = {
    "declaratie_regel": ("ambiguous_amount",),
    "uitkomst": ("tevredenheid_out_of_range", "unknown_informant", "impossible_date", "not_a_whole_number"),
    "zrm_meting": ("zrm_score_out_of_range", "impossible_date", "required_field_empty"),
    "clientervaring": ("antwoord_out_of_range",),
}
NOT_PLANTED = {
    "unknown_productcategorie": "LDT_ProductCategorie is an XSD enumeration equal to JZ020",
}


def wrong_amount(rng: random.Random, volume: int, tarief: int) -> int:
    """An IngediendBedrag that differs from volume x tariff, the way it goes wrong in practice."""
    if rng.random() < 0.5:
        return (volume + 1) * tarief  # one unit too many
    return volume * tarief + rng.randint(1, 99)  # rounding or a typing error in the cents


def previous_month_period(
    t: Toewijzing, prev: Month, episode_begin: int, episode_end: int, volume: int
) -> tuple[int, int, int] | None:
    """The care of the previous month, declared again in this month's declaration (9319).

    The period lies inside the trajectory, so the only thing wrong with it is the declaration period.
    """
    begin, end = max(episode_begin, prev.first), min(episode_end, prev.last)
    if begin > end:
        return None
    cap = allowed_volume(t, end - begin + 1, prev.days)
    return (begin, end, min(volume, cap)) if cap > 0 else None


def spanning_period(
    t: Toewijzing, prev: Month, this: Month, episode_begin: int, episode_end: int, volume: int
) -> tuple[int, int, int] | None:
    """A product period from the 15th of the previous month to the 14th of this one (OM105).

    It stays inside the trajectory. It also starts before the DeclaratiePeriode, so an ingest may add
    9319 to the line; OM105 is the finding that must be there.
    """
    begin, end = prev.first + 14, this.first + 13
    if episode_begin > begin or episode_end < end:
        return None
    cap = allowed_volume(t, end - begin + 1, prev.days)
    return (begin, end, max(1, min(volume, cap))) if cap > 0 else None

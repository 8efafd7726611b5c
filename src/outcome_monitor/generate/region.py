"""The sample region: four real municipalities, fictitious providers and product catalogues.

Youth care (Jeugdwet) is financed per unit: toewijzingen, start/stop and monthly declarations as iJw
XML (a few providers deliver declarations or start/stop as CSV/XLSX instead, see ``profiles``).
Social support (Wmo) is financed taakgericht (a lump sum per provider), as many municipalities do
for begeleiding and dagbesteding: the municipality still assigns per client and the provider
reports start and stop, both as CSV, but nobody declares per client. Those providers account through
outcomes, ZRM measurements and the client-experience survey only.

The municipalities and their CBS codes are real (codelijsten/CBS_Gemeentecodes.md). The providers
are invented on purpose: their names sound like Drenthe and Groningen youth-care organisations, but
none exists, so no dashboard built on sample data can be mistaken for a verdict on a real provider.
Their AGB codes are made up as well.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Gemeente:
    code: str
    naam: str
    weight: float  # share of the region's youth-care clients (roughly the population)
    places: tuple[tuple[str, str], ...]  # (plaatsnaam, first four digits of the postcode)


@dataclass(frozen=True, slots=True)
class Product:
    """A product of the regional catalogue (JZ020 category; code starts with the category)."""

    code: str
    categorie: str
    omschrijving: str
    eenheid: str  # WJ756: 04 uur, 14 etmaal, 16 dagdeel, 82 stuks (output)
    frequentie: str  # WMO757: 2 per week, 4 per maand
    volume_min: int
    volume_max: int
    tarief_cents: int  # regional base tariff per unit
    duur_min_days: int  # planned duration of a toewijzing
    duur_max_days: int
    # Products often assigned alongside this one, at the same moment: (code, share of trajectories).
    companions: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Aanbieder:
    agb: str
    naam: str
    gemeenten: tuple[str, ...]
    products: tuple[str, ...]  # product codes it is contracted for (main products of a trajectory)


GEMEENTEN: tuple[Gemeente, ...] = (
    Gemeente("1731", "Midden-Drenthe", 33.7, (("Beilen", "9411"), ("Westerbork", "9431"), ("Smilde", "9422"))),
    Gemeente("1699", "Noordenveld", 33.0, (("Roden", "9301"), ("Peize", "9321"), ("Norg", "9331"))),
    Gemeente("1730", "Tynaarlo", 34.5, (("Zuidlaren", "9471"), ("Eelde", "9761"), ("Vries", "9481"))),
    Gemeente("1969", "Westerkwartier", 65.0, (("Leek", "9351"), ("Zuidhorn", "9801"), ("Grootegast", "9861"))),
)

_P = Product
PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in (
        # code, category, description, eenheid, frequentie, volume min/max, tariff, duration min/max, companions
        _P("45A03", "45", "Ambulante begeleiding", "04", "2", 1, 4, 6450, 120, 540, (("40A01", 0.15), ("45A10", 0.2))),
        _P("45A04", "45", "Ambulante behandeling", "04", "2", 1, 3, 9150, 90, 270, (("45A03", 0.6),)),
        _P("45A10", "45", "Intensieve gezinsbegeleiding", "04", "4", 8, 24, 7800, 60, 180, (("45A04", 0.4),)),
        _P("40A01", "40", "Persoonlijke verzorging", "04", "2", 1, 5, 4850, 120, 540),
        _P("41A01", "41", "Dagbehandeling", "16", "2", 2, 8, 5600, 180, 540, (("42A01", 0.7), ("45A04", 0.3))),
        _P("42A01", "42", "Vervoer dagbehandeling", "82", "2", 2, 10, 1250, 180, 540),
        _P("43A02", "43", "Verblijf met behandeling", "14", "2", 7, 7, 9500, 180, 720,
           (("41A01", 0.6), ("45A04", 0.3))),
        _P("44A01", "44", "Gezinshuis", "14", "2", 7, 7, 8400, 365, 1095, (("45A04", 0.5), ("40A01", 0.3))),
        _P("44A05", "44", "Pleegzorg", "14", "2", 7, 7, 3650, 365, 1460, (("45A03", 0.4), ("45A04", 0.2))),
        _P("46A01", "46", "Crisisopvang", "14", "2", 7, 7, 9500, 7, 56, (("45A04", 0.3),)),
        _P("54001", "54", "Jeugd-ggz kortdurend", "04", "2", 1, 2, 8950, 60, 180, (("45A03", 0.2),)),
        _P("54002", "54", "Jeugd-ggz behandeling", "04", "2", 1, 3, 9500, 120, 450, (("45A03", 0.45), ("45A10", 0.15))),
    )
}  # fmt: skip

# Ordered so that the first four or five already cover every municipality (small scales use a prefix).
AANBIEDERS: tuple[Aanbieder, ...] = (
    Aanbieder("42100317", "Jeugdhulp Drentse Aa", ("1731", "1730", "1699"), ("45A03", "45A04", "45A10")),
    Aanbieder("42200458", "Kompas Jeugd en Gezin", ("1969", "1699"), ("45A03", "45A10", "40A01")),
    Aanbieder("42300129", "Het Brinkhuis Jeugd-ggz", ("1730", "1731", "1969", "1699"), ("54001", "54002")),
    Aanbieder("42400776", "Gezinshuizen De Linde", ("1731", "1969"), ("44A01", "44A05")),
    Aanbieder("42500203", "Dagbehandeling De Speelberg", ("1699", "1730", "1969"), ("41A01",)),
    Aanbieder("42100894", "Praktijk Noorderlicht Kind en Jeugd", ("1969", "1730"), ("54001", "45A04")),
    Aanbieder("42200561", "Zorgboerderij De Hondsrug", ("1730", "1731"), ("41A01", "45A03")),
    Aanbieder("42300642", "Orthopedagogisch Centrum Esdal", ("1731", "1699", "1969"), ("45A04", "41A01")),
    Aanbieder("42400118", "Jeugdzorg Westerkwartier", ("1969", "1699"), ("45A03", "45A10")),
    Aanbieder("42500985", "Pleeggezinnen Het Anker", ("1731", "1699", "1730", "1969"), ("44A05",)),
    Aanbieder("42100432", "Behandelcentrum De Veenhorst", ("1731", "1730", "1969"), ("43A02", "46A01")),
    Aanbieder("42200377", "Crisisdienst Jeugd Noord", ("1731", "1699", "1730", "1969"), ("46A01",)),
    Aanbieder("42300850", "Jeugdteam Smilde-Beilen", ("1731", "1699"), ("45A03", "40A01")),
    Aanbieder("42400239", "Ambulante Hulp Zuidlaardermeer", ("1730", "1699"), ("45A03", "45A04")),
    Aanbieder("42500516", "Jeugd-ggz Peize", ("1699", "1969"), ("54002", "54001")),
)

BASE_CLIENTS = 2000  # youth-care clients at scale 1.0
WMO_SHARE = 0.5  # Wmo clients per youth-care client (kept small: Wmo here is begeleiding and dagbesteding)

# WMO020 categories: 01 hulp bij het huishouden, 02 begeleiding, 07 dagbesteding, 08 vervoerdiensten.
# No tariff: taakgericht financing (the tariff field is kept for the shared Product type).
WMO_PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in (
        _P("02A01", "02", "Individuele begeleiding", "04", "2", 1, 4, 0, 180, 720),
        _P("02A05", "02", "Begeleiding groep", "16", "2", 1, 4, 0, 180, 540),
        _P("07A01", "07", "Dagbesteding", "16", "2", 2, 6, 0, 180, 730, (("08A01", 0.45),)),
        _P("08A01", "08", "Vervoer dagbesteding", "82", "2", 2, 10, 0, 180, 730),
        _P("01A01", "01", "Hulp bij het huishouden", "04", "2", 2, 4, 0, 365, 1095),
    )
}  # fmt: skip

# Wmo providers (AGB 98...: other care providers), ordered so that the first two cover every municipality.
WMO_AANBIEDERS: tuple[Aanbieder, ...] = (
    Aanbieder("98100123", "Welzijn en Zorg Noordenveld", ("1699", "1730"), ("02A01", "01A01")),
    Aanbieder("98200456", "Begeleiding Het Drentse Land", ("1731", "1969", "1730"), ("02A01", "02A05")),
    Aanbieder("98300789", "Dagbesteding De Boerenschuur", ("1731", "1699", "1969"), ("07A01",)),
    Aanbieder("98400234", "Thuishulp Westerkwartier", ("1969", "1699"), ("01A01",)),
    Aanbieder("98500567", "Zorgcooperatie Hondsrug", ("1730", "1731"), ("02A01", "07A01")),
)


def provider_count(scale: float) -> int:
    """About 15 providers at scale 1 and above, at least 4 for small regions."""
    return max(4, min(len(AANBIEDERS), round(len(AANBIEDERS) * scale**0.5)))


def wmo_provider_count(scale: float) -> int:
    """5 Wmo providers at scale 1 and above, at least 2."""
    return max(2, min(len(WMO_AANBIEDERS), round(len(WMO_AANBIEDERS) * scale**0.5)))


@dataclass(frozen=True, slots=True)
class Region:
    gemeenten: tuple[Gemeente, ...]
    aanbieders: tuple[Aanbieder, ...]
    # (agb, product code) -> contract tariff in cents: one tariff per provider and product for the
    # whole period and for all its municipalities, so a tariff check has one right answer.
    tarieven: dict[tuple[str, str], int]
    # gemeente code -> providers contracted there
    providers_by_gemeente: dict[str, tuple[Aanbieder, ...]]
    wmo_aanbieders: tuple[Aanbieder, ...] = ()
    wmo_by_gemeente: dict[str, tuple[Aanbieder, ...]] | None = None


def build_region(scale: float, rng: random.Random) -> Region:
    aanbieders = AANBIEDERS[: provider_count(scale)]
    tarieven: dict[tuple[str, str], int] = {}
    for a in aanbieders:
        codes = set(a.products)
        codes.update(code for c in a.products for code, _share in PRODUCTS[c].companions)
        for code in sorted(codes):
            base = PRODUCTS[code].tarief_cents
            tarief = round(base * rng.uniform(0.94, 1.06) / 5) * 5
            tarieven[(a.agb, code)] = max(1250, min(9500, tarief))
    by_gemeente = {g.code: tuple(a for a in aanbieders if g.code in a.gemeenten) for g in GEMEENTEN}
    wmo = WMO_AANBIEDERS[: wmo_provider_count(scale)]
    wmo_by_gemeente = {g.code: tuple(a for a in wmo if g.code in a.gemeenten) for g in GEMEENTEN}
    return Region(GEMEENTEN, aanbieders, tarieven, by_gemeente, wmo, wmo_by_gemeente)

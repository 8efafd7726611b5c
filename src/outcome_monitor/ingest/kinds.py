"""The submission kinds of CSV, XLSX and JSON files, as data: columns, types, record types, sender role.

This module is the machine-readable form of ``docs/aanlevering.md``. The tabular parser, the
provider templates and the documentation all read it, so a column exists in one place only.

A file holds exactly one kind, recognised from its header: the header must contain every required
column of the kind and nothing the kind does not know (names are case-insensitive, surrounding
spaces ignored, order free).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from outcome_monitor.ingest.rejection import MessageRejected

# Column types. Every cell arrives as text (CSV, JSON literals) or as an Excel value; see tabular.py.
TEXT = "text"  # free identifier or text: surrounding spaces removed, empty is missing
CODE = "code"  # a code: like text, checked against `allowed` where the kind fixes the values
DATE = "date"  # YYYY-MM-DD or DD-MM-YYYY (or an Excel date cell)
INT = "int"  # whole number, no separators
EURO_CENTS = "euro_cents"  # euro amount with decimal comma or point, at most 2 decimals -> whole cents
DECIMAL = "decimal"  # number with decimal comma or point -> float
BSN = "bsn"  # burgerservicenummer: 9 digits (8 digits gets its leading zero back); elfproef in the suites
TYPES = (TEXT, CODE, DATE, INT, EURO_CENTS, DECIMAL, BSN)

AANBIEDER, GEMEENTE = "aanbieder", "gemeente"
WILDCARD = "*"  # also in validation/row_checks.py


@dataclass(frozen=True)
class Column:
    name: str  # as in the header (lower case)
    type: str
    required: bool = True
    description: str = ""  # Dutch, for the template's toelichting
    example: str = ""
    allowed: tuple[str, ...] = ()  # the only values the parser accepts (case-insensitive), canonical spelling
    aliases: tuple[tuple[str, str], ...] = ()  # (spelling, canonical value) accepted besides `allowed`
    codelist: str | None = None  # a list of outcome_monitor.codelists, checked by the row suites
    pad: int = 0  # a code of digits lost its leading zeros in Excel: left-pad to this width
    wildcard: bool = False  # '*' means "all" (afspraak scope)
    default: str | None = None  # the value of an empty optional cell
    raw_name: str | None = None  # the raw schema's column name, when it differs from `name`
    bounds: tuple[int, int] | None = None  # documented range of a whole number (checked by the row suites)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")

    @property
    def key(self) -> str:
        """The column's name in the raw zone (and in the row dicts the parser returns)."""
        if self.raw_name:
            return self.raw_name
        return f"{self.name}_cents" if self.type == EURO_CENTS else self.name


@dataclass(frozen=True)
class Kind:
    name: str
    record_types: tuple[str, ...]
    sender_role: str  # who sends it: the value of gemeente_code or aanbieder_agb must be one sender
    description: str
    columns: tuple[Column, ...]
    # levering: the value of this column picks the record type (soort start -> start_zorg, stop -> stop_zorg)
    record_type_by: tuple[str, tuple[tuple[str, str], ...]] | None = None

    @property
    def required(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.required)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns)

    @property
    def sender_column(self) -> str:
        return "gemeente_code" if self.sender_role == GEMEENTE else "aanbieder_agb"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# Columns several kinds share.
def _gemeente(wildcard: bool = False) -> Column:
    return Column(
        "gemeente_code",
        CODE,
        description="CBS-gemeentecode (4 cijfers" + (", of * voor alle gemeenten)" if wildcard else ")"),
        example="1731",
        codelist="gemeente",
        pad=4,
        wildcard=wildcard,
    )


def _agb(required: bool = True, wildcard: bool = False) -> Column:
    return Column(
        "aanbieder_agb",
        CODE,
        required,
        description="AGB-code van de aanbieder (8 cijfers" + (", of * voor alle aanbieders)" if wildcard else ")"),
        example="65656055",
        pad=8,
        wildcard=wildcard,
    )


def _domein(wildcard: bool = False) -> Column:
    return Column(
        "domein",
        CODE,
        description="jeugd (Jeugdwet) of wmo (Wmo 2015)" + (", of * voor beide" if wildcard else ""),
        example="jeugd",
        allowed=("jeugd", "wmo"),
        wildcard=wildcard,
    )


_BSN = Column("bsn", BSN, description="Burgerservicenummer van de cliënt (9 cijfers)", example="999900006")
_TOEWIJZINGNUMMER = Column("toewijzingnummer", TEXT, description="Nummer van de toewijzing", example="T2025-0001")


def _productcategorie(required: bool = True, wildcard: bool = False) -> Column:
    return Column(
        "productcategorie",
        CODE,
        required,
        description="Productcategorie (codelijst JZ020 voor jeugd, WMO020 voor wmo)"
        + (", of * voor alle" if wildcard else ""),
        example="45",
        codelist="productcategorie",
        pad=2,
        wildcard=wildcard,
    )


def _productcode(required: bool) -> Column:
    return Column("productcode", CODE, required, description="Productcode uit het contract", example="45A03")


def _date(
    name: str, required: bool, description: str, example: str = "2025-03-01", raw_name: str | None = None
) -> Column:
    return Column(
        name,
        DATE,
        required,
        description=f"{description} (JJJJ-MM-DD of DD-MM-JJJJ)",
        example=example,
        raw_name=raw_name,
    )


def _eenheid(required: bool) -> Column:
    return Column(
        "eenheid", CODE, required, description="Eenheid (codelijst WJ756)", example="04", codelist="eenheid", pad=2
    )


def _euro(name: str, required: bool, description: str, example: str) -> Column:
    return Column(
        name,
        EURO_CENTS,
        required,
        description=f"{description} in euro's, met decimale komma of punt en zonder duizendtallen (12,50)",
        example=example,
    )


def _jaar(description: str) -> Column:
    return Column("jaar", INT, description=description, example="2025")


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "toewijzing",
            ("toewijzing",),
            GEMEENTE,
            "Toewijzingen van de gemeente aan aanbieders (zoals JW301/WMO301).",
            (
                _gemeente(),
                _agb(),
                _domein(),
                _TOEWIJZINGNUMMER,
                _BSN,
                _productcategorie(),
                _productcode(False),
                _date("toewijzingsdatum", False, "Datum van het toewijzingsbesluit", "2024-12-15"),
                _date("ingangsdatum", True, "Eerste dag van de toewijzing", "2025-01-01"),
                _date("einddatum", False, "Laatste dag van de toewijzing; leeg als die open is", "2025-12-31"),
                Column("volume", INT, False, description="Toegewezen volume (geheel getal)", example="40"),
                _eenheid(False),
                Column(
                    "frequentie",
                    CODE,
                    False,
                    description="Frequentie (codelijst WMO757: 1 dag, 2 week, 4 maand, 6 totaal)",
                    example="2",
                    allowed=("1", "2", "4", "6"),
                ),
                _euro("budget", False, "Budget van de toewijzing (in plaats van volume)", ""),
                Column(
                    "reden_wijziging",
                    CODE,
                    False,
                    description="Reden wijziging (codelijst JZ002/WMO002)",
                    example="",
                    pad=2,
                ),
            ),
        ),
        Kind(
            "levering",
            ("start_zorg", "stop_zorg"),
            AANBIEDER,
            "Start en stop van zorg door de aanbieder (zoals JW305/JW307, WMO305/WMO307).",
            (
                _gemeente(),
                _agb(),
                _domein(),
                Column("soort", CODE, description="start of stop", example="start", allowed=("start", "stop")),
                _TOEWIJZINGNUMMER,
                _BSN,
                _productcategorie(),
                _productcode(False),
                _date("toewijzing_ingangsdatum", False, "Ingangsdatum van de toewijzing", "2025-01-01"),
                _date("begindatum", True, "Eerste dag van de zorg", "2025-01-06"),
                _date("einddatum", False, "Laatste dag van de zorg; verplicht bij soort stop", "2025-06-30"),
                Column(
                    "reden_beeindiging",
                    CODE,
                    False,
                    description="Reden beëindiging (codelijst JZ588/WMO588); verplicht bij soort stop",
                    example="31",
                    codelist="reden_beeindiging",
                    pad=2,
                ),
                Column(
                    "status_aanlevering",
                    CODE,
                    False,
                    description="1 eerste aanlevering, 3 verwijderen; leeg is 1",
                    example="1",
                    allowed=("1", "3"),
                    default="1",
                ),
            ),
            record_type_by=("soort", (("start", "start_zorg"), ("stop", "stop_zorg"))),
        ),
        Kind(
            "declaratie",
            ("declaratie_regel",),
            AANBIEDER,
            "Declaratieregels (prestaties) van de aanbieder (zoals JW323/WMO323).",
            (
                _gemeente(),
                _agb(),
                _domein(),
                Column("declaratienummer", TEXT, description="Nummer van de declaratie", example="D2025-03"),
                _date("declaratie_begindatum", True, "Eerste dag van de declaratieperiode"),
                _date("declaratie_einddatum", True, "Laatste dag van de declaratieperiode", "2025-03-31"),
                _date("declaratie_dagtekening", False, "Dagtekening van de declaratie", "2025-04-05"),
                Column("referentienummer", TEXT, description="Uniek nummer van deze regel", example="RN0001"),
                Column(
                    "vorig_referentienummer",
                    TEXT,
                    False,
                    description="Referentienummer van de regel die deze regel crediteert of corrigeert",
                    example="",
                ),
                _TOEWIJZINGNUMMER,
                _BSN,
                _productcategorie(),
                _productcode(True),
                # In the raw zone the product period is period_start_date/period_end_date, as for XML.
                _date(
                    "productperiode_begindatum",
                    True,
                    "Eerste dag van de productperiode (binnen één maand)",
                    raw_name="period_start_date",
                ),
                _date(
                    "productperiode_einddatum",
                    True,
                    "Laatste dag van de productperiode",
                    "2025-03-31",
                    raw_name="period_end_date",
                ),
                Column("volume", INT, description="Geleverd volume (geheel getal)", example="4"),
                _eenheid(True),
                _euro("tarief", False, "Tarief per eenheid", "62,50"),
                _euro("bedrag", True, "Ingediend bedrag", "250,00"),
                Column(
                    "debet_credit",
                    CODE,
                    description="D (debet) of C (credit)",
                    example="D",
                    allowed=("D", "C"),
                    codelist="debet_credit",
                ),
            ),
        ),
        Kind(
            "uitkomst",
            ("uitkomst",),
            AANBIEDER,
            "Uitkomstmeting aan het eind van een traject.",
            (
                _gemeente(),
                _agb(),
                _domein(),
                _TOEWIJZINGNUMMER,
                _BSN,
                _date("meetdatum", True, "Datum van de meting", "2025-06-30"),
                Column(
                    "informant",
                    CODE,
                    description="Wie antwoordt: jeugdige, ouder of client",
                    example="client",
                    allowed=("jeugdige", "ouder", "client"),
                    aliases=(("cliënt", "client"),),
                ),
                Column(
                    "tevredenheid",
                    INT,
                    False,
                    description="Tevredenheid over de hulp, 1 tot en met 10",
                    example="8",
                    bounds=(1, 10),
                ),
                Column(
                    "zonder_hulp_verder",
                    CODE,
                    False,
                    description="01 ja, zonder hulp; 02 ja, met lichtere hulp; 03 nee; 04 onbekend",
                    example="01",
                    allowed=("01", "02", "03", "04"),
                    pad=2,
                ),
                Column(
                    "doelrealisatie",
                    INT,
                    False,
                    description="1 volledig, 2 grotendeels, 3 gedeeltelijk, 4 niet",
                    example="2",
                    bounds=(1, 4),
                ),
            ),
        ),
        Kind(
            "zrm",
            ("zrm_meting",),
            AANBIEDER,
            "Meting met de Zelfredzaamheid-Matrix: één regel per domein.",
            (
                _gemeente(),
                _agb(),
                _domein(),
                _BSN,
                _date("meetdatum", True, "Datum van de meting", "2025-02-01"),
                Column("meetmoment", CODE, description="T0 (begin) of Tn (later)", example="T0", allowed=("T0", "Tn")),
                Column("zrm_domein", INT, description="ZRM-domein, 1 tot en met 13", example="3", bounds=(1, 13)),
                Column(
                    "score",
                    INT,
                    description="Score, 1 (acute problematiek) tot en met 5 (volledig zelfredzaam)",
                    example="3",
                    bounds=(1, 5),
                ),
            ),
        ),
        Kind(
            "clientervaring",
            ("clientervaring",),
            GEMEENTE,
            "Antwoorden op het cliëntervaringsonderzoek (CEO): één regel per respondent en vraag.",
            (
                _gemeente(),
                _jaar("Onderzoeksjaar"),
                Column("wet", CODE, description="wmo of jeugdwet", example="wmo", allowed=("wmo", "jeugdwet")),
                Column("respondent_id", TEXT, description="Nummer van de respondent (geen BSN)", example="R0001"),
                Column("vraag_code", TEXT, description="Code van de vraag", example="Q01"),
                Column(
                    "antwoord",
                    INT,
                    description="1 helemaal oneens ... 5 helemaal eens; 9 weet niet/n.v.t.",
                    example="4",
                ),
                _agb(required=False),
            ),
        ),
        Kind(
            "productieverantwoording",
            ("productieverantwoording",),
            AANBIEDER,
            "Jaarlijkse productieverantwoording per gemeente en product.",
            (
                _agb(),
                _jaar("Verantwoordingsjaar"),
                _gemeente(),
                _domein(),
                _productcode(True),
                Column("volume", INT, description="Geleverd volume in het jaar (geheel getal)", example="1200"),
                _euro("bedrag", True, "Bedrag in het jaar", "75000,00"),
                Column(
                    "controleverklaring",
                    CODE,
                    description="ja of nee: is er een controleverklaring",
                    example="ja",
                    allowed=("ja", "nee"),
                ),
                Column(
                    "versie",
                    CODE,
                    False,
                    description="concept of definitief; leeg is definitief",
                    example="definitief",
                    allowed=("concept", "definitief"),
                    default="definitief",
                ),
            ),
        ),
        Kind(
            "afspraak",
            ("afspraak",),
            GEMEENTE,
            "Gezamenlijk afgesproken resultaat: streefwaarde per indicator, reikwijdte en periode.",
            (
                Column(
                    "indicator_code",
                    CODE,
                    description="Code van de indicator (bijv. UITVAL, VOLGENS_PLAN, CEO_<vraag>)",
                    example="UITVAL",
                    codelist="indicator",
                ),
                _gemeente(wildcard=True),
                _domein(wildcard=True),
                _agb(wildcard=True),
                _productcategorie(wildcard=True),
                Column("periode", TEXT, description="Jaar (2025) of halfjaar (2025-H1, 2025-H2)", example="2025-H2"),
                Column("baseline", DECIMAL, description="Uitgangswaarde (decimale komma of punt)", example="0,18"),
                Column("streefwaarde", DECIMAL, description="Streefwaarde (decimale komma of punt)", example="0,15"),
                Column(
                    "richting",
                    CODE,
                    description="hoger of lager: welke kant is beter",
                    example="lager",
                    allowed=("hoger", "lager"),
                ),
                _date("afgesproken_op", True, "Datum van de afspraak", "2025-01-15"),
            ),
        ),
        Kind(
            "contracttarief",
            ("contracttarief",),
            GEMEENTE,
            "Contracttarieven per aanbieder en product.",
            (
                _gemeente(),
                _agb(),
                _domein(),
                _productcode(True),
                _eenheid(False),
                _euro("tarief", True, "Tarief per eenheid", "62,50"),
                _date("ingangsdatum", True, "Eerste dag waarop het tarief geldt", "2025-01-01"),
                _date("einddatum", False, "Laatste dag waarop het tarief geldt; leeg als open", "2025-12-31"),
            ),
        ),
    )
}


def normalise_name(name: object) -> str:
    """A header cell as a column name: case and surrounding spaces do not matter."""
    return str(name if name is not None else "").strip().lower()


@dataclass
class HeaderMatch:
    kind: Kind
    positions: dict[str, int] = field(default_factory=dict)  # column name -> position in the header
    width: int = 0  # number of header cells, named or not


def recognise(header: list[str], kind_name: str | None = None) -> HeaderMatch:
    """The one kind whose columns `header` names; MessageRejected OM010 otherwise.

    Empty header cells are allowed (Excel leaves them after the last column); their cells must stay
    empty, which the parser checks per row.
    """
    names = [normalise_name(cell) for cell in header]
    present = [name for name in names if name]
    doubles = sorted({name for name in present if present.count(name) > 1})
    if doubles:
        raise MessageRejected("OM010", "De kopregel noemt een kolom meer dan eens.", f"dubbel: {', '.join(doubles)}")
    present_set = set(present)
    if kind_name is not None:
        if kind_name not in KINDS:
            raise MessageRejected(
                "OM010", f"Onbekende soort aanlevering '{kind_name}'.", f"bekend: {', '.join(sorted(KINDS))}"
            )
        candidates = [KINDS[kind_name]]
    else:
        candidates = list(KINDS.values())
    matches = [k for k in candidates if k.required <= present_set and present_set <= k.names]
    if len(matches) == 1:
        kind = matches[0]
        return HeaderMatch(kind, {name: index for index, name in enumerate(names) if name}, len(names))
    if len(matches) > 1:
        raise MessageRejected(
            "OM010",
            "De kopregel past bij meer dan één soort aanlevering.",
            f"past bij: {', '.join(k.name for k in matches)}",
        )
    raise MessageRejected("OM010", _mismatch_message(present_set, candidates, kind_name), _mismatch_detail(present))


def _mismatch_message(present: set[str], candidates: list[Kind], kind_name: str | None) -> str:
    # Explain against the kind the header resembles most: most known columns, fewest unknown ones.
    closest = max(candidates, key=lambda k: (len(present & k.names), -len(present - k.names), -len(k.required)))
    missing = sorted(closest.required - present)
    unknown = sorted(present - closest.names)
    parts = []
    if missing:
        parts.append(f"ontbrekende kolommen: {', '.join(missing)}")
    if unknown:
        parts.append(f"onbekende kolommen: {', '.join(unknown)}")
    what = f"soort '{kind_name}'" if kind_name else f"een soort aanlevering (lijkt het meest op '{closest.name}')"
    return f"De kopregel past niet bij {what}; {'; '.join(parts)}."


def _mismatch_detail(present: list[str]) -> str:
    if len(present) == 1 and not any(sep in present[0] for sep in ";,"):
        return f"kopregel: {present[0][:200]!r}; scheidingsteken moet ; of , zijn"
    return f"kopregel: {', '.join(present)[:500]}"


# Indicator codes: the dbt seed is the one list; CEO_<vraag> codes name a survey question.
INDICATOR_SEED = Path(
    os.environ.get(
        "OUTCOME_MONITOR_INDICATOR_SEED",
        Path(__file__).resolve().parents[3] / "dbt_project" / "seeds" / "indicatoren.csv",
    )
)
CEO_PREFIX = "CEO_"  # also in validation/row_checks.py, which cannot import this package


@cache
def indicator_codes() -> tuple[str, ...]:
    with INDICATOR_SEED.open(encoding="utf-8", newline="") as handle:
        return tuple(row["indicator_code"] for row in csv.DictReader(handle))

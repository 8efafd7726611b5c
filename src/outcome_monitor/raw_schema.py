"""The columns of the raw zone's Parquet files: the contract between ingest and dbt.

Each committed submission is a folder ``raw/submissions/<submission_id>/`` holding, per record
type, ``<record_type>/accepted.parquet`` and ``rejected.parquet`` with the same columns, plus
``report.json`` and ``manifest.json`` (see raw_zone: the folder appears by one rename).
``raw/submissions/_schema/<record_type>/empty.parquet`` is an empty file with these columns, so a
glob over ``raw/submissions/*/<record_type>/*.parquet`` always matches and has the right types.

No column holds a BSN, a name, an address or a birth date: the client is ``client_pseudonym``.
"""

from __future__ import annotations

import pyarrow as pa

# Columns every record carries: where it came from and what became of it.
_PROVENANCE = [
    ("submission_id", pa.string()),
    ("member_name", pa.string()),  # the message's file name (inside a ZIP bundle, its member name)
    ("message_id", pa.string()),  # BerichtIdentificatie/Identificatie
    ("line_number", pa.int32()),  # 1-based position of the record in its message
    ("domein", pa.string()),  # 'jeugd' (iJw) or 'wmo' (iWmo)
    ("berichtcode", pa.string()),  # JW301, JW305, JW307, JW323, WMO301, ...
    ("gemeente_code", pa.string()),
    ("aanbieder_agb", pa.string()),
    ("client_pseudonym", pa.string()),
]
_OUTCOME = [
    ("status", pa.string()),  # 'geaccepteerd' or 'afgewezen'
    ("finding_codes", pa.list_(pa.string())),
]

SCHEMAS: dict[str, pa.Schema] = {
    "toewijzing": pa.schema(
        _PROVENANCE
        + [
            ("toewijzingnummer", pa.string()),
            ("productcategorie", pa.string()),
            ("productcode", pa.string()),
            ("toewijzingsdatum", pa.date32()),
            ("ingangsdatum", pa.date32()),
            ("einddatum", pa.date32()),
            ("volume", pa.int64()),
            ("eenheid", pa.string()),
            ("frequentie", pa.string()),
            ("budget_cents", pa.int64()),
            ("reden_wijziging", pa.string()),
        ]
        + _OUTCOME
    ),
    "start_zorg": pa.schema(
        _PROVENANCE
        + [
            ("toewijzingnummer", pa.string()),
            ("productcategorie", pa.string()),
            ("productcode", pa.string()),
            ("toewijzing_ingangsdatum", pa.date32()),
            ("begindatum", pa.date32()),
            ("status_aanlevering", pa.string()),
        ]
        + _OUTCOME
    ),
    "stop_zorg": pa.schema(
        _PROVENANCE
        + [
            ("toewijzingnummer", pa.string()),
            ("productcategorie", pa.string()),
            ("productcode", pa.string()),
            ("toewijzing_ingangsdatum", pa.date32()),
            ("begindatum", pa.date32()),
            ("einddatum", pa.date32()),
            ("reden_beeindiging", pa.string()),
            ("status_aanlevering", pa.string()),
        ]
        + _OUTCOME
    ),
    "declaratie_regel": pa.schema(
        _PROVENANCE
        + [
            ("declaratienummer", pa.string()),
            ("declaratie_begindatum", pa.date32()),
            ("declaratie_einddatum", pa.date32()),
            ("declaratie_dagtekening", pa.date32()),
            ("referentienummer", pa.string()),
            ("vorig_referentienummer", pa.string()),
            ("toewijzingnummer", pa.string()),
            ("productcategorie", pa.string()),
            ("productcode", pa.string()),
            ("period_start_date", pa.date32()),
            ("period_end_date", pa.date32()),
            ("volume", pa.int64()),
            ("eenheid", pa.string()),
            ("tarief_cents", pa.int64()),
            ("bedrag_cents", pa.int64()),
            ("debet_credit", pa.string()),
        ]
        + _OUTCOME
    ),
}

# Record types that arrive as CSV, XLSX or JSON only (see ingest/kinds.py and docs/aanlevering.md).
# Kinds without a client (clientervaring, productieverantwoording, afspraak, contracttarief) leave
# client_pseudonym empty; afspraak writes '*' in gemeente_code, domein or aanbieder_agb for "all".
SCHEMAS.update(
    {
        "uitkomst": pa.schema(
            _PROVENANCE
            + [
                ("toewijzingnummer", pa.string()),
                ("meetdatum", pa.date32()),
                ("informant", pa.string()),  # 'jeugdige', 'ouder' or 'client'
                ("tevredenheid", pa.int64()),  # 1..10
                ("zonder_hulp_verder", pa.string()),  # '01'..'04'
                ("doelrealisatie", pa.int64()),  # 1..4
            ]
            + _OUTCOME
        ),
        "zrm_meting": pa.schema(
            _PROVENANCE
            + [
                ("meetdatum", pa.date32()),
                ("meetmoment", pa.string()),  # 'T0' or 'Tn'
                ("zrm_domein", pa.int64()),  # 1..13
                ("score", pa.int64()),  # 1..5
            ]
            + _OUTCOME
        ),
        "clientervaring": pa.schema(
            _PROVENANCE
            + [
                ("jaar", pa.int64()),
                ("wet", pa.string()),  # 'wmo' or 'jeugdwet'; domein follows from it
                ("respondent_id", pa.string()),
                ("vraag_code", pa.string()),
                ("antwoord", pa.int64()),  # 1..5, or 9 (weet niet / n.v.t.)
            ]
            + _OUTCOME
        ),
        "productieverantwoording": pa.schema(
            _PROVENANCE
            + [
                ("jaar", pa.int64()),
                ("productcode", pa.string()),
                ("volume", pa.int64()),
                ("bedrag_cents", pa.int64()),
                ("controleverklaring", pa.string()),  # 'ja' or 'nee'
                ("versie", pa.string()),  # 'concept' or 'definitief'
            ]
            + _OUTCOME
        ),
        "afspraak": pa.schema(
            _PROVENANCE
            + [
                ("indicator_code", pa.string()),
                ("productcategorie", pa.string()),  # or '*'
                ("periode", pa.string()),  # '2025', '2025-H1' or '2025-H2'
                ("baseline", pa.float64()),
                ("streefwaarde", pa.float64()),
                ("richting", pa.string()),  # 'hoger' or 'lager' (is beter)
                ("afgesproken_op", pa.date32()),
            ]
            + _OUTCOME
        ),
        "contracttarief": pa.schema(
            _PROVENANCE
            + [
                ("productcode", pa.string()),
                ("eenheid", pa.string()),
                ("tarief_cents", pa.int64()),
                ("ingangsdatum", pa.date32()),
                ("einddatum", pa.date32()),
            ]
            + _OUTCOME
        ),
    }
)

"""iJw and iWmo XML messages: recognise, parse safely, validate against the official XSD, extract rows.

iJw (Jeugdwet) and iWmo (Wmo 2015) messages of release 3.2 have the same structure and differ in
namespace and prefix only, so one extractor per message family serves both.

Safety: the parser resolves no entities, loads no DTD, touches no network and refuses a DOCTYPE
outright (no iStandaarden message has one), so entity-expansion bombs and external entities are
rejected before any expansion can happen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from lxml import etree

from outcome_monitor.ingest.rejection import MessageRejected

XSD_ROOT = Path(__file__).resolve().parents[1] / "istandaarden"

_NAMESPACE = re.compile(r"^http://www\.istandaarden\.nl/(ijw|iwmo)/3_2/(jw|wmo)(\d{3})/schema$")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
# Families we extract rows from; other valid iStandaarden messages are refused as not expected here.
RECORD_TYPE_BY_NUMBER = {"301": "toewijzing", "305": "start_zorg", "307": "stop_zorg", "323": "declaratie_regel"}


@dataclass(frozen=True)
class MessageType:
    berichtcode: str  # JW323, WMO301, ...
    domein: str  # jeugd or wmo
    namespace: str
    base_namespace: str
    xsd: Path
    record_type: str


@dataclass
class ParsedMessage:
    message_type: MessageType
    header: dict[str, str]
    # One dict per row, with the client's BSN still in clear under "bsn": the caller pseudonymises.
    records: list[dict[str, object]] = field(default_factory=list)


def message_type_for(namespace: str) -> MessageType:
    match = _NAMESPACE.match(namespace or "")
    if not match:
        raise MessageRejected("OM002", "Het bestand is geen iJw- of iWmo-bericht van release 3.2.", namespace)
    standard, prefix, number = match.groups()
    record_type = RECORD_TYPE_BY_NUMBER.get(number)
    code = f"{prefix.upper()}{number}"
    if record_type is None:
        raise MessageRejected("OM003", f"Berichttype {code} wordt hier niet verwerkt.", "")
    folder = "ijw-3.2" if standard == "ijw" else "iwmo-3.2"
    return MessageType(
        berichtcode=code,
        domein="jeugd" if standard == "ijw" else "wmo",
        namespace=namespace,
        base_namespace=f"http://www.istandaarden.nl/{standard}/3_2/basisschema/schema",
        xsd=XSD_ROOT / folder / "xsd" / f"{code}.xsd",
        record_type=record_type,
    )


@cache
def _schema(xsd: Path) -> etree.XMLSchema:
    # The XSDs are ours (shipped in the package); they import basisschema.xsd from their folder.
    return etree.XMLSchema(etree.parse(str(xsd)))


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def parse_message(data: bytes) -> ParsedMessage:
    """Parse one XML message; raise MessageRejected naming what is wrong and where."""
    if not data.strip():
        raise MessageRejected("OM001", "Het bestand is leeg.")
    if _DOCTYPE.search(data[:4096]) or _DOCTYPE.search(data):
        raise MessageRejected("OM004", "Het bericht bevat een DOCTYPE-declaratie; dat is niet toegestaan.")
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as error:
        raise MessageRejected(
            "OM001", "Het bestand is geen welgevormde XML.", f"regel {error.lineno}: {error.msg}"
        ) from None
    namespace = etree.QName(root).namespace or ""
    message_type = message_type_for(namespace)
    schema = _schema(message_type.xsd)
    if not schema.validate(root):
        first = schema.error_log[0]
        raise MessageRejected(
            "0001",
            f"Het bericht voldoet niet aan het XSD van {message_type.berichtcode}.",
            f"regel {first.line}: {first.message}",
        )
    extract = _EXTRACTORS[message_type.record_type]
    ns = {"m": message_type.namespace, "b": message_type.base_namespace}
    header = {
        "afzender": root.findtext("m:Header/m:Afzender", namespaces=ns),
        "ontvanger": root.findtext("m:Header/m:Ontvanger", namespaces=ns),
        "message_id": root.findtext("m:Header/m:BerichtIdentificatie/b:Identificatie", namespaces=ns),
        "dagtekening": root.findtext("m:Header/m:BerichtIdentificatie/b:Dagtekening", namespaces=ns),
    }
    return ParsedMessage(message_type, header, extract(root, ns))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _flatten(element: etree._Element) -> dict[str, str | None]:
    """An element's children as 'Name' or 'Name/SubName' -> text, in one pass.

    One walk over the children instead of a namespaced findtext per field: findtext resolves its
    path on every call, which made field extraction cost about 200 µs per declaration line.
    """
    fields: dict[str, str | None] = {}
    for child in element:
        if not isinstance(child.tag, str):  # a comment or processing instruction
            continue
        name = _local(child.tag)
        if len(child):
            for sub in child:
                if isinstance(sub.tag, str):
                    fields[f"{name}/{_local(sub.tag)}"] = sub.text
        else:
            fields[name] = child.text
    return fields


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _int(text: str | None) -> int | None:
    return int(text) if text else None


def _clients(root: etree._Element, ns: dict[str, str]):
    return root.iterfind("m:Client", namespaces=ns)


def _toewijzingen(root: etree._Element, ns: dict[str, str]) -> list[dict[str, object]]:
    rows = []
    for client in _clients(root, ns):
        bsn = client.findtext("m:Bsn", namespaces=ns)
        for product in client.iterfind("m:ToegewezenProducten/m:ToegewezenProduct", namespaces=ns):
            f = _flatten(product)
            rows.append(
                {
                    "bsn": bsn,
                    "toewijzingnummer": f.get("ToewijzingNummer"),
                    "productcategorie": f.get("Product/Categorie"),
                    "productcode": f.get("Product/Code"),
                    "toewijzingsdatum": _date(f.get("Toewijzingsdatum")),
                    "ingangsdatum": _date(f.get("Ingangsdatum")),
                    "einddatum": _date(f.get("Einddatum")),
                    "volume": _int(f.get("Omvang/Volume")),
                    "eenheid": f.get("Omvang/Eenheid"),
                    "frequentie": f.get("Omvang/Frequentie"),
                    "budget_cents": _int(f.get("Budget")),
                    "reden_wijziging": f.get("RedenWijziging"),
                }
            )
    return rows


def _leveringen(root: etree._Element, ns: dict[str, str], element: str) -> list[dict[str, object]]:
    rows = []
    for client in _clients(root, ns):
        bsn = client.findtext("m:Bsn", namespaces=ns)
        for product in client.iterfind(f"m:{element}en/m:{element}", namespaces=ns):
            f = _flatten(product)
            row: dict[str, object] = {
                "bsn": bsn,
                "toewijzingnummer": f.get("ToewijzingNummer"),
                "productcategorie": f.get("Product/Categorie"),
                "productcode": f.get("Product/Code"),
                "toewijzing_ingangsdatum": _date(f.get("ToewijzingIngangsdatum")),
                "begindatum": _date(f.get("Begindatum")),
                "status_aanlevering": f.get("StatusAanlevering"),
            }
            if element == "StopProduct":
                row["einddatum"] = _date(f.get("Einddatum"))
                row["reden_beeindiging"] = f.get("RedenBeeindiging")
            rows.append(row)
    return rows


def _declaratie_regels(root: etree._Element, ns: dict[str, str]) -> list[dict[str, object]]:
    declaratie = root.find("m:Declaratie", namespaces=ns)
    d = _flatten(declaratie)
    common = {
        "declaratienummer": d.get("DeclaratieNummer"),
        "declaratie_begindatum": _date(d.get("DeclaratiePeriode/Begindatum")),
        "declaratie_einddatum": _date(d.get("DeclaratiePeriode/Einddatum")),
        "declaratie_dagtekening": _date(d.get("DeclaratieDagtekening")),
    }
    rows = []
    for client in declaratie.iterfind("m:Clienten/m:Client", namespaces=ns):
        bsn = client.findtext("m:Bsn", namespaces=ns)
        for prestatie in client.iterfind("m:Prestaties/m:Prestatie", namespaces=ns):
            f = _flatten(prestatie)
            rows.append(
                {
                    **common,
                    "bsn": bsn,
                    "referentienummer": f.get("ProductReferentie/ReferentieNummer"),
                    "vorig_referentienummer": f.get("ProductReferentie/VorigReferentieNummer"),
                    "toewijzingnummer": f.get("ToewijzingNummer"),
                    "productcategorie": f.get("ProductCategorie"),
                    "productcode": f.get("ProductCode"),
                    "period_start_date": _date(f.get("ProductPeriode/Begindatum")),
                    "period_end_date": _date(f.get("ProductPeriode/Einddatum")),
                    "volume": _int(f.get("GeleverdVolume")),
                    "eenheid": f.get("Eenheid"),
                    "tarief_cents": _int(f.get("ProductTarief")),
                    "bedrag_cents": _int(f.get("IngediendBedrag/Bedrag")),
                    "debet_credit": f.get("IngediendBedrag/DebetCredit"),
                }
            )
    return rows


_EXTRACTORS = {
    "toewijzing": _toewijzingen,
    "start_zorg": lambda root, ns: _leveringen(root, ns, "StartProduct"),
    "stop_zorg": lambda root, ns: _leveringen(root, ns, "StopProduct"),
    "declaratie_regel": _declaratie_regels,
}

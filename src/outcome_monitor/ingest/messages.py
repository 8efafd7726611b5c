"""iJw and iWmo XML messages: recognise, parse safely, validate against the official XSD, extract rows.

iJw (Jeugdwet) and iWmo (Wmo 2015) messages of release 3.2 have the same structure and differ in
namespace and prefix only, so one extractor per message family serves both.

Safety: the parser resolves no entities, loads no DTD, touches no network and refuses a DOCTYPE
outright (no iStandaarden message has one), so entity-expansion bombs and external entities are
rejected before any expansion can happen.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
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
    # Per field, one value per row, with the client's BSN still in clear under "bsn": the caller pseudonymises.
    # A column is a list, or an Arrow array (every column of a declaration).
    columns: dict[str, list[object] | pa.Array] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return len(next(iter(self.columns.values()), []))

    @cached_property
    def records(self) -> list[dict[str, object]]:
        """One dict per row (built on demand: ingest takes the columns)."""
        keys = tuple(self.columns)
        columns = [values.to_pylist() if isinstance(values, pa.Array) else values for values in self.columns.values()]
        return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


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


_IDLE_SCHEMAS: dict[Path, list[etree.XMLSchema]] = defaultdict(list)
_SCHEMAS_LOCK = threading.Lock()


@contextmanager
def _schema(xsd: Path) -> Iterator[etree.XMLSchema]:
    """A compiled XSD for this thread's use alone: a schema object keeps the errors of its last validation,
    so messages validated at the same time (submission.py parses in threads) each need their own."""
    with _SCHEMAS_LOCK:  # libxml2 cannot compile two schemas at once
        idle = _IDLE_SCHEMAS[xsd]
        # The XSDs are ours (shipped in the package); they import basisschema.xsd from their folder.
        schema = idle.pop() if idle else etree.XMLSchema(etree.parse(str(xsd)))
    try:
        yield schema
    finally:
        with _SCHEMAS_LOCK:
            _IDLE_SCHEMAS[xsd].append(schema)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def parse_message(data: bytes) -> ParsedMessage:
    """Parse one XML message; raise MessageRejected naming what is wrong and where."""
    if not data or data.isspace():
        raise MessageRejected("OM001", "Het bestand is leeg.")
    # A DOCTYPE holds a "!", which most messages have none of: finding that out is a fast byte scan.
    if b"!" in data and _DOCTYPE.search(data):
        raise MessageRejected("OM004", "Het bericht bevat een DOCTYPE-declaratie; dat is niet toegestaan.")
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as error:
        raise MessageRejected(
            "OM001", "Het bestand is geen welgevormde XML.", f"regel {error.lineno}: {error.msg}"
        ) from None
    namespace = etree.QName(root).namespace or ""
    message_type = message_type_for(namespace)
    with _schema(message_type.xsd) as schema:
        first = None if schema.validate(root) else schema.error_log[0]
    if first is not None:
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
    return ParsedMessage(message_type, header, extract(root, ns, data))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _flatten(element: etree._Element, skip: tuple[str, ...] = ()) -> dict[str, str | None]:
    """An element's children as 'Name' or 'Name/SubName' -> text, in one pass; the children of the
    children named in `skip` are not visited (a Declaratie's thousands of Clienten/Client).

    One walk over the children instead of a namespaced findtext per field: findtext resolves its
    path on every call, which made field extraction cost about 200 µs per declaration line.
    """
    fields: dict[str, str | None] = {}
    for child in element:
        if not isinstance(child.tag, str):  # a comment or processing instruction
            continue
        name = _local(child.tag)
        if name in skip:
            continue
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


def _as_columns(rows: list[dict[str, object]]) -> dict[str, list[object]]:
    keys = dict.fromkeys(key for row in rows[:1] for key in row)
    return {key: [row.get(key) for row in rows] for key in keys}


def _toewijzingen(root: etree._Element, ns: dict[str, str], _data: bytes) -> dict[str, list[object]]:
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
    return _as_columns(rows)


def _leveringen(root: etree._Element, ns: dict[str, str], element: str) -> dict[str, list[object]]:
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
    return _as_columns(rows)


# A declaration line's fields: the key, where it is in a Prestatie ("b:" for the basisschema's
# namespace, where the elements of its types live), and its conversion.
_PRESTATIE_FIELDS = (
    ("referentienummer", "m:ProductReferentie/b:ReferentieNummer", None),
    ("vorig_referentienummer", "m:ProductReferentie/b:VorigReferentieNummer", None),
    ("toewijzingnummer", "m:ToewijzingNummer", None),
    ("productcategorie", "m:ProductCategorie", None),
    ("productcode", "m:ProductCode", None),
    ("period_start_date", "m:ProductPeriode/b:Begindatum", _date),
    ("period_end_date", "m:ProductPeriode/b:Einddatum", _date),
    ("volume", "m:GeleverdVolume", _int),
    ("eenheid", "m:Eenheid", None),
    ("tarief_cents", "m:ProductTarief", _int),
    ("bedrag_cents", "m:IngediendBedrag/b:Bedrag", _int),
    ("debet_credit", "m:IngediendBedrag/b:DebetCredit", None),
)
_ARROW_TYPE = {_date: pa.date32(), _int: pa.int64()}
_CLIENTS = "/*/m:Declaratie[1]/m:Clienten/m:Client"


def _declaratie_regels(root: etree._Element, ns: dict[str, str], data: bytes) -> dict[str, list[object] | pa.Array]:
    declaratie = root.find("m:Declaratie", namespaces=ns)
    d = _flatten(declaratie, skip=("Clienten",))
    texts = _prestatie_texts_by_pattern(root, ns, data) or _prestatie_texts_walked(declaratie, ns)
    count = len(texts[0])
    same = {
        "declaratienummer": (d.get("DeclaratieNummer"), pa.string()),
        "declaratie_begindatum": (_date(d.get("DeclaratiePeriode/Begindatum")), pa.date32()),
        "declaratie_einddatum": (_date(d.get("DeclaratiePeriode/Einddatum")), pa.date32()),
        "declaratie_dagtekening": (_date(d.get("DeclaratieDagtekening")), pa.date32()),
    }
    columns: dict[str, list[object] | pa.Array] = {
        key: pa.repeat(pa.scalar(value, type_), count) for key, (value, type_) in same.items()
    }
    columns["bsn"] = texts[0]
    for (key, _, convert), values in zip(_PRESTATIE_FIELDS, texts[1:], strict=True):
        columns[key] = values if convert is None else _converted(values, convert)
    return columns


def _prestatie_texts_walked(declaratie: etree._Element, ns: dict[str, str]) -> list[pa.Array]:
    """Per column (BSN, then _PRESTATIE_FIELDS) the texts, line by line: an element's text, None if empty
    (the BSN is read as findtext reads it: "" when empty)."""
    keys = [path.replace("m:", "").replace("b:", "") for _, path, _ in _PRESTATIE_FIELDS]
    lines = []
    for client in declaratie.iterfind("m:Clienten/m:Client", namespaces=ns):
        bsn = client.findtext("m:Bsn", namespaces=ns)
        for prestatie in client.iterfind("m:Prestaties/m:Prestatie", namespaces=ns):
            f = _flatten(prestatie)
            lines.append((bsn, *(f.get(key) for key in keys)))
    columns = list(zip(*lines, strict=True)) if lines else [()] * (1 + len(keys))
    return [pa.array(values, pa.string()) for values in columns]


def _prestatie_texts_by_pattern(root: etree._Element, ns: dict[str, str], data: bytes) -> list[pa.Array] | None:
    """As _prestatie_texts_walked, by one regular-expression pass over the message's bytes, after the parser
    and the XSD accepted it: a large message's lines without a Python step per element or line.

    Only for the plain form a generator writes, where the bytes say the same as the tree: UTF-8, no entity
    or character references, comments, CDATA or processing instructions (every '<' opens or closes a
    tag), namespaces declared on the root only, tags without attributes or spaces. Anything else, or a
    Client or Prestatie the pattern does not match (the counts differ from the tree's), is None: the walk
    reads that message.
    """
    if root.getroottree().docinfo.encoding.upper() not in ("UTF-8", "UTF8") or b"&" in data:
        return None
    prefixes = {uri: prefix for prefix, uri in root.nsmap.items()}
    if len(prefixes) != len(root.nsmap) or ns["m"] not in prefixes or ns["b"] not in prefixes:
        return None
    found = _prestatie_pattern(prefixes[ns["m"]], prefixes[ns["b"]]).findall(data)
    # A match is a "<!", "<?" or "xmlns" outside the values (the first group), a Client's BSN (the second group
    # holds its tag, the third its text) or a Prestatie (the other groups).
    markers, client_tags, *texts = zip(*found, strict=True) if found else [()] * (3 + len(_PRESTATIE_FIELDS))
    # Allowed: the XML declaration (the first match), then the root's namespace declarations, nothing else.
    declared = int(data.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")))
    allowed = declared + len(root.nsmap)
    if markers[:allowed] != (b"<?",) * declared + (b"xmlns",) * len(root.nsmap):
        return None
    # Every Client and every Prestatie of the tree must be a match. Clienten has Client children only (the XSD;
    # no comments or processing instructions, see above).
    clienten = root.find("m:Declaratie/m:Clienten", namespaces=ns)
    clients, lines = (0 if clienten is None else len(clienten)), int(_line_count(ns["m"], ns["b"])(root))
    found_markers, found_clients = len(markers) - markers.count(b""), len(client_tags) - client_tags.count(b"")
    if found_markers != allowed or found_clients != clients or len(found) - allowed - clients != lines:
        return None
    is_client = pc.greater(pc.binary_length(pa.array(client_tags, pa.binary())), 0).slice(allowed)
    is_line = pc.invert(is_client)
    # Arrow checks that every value is UTF-8 text (the parser accepted the bytes as UTF-8, so it is).
    bsn, *fields = (pa.array(values, pa.string()).slice(allowed) for values in texts)
    bsn = pc.fill_null_forward(pc.if_else(is_client, bsn, pa.scalar(None, pa.string())))
    return [bsn.filter(is_line), *(_texts_or_none(field.filter(is_line)) for field in fields)]


@cache
def _prestatie_pattern(message_prefix: str | None, base_prefix: str | None) -> re.Pattern[bytes]:
    """Matches a Client's <Bsn> or a whole <Prestatie>, in the element order of the XSD, and every "<!", "<?"
    (comment, CDATA, processing instruction) or "xmlns" elsewhere: checked in the same pass over the bytes."""
    space, text = r"[ \t\r\n]*", r"([^<&\r]*)"  # \r: the parser turns it into \n, so leave such values to the walk

    def tag(path: str) -> tuple[str, str]:
        prefix = message_prefix if path.startswith("m:") else base_prefix
        name = re.escape(f"{prefix}:{path[2:]}" if prefix else path[2:])
        return f"<{name}>", f"</{name}>"

    def leaf(path: str, optional: bool = False) -> str:
        opening, closing = tag(path)
        element = f"{opening}{text}{closing}{space}"
        return f"(?:{element})?" if optional else element

    def group(path: str, *children: str) -> str:
        opening, closing = tag(path)
        return f"{opening}{space}{''.join(children)}{closing}{space}"

    prestatie = group(
        "m:Prestatie",
        group("m:ProductReferentie", leaf("b:ReferentieNummer"), leaf("b:VorigReferentieNummer", optional=True)),
        leaf("m:ToewijzingNummer"),
        leaf("m:ProductCategorie"),
        leaf("m:ProductCode"),
        group("m:ProductPeriode", leaf("b:Begindatum"), leaf("b:Einddatum")),
        leaf("m:GeleverdVolume"),
        leaf("m:Eenheid"),
        leaf("m:ProductTarief", optional=True),
        group("m:IngediendBedrag", leaf("b:Bedrag"), leaf("b:DebetCredit")),
    )
    bsn_open, bsn_close = tag("m:Bsn")
    return re.compile(f"(<[!?]|xmlns)|({bsn_open}){text}{bsn_close}|{prestatie}".encode())


@cache
def _line_count(namespace: str, base_namespace: str) -> etree.XPath:
    """The tree's number of declaration lines, to check the pattern found every one."""
    return etree.XPath(f"count({_CLIENTS}/m:Prestaties/m:Prestatie)", namespaces={"m": namespace, "b": base_namespace})


def _texts_or_none(texts: pa.Array) -> pa.Array:
    """An empty element's text is None, as lxml reads it."""
    return pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)


def _converted(texts: pa.Array, convert) -> pa.Array:
    """Each distinct text converted once: dates and amounts repeat across a message's lines."""
    encoded = pc.dictionary_encode(texts)
    values = pa.array([convert(text) for text in encoded.dictionary.to_pylist()], _ARROW_TYPE[convert])
    return values.take(encoded.indices)


_EXTRACTORS = {
    "toewijzing": _toewijzingen,
    "start_zorg": lambda root, ns, _data: _leveringen(root, ns, "StartProduct"),
    "stop_zorg": lambda root, ns, _data: _leveringen(root, ns, "StopProduct"),
    "declaratie_regel": _declaratie_regels,
}

"""A fresh, valid monthly declaration (JW323) for an existing provider, derived from a home's own data.

The event-latency benchmark drops "a typical monthly declaration" into a running pipeline. It must be
one the pipeline accepts: its clients and toewijzingen must exist in the warehouse, its
referentienummers must be new (8021) and its month not declared yet (9321). So it is made from what
the home already holds: the provider's JW323 messages of its latest month are read back from the
archive (the only place with the BSNs in clear, which the pseudonyms in the warehouse must match),
moved to a later month and given fresh referentienummers, identifications and totals.

If that month holds fewer lines than asked for (a small region), the clients are repeated with fresh
referentienummers up to the size asked for: real lines that travel the whole path, though a repeat
may be rejected for volume (9321) by the relational checks.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import hashlib
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
from lxml import etree

from outcome_monitor.config import Paths

FILE_PREFIX = "latentiemeting"
JW323_NS = "http://www.istandaarden.nl/ijw/3_2/jw323/schema"
IJW_NS = "http://www.istandaarden.nl/ijw/3_2/basisschema/schema"
NS = {"jw323": JW323_NS, "ijw": IJW_NS}


class NoSourceDeclaration(RuntimeError):
    """The home has no JW323 declaration to derive a fresh one from."""


@dataclass(frozen=True)
class SourceMonth:
    aanbieder_agb: str
    month: dt.date
    lines: int
    members: tuple[tuple[str, str], ...]  # (submission_id, member_name)
    last_declared_month: dt.date  # the provider's latest month, our own earlier drops included


@dataclass(frozen=True)
class MonthlyDeclaration:
    path: Path
    submission_id: str
    aanbieder_agb: str
    month: dt.date
    lines: int
    repeated_lines: int
    gemeenten: tuple[str, ...]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end; a month's last day stays the last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    was_last = day.day == calendar.monthrange(day.year, day.month)[1]
    return dt.date(year, month + 1, last if was_last else min(day.day, last))


def choose_source(paths: Paths, target_lines: int) -> SourceMonth:
    """The provider and month to copy: the latest month of the warehouse's JW323 lines (not our own
    drops), and of its providers the smallest with at least `target_lines` lines, else the largest."""
    warehouse = paths.published_warehouse
    if not warehouse.exists():
        raise NoSourceDeclaration(f"{warehouse} bestaat niet: publiceer eerst een warehouse")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            with own as (
                select distinct submission_id from main.fct_submission where file_name like ? || '%'
            ),
            source_lines as (
                select * from main.fct_declaration_line
                where berichtcode = 'JW323' and debet_credit = 'D' and vorig_referentienummer is null
                  and submission_id not in (select submission_id from own)
            ),
            latest as (select max(month_start_date) as month from source_lines)
            select aanbieder_agb, month_start_date, count(*) as lines,
                   list(distinct [submission_id, member_name] order by [submission_id, member_name]),
                   (select max(month_start_date) from main.fct_declaration_line all_lines
                    where all_lines.aanbieder_agb = source_lines.aanbieder_agb) as last_declared
            from source_lines join latest on month_start_date = latest.month
            group by aanbieder_agb, month_start_date
            """,
            [FILE_PREFIX],
        ).fetchall()
    if not rows:
        raise NoSourceDeclaration(f"{warehouse} bevat geen JW323-declaratieregels om een declaratie van af te leiden")
    big_enough = [row for row in rows if row[2] >= target_lines]
    agb, month, lines, members, last = (
        min(big_enough, key=lambda r: (r[2], r[0])) if big_enough else max(rows, key=lambda r: (r[2], r[0]))
    )
    last = max([last, *earlier_drop_months(paths, agb)])
    return SourceMonth(agb, month, lines, tuple((s, m) for s, m in members), last)


def earlier_drop_months(paths: Paths, agb: str) -> list[dt.date]:
    """Months of this provider's earlier drops in the raw zone, published or not (an interrupted run)."""
    months = []
    for manifest in paths.raw_submissions.glob("*/manifest.json"):
        name = json.loads(manifest.read_text(encoding="utf-8"))["file_name"]
        if name.startswith(f"{FILE_PREFIX}_aanbieder-{agb}_"):
            months.append(dt.date.fromisoformat(name.split("_")[2] + "-01"))
    return months


def archived_member(paths: Paths, submission_id: str, member_name: str) -> bytes:
    """The original bytes of one message of a submission, from the archive (ZIP member or the file)."""
    manifest = json.loads((paths.raw_submission(submission_id) / "manifest.json").read_text(encoding="utf-8"))
    archived = paths.archive / manifest["archive_path"]
    if zipfile.is_zipfile(archived):
        with zipfile.ZipFile(archived) as bundle:
            return bundle.read(member_name)
    return archived.read_bytes()


def _one(element: etree._Element, path: str) -> etree._Element:
    found = element.find(path, NS)
    if found is None:
        raise ValueError(f"JW323-bericht zonder {path}")
    return found


class _Renumber:
    """Fresh identifications: unique per drop and per run (max 12 and 20 characters in iJw 3.2)."""

    def __init__(self, stamp: str) -> None:
        self.stamp = stamp  # 10 hexadecimal characters, random per file
        self.lines = 0
        self.messages = 0

    def reference(self) -> str:
        self.lines += 1
        return f"L{self.stamp}{self.lines:07d}"  # 18 characters

    def message(self) -> str:
        self.messages += 1
        return f"L{self.stamp[:7]}{self.messages:04d}"  # 12 characters


def _shift_dates(element: etree._Element, months: int) -> None:
    for date_element in (_one(element, "ijw:Begindatum"), _one(element, "ijw:Einddatum")):
        date_element.text = add_months(dt.date.fromisoformat(date_element.text), months).isoformat()


def _keep_debits_only(message: etree._Element) -> None:
    """Credits and corrections refer to earlier lines: in a new month they would be 8017 findings."""
    for prestatie in message.iterfind(".//jw323:Prestatie", NS):
        credit = _one(prestatie, "jw323:IngediendBedrag/ijw:DebetCredit").text == "C"
        if credit or prestatie.find("jw323:ProductReferentie/ijw:VorigReferentieNummer", NS) is not None:
            prestatie.getparent().remove(prestatie)
    for client in list(message.iterfind(".//jw323:Client", NS)):
        if client.find(".//jw323:Prestatie", NS) is None:
            client.getparent().remove(client)


def _renumber_prestaties(client: etree._Element, months: int, renumber: _Renumber) -> int:
    count = 0
    for prestatie in client.iterfind(".//jw323:Prestatie", NS):
        _one(prestatie, "jw323:ProductReferentie/ijw:ReferentieNummer").text = renumber.reference()
        _shift_dates(_one(prestatie, "jw323:ProductPeriode"), months)
        count += 1
    return count


def moved_messages(sources: list[bytes], months: int, target_lines: int, stamp: str) -> tuple[list[bytes], int, int]:
    """The JW323 `sources` moved `months` later with fresh numbers, clients repeated up to `target_lines`.

    Returns (messages, lines, repeated_lines).
    """
    renumber = _Renumber(stamp)
    trees = []
    for source in sources:
        message = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
        _keep_debits_only(message)
        trees.append(message)
    lines = 0
    originals: list[tuple[etree._Element, list[etree._Element]]] = []
    for message in trees:
        clients = list(message.iterfind(".//jw323:Client", NS))
        originals.append((_one(message, ".//jw323:Clienten"), [copy.deepcopy(c) for c in clients]))
        lines += sum(_renumber_prestaties(client, months, renumber) for client in clients)
    if lines == 0:
        raise NoSourceDeclaration("de gekozen berichten bevatten geen debetregels")
    repeated = 0
    while lines < target_lines:
        for clienten, clients in originals:
            for client in clients:
                if lines >= target_lines:
                    break
                twin = copy.deepcopy(client)
                added = _renumber_prestaties(twin, months, renumber)
                clienten.append(twin)
                lines += added
                repeated += added
    out = []
    for message in trees:
        declaratie = _one(message, "jw323:Declaratie")
        period = _one(declaratie, "jw323:DeclaratiePeriode")
        _shift_dates(period, months)
        dagtekening = (dt.date.fromisoformat(_one(period, "ijw:Einddatum").text) + dt.timedelta(days=2)).isoformat()
        identification = renumber.message()
        _one(message, "jw323:Header/jw323:BerichtIdentificatie/ijw:Identificatie").text = identification
        _one(message, "jw323:Header/jw323:BerichtIdentificatie/ijw:Dagtekening").text = dagtekening
        _one(declaratie, "jw323:DeclaratieNummer").text = identification
        _one(declaratie, "jw323:DeclaratieDagtekening").text = dagtekening
        total = sum(int(b.text) for b in declaratie.iterfind(".//jw323:IngediendBedrag/ijw:Bedrag", NS))
        _one(declaratie, "jw323:TotaalIngediendBedrag/ijw:TotaalBedrag").text = str(total)
        out.append(etree.tostring(message, xml_declaration=True, encoding="UTF-8"))
    return out, lines, repeated


def write_monthly_declaration(
    paths: Paths, source: SourceMonth, months_later: int, target_lines: int, folder: Path
) -> MonthlyDeclaration:
    """Write the provider's declaration for `months_later` months after its source month as a ZIP bundle."""
    from outcome_monitor.ingest.submission import submission_id_for

    sources = [archived_member(paths, s, m) for s, m in source.members]
    stamp = secrets.token_hex(5)
    messages, lines, repeated = moved_messages(sources, months_later, target_lines, stamp)
    month = add_months(source.month, months_later)
    gemeenten = tuple(_one(etree.fromstring(m), "jw323:Header/jw323:Ontvanger").text for m in messages)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for gemeente, message in zip(gemeenten, messages, strict=True):
            bundle.writestr(f"JW323_{gemeente}_{month:%Y-%m}_{stamp}.xml", message)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{FILE_PREFIX}_aanbieder-{source.aanbieder_agb}_{month:%Y-%m}_{stamp}.zip"
    path.write_bytes(buffer.getvalue())
    return MonthlyDeclaration(
        path=path,
        submission_id=submission_id_for(hashlib.sha256(buffer.getvalue()).hexdigest()),
        aanbieder_agb=source.aanbieder_agb,
        month=month,
        lines=lines,
        repeated_lines=repeated,
        gemeenten=gemeenten,
    )

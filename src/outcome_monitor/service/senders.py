"""Who sent a file, read from the file itself: the service lets a token deliver only its own files.

For XML this is the header's Afzender, read with the same safe parser settings as ingest but
without the XSD check: a provider whose message is not XSD-valid is still the sender and should
get the feedback report for it. A ZIP bundle is read member by member under ingest's limits; a
member that cannot be read names no sender (ingest reports it). CSV/XLSX/JSON files name their
sender in their rows; ``outcome_monitor.ingest.tabular.parse_tabular`` reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from outcome_monitor.ingest.bundle import ZIP_MAGIC, members
from outcome_monitor.ingest.rejection import Rejected

TABULAR_EXTENSIONS = (".csv", ".xlsx", ".json")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


class TabularNotSupported(Exception):
    """A CSV/XLSX/JSON file arrived while this installation cannot read tabular files yet."""


def is_tabular(file_name: str) -> bool:
    return file_name.lower().endswith(TABULAR_EXTENSIONS)


def senders_of(path: Path, file_name: str) -> set[str]:
    """Every sender code the file names (AGB or CBS code); empty when none can be read."""
    if is_tabular(file_name):
        return _tabular_senders(path.read_bytes(), file_name)
    senders: set[str] = set()
    try:
        for member in members(path, file_name):
            if member.data is None:
                continue
            if is_tabular(member.name) and member.data[:4] != ZIP_MAGIC:
                senders |= _tabular_senders(member.data, member.name)
            else:
                senders |= _xml_sender(member.data)
    except Rejected:
        pass  # an empty or broken file names nobody
    return senders


def _xml_sender(data: bytes) -> set[str]:
    if _DOCTYPE.search(data):
        return set()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return set()
    namespace = etree.QName(root).namespace
    ns = {"m": namespace} if namespace else {}
    afzender = root.findtext("m:Header/m:Afzender" if namespace else "Header/Afzender", namespaces=ns)
    return {afzender.strip()} if afzender and afzender.strip() else set()


def _tabular_senders(data: bytes, file_name: str) -> set[str]:
    try:
        from outcome_monitor.ingest.tabular import parse_tabular
    except ImportError as missing:
        raise TabularNotSupported(file_name) from missing
    try:
        parsed = parse_tabular(data, file_name)
    except Rejected:
        return set()
    sender = parsed if isinstance(parsed, str) else getattr(parsed, "sender", None)
    if isinstance(sender, str):
        return {sender} if sender else set()
    return {code for code in sender or () if code}

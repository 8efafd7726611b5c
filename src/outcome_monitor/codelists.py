"""The iStandaarden code lists shipped in ``istandaarden/codelijsten``, read from their Markdown tables."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

CODELIST_DIR = Path(__file__).parent / "istandaarden" / "codelijsten"

_TABLE_ROW = re.compile(r"^\|\s*([0-9A-Z]{1,5})\s*\|\s*([^|]*?)\s*\|")
_SECTION = re.compile(r"^# Code ([0-9]{2}) - (.+)$")


@cache
def codes(file_stem: str) -> dict[str, str]:
    """Code -> description from one code list file (table rows, or '# Code NN - name' sections)."""
    text = (CODELIST_DIR / f"{file_stem}.md").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    in_code_table = False  # only tables headed "| Code |" (or "| Gemeentecode |") hold codes; others are metadata
    for line in text.splitlines():
        if not line.startswith("|"):
            in_code_table = False
        elif re.match(r"^\|\s*(Code|Gemeentecode)\s*\|", line):
            in_code_table = True
        match = (_TABLE_ROW.match(line) if in_code_table else None) or _SECTION.match(line)
        if match and match.group(1) not in found:
            found[match.group(1)] = match.group(2).strip()
    if not found:
        raise ValueError(f"code list {file_stem} has no codes")
    return found


# The lists a rule can name, per domain where iJw and iWmo differ. Keys are 'domein:code'.
_PER_DOMAIN = {
    "productcategorie": {"jeugd": "JZ020_Productcategorie", "wmo": "WMO020_Productcategorie"},
    "reden_beeindiging": {"jeugd": "JZ588_Reden_beeindiging", "wmo": "WMO588_Reden_beeindiging"},
}
_SHARED = {
    "gemeente": "CBS_Gemeentecodes",
    "eenheid": "WJ756_Eenheid",
    "debet_credit": "COD043_Indicatie_debet_credit",
    "status_aanlevering": "COD467_Status_aanlevering",
}


def codelist(name: str) -> set[str]:
    """Valid values for a named list. Domain-specific lists hold 'domein:code' values."""
    if name in _PER_DOMAIN:
        return {f"{domein}:{code}" for domein, stem in _PER_DOMAIN[name].items() for code in codes(stem)}
    if name in _SHARED:
        return set(codes(_SHARED[name]))
    raise KeyError(f"unknown code list {name!r}")

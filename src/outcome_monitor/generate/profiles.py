"""How each sender delivers its tabular files: CSV dialect or XLSX, per submission kind.

Real providers export what their own system produces, so the sample region varies on purpose: Dutch
Excel CSV (``;``, decimal comma, ``DD-MM-YYYY``, Windows-1252), international CSV (``,``, decimal
point, ISO dates, UTF-8 with BOM) and Excel workbooks. Fixed per AGB or CBS code (not drawn), so a
test or a demo can point at "the provider that sends CSV declarations".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    delimiter: str
    decimal: str  # decimal separator of euro amounts and decimals
    dmy: bool  # dates as DD-MM-YYYY (else YYYY-MM-DD)
    encoding: str  # "cp1252", "utf-8-sig" (with BOM) or "utf-8"


NL_EXCEL = Dialect("nl-excel", ";", ",", True, "cp1252")
UTF8_BOM = Dialect("utf8-bom", ",", ".", False, "utf-8-sig")
UTF8_SEMICOLON = Dialect("utf8", ";", ",", False, "utf-8")


@dataclass(frozen=True, slots=True)
class Format:
    ext: str  # "csv" or "xlsx"
    dialect: Dialect | None = None  # CSV only

    @property
    def label(self) -> str:
        return self.dialect.name if self.dialect else "xlsx"


XLSX = Format("xlsx")
CSV_NL = Format("csv", NL_EXCEL)
CSV_BOM = Format("csv", UTF8_BOM)
CSV_UTF8 = Format("csv", UTF8_SEMICOLON)
_CYCLE = (XLSX, CSV_NL, CSV_BOM)

# Youth-care providers that send declarations as a file instead of JW323 (same lines, same truth).
DECLARATIE_FILE = {"42400776": CSV_NL, "42200458": XLSX, "42300642": CSV_BOM}
# Youth-care providers that send start and stop as CSV instead of JW305/JW307.
LEVERING_FILE = {"42500203": CSV_BOM}
# Wmo providers measuring the ZRM: all 13 domains, or the core domains their care addresses.
ZRM_ALL_DOMAINS = tuple(range(1, 14))
ZRM_CORE_DOMAINS = (1, 3, 4, 5, 6, 9, 10, 11)
ZRM_DOMAINS = {
    "98100123": ZRM_ALL_DOMAINS,
    "98200456": ZRM_CORE_DOMAINS,
    "98300789": ZRM_ALL_DOMAINS,
    "98500567": ZRM_CORE_DOMAINS,
}  # fmt: skip  (98400234, household help only, measures no ZRM)
ZRM_FILE = {"98100123": CSV_NL, "98200456": XLSX, "98300789": CSV_BOM, "98500567": CSV_NL}
# Wmo providers' start/stop and municipalities' Wmo toewijzingen (always files: there is no XML for them here).
WMO_LEVERING_FILE = {"98100123": CSV_NL, "98200456": CSV_UTF8, "98300789": CSV_BOM, "98400234": CSV_NL,
                     "98500567": CSV_BOM}  # fmt: skip
GEMEENTE_CSV = {"1731": CSV_NL, "1699": CSV_NL, "1730": CSV_BOM, "1969": CSV_UTF8}
# Client-experience survey: one municipality's research bureau sends a workbook.
CEO_FILE = {"1731": XLSX, "1699": CSV_NL, "1730": CSV_BOM, "1969": CSV_NL}


def uitkomst_format(provider_index: int) -> Format:
    """Outcome files alternate XLSX, Dutch CSV and UTF-8 CSV over the providers."""
    return _CYCLE[provider_index % len(_CYCLE)]

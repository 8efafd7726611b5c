"""Keep text from a provider's file from becoming a formula in the auditor's spreadsheet.

A referentienummer such as ``=HYPERLINK("http://x","y")`` travels unchanged from a declaration
into the warehouse; opened in Excel or LibreOffice it would run. OWASP's advice for CSV
injection: text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
single quote in front, so a spreadsheet shows it as text (and keeps it text when a user edits
the cell). The XLSX writer also marks every text cell as a string, so no reader interprets it.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralise(text: str) -> str:
    """`text` as inert spreadsheet text: a quote in front if it could start a formula."""
    return QUOTE + text if text.startswith(FORMULA_TRIGGERS) else text


def could_start_formula(text: str) -> bool:
    """Whether a cell with this text could be read as a formula (what `neutralise` prevents)."""
    return text.startswith(FORMULA_TRIGGERS)

"""Write ``seeds/gemeenten.csv`` from the CBS municipality list shipped with the package.

Run once when CBS publishes a new gemeentelijke indeling (each 1 January) and the list in
``src/outcome_monitor/istandaarden/codelijsten/CBS_Gemeentecodes.md`` is refreshed; the CSV is
committed so that a dbt build never depends on parsing Markdown.

    .venv-pipeline/bin/python dbt_project/scripts/extract_gemeenten.py
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "src/outcome_monitor/istandaarden/codelijsten/CBS_Gemeentecodes.md"
TARGET = REPO / "dbt_project/seeds/gemeenten.csv"
ROW = re.compile(r"^\|\s*(\d{4})\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$")


def extract(text: str) -> list[tuple[str, str, str, str]]:
    """The (code, name, province, youth care region) rows of the Markdown table, sorted by code."""
    rows = [match.groups() for line in text.splitlines() if (match := ROW.match(line))]
    codes = [row[0] for row in rows]
    if len(set(codes)) != len(codes):
        raise ValueError("duplicate gemeentecode in the CBS list")
    return sorted(rows)


def main() -> int:
    rows = extract(SOURCE.read_text(encoding="utf-8"))
    with TARGET.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["gemeente_code", "gemeente_naam", "provincie_naam", "jeugdzorgregio"])
        writer.writerows(rows)
    print(f"{len(rows)} gemeenten -> {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

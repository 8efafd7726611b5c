"""What a correct pipeline must publish for the generated data: ``ground_truth.json``.

The generator knows every planted defect and every stop, so it can state the figures exactly:
received and rejected declaration lines, the accepted net amount per municipality and month, and the
UITVAL and VOLGENS_PLAN numerators and denominators. A line with any defect is rejected; a stop with a
defect does not end its trajectory.

Defects are streamed to a spool file while generating (a national-size run plants hundreds of
thousands) and copied into the JSON at the end, one defect per line.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TextIO

from outcome_monitor.generate.defects import EXPECTED_CODE

# Indicator denominator: trajectories ended with reason 31, 32, 33 or 34.
_DENOMINATOR_REASONS = frozenset({"31", "32", "33", "34"})


class GroundTruth:
    def __init__(self, spool: Path) -> None:
        self._spool_path = spool
        self._spool: TextIO = open(spool, "w", encoding="utf-8")  # noqa: SIM115 - closed in write()
        self.lines_received = 0
        self.lines_rejected = 0
        self.accepted_cents: dict[tuple[str, str], int] = defaultdict(int)  # (gemeente, YYYY-MM)
        # (gemeente, half-year, agb) -> [reason 32, reason 31, denominator]
        self._ended: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    def defect(
        self,
        kind: str,
        record_type: str,
        file: str,
        member: str,
        line_number: int,
        referentienummer: str | None,
        toewijzingnummer: int | str | None,
        field: str | None = None,
    ) -> None:
        record = {
            "defect": kind,
            "expected_code": EXPECTED_CODE[kind],
            "record_type": record_type,
            "file": file,
            "member": member,
            "line_number": line_number,
            "referentienummer": referentienummer,
            "toewijzingnummer": None if toewijzingnummer is None else str(toewijzingnummer),
        }
        if field is not None:  # tabular rows: the column that holds the defect
            record["field"] = field
        self._spool.write(json.dumps(record, ensure_ascii=False))
        self._spool.write("\n")

    def ended(self, gemeente: str, half_year: str, agb: str, reason: str, trajectories: int) -> None:
        """An accepted stop (not reason 20) of ``trajectories`` toewijzingen."""
        if reason not in _DENOMINATOR_REASONS:
            return
        tally = self._ended[(gemeente, half_year, agb)]
        tally[0] += trajectories if reason == "32" else 0
        tally[1] += trajectories if reason == "31" else 0
        tally[2] += trajectories

    def indicators(self) -> list[dict]:
        totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for (gemeente, half_year, agb), tally in self._ended.items():
            for key in ((gemeente, half_year, agb), (gemeente, half_year, "*")):
                for i in range(3):
                    totals[key][i] += tally[i]
        rows = []
        for (gemeente, half_year, agb), (uitval, plan, denominator) in sorted(totals.items()):
            if denominator == 0:
                continue
            for code, numerator in (("UITVAL", uitval), ("VOLGENS_PLAN", plan)):
                rows.append(
                    {
                        "indicator_code": code,
                        "gemeente_code": gemeente,
                        "domein": "jeugd",
                        "aanbieder_agb": agb,
                        "period": half_year,
                        "numerator": numerator,
                        "denominator": denominator,
                    }
                )
        rows.sort(key=lambda r: (r["indicator_code"], r["gemeente_code"], r["period"], r["aanbieder_agb"]))
        return rows

    def write(self, path: Path, head: dict, submissions: list[dict], extra: dict | None = None) -> None:
        """Write the JSON: ``head`` keys first, then submissions, defects and expected figures.

        ``extra`` adds keys to ``expected`` (the indicators of every kind, the reconciliation);
        ``expected["indicators"]`` stays what it was: jeugd UITVAL and VOLGENS_PLAN per half-year.
        """
        self._spool.close()
        expected = {
            "declaratie": {
                "lines_received": self.lines_received,
                "lines_rejected": self.lines_rejected,
                "accepted_net_cents_by_gemeente_month": [
                    {"gemeente_code": g, "month": m, "bedrag_cents": cents}
                    for (g, m), cents in sorted(self.accepted_cents.items())
                ],
            },
            "indicators": self.indicators(),
            **(extra or {}),
        }
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write("{\n")
            for key, value in head.items():
                out.write(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
            out.write('  "submissions": [\n')
            out.write(",\n".join(f"    {json.dumps(s, ensure_ascii=False)}" for s in submissions))
            out.write('\n  ],\n  "defects": [')
            first = True
            with open(self._spool_path, encoding="utf-8") as spool:
                for line in spool:
                    out.write("\n    " if first else ",\n    ")
                    out.write(line.rstrip("\n"))
                    first = False
            out.write("\n  ],\n" if not first else "],\n")
            out.write(f'  "expected": {json.dumps(expected, indent=2, ensure_ascii=False)}\n')
            out.write("}\n")
        tmp.replace(path)
        self._spool_path.unlink()

"""Deterministic sample data: a Drenthe/Groningen region's youth care and Wmo support as submissions.

``generate(out_dir, seed=..., scale=..., defect_rate=...)`` writes one ZIP bundle per sender per
half-year to ``out_dir/submissions``: iJw 3.2 JW301, JW305, JW307 and JW323 messages, and CSV/XLSX
members of every tabular kind of docs/aanlevering.md (see ``tabular`` and ``profiles``). Next to
them ``ground_truth.json``: the planted defects with the finding code ingest must give, and the
figures a correct pipeline publishes (``expected.indicators_all``, ``expected.reconciliation``, ...).
"""

from outcome_monitor.generate.run import generate

__all__ = ["generate"]

"""Deterministic sample data: a Drenthe/Groningen youth-care region as iJw 3.2 submissions.

``generate(out_dir, seed=..., scale=..., defect_rate=...)`` writes ZIP bundles of JW301, JW305,
JW307 and JW323 messages to ``out_dir/submissions`` and, next to them, ``ground_truth.json``: the
planted defects with the finding code ingest must give, and the figures a correct pipeline publishes.
"""

from outcome_monitor.generate.run import generate

__all__ = ["generate"]

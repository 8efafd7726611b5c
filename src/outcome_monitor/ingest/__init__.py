"""Ingest: a received file becomes archived bytes, checked rows in the raw zone and a feedback report."""

from outcome_monitor.ingest.submission import ingest_file

__all__ = ["ingest_file"]

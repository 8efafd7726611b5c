"""Benchmarks that print figures (rows per second, seconds per step, peak memory)."""

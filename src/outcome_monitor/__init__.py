"""Outcome monitoring and accountability for the Dutch social domain."""

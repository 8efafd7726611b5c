"""Calendar arithmetic on day ordinals: months, half-years and cached ISO strings.

The generator handles millions of dates; working on ``date.toordinal()`` integers and looking the
ISO text up in a table keeps the hot loop free of ``date`` objects and ``isoformat`` calls.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Month:
    """One calendar month of the generated period, as day ordinals (both ends inclusive)."""

    index: int
    year: int
    month: int
    first: int
    last: int
    label: str  # "2025-03"
    half_year: str  # "2025-H1"

    @property
    def days(self) -> int:
        return self.last - self.first + 1


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the last day of a shorter month."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


class Calendar:
    """The months of ``[start, end]`` and a date-string cache around them."""

    def __init__(self, start: date, end: date) -> None:
        if end < start:
            raise ValueError(f"end {end} lies before start {start}")
        self.start = start
        self.end = end
        self.start_ord = start.toordinal()
        self.end_ord = end.toordinal()
        # Messages may be dated up to one month after the period (never later).
        self.latest_dagtekening = add_months(end, 1).toordinal()
        months: list[Month] = []
        year, month = start.year, start.month
        while date(year, month, 1) <= end:
            first = date(year, month, 1).toordinal()
            nxt = date(year + (month == 12), month % 12 + 1, 1).toordinal()
            months.append(
                Month(
                    index=len(months),
                    year=year,
                    month=month,
                    first=first,
                    last=nxt - 1,
                    label=f"{year:04d}-{month:02d}",
                    half_year=f"{year}-H{1 if month <= 6 else 2}",
                )
            )
            year, month = year + (month == 12), month % 12 + 1
        self.months = months
        # ISO strings and month indexes for every day from two years before start to the latest Dagtekening.
        self.base = months[0].first - 800  # covers toewijzingen up to two years before start
        span = self.latest_dagtekening + 40 - self.base
        self.iso_table = [date.fromordinal(self.base + i).isoformat() for i in range(span)]
        self._month_of = [-1] * span
        for m in months:
            for o in range(m.first, m.last + 1):
                self._month_of[o - self.base] = m.index

    def iso(self, ordinal: int) -> str:
        i = ordinal - self.base
        if 0 <= i < len(self.iso_table):
            return self.iso_table[i]
        return date.fromordinal(ordinal).isoformat()

    def month_index(self, ordinal: int) -> int:
        """Index into ``months`` of the month holding ``ordinal`` (which must lie in a generated month)."""
        return self._month_of[ordinal - self.base]

    def half_year(self, ordinal: int) -> str:
        """Half-year of a day in the period; days before the period count in its first half-year."""
        return self.months[self.month_index(max(ordinal, self.start_ord))].half_year

    def clamp_dagtekening(self, ordinal: int) -> int:
        return min(ordinal, self.latest_dagtekening)

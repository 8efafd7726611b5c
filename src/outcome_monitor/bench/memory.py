"""Peak memory of a process and of named steps inside it, for the benchmarks.

``ru_maxrss`` gives a process's peak only. The ingest of a year interleaves parse, validate and
write for thousands of files, so a sampler thread reads the resident set every few milliseconds
and keeps the highest value seen while each step was running.
"""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from outcome_monitor.ingest.submission import IngestTimings

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
OUTSIDE_STEPS = "overig"


def process_peak_mb() -> int:
    """This process's peak resident set so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def current_rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE_BYTES


@dataclass
class SampledTimings(IngestTimings):
    """IngestTimings that also record the peak resident set seen during each step."""

    interval: float = 0.005
    current: str = OUTSIDE_STEPS
    peak_bytes: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        outer, self.current = self.current, name
        try:
            with super().step(name):
                yield
        finally:
            self._sample()
            self.current = outer

    def _sample(self) -> None:
        rss = current_rss_bytes()
        if rss > self.peak_bytes.get(self.current, 0):
            self.peak_bytes[self.current] = rss

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> SampledTimings:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def peak_mb(self) -> dict[str, int]:
        return {name: round(value / 2**20) for name, value in self.peak_bytes.items()}

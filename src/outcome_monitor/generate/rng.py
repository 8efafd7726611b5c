"""The generator's random source: ``random.Random`` with cheaper ``randint`` and ``choice``.

The standard methods draw through ``getrandbits`` with rejection sampling, which is exact but costs
about ten times a ``random()`` call. For sample data a bias of at most 2**-53 does not matter, and
the generator draws a few million numbers at national scale. Seeded like ``random.Random``, so the
output stays a pure function of the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class FastRandom(random.Random):
    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

"""The BSN (burgerservicenummer): its check and its pseudonym."""

from __future__ import annotations

import hashlib
import hmac

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def passes_elfproef(bsn: str) -> bool:
    """The BSN variant of the eleven test: weights 9..2 and -1 for the last digit.

    All zeros passes the arithmetic but is no number anyone has, so it fails here.
    """
    if len(bsn) != 9 or not bsn.isdigit() or bsn == "000000000":
        return False
    return sum(int(digit) * weight for digit, weight in zip(bsn, _WEIGHTS, strict=True)) % 11 == 0


def pseudonymise(bsn: str, key: bytes) -> str:
    """Keyed pseudonym (HMAC-SHA-256, hex): stable per key, useless without it."""
    return hmac.new(key, bsn.encode(), hashlib.sha256).hexdigest()

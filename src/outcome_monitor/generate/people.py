"""Fake clients: BSNs that pass the elfproef, names, birth dates and addresses.

Everything here is invented. The personal data exists only so that ingest can prove it drops it:
names, birth dates and addresses appear in JW301, JW305 and JW307 and must never reach the raw zone.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from outcome_monitor.bsn import passes_elfproef
from outcome_monitor.generate.region import Gemeente

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def _with_check_digit(prefix: int) -> str | None:
    """The one nine-digit number starting with these eight digits that passes the elfproef, if any."""
    digits = f"{prefix:08d}"
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
    if remainder == 10:
        return None
    bsn = f"{digits}{remainder}"
    return bsn if passes_elfproef(bsn) else None


def bsn_numbers() -> Iterator[str]:
    """Distinct elfproef-valid BSNs: first the official test range 999900006..999999990 (9,091 numbers).

    That covers about 3 x 3,000 clients (2,000 youth and 1,000 Wmo clients per unit of scale). Larger
    scales need more distinct clients, so the sequence
    continues downwards from 999899995 with other nine-digit numbers that pass the elfproef (about
    90 million exist). Those lie outside the range reserved for testing and may be real people's
    numbers: the names, dates and addresses next to them are still invented, but keep output of
    scales above 3 inside test environments.
    """
    for prefix in range(99990000, 100000000):
        bsn = _with_check_digit(prefix)
        if bsn is not None:
            yield bsn
    for prefix in range(99989999, 0, -1):
        bsn = _with_check_digit(prefix)
        if bsn is not None:
            yield bsn


def corrupt_bsn(bsn: str) -> str:
    """Same number with the check digit shifted by one: still nine digits, certainly fails the elfproef."""
    wrong = f"{bsn[:8]}{(int(bsn[8]) + 1) % 10}"
    assert not passes_elfproef(wrong)
    return wrong


_BOYS = (
    "Daan",
    "Sem",
    "Lucas",
    "Levi",
    "Finn",
    "Milan",
    "Jesse",
    "Bram",
    "Thijs",
    "Noah",
    "Luuk",
    "Ruben",
    "Sven",
    "Gijs",
    "Jens",
    "Tijn",
    "Mees",
    "Stijn",
    "Teun",
    "Jayden",
    "Mohammed",
    "Jan",
)
_GIRLS = (
    "Emma",
    "Julia",
    "Sophie",
    "Tess",
    "Zoë",
    "Sara",
    "Anna",
    "Noor",
    "Lotte",
    "Fleur",
    "Evi",
    "Saar",
    "Liv",
    "Nina",
    "Lieke",
    "Fenna",
    "Isa",
    "Chloé",
    "Yara",
    "Femke",
    "Maud",
    "Roos",
)
_ADULTS_M = ("Peter", "Mark", "Erik", "Johan", "Dennis", "Bas", "Kevin", "Rob", "Martijn", "Hendrik")
_ADULTS_F = ("Linda", "Sandra", "Esther", "Marieke", "Ingrid", "Anja", "Petra", "Wendy", "Judith", "Ilse")
_SURNAMES = (
    ("", "Bakker"),
    ("de", "Vries"),
    ("", "Mulder"),
    ("de", "Jong"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Dijkstra"),
    ("", "Hoekstra"),
    ("van der", "Veen"),
    ("", "Kuipers"),
    ("", "Bos"),
    ("van", "Dijk"),
    ("", "Huisman"),
    ("", "Post"),
    ("van der", "Molen"),
    ("", "Oosterhuis"),
    ("", "Wierenga"),
    ("", "Zuidema"),
    ("ten", "Have"),
    ("'t", "Hart"),
    ("", "Brouwer"),
    ("", "Hofstede"),
    ("", "Schuiling"),
    ("", "Nijboer"),
    ("van", "Beek"),
    ("", "Jansen"),
    ("", "Kramer"),
    ("El", "Amrani"),
    ("", "Yilmaz"),
    ("", "Kok"),
)
_STREETS = (
    "Dorpsstraat",
    "Kerkstraat",
    "Brink",
    "Esweg",
    "Molenweg",
    "Schoolstraat",
    "Stationsweg",
    "Beukenlaan",
    "Eikenlaan",
    "Vaart Zuidzijde",
    "Hoofdweg",
    "Julianastraat",
    "Wilhelminalaan",
    "Zuiderweg",
    "Noorderdiep",
    "Boerhaar",
    "Heidelaan",
    "Meester Kampstraat",
    "Es",
    "Hooiweg",
)


@dataclass(slots=True)
class Person:
    bsn: str
    geslacht: str  # LDT_Geslacht: 1 man, 2 vrouw
    voornamen: str
    voorletters: str
    voorvoegsel: str
    achternaam: str
    geboortedatum: str
    straat: str
    huisnummer: int
    postcode: str
    plaats: str
    ouder_voornaam: str
    ouder_voorletters: str
    ouder_geslacht: str
    ouder_telefoon: str


def fake_person(rng: random.Random, bsn: str, gemeente: Gemeente, birth_iso: str) -> Person:
    boy = rng.random() < 0.55  # boys are a small majority in youth care
    first = rng.choice(_BOYS if boy else _GIRLS)
    second = rng.choice(_BOYS if boy else _GIRLS) if rng.random() < 0.4 else ""
    voornamen = f"{first} {second}" if second and second != first else first
    voorvoegsel, achternaam = rng.choice(_SURNAMES)
    plaats, pc4 = rng.choice(gemeente.places)
    letters = "ABCDEGHJKLMNPRSTVXZ"
    mother = rng.random() < 0.7
    ouder = rng.choice(_ADULTS_F if mother else _ADULTS_M)
    return Person(
        bsn=bsn,
        geslacht="1" if boy else "2",
        voornamen=voornamen,
        voorletters="".join(n[0] for n in voornamen.split()),
        voorvoegsel=voorvoegsel,
        achternaam=achternaam,
        geboortedatum=birth_iso,
        straat=rng.choice(_STREETS),
        huisnummer=rng.randint(1, 180),
        postcode=f"{pc4[:3]}{rng.randint(int(pc4[3]), 9)}{rng.choice(letters)}{rng.choice(letters)}",
        plaats=plaats,
        ouder_voornaam=ouder,
        ouder_voorletters=ouder[0],
        ouder_geslacht="2" if mother else "1",
        ouder_telefoon=f"06{rng.randint(10000000, 99999999)}",
    )

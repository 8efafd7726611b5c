"""How care turns out: outcome measurements, ZRM scores and survey answers, drawn so that they differ.

One latent "how well did it go" per trajectory drives every answer about it: the end reason (ended
according to plan is better than dropped out), the provider's quality (a fixed draw per provider and
seed) and chance. So dashboards show real differences between providers and between end reasons,
and the answers of one trajectory agree with each other. Pure functions of a ``random.Random``.
"""

from __future__ import annotations

import random

# How well the end reason says it went (jeugd JZ588 and wmo WMO588 codes).
_REASON_EFFECT = {
    "31": 1.0, "19": 1.0,  # according to plan
    "34": 0.3, "23": 0.3,  # ended early by agreement
    "35": -0.1,  # external cause
    "33": -0.6, "22": -0.6,  # ended by the provider
    "32": -1.1, "21": -1.1,  # ended by the client: dropped out
}  # fmt: skip
# Which ended trajectories get an outcome measurement at all (a switch or a death does not).
MEASURED_REASONS = {"jeugd": frozenset({"31", "32", "33", "34", "35"}), "wmo": frozenset({"19", "21", "22", "23"})}

ZONDER_HULP = ("01", "02", "03", "04")  # ja zonder hulp, ja met lichtere hulp, nee, onbekend
ZRM_DOMAINS = {
    1: "Financiën", 2: "Werk en opleiding", 3: "Tijdsbesteding", 4: "Huisvesting", 5: "Huiselijke relaties",
    6: "Geestelijke gezondheid", 7: "Lichamelijke gezondheid", 8: "Middelengebruik", 9: "Basale ADL",
    10: "Instrumentele ADL", 11: "Sociaal netwerk", 12: "Maatschappelijke participatie", 13: "Justitie",
}  # fmt: skip


def provider_quality(seed: int, agb: str) -> float:
    """A provider's quality between -1 and 1: fixed per seed and provider, independent of any other draw."""
    return random.Random(f"quality-{seed}-{agb}").uniform(-1.0, 1.0)


def response_rate(quality: float) -> float:
    """Share of measured trajectories a provider actually reports: better organised, more complete."""
    return 0.72 + 0.12 * quality


def latent(rng: random.Random, reason: str, quality: float) -> float:
    return _REASON_EFFECT.get(reason, 0.0) + 0.6 * quality + rng.gauss(0.0, 0.7)


def tevredenheid(rng: random.Random, how_well: float, informant: str) -> int:
    """A report mark 1-10; young people are a little more critical than their parents."""
    shift = -0.4 if informant == "jeugdige" else 0.0
    return max(1, min(10, round(6.9 + 1.2 * how_well + shift + rng.gauss(0.0, 0.8))))


def zonder_hulp_verder(rng: random.Random, how_well: float) -> str:
    if rng.random() < 0.05:
        return "04"
    x = how_well + rng.gauss(0.0, 0.5)
    return "01" if x > 0.7 else "02" if x > -0.3 else "03"


def doelrealisatie(rng: random.Random, how_well: float) -> int:
    x = how_well + rng.gauss(0.0, 0.5)
    return 1 if x > 1.0 else 2 if x > 0.0 else 3 if x > -0.9 else 4


def informants(rng: random.Random, domein: str, age_years: float) -> tuple[str, ...]:
    """Who answers: the client (wmo); for youth the parent, and from 12 the young person too or instead."""
    if domein == "wmo":
        return ("client",)
    if age_years < 12:
        return ("ouder",)
    draw = rng.random()
    return ("jeugdige", "ouder") if draw < 0.55 else ("jeugdige",) if draw < 0.8 else ("ouder",)


def zrm_t0(rng: random.Random, domains: tuple[int, ...]) -> dict[int, int]:
    """Scores at the start: mostly 2-4 (support is assigned because things do not go well)."""
    return {d: min(5, max(1, round(rng.triangular(1.0, 5.0, 2.8)))) for d in domains}


def zrm_tn(rng: random.Random, t0: dict[int, int], how_well: float) -> dict[int, int]:
    """Scores at the end: better care lifts more domains and lowers fewer."""
    up = min(0.7, max(0.05, 0.3 + 0.2 * how_well))
    down = min(0.4, max(0.02, 0.07 - 0.06 * how_well))
    out = {}
    for d, score in t0.items():
        draw = rng.random()
        step = 1 if draw < up else -1 if draw < up + down else 0
        if step == 1 and rng.random() < 0.2:
            step = 2
        out[d] = min(5, max(1, score + step))
    return out


# Client-experience survey (CEO): the VNG standard themes, one code per theme for both laws, so an
# indicator CEO_<vraag_code> means the same for Wmo and Jeugdwet. The file's vraag_code holds "01";
# the indicator is "CEO_01".
CEO_QUESTIONS: dict[str, dict[str, str]] = {
    "wmo": {
        "01": "Ik weet waar ik moet zijn als ik hulp of ondersteuning nodig heb.",
        "02": "Ik werd snel geholpen nadat ik mij had gemeld.",
        "03": "De medewerker nam mij serieus.",
        "04": "De medewerker en ik hebben in het gesprek samen naar oplossingen gezocht.",
        "05": "Ik vind de kwaliteit van de ondersteuning die ik krijg goed.",
        "06": "De ondersteuning die ik krijg past bij mijn hulpvraag.",
        "07": "Door de ondersteuning die ik krijg kan ik de dingen doen die ik wil.",
        "08": "Door de ondersteuning die ik krijg kan ik mij beter redden.",
        "09": "Ik ben tevreden over de onafhankelijke cliëntondersteuner die mij hielp.",
    },
    "jeugdwet": {
        "01": "Ik wist waar ik terechtkon met mijn vraag over (de opvoeding van) mijn kind.",
        "02": "Ik kreeg snel hulp nadat ik mij had gemeld.",
        "03": "Ik voelde me serieus genomen door de hulpverlener.",
        "04": "Ik heb samen met de hulpverlener besloten welke hulp we kregen.",
        "05": "Ik vind de kwaliteit van de hulp goed.",
        "06": "De hulp paste bij wat ik nodig had.",
        "07": "Door de hulp kan ik beter omgaan met de problemen.",
        "08": "Door de hulp gaat het beter met mijn kind.",
        "09": "Ik ben tevreden over de onafhankelijke cliëntondersteuner die mij hielp.",
    },
}
# Share of "9" (weet niet / n.v.t.) per question: few people had a cliëntondersteuner, so question 09
# has few real answers and its cells fall under the publication threshold of 30.
_NOT_APPLICABLE = {"01": 0.05, "02": 0.08, "03": 0.04, "04": 0.07, "05": 0.05, "06": 0.05, "07": 0.10,
                   "08": 0.10, "09": 0.80}  # fmt: skip
# Response to the survey: share of the year's clients who answer.
CEO_RESPONSE = {"jeugdwet": 0.28, "wmo": 0.38}


def ceo_answers(rng: random.Random, quality: float) -> list[tuple[str, int]]:
    """One respondent's answers 1-5 (helemaal oneens ... helemaal eens) or 9, per question."""
    mood = 0.5 * quality + rng.gauss(0.0, 0.8)
    answers = []
    for code, na in _NOT_APPLICABLE.items():
        if rng.random() < na:
            answers.append((code, 9))
            continue
        x = 3.7 + mood + rng.gauss(0.0, 0.7) - (0.3 if code in ("02", "07") else 0.0)
        answers.append((code, max(1, min(5, round(x)))))
    return answers

"""A client's care history: trajectories (toewijzingen at one provider), their starts and stops,
and the monthly deliveries that become declaration lines.

Pure functions of a ``random.Random``; dates are day ordinals (see ``periods``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from outcome_monitor.generate.periods import Calendar
from outcome_monitor.generate.region import PRODUCTS, Aanbieder, Product, Region


@dataclass(frozen=True, slots=True)
class StopModel:
    """Reasons for the end of care of one domain's code list, with their cumulative share (in %).

    The last reason must be 20 (temporarily ended, not an end); ``plan`` is the "according to plan"
    code; 38 (switch to another provider) restarts the next day. ``restart``: chance that the client
    starts again after an end with this reason.
    """

    reasons: tuple[str, ...]
    cum: tuple[int, ...]
    restart: dict[str, float]
    plan: str


# JZ588 (jeugd).
JEUGD_STOPS = StopModel(
    ("31", "32", "34", "33", "35", "38", "20"),
    (55, 69, 79, 85, 91, 97, 100),
    {"31": 0.15, "34": 0.20, "32": 0.40, "33": 0.45, "35": 0.0, "38": 1.0},
    "31",
)
# WMO588 (wmo): older clients, so deaths (02) and moves to the Wlz (39) end a fair share of support.
WMO_STOPS = StopModel(
    ("19", "21", "23", "22", "02", "39", "31", "38", "20"),
    (52, 62, 71, 76, 83, 88, 91, 96, 100),
    {"19": 0.15, "23": 0.20, "21": 0.35, "22": 0.40, "02": 0.0, "39": 0.0, "31": 0.0, "38": 1.0},
    "19",
)
STOP_REASONS = JEUGD_STOPS.reasons


@dataclass(slots=True)
class Toewijzing:
    nummer: int
    product: Product
    volume: int  # per ``product.frequentie``
    tarief: int  # cents per unit, the contract tariff
    decl_fields: str = ""  # JW323 fragment from ToewijzingNummer to ProductCode (messages.py fills it)


@dataclass(slots=True)
class Episode:
    """Care actually delivered: from a start message (JW305) to a stop message (JW307) or still running."""

    begin: int
    stop: int | None  # Einddatum of the stop message; None: no stop before the end of the period
    reason: str | None


@dataclass(slots=True)
class Traject:
    """The toewijzingen one municipality gives one client at one provider at one moment.

    Each toewijzing is a trajectory in the indicator sense; the ones given together start and stop
    together, so they share the episodes (and travel in the same JW301, JW305 and JW307 messages).
    """

    aanbieder: Aanbieder
    toewijzingsdatum: int
    ingang: int
    einde: int
    toewijzingen: list[Toewijzing]
    episodes: list[Episode] = field(default_factory=list)


def _stop_reason(rng: random.Random, model: StopModel, allow_pause: bool = True) -> str:
    top = 100 if allow_pause else model.cum[-2]
    draw = rng.random() * top
    for reason, cum in zip(model.reasons, model.cum, strict=True):
        if draw < cum:
            return reason
    return model.plan


def _stop_date(rng: random.Random, begin: int, einde: int, reason: str, model: StopModel) -> int:
    if reason == model.plan:  # according to plan: at or shortly before the planned end
        return einde - rng.randint(0, min(21, einde - begin))
    return begin + int((einde - begin) * rng.uniform(0.1, 0.8))


def simulate_client(
    rng: random.Random,
    cal: Calendar,
    region: Region,
    gemeente_code: str,
    next_toewijzingnummer: Callable[[], int],
    domain: Domain | None = None,
) -> list[Traject]:
    """One client's trajectories in one municipality, in time order, as far as they touch the period.

    The region is in a steady state: a client's first toewijzing may start up to two years before
    the period, so care is already running on its first day. Episodes that ended before the period are
    left out (they were reported before it), and so are trajectories with nothing left in it.
    """
    if domain is None:
        domain = Domain(region.providers_by_gemeente[gemeente_code], PRODUCTS, JEUGD_STOPS, region.tarieven)
    while True:
        trajecten = _history(rng, cal, domain)
        kept = []
        for traject in trajecten:
            traject.episodes = [e for e in traject.episodes if e.stop is None or e.stop >= cal.start_ord]
            if traject.episodes:
                kept.append(traject)
        if kept:
            break
    for traject in kept:  # numbered only once kept, so numbers have no gaps
        for t in traject.toewijzingen:
            t.nummer = next_toewijzingnummer()
    return kept


@dataclass(frozen=True, slots=True)
class Domain:
    """What a client's history is drawn from: the providers contracted in the client's municipality,
    the product catalogue, the reasons for ending care, and the contract tariffs (0 where none)."""

    providers: tuple[Aanbieder, ...]
    products: dict[str, Product]
    stops: StopModel
    tarieven: dict[tuple[str, str], int]


def _history(rng: random.Random, cal: Calendar, domain: Domain) -> list[Traject]:
    providers, catalogue, model = domain.providers, domain.products, domain.stops
    earliest_ingang = cal.start_ord - 730
    latest_ingang = max(cal.start_ord, cal.end_ord - 14)
    ingang = earliest_ingang + int(rng.random() * (latest_ingang - earliest_ingang + 1))
    previous: Aanbieder | None = None
    trajecten: list[Traject] = []
    while True:
        candidates = [a for a in providers if a is not previous] or list(providers)
        aanbieder = candidates[int(rng.random() * len(candidates))]
        main = catalogue[aanbieder.products[int(rng.random() * len(aanbieder.products))]]
        products = [main]
        for code, share in main.companions:
            if rng.random() < share:
                products.append(catalogue[code])
        einde = ingang + rng.randint(main.duur_min_days, main.duur_max_days) - 1
        toewijzingen = [
            Toewijzing(0, p, rng.randint(p.volume_min, p.volume_max), domain.tarieven.get((aanbieder.agb, p.code), 0))
            for p in products
        ]
        traject = Traject(
            aanbieder=aanbieder,
            toewijzingsdatum=ingang - rng.randint(0, 10),
            ingang=ingang,
            einde=einde,
            toewijzingen=toewijzingen,
        )
        trajecten.append(traject)

        begin = min(ingang + rng.randint(0, 10), einde, cal.end_ord)
        reason = _stop_reason(rng, model)
        stop = _stop_date(rng, begin, einde, reason, model)
        final: tuple[int, str] | None = None  # (stop date, reason) of a real end within the period
        if stop > cal.end_ord:
            traject.episodes.append(Episode(begin, None, None))
        elif reason == "20":
            traject.episodes.append(Episode(begin, stop, "20"))
            resume = stop + rng.randint(14, 60)
            if rng.random() < 0.5 and resume <= min(einde, cal.end_ord):
                reason = _stop_reason(rng, model, allow_pause=False)
                stop = _stop_date(rng, resume, einde, reason, model)
                if stop > cal.end_ord:
                    traject.episodes.append(Episode(resume, None, None))
                else:
                    traject.episodes.append(Episode(resume, stop, reason))
                    final = (stop, reason)
        else:
            traject.episodes.append(Episode(begin, stop, reason))
            final = (stop, reason)

        if final is None or rng.random() >= model.restart[final[1]]:
            return trajecten
        stop, reason = final
        ingang = stop + 1 if reason == "38" else stop + rng.randint(30, 180)
        if ingang > latest_ingang:
            return trajecten
        previous = aanbieder


def allowed_volume(t: Toewijzing, days: int, month_days: int) -> int:
    """Most units the toewijzing allows in a product period of ``days`` days."""
    if t.product.frequentie == "2":  # per week
        return t.volume * days // 7
    return t.volume * days // month_days  # "4": per month

"""The tabular submission kinds, generated alongside the XML: part of ``run._Generator``.

Per client (streaming, as the XML): outcome measurements at the end of a trajectory (uitkomst), ZRM
measurements (Wmo), survey answers (clientervaring), the Wmo toewijzingen and start/stop, the
GEEN_NIEUWE_START and UITPUTTING counts. Per year or once, after all clients: contract tariffs,
agreements (afspraak) and the providers' productieverantwoording.

Every draw here comes from streams of their own (``outcome_rng``, ``wmo_rng``, ``tab_rng`` for the
defects), so the youth-care XML stays what it was for a seed, and a different ``defect_rate`` plants
other defects in the very same data.
"""

from __future__ import annotations

import functools
import itertools
from datetime import date
from typing import TYPE_CHECKING

from outcome_monitor.generate import annual
from outcome_monitor.generate import outcomes as oc
from outcome_monitor.generate.care import WMO_STOPS, Domain, Episode, Traject, simulate_client
from outcome_monitor.generate.people import corrupt_bsn
from outcome_monitor.generate.profiles import (
    CEO_FILE,
    GEMEENTE_CSV,
    WMO_LEVERING_FILE,
    XLSX,
    ZRM_DOMAINS,
    ZRM_FILE,
    Format,
    uitkomst_format,
)
from outcome_monitor.generate.region import WMO_PRODUCTS, Gemeente
from outcome_monitor.generate.tabular import COLUMNS, Raw, TabularFile, column_index

if TYPE_CHECKING:
    from outcome_monitor.generate.run import _Generator

# (domein) -> (reasons ending "according to plan or by agreement" for GEEN_NIEUWE_START)
_NO_RESTART_REASONS = {"jeugd": ("31", "34"), "wmo": ("19", "23")}
_DROPOUT = frozenset({"32", "21"})
_COL = {kind: {name: column_index(kind, name) for name, _t in cols} for kind, cols in COLUMNS.items()}


def half_year_end(label: str) -> int:
    year, half = int(label[:4]), label[-1]
    return date(year, 6, 30).toordinal() if half == "1" else date(year, 12, 31).toordinal()


def next_half_year(label: str) -> str:
    year, half = int(label[:4]), label[-1]
    return f"{year}-H2" if half == "1" else f"{year + 1}-H1"


class TabularKinds:
    """Mixed into ``_Generator``: everything that ends up in a CSV or XLSX member."""

    def _tab(
        self: _Generator, sender: str, role: str, half_year: str, kind: str, label: str, fmt: Format, delivered: int
    ) -> TabularFile:
        key = (sender, half_year, kind, label)
        tab = self.tab.get(key)
        if tab is None:
            bundle = self._bundle(sender, role, half_year)
            member = f"{kind}_{sender}_{label}.{fmt.ext}"
            spool = self.spool_dir / f"tab-{len(self.tab):05d}.pkl"
            tab = self.tab[key] = TabularFile(kind, member, bundle.file, fmt, delivered, spool, [])
        return tab

    def _half_tab(self: _Generator, sender: str, role: str, day: int, kind: str, fmt: Format) -> TabularFile:
        """The sender's file of ``kind`` for the half-year of ``day``, delivered two weeks after it."""
        half = self.cal.half_year(day)
        delivered = min(half_year_end(half) + 14, self.cal.latest_dagtekening)
        return self._tab(sender, role, half, kind, half, fmt, delivered)

    def _defect(self: _Generator, factor: float = 1.0) -> bool:
        return self.defect_rate > 0 and self.tab_rng.random() < self.defect_rate * factor

    def _tab_defect(self: _Generator, kind: str, record_type: str, tab: TabularFile, line: int,
                    toewijzing: str | int | None, field: str) -> None:  # fmt: skip
        self.truth.defect(kind, record_type, tab.bundle_file, tab.member, line, None, toewijzing, field)

    # -- youth care start/stop as CSV ------------------------------------------------------------

    def _levering_rows(
        self: _Generator, domein: str, gemeente: str, traject: Traject, episode: Episode, soort: str, bsn: str,
        fmt: Format,
    ) -> tuple[TabularFile, list[int]]:  # fmt: skip
        agb = traject.aanbieder.agb
        day = episode.begin if soort == "start" else episode.stop
        assert day is not None
        tab = self._half_tab(agb, "aanbieder", day, "levering", fmt)
        lines = []
        for t in traject.toewijzingen:
            stop = soort == "stop"
            lines.append(
                tab.add([
                    gemeente, agb, domein, soort, str(t.nummer), bsn, t.product.categorie, t.product.code,
                    traject.ingang, episode.begin, episode.stop if stop else None,
                    episode.reason if stop else None, "1",
                ])
            )  # fmt: skip
        return tab, lines

    # -- per client ------------------------------------------------------------------------------

    def _after_client(
        self: _Generator, domein: str, gemeente: str, bsn: str, birth: int, trajecten: list[Traject],
        ends: list[tuple[Traject, Episode, bool]],
    ) -> None:  # fmt: skip
        """Outcomes, ZRM, survey answers and the counts that need the client's whole history."""
        rng = self.outcome_rng
        cal = self.cal
        no_restart = _NO_RESTART_REASONS[domein]
        zrm_done = False
        for traject, episode, accepted in ends:
            assert episode.stop is not None and episode.reason is not None
            agb = traject.aanbieder.agb
            n = len(traject.toewijzingen)
            if accepted and episode.reason in no_restart:
                horizon = half_year_end(next_half_year(cal.half_year(episode.stop)))
                restarted = any(
                    other is not traject and episode.stop < other.episodes[0].begin <= horizon for other in trajecten
                )
                self.ind.geen_nieuwe_start(
                    domein, gemeente, agb, episode.stop, restarted, n, complete=horizon <= cal.end_ord
                )
            how_well = oc.latent(rng, episode.reason, self.quality[agb])
            if episode.reason in oc.MEASURED_REASONS[domein]:
                rate = oc.response_rate(self.quality[agb]) * (0.6 if episode.reason in _DROPOUT else 1.0)
                if rng.random() < rate:
                    age = (episode.stop - birth) / 365.25
                    self._uitkomst(domein, gemeente, bsn, traject, episode.stop, how_well, age)
            if domein == "wmo" and not zrm_done and agb in ZRM_DOMAINS and episode is traject.episodes[-1]:
                zrm_done = self._zrm(gemeente, bsn, traject, episode, how_well)
        if domein == "wmo" and not zrm_done:
            self._zrm_started_only(gemeente, bsn, trajecten, ends)
        self._survey(domein, gemeente, trajecten)
        if domein == "jeugd":
            self._assigned_volume(gemeente, trajecten)

    def _uitkomst(
        self: _Generator, domein: str, gemeente: str, bsn: str, traject: Traject, day: int, how_well: float,
        age: float,
    ) -> None:  # fmt: skip
        rng = self.outcome_rng
        agb = traject.aanbieder.agb
        fmt = uitkomst_format(self.provider_index.get(agb, self.wmo_index.get(agb, 0)))
        tab = self._half_tab(agb, "aanbieder", day, "uitkomst", fmt)
        nummer = str(traject.toewijzingen[0].nummer)
        col = _COL["uitkomst"]
        for i, informant in enumerate(oc.informants(rng, domein, age)):
            tevreden = oc.tevredenheid(rng, how_well, informant)
            zonder = oc.zonder_hulp_verder(rng, how_well) if i == 0 else None
            doel = oc.doelrealisatie(rng, how_well) if i == 0 else None
            # Dutch spreadsheets spell it "cliënt" (an alias the contract accepts): it also makes cp1252 matter.
            spelled = "cliënt" if informant == "client" and fmt.dialect is not None and fmt.dialect.dmy else informant
            row: list = [gemeente, agb, domein, nummer, bsn, day, spelled, tevreden, zonder, doel]
            defect = None
            if self._defect():
                defect = oc_defect = self.tab_rng.choice(
                    ("tevredenheid_out_of_range", "unknown_informant", "impossible_date", "not_a_whole_number")
                )
                field = {"tevredenheid_out_of_range": "tevredenheid", "unknown_informant": "informant",
                         "impossible_date": "meetdatum", "not_a_whole_number": "tevredenheid"}[oc_defect]  # fmt: skip
                row[col[field]] = _defect_cell(oc_defect, fmt, day, self.tab_rng)
            line = tab.add(row)
            if defect is not None:
                self._tab_defect(defect, "uitkomst", tab, line, nummer, field)
            else:
                self.ind.outcome(gemeente, domein, agb, day, informant, tevreden, zonder, doel)

    def _zrm_rows(
        self: _Generator, gemeente: str, agb: str, bsn: str, day: int, moment: str, scores: dict[int, int]
    ) -> dict[int, int]:
        """Write one measurement; return the scores a correct ingest accepts."""
        tab = self._half_tab(agb, "aanbieder", day, "zrm", ZRM_FILE[agb])
        accepted = {}
        for domain, score in scores.items():
            row: list = [gemeente, agb, "wmo", bsn, day, moment, domain, score]
            defect = None
            if self._defect(0.5):
                defect = self.tab_rng.choice(("zrm_score_out_of_range", "impossible_date", "required_field_empty"))
                field = "meetdatum" if defect == "impossible_date" else "score"
                row[_COL["zrm"][field]] = _defect_cell(defect, tab.fmt, day, self.tab_rng)
            line = tab.add(row)
            if defect is None:
                accepted[domain] = score
            else:
                self._tab_defect(defect, "zrm_meting", tab, line, None, field)
        return accepted

    def _zrm(self: _Generator, gemeente: str, bsn: str, traject: Traject, episode: Episode, how_well: float) -> bool:
        """T0 at the start and Tn at the end of a trajectory that both began and ended in the period."""
        rng = self.outcome_rng
        first = traject.episodes[0].begin
        assert episode.stop is not None
        if first < self.cal.start_ord or rng.random() >= 0.7:
            return False
        t0_day = min(first + rng.randint(0, 14), episode.stop - 1)
        if t0_day < first:
            return False
        agb = traject.aanbieder.agb
        t0 = oc.zrm_t0(rng, ZRM_DOMAINS[agb])
        t0_ok = self._zrm_rows(gemeente, agb, bsn, t0_day, "T0", t0)
        if episode.reason in ("19", "21", "22", "23"):
            tn = oc.zrm_tn(rng, t0, how_well)
            tn_ok = self._zrm_rows(gemeente, agb, bsn, episode.stop, "Tn", tn)
            self.ind.zrm(gemeente, agb, t0_ok, tn_ok, episode.stop)
        return True

    def _zrm_started_only(
        self: _Generator, gemeente: str, bsn: str, trajecten: list[Traject], ends: list[tuple[Traject, Episode, bool]]
    ) -> None:
        """A T0 for a running trajectory that started in the period (its Tn comes later)."""
        ended = {id(t) for t, _e, _a in ends}
        for traject in trajecten:
            agb = traject.aanbieder.agb
            first = traject.episodes[0].begin
            if id(traject) in ended or agb not in ZRM_DOMAINS or first < self.cal.start_ord:
                continue
            if self.outcome_rng.random() < 0.7:
                day = min(first + self.outcome_rng.randint(0, 14), self.cal.end_ord)
                self._zrm_rows(gemeente, agb, bsn, day, "T0", oc.zrm_t0(self.outcome_rng, ZRM_DOMAINS[agb]))
            return

    def _survey(self: _Generator, domein: str, gemeente: str, trajecten: list[Traject]) -> None:
        """Clients with care in a surveyed year answer the municipality's CEO survey, some of them."""
        wet = "jeugdwet" if domein == "jeugd" else "wmo"
        rng = self.outcome_rng
        for year in self.years:
            first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            provider = None
            for traject in trajecten:
                for e in traject.episodes:
                    if e.begin <= last and (e.stop if e.stop is not None else self.cal.end_ord) >= first:
                        provider = traject.aanbieder.agb
            if provider is None or rng.random() >= oc.CEO_RESPONSE[wet]:
                continue
            tab = self._tab(
                gemeente, "gemeente", f"{year}-H2", "clientervaring", str(year), CEO_FILE[gemeente],
                date(year, 12, 15).toordinal(),
            )  # fmt: skip
            self.respondents[(gemeente, year)] += 1
            respondent = f"R{year}{self.respondents[(gemeente, year)]:05d}"
            for vraag, antwoord in oc.ceo_answers(rng, self.quality[provider]):
                row: list = [gemeente, year, wet, respondent, vraag, antwoord, provider]
                if self._defect(0.1):
                    row[_COL["clientervaring"]["antwoord"]] = self.tab_rng.choice((6, 7, 0))
                    line = tab.add(row)
                    self._tab_defect("antwoord_out_of_range", "clientervaring", tab, line, None, "antwoord")
                    continue
                tab.add(row)
                self.ind.ceo(gemeente, wet, provider, year, vraag, antwoord)

    def _assigned_volume(self: _Generator, gemeente: str, trajecten: list[Traject]) -> None:
        cal = self.cal
        for traject in trajecten:
            agb = traject.aanbieder.agb
            lo, hi = max(traject.ingang, cal.start_ord), min(traject.einde, cal.end_ord)
            if lo > hi:
                continue
            for mi in range(cal.month_index(lo), cal.month_index(hi) + 1):
                m = cal.months[mi]
                days = min(hi, m.last) - max(lo, m.first) + 1
                assigned = 0
                for t in traject.toewijzingen:
                    assigned += t.volume * days // (7 if t.product.frequentie == "2" else m.days)
                self.ind.volume(gemeente, agb, (m.half_year, str(m.year)), 0, assigned)

    # -- Wmo ---------------------------------------------------------------------------------------

    def wmo_clients(self: _Generator) -> None:
        """Wmo clients: toewijzing CSV from the municipality, start/stop CSV from the provider."""
        rng = self.wmo_rng
        cal = self.cal
        gemeenten = self.region.gemeenten
        cum_weights = list(itertools.accumulate(g.weight for g in gemeenten))
        wmo_by_gemeente = self.region.wmo_by_gemeente or {}
        for _ in range(self.n_wmo):
            gemeente = rng.choices(gemeenten, cum_weights=cum_weights)[0]
            bsn = next(self.bsns)
            domain = Domain(wmo_by_gemeente[gemeente.code], WMO_PRODUCTS, WMO_STOPS, {})
            next_nummer = functools.partial(self._next_wmo_nummer, gemeente.code)
            trajecten = simulate_client(rng, cal, self.region, gemeente.code, next_nummer, domain=domain)
            birth = trajecten[0].ingang - rng.randint(18 * 365, 94 * 365)
            ends: list[tuple[Traject, Episode, bool]] = []
            for traject in trajecten:
                self._wmo_toewijzing(gemeente, bsn, traject)
                fmt = WMO_LEVERING_FILE[traject.aanbieder.agb]
                for episode in traject.episodes:
                    self._levering_rows("wmo", gemeente.code, traject, episode, "start", bsn, fmt)
                    if episode.stop is None:
                        continue
                    defective = self._defect()
                    tab, lines = self._levering_rows(
                        "wmo", gemeente.code, traject, episode, "stop", corrupt_bsn(bsn) if defective else bsn, fmt
                    )
                    for line, t in zip(lines, traject.toewijzingen, strict=True):
                        if defective:
                            self._tab_defect("bsn_elfproef", "stop_zorg", tab, line, t.nummer, "bsn")
                    if episode.reason != "20":
                        ends.append((traject, episode, not defective))
                        if not defective:
                            self.ind.ended(
                                "wmo", gemeente.code, traject.aanbieder.agb, episode.stop, episode.reason,
                                len(traject.toewijzingen),
                            )  # fmt: skip
            self._after_client("wmo", gemeente.code, bsn, birth, trajecten, ends)

    def _next_wmo_nummer(self: _Generator, gemeente_code: str) -> int:
        self.wmo_counter[gemeente_code] += 1
        return self.wmo_counter[gemeente_code]

    def _wmo_toewijzing(self: _Generator, gemeente: Gemeente, bsn: str, traject: Traject) -> None:
        day = traject.toewijzingsdatum
        tab = self._half_tab(gemeente.code, "gemeente", max(day, self.cal.start_ord), "toewijzing",
                             GEMEENTE_CSV[gemeente.code])  # fmt: skip
        for t in traject.toewijzingen:
            tab.add([
                gemeente.code, traject.aanbieder.agb, "wmo", str(t.nummer), bsn, t.product.categorie, t.product.code,
                day, traject.ingang, traject.einde, t.volume, t.product.eenheid, t.product.frequentie,
            ])  # fmt: skip

    # -- once or per year ----------------------------------------------------------------------------

    def annual_files(self: _Generator) -> dict:
        """Contract tariffs, agreements and productieverantwoording; returns their ground truth."""
        cal = self.cal
        first_half = cal.months[0].half_year
        for gemeente in self.region.gemeenten:
            delivered = cal.start_ord - 20
            tab = self._tab(gemeente.code, "gemeente", first_half, "contracttarief", str(cal.start.year),
                            annual.CONTRACTTARIEF_FORMAT, delivered)  # fmt: skip
            for row in annual.contracttarief_rows(self.region, gemeente.code, cal.start_ord):
                tab.add(row)
            tab = self._tab(gemeente.code, "gemeente", first_half, "afspraak", str(cal.start.year),
                            GEMEENTE_CSV[gemeente.code], delivered)  # fmt: skip
            for row in annual.afspraak_rows(self.afspraak_rng, self.region, gemeente.code, cal):
                tab.add(row)
        statements, reconciliation = annual.productieverantwoording(
            self.pv_rng, self.region, self.years, self.care_by_year, self.declared_by_year
        )
        for st in statements:
            half = f"{st.year + 1}-H1"
            tab = self._tab(st.agb, "aanbieder", half, "productieverantwoording", str(st.year), XLSX, st.delivered)
            for row in st.rows:
                tab.add(row)
        return {
            "reconciliation": reconciliation,
            "productieverantwoording": [st.truth() for st in statements],
        }

    def tabular_out(self: _Generator) -> None:
        """Render every tabular file into its bundle (in a fixed order)."""
        for key in sorted(self.tab, key=lambda k: (self.tab[k].bundle_file, self.tab[k].member)):
            tab = self.tab[key]
            bundle = next(b for b in self.bundles.values() if b.file == tab.bundle_file)
            day = date.fromordinal(tab.delivered)
            if tab.fmt.ext == "csv":
                bundle.writer.write_chunks(tab.member, tab.csv_chunks(), day)
            else:
                path = self.spool_dir / f"{tab.member}.tmp"
                tab.write_xlsx(path)
                bundle.writer.write_chunks(tab.member, _file_chunks(path), day)
                path.unlink()
            bundle.tabular.append({"member": tab.member, "kind": tab.kind, "format": tab.fmt.label,
                                   "rows": tab.count, "delivered": day.isoformat()})  # fmt: skip
            if tab.kind == "declaratie":
                bundle.declaration_lines += tab.count


def _file_chunks(path):
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


def _defect_cell(defect: str, fmt: Format, day: int, rng) -> object:
    """The text a planted defect puts into its cell."""
    if defect == "impossible_date":
        d = date.fromordinal(day)
        dmy = fmt.dialect.dmy if fmt.dialect else True
        return Raw(f"31-02-{d.year}" if dmy else f"{d.year}-02-31")
    if defect == "tevredenheid_out_of_range":
        return rng.choice((11, 0))
    if defect == "unknown_informant":
        return Raw(rng.choice(("leerkracht", "mentor", "buurvrouw")))
    if defect == "not_a_whole_number":
        return Raw(rng.choice(("7,5", "8.5")))
    if defect == "zrm_score_out_of_range":
        return 6
    if defect == "required_field_empty":
        return None
    raise ValueError(defect)

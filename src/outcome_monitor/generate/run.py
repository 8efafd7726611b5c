"""Generate the sample region's submissions and their ground truth.

Two passes keep memory bounded at any scale:

1. Client by client: simulate the care history, write each JW301/JW305/JW307 straight into its ZIP
   bundle (one member per message), and add the client's declaration lines to the JW323 message they
   belong to (one per provider x municipality x month). Those lines are deflated at once; the
   compressed bytes go to a spool file per message when they grow. Line count, total, CRC and size
   are kept.
2. Per message: deflate the header (which holds the now known total), and write header, spooled
   body and closing tags as one member, without decompressing or recompressing the body.

Memory is therefore bounded by the number of JW323 messages (providers x municipalities x months),
not by the number of clients; temporary disk use is about the compressed size of the declarations.
Two random streams make the output a pure function of the arguments: one draws the data, the other
the defects, so a different ``defect_rate`` plants other defects in the very same data.

The tabular kinds (``flows``: uitkomst, zrm, clientervaring, Wmo toewijzing and levering, contract
tariffs, agreements, productieverantwoording, and the declarations or start/stop of the providers in
``profiles`` that send files instead of XML) are collected per member in spooled batches and written
into the same bundles at the end (see ``tabular`` for why they are bundle members). They draw from
streams of their own, so the youth-care XML of the providers that send XML is what it always was.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from outcome_monitor.generate import messages as msg
from outcome_monitor.generate.care import Episode, Traject, simulate_client
from outcome_monitor.generate.defects import previous_month_period, spanning_period, wrong_amount
from outcome_monitor.generate.flows import TabularKinds
from outcome_monitor.generate.ground_truth import GroundTruth
from outcome_monitor.generate.indicator_truth import IndicatorTruth
from outcome_monitor.generate.outcomes import provider_quality
from outcome_monitor.generate.people import bsn_numbers, corrupt_bsn, fake_person
from outcome_monitor.generate.periods import Calendar, Month
from outcome_monitor.generate.profiles import DECLARATIE_FILE, LEVERING_FILE
from outcome_monitor.generate.region import BASE_CLIENTS, WMO_SHARE, Gemeente, Region, build_region
from outcome_monitor.generate.rng import FastRandom
from outcome_monitor.generate.tabular import Raw, TabularFile
from outcome_monitor.generate.zipstream import Segment, ZipStreamWriter, crc32_combine

SUBMISSIONS = "submissions"
_BEDRAG = 17  # position of bedrag in a declaratie row (tabular.COLUMNS)
_TEXT_BYTES = 32 * 1024  # JW323 text held per message before it is deflated (fewer, larger zlib calls)
_SPILL_BYTES = 64 * 1024  # compressed bytes held per message before they go to its spool file
_CHUNK = 1 << 20


@dataclass(slots=True)
class _Bundle:
    """One submission file: one sender, one half-year."""

    file: str  # relative to out_dir
    sender: str
    writer: ZipStreamWriter
    messages: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    declaration_lines: int = 0
    tabular: list[dict] = field(default_factory=list)  # CSV/XLSX members: member, kind, format, rows


@dataclass(slots=True)
class _Declaration:
    """A JW323 message being collected: one provider, one municipality, one month.

    Its Client elements collect in ``text`` and are deflated in batches (``body``); the compressed
    bytes wait in ``chunks`` and go to a spool file when they grow. The header follows in pass 2.
    """

    provider: int  # index into region.aanbieders
    gemeente: str
    month: Month
    member: str
    identificatie: str
    dagtekening: int
    bundle_file: str
    body: Segment = field(default_factory=Segment)
    lines: int = 0
    total_cents: int = 0
    last_ref: str | None = None
    text: list[str] = field(default_factory=list)
    text_len: int = 0
    chunks: list[bytes] = field(default_factory=list)
    buffered: int = 0
    spool: Path | None = None


class _Generator(TabularKinds):
    def __init__(
        self, out_dir: Path, spool_dir: Path, seed: int, scale: float, defect_rate: float, cal: Calendar
    ) -> None:
        self.out_dir = out_dir
        self.spool_dir = spool_dir
        self.cal = cal
        self.defect_rate = defect_rate
        self.data_rng = FastRandom(seed)
        self.defect_rng = FastRandom(f"defects-{seed}")
        self.region: Region = build_region(scale, FastRandom(f"region-{seed}"))
        self.n_clients = max(1, round(BASE_CLIENTS * scale))
        self.truth = GroundTruth(spool_dir / "defects.jsonl")
        self.bundles: dict[tuple[str, str], _Bundle] = {}
        self.sequence: dict[str, int] = defaultdict(int)  # per sender: BerichtIdentificatie counter
        self.referentie = [0] * len(self.region.aanbieders)  # per provider: ReferentieNummer counter
        self.declarations: dict[tuple[int, int, int], _Declaration] = {}
        self.provider_index = {a.agb: i for i, a in enumerate(self.region.aanbieders)}
        self.gemeente_index = {g.code: i for i, g in enumerate(self.region.gemeenten)}
        # Toewijzingnummer: unique over the region; the first digit tells the municipality (5-8: Wmo).
        self.toewijzing_counter = {g.code: (i + 1) * 100_000_000 for i, g in enumerate(self.region.gemeenten)}
        self.wmo_counter = {g.code: (i + 5) * 100_000_000 for i, g in enumerate(self.region.gemeenten)}
        # The tabular kinds (flows.py): their own random streams, files and expected figures.
        self.outcome_rng = FastRandom(f"outcomes-{seed}")
        self.wmo_rng = FastRandom(f"wmo-{seed}")
        self.tab_rng = FastRandom(f"defects-tabular-{seed}")
        self.afspraak_rng = FastRandom(f"afspraak-{seed}")
        self.pv_rng = FastRandom(f"productieverantwoording-{seed}")
        self.n_wmo = max(1, round(BASE_CLIENTS * scale * WMO_SHARE))
        self.wmo_index = {a.agb: i for i, a in enumerate(self.region.wmo_aanbieders)}
        everyone = (*self.region.aanbieders, *self.region.wmo_aanbieders)
        self.quality = {a.agb: provider_quality(seed, a.agb) for a in everyone}
        self.tab: dict[tuple[str, str, str, str], TabularFile] = {}
        self.ind = IndicatorTruth(cal.end_ord)
        self.respondents: dict[tuple[str, int], int] = defaultdict(int)
        # Completed calendar years: surveyed, and accounted for in a productieverantwoording.
        self.years = [y for y in range(cal.start.year, cal.end.year + 1)
                      if date(y, 1, 1) >= cal.start and date(y, 12, 31) <= cal.end]  # fmt: skip
        # (agb, gemeente, productcode, year) -> [volume, cents]: care delivered / declarations accepted
        self.care_by_year: dict[tuple[str, str, str, int], list[int]] = defaultdict(lambda: [0, 0])
        self.declared_by_year: dict[tuple[str, str, str, int], list[int]] = defaultdict(lambda: [0, 0])
        self.bsns = bsn_numbers()

    # -- bookkeeping -------------------------------------------------------------------------

    def _bundle(self, sender: str, kind: str, half_year: str) -> _Bundle:
        key = (sender, half_year)
        bundle = self.bundles.get(key)
        if bundle is None:
            name = (
                f"{half_year}_gemeente-{sender}_toewijzingen.zip"
                if kind == "gemeente"
                else f"{half_year}_aanbieder-{sender}.zip"
            )
            writer = ZipStreamWriter(self.out_dir / SUBMISSIONS / name, self.spool_dir)
            bundle = _Bundle(f"{SUBMISSIONS}/{name}", sender, writer)
            self.bundles[key] = bundle
        return bundle

    def _next_message(self, sender: str, kind: str, counterpart: str, day: int) -> tuple[str, str]:
        """(member name, BerichtIdentificatie) of the sender's next message about ``day``."""
        self.sequence[sender] += 1
        seq = self.sequence[sender]
        return f"{kind}_{counterpart}_{self.cal.iso(day)[:7]}_{seq:06d}.xml", f"{seq:012d}"

    def _next_toewijzingnummer(self, gemeente_code: str) -> int:
        self.toewijzing_counter[gemeente_code] += 1
        return self.toewijzing_counter[gemeente_code]

    def _put(self, bundle: _Bundle, kind: str, member: str, text: str, dagtekening: int) -> None:
        bundle.writer.write(member, text.encode("utf-8"), date.fromordinal(dagtekening))
        bundle.messages[kind] += 1

    # -- pass 1 ------------------------------------------------------------------------------

    def clients(self) -> None:
        rng = self.data_rng
        cal = self.cal
        gemeenten = self.region.gemeenten
        cum_weights = list(itertools.accumulate(g.weight for g in gemeenten))
        bsns = self.bsns
        for _ in range(self.n_clients):
            gemeente = rng.choices(gemeenten, cum_weights=cum_weights)[0]
            bsn = next(bsns)
            next_nummer = functools.partial(self._next_toewijzingnummer, gemeente.code)
            trajecten = simulate_client(rng, cal, self.region, gemeente.code, next_nummer)
            age_days = rng.randint(2 * 365, 17 * 365 + 300)  # 2 to 17 years old at the first toewijzing
            person = msg.client_xml(fake_person(rng, bsn, gemeente, cal.iso(trajecten[0].ingang - age_days)))
            ends: list[tuple[Traject, Episode, bool]] = []
            for traject in trajecten:
                for t in traject.toewijzingen:
                    t.decl_fields = msg.jw323_toewijzing_fields(t)
                ends.extend(self._care_messages(gemeente, person, traject))
            self._declaration_lines(gemeente, person, trajecten)
            self._after_client("jeugd", gemeente.code, bsn, trajecten[0].ingang - age_days, trajecten, ends)

    def _care_messages(
        self, gemeente: Gemeente, person: msg.ClientXml, traject: Traject
    ) -> list[tuple[Traject, Episode, bool]]:
        """JW301, and JW305/JW307 (or start/stop rows); returns the real ends (traject, episode, accepted)."""
        cal, rng = self.cal, self.data_rng
        agb = traject.aanbieder.agb
        iso = cal.iso
        # JW301: the municipality assigns.
        day = traject.toewijzingsdatum
        bundle = self._bundle(gemeente.code, "gemeente", cal.half_year(day))
        member, ident = self._next_message(gemeente.code, "JW301", agb, day)
        text = msg.jw301(
            gemeente.code,
            agb,
            ident,
            iso(day),
            person,
            traject.toewijzingen,
            iso(day),
            iso(traject.ingang),
            iso(traject.einde),
        )
        self._put(bundle, "JW301", member, text, day)
        # JW305 / JW307: the provider reports start and stop of each episode.
        ends = []
        levering_file = LEVERING_FILE.get(agb)
        for episode in traject.episodes:
            day = cal.clamp_dagtekening(episode.begin + rng.randint(1, 6))
            bundle = self._bundle(agb, "aanbieder", cal.half_year(episode.begin))
            member, ident = self._next_message(agb, "JW305", gemeente.code, episode.begin)
            if levering_file is not None:
                self._levering_rows("jeugd", gemeente.code, traject, episode, "start", person.bsn, levering_file)
            else:
                self._jw305(bundle, member, ident, day, gemeente, person, traject, episode)
            if episode.stop is not None:
                accepted = self._stop_message(gemeente, person, traject, episode)
                if episode.reason != "20":
                    ends.append((traject, episode, accepted))
        return ends

    def _jw305(
        self, bundle: _Bundle, member: str, ident: str, day: int, gemeente: Gemeente, person: msg.ClientXml,
        traject: Traject, episode: Episode,
    ) -> None:  # fmt: skip
        iso = self.cal.iso
        text = msg.jw305(
            traject.aanbieder.agb,
            gemeente.code,
            ident,
            iso(day),
            person,
            traject.toewijzingen,
            iso(traject.ingang),
            iso(episode.begin),
        )
        self._put(bundle, "JW305", member, text, day)

    def _stop_message(self, gemeente: Gemeente, person: msg.ClientXml, traject: Traject, episode: Episode) -> bool:
        """JW307 (or stop rows); True when a correct ingest accepts the stop."""
        cal = self.cal
        agb = traject.aanbieder.agb
        assert episode.stop is not None and episode.reason is not None
        day = cal.clamp_dagtekening(episode.stop + self.data_rng.randint(1, 10))
        half_year = cal.half_year(episode.stop)
        bundle = self._bundle(agb, "aanbieder", half_year)
        member, ident = self._next_message(agb, "JW307", gemeente.code, episode.stop)
        defective = self.defect_rate > 0 and self.defect_rng.random() < self.defect_rate
        bsn = corrupt_bsn(person.bsn) if defective else person.bsn
        levering_file = LEVERING_FILE.get(agb)
        if levering_file is not None:
            tab, lines = self._levering_rows("jeugd", gemeente.code, traject, episode, "stop", bsn, levering_file)
            for line_number, t in zip(lines, traject.toewijzingen, strict=True):
                if defective:
                    self.truth.defect("bsn_elfproef", "stop_zorg", tab.bundle_file, tab.member, line_number, None,
                                      t.nummer, "bsn")  # fmt: skip
            if not defective:
                self._ended(gemeente.code, half_year, agb, episode, len(traject.toewijzingen))
            return not defective
        text = msg.jw307(
            agb,
            gemeente.code,
            ident,
            cal.iso(day),
            person,
            bsn,
            traject.toewijzingen,
            cal.iso(traject.ingang),
            cal.iso(episode.begin),
            episode.reason,
            cal.iso(episode.stop),
        )
        self._put(bundle, "JW307", member, text, day)
        if defective:
            for line_number, t in enumerate(traject.toewijzingen, start=1):
                self.truth.defect("bsn_elfproef", "stop_zorg", bundle.file, member, line_number, None, t.nummer)
        else:
            self._ended(gemeente.code, half_year, agb, episode, len(traject.toewijzingen))
        return not defective

    def _ended(self, gemeente: str, half_year: str, agb: str, episode: Episode, n: int) -> None:
        assert episode.stop is not None and episode.reason is not None
        self.truth.ended(gemeente, half_year, agb, episode.reason, n)
        self.ind.ended("jeugd", gemeente, agb, episode.stop, episode.reason, n)

    def _declaration_lines(self, gemeente: Gemeente, person: msg.ClientXml, trajecten: list[Traject]) -> None:
        """All of a client's declaration lines, grouped into the JW323 messages they belong to."""
        cal = self.cal
        rand = self.data_rng.random
        months = cal.months
        start_ord = cal.start_ord
        end_ord = cal.end_ord
        month_index = cal.month_index
        g_index = self.gemeente_index[gemeente.code]
        per_message: dict[tuple[int, int, int], list[tuple]] = {}
        for traject in trajecten:
            p_index = self.provider_index[traject.aanbieder.agb]
            for episode in traject.episodes:
                ep_begin = episode.begin
                ep_end = episode.stop if episode.stop is not None else end_ord
                for mi in range(month_index(max(ep_begin, start_ord)), month_index(ep_end) + 1):
                    m = months[mi]
                    begin = ep_begin if ep_begin > m.first else m.first
                    end = ep_end if ep_end < m.last else m.last
                    days = end - begin + 1
                    lines = per_message.get((p_index, g_index, mi))
                    if lines is None:
                        lines = per_message[(p_index, g_index, mi)] = []
                    for t in traject.toewijzingen:
                        # care.allowed_volume, inlined (this loop runs once per declaration line);
                        # stays (etmaal) deliver every day, other products 60-100 % of the allowance
                        cap = t.volume * days // (7 if t.product.frequentie == "2" else m.days)
                        if cap <= 0:
                            continue
                        volume = cap if t.product.eenheid == "14" else max(1, round(cap * (0.6 + 0.4 * rand())))
                        lines.append((t, begin, end, volume, ep_begin, ep_end))
        for key in sorted(per_message):
            if per_message[key]:
                self._client_element(key, gemeente, person, per_message[key])

    def _declaration(self, key: tuple[int, int, int], gemeente: Gemeente) -> _Declaration:
        agb = self.region.aanbieders[key[0]].agb
        month = self.cal.months[key[2]]
        member, ident = self._next_message(agb, "JW323", gemeente.code, month.first)
        # Declared in the first days of the next month; never after the period's end + 1 month.
        dagtekening = self.cal.clamp_dagtekening(month.last + 1 + self.data_rng.randint(1, 9))
        bundle_file = self._bundle(agb, "aanbieder", month.half_year).file
        decl = _Declaration(key[0], gemeente.code, month, member, ident, dagtekening, bundle_file)
        self.declarations[key] = decl
        return decl

    def _client_element(
        self, key: tuple[int, int, int], gemeente: Gemeente, person: msg.ClientXml, lines: list[tuple]
    ) -> None:
        """One Client element (a client's lines) of a JW323 message, with any planted defects."""
        decl = self.declarations.get(key) or self._declaration(key, gemeente)
        m = decl.month
        prev = self.cal.months[m.index - 1] if m.index > 0 else None

        kinds: list[str | None] | None = None
        if self.defect_rate > 0:
            drng = self.defect_rng
            for j, (t, _b, _e, volume, ep_begin, ep_end) in enumerate(lines):
                if drng.random() >= self.defect_rate:
                    continue
                options = ["bsn_elfproef", "bedrag_mismatch"]
                if prev is not None and previous_month_period(t, prev, ep_begin, ep_end, volume):
                    options.append("period_outside_declaration")
                if prev is not None and spanning_period(t, prev, m, ep_begin, ep_end, volume):
                    options.append("period_spans_months")
                if decl.last_ref is not None or j > 0:
                    options.append("repeated_referentienummer")
                if kinds is None:
                    kinds = [None] * len(lines)
                kinds[j] = options[int(drng.random() * len(options))]
        if kinds is not None and "bsn_elfproef" in kinds:
            kinds = ["bsn_elfproef"] * len(lines)  # the Client's BSN is wrong for all its lines
            bsn = corrupt_bsn(person.bsn)
        else:
            bsn = person.bsn

        iso_table = self.cal.iso_table
        base = self.cal.base
        p_index = key[0]
        agb = self.region.aanbieders[p_index].agb
        tab = self._declaration_file(agb, m) if agb in DECLARATIE_FILE else None
        periods = (m.half_year, str(m.year))
        ref_number = self.referentie[p_index]
        parts = [msg.jw323_client_open(bsn)]
        total = 0
        accepted = 0
        for j, (t, begin, end, volume, ep_begin, ep_end) in enumerate(lines):
            kind = kinds[j] if kinds is not None else None
            ref_number += 1
            ref = f"RN{ref_number:010d}"
            bedrag = volume * t.tarief
            care = self.care_by_year[(agb, decl.gemeente, t.product.code, m.year)]  # what was really delivered
            care[0] += volume
            care[1] += bedrag
            if kind is not None:
                if kind == "period_outside_declaration":
                    begin, end, volume = previous_month_period(t, prev, ep_begin, ep_end, volume)  # type: ignore[arg-type, misc]
                    bedrag = volume * t.tarief
                elif kind == "period_spans_months":
                    begin, end, volume = spanning_period(t, prev, m, ep_begin, ep_end, volume)  # type: ignore[arg-type, misc]
                    bedrag = volume * t.tarief
                elif kind == "bedrag_mismatch":
                    bedrag = wrong_amount(self.defect_rng, volume, t.tarief)
                elif kind == "repeated_referentienummer":
                    ref = decl.last_ref  # type: ignore[assignment]
            if kind != "repeated_referentienummer":
                decl.last_ref = ref
            if tab is None:
                parts.append(
                    msg.jw323_prestatie(ref, t, iso_table[begin - base], iso_table[end - base], volume, bedrag)
                )
                decl.lines += 1
                file, member, line_number = decl.bundle_file, decl.member, decl.lines
            else:
                row = [
                    decl.gemeente, agb, "jeugd", f"{m.year}{m.month:02d}{decl.gemeente}", m.first, m.last,
                    decl.dagtekening, ref, str(t.nummer), bsn, t.product.categorie, t.product.code, begin, end,
                    volume, t.product.eenheid, t.tarief, bedrag, "D",
                ]  # fmt: skip
                if kind is None and self._ambiguous_amount(tab, bedrag):
                    kind = "ambiguous_amount"
                    row[_BEDRAG] = Raw(_thousands(bedrag))
                file, member, line_number = tab.bundle_file, tab.member, tab.add(row)
            total += bedrag
            if kind is None:
                accepted += bedrag
                self.ind.volume(decl.gemeente, agb, periods, volume, 0)
                declared = self.declared_by_year[(agb, decl.gemeente, t.product.code, m.year)]
                declared[0] += volume
                declared[1] += bedrag
            else:
                self.truth.lines_rejected += 1
                field = "bedrag" if kind == "ambiguous_amount" else None
                self.truth.defect(kind, "declaratie_regel", file, member, line_number, ref, t.nummer, field)
        parts.append(msg.JW323_CLIENT_CLOSE)
        self.referentie[p_index] = ref_number
        decl.total_cents += total
        self.truth.lines_received += len(lines)
        self.truth.accepted_cents[(decl.gemeente, m.label)] += accepted
        text = "".join(parts)
        decl.text.append(text)
        decl.text_len += len(text)
        if decl.text_len > _TEXT_BYTES:
            self._deflate(decl)

    def _declaration_file(self, agb: str, month: Month) -> TabularFile:
        """The provider's declaration file for the half-year: sent after its last month, as a JW323 is."""
        last = max(m.last for m in self.cal.months if m.half_year == month.half_year)
        delivered = self.cal.clamp_dagtekening(last + 10)
        return self._tab(agb, "aanbieder", month.half_year, "declaratie", month.half_year, DECLARATIE_FILE[agb],
                         delivered)  # fmt: skip

    def _ambiguous_amount(self, tab: TabularFile, bedrag: int) -> bool:
        """Plant "1.250,00" (OM021) in a Dutch CSV, on lines of at least a thousand euros."""
        dialect = tab.fmt.dialect
        if dialect is None or dialect.decimal != "," or bedrag < 100_000 or self.defect_rate <= 0:
            return False
        return self.tab_rng.random() < self.defect_rate / 3

    def _deflate(self, decl: _Declaration) -> None:
        out = decl.body.add("".join(decl.text).encode("utf-8"))
        decl.text.clear()
        decl.text_len = 0
        if out:
            decl.chunks.append(out)
            decl.buffered += len(out)
            if decl.buffered > _SPILL_BYTES:
                self._spill(decl)

    def _spill(self, decl: _Declaration) -> None:
        if decl.spool is None:
            decl.spool = self.spool_dir / f"{decl.provider}_{decl.member}"
        with open(decl.spool, "ab") as fh:
            fh.writelines(decl.chunks)
        decl.chunks.clear()
        decl.buffered = 0

    # -- pass 2 ------------------------------------------------------------------------------

    def declarations_out(self) -> None:
        for key in sorted(self.declarations):
            decl = self.declarations.pop(key)
            agb = self.region.aanbieders[key[0]].agb
            if agb in DECLARATIE_FILE:  # its lines went to a CSV/XLSX file
                continue
            self._deflate(decl)
            bundle = self._bundle(agb, "aanbieder", decl.month.half_year)
            m = decl.month
            iso = self.cal.iso
            head = msg.jw323_head(
                agb, decl.gemeente, decl.identificatie, iso(decl.dagtekening),
                f"{m.year}{m.month:02d}{decl.gemeente}", iso(m.first), iso(m.last), decl.total_cents,
            ).encode("utf-8")  # fmt: skip
            head_z, head_crc, head_size = Segment.of(head, final=False)
            tail_z, tail_crc, tail_size = Segment.of(msg.JW323_TAIL.encode("utf-8"), final=True)
            crc = crc32_combine(crc32_combine(head_crc, decl.body.crc, decl.body.size), tail_crc, tail_size)
            size = head_size + decl.body.size + tail_size
            compressed = itertools.chain([head_z], self._body_chunks(decl), [tail_z])
            bundle.writer.write_segments(decl.member, compressed, crc, size, date.fromordinal(decl.dagtekening))
            bundle.messages["JW323"] += 1
            bundle.declaration_lines += decl.lines

    @staticmethod
    def _body_chunks(decl: _Declaration) -> Iterator[bytes]:
        if decl.spool is not None:
            with open(decl.spool, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    yield chunk
            decl.spool.unlink()
        yield from decl.chunks
        yield decl.body.close(final=False)

    # -- finish ------------------------------------------------------------------------------

    def finish(self) -> list[dict]:
        submissions = []
        for bundle in sorted(self.bundles.values(), key=lambda b: b.file):
            bundle.writer.close()
            digest = hashlib.sha256()
            with open(self.out_dir / bundle.file, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
            submissions.append(
                {
                    "file": bundle.file,
                    "sender": bundle.sender,
                    "messages": dict(sorted(bundle.messages.items())),
                    "declaration_lines": bundle.declaration_lines,
                    "tabular": bundle.tabular,
                    "sha256": digest.hexdigest(),
                }
            )
        return submissions


def _thousands(cents: int) -> str:
    """An amount with a thousands separator, as a spreadsheet shows it: 1.250,00."""
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", ".") + f",{rest:02d}"


def generate(
    out_dir: Path,
    *,
    seed: int = 42,
    scale: float = 1.0,
    defect_rate: float = 0.02,
    start: date = date(2025, 1, 1),
    end: date = date(2026, 6, 30),
) -> Path:
    """Write ``out_dir/submissions/*.zip`` and ``out_dir/ground_truth.json``; return the latter's path.

    Same arguments, same bytes. Earlier ``*.zip`` files in ``out_dir/submissions`` are removed first,
    so the folder always matches the ground truth. Each ZIP appears under its final name only when
    complete (it is written as ``*.zip.part`` and renamed). Prints nothing.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if not 0 <= defect_rate <= 1:
        raise ValueError(f"defect_rate must lie between 0 and 1, got {defect_rate}")
    out_dir = Path(out_dir)
    cal = Calendar(start, end)
    submissions_dir = out_dir / SUBMISSIONS
    submissions_dir.mkdir(parents=True, exist_ok=True)
    for old in [*submissions_dir.glob("*.zip"), *submissions_dir.glob("*.zip.part")]:
        old.unlink()
    spool_dir = Path(tempfile.mkdtemp(prefix=".generate-", dir=out_dir))
    try:
        gen = _Generator(out_dir, spool_dir, seed, scale, defect_rate, cal)
        gen.clients()
        gen.wmo_clients()
        gen.declarations_out()
        extra = gen.annual_files()
        gen.tabular_out()
        submissions = gen.finish()
        head = {
            "seed": seed,
            "scale": scale,
            "defect_rate": defect_rate,
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "gemeenten": [{"code": g.code, "naam": g.naam} for g in gen.region.gemeenten],
            "aanbieders": [
                {"agb": a.agb, "naam": a.naam, "gemeenten": list(a.gemeenten)} for a in gen.region.aanbieders
            ],
            "wmo_aanbieders": [
                {"agb": a.agb, "naam": a.naam, "gemeenten": list(a.gemeenten)} for a in gen.region.wmo_aanbieders
            ],
        }
        path = out_dir / "ground_truth.json"
        gen.truth.write(path, head, submissions, {"indicators_all": gen.ind.rows(), **extra})
        return path
    finally:
        shutil.rmtree(spool_dir, ignore_errors=True)

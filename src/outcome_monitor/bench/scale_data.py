"""Benchmark data at region, large-municipality or national scale, fast enough to make on the fly.

    python -m outcome_monitor.bench.scale_data --scale large        # or region, national, 0.002

The sample generator (``outcome_monitor.generate``) simulates every client in Python: right for a
region, far too slow for 15 million declaration lines. So one *base* region of a year (2025) is
generated with it, parsed once with the ingest parsers, and *tiled*: tile 0 is the base itself, as
the generator wrote it (ZIP bundles of iJw/iWmo XML with some CSV and XLSX members); every further
tile is the same care with fresh identities, written by DuckDB as the CSV files providers and
municipalities send (one provider's declarations per month, start/stop per half-year, ...).

Per tile the gemeenten become other real CBS gemeentecodes, the providers get other AGB codes,
every client another elfproef-valid BSN, and toewijzingnummers, referentienummers,
declaratienummers and respondent ids get a tile suffix. All relations (declaration to toewijzing,
credit to debit, start/stop to toewijzing, outcome to traject) stay intact because every tile maps
the same base value to the same new one; the base's planted defects come along as they are.

The data lands in ``<root>/<scale>-s<seed>/inbox/``; ``xml-equivalent/`` holds tile 0 as CSV, so
bare DuckDB can read the same records as the pipeline. ``manifest.json`` is written last: a folder
with one is complete and is reused (keyed by scale, seed and ``FORMAT_VERSION``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

FORMAT_VERSION = 2
DEFAULT_ROOT = Path("bench/data")
NATIONAL_LINES = 15_000_000  # declaration lines a year, the whole country
LINES_PER_UNIT_SCALE = 19_350  # declaration lines of one generated year at generator scale 1 (seed 42)
YEAR = 2025
SURVEY_SAMPLE_PERMILLE = 50  # share of the base's survey respondents repeated in each copy (see FILE_KINDS)


@dataclass(frozen=True)
class ScalePlan:
    """How a scale is made: `tiles` copies of a base region generated at `base_scale`."""

    name: str
    tiles: int
    base_scale: float
    seed: int = 42
    file_period: str = "month"  # FILE_PERIODS

    @property
    def key(self) -> str:
        period = "" if self.file_period == "month" else f"-{self.file_period}"
        return f"{self.name}-s{self.seed}{period}"


# large: a municipality of about 350,000 inhabitants: ~0.3 million declaration lines, ~150 providers
# (8 tiles of 15 youth and 5 Wmo providers). Its volume is spread over 32 gemeentecodes: per-gemeente
# files (contract tariffs, afspraken) of several tiles cannot share one code without colliding.
# national: 15 million lines over 160 gemeenten and 800 providers.
NAMED_PLANS = {
    "region": ScalePlan("region", tiles=1, base_scale=1.0),
    "large": ScalePlan("large", tiles=8, base_scale=1.94),
    "national": ScalePlan("national", tiles=40, base_scale=19.4),
}
MAX_TILES = 84  # 4 base gemeenten + 84 x 4 fit in the 342 CBS gemeentecodes of the seed


def plan_for(scale: str, seed: int = 42, file_period: str = "month") -> ScalePlan:
    """The plan of a named scale, or of a fraction of the national volume (``0.01`` = 150,000 lines).

    A fraction always makes at least two tiles, so the tiling itself is exercised by small runs.
    """
    if file_period not in FILE_PERIODS:
        raise ValueError(f"bestandsperiode {file_period!r}: kies uit {', '.join(FILE_PERIODS)}")
    if scale in NAMED_PLANS:
        return ScalePlan(**{**asdict(NAMED_PLANS[scale]), "seed": seed, "file_period": file_period})
    try:
        fraction = float(scale)
    except ValueError:
        raise ValueError(
            f"BENCH_SCALE {scale!r}: kies region, large, national of een getal (deel van national)"
        ) from None
    if not 0 < fraction <= 5:
        raise ValueError(f"BENCH_SCALE {scale!r}: een deel van national ligt tussen 0 en 5")
    lines = fraction * NATIONAL_LINES
    tiles = min(MAX_TILES, max(2, round(fraction * NAMED_PLANS["national"].tiles)))
    base_scale = round(lines / tiles / LINES_PER_UNIT_SCALE, 4)
    return ScalePlan(scale, tiles=tiles, base_scale=base_scale, seed=seed, file_period=file_period)


# --- identities ----------------------------------------------------------------------------------

_BSN_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)


def fresh_bsns(first: int, count: int) -> np.ndarray:
    """`count` distinct elfproef-valid BSNs (as int64), numbered from `first` (0 <= first+count < 9e6).

    Number q becomes the 8-digit prefix 10*(1,000,000+q)+d and a check digit. Raising the last
    prefix digit d by one adds 2 to the weighted sum, so of d=0 and d=1 at most one gives check
    digit 10 (invalid): d=0 unless it does. They lie far below the generator's BSNs (99,000,000+).
    """
    q = np.arange(first, first + count, dtype=np.int64) + 1_000_000
    if count and q[-1] >= 10_000_000:
        raise ValueError("te veel BSN's voor de reeks")
    prefix = q * 10
    digits = (prefix[:, None] // 10 ** np.arange(7, -1, -1, dtype=np.int64)) % 10
    check = (digits @ _BSN_WEIGHTS) % 11
    bump = check == 10
    prefix = prefix + bump
    check = np.where(bump, (check + 2) % 11, check)
    return prefix * 10 + check


def passes_elfproef(bsn: str) -> bool:
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True)) - int(bsn[8])
    return total % 11 == 0


def cbs_gemeentecodes() -> list[str]:
    from outcome_monitor.build import DBT_PROJECT_DIR

    seed = DBT_PROJECT_DIR / "seeds" / "gemeenten.csv"
    return [line.split(",", 1)[0] for line in seed.read_text(encoding="utf-8").splitlines()[1:] if line]


# --- reading the base -----------------------------------------------------------------------------


def parse_base(submissions: Path) -> dict[str, pa.Table]:
    """Every record of the base region's bundles, per record type, BSN in clear (as the parsers give it)."""
    from outcome_monitor.ingest.bundle import members
    from outcome_monitor.ingest.messages import parse_message
    from outcome_monitor.ingest.parsed import ParsedSubmission
    from outcome_monitor.ingest.tabular import is_tabular, parse_tabular

    parsed = ParsedSubmission()
    for bundle in sorted(submissions.glob("*.zip")):
        for member in members(bundle, bundle.name):
            if member.problem:
                continue  # a planted file-level defect: tile 0 keeps it, the copies do not need it
            if is_tabular(member.name):
                table = parse_tabular(member.data, member.name, submission_id="base")
                for record_type, columns in table.columns_by_type.items():
                    parsed.add_columns(record_type, columns, table.problems_by_type.get(record_type))
                continue
            message = parse_message(member.data)
            header, record_type = message.header, message.message_type.record_type
            from_municipality = record_type == "toewijzing"
            gemeente = header["afzender"] if from_municipality else header["ontvanger"]
            aanbieder = header["ontvanger"] if from_municipality else header["afzender"]
            parsed.add_rows(
                record_type,
                [
                    {"domein": message.message_type.domein, "gemeente_code": gemeente, "aanbieder_agb": aanbieder, **r}
                    for r in message.records
                ],
            )
    return {record_type: table for record_type, (table, _) in parsed.assemble().items()}


# --- writing CSV per sender and period with DuckDB --------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    """How one submission kind is cut into files: who sends it and what period one file covers."""

    kind: str  # outcome_monitor.ingest.kinds.KINDS key
    source: str  # SQL over the base views giving the kind's raw columns (keys)
    sender: str  # raw column naming the sender
    date: str | None  # SQL: the date that places a row in a period (None: one file per sender)
    granularity: str  # month, half-year or year: what one file covers
    copies_only: str = "true"  # SQL condition on the rows the copies (tiles 1..) repeat

    def period_sql(self, file_period: str) -> str:
        """The period label of a row (NULL without its date); ``file_period`` year makes every kind yearly."""
        if self.date is None:
            return "'alles'"
        granularity = "year" if file_period == "year" else self.granularity
        if granularity == "month":
            return f"strftime({self.date}, '%Y-%m')"
        if granularity == "half-year":
            return f"strftime({self.date}, '%Y') || '-H' || (1 + (month({self.date}) > 6)::int)"
        return f"strftime({self.date}, '%Y')"


FILE_PERIODS = ("month", "year")  # month: as providers send them; year: one file per sender and kind
FILE_KINDS = (
    FileKind("declaratie", "select * from declaratie_regel", "aanbieder_agb",
             "coalesce(declaratie_begindatum, period_start_date)", "month"),
    FileKind("levering",
             "select *, 'start' as soort, null::date as einddatum, null::varchar as reden_beeindiging from start_zorg"
             " union all by name select *, 'stop' as soort from stop_zorg",
             "aanbieder_agb", "begindatum", "half-year"),
    FileKind("toewijzing", "select * from toewijzing", "gemeente_code",
             "coalesce(toewijzingsdatum, ingangsdatum)", "half-year"),
    FileKind("uitkomst", "select * from uitkomst", "aanbieder_agb", "meetdatum", "half-year"),
    FileKind("zrm", "select * from zrm_meting", "aanbieder_agb", "meetdatum", "half-year"),
    # The base has ~0.35 survey answers per declaration line, the country 0.02 (300,000 a year): the
    # copies keep a sample of respondents (all their answers) to match.
    FileKind("clientervaring", "select * from clientervaring", "gemeente_code", "make_date(jaar::int, 1, 1)", "year",
             copies_only=f"hash(respondent_id) % 1000 < {SURVEY_SAMPLE_PERMILLE}"),
    FileKind("contracttarief", "select * from contracttarief", "gemeente_code", None, "year"),
    # Region-wide agreements (gemeente *) exist once: the copies repeat only each gemeente's own.
    FileKind("afspraak", "select * from afspraak", "gemeente_code", None, "year", copies_only="gemeente_code <> '*'"),
    FileKind("productieverantwoording", "select * from productieverantwoording", "aanbieder_agb",
             "make_date(jaar::int, 1, 1)", "year"),
)  # fmt: skip

# Columns remapped per tile (raw key -> how); everything else is copied.
_SUFFIXED = ("toewijzingnummer", "referentienummer", "vorig_referentienummer", "declaratienummer", "respondent_id")


def _cell_sql(column, source: str) -> str:
    """A raw value as the text a provider's spreadsheet writes: Dutch dates, decimal comma."""
    from outcome_monitor.ingest import kinds

    if column.type == kinds.DATE:
        return f"strftime({source}, '%d-%m-%Y')"
    if column.type == kinds.EURO_CENTS:
        return (
            f"case when {source} is null then null else (case when {source} < 0 then '-' else '' end)"
            f" || (abs({source}) // 100)::varchar || ',' || lpad((abs({source}) % 100)::varchar, 2, '0') end"
        )
    if column.type == kinds.DECIMAL:
        return f"replace({source}::varchar, '.', ',')"
    return f"{source}::varchar"


def _mapped_sql(key: str, tile: str) -> str:
    if key == "gemeente_code":
        return "coalesce(gm.code, src.gemeente_code)"
    if key == "aanbieder_agb":
        return "coalesce(am.agb, src.aanbieder_agb)"
    if key == "bsn":
        return "coalesce(bm.bsn, src.bsn)"
    if key in _SUFFIXED:
        return f"case when src.{key} is null then null else src.{key} || {tile} end"
    return f"src.{key}"


def write_kind_csv(
    con, spec: FileKind, tile: int, out_dir: Path, staging: Path, file_period: str = "month"
) -> dict[str, int]:
    """Write tile `tile` of one kind as CSV files (one per sender and period) into `out_dir`.

    Tile 0 keeps the base's identities. Returns files and rows written.
    """
    from outcome_monitor.ingest.kinds import KINDS

    kind = KINDS[spec.kind]
    suffix = "''" if tile == 0 else f"'{tile:03d}'"
    present = {name for (name,) in con.execute(f"select column_name from (describe ({spec.source}))").fetchall()}
    cells = [
        f'{_cell_sql(c, _mapped_sql(c.key, suffix)) if c.key in present else "null"} as "{c.name}"'
        for c in kind.columns
    ]
    sender_key = "gemeente_code" if spec.sender == "gemeente_code" else "aanbieder_agb"
    rows_sql = spec.source if tile == 0 else f"select * from ({spec.source}) where {spec.copies_only}"
    # A row without its date (a planted defect) goes into the sender's first file, among good rows,
    # as a provider would send it; a file of its own would be rejected as a whole.
    query = f"""
        select * exclude (p_dated), coalesce(p_dated, min(p_dated) over (partition by p_sender), 'alles') as p_period
        from (
            select {", ".join(cells)},
                   {_mapped_sql(sender_key, suffix)} as p_sender,
                   {spec.period_sql(file_period)} as p_dated
            from ({rows_sql}) src
            left join gemeente_map gm on gm.tile = {tile} and gm.base = src.gemeente_code
            left join aanbieder_map am on am.tile = {tile} and am.base = src.aanbieder_agb
            left join bsn_map bm on bm.tile = {tile} and bm.base = src.bsn
        )
    """
    rows = con.execute(f"select count(*) from ({rows_sql})").fetchone()[0]
    if rows == 0:
        return {"files": 0, "rows": 0}
    target = staging / f"{spec.kind}-{tile}"
    shutil.rmtree(target, ignore_errors=True)
    con.execute(
        f"copy ({query}) to '{target}' (format csv, delimiter ';', header true, partition_by (p_sender, p_period))"
    )
    files = 0
    for path in sorted(target.rglob("*.csv")):
        sender = path.parent.parent.name.split("=", 1)[1].replace("%2A", "alle")
        period = path.parent.name.split("=", 1)[1]
        part = "" if path.stem == "data_0" else f"_{path.stem.removeprefix('data_')}"
        os.replace(path, out_dir / f"{spec.kind}_{sender}_{period}_t{tile:03d}{part}.csv")
        files += 1
    shutil.rmtree(target)
    return {"files": files, "rows": rows}


def _identity_maps(con, tables: dict[str, pa.Table], tiles: int) -> dict[str, int]:
    """gemeente_map, aanbieder_map, bsn_map: (tile, base) -> new value for tiles 1..tiles-1."""
    base_gemeenten = sorted(
        {g for t in tables.values() for g in t.column("gemeente_code").to_pylist() if g and g != "*"}
    )
    base_agbs = sorted({a for t in tables.values() for a in t.column("aanbieder_agb").to_pylist() if a and a != "*"})
    base_bsns = sorted(
        {b for t in tables.values() if "bsn" in t.column_names for b in t.column("bsn").to_pylist() if b}
    )
    base_bsns = [b for b in base_bsns if passes_elfproef(b)]  # an invalid BSN is a planted defect: keep it
    free_codes = [c for c in cbs_gemeentecodes() if c not in set(base_gemeenten)]
    if (tiles - 1) * len(base_gemeenten) > len(free_codes):
        raise ValueError(f"{tiles} tegels passen niet in {len(free_codes)} vrije gemeentecodes")
    gemeente_rows = [
        (tile, base, free_codes[(tile - 1) * len(base_gemeenten) + i])
        for tile in range(1, tiles)
        for i, base in enumerate(base_gemeenten)
    ]
    agb_rows = [(tile, base, f"7{tile:03d}{j:04d}") for tile in range(1, tiles) for j, base in enumerate(base_agbs)]
    n = len(base_bsns)
    bsn_tile = np.repeat(np.arange(1, tiles, dtype=np.int64), n)
    bsn_new = fresh_bsns(0, n * (tiles - 1))
    con.register("gemeente_rows", pa.table({
        "tile": [r[0] for r in gemeente_rows], "base": [r[1] for r in gemeente_rows],
        "code": [r[2] for r in gemeente_rows]}))  # fmt: skip
    con.register(
        "agb_rows",
        pa.table({"tile": [r[0] for r in agb_rows], "base": [r[1] for r in agb_rows], "agb": [r[2] for r in agb_rows]}),
    )
    con.register("bsn_rows", pa.table({
        "tile": bsn_tile, "base": pa.array(base_bsns * (tiles - 1), pa.string()),
        "bsn": pa.array(np.char.zfill(bsn_new.astype(str), 9))}))  # fmt: skip
    con.execute("create table gemeente_map as select tile::int as tile, base, code from gemeente_rows")
    con.execute("create table aanbieder_map as select tile::int as tile, base, agb from agb_rows")
    con.execute("create table bsn_map as select tile::int as tile, base, bsn from bsn_rows")
    return {"base_gemeenten": len(base_gemeenten), "base_providers": len(base_agbs), "base_clients": n}


# --- the whole data set -----------------------------------------------------------------------------


def data_dir(plan: ScalePlan, root: Path = DEFAULT_ROOT) -> Path:
    return Path(root) / plan.key


def load_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / "manifest.json"
    if not path.exists():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return manifest if manifest.get("format_version") == FORMAT_VERSION else None


def ensure_scale_data(plan: ScalePlan, root: Path = DEFAULT_ROOT, log=print) -> dict[str, Any]:
    """The data set of `plan` under `root`, generated unless a complete one is there already."""
    directory = data_dir(plan, root)
    manifest = load_manifest(directory)
    if manifest is not None and manifest["plan"] == asdict(plan):
        return manifest
    shutil.rmtree(directory, ignore_errors=True)
    return generate_scale_data(plan, directory, log=log)


def generate_scale_data(plan: ScalePlan, directory: Path, log=print) -> dict[str, Any]:
    import duckdb

    from outcome_monitor.generate import generate

    started = time.perf_counter()
    inbox, equivalent, work = directory / "inbox", directory / "xml-equivalent", directory / "work"
    for folder in (inbox, equivalent, work):
        folder.mkdir(parents=True, exist_ok=True)

    generate(work / "base", seed=plan.seed, scale=plan.base_scale, start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
    base_bundles = sorted((work / "base" / "submissions").glob("*.zip"))
    for bundle in base_bundles:
        shutil.copyfile(bundle, inbox / bundle.name)
    generated = time.perf_counter()
    log(f"basisregio (schaal {plan.base_scale}) gegenereerd in {generated - started:.1f} s")

    tables = parse_base(work / "base" / "submissions")
    parsed = time.perf_counter()
    log(
        f"basisregio ingelezen in {parsed - generated:.1f} s: "
        + ", ".join(f"{k} {t.num_rows}" for k, t in tables.items())
    )

    con = duckdb.connect()
    for record_type, table in tables.items():
        con.register(record_type, table)
    bases = _identity_maps(con, tables, plan.tiles)
    counts: dict[str, dict[str, int]] = {}
    for spec in FILE_KINDS:
        if not _has_table(con, spec.source):
            continue
        # tile 0 is in the inbox as XML/XLSX/CSV bundles; its CSV twin is what bare DuckDB reads
        written = write_kind_csv(con, spec, 0, equivalent, work, plan.file_period)
        total = {"files": 0, "rows": written["rows"]}
        for tile in range(1, plan.tiles):
            written = write_kind_csv(con, spec, tile, inbox, work, plan.file_period)
            total["files"] += written["files"]
            total["rows"] += written["rows"]
        counts[spec.kind] = total
    con.close()
    shutil.rmtree(work)
    tiled = time.perf_counter()
    log(f"{plan.tiles - 1} tegels als CSV geschreven in {tiled - parsed:.1f} s")

    toewijzingen = tables["toewijzing"].num_rows if "toewijzing" in tables else 0
    manifest = {
        "format_version": FORMAT_VERSION,
        "plan": asdict(plan),
        "year": YEAR,
        "inbox": str(inbox),
        "xml_equivalent": str(equivalent),
        "files": len(list(inbox.iterdir())),
        "xml_bundles": len(base_bundles),
        "gemeenten": bases["base_gemeenten"] * plan.tiles,
        "providers": bases["base_providers"] * plan.tiles,
        "clients": bases["base_clients"] * plan.tiles,
        "toewijzingen": toewijzingen * plan.tiles,
        "rows_by_kind": {kind: c["rows"] for kind, c in counts.items()},
        "csv_files_by_kind": {kind: c["files"] for kind, c in counts.items()},
        "declaration_lines": counts.get("declaratie", {}).get("rows", 0),
        "bytes": sum(p.stat().st_size for p in inbox.iterdir()),
        "seconds": {
            "generate_base": round(generated - started, 1),
            "parse_base": round(parsed - generated, 1),
            "tile": round(tiled - parsed, 1),
        },
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _has_table(con, source: str) -> bool:
    try:
        con.execute(f"describe ({source})")
    except Exception:  # noqa: BLE001 - a record type the base did not produce (tiny scales)
        return False
    return True


def inbox_files(manifest: dict[str, Any]) -> Iterator[Path]:
    """The submissions: XML bundles, then CSV by name (the relational rules run in dbt, after all of them)."""
    inbox = Path(manifest["inbox"])
    yield from sorted(inbox.glob("*.zip"))
    yield from sorted(inbox.glob("*.csv"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "region"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--file-period", choices=FILE_PERIODS, default="month")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    manifest = ensure_scale_data(plan_for(args.scale, args.seed, args.file_period), args.root)
    print(json.dumps({k: v for k, v in manifest.items() if k != "plan"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

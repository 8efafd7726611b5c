"""How long the auditor's package takes for a large municipality's year.

    python -m outcome_monitor.year_end.export_bench --lines 300000 [--out bench/export.json]

Builds a warehouse in a temporary folder with the contract's ``rpt_controller__*`` tables for a
closed verslagjaar: ``--lines`` findings with their detail lines (a municipality of 350,000
inhabitants receives 0.2-0.4 million declaration lines a year), a reconciliation of 150
providers x 40 products, accruals and post-closing changes; then times ``export_year`` and
``verify`` and reports the peak memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

YEAR = 2025
PROVIDERS = 150
PRODUCTS = 40


def build_warehouse(path: Path, lines: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute(
            f"""
            create table rpt_controller__jaarstatus as
            select {YEAR} as verslagjaar, 'afgesloten' as status, 'bench-snapshot' as snapshot_id,
                   timestamp '2026-04-02 10:00:00' as afgesloten_op, 'controller' as afgesloten_door,
                   null::timestamp as heropend_op, null::varchar as reden;
            create table rpt_controller__reconciliatie as
            select {YEAR} as verslagjaar, (42100000 + p)::varchar as aanbieder_agb, '1680' as gemeente_code,
                   'jeugd' as domein, '45' as productcategorie, printf('45A%02d', q) as productcode,
                   (100 + p)::bigint as toegewezen_volume, (p * 100003 + q)::bigint as toegewezen_bedrag_cents,
                   (p * 99991 + q * 7)::bigint as gedeclareerd_bedrag_cents,
                   (p * 99991 + q * 7 - q)::bigint as geaccepteerd_bedrag_cents, q::bigint as afgewezen_bedrag_cents,
                   (100 + p)::bigint as pv_volume, (p * 99991)::bigint as pv_bedrag_cents,
                   p % 2 = 0 as pv_controleverklaring, (q - q * 7)::bigint as verschil_pv_cents,
                   (p * 12)::bigint as verschil_toewijzing_cents, q % 9 = 0 as boven_drempel,
                   case when q % 9 = 0 then 'afgewezen declaraties' end as oorzaak
            from range({PROVIDERS}) as a(p), range({PRODUCTS}) as b(q);
            create table rpt_controller__bevindingen as
            select {YEAR} as verslagjaar, 'line-' || i as declaration_line_id, 'sub-' || (i // 2000) as submission_id,
                   (42100000 + i % {PROVIDERS})::varchar as aanbieder_agb, '1680' as gemeente_code,
                   'jeugd' as domein, printf('45A%02d', i % {PRODUCTS}) as productcode,
                   case when i % 1000 = 0 then '=HYPERLINK("http://x","y")' else 'RN' || i end as referentienummer,
                   md5(i::varchar) as client_pseudonym, ['9338', '9321', '0611', 'OM201'][1 + i % 4] as bevinding_code,
                   case when i % 4 = 3 then 'onzekerheid' else 'fout' end as klasse,
                   (1000 + i % 50000)::bigint as bedrag_cents, 'geaccepteerd' as regelstatus,
                   'geen geldige toewijzing voor de regel' as omschrijving
            from range({lines}) as r(i);
            create table rpt_controller__bevindingen_per_aanbieder as
            select verslagjaar, aanbieder_agb, klasse, count(*)::bigint as aantal,
                   sum(bedrag_cents)::bigint as bedrag_cents
            from rpt_controller__bevindingen group by all;
            create table rpt_controller__tolerantietoets as
            select {YEAR} as verslagjaar, 30000000000::bigint as lasten_cents, 120000000::bigint as fouten_cents,
                   40000000::bigint as onzekerheden_cents, 0.4 as fout_pct, 0.13 as onzekerheid_pct,
                   2.0 as grens_fout_pct, 2.0 as grens_onzekerheid_pct, 'apart' as toetswijze,
                   50000000::bigint as verantwoordingsgrens_cents, 'binnen de tolerantie' as oordeel,
                   'Bado (Stb. 2025, 99)' as bron;
            create table rpt_controller__nog_te_betalen as
            select verslagjaar, aanbieder_agb, gemeente_code, productcode, 3::bigint as aantal_toewijzingen,
                   12.5 as geschat_volume, 4567::bigint as tarief_cents, 57088::bigint as bedrag_cents,
                   'open toewijzingen x volume x tarief' as methode
            from rpt_controller__reconciliatie;
            create table rpt_controller__wijzigingen_na_afsluiting as
            select verslagjaar, 'bench-snapshot' as snapshot_id, aanbieder_agb, gemeente_code, productcode,
                   'gedeclareerd_bedrag_cents' as kolom, gedeclareerd_bedrag_cents as bevroren_cents,
                   gedeclareerd_bedrag_cents + 100 as actueel_cents, 100::bigint as verschil_cents,
                   ['sub-late-1'] as submission_ids
            from rpt_controller__reconciliatie where boven_drempel;
            """
        )
    finally:
        con.close()


def run(lines: int) -> dict[str, float | int]:
    from outcome_monitor.year_end.export import export_year, verify

    with tempfile.TemporaryDirectory(prefix="export-bench-") as work:
        warehouse = Path(work) / "warehouse.duckdb"
        started = time.monotonic()
        build_warehouse(warehouse, lines)
        built = time.monotonic() - started
        started, cpu_started = time.monotonic(), time.process_time()
        result = export_year(YEAR, Path(work) / "pakket", warehouse)
        exported, exported_cpu = time.monotonic() - started, time.process_time() - cpu_started
        started = time.monotonic()
        checked = verify(result.out)
        if not checked.ok:
            raise RuntimeError(f"het pakket klopt niet met zijn manifest: {checked.problems}")
        verified = time.monotonic() - started
        sizes = {f["naam"]: f["bytes"] for f in result.files}
    return {
        "detail_lines": lines,
        "warehouse_build_s": round(built, 1),
        "export_s": round(exported, 1),
        "export_cpu_s": round(exported_cpu, 1),  # the machine may be shared: CPU time is the steadier figure
        "load_average_1min": round(os.getloadavg()[0], 1),
        "verify_s": round(verified, 1),
        "xlsx_mb": round(sizes[f"jaarafsluiting-{YEAR}.xlsx"] / 1e6, 1),
        "package_mb": round(sum(sizes.values()) / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    figures = run(args.lines)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""The limit: bare DuckDB reading the same records and computing the key figures by hand-written SQL.

What the pipeline does in many steps (parse, check, pseudonymise, Parquet, dbt, checks, publish),
done here in one DuckDB session over the same input: every CSV file of the inbox, plus the CSV twin
of the XML bundles (``xml-equivalent/``, bare DuckDB cannot read iJw XML). It types every column,
pseudonymises the BSN, applies the two relational rules that shape the figures (a referentienummer
counts once per provider; a declaration needs a toewijzing) and writes into a DuckDB file:

- the declared amount per gemeente x provider x product x month (debit minus credit);
- the indicator counts: ended trajectories and uitval per gemeente x half-year, outcome measurements
  (doelrealisatie, zonder hulp verder), ZRM T0/Tn averages, survey n and mean per question;
- the volume per toewijzing and the productieverantwoording per provider, against the declarations.

No checks beyond those, no feedback, no history: it is the floor, not a second implementation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

# kind -> the typed columns of its CSV (as the provider template names them)
_DATE = "date"
COLUMN_TYPES = {
    "declaratie": {
        "gemeente_code": "varchar", "aanbieder_agb": "varchar", "domein": "varchar", "declaratienummer": "varchar",
        "declaratie_begindatum": _DATE, "declaratie_einddatum": _DATE, "declaratie_dagtekening": _DATE,
        "referentienummer": "varchar", "vorig_referentienummer": "varchar", "toewijzingnummer": "varchar",
        "bsn": "varchar", "productcategorie": "varchar", "productcode": "varchar",
        "productperiode_begindatum": _DATE, "productperiode_einddatum": _DATE, "volume": "bigint",
        "eenheid": "varchar", "tarief": "decimal(12,2)", "bedrag": "decimal(12,2)", "debet_credit": "varchar",
    },
    "toewijzing": {
        "gemeente_code": "varchar", "aanbieder_agb": "varchar", "domein": "varchar", "toewijzingnummer": "varchar",
        "bsn": "varchar", "productcategorie": "varchar", "productcode": "varchar", "toewijzingsdatum": _DATE,
        "ingangsdatum": _DATE, "einddatum": _DATE, "volume": "bigint", "eenheid": "varchar",
        "frequentie": "varchar", "budget": "decimal(12,2)", "reden_wijziging": "varchar",
    },
    "levering": {
        "gemeente_code": "varchar", "aanbieder_agb": "varchar", "domein": "varchar", "soort": "varchar",
        "toewijzingnummer": "varchar", "bsn": "varchar", "productcategorie": "varchar", "productcode": "varchar",
        "toewijzing_ingangsdatum": _DATE, "begindatum": _DATE, "einddatum": _DATE,
        "reden_beeindiging": "varchar", "status_aanlevering": "varchar",
    },
    "uitkomst": {
        "gemeente_code": "varchar", "aanbieder_agb": "varchar", "domein": "varchar", "toewijzingnummer": "varchar",
        "bsn": "varchar", "meetdatum": _DATE, "informant": "varchar", "tevredenheid": "bigint",
        "zonder_hulp_verder": "varchar", "doelrealisatie": "bigint",
    },
    "zrm": {
        "gemeente_code": "varchar", "aanbieder_agb": "varchar", "domein": "varchar", "bsn": "varchar",
        "meetdatum": _DATE, "meetmoment": "varchar", "zrm_domein": "bigint", "score": "bigint",
    },
    "clientervaring": {
        "gemeente_code": "varchar", "jaar": "bigint", "wet": "varchar", "respondent_id": "varchar",
        "vraag_code": "varchar", "antwoord": "bigint", "aanbieder_agb": "varchar",
    },
    "productieverantwoording": {
        "aanbieder_agb": "varchar", "jaar": "bigint", "gemeente_code": "varchar", "domein": "varchar",
        "productcode": "varchar", "volume": "bigint", "bedrag": "decimal(12,2)", "controleverklaring": "varchar",
        "versie": "varchar",
    },
}  # fmt: skip

AGGREGATES = {
    # 8021: the first use of a referentienummer per provider counts; 9338-like: a toewijzing must exist.
    "declaratie_geldig": """
        select d.* from (
            select *, row_number() over (
                partition by aanbieder_agb, referentienummer order by declaratie_dagtekening, referentienummer
            ) as occurrence
            from declaratie
        ) d
        where occurrence = 1 and exists (
            select 1 from toewijzing t
            where t.gemeente_code = d.gemeente_code and t.aanbieder_agb = d.aanbieder_agb
              and t.toewijzingnummer = d.toewijzingnummer and t.client_pseudonym = d.client_pseudonym
        )""",
    "gedeclareerd_per_maand": """
        select gemeente_code, domein, aanbieder_agb, productcategorie, productcode,
               date_trunc('month', productperiode_begindatum) as maand,
               cast(sum(case debet_credit when 'C' then -bedrag else bedrag end) * 100 as bigint) as bedrag_cents,
               count(*) as regels
        from declaratie_geldig group by all""",
    "trajecten_beeindigd": """
        select gemeente_code, domein, year(einddatum) as jaar, 1 + (month(einddatum) > 6)::int as halfjaar,
               count(*) as beeindigd,
               count(*) filter (where reden_beeindiging not in ('01', '02')) as uitval
        from levering where soort = 'stop' and einddatum is not null group by all""",
    "uitkomsten": """
        select gemeente_code, domein, year(meetdatum) as jaar, 1 + (month(meetdatum) > 6)::int as halfjaar,
               count(*) as metingen, avg(doelrealisatie) as doelrealisatie,
               count(*) filter (where zonder_hulp_verder = '01') as zonder_hulp_verder
        from uitkomst group by all""",
    "zrm_gemiddelden": """
        select gemeente_code, zrm_domein, meetmoment, count(distinct client_pseudonym) as clienten,
               avg(score) as score
        from zrm group by all""",
    "clientervaring_per_vraag": """
        select gemeente_code, jaar, wet, vraag_code, count(*) as n, avg(antwoord) as gemiddelde
        from clientervaring group by all""",
    "toewijzing_uitputting": """
        select t.gemeente_code, t.aanbieder_agb, t.toewijzingnummer, any_value(t.volume) as toegewezen,
               coalesce(sum(d.volume), 0) as gedeclareerd
        from toewijzing t left join declaratie_geldig d using (gemeente_code, aanbieder_agb, toewijzingnummer)
        group by all""",
    "productieverantwoording_aansluiting": """
        select p.aanbieder_agb, p.gemeente_code, p.productcode, p.jaar, sum(p.bedrag) as verantwoord,
               (select sum(case debet_credit when 'C' then -bedrag else bedrag end) from declaratie_geldig d
                where d.aanbieder_agb = p.aanbieder_agb and d.gemeente_code = p.gemeente_code
                  and d.productcode = p.productcode and year(d.productperiode_begindatum) = p.jaar) as gedeclareerd
        from productieverantwoording p group by all""",
}


def _read_sql(kind: str, folders: list[Path]) -> str:
    files = [str(folder / f"{kind}_*.csv") for folder in folders if any(folder.glob(f"{kind}_*.csv"))]
    columns = COLUMN_TYPES[kind]
    types = ", ".join(f"'{name}': '{'varchar' if t == _DATE else t}'" for name, t in columns.items())
    select = ", ".join(
        f"strptime(nullif({name}, ''), ['%d-%m-%Y', '%Y-%m-%d'])::date as {name}" if t == _DATE else name
        for name, t in columns.items()
        if name != "bsn"
    )
    pseudonym = ", sha256(bsn) as client_pseudonym" if "bsn" in columns else ""
    return (
        f"select {select}{pseudonym} from read_csv({files}, delim=';', header=true, decimal_separator=',',"
        f" columns={{{types}}}, union_by_name=false, filename=false)"
    )


def run_bare(inbox: Path, xml_equivalent: Path, database: Path) -> dict[str, Any]:
    """Read, type and aggregate everything into `database`; return seconds and row counts."""
    import duckdb

    database.unlink(missing_ok=True)
    folders = [inbox, xml_equivalent]
    started = time.perf_counter()
    rows: dict[str, int] = {}
    with duckdb.connect(str(database)) as con:
        for kind in COLUMN_TYPES:
            if not any(any(folder.glob(f"{kind}_*.csv")) for folder in folders):
                continue
            con.execute(f"create table {kind} as {_read_sql(kind, folders)}")
            rows[kind] = con.execute(f"select count(*) from {kind}").fetchone()[0]
        read = time.perf_counter()
        for name, sql in AGGREGATES.items():
            con.execute(f"create table {name} as {sql}")
            rows[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
        con.execute("checkpoint")
    done = time.perf_counter()
    return {
        "seconds": round(done - started, 2),
        "read_seconds": round(read - started, 2),
        "aggregate_seconds": round(done - read, 2),
        "rows": rows,
    }

"""The pipeline side of stack/superset_security.py: provider codes, row filters, demo users file.

No Superset needed; the server-side effects are tested in test_roles_and_dashboards.py.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import duckdb
import pytest

from outcome_monitor.stack import superset_security as security


def test_provider_codes_come_from_the_sample_file_names():
    files = [
        Path("2025-H1_aanbieder-42100317.zip"),
        Path("2025-H2_aanbieder-42100317.zip"),
        Path("2025-H1_aanbieder-98100123.zip"),
        Path("2025-H1_gemeente-1699_toewijzingen.zip"),
        Path("readme.txt"),
    ]
    assert security.agbs_from_file_names(files) == ["42100317", "98100123"]


def test_provider_codes_come_from_every_reporting_table_but_not_the_benchmark(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table rpt_aanbieder__a as select * from (values ('11111111'), ('*')) t(aanbieder_agb)")
    con.execute("create table rpt_raad__b as select * from (values ('22222222')) t(aanbieder_agb)")
    con.execute("create table stg_c as select * from (values ('33333333')) t(aanbieder_agb)")  # not published
    con.close()
    assert security.agbs_from_warehouse(warehouse) == ["11111111", "22222222"]


def test_row_filter_lets_a_provider_see_its_rows_and_the_benchmark():
    assert security.provider_clause("42100317") == "aanbieder_agb = '42100317' OR aanbieder_agb = '*'"


@pytest.mark.parametrize("agb", ["4210031", "421003170", "42100317' OR '1'='1", "*", ""])
def test_a_malformed_code_gets_no_role(agb):
    with pytest.raises(security.SecurityError, match="not 8 digits"):
        security.provider_clause(agb)


def test_plan_gives_each_audience_its_datasets_and_dashboards():
    plan = security.plan(["42100317", "98100123"], users=[])
    roles = plan["roles"]
    assert set(roles) == {"raad", "controller", "aanbieder-42100317", "aanbieder-98100123"}
    assert roles["raad"] == {"datasets": ["rpt_raad__"], "dashboards": ["maatschappelijke-resultaten"], "clause": None}
    assert roles["aanbieder-98100123"]["datasets"] == ["rpt_aanbieder__"]
    assert roles["aanbieder-98100123"]["clause"] == "aanbieder_agb = '98100123' OR aanbieder_agb = '*'"
    assert not any(prefix.startswith("stg_") or prefix == "" for r in roles.values() for prefix in r["datasets"])


def test_demo_passwords_are_generated_once_and_kept_private(tmp_path):
    first = security.demo_users(tmp_path, ["42100317"])
    path = security.demo_users_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [u["username"] for u in first] == ["raad", "controller", "aanbieder-42100317"]
    assert len({u["password"] for u in first}) == 3 and all(len(u["password"]) >= 20 for u in first)

    again = security.demo_users(tmp_path, ["42100317", "98100123"])  # a new provider appears
    assert again[:3] == first
    assert again[3]["username"] == "aanbieder-98100123"
    assert json.loads(path.read_text())["users"] == again

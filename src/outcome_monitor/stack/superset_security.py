"""Who sees what in Superset: roles per audience, row-level security per provider, demo users.

Audiences and what they may open (datasets by table-name prefix, dashboards by slug):

    raad               rpt_raad__*                     the council dashboard
    controller         rpt_raad__*, rpt_controller__*  the controller and council dashboards
    aanbieder-<agb>    rpt_aanbieder__*                the provider dashboard, own rows only

Every role is Superset's Gamma without the right to change charts, dashboards or datasets; none
gets SQL Lab (only Admin has it). Row-level security on EVERY dataset with an ``aanbieder_agb``
column: a provider's role sees ``aanbieder_agb = '<agb>' OR aanbieder_agb = '*'`` (``*`` marks the
regional benchmark rows), and a base filter ``1 = 0`` denies all rows to every other role that is
not explicitly allowed the whole dataset (Superset applies no filter at all to a user in none of
the filtered roles, so without the base filter a new role would see everything).

This file has two halves. The pipeline side (``apply``) works out the provider codes, generates
and keeps demo passwords and runs the Superset side in the dashboards environment; the Superset
side (``_apply_in_superset``, run as ``python -P superset_security.py``) writes roles, filters
and users into Superset's metadata. The file therefore imports only the standard library at the
top: the dashboards environment has no ``outcome_monitor`` package.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROLE_RAAD = "raad"
ROLE_CONTROLLER = "controller"
PROVIDER_ROLE_PREFIX = "aanbieder-"
PROVIDER_COLUMN = "aanbieder_agb"
BENCHMARK_AGB = "*"  # rows of the regional benchmark, visible to every provider
DEMO_USERS_FILE = "demo-users.json"
PLAN_VARIABLE = "OUTCOME_MONITOR_SECURITY_PLAN"  # the plan reaches the script through its environment
RLS_NAME_PREFIX = "uitkomstenmonitor: "  # filters we own; others (made by an administrator) stay

COUNCIL_DASHBOARD = "maatschappelijke-resultaten"
PROVIDER_DASHBOARD = "aanbieder"
CONTROLLER_DASHBOARD = "controller"

AUDIENCES: dict[str, dict[str, Any]] = {
    ROLE_RAAD: {"datasets": ["rpt_raad__"], "dashboards": [COUNCIL_DASHBOARD]},
    ROLE_CONTROLLER: {
        "datasets": ["rpt_raad__", "rpt_controller__"],
        "dashboards": [CONTROLLER_DASHBOARD, COUNCIL_DASHBOARD],
    },
}
PROVIDER_AUDIENCE: dict[str, Any] = {"datasets": ["rpt_aanbieder__"], "dashboards": [PROVIDER_DASHBOARD]}

_AGB = re.compile(r"^[0-9]{8}$")  # also what makes it safe to write into an SQL clause


class SecurityError(RuntimeError):
    """Roles, filters or users could not be set up; the message says which and why."""


def provider_role(agb: str) -> str:
    return f"{PROVIDER_ROLE_PREFIX}{agb}"


def provider_clause(agb: str) -> str:
    if not _AGB.match(agb):
        raise SecurityError(f"AGB-code {agb!r} is not 8 digits: no role or row filter made for it")
    return f"{PROVIDER_COLUMN} = '{agb}' OR {PROVIDER_COLUMN} = '{BENCHMARK_AGB}'"


# --------------------------------------------------------------------------------------------
# pipeline side


def agbs_from_file_names(files: Iterable[Path]) -> list[str]:
    """Provider codes of sample submissions named ``<period>_aanbieder-<agb>[...].zip``."""
    found = set()
    for file in files:
        sender = file.stem.split("_")[1] if "_" in file.stem else ""
        kind, _, rest = sender.partition("-")
        if kind == "aanbieder":
            found.add(rest.split("-")[0])
    return sorted(found)


def agbs_from_warehouse(warehouse: Path) -> list[str]:
    """Every provider code in a reporting table of the published warehouse (benchmark excluded)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.columns where column_name = ? and table_name like 'rpt%'",
                [PROVIDER_COLUMN],
            ).fetchall()
        ]
        found: set[str] = set()
        for table in tables:
            rows = con.execute(f'select distinct {PROVIDER_COLUMN} from "{table}"').fetchall()
            found.update(agb for (agb,) in rows if agb and agb != BENCHMARK_AGB)
    finally:
        con.close()
    return sorted(found)


def demo_users_path(home: Path) -> Path:
    return home / "secrets" / DEMO_USERS_FILE


def _write_private(path: Path, text: str) -> None:
    """Create `path` with mode 0600 from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def demo_users(home: Path, agbs: Iterable[str]) -> list[dict[str, str]]:
    """One demo user per audience, passwords generated once and kept in secrets/demo-users.json."""
    path = demo_users_path(home)
    known = {user["username"]: user for user in json.loads(path.read_text())["users"]} if path.exists() else {}
    wanted = [(ROLE_RAAD, COUNCIL_DASHBOARD), (ROLE_CONTROLLER, CONTROLLER_DASHBOARD)]
    wanted += [(provider_role(agb), PROVIDER_DASHBOARD) for agb in sorted(set(agbs))]
    users = []
    for role, dashboard in wanted:
        password = known.get(role, {}).get("password") or secrets.token_urlsafe(18)
        users.append({"username": role, "password": password, "role": role, "dashboard": dashboard})
    if users != list(known.values()):
        _write_private(path, json.dumps({"users": users}, indent=2) + "\n")
    return users


def plan(agbs: Iterable[str], users: list[dict[str, str]]) -> dict[str, Any]:
    """What the Superset side writes: roles with their datasets and dashboards, filters, users."""
    agbs = sorted(set(agbs))
    roles = {name: {**audience, "clause": None} for name, audience in AUDIENCES.items()}
    for agb in agbs:
        roles[provider_role(agb)] = {**PROVIDER_AUDIENCE, "clause": provider_clause(agb)}
    return {"roles": roles, "provider_column": PROVIDER_COLUMN, "rls_prefix": RLS_NAME_PREFIX, "users": users}


def apply(
    runner: Any,
    venv: Path,
    home: Path,
    warehouse: Path,
    provider_agbs: Iterable[str] = (),
    with_demo_users: bool = False,
) -> list[dict[str, str]]:
    """Create or update roles, row filters and (optionally) demo users; return the demo users.

    `runner` is the set-up's step runner (stack.superset._StepRunner): the step is logged and a
    failure names it. Provider roles are made for `provider_agbs` and every provider in the
    warehouse. Re-running updates everything in place.
    """
    agbs = sorted(set(provider_agbs) | set(agbs_from_warehouse(warehouse)))
    for agb in agbs:
        provider_clause(agb)  # refuse a malformed code before anything is written
    users = demo_users(home, agbs) if with_demo_users else []
    document = json.dumps(plan(agbs, users))
    runner.run(
        "roles, row-level security and users",
        [str(venv / "bin" / "python"), "-P", str(Path(__file__).resolve())],
        extra_env={PLAN_VARIABLE: document},  # passwords never on a command line or in the log
        shown=f"python -P {Path(__file__).name} ({len(agbs)} aanbieders, {len(users)} users)",
    )
    return users


# --------------------------------------------------------------------------------------------
# Superset side (dashboards environment, inside the app context)

# Gamma may create and change charts and dashboards; the audiences here only read.
_WRITE_PERMISSIONS = {"can_write", "can_delete", "can_add", "can_edit", "muldelete"}
_OWNED_OBJECTS = {"Chart", "Dashboard", "Dataset", "Tag", "Annotation", "CssTemplate", "ReportSchedule", "Database"}


def _reader_permissions(security_manager: Any) -> list[Any]:
    gamma = security_manager.find_role("Gamma")
    if gamma is None:
        raise SecurityError("role Gamma not found: run `superset init` first")
    kept = []
    for pvm in gamma.permissions:
        if pvm.permission.name in _WRITE_PERMISSIONS and pvm.view_menu.name in _OWNED_OBJECTS:
            continue
        if security_manager._is_sql_lab_pvm(pvm):  # noqa: SLF001 - Superset's own definition of SQL Lab
            continue
        kept.append(pvm)
    return kept


def _apply_in_superset(document: dict[str, Any]) -> None:
    from superset import db, security_manager
    from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
    from superset.models.dashboard import Dashboard
    from superset.utils.core import RowLevelSecurityFilterType

    session = db.session
    column = document["provider_column"]
    prefix = document["rls_prefix"]
    datasets = session.query(SqlaTable).all()
    reader = _reader_permissions(security_manager)
    roles = {}
    for name, spec in document["roles"].items():
        role = security_manager.find_role(name) or security_manager.add_role(name)
        permissions = list(reader)
        for dataset in datasets:
            if dataset.table_name.startswith(tuple(spec["datasets"])):
                pvm = security_manager.add_permission_view_menu("datasource_access", dataset.perm)
                permissions.append(pvm)
        role.permissions = permissions
        roles[name] = role
    print(f"roles: {len(roles)}", flush=True)

    # Each dashboard is shown to exactly the roles that name it (DASHBOARD_RBAC).
    for dashboard in session.query(Dashboard).all():
        dashboard.roles = [roles[n] for n, spec in document["roles"].items() if dashboard.slug in spec["dashboards"]]

    # Row-level security on every dataset with the provider column.
    with_column = [d for d in datasets if column in {c.column_name for c in d.columns}]
    filters: dict[str, dict[str, Any]] = {}
    provider_roles = [roles[n] for n, spec in document["roles"].items() if spec["clause"]]
    for name, spec in document["roles"].items():
        if spec["clause"]:
            filters[f"{prefix}{name} ziet eigen rijen en de regio"] = {
                "type": RowLevelSecurityFilterType.REGULAR,
                "clause": spec["clause"],
                "tables": with_column,
                "roles": [roles[name]],
                "description": "Aanbieder ziet alleen de eigen rijen en het regionale gemiddelde (*).",
            }
    # Deny by default: one base filter per set of roles allowed all rows of a dataset (Admin always).
    by_full_access: dict[tuple[str, ...], list[Any]] = {}
    for dataset in with_column:
        full = tuple(
            sorted(
                n
                for n, spec in document["roles"].items()
                if not spec["clause"] and dataset.table_name.startswith(tuple(spec["datasets"]))
            )
        )
        by_full_access.setdefault(full, []).append(dataset)
    admin = security_manager.find_role("Admin")
    for full, tables in by_full_access.items():
        label = ", ".join(full) if full else "alleen beheer"
        filters[f"{prefix}geen rijen tenzij toegestaan ({label})"] = {
            "type": RowLevelSecurityFilterType.BASE,
            "clause": "1 = 0",
            "tables": tables,
            "roles": [admin, *provider_roles, *(roles[n] for n in full)],  # the roles NOT filtered
            "description": "Standaard geen rijen: alleen de genoemde rollen zijn uitgezonderd.",
        }
    for existing in session.query(RowLevelSecurityFilter).all():
        if existing.name.startswith(prefix) and existing.name not in filters:
            session.delete(existing)
    for name, spec in filters.items():
        rls = session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
        if rls is None:
            rls = RowLevelSecurityFilter(name=name)
            session.add(rls)
        rls.filter_type = spec["type"]
        rls.clause = spec["clause"]
        rls.group_key = column
        rls.tables = spec["tables"]
        rls.roles = spec["roles"]
        rls.description = spec["description"]
    session.commit()
    print(f"row-level security: {len(filters)} filters on {len(with_column)} datasets", flush=True)

    for user in document["users"]:
        role = roles[user["role"]]
        existing = security_manager.find_user(username=user["username"])
        if existing is None:
            created = security_manager.add_user(
                user["username"],
                user["username"],
                "demo",
                f"{user['username']}@uitkomstenmonitor.invalid",
                role,
                password=user["password"],
            )
            if not created:
                raise SecurityError(f"user {user['username']!r} could not be created (see the log above)")
        else:
            existing.roles = [role]
            session.commit()
            security_manager.reset_password(existing.id, user["password"])
    session.commit()
    print(f"users: {len(document['users'])}", flush=True)


def _main() -> None:
    document = json.loads(os.environ[PLAN_VARIABLE])
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        _apply_in_superset(document)


if __name__ == "__main__":
    try:
        _main()
    except SecurityError as error:
        sys.exit(f"error: {error}")

"""A PostgreSQL server of Debian's package, for the tests: find the binaries, talk to the server.

The fixture that starts and stops it is in conftest.py.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INIT_SCRIPT = REPO_ROOT / "docker" / "postgres-init.sh"
REQUIRE_VARIABLE = "OUTCOME_MONITOR_REQUIRE_POSTGRES"


def postgres_bin_dir() -> Path | None:
    """$OUTCOME_MONITOR_POSTGRES_BIN, else the newest Debian PostgreSQL (/usr/lib/postgresql/<major>/bin),
    else pg_ctl on PATH."""
    configured = os.environ.get("OUTCOME_MONITOR_POSTGRES_BIN")
    if configured:
        return Path(configured)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0
    )
    if candidates:
        return candidates[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    port: int
    folder: Path
    superuser_password: str
    airflow_password: str
    superset_password: str
    run_as: list[str]

    @property
    def major_version(self) -> int:
        return int(
            subprocess.check_output([str(self.bin_dir / "postgres"), "--version"], text=True).split()[-1].split(".")[0]
        )

    def url(self, role: str, database: str | None = None, driver: str = "postgresql+psycopg2") -> str:
        password = {"airflow": self.airflow_password, "superset": self.superset_password}.get(
            role, self.superuser_password
        )
        return f"{driver}://{role}:{password}@127.0.0.1:{self.port}/{database or role}"

    def client_env(self, role: str = "postgres") -> dict[str, str]:
        password = {"airflow": self.airflow_password, "superset": self.superset_password}.get(
            role, self.superuser_password
        )
        return {
            **os.environ,
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": role,
            "PGPASSWORD": password,
            "PGDATABASE": "postgres",
        }

    def run(self, program: str, *args: str, role: str = "postgres", **kwargs) -> subprocess.CompletedProcess:
        """Run a client program (psql, pg_dump, pg_restore, createdb) against this server; raise with its output."""
        result = subprocess.run(
            [str(self.bin_dir / program), *args], env=self.client_env(role), capture_output=True, text=True, **kwargs
        )
        if result.returncode != 0:
            raise AssertionError(f"{program} {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def query(self, sql: str, database: str = "postgres", role: str = "postgres") -> list[tuple[str, ...]]:
        output = self.run(
            "psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-d", database, "-c", sql, role=role
        ).stdout
        return [tuple(line.split("\t")) for line in output.splitlines() if line]

    def log(self) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace") if log.exists() else ""


def as_server_user(folder: Path) -> list[str]:
    """The command prefix that runs the server's programs as a non-root user owning `folder`."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, but there is no 'postgres' user to run PostgreSQL (install Debian's postgresql)")
    os.chown(folder, user.pw_uid, user.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def compose_postgres_major(compose: dict) -> int:
    return int(re.match(r"(\d+)", compose["services"]["postgres"]["image"].partition(":")[2]).group(1))

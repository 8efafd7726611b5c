"""A real PostgreSQL server for the production configuration, started here without containers.

Debian's ``postgresql`` package (``make postgresql``) provides the binaries. The session runs
``initdb`` into a temporary folder (as the ``postgres`` user when the tests run as root: PostgreSQL
refuses to run as root), starts the server on a free loopback port with its socket in that
folder, and creates the Airflow and Superset roles and databases with ``docker/postgres-init.sh``,
the script the compose file gives the postgres container. Every client then connects over TCP
with a password, as the containers do.

Without the binaries the suite is skipped, unless ``OUTCOME_MONITOR_REQUIRE_POSTGRES`` is set
(``make test`` sets it): then it fails, so CI can never pass by skipping it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import (
    INIT_SCRIPT,
    REPO_ROOT,
    REQUIRE_VARIABLE,
    PostgresServer,
    as_server_user,
    free_port,
    postgres_bin_dir,
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        message = "PostgreSQL binaries not found (run `make postgresql`: Debian's postgresql package)"
        if os.environ.get(REQUIRE_VARIABLE):
            pytest.fail(f"{message}; {REQUIRE_VARIABLE} is set, so this suite may not be skipped")
        pytest.skip(message)

    # Not under pytest's tmp: that folder is private to root, and the server may run as 'postgres'.
    folder = Path(tempfile.mkdtemp(prefix="om-postgres-"))
    run_as = as_server_user(folder)
    server = PostgresServer(
        bin_dir=bin_dir,
        port=free_port(),
        folder=folder,
        superuser_password=secrets.token_hex(16),
        airflow_password=secrets.token_hex(16),
        superset_password=secrets.token_hex(16),
        run_as=run_as,
    )
    password_file = folder / "superuser-password"
    password_file.write_text(server.superuser_password + "\n")
    if run_as:
        shutil.chown(password_file, "postgres")
    data = folder / "data"
    try:
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        password_file.unlink()
        # Durability off: a test server need not survive a power cut, and fsyncs cost seconds.
        options = (
            f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {error.cmd[len(run_as)]} said:\n{error.stderr}\n{log}")

    try:
        # The compose file's init script, as the postgres container would run it.
        subprocess.run(
            ["bash", str(INIT_SCRIPT)],
            env={
                **server.client_env(),
                "POSTGRES_USER": "postgres",
                "POSTGRES_DB": "postgres",
                "AIRFLOW_DB_PASSWORD": server.airflow_password,
                "SUPERSET_DB_PASSWORD": server.superset_password,
            },
            check=True,
            capture_output=True,
            text=True,
        )
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(
                [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                check=True,
                capture_output=True,
            )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def compose_file() -> dict:
    import yaml

    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))

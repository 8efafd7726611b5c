"""Superset for the outcome monitor: set-up, dashboard import and server lifecycle.

Superset 6.1 needs SQLAlchemy < 2 and the pipeline environment has SQLAlchemy 2, so this module
never imports Superset. It drives the *dashboards* environment (``.venv-dashboards``) through
subprocesses (``superset db upgrade``, ``fab create-admin``, ``init``, a small import script)
and talks to the running server over HTTP only.

Everything lives under one home folder (``$OUTCOME_MONITOR_HOME``)::

    superset/superset_config.py   copied from superset_config.py next to this module
    superset/package_portal.py    copied likewise: the /jaarafsluiting/ blueprint the config loads
    superset/superset.db          Superset's metadata (users, dashboards, charts), SQLite
    superset/bundle.zip           the dashboards/ folder as an import bundle
    secrets/superset-secret-key   Flask SECRET_KEY, generated once (0600)
    secrets/superset-admin.json   the generated admin credentials (0600)
    logs/superset-setup.log       every set-up step with its output
    logs/superset.log             the gunicorn server's log
    run/superset.pid              pid (and process group) of the running server

The dashboards environment is ``<repo_root>/.venv-dashboards`` unless
``OUTCOME_MONITOR_DASHBOARDS_VENV`` names another; the set-up records it in ``superset/venv`` so
``start`` finds it without the repository.

The DuckDB warehouse is registered read-only with external file access disabled, so neither a
chart nor an API call can write to it or read other files of the server.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from outcome_monitor import config
from outcome_monitor.stack import superset_security

ADMIN_USERNAME = "admin"
DEFAULT_PORT = 8088
# Set in production: the metadata database on a server (read by superset_config.py too).
DB_URL_VARIABLE = "OUTCOME_MONITOR_SUPERSET_DB_URL"
DASHBOARD_SLUG = "maatschappelijke-resultaten"
HEALTH_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0

_CONFIG_TEMPLATE = Path(__file__).with_name("superset_config.py")
# Loaded by the config from beside itself: Superset's environment has no outcome_monitor package.
_CONFIG_MODULES = (Path(__file__).with_name("package_portal.py"),)
# Read-only, and no file system access from SQL (read_csv, read_parquet, glob, ATTACH, COPY).
READ_ONLY_CONNECT_ARGS: dict[str, Any] = {"read_only": True, "config": {"enable_external_access": False}}

# Runs inside the dashboards environment (python -c). The `superset import-dashboards` CLI imports
# the database, datasets and charts with overwrite=False in 6.1 (only the dashboard itself is
# overwritten), so a changed chart YAML would never reach an existing installation. Importing each
# asset type with its own command and overwrite=True makes a re-run apply the YAML as it is now.
_IMPORT_SCRIPT = r"""
import sys, zipfile, yaml
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset import security_manager
    from superset.commands.chart.importers.v1 import ImportChartsCommand
    from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
    from superset.commands.database.importers.v1 import ImportDatabasesCommand
    from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
    from superset.commands.exceptions import CommandInvalidError
    from superset.commands.importers.v1.utils import get_contents_from_bundle
    from superset.utils.core import override_user

    bundle_path, username = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(bundle_path) as bundle:
        contents = get_contents_from_bundle(bundle)
    metadata = yaml.safe_load(contents["metadata.yaml"])
    metadata.pop("type", None)  # one bundle for the four typed import commands
    contents["metadata.yaml"] = yaml.safe_dump(metadata)
    user = security_manager.find_user(username=username)
    if user is None:
        sys.exit(f"user {username!r} not found")
    with override_user(user):
        for command in (ImportDatabasesCommand, ImportDatasetsCommand, ImportChartsCommand,
                        ImportDashboardsCommand):
            try:
                command(contents, overwrite=True).run()
            except CommandInvalidError as ex:
                sys.exit(f"{command.__name__}: {ex.normalized_messages()}")
            print(f"{command.__name__}: ok", flush=True)
"""


class SupersetError(RuntimeError):
    """A set-up step or the server failed; the message names the step and the log to read."""


# --------------------------------------------------------------------------------------------
# paths and environment


def _superset_dir(home: Path) -> Path:
    return home / "superset"


def _config_path(home: Path) -> Path:
    return _superset_dir(home) / "superset_config.py"


def _secrets_dir(home: Path) -> Path:
    return home / "secrets"


def credentials_path(home: Path) -> Path:
    return _secrets_dir(home) / "superset-admin.json"


def _pid_path(home: Path) -> Path:
    return home / "run" / "superset.pid"


def _setup_log(home: Path) -> Path:
    return home / "logs" / "superset-setup.log"


def _server_log(home: Path) -> Path:
    return home / "logs" / "superset.log"


def _venv_record(home: Path) -> Path:
    """Which dashboards environment the set-up used, so `start` needs no repository path."""
    return _superset_dir(home) / "venv"


def _default_repo_root() -> Path:
    # src/outcome_monitor/stack/superset.py -> repository root (editable install)
    return Path(__file__).resolve().parents[3]


def _dashboards_venv(repo_root: Path | None = None) -> Path:
    configured = os.environ.get("OUTCOME_MONITOR_DASHBOARDS_VENV")
    if configured:
        return Path(configured).resolve()
    return ((repo_root or _default_repo_root()) / ".venv-dashboards").resolve()


def _venv_for(home: Path) -> Path:
    record = _venv_record(home)
    if record.exists():
        return Path(record.read_text().strip())
    return _dashboards_venv()


def _superset_version(venv: Path) -> str:
    found = sorted(venv.glob("lib/python*/site-packages/apache_superset-*.dist-info"))
    return found[0].name.removeprefix("apache_superset-").removesuffix(".dist-info") if found else "unknown"


def _subprocess_env(home: Path, venv: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SUPERSET_CONFIG_PATH": str(_config_path(home)),
            "SUPERSET_HOME": str(_superset_dir(home)),  # nothing under ~/.superset
            "FLASK_APP": "superset",
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("PYTHONPATH", None)  # the pipeline environment's packages must not leak in
    return env


# --------------------------------------------------------------------------------------------
# secrets


def _write_private(path: Path, text: str) -> None:
    """Create `path` with mode 0600 (never readable by others, not even for an instant)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _secret_key(home: Path) -> None:
    path = _secrets_dir(home) / "superset-secret-key"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48) + "\n")


def _admin_credentials(home: Path) -> tuple[dict[str, str], bool]:
    """The admin's credentials, generated on first use; (credentials, newly_generated)."""
    path = credentials_path(home)
    if path.exists():
        return json.loads(path.read_text()), False
    credentials = {"username": ADMIN_USERNAME, "password": secrets.token_urlsafe(18)}
    _write_private(path, json.dumps(credentials, indent=2) + "\n")
    return credentials, True


def _user_exists(home: Path, username: str) -> bool:
    """Whether Superset's metadata database already has `username` (FAB's ab_user table)."""
    server_db = os.environ.get(DB_URL_VARIABLE)
    if server_db:
        return _user_exists_on_server(server_db, username)
    db_file = _superset_dir(home) / "superset.db"
    if not db_file.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as con:
            row = con.execute("select 1 from ab_user where username = ?", (username,)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def _user_exists_on_server(url: str, username: str) -> bool:
    """The same question of a server database (PostgreSQL in production), through SQLAlchemy."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as con:
            query = sqlalchemy.text("select 1 from ab_user where username = :username")
            row = con.execute(query, {"username": username}).fetchone()
    except sqlalchemy.exc.SQLAlchemyError:
        return False  # not migrated yet: no ab_user table
    finally:
        engine.dispose()
    return row is not None


# --------------------------------------------------------------------------------------------
# the import bundle


def build_bundle(dashboards_dir: Path, warehouse: Path, target: Path) -> Path:
    """Zip `dashboards_dir` as a Superset import bundle pointing at `warehouse`.

    The database YAML in the repository holds a placeholder URI; here it becomes
    ``duckdb:///<absolute warehouse path>`` and its connect_args are forced to read-only without
    external access, whatever the YAML says.
    """
    files = sorted(p for p in dashboards_dir.rglob("*") if p.suffix in {".yaml", ".yml"})
    if not any(p.relative_to(dashboards_dir).as_posix() == "metadata.yaml" for p in files):
        raise SupersetError(f"{dashboards_dir} has no metadata.yaml: not a Superset export folder")
    databases = [p for p in files if p.relative_to(dashboards_dir).parts[0] == "databases"]
    if len(databases) != 1:
        raise SupersetError(f"expected one database YAML under {dashboards_dir / 'databases'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            relative = path.relative_to(dashboards_dir).as_posix()
            text = path.read_text(encoding="utf-8")
            if path in databases:
                database = yaml.safe_load(text)
                database["sqlalchemy_uri"] = f"duckdb:///{warehouse.resolve()}"
                database["allow_dml"] = False
                database["expose_in_sqllab"] = False
                engine_params = database.setdefault("extra", {}).setdefault("engine_params", {})
                engine_params["connect_args"] = json.loads(json.dumps(READ_ONLY_CONNECT_ARGS))
                text = yaml.safe_dump(database, sort_keys=False, allow_unicode=True)
            bundle.writestr(f"outcome_monitor/{relative}", text)
    os.replace(tmp, target)
    return target


# --------------------------------------------------------------------------------------------
# set-up


class _StepRunner:
    """Runs set-up steps in the dashboards environment, logging each to the set-up log."""

    def __init__(self, home: Path, venv: Path) -> None:
        self.home = home
        self.venv = venv
        self.env = _subprocess_env(home, venv)
        self.log_path = _setup_log(home)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)

    def note(self, message: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {message}\n")

    def run(
        self,
        step: str,
        args: list[str],
        extra_env: dict[str, str] | None = None,
        timeout: float = 600,
        shown: str | None = None,
    ) -> str:
        """Run one step; on failure raise an error naming the step and the log."""
        started = time.monotonic()
        self.note(f"== {step}: {shown or ' '.join(args)}")
        env = {**self.env, **(extra_env or {})}
        try:
            result = subprocess.run(
                args,
                env=env,
                cwd=_superset_dir(self.home),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.note(f"!! {step} failed: {exc}")
            raise SupersetError(f"Superset set-up step '{step}' failed ({exc}); see {self.log_path}") from exc
        output = (result.stdout or "") + (result.stderr or "")
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(output if output.endswith("\n") or not output else output + "\n")
        elapsed = time.monotonic() - started
        if result.returncode != 0:
            self.note(f"!! {step} failed with exit code {result.returncode} after {elapsed:.1f} s")
            raise SupersetError(
                f"Superset set-up step '{step}' failed (exit code {result.returncode}); see {self.log_path}"
            )
        self.note(f"ok {step} ({elapsed:.1f} s)")
        return output

    def superset(self, step: str, *args: str, extra_env: dict[str, str] | None = None) -> str:
        return self.run(step, [str(self.venv / "bin" / "superset"), *args], extra_env=extra_env)


def setup(
    home: Path,
    warehouse: Path | None = None,
    repo_root: Path | None = None,
    port: int = DEFAULT_PORT,
    provider_agbs: Iterable[str] = (),
    demo_users: bool = False,
) -> dict[str, str]:
    """Prepare Superset under `home` and import the dashboards; safe to run again.

    Returns ``{"url", "username", "password"}``. A re-run keeps the secret key, the admin and
    its password, and re-imports the assets by UUID (updated in place, never duplicated).
    Roles and row-level security follow (stack.superset_security): a provider role for each of
    `provider_agbs` and each provider in the warehouse; with `demo_users`, a user per role whose
    generated password is kept in ``secrets/demo-users.json``.
    """
    home = Path(home).resolve()
    repo_root = Path(repo_root).resolve() if repo_root else _default_repo_root()
    warehouse = Path(warehouse).resolve() if warehouse else home / "published" / "warehouse.duckdb"
    venv = _dashboards_venv(repo_root)

    for folder in (_superset_dir(home), home / "logs", home / "run"):
        folder.mkdir(parents=True, exist_ok=True)
    runner = _StepRunner(home, venv)
    runner.note(f"== set-up of {home} (warehouse {warehouse}, environment {venv})")
    if not (venv / "bin" / "superset").exists():
        runner.note(f"!! no superset in {venv / 'bin'}")
        raise SupersetError(
            f"Superset set-up step 'environment' failed: {venv / 'bin' / 'superset'} not found "
            f"(install the dashboards environment); see {runner.log_path}"
        )
    if not warehouse.exists():
        runner.note(f"!! warehouse {warehouse} does not exist")
        raise SupersetError(
            f"Superset set-up step 'warehouse' failed: {warehouse} does not exist (publish it first); "
            f"see {runner.log_path}"
        )

    _secret_key(home)
    shutil.copyfile(_CONFIG_TEMPLATE, _config_path(home))
    for module in _CONFIG_MODULES:
        shutil.copyfile(module, _superset_dir(home) / module.name)
    _venv_record(home).write_text(f"{venv}\n")
    runner.note("ok config and secret key")

    credentials, generated = _admin_credentials(home)
    username = credentials["username"]
    stamp = {
        "superset": _superset_version(venv),
        "config_sha256": hashlib.sha256(_CONFIG_TEMPLATE.read_bytes()).hexdigest(),
        "admin": username,
    }
    stamp_path = _superset_dir(home) / "setup-stamp.json"
    up_to_date = stamp_path.exists() and json.loads(stamp_path.read_text()) == stamp and _user_exists(home, username)
    if up_to_date:
        # Each superset command costs 15-30 s of start-up; with the same Superset version and
        # configuration, `db upgrade` and `init` have nothing to do (delete the stamp to force them).
        runner.note(f"ok metadata database up to date ({stamp_path.name}): db upgrade and init skipped")
    else:
        stamp_path.unlink(missing_ok=True)
        runner.superset("db upgrade", "db", "upgrade")

    if not _user_exists(home, username):
        # The password goes through the environment, never on a command line or into the log.
        runner.superset(
            "create admin",
            "fab",
            "create-admin",
            "--username",
            username,
            "--firstname",
            "Beheerder",
            "--lastname",
            "Uitkomstenmonitor",
            "--email",
            f"{username}@uitkomstenmonitor.invalid",
            extra_env={"FLASK_FAB_CREATE_ADMIN_PASSWORD": credentials["password"]},
        )
        if not _user_exists(home, username):
            raise SupersetError(f"Superset set-up step 'create admin' created no user; see {runner.log_path}")
    elif generated:
        # The credentials file was lost but the user kept: give the user the new password.
        runner.superset(
            "reset admin password",
            "fab",
            "reset-password",
            "--username",
            username,
            extra_env={"FLASK_FAB_RESET_PASSWORD_PASSWORD": credentials["password"]},
        )
    else:
        runner.note(f"ok admin {username} exists")

    if not up_to_date:
        runner.superset("init", "init")
        stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")

    bundle = build_bundle(repo_root / "dashboards", warehouse, _superset_dir(home) / "bundle.zip")
    runner.note(f"ok bundle {bundle}")
    runner.run(
        "import dashboards",
        [str(venv / "bin" / "python"), "-c", _IMPORT_SCRIPT, str(bundle), username],
        shown=f"python -c <import script of {__name__}> {bundle} {username}",
    )
    superset_security.apply(runner, venv, home, warehouse, provider_agbs, with_demo_users=demo_users)
    runner.note("== set-up done")
    return {
        "url": f"http://127.0.0.1:{port}",
        "username": credentials["username"],
        "password": credentials["password"],
    }


# --------------------------------------------------------------------------------------------
# server lifecycle


def _read_pid(home: Path) -> int | None:
    try:
        return int(_pid_path(home).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_our_server(pid: int) -> bool:
    """True if `pid` is alive and is a gunicorn serving Superset (guards against pid reuse)."""
    with contextlib.suppress(ChildProcessError, OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that exited: reap it
            return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return "gunicorn" in cmdline and "superset" in cmdline


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(home: Path, port: int = DEFAULT_PORT, timeout: float = HEALTH_TIMEOUT_S) -> int:
    """Start gunicorn with Superset on 127.0.0.1:`port`, detached; wait for /health; return the pid.

    If this home's server is already running, its pid is returned.
    """
    home = Path(home).resolve()
    url = f"http://127.0.0.1:{port}"
    pid = _read_pid(home)
    if pid is not None and _is_our_server(pid):
        if _healthy(url):
            return pid
        raise SupersetError(
            f"Superset (pid {pid}) is running but {url}/health does not answer; see {_server_log(home)}"
        )
    if not _config_path(home).exists():
        raise SupersetError(f"{_config_path(home)} not found: run the Superset set-up first")
    if _port_in_use(port):
        raise SupersetError(f"port {port} on 127.0.0.1 is already in use")

    venv = _venv_for(home)
    log_path = _server_log(home)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _pid_path(home).parent.mkdir(parents=True, exist_ok=True)
    args = [
        str(venv / "bin" / "gunicorn"),
        "-w",
        "1",
        "--threads",
        "4",
        "--timeout",
        "120",
        "-b",
        f"127.0.0.1:{port}",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "superset.app:create_app()",
    ]
    with log_path.open("ab") as log:
        log.write(f"\n== {datetime.now(UTC).isoformat(timespec='seconds')} start: {' '.join(args)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            args,
            env=_subprocess_env(home, venv),
            cwd=_superset_dir(home),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() ends gunicorn and its worker
        )
    _pid_path(home).write_text(f"{process.pid}\n")

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _pid_path(home).unlink(missing_ok=True)
            raise SupersetError(f"Superset exited during start (exit code {process.returncode}); see {log_path}")
        if _healthy(url):
            return process.pid
        time.sleep(0.5)
    stop(home)
    raise SupersetError(f"Superset did not answer {url}/health within {timeout:.0f} s; see {log_path}")


def stop(home: Path) -> None:
    """Stop this home's Superset (the whole process group) and remove the pid file."""
    home = Path(home).resolve()
    pid = _read_pid(home)
    if pid is None:
        return
    if _is_our_server(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and _is_our_server(pid):
            time.sleep(0.2)
        if _is_our_server(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    _pid_path(home).unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# command line: `outcome-monitor superset setup|start|stop`


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="outcome-monitor superset", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("setup", "create the metadata database and the admin, import the dashboards"),
        ("start", "start the web server in the background and wait until it answers"),
        ("stop", "stop the web server"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--home", type=Path, default=None, help="default: $OUTCOME_MONITOR_HOME or ./data")
        if name == "setup":
            command.add_argument(
                "--warehouse", type=Path, default=None, help="default: <home>/published/warehouse.duckdb"
            )
        if name in ("setup", "start"):
            command.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    home = (args.home or config.home()).resolve()
    try:
        if args.command == "setup":
            result = setup(home, args.warehouse, port=args.port)
            print(f"Superset is set up: {result['url']}/superset/dashboard/{DASHBOARD_SLUG}/")
            print(f"user {result['username']}; password in {credentials_path(home)}")
        elif args.command == "start":
            pid = start(home, args.port)
            print(f"Superset runs at http://127.0.0.1:{args.port} (pid {pid}); log {_server_log(home)}")
        else:
            stop(home)
            print("Superset stopped")
    except SupersetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

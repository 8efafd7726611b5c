"""docker-compose.yml, proven without a Docker engine.

The file is validated against the Compose specification's JSON schema (vendored in docker/, see
docker/README.md for its origin), and everything it names is looked up: build contexts, Dockerfiles
and what they copy, bind-mounted files, commands and their sub-commands (parsed by the real
Airflow, outcome-monitor and set-up parsers of the environments the images are built from), named
volumes, health checks behind `service_healthy`, and every ${VARIABLE} against .env.example.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from outcome_monitor.config import Paths
from outcome_monitor.stack import airflow, superset

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SCHEMA_FILE = REPO_ROOT / "docker" / "compose-spec.schema.json"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
VENVS = {
    "outcome-monitor/pipeline": REPO_ROOT / ".venv-pipeline",
    "outcome-monitor/dashboards": REPO_ROOT / ".venv-dashboards",
}
# Read by the docker compose command itself, not by the file.
COMPOSE_CLI_VARIABLES = {"COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME"}
# ${NAME}, ${NAME:-default}, ${NAME:?message}; $${NAME} is a literal $ for the container's shell.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example line {number}: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def references() -> list[tuple[str, str, str]]:
    """(name, operator, argument) of every ${...} in the compose file."""
    return VARIABLE.findall(COMPOSE_FILE.read_text(encoding="utf-8"))


def image_of(service: dict) -> str:
    return service["image"].split(":")[0]


def command_lines(service: dict) -> list[list[str]]:
    """The service's command and its health check, each as argv ($$ unescaped, $HOSTNAME filled in)."""
    lines = []
    if "command" in service or "entrypoint" in service:
        argv = []
        for key in ("entrypoint", "command"):
            part = service.get(key, [])
            argv += shlex.split(part) if isinstance(part, str) else list(part)
        lines.append(argv)
    test = service.get("healthcheck", {}).get("test")
    if test and test[0] == "CMD":
        lines.append(list(test[1:]))
    elif test and test[0] == "CMD-SHELL":
        lines.append(shlex.split(test[1].replace("$${HOSTNAME}", "worker-1")))
    return lines


def calls_of(compose: dict, program: str) -> list[tuple[str, list[str]]]:
    """Every invocation of `program` in commands and health checks (also inside `sh -c` scripts)."""
    found = []
    for name, service in compose["services"].items():
        for argv in command_lines(service):
            if argv[:2] == ["sh", "-c"]:
                for part in re.split(r"\|\||&&|;", argv[2]):
                    words = shlex.split(part)
                    if words and words[0] == program:
                        found.append((name, words))
            elif argv[0] == program:
                found.append((name, argv))
    return found


# ------------------------------------------------------------------------------------------- schema


def test_the_vendored_schema_is_the_compose_specification():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["title"] == "Compose Specification"
    assert {"service", "volume", "network", "healthcheck"} <= set(schema["definitions"])


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_specification(compose):
    assert schema_errors(compose) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda c: c["services"]["postgres"].update(helthcheck={}),  # a typo
        lambda c: c["services"]["superset"]["depends_on"]["postgres"].update(condition="service_ready"),
        lambda c: c["services"]["redis"].update(depends_on="postgres"),
        lambda c: c.update(volume={}),
    ],
    ids=["unknown key", "unknown condition", "depends_on as a string", "top-level typo"],
)
def test_the_schema_check_rejects_a_broken_file(compose, break_it):
    broken = copy.deepcopy(compose)
    break_it(broken)
    assert schema_errors(broken)


# ------------------------------------------------------------------------------------------- images


def dockerfiles(compose: dict) -> dict[str, Path]:
    found = {}
    for name, service in compose["services"].items():
        if "build" in service:
            context = REPO_ROOT / service["build"]["context"]
            assert context.is_dir(), f"service {name}: build context {context} does not exist"
            found[image_of(service)] = context / service["build"]["dockerfile"]
    return found


def test_every_built_image_has_its_dockerfile_and_copies_only_what_exists(compose):
    built = dockerfiles(compose)
    assert set(built) == set(VENVS), "one image per locked environment"
    for image, dockerfile in built.items():
        assert dockerfile.is_file(), f"{image}: {dockerfile} does not exist"
        ignore = dockerfile.with_name(dockerfile.name + ".dockerignore").read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(dockerfile.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("COPY "):
                *sources, _ = line.split()[1:]
                for source in sources:
                    assert (REPO_ROOT / source).exists(), f"{dockerfile.name} line {number}: {source} does not exist"
                    top = source.split("/")[0]
                    assert {f"!{source}", f"!{top}", f"!{top}/"} & set(ignore), (
                        f"{dockerfile.name} line {number}: {source} is excluded by its .dockerignore"
                    )


def test_images_install_only_from_the_locks_with_the_makefiles_uv(compose):
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1)
    for image, dockerfile in dockerfiles(compose).items():
        text = dockerfile.read_text(encoding="utf-8")
        lock = f"locks/{image.split('/')[1]}.txt"
        assert f"COPY {lock} " in text and "uv pip sync /tmp/" in text, f"{dockerfile.name} must sync {lock}"
        assert f"ARG UV_VERSION={uv_version}" in text, f"{dockerfile.name}: uv must be {uv_version} as in Makefile"
        installs = re.findall(r"(?:pip|uv pip) install [^&\n\\]*", text)
        allowed = ("pip install --no-cache-dir uv==${UV_VERSION}", "uv pip install --no-deps --no-build-isolation -e .")
        assert [i for i in installs if i.strip() not in allowed] == [], f"{dockerfile.name} installs beside the lock"
        assert re.search(r"^USER 50000$", text, re.M), f"{dockerfile.name} must not run as root"


def test_external_images_are_pinned(compose):
    for name, service in compose["services"].items():
        if "build" not in service:
            tag = service["image"].partition(":")[2]
            assert re.match(r"\d+(\.\d+)*-\w+$", tag), f"service {name}: pin a version and a base, not {tag!r}"


# ------------------------------------------------------------------------------------------- files, volumes


def test_every_bind_mounted_file_exists(compose):
    # A source from a variable (the backup folder) is the operator's, documented in .env.example.
    mounts = [(n, v) for n, s in compose["services"].items() for v in s.get("volumes", []) if v.startswith(".")]
    assert mounts, "the PostgreSQL init script is bind-mounted"
    for name, volume in mounts:
        source = REPO_ROOT / volume.split(":")[0]
        assert source.exists(), f"service {name}: {source} does not exist"
        if source.suffix == ".sh":
            assert os.access(source, os.X_OK), f"{source} must be executable (the postgres image runs it)"


def test_named_volumes_are_declared_and_used(compose):
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/", "$"))
    }
    assert used == set(compose["volumes"])
    assert {"outcome-raw", "outcome-archive", "outcome-published", "outcome-year-end", "outcome-exports"} <= used


def test_superset_sees_only_the_published_files_read_only(compose):
    for name in ("superset", "superset-init"):
        mounts = compose["services"][name]["volumes"]
        assert not [m for m in mounts if m.split(":")[0] in {"outcome-home", "outcome-raw", "outcome-archive"}]
        assert "outcome-published:/srv/outcome-monitor/published:ro" in mounts
        assert "outcome-exports:/srv/outcome-monitor/exports:ro" in mounts
        assert not [m for m in mounts if m.split(":")[0] == "outcome-year-end"]  # it reads the overlaid warehouse


def test_the_year_end_state_is_on_its_own_backed_up_volume(compose):
    """Snapshots and the audit log live in Paths.home/year_end (YearEndLayout): that is what is mounted."""
    from outcome_monitor.year_end.layout import YearEndLayout

    home = compose["x-airflow-environment"]["OUTCOME_MONITOR_HOME"]
    mount = f"outcome-year-end:{YearEndLayout.of(Paths(Path(home))).root}"
    for name in ("airflow-scheduler", "airflow-worker", "airflow-api-server", "backup"):
        assert mount in compose["services"][name]["volumes"], name
    backed_up = (REPO_ROOT / "docker" / "backup.sh").read_text()
    assert "parts=(raw archive year_end exports feedback uploads)" in backed_up


def test_the_package_store_is_written_by_airflow_and_read_by_superset_at_the_same_place(compose):
    """The pipeline writes Paths.exports under its home; superset_config.py reads <home>/exports."""
    home = compose["x-airflow-environment"]["OUTCOME_MONITOR_HOME"]
    store = f"outcome-exports:{Paths(Path(home)).exports}"
    for name in ("airflow-scheduler", "airflow-worker", "airflow-api-server"):
        assert store in compose["services"][name]["volumes"], name
    assert compose["services"]["superset"]["environment"]["OUTCOME_MONITOR_HOME"] == home
    config = (REPO_ROOT / "src" / "outcome_monitor" / "stack" / "superset_config.py").read_text()
    assert 'create_blueprint(_HOME / "exports")' in config


def test_ports_are_published_on_the_loopback_only(compose):
    ports = [(n, p) for n, s in compose["services"].items() for p in s.get("ports", [])]
    assert ports
    assert [(n, p) for n, p in ports if not p.startswith("127.0.0.1:")] == []


# ------------------------------------------------------------------------------------------- start order


def test_start_order_conditions_can_be_met(compose):
    services = compose["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"service {name} depends on unknown service {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy: no healthcheck"
            if rule["condition"] == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{name} waits for one-shot {target}: restart it never"
            assert set(services[target].get("profiles", [])) <= set(service.get("profiles", [])), (
                f"{name} depends on {target}, which only runs under a profile"
            )


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if service.get("restart") != "no":
            assert "healthcheck" in service, f"service {name} has no healthcheck"


def test_the_celery_profile_adds_workers_on_the_redis_broker(compose):
    workers = [n for n, s in compose["services"].items() if "celery" in s.get("profiles", [])]
    assert workers and all(compose["services"][w]["command"][:3] == ["airflow", "celery", "worker"] for w in workers)
    environment = compose["x-airflow-environment"]
    assert environment["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "${AIRFLOW_EXECUTOR:-" in COMPOSE_FILE.read_text(), "the executor is switched from .env"


# ------------------------------------------------------------------------------------------- commands


def test_every_program_exists_in_the_environment_its_image_is_built_from(compose):
    built = dockerfiles(compose)
    for name, service in compose["services"].items():
        venv = VENVS.get(image_of(service))
        if venv is None:
            continue  # postgres and redis: their own images
        # Programs the Dockerfile copies from the repository onto the PATH (/usr/local/bin).
        copied = dict(
            (Path(target).name, source)
            for source, target in re.findall(
                r"^COPY (\S+) /usr/local/bin/(\S+)$", built[image_of(service)].read_text(), re.M
            )
        )
        for argv in command_lines(service):
            program = argv[0]
            if program == "sh":
                continue
            if program in copied:
                assert os.access(REPO_ROOT / copied[program], os.X_OK), (
                    f"service {name}: {copied[program]} not executable"
                )
                continue
            assert (venv / "bin" / program).exists(), f"service {name}: {program} not in {venv.name}/bin"


def test_every_python_module_named_exists(compose):
    for name, service in compose["services"].items():
        venv = VENVS.get(image_of(service))
        for argv in command_lines(service) if venv else []:
            for flag in ("-m", "--app"):
                if flag in argv:
                    module = argv[argv.index(flag) + 1].removesuffix(".app").replace(".", "/")
                    places = [REPO_ROOT / "src", *venv.glob("lib/python3.11/site-packages")]
                    assert any((p / f"{module}.py").exists() for p in places), f"service {name}: no module {module}"
            if argv[0] == "gunicorn":
                module = argv[-1].partition(":")[0].replace(".", "/")
                assert list(venv.glob(f"lib/python3.11/site-packages/{module}.py")), f"service {name}: no {module}"


def test_every_airflow_command_parses_with_airflows_own_parser(compose, tmp_path):
    """All of them at once in one interpreter (Airflow imports cost seconds); Celery commands need its executor."""
    calls = calls_of(compose, "airflow")
    assert {argv[1] for _, argv in calls} >= {"db", "api-server", "scheduler", "dag-processor", "triggerer", "celery"}
    script = (
        "import json, sys\n"
        "from airflow.cli.cli_parser import get_parser\n"
        "failed = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        get_parser().parse_args(argv)\n"
        "    except SystemExit:\n"
        "        failed.append(argv)\n"
        "print(json.dumps(failed))\n"
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
    }
    result = subprocess.run(
        [
            str(VENVS["outcome-monitor/pipeline"] / "bin" / "python"),
            "-c",
            script,
            json.dumps([a[1:] for _, a in calls]),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1]) == [], result.stderr[-2000:]


def test_every_outcome_monitor_command_exists_with_its_options(compose):
    calls = calls_of(compose, "outcome-monitor")
    assert {argv[1] for _, argv in calls} >= {"build", "serve"}
    for name, argv in calls:
        result = subprocess.run(
            [str(VENVS["outcome-monitor/pipeline"] / "bin" / "outcome-monitor"), argv[1], "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"service {name}: `outcome-monitor {argv[1]}` does not exist: {result.stderr}"
        for option in (word for word in argv[2:] if word.startswith("--")):
            assert option in result.stdout, f"service {name}: `outcome-monitor {argv[1]}` has no {option}"


def test_superset_setup_runs_in_the_dashboards_environment_as_in_its_image(compose):
    """The dashboards image has the package's source on PYTHONPATH only, not installed with its dependencies."""
    argv = compose["services"]["superset-init"]["command"]
    assert argv[:3] == ["python", "-m", "outcome_monitor.stack.superset"]
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile.dashboards").read_text()
    assert "PYTHONPATH=/opt/outcome-monitor/src" in dockerfile and "COPY src ./src" in dockerfile
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"PYTHONPATH": str(REPO_ROOT / "src")}
    result = subprocess.run(
        [str(VENVS["outcome-monitor/dashboards"] / "bin" / "python"), *argv[1:3], argv[3], "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert all(option in result.stdout for option in argv[4:] if option.startswith("--"))


# ------------------------------------------------------------------------------------------- variables


def test_every_variable_is_documented_in_env_example(env_example):
    missing = sorted({name for name, _, _ in references()} - set(env_example))
    assert missing == [], f"used in docker-compose.yml, missing from .env.example: {missing}"


def test_every_env_example_variable_is_used(env_example):
    unused = sorted(set(env_example) - {name for name, _, _ in references()} - COMPOSE_CLI_VARIABLES)
    assert unused == [], f"in .env.example, not used by docker-compose.yml: {unused}"


def test_no_variable_has_a_usable_default_secret(env_example):
    assert {name: value for name, value in env_example.items() if value} == {}
    secrets_used = {name for name, _, _ in references() if SECRET_NAME.search(name)}
    required = {name for name, operator, _ in references() if operator == ":?"}
    assert secrets_used and secrets_used <= required, f"secrets compose would start without: {secrets_used - required}"
    for name, operator, _ in references():
        assert not (SECRET_NAME.search(name) and operator == ":-"), f"{name} has a default"


def test_env_file_is_never_committed():
    result = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO_ROOT, capture_output=True)
    if result.returncode == 128:
        pytest.skip("not a git work tree")
    assert result.returncode == 0, ".env must be in .gitignore"


def test_airflow_settings_mirror_the_one_machine_stack(compose, tmp_path, monkeypatch):
    """Every Airflow setting `make demo` uses is made in production too, except where the container differs."""
    for name in [n for n in os.environ if n.startswith("AIRFLOW__")]:
        monkeypatch.delenv(name)  # only the stack's own settings, not this shell's
    local = airflow.environment(Paths(tmp_path), REPO_ROOT)
    host_specific = {"AIRFLOW__API__HOST", "AIRFLOW__API__PORT"}  # the api-server's --host/--port in compose
    expected = {k for k in local if k.startswith("AIRFLOW__")} - host_specific
    production = compose["x-airflow-environment"]
    assert sorted(expected - set(production)) == []
    assert production["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert production["AIRFLOW__CORE__EXECUTOR"].endswith("WarmLocalExecutor}")
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert compose["services"][name]["environment"] == production


def test_superset_gets_every_variable_its_config_reads(compose):
    config_text = (REPO_ROOT / "src" / "outcome_monitor" / "stack" / "superset_config.py").read_text()
    read = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"\)', config_text))
    assert superset.DB_URL_VARIABLE in read
    for name in ("superset", "superset-init"):
        environment = compose["services"][name]["environment"]
        assert sorted(read - set(environment)) == [], f"service {name}"
        assert environment[superset.DB_URL_VARIABLE].startswith("postgresql+psycopg2://superset:")


def test_the_variable_pattern_reads_compose_interpolation():
    text = "a ${A} b ${B:-x} c ${C:?say} d $${NOT} e ${D-y}"
    assert VARIABLE.findall(text) == [("A", "", ""), ("B", ":-", "x"), ("C", ":?", "say"), ("D", "-", "y")]

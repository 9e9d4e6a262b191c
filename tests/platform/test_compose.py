"""docker-compose.yml, checked without a Docker engine (none runs here).

What can be checked statically is: the file parses; every service the issue asks
for is there; every path it mounts or builds from exists; every container path the
Airflow settings name lies under a mount and exists in the checkout; every
`AIRFLOW__*` variable is a real Airflow option; every connection and `PCTN_*`
variable it sets is one the code reads; the hosts it names are its own services;
secrets come from `.env`, never from the file. What was not run: `docker compose
build/up` itself (see README, "Running it in Airflow 3").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
MOUNT = "/opt/pctn"
AIRFLOW_SERVICES = {
    "airflow-init": None,
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
FAKE_ENV = {
    "AIRFLOW_UID": "1000",
    "AIRFLOW_FERNET_KEY": "x",
    "AIRFLOW_API_SECRET_KEY": "x",
    "AIRFLOW_JWT_SECRET": "x",
    "AIRFLOW_DB_PASSWORD": "dbpw",
    "PCTN_WAREHOUSE_PASSWORD": "whpw",
    "PCTN_PSEUDONYM_KEY": "x",
}

_VAR = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${X}`, `${X:-default}`, `${X:?error}` (and `$$`) against `env`."""

    def sub(m: re.Match) -> str:
        name, op, arg = m.groups()
        value = env.get(name, "")
        if op == "-" and not value:
            return arg
        if op == "?" and not value:
            raise KeyError(f"{name}: {arg}")
        return value

    return _VAR.sub(sub, text).replace("$$", "$")


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(raw) -> dict:
    return raw["services"]


def _env(service: dict) -> dict[str, str]:
    return {k: interpolate(str(v), FAKE_ENV) for k, v in (service.get("environment") or {}).items()}


def test_every_component_is_there(services):
    assert set(AIRFLOW_SERVICES) | {"redis", "airflow-metadata", "warehouse"} == set(services)
    for name, command in AIRFLOW_SERVICES.items():
        svc = services[name]
        assert svc["image"] == "pctn-airflow:3.3.2"
        assert svc["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        if command:
            assert svc["command"] == command, name
    assert services["warehouse"]["image"].startswith("postgres:")
    assert services["airflow-metadata"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_image_is_built_from_the_pins():
    build = yaml.safe_load(COMPOSE.read_text())["services"]["airflow-apiserver"]["build"]
    dockerfile = REPO / build["context"] / build["dockerfile"]
    text = dockerfile.read_text()
    assert "FROM python:3.11" in text  # pyproject: requires-python 3.11
    for name in ("requirements.txt", "constraints.txt"):
        assert (REPO / build["context"] / name).exists()
        assert name in text
    assert "-r /tmp/pins/requirements.txt -c /tmp/pins/constraints.txt" in text
    assert "apache-airflow==3.3.2" in (REPO / "requirements.txt").read_text()


def test_mounted_paths_exist_and_airflow_paths_lie_under_them(services):
    svc = services["airflow-worker"]
    mounts = {}
    for volume in svc["volumes"]:
        host, container = interpolate(volume, FAKE_ENV).split(":")[:2]
        if host.startswith((".", "/")):
            assert (REPO / host).exists(), f"{host} (mounted at {container}) does not exist"
            mounts[container] = (REPO / host).resolve()
    assert mounts[MOUNT] == REPO
    env = _env(svc)
    for key in ("AIRFLOW__CORE__DAGS_FOLDER", "RETURNS_INBOX", "PYTHONPATH"):
        path = env[key]
        base = max((m for m in mounts if path == m or path.startswith(m + "/")), key=len)
        host_path = mounts[base] / os.path.relpath(path, base)
        assert host_path.exists(), f"{key}={path} -> {host_path} missing"
    assert (REPO / "dags" / "pctn_intake.py").exists() and (REPO / "ingestion" / "__init__.py").exists()
    for key in ("PCTN_OUTPUT_DIR", "PCTN_OUTBOX_DIR"):
        assert env[key].startswith(MOUNT + "/"), key


def test_hosts_are_services_of_the_file(services):
    env = _env(services["airflow-worker"])
    names = set(services)
    assert urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "airflow-metadata"
    assert urlparse(env["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+")).hostname == "airflow-metadata"
    assert urlparse(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    api = urlparse(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == "airflow-apiserver" and api.port == 8080 and api.path == "/execution/"
    warehouse = urlparse(env["AIRFLOW_CONN_WAREHOUSE"])
    assert warehouse.hostname == "warehouse" and warehouse.path == "/pctn"
    assert {"airflow-metadata", "redis", "airflow-apiserver", "warehouse"} <= names
    wh = services["warehouse"]["environment"]
    assert wh["POSTGRES_DB"] == "pctn" and wh["POSTGRES_USER"] == warehouse.username
    assert interpolate(wh["POSTGRES_PASSWORD"], FAKE_ENV) == warehouse.password
    meta = services["airflow-metadata"]["environment"]
    assert (
        interpolate(meta["POSTGRES_PASSWORD"], FAKE_ENV)
        == urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).password
    )


def test_secrets_come_from_env_file_only(services):
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|FERNET|PSEUDONYM_KEY", key) and not key.endswith("_FILE"):
                assert re.search(r"\$\{\w+:\?", str(value)), f"{name}.{key} must be required from .env"
    with pytest.raises(KeyError):  # without .env, compose refuses to start
        interpolate(str(services["warehouse"]["environment"]["POSTGRES_PASSWORD"]), {})
    example = (REPO / "docker" / "env.example").read_text()
    for var in FAKE_ENV:
        assert re.search(rf"^{var}=", example, re.M), f"docker/env.example lacks {var}"


def test_connections_and_variables_are_the_ones_the_code_reads(services):
    common = (REPO / "dags" / "_common.py").read_text(encoding="utf-8")
    used = dict(re.findall(r'^(\w+_CONN_ID|NOTIFY_VARIABLE) = "(\w+)"', common, re.M))
    env = services["airflow-worker"]["environment"]
    conn_ids = {k.removeprefix("AIRFLOW_CONN_").lower() for k in env if k.startswith("AIRFLOW_CONN_")}
    assert {used["WAREHOUSE_CONN_ID"], used["SMTP_CONN_ID"]} <= conn_ids
    code = "\n".join(p.read_text(encoding="utf-8") for p in [*REPO.glob("dags/*.py"), *REPO.glob("ingestion/**/*.py")])
    for conn_id in conn_ids:
        assert f'"{conn_id}"' in code, f"connection {conn_id} is set but no code uses it"
    assert f"AIRFLOW_VAR_{used['NOTIFY_VARIABLE'].upper()}" in env
    for key in env:
        if key.startswith(("PCTN_", "RETURNS_")):
            assert key in code, f"{key} is set but no code reads it"


def test_airflow_options_and_commands_exist(services):
    """Every AIRFLOW__SECTION__KEY is a known option; every command is an airflow subcommand."""
    env = _env(services["airflow-worker"])
    options = sorted({k for s in services.values() for k in (s.get("environment") or {}) if k.startswith("AIRFLOW__")})
    probe = r"""
import json, sys
import cosmos.settings, inspect
from airflow.configuration import conf
from airflow.cli.cli_parser import get_parser
options, commands = json.loads(sys.argv[1]), json.loads(sys.argv[2])
known = conf.configuration_description  # Airflow's and the installed providers' options
cosmos_src = inspect.getsource(cosmos.settings)  # cosmos reads its [cosmos] options there
def exists(section, key):
    if section == "cosmos":
        return f'"cosmos", "{key}"' in cosmos_src
    return key in known.get(section, {}).get("options", {})
bad = [o for o in options if not exists(*o.lower().split("__")[1:3])]
subs = get_parser()._subparsers._group_actions[0].choices
missing = []
for cmd in commands:
    words = cmd.split()
    group = subs.get(words[0])
    if group is None or (len(words) > 1 and words[1] not in group._subparsers._group_actions[0].choices):
        missing.append(cmd)
print(json.dumps({"bad_options": bad, "missing_commands": missing}))
"""
    commands = [c for c in AIRFLOW_SERVICES.values() if c] + ["db migrate", "jobs check"]
    with tempfile.TemporaryDirectory(prefix="pctn-compose-") as home:
        run_env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "false"}
        run_env["AIRFLOW__CORE__EXECUTOR"] = env["AIRFLOW__CORE__EXECUTOR"]
        proc = subprocess.run(
            [sys.executable, "-c", probe, json.dumps(options), json.dumps(commands)],
            env=run_env, capture_output=True, text=True,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"bad_options": [], "missing_commands": []}


def test_docker_compose_config_when_available():
    """`docker compose config` validates the file fully; the compose plugin is not installed here."""
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("docker compose is not installed on this machine: file checked statically only")
    proc = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        env={**os.environ, **FAKE_ENV}, capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

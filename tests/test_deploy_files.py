"""docker/ stays in step with the repository (no Docker engine runs here to build it)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_copies_only_what_exists_and_everything_the_package_needs() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    copied = [p for line in re.findall(r"^COPY (.+?) \S+$", dockerfile, re.M) for p in line.split()]
    assert all((ROOT / p).exists() for p in copied), copied
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    modules = re.search(r"py-modules = \[(.*?)\]", pyproject).group(1)
    for module in re.findall(r'"(\w+)"', modules):
        assert f"{module}.py" in copied
    for package in ("archive", "cleaners", "crawler", "demo", "sources"):
        assert package in copied


def test_compose_commands_exist_and_no_secret_is_committed() -> None:
    compose = (ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8")
    from click.testing import CliRunner

    from cli import main
    for command in re.findall(r'command: \["(\w[\w-]*)"', compose) + re.findall(r'"speech-archive", "(\w+)"', compose):
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0, command
    assert "POSTGRES_PASSWORD:?" in compose and not re.search(r"PASSWORD:\s*\w", compose)

"""Shared fixtures: the sample site on a real local HTTP server, real SQLite and PostgreSQL archives."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from archive.storage.db import open_archive, sessions
from archive.storage.models import CrawlRun
from demo.server import DemoSite

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CHROMIUM = "/usr/bin/chromium"  # Debian's: a browser is never downloaded
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"]
SHOTS = ROOT / "artifacts" / "screenshots"
PG_SERVER = os.environ.get("SPEECH_ARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def demo_site() -> Iterator[DemoSite]:
    with DemoSite() as site:
        yield site


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
        engine.connect().close()
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: no server here
        return str(exc).splitlines()[0]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crawl_runs(db_url: str) -> list[CrawlRun]:
    """Every crawl run recorded in the archive, oldest first."""
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    engine.dispose()
    return runs


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL of a private, empty schema on the PostgreSQL server, dropped afterwards.

    Where no server answers the test is skipped with the reason — or fails, when the environment
    says PostgreSQL must be there (CI sets SPEECH_ARCHIVE_REQUIRE_PG)."""
    problem = _pg_available()
    if problem:
        if os.environ.get("SPEECH_ARCHIVE_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL is required here but unreachable: {problem}")
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_SERVER)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty archive URL: a SQLite file, or a private schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.sqlite3'}"
        return
    with pg_schema() as url:
        yield url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = open_archive(db_url)
    with sessions(engine)() as s:
        yield s
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium driven by Playwright; where it is missing the test is skipped, or fails when the
    environment says it must be there (CI sets SPEECH_ARCHIVE_REQUIRE_BROWSER)."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("SPEECH_ARCHIVE_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required here but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def cli() -> list[str]:
    """The installed console script (tests run it as a user would)."""
    exe = shutil.which("speech-archive", path=str(Path(sys.executable).parent)) or shutil.which("speech-archive")
    assert exe, "the speech-archive console script is not installed: pip install -e ."
    return [exe]


def run_cli(cli: list[str], *args: str, cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*cli, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


class _Receiver(BaseHTTPRequestHandler):
    """Records each JSON POST in the server's ``received`` list."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.server.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """A real local receiver set as the alert webhook; yields the list of what it received."""
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SPEECH_ARCHIVE_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    yield server.received
    server.shutdown()
    server.server_close()

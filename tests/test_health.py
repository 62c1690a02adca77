"""Run health: degraded runs are recognised against the source's history and alerted to a webhook and by e-mail."""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from archive.health import RunMetrics, alert, degraded_reasons
from tests.conftest import ROOT, free_port, run_cli

USUAL = RunMetrics(articles=10, archived=4, speeches=5, mean_chars=2400, flagged=0, requests=14, errors=0)


def test_a_usual_run_is_healthy() -> None:
    assert degraded_reasons(USUAL, [USUAL] * 5) == []
    quiet = RunMetrics(articles=10, archived=0, speeches=0, mean_chars=0, flagged=0, requests=14, errors=0)
    assert degraded_reasons(quiet, [USUAL] * 5) == []  # nothing new on the site is no fault


@pytest.mark.parametrize("run,needle", [
    (RunMetrics(10, 6, 0, 0, 0, 14, 0), "gave no speech"),
    (RunMetrics(2, 2, 2, 2300, 0, 6, 0), "only 2 article pages, usually 10"),
    (RunMetrics(10, 5, 5, 300, 0, 14, 0), "mean speech length 300"),
    (RunMetrics(10, 5, 5, 2400, 4, 14, 0), "4 of 5 speeches flagged"),
    (RunMetrics(3, 0, 0, 0, 0, 14, 9), "HTTP errors on 9 of 14"),
])
def test_what_makes_a_run_degraded(run: RunMetrics, needle: str) -> None:
    assert any(needle in r for r in degraded_reasons(run, [USUAL] * 5))


def test_a_crawl_that_leaves_a_source_without_speeches_is_degraded_whatever_its_history() -> None:
    nothing = RunMetrics(articles=0, archived=0, speeches=0, mean_chars=0, flagged=0, requests=13, errors=0)
    assert degraded_reasons(nothing, [], holds_speeches=False) == ["no speech archived: no article page found in 13 requests"]
    forbidden = RunMetrics(0, 0, 0, 0, 0, 2, 0, forbidden=11)
    assert degraded_reasons(forbidden, [], holds_speeches=False) == ["no speech archived: robots.txt forbade 11 of 13 requests"]
    assert degraded_reasons(nothing, [], holds_speeches=True) == []  # a first crawl has no history to compare
    filtered = RunMetrics(articles=4, archived=4, speeches=0, mean_chars=0, flagged=0, requests=6, errors=0)
    assert degraded_reasons(filtered, [], holds_speeches=False) == [
        "4 new pages gave no speech (all filtered as not speeches; layout change?)"]


def test_a_degraded_crawl_posts_to_the_webhook(tmp_path: Path, demo_site, cli, webhook: list[dict]) -> None:  # noqa: ANN001
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    demo = (ROOT / "sources" / "demo.toml").read_text(encoding="utf-8").replace(
        'base_url = "http://127.0.0.1:8765"', f'base_url = "{demo_site.url}"')
    good = tmp_path / "demo.toml"
    good.write_text(demo, encoding="utf-8")
    assert run_cli(cli, "--db", db, "crawl", str(good), timeout=180).returncode == 0
    assert webhook == []
    broken = tmp_path / "moved.toml"  # the site moved its lists: every start URL is now dead
    broken.write_text(demo.replace('"/', '"/gone/'), encoding="utf-8")
    run_cli(cli, "--db", db, "crawl", str(broken), timeout=180)
    [alert] = webhook
    assert alert["event"] == "run_degraded" and alert["source"] == "demo"
    assert any("HTTP errors" in r for r in alert["reasons"])
    runs = run_cli(cli, "--db", db, "runs").stdout
    assert " degraded " in runs and " finished " in runs


# ---- e-mail alerts, through a real SMTP server on 127.0.0.1 -------------------------------------

PAYLOAD = {"event": "run_degraded", "source": "gov", "run_id": 7, "reasons": ["gave no speech from 6 article pages"]}


class Mailbox:
    """aiosmtpd handler keeping what it was sent; logins checked against one account."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    @staticmethod
    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
        ok = (auth_data.login, auth_data.password) == (b"archivist", b"s3cret")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers a refusal with 535


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    def configure(port: int, **values: str) -> None:
        for name, value in {"smtp_host": "127.0.0.1", "smtp_port": str(port), "alert_email_to": "a@x.cn, b@x.cn",
                            **values}.items():
            monkeypatch.setenv(f"SPEECH_ARCHIVE_{name.upper()}", value)
    return configure


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # plain on loopback, for the test
def test_an_alert_email_is_sent_logged_in(smtp_env: Callable[..., None]) -> None:
    box = Mailbox()
    server = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=Mailbox.authenticate,
                        auth_require_tls=False, auth_required=True)
    server.start()
    try:
        smtp_env(server.port, smtp_user="archivist", smtp_password="s3cret")
        assert alert(PAYLOAD) == ["email"]
        smtp_env(server.port, smtp_user="archivist", smtp_password="wrong")
        assert alert(PAYLOAD) == []  # refused: logged, never raised into the crawl
    finally:
        server.stop()
    [message] = box.messages
    assert message["Subject"] == "speech-archive: run 7 of gov degraded" and message["To"] == "a@x.cn, b@x.cn"
    assert "gave no speech from 6 article pages" in message.get_content()


def test_an_alert_email_goes_over_starttls_and_checks_the_certificate(
        tmp_path: Path, smtp_env: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    box = Mailbox()
    server = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=tls, require_starttls=True,
                        authenticator=Mailbox.authenticate, auth_required=True)
    server.start()
    try:
        smtp_env(server.port, smtp_security="starttls", smtp_user="archivist", smtp_password="s3cret")
        assert alert(PAYLOAD) == []  # a certificate nobody vouches for is refused
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the trust store holds it
        assert alert(PAYLOAD) == ["email"]
        smtp_env(server.port, smtp_security="none")
        assert alert(PAYLOAD) == []  # the server insists on TLS before anything else
        smtp_env(server.port, smtp_security="tls")
        assert alert(PAYLOAD) == []  # not a mode: an error in the log, not in the crawl
    finally:
        server.stop()
    assert len(box.messages) == 1

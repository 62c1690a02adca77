"""Run health: degraded runs are recognised against the source's history and alerted to a webhook."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.health import RunMetrics, degraded_reasons
from tests.conftest import ROOT, run_cli

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

"""Memory and time under hostile pages: the fault site's crawl, and cleaning time per MB.

    python -m bench.memory

Prints the peak resident memory, time and requests of one crawl of ``tests/fault_site.py`` (the
ceiling is the setting ``memory_ceiling_mb``), then seconds per MB for cleaning pages that break
naive code: random characters, 20,000 links, 10,000 nested divs, tag-less GBK text.

Peak memory is the kernel's VmHWM of the measured process: ``getrusage``'s ru_maxrss survives
fork and exec on Linux, so a child started by a big benchmark process would report the parent's peak.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PEAK = re.compile(r"peak RSS (\d+(?:\.\d+)?) MB")


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def crawl_measured(db_url: str, source: Path, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    """``speech-archive crawl`` in a process that reports its own peak memory as it exits: the
    result, the seconds it took and the peak in MB."""
    code = ("import atexit, sys; from bench.memory import peak_rss_mb; "
            "atexit.register(lambda: print(f'peak RSS {peak_rss_mb():.0f} MB', file=sys.stderr)); "
            "import cli; sys.argv = ['speech-archive', *sys.argv[1:]]; cli.main()")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code, "--db", db_url, "crawl", str(source)], capture_output=True,
                            text=True, cwd=ROOT, timeout=600, env={**os.environ, **(env or {})})
    found = _PEAK.search(result.stderr)
    if not found:
        raise RuntimeError(f"the crawl reported no peak: {result.stderr[-2000:]}")
    return result, time.monotonic() - started, float(found.group(1))


def cleaning_seconds_per_mb() -> list[tuple[str, float, float]]:
    """(page, MB of HTML, seconds per MB) for pages that are hard on a cleaner."""
    from cleaners.pipeline import clean_page
    from tests.fault_site import _random_text
    from tests.sites import page, speech

    text = "\n".join(speech(0)[1])
    pages = {
        "random characters, 1.7M": page("资料", f"<p>{_random_text(1_700_000)}</p>"),
        "20,000 links": page("索引", " ".join(f"<a href='/x/{i}.html'>第{i}篇</a>" for i in range(20_000))),
        "10,000 nested divs": page("讲话", "<div>" * 10_000 + "".join(f"<p>{p}</p>" for p in text.split("\n"))),
        "tag-less text, 4 MB": page("讲话", (text.replace("\n", "") * 600)[:1_400_000]),
    }
    out = []
    for name, html in pages.items():
        started = time.perf_counter()
        clean_page([html], "http://bench.example/a.html")
        mb = len(html.encode()) / 1e6
        out.append((name, mb, (time.perf_counter() - started) / mb))
    return out


def main() -> None:
    from tests.fault_site import GOOD, FaultSite

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with FaultSite() as site, tempfile.TemporaryDirectory() as tmp:
        result, seconds, peak = crawl_measured(f"sqlite:///{tmp}/faults.sqlite3", site.source_file(Path(tmp)),
                                               {"SPEECH_ARCHIVE_DOWNLOAD_TIMEOUT": "1"})
        print(f"fault-site crawl: peak RSS {peak:.0f} MB (ceiling 400), {seconds:.1f} s, {len(site.requests)} requests, "
              f"exit {result.returncode}; {len(GOOD)} good speeches on the site")
    for name, mb, per_mb in cleaning_seconds_per_mb():
        print(f"clean {name:<26} {mb:5.1f} MB  {per_mb:6.2f} s/MB")


if __name__ == "__main__":
    main()

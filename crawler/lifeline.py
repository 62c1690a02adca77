"""A crawl that a scheduler or a worker started ends when its starter does, however that ends.

Without this, SIGKILL of the scheduler left its crawl running; a restarted scheduler then started
a second crawl of the same source beside it. The starter names itself in the child's environment;
the child asks Linux for SIGTERM when its parent goes (Scrapy then closes as on Ctrl-C: pages in
hand are archived, the run is recorded interrupted) and refuses to start if the parent is
already gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_ENV = "SPEECH_ARCHIVE_PARENT_PID"
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def child_env() -> dict[str, str]:
    """The environment for a crawl this process starts and must not outlive it."""
    return {**os.environ, PARENT_ENV: str(os.getpid())}


def die_with_parent() -> None:
    """In a crawl started with ``child_env``: end with the parent; exit at once if it is gone."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    signal_on_parent_death(signal.SIGTERM)
    if os.getppid() != int(parent):  # the parent went before the signal was asked for
        raise SystemExit(f"the process that started this crawl ({parent}) is gone; not crawling")


def signal_on_parent_death(sig: int) -> None:
    """Ask Linux to send ``sig`` to this process when its parent ends (elsewhere: nothing)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)


def name_process(name: str) -> None:
    """Show this process as ``name`` (15 characters at most) in ps and top (elsewhere: nothing)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, name.encode()[:15])

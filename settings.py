"""Settings for speech-archive: the application's own, then Scrapy's.

Every application setting is declared once in ``DECLARED`` with its default and one line of
help; ``get(name)`` reads it, letting an environment variable override the default. docs/settings.md
lists them all (a test keeps the two in step). The upper-case names further down are read by Scrapy
as its settings module (``SCRAPY_SETTINGS_MODULE=settings``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cleaners.pipeline import Limits

ROOT = Path(__file__).resolve().parent
_LIMITS = Limits()  # cleaning's own defaults, overridable here like every setting
VERSION = "0.1.0"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | int | float
    help: str

    @property
    def env(self) -> str:
        return "SPEECH_ARCHIVE_" + self.name.upper()


DECLARED: tuple[Setting, ...] = (
    Setting("db", "sqlite:///speech-archive.sqlite3",
            "Archive database URL: a SQLite file (the default) or postgresql+psycopg://user@host/db."),
    Setting("sources_dir", str(ROOT / "sources"),
            "Folder of source files (one TOML file per site) that `crawl NAME` looks in."),
    Setting("user_agent", f"speech-archive/{VERSION} (+https://github.com/speech-archive)",
            "User-Agent header sent on every request; it names the project so sites can reach us."),
    Setting("review_share", _LIMITS.review_share,
            "Share of a page's extracted text that cleaning may remove before the page is flagged for review."),
    Setting("max_speech_chars", _LIMITS.max_chars,
            "Longest text (characters) archived as a speech; a longer one is not a speech (a dump, a book) and is "
            "listed for review instead."),
    Setting("min_speech_chars", _LIMITS.min_chars,
            "Shortest text (characters) archived as a speech; shorter pieces of a split page are merged."),
    Setting("consensus_max_span", 80,
            "Longest span (characters) consensus cleaning removes from one copy of a speech when its other copies "
            "read straight through it."),
    Setting("dedup_containment", 0.55,
            "Share of the smaller text's sampled shingles another text must hold to join its duplicate group."),
    Setting("ingest_workers", 0,
            "Processes that clean pages during a crawl and a reclean (0: one per core). The archive is the same "
            "whatever the number; a crawl cleans its first 64 pages in the writing process alone, so small crawls never start a pool."),
    Setting("ingest_batch_pages", 100,
            "Pages committed in one transaction (fewer if ingest_batch_ms passes first); a crash loses at most the "
            "pages of the batch, which the next run fetches again, and a page committed before its speeches is "
            "cleaned on the next run."),
    Setting("ingest_batch_ms", 1000, "Longest time (milliseconds) cleaned pages wait before their batch is committed."),
    Setting("max_page_bytes", 8 * 1024 * 1024,
            "Largest response body fetched; bigger pages are dropped with a logged reason."),
    Setting("download_timeout", 30,
            "Seconds a request may take before it is given up (and retried): a stalled server costs no more."),
    Setting("memory_ceiling_mb", 400,
            "Resident memory (MB) a crawl may reach; past it the crawl stops and its run is recorded interrupted "
            "with the reason (a safety net: page, link and text limits keep a crawl well below it)."),
    Setting("depth_limit", 6,
            "Deepest link distance from a start URL the spider follows (bounds crawler traps)."),
    Setting("search_rank_window", 2000,
            "Matches ranked by relevance per search, newest first: fewer are ranked exactly, more are ranked "
            "among their newest this many (date order, counts and exports always cover all)."),
    Setting("search_placeholders", 1,
            "1: anonymising placeholders (XX, ××, **, ＊＊, ○○, the -- of 20--年) match each other in search and "
            "concordance; 0: each matches only itself. Run `speech-archive reindex` after changing it."),
    Setting("frontier", "local",
            "Where a crawl keeps its queue and seen-URL filter: local (in the crawling process) or redis (shared by "
            "every process crawling the same run, on any machine; see docs/deployment.md)."),
    Setting("redis_url", "redis://127.0.0.1:6379/0", "Redis server of the shared frontier (frontier = redis)."),
    Setting("frontier_capacity", 5_000_000,
            "URLs one shared crawl is sized for: its seen-URL filter takes 3.6 bytes per URL of capacity (18 MB "
            "at the default), fixed, however many URLs it then sees."),
    Setting("frontier_error", 1e-6,
            "Chance that the shared seen-URL filter takes a new URL for a seen one (while under capacity)."),
    Setting("alert_webhook", "",
            "URL that receives a JSON POST when a crawl run is degraded (empty: no webhook)."),
    Setting("web_hosts", "",
            "Comma-separated host names the web UI answers besides 127.0.0.1 and localhost (any other Host header is "
            "refused: a page that rebinds its name to this machine must not read the archive)."),
    Setting("smtp_host", "", "SMTP server for degraded-run e-mails (empty: no e-mail)."),
    Setting("smtp_port", 25, "SMTP port (587 for starttls, 465 for ssl)."),
    Setting("smtp_security", "none",
            "How the SMTP connection is secured: none, starttls (upgrade after connecting) or ssl (TLS from the "
            "start); certificates are verified against the system's trust store."),
    Setting("smtp_user", "", "SMTP login (empty: send without logging in)."),
    Setting("smtp_password", "",
            "SMTP password: set it in the environment (SPEECH_ARCHIVE_SMTP_PASSWORD), never in a committed file."),
    Setting("alert_email_from", "speech-archive@localhost", "Sender of degraded-run e-mails."),
    Setting("alert_email_to", "", "Comma-separated recipients of degraded-run e-mails."),
)

_BY_NAME = {s.name: s for s in DECLARED}


def get(name: str) -> str | int | float:
    """Return a setting's value: the environment variable if set, else the declared default."""
    setting = _BY_NAME[name]
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    kind = type(setting.default)
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"{setting.env}={raw!r} is not a valid {kind.__name__}") from exc


# --- Scrapy settings -------------------------------------------------------------------------
BOT_NAME = "speech-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
USER_AGENT = str(get("user_agent"))
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = int(get("download_timeout"))
MEMUSAGE_ENABLED = False  # it reads ru_maxrss, which a child inherits from its parent: crawler.memory instead
MEMORY_CEILING_MB = int(get("memory_ceiling_mb"))
DOWNLOAD_MAXSIZE = int(get("max_page_bytes"))
DOWNLOAD_WARNSIZE = DOWNLOAD_MAXSIZE // 2
DEPTH_LIMIT = int(get("depth_limit"))
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
# Scrapy ≥ 2.19 starts, in every crawl, an HTTP server that runs Python code sent to it (for its MCP
# server) and writes its token under the user's profile: no place for it in an unattended crawler.
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {"crawler.progress.Progress": 500, "crawler.memory.MemoryCeiling": 510}
# Scrapy checks each response's callback for a generator that returns a value, by reading its source
# and parsing it; its cache holds the callback weakly, and a bound method dies with its request, so
# it parsed parse_article again for every page (2.4-4 ms of the reactor's CPU a page: 7.2-9.5 against
# 9.9-11.9 s per 1,000 pages with the check off and on). tests/test_crawler_units.py makes that
# check once, of every callback.
WARN_ON_GENERATOR_RETURN_VALUE = False
# A page gives one item (an article, all its parts) or requests to schedule, which take no time;
# Scrapy starts this many asyncio tasks for every response's output: 100 (its default) cost 0.63 ms
# of the reactor's CPU a response, 1 costs 0.03
CONCURRENT_ITEMS = 1
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

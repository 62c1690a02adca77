"""Source files: one TOML file per site under ``sources/``. Sites are data; adding one needs no code."""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlparse

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import settings
from cleaners import SiteRules

_KEYS = {"name", "site", "base_url", "start_urls", "sitemaps", "feeds", "allowed_domains", "list_patterns",
         "article_patterns", "deny_patterns", "encoding", "schedule", "max_pages", "selectors", "noise",
         "politeness", "sections", "revisit_days", "drop_params"}
_EVERY = re.compile(r"every\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_NAME = re.compile(r"^[\w.-]{1,100}$")


class SourceError(ValueError):
    """A source file is missing or malformed; the message says which field and why."""


@dataclass(frozen=True)
class Section:
    """Pages whose URL matches ``match`` use these rules instead of the source-wide ones."""

    match: re.Pattern[str]
    rules: SiteRules


@dataclass(frozen=True)
class Source:
    name: str
    path: Path
    base_url: str
    start_urls: tuple[str, ...]
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    list_patterns: tuple[re.Pattern[str], ...] = ()
    article_patterns: tuple[re.Pattern[str], ...] = ()
    deny_patterns: tuple[re.Pattern[str], ...] = ()
    encoding: str | None = None
    schedule: str | None = None
    max_pages: int = 10000
    revisit_days: float | None = None  # archived articles are fetched again after this many days; None: never
    drop_params: tuple[str, ...] = ()  # query parameters that name the visit on this site, not the page
    delay: float = 0.25
    concurrency: int = 4
    site: str | None = None
    rules: SiteRules = SiteRules()
    sections: tuple[Section, ...] = field(default=())
    raw: dict = field(default_factory=dict, compare=False)

    def rules_for(self, url: str) -> SiteRules:
        for section in self.sections:
            if section.match.search(url):
                return section.rules
        return self.rules

    def with_base_url(self, base_url: str) -> Source:
        """The same source served from another address (the demo's free port, a mirror)."""
        return parse_source({**self.raw, "base_url": base_url}, self.path)


def trigger_of(schedule: str) -> BaseTrigger:
    """A crontab line (UTC) or ``every N seconds|minutes|hours|days``; ValueError says what is wrong."""
    m = _EVERY.fullmatch(schedule.strip())
    if m:
        if int(m.group(1)) == 0:
            raise ValueError(f"schedule {schedule!r}: the interval must be more than 0")
        return IntervalTrigger(timezone="UTC", **{_UNITS[m.group(2)[0].lower()]: int(m.group(1))})
    try:
        return CronTrigger.from_crontab(schedule, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"schedule {schedule!r} is neither a crontab line ('0 3 * * *') nor 'every N minutes': "
                         f"{exc}") from exc


def _strings(data: dict, key: str, where: Path) -> list[str]:
    """A list of strings, or an error naming the file and the field."""
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourceError(f"{where}: {key}: expected a list of strings, got {value!r}")
    return value


def _text(data: dict, key: str, where: Path) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise SourceError(f"{where}: {key}: expected a string, got {value!r}")
    return value


def _table(data: dict, key: str, where: Path) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise SourceError(f"{where}: {key}: expected a table ([{key}]), got {value!r}")
    return value


def _checked(data: dict, where: Path) -> None:
    """The fields' types and values, each error naming the file and the field."""
    name = _text(data, "name", where)
    if not name or not _NAME.match(name):
        raise SourceError(f"{where}: name: expected letters, digits, '-', '_' or '.', got {name!r}")
    for key in ("start_urls", "sitemaps", "feeds", "allowed_domains", "drop_params"):
        _strings(data, key, where)
    for key in ("base_url", "site", "encoding", "schedule"):
        _text(data, key, where)
    if data.get("encoding"):
        try:
            codecs.lookup(data["encoding"])
        except LookupError as exc:
            raise SourceError(f"{where}: encoding: unknown charset {data['encoding']!r}") from exc
    if data.get("schedule"):
        try:
            trigger_of(data["schedule"])
        except ValueError as exc:
            raise SourceError(f"{where}: schedule: {exc}") from exc
    for key in ("politeness", "selectors", "noise"):
        _table(data, key, where)
    sections = data.get("sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, dict) and isinstance(s.get("match"), str) for s in sections):
        raise SourceError(f"{where}: sections: expected [[sections]] tables, each with a match regex")


def _patterns(data: dict, key: str, where: Path) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in _strings(data, key, where):
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise SourceError(f"{where}: {key}: bad regular expression {p!r}: {exc}") from exc
    return tuple(out)


def _rules(data: dict, where: Path) -> SiteRules:
    sel = data.get("selectors", {})
    noise = data.get("noise", {}).get("patterns", [])
    for n in noise:
        try:
            re.compile(n)
        except re.error as exc:
            raise SourceError(f"{where}: noise.patterns: bad regular expression {n!r}: {exc}") from exc
    return SiteRules(title_selector=sel.get("title"), body_selector=sel.get("body"), date_selector=sel.get("date"),
                     noise=tuple(noise))


def _number(where: Path, field: str, value: object, kind: type, least: float, unit: str = "") -> int | float:
    """A numeric field, or an error that names the file, the field and what it wanted."""
    wanted = "an integer" if kind is int else "a number"
    if isinstance(value, bool) or not isinstance(value, int if kind is int else int | float):
        raise SourceError(f"{where}: {field}: expected {wanted}{unit}, got {value!r}")
    if value < least:
        raise SourceError(f"{where}: {field}: expected {wanted}{unit} of {least:g} or more, got {value!r}")
    return kind(value)


def _revisit_days(data: dict, where: Path) -> float | None:
    value = data.get("revisit_days")
    return None if value is None else _number(where, "revisit_days", value, float, 0, " of days")


def parse_source(data: dict, path: Path) -> Source:
    unknown = set(data) - _KEYS
    if unknown:
        raise SourceError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("name", "start_urls"):
        if required not in data:
            raise SourceError(f"{path}: missing required field {required!r}")
    _checked(data, path)
    base = data.get("base_url", "")
    start = tuple(urljoin(base, u) for u in data["start_urls"])
    for url in start:
        if urlparse(url).scheme not in ("http", "https"):
            raise SourceError(f"{path}: start URL {url!r} is not absolute; give base_url or a full URL")
    domains = tuple(data.get("allowed_domains") or {urlparse(u).hostname for u in start})
    polite = data.get("politeness", {})
    sections = tuple(Section(_patterns({"sections.match": [s["match"]]}, "sections.match", path)[0], _rules(s, path))
                     for s in data.get("sections", []))
    return Source(name=data["name"], path=path, base_url=base, start_urls=start,
                  sitemaps=tuple(urljoin(base, u) for u in data.get("sitemaps", [])),
                  feeds=tuple(urljoin(base, u) for u in data.get("feeds", [])), allowed_domains=domains,
                  list_patterns=_patterns(data, "list_patterns", path),
                  article_patterns=_patterns(data, "article_patterns", path),
                  deny_patterns=_patterns(data, "deny_patterns", path), encoding=data.get("encoding"),
                  schedule=data.get("schedule"), max_pages=_number(path, "max_pages", data.get("max_pages", 10000), int, 1),
                  revisit_days=_revisit_days(data, path), drop_params=tuple(p.lower() for p in data.get("drop_params", [])),
                  delay=_number(path, "politeness.delay", polite.get("delay", 0.25), float, 0, " of seconds"),
                  concurrency=_number(path, "politeness.concurrency", polite.get("concurrency", 4), int, 1),
                  site=data.get("site"), rules=_rules(data, path), sections=sections, raw=data)


def load_source(name_or_path: str) -> Source:
    """A source by name (``sources/NAME.toml``) or by path to its file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = Path(str(settings.get("sources_dir"))) / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in Path(str(settings.get("sources_dir"))).glob("*.toml")))
        raise SourceError(f"no source file {path} (known sources: {known or 'none'})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: not valid TOML: {exc}") from exc
    return parse_source(data, path)

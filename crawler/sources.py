"""Source files: one TOML file per site under ``sources/``. Sites are data; adding one needs no code."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlparse

import settings
from cleaners import SiteRules

_KEYS = {"name", "site", "base_url", "start_urls", "sitemaps", "feeds", "allowed_domains", "list_patterns",
         "article_patterns", "deny_patterns", "encoding", "schedule", "max_pages", "selectors", "noise",
         "politeness", "sections", "revisit_days"}


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


def _patterns(data: dict, key: str, where: Path) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in data.get(key, []):
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
    base = data.get("base_url", "")
    start = tuple(urljoin(base, u) for u in data["start_urls"])
    for url in start:
        if urlparse(url).scheme not in ("http", "https"):
            raise SourceError(f"{path}: start URL {url!r} is not absolute; give base_url or a full URL")
    domains = tuple(data.get("allowed_domains") or {urlparse(u).hostname for u in start})
    polite = data.get("politeness", {})
    sections = tuple(Section(re.compile(s["match"]), _rules(s, path)) for s in data.get("sections", []))
    return Source(name=data["name"], path=path, base_url=base, start_urls=start,
                  sitemaps=tuple(urljoin(base, u) for u in data.get("sitemaps", [])),
                  feeds=tuple(urljoin(base, u) for u in data.get("feeds", [])), allowed_domains=domains,
                  list_patterns=_patterns(data, "list_patterns", path),
                  article_patterns=_patterns(data, "article_patterns", path),
                  deny_patterns=_patterns(data, "deny_patterns", path), encoding=data.get("encoding"),
                  schedule=data.get("schedule"), max_pages=_number(path, "max_pages", data.get("max_pages", 10000), int, 1),
                  revisit_days=_revisit_days(data, path),
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

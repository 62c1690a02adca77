"""Run health: is this crawl run degraded compared with the source's own history?

A site that changes its layout rarely fails loudly: the spider keeps fetching and quietly archives
nothing, or archives chrome. So each finished run is compared with the source's earlier finished
runs, and the reasons it looks wrong are recorded on the run and sent to the configured alerts.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import statistics
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

import settings
from archive.storage.models import CrawlRun, Source, Speech

log = logging.getLogger("speech-archive.health")
HISTORY = 10  # earlier runs the baseline is taken from


@dataclass(frozen=True)
class RunMetrics:
    articles: int  # article pages seen: archived now, or already archived (unchanged, not modified, not due)
    archived: int  # pages new or changed, archived now
    speeches: int  # speeches extracted from the pages archived now
    mean_chars: float  # mean length of those speeches
    flagged: int
    requests: int
    errors: int
    forbidden: int = 0  # requests robots.txt forbade



def degraded_reasons(run: RunMetrics, history: list[RunMetrics], holds_speeches: bool = True) -> list[str]:
    """Why ``run`` looks broken, judged against ``history`` (earlier healthy runs, newest first).
    ``holds_speeches``: whether the archive holds any speech of the source (after this run); a
    crawl that leaves it empty found nothing, which is a finding, never a success."""
    reasons = []
    if not holds_speeches and not run.archived:
        if run.forbidden:
            reasons.append(f"no speech archived: robots.txt forbade {run.forbidden} of {run.requests + run.forbidden} requests")
        else:
            reasons.append(f"no speech archived: no article page found in {run.requests} requests")
    if run.requests and run.errors / run.requests > 0.2:
        reasons.append(f"HTTP errors on {run.errors} of {run.requests} requests")
    if run.archived and not run.speeches:
        reasons.append(f"{run.archived} new pages gave no speech (all filtered as not speeches; layout change?)")
    if not history:
        return reasons
    seen = statistics.median(h.articles for h in history)
    if seen >= 3 and run.articles < 0.5 * seen:
        reasons.append(f"only {run.articles} article pages, usually {seen:g}")
    lengths = [h.mean_chars for h in history if h.speeches]
    if run.speeches and lengths and run.mean_chars < 0.5 * statistics.median(lengths):
        reasons.append(f"mean speech length {run.mean_chars:.0f} characters, usually {statistics.median(lengths):.0f}")
    rates = [h.flagged / h.speeches for h in history if h.speeches]
    if run.speeches >= 3 and rates and run.flagged / run.speeches > statistics.median(rates) + 0.3:
        reasons.append(f"{run.flagged} of {run.speeches} speeches flagged for review")
    return reasons


def alert(payload: dict) -> list[str]:
    """Send a degraded-run alert to the webhook and/or by e-mail; returns where it went.

    Failures are logged, never raised: an unreachable webhook must not fail the crawl."""
    sent = []
    hook = str(settings.get("alert_webhook"))
    if hook:
        request = urllib.request.Request(hook, data=json.dumps(payload, ensure_ascii=False).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10):
                sent.append("webhook")
        except OSError as exc:
            log.error("alert webhook %s failed: %s", hook, exc)
    recipients = [r.strip() for r in str(settings.get("alert_email_to")).split(",") if r.strip()]
    if settings.get("smtp_host") and recipients:
        message = EmailMessage()
        message["Subject"] = f"speech-archive: run {payload['run_id']} of {payload['source']} degraded"
        message["From"], message["To"] = str(settings.get("alert_email_from")), ", ".join(recipients)
        message.set_content("\n".join(payload["reasons"]) + "\n\n" + json.dumps(payload, ensure_ascii=False, indent=2))
        try:
            send_mail(message)
            sent.append("email")
        except (OSError, ValueError) as exc:  # smtplib's and ssl's errors are OSErrors
            log.error("alert e-mail via %s failed: %s", settings.get("smtp_host"), exc)
    return sent


def send_mail(message: EmailMessage) -> None:
    """Send through the configured SMTP server, over TLS and logged in when the settings ask for it."""
    host, port, security = str(settings.get("smtp_host")), int(settings.get("smtp_port")), settings.get("smtp_security")
    if security not in ("none", "starttls", "ssl"):
        raise ValueError(f"setting smtp_security must be none, starttls or ssl, not {security!r}")
    context = ssl.create_default_context()
    smtp = (smtplib.SMTP_SSL(host, port, timeout=10, context=context) if security == "ssl"
            else smtplib.SMTP(host, port, timeout=10))
    with smtp:
        if security == "starttls":
            smtp.starttls(context=context)
        if settings.get("smtp_user"):
            smtp.login(str(settings.get("smtp_user")), str(settings.get("smtp_password")))
        smtp.send_message(message)


def metrics_of(stats: dict) -> RunMetrics:
    """A run's metrics from its stored crawl stats."""
    stored = int(stats.get("archive/stored", 0))
    archived = int(stats.get("archive/pages", 0)) - int(stats.get("archive/aliases", 0))
    seen = archived + sum(int(stats.get(k, 0)) for k in ("archive/unchanged", "crawl/skipped_archived",
                                                         "crawl/not_modified"))
    return RunMetrics(articles=seen, archived=archived, speeches=stored, mean_chars=float(stats.get("archive/chars", 0)) / stored if stored else 0.0,
                      flagged=int(stats.get("clean/flagged", 0)), requests=int(stats.get("downloader/request_count", 0)),
                      errors=int(stats.get("archive/errors", 0)), forbidden=int(stats.get("robotstxt/forbidden", 0)))



def combined(metrics: list[RunMetrics]) -> RunMetrics:
    """One crawl's metrics from those of the processes that shared it."""
    speeches = sum(m.speeches for m in metrics)
    return RunMetrics(articles=sum(m.articles for m in metrics), archived=sum(m.archived for m in metrics),
                      speeches=speeches,
                      mean_chars=sum(m.mean_chars * m.speeches for m in metrics) / speeches if speeches else 0.0,
                      flagged=sum(m.flagged for m in metrics), requests=sum(m.requests for m in metrics),
                      errors=sum(m.errors for m in metrics), forbidden=sum(m.forbidden for m in metrics))


def _crawl_key(run: CrawlRun) -> str:
    """Runs of one shared crawl (several processes) count as one crawl; any other run is its own."""
    return (run.stats or {}).get("shared_run") or f"run:{run.id}"


def judge(session: Session, runs: list[CrawlRun]) -> list[str]:
    """Judge one crawl (its runs: one, or one per process of a shared crawl) against the source's
    earlier healthy crawls; a degraded crawl's runs are marked so, with the reasons."""
    earlier = session.scalars(select(CrawlRun).where(CrawlRun.source_id == runs[0].source_id,
                                                     CrawlRun.id < min(r.id for r in runs),
                                                     CrawlRun.status == "finished")
                              .order_by(CrawlRun.id.desc()).limit(HISTORY * 16))
    crawls: dict[str, list[RunMetrics]] = {}  # newest first
    for run in earlier:
        crawls.setdefault(_crawl_key(run), []).append(metrics_of(run.stats))
    history = [combined(m) for m in list(crawls.values())[:HISTORY]]
    holds = session.scalar(select(Speech.id).where(Speech.source_id == runs[0].source_id).limit(1)) is not None
    reasons = degraded_reasons(combined([metrics_of(r.stats) for r in runs]), history, holds)
    for run in runs if reasons else []:
        run.status = "degraded"
        run.stats = {**run.stats, "degraded": "; ".join(reasons)}
    return reasons


def alert_degraded(source: str, runs: list[CrawlRun], reasons: list[str]) -> list[str]:
    log.warning("crawl of %s (runs %s) degraded: %s", source, ", ".join(str(r.id) for r in runs), "; ".join(reasons))
    stats = [{k: v for k, v in r.stats.items() if "/" in k} for r in runs]
    return alert({"event": "run_degraded", "run_id": runs[0].id, "run_ids": [r.id for r in runs], "source": source,
                  "reasons": reasons, "stats": stats[0] if len(stats) == 1 else stats})


def recent_runs(session: Session, limit: int, source: str | None = None) -> list[CrawlRun]:
    """The newest ``limit`` crawl runs, of one source or of all."""
    stmt = select(CrawlRun).join(Source).order_by(CrawlRun.id.desc()).limit(limit)
    return list(session.scalars(stmt.where(Source.name == source) if source else stmt))


# what Scrapy's exception names mean to an archivist
_EXCEPTIONS = (("TimeoutError", "timed out"), ("TCPTimedOut", "timed out"), ("DataLoss", "body shorter than announced"),
               ("ResponseNeverReceived", "connection lost"), ("ConnectionLost", "connection lost"),
               ("ConnectionRefused", "connection refused"), ("ConnectionDone", "connection lost"),
               ("ResponseFailed", "connection lost"), ("DownloadFailedError", "connection lost"), ("DNSLookupError", "host not found"),
               ("CancelledError", "too large (setting max_page_bytes)"), ("IgnoreRequest", None))


def faults(stats: dict) -> list[str]:
    """What went wrong in a run, one line per kind with its count, from the run's stored stats."""
    out: list[str] = []
    get = lambda key: int(stats.get(key, 0) or 0)  # noqa: E731
    for key in sorted(k for k in stats if k.startswith("downloader/response_status_count/")):
        code = int(key.rsplit("/", 1)[1])
        if code >= 400:
            out.append(f"HTTP {code}: {get(key)} responses")
    if get("retry/count"):
        out.append(f"retried {get('retry/count')} times; {get('retry/max_reached')} requests failed after every retry")
    kinds: dict[str, int] = {}
    for key in (k for k in stats if k.startswith("downloader/exception_type_count/")):
        name = key.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
        meaning = next((m for pattern, m in _EXCEPTIONS if pattern in name), name)
        if meaning:
            kinds[meaning] = kinds.get(meaning, 0) + get(key)
    out += [f"{meaning}: {n} requests" for meaning, n in sorted(kinds.items())]
    if get("crawl/too_large"):
        out.append(f"too large (setting max_page_bytes): {get('crawl/too_large')} responses dropped in decompression")
    named = (("crawl/redirect_loop", "redirect loop or chain too long"), ("robotstxt/forbidden", "robots.txt forbade"),
             ("urllength/request_ignored_count", "address too long, not fetched"),
             ("clean/not_html", "not HTML (kept raw, no speech)"), ("discover/not_html", "not HTML (not archived)"), ("clean/not_prose", "not a speech (kept raw)"),
             ("clean/failed", "cleaning failed (raw page kept)"),
             ("archive/aliases", "pages identical to one archived under another address (kept as aliases)"),
             ("crawl/part_failed", "articles archived without a later page that failed"),
             ("crawl/links_capped", "pages with more links than are read (the rest ignored)"), ("discover/shape_skipped", "links of barren address shapes skipped"))
    out += [f"{label}: {get(key)}" for key, label in named if get(key)]
    traps = {k.rsplit("/", 1)[1]: get(k) for k in stats if k.startswith("discover/trap_skipped/")}
    if traps:
        out.append("trap links skipped: " + ", ".join(f"{kind} {n}" for kind, n in sorted(traps.items())))
    if stats.get("finish_reason") not in (None, "finished"):
        out.append(f"stopped: {stats['finish_reason']}")
    return out

"""The ``speech-archive`` command line. User mistakes print one line and exit 2, never a traceback.

A command imports what only it needs (Scrapy, numpy, APScheduler, Redis) inside itself, so that
``search`` or ``runs`` start without paying for a crawler they do not use."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import click
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import settings
from archive import fulltext, health
from archive.dedup.groups import members, versions
from archive.export.record import of_cleaned, of_speech
from archive.export.write import FORMATS, export, write_atomic
from archive.query.concordance import SORTS, concordance, to_csv
from archive.query.search import ORDERS, Filters, QueryError, search
from archive.query.trend import BY, PER, trend
from archive.query.trend import to_csv as trend_csv
from archive.storage import locks
from archive.storage.db import ArchiveError, open_archive, sessions
from archive.storage.models import Capture, CrawlRun, DupGroup, Source, Speech, as_utc
from cleaners import CleanResult, PageError, SiteRules, clean_page
from cleaners.content import not_html
from crawler.encoding import decode_html
from crawler.sources import SourceError, load_source, trigger_of

USER_ERRORS = (SourceError, ArchiveError, QueryError, PageError, locks.Busy, FileNotFoundError,
               IsADirectoryError, PermissionError, ConnectionError, ValueError)


def user_errors(fn: Callable) -> Callable:
    """Turn the errors a user can cause into one clear line and exit status 2."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
    return wrapper


def _stage_progress(stage: str, done: int, total: int) -> None:
    """One overwritten stderr line for long batch work; silent when stderr is not a terminal."""
    if sys.stderr.isatty():
        click.echo(f"\r{stage}: {done}/{total}", nl=False, err=True)


def _session(ctx: click.Context, writer: bool = False) -> Session:
    engine = open_archive(ctx.obj["db"], writer=writer)
    ctx.call_on_close(engine.dispose)
    session = sessions(engine)()
    ctx.call_on_close(session.close)
    return session


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="SPEECH_ARCHIVE_DB", default=str(settings.get("db")), show_default=True,
              help="Archive database URL (SQLite file or postgresql+psycopg://…).")
@click.version_option(settings.VERSION, prog_name="speech-archive")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """Scrape, clean, deduplicate, search and export published speech texts."""
    ctx.obj = {"db": db}


@main.command()
@click.argument("source")
@click.option("--base-url", help="Serve the source from this address instead of its base_url (mirrors, tests).")
@click.option("--log-level", default="WARNING", show_default=True, help="Scrapy log level.")
@click.option("--run", "run_key", help="frontier=redis: join this shared crawl (workers get it from the board).")
@click.pass_context
@user_errors
def crawl(ctx: click.Context, source: str, base_url: str | None, log_level: str, run_key: str | None) -> None:
    """Crawl SOURCE (a name under sources/ or a path to a source file) into the archive.

    With frontier=redis the crawl is shared: it opens a run that `speech-archive worker`
    processes join, or joins the run given with --run."""
    from crawler.lifeline import die_with_parent
    from crawler.run import run_crawl

    die_with_parent()
    src = load_source(source)
    if base_url:
        src = src.with_base_url(base_url)
    open_archive(ctx.obj["db"]).dispose()  # fail fast, before any fetching, if the archive is unusable
    mode = settings.get("frontier")
    if mode not in ("local", "redis"):
        raise click.UsageError(f"setting frontier must be local or redis, not {mode!r}")
    if run_key and mode != "redis":
        raise click.UsageError("--run joins a shared crawl: set SPEECH_ARCHIVE_FRONTIER=redis")
    if mode == "redis":
        from crawler import frontier  # Redis and scrapy-redis, for shared crawls only

        if base_url:
            raise click.UsageError("--base-url cannot be shared: the workers joining the crawl read the source "
                                   "file, so put the address in the file's base_url")
        client = frontier.connect(str(settings.get("redis_url")))
        if run_key and run_key not in frontier.active_runs(client):
            click.echo(f"run {run_key} is over; nothing to join", err=True)
            return
        run_key = run_key or frontier.announce(client, frontier.shareable(source))
        if run_key is None:
            raise click.UsageError(f"a shared crawl of {source} is already in progress: join it with "
                                   f"`speech-archive worker`, or wait for it to end")
        click.echo(f"shared crawl {run_key}", err=True)
    # one crawl of a source at a time, whoever starts it (a shared crawl's board does this for redis)
    lease = locks.hold(ctx.obj["db"], f"crawl:{src.name}", busy=f"{src.name} is already being crawled")
    with contextlib.nullcontext() if mode == "redis" else lease:
        stats = run_crawl(src, ctx.obj["db"], log_level=log_level, run=run_key)
    click.echo(f"crawl of {src.name}: {stats.get('finish_reason', 'finished')}; "
               f"{stats.get('archive/pages', 0)} pages, {stats.get('archive/stored', 0)} new speeches, "
               f"{stats.get('archive/duplicate', 0)} duplicates, {stats.get('clean/failed', 0)} pages failed cleaning")
    if stats.get("archive/failure"):
        raise click.ClickException(f"the archive could not be written, so the crawl stopped: {stats['archive/failure']}. "
                                   f"What was archived before is kept; {stats.get('archive/not_stored', 0)} fetched "
                                   "pages were not, and are fetched again when you crawl once the archive is writable.")
    run_id = stats.get("archive/run_id")
    if run_id is not None:
        with _session(ctx) as session:
            run = session.get(CrawlRun, run_id)
            if run is not None and run.status == "degraded":
                click.echo(f"warning: run {run_id} is degraded: {run.stats.get('degraded')}", err=True)


def _explain(result: CleanResult) -> list[str]:
    return [f"  [{r.reason}] {r.text[:100]}" for r in result.removals]


@main.command()
@click.option("--once", is_flag=True, help="Join the shared crawls on the board now, then exit.")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between looks at the board.")
@click.pass_context
@user_errors
def worker(ctx: click.Context, once: bool, poll: float) -> None:
    """Crawl worker for frontier=redis: join every shared crawl announced on the board, one at a time."""
    import logging

    from crawler.worker import work

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    work(ctx.obj["db"], str(settings.get("redis_url")), once=once, poll=poll)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default="", help="The page's address (helps extraction, names the site).")
@click.option("--source", "source_name", help="Apply this source's selectors and noise rules.")
@click.option("--encoding", help="The file's encoding if detection gets it wrong.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--explain", is_flag=True, help="List every removed span with its reason code.")
@user_errors
def clean(file: Path, url: str, source_name: str | None, encoding: str | None, as_json: bool, explain: bool) -> None:
    """Clean a saved page offline and print the speeches found in it."""
    from archive import ingest

    body = file.read_bytes()
    what = not_html(body)
    if what:
        raise PageError(f"{file} is not an HTML page: it is {what}")
    html, _ = decode_html(body, None, encoding)
    rules = load_source(source_name).rules_for(url) if source_name else SiteRules()
    result = clean_page([html], url, rules, ingest.limits())
    if as_json:
        payload = {"title": result.title, "extractor": result.extractor,  # of the page; each speech as archived
                   "speeches": [{**of_cleaned(result, s), "outline": s.meta.outline, "gaps": s.gaps}
                                for s in result.speeches]}
        if explain:
            payload["removals"] = [{"reason": r.reason, "text": r.text} for r in result.removals]
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for s in result.speeches:
        flags = [f for f, on in (("truncated", s.truncated), ("mojibake", s.mojibake)) if on]
        click.echo(f"== {s.title}  ({len(s.text)} chars, {s.script}{', ' + ', '.join(flags) if flags else ''})")
        click.echo(s.text)
        click.echo()
    click.echo(f"{len(result.speeches)} speech(es); {len(result.removals)} removals"
               f"{'; flagged for review' if result.needs_review else ''}", err=True)
    for reason in result.rejected:
        click.echo(f"not a speech: {reason}", err=True)
    if explain:
        click.echo("removed:", err=True)
        for line in _explain(result):
            click.echo(line, err=True)


@main.command()
@click.option("--source", "source_name", help="Only this source's captures.")
@click.option("--workers", type=click.IntRange(min=1), help="Cleaning processes (default: setting ingest_workers, "
              "0 = one per core); the archive is the same whatever the number.")
@click.pass_context
@user_errors
def reclean(ctx: click.Context, source_name: str | None, workers: int | None) -> None:
    """Re-run the current cleaners over stored raw captures."""
    from archive import ingest

    session = _session(ctx, writer=True)
    stmt = select(Capture.id).where(Capture.root_id.is_(None),
                                    or_(Capture.note.is_(None), Capture.note.not_like("alias%")))
    stmt = stmt.order_by(Capture.id)
    if source_name:
        stmt = stmt.join(Source).where(Source.name == source_name)
    ids = session.scalars(stmt).all()  # the captures themselves are read a chunk at a time
    rules_by_source: dict[str, object] = {}

    def rules(cap: Capture) -> SiteRules:
        name = cap.source.name
        if name not in rules_by_source:
            try:
                rules_by_source[name] = load_source(name)
            except SourceError:
                rules_by_source[name] = None
        src = rules_by_source[name]
        return src.rules_for(cap.canonical_url) if src else SiteRules()

    totals = Counter()

    def written(w: ingest.Written) -> None:
        if w.cleaned.result is None:
            click.echo(f"\nskipped capture {w.capture.id} ({w.capture.canonical_url}): {w.cleaned.error}", err=True)
            totals["failed"] += 1
        totals.update(changed=w.outcome.changed, new=w.outcome.new)
        bar.update(1)

    job = ingest.Ingest(session, workers=workers, on_written=written)
    started = time.monotonic()
    with click.progressbar(length=len(ids), label="recleaning", file=sys.stderr) as bar:
        ingest.add_stored(job, ids, rules, lambda cap: urlparse(cap.canonical_url).netloc)
        job.close()
    seconds = time.monotonic() - started
    click.echo(f"recleaned {len(ids)} captures on {job.processes} process{'es' if job.processes > 1 else ''} "
               f"in {seconds:.2f} s ({len(ids) / max(seconds, 1e-9):.0f}/s): {totals['changed']} speeches changed, "
               f"{totals['new']} new, {totals['failed']} failed")


def _moment(value: str) -> datetime:
    """An ISO-8601 timestamp; one without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO-8601 timestamp: {value!r} (e.g. 2026-11-22T08:00:00Z)") from exc
    return as_utc(moment)


def _moment_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    try:
        return _moment(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


_FILTER_NAMES = ("site", "speaker", "region", "date_from", "date_to", "captured_from", "captured_to", "truncated",
                 "reconstructed", "canonical")


def filter_options(fn: Callable) -> Callable:
    """The search filters as options, handed to the command as one ``filters`` argument."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        given = {name: kwargs.pop(name) for name in _FILTER_NAMES}
        given["canonical_only"] = given.pop("canonical")
        return fn(*args, filters=Filters(**given), **kwargs)

    for opt in reversed([
        click.option("--site", help="Only speeches from this site."),
        click.option("--speaker", help="Only speeches by this speaker."),
        click.option("--region", help="Only speeches from this region (as a document site states it)."),
        click.option("--from", "date_from", help="Speech date on or after (YYYY-MM-DD, or a prefix: 2007)."),
        click.option("--to", "date_to", help="Speech date on or before (YYYY-MM-DD, or a prefix)."),
        click.option("--captured-from", callback=_moment_option, help="Captured at or after this UTC time (ISO-8601)."),
        click.option("--captured-to", callback=_moment_option, help="Captured at or before this UTC time (ISO-8601)."),
        click.option("--truncated/--complete", default=None, help="Only copies that are (or are not) truncated."),
        click.option("--reconstructed/--not-reconstructed", default=None,
                     help="Only speeches whose group has (or has not) a text assembled from partial copies."),
        click.option("--canonical", is_flag=True, help="Only the canonical copy of each duplicate group."),
    ]):
        wrapper = opt(wrapper)
    return wrapper


@main.command("search")
@click.argument("query")
@filter_options
@click.option("--limit", default=20, show_default=True, help="Most results to show.")
@click.option("--order", type=click.Choice(ORDERS), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
@user_errors
def search_cmd(ctx: click.Context, query: str, filters: Filters, limit: int, order: str, as_json: bool) -> None:
    """Find speeches containing QUERY: words, "phrases", OR, NOT / -word; either script."""
    session = _session(ctx)
    hits = search(session, query, filters, limit=limit, order=order)
    for h in hits:
        s = h.speech
        if as_json:
            click.echo(json.dumps({**of_speech(s), "occurrences": h.count, "snippet": h.snippet}, ensure_ascii=False))
        else:
            click.echo(f"#{s.id} {s.title} — {s.site} {s.speech_date or ''}\n    {h.snippet}")
    if not as_json:
        click.echo(f"{len(hits)} result(s)", err=True)


@main.command("trend")
@click.argument("terms", nargs=-1, required=True)
@filter_options
@click.option("--by", type=click.Choice(list(BY)), default="year", show_default=True, help="Period of each point.")
@click.option("--per", type=click.Choice(PER), default="speeches", show_default=True,
              help="speeches: % of the period's speeches using the term; 10k-chars: occurrences per 10,000 "
                   "characters; count: speeches using it.")
@click.option("--all-copies", is_flag=True, help="Count every copy of a speech, not only the canonical one.")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the table as CSV here.")
@click.pass_context
@user_errors
def trend_cmd(ctx: click.Context, terms: tuple[str, ...], filters: Filters, by: str, per: str, all_copies: bool,
              csv_out: Path | None) -> None:
    """How much each TERM (a query: words, "phrases", OR, field terms) was used, period by period,
    by speech date. Canonical copies only unless --all-copies, so reposts do not inflate a year."""
    filters.canonical_only = not all_copies
    t = trend(_session(ctx), list(terms), by, per, filters)
    if csv_out:
        write_atomic(csv_out, trend_csv(t, bom=True))
    click.echo("\t".join([by, "speeches", *t.terms]))
    for k, p in enumerate(t.periods):
        click.echo("\t".join([p, str(t.totals[k]), *("-" if t.values[x][k] is None else f"{t.values[x][k]:g}" for x in t.terms)]))
    click.echo(f"{per}; {t.undated} speech(es) without a speech date left out", err=True)


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output file.")
@click.option("--query", help="Only speeches containing this search query (same syntax as search).")
@click.option("--bom", is_flag=True, help="CSV only: start with a UTF-8 BOM for spreadsheet programs.")
@click.option("--segment", is_flag=True, help="Add text_segmented: the simplified text's words (needs jieba).")
@click.option("--since", callback=_moment_option,
              help="Only speeches added or changed after this UTC timestamp (ISO-8601).")
@click.option("--cursor", type=click.Path(dir_okay=False, path_type=Path),
              help="Incremental: export what changed since this cursor file, then move it (atomically).")
@filter_options
@click.pass_context
@user_errors
def export_cmd(ctx: click.Context, fmt: str, out: Path, query: str | None, bom: bool, segment: bool,
               since: datetime | None, cursor: Path | None, filters: Filters) -> None:
    """Export speeches as JSONL, CSV or Parquet, or their raw captures as WARC 1.1 (streamed; atomic;
    a manifest beside each file)."""
    session = _session(ctx)
    if since and cursor:
        raise click.UsageError("give --since or --cursor, not both")
    filters.changed_since = since
    if cursor and cursor.exists():
        try:
            filters.changed_since = _moment(json.loads(cursor.read_text(encoding="utf-8"))["updated_at"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"cursor file {cursor} is not one this command wrote") from exc
    progress = (lambda n: click.echo(f"\r{n} rows", nl=False, err=True)) if sys.stderr.isatty() else None
    result = export(session, fmt, out, filters, bom=bom, progress=progress, query=query, segment=segment)
    if cursor and result.cursor_to:
        write_atomic(cursor, json.dumps({"updated_at": result.cursor_to}) + "\n")
    what = "captures" if fmt == "warc" else "speeches"
    click.echo(f"wrote {result.rows} {what} to {out} (manifest {result.manifest.name})")


@main.command()
@click.option("--source", "source_name", help="Only this source's runs.")
@click.option("--limit", default=20, show_default=True)
@click.option("--run", "run_id", type=int, help="One run in full: what went wrong, by kind, with counts.")
@click.pass_context
@user_errors
def runs(ctx: click.Context, source_name: str | None, limit: int, run_id: int | None) -> None:
    """Crawl history: status, duration, pages, new speeches, duplicates, flags, errors."""
    session = _session(ctx)
    if run_id is not None:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise ValueError(f"no run {run_id} in this archive")
        stats = run.stats or {}
        click.echo(f"run {run.id} of {run.source.name}: {run.status}, {run.pages} pages, {run.speeches_new} new speeches, "
                   f"{run.errors} errors, {stats.get('downloader/request_count', 0)} requests")
        if stats.get("degraded"):
            click.echo(f"  degraded: {stats['degraded']}")
        for line in health.faults(stats) or ["no faults recorded"]:
            click.echo(f"  {line}")
        return
    click.echo(f"{'run':>4} {'source':<12} {'started (UTC)':<20} {'status':<12} {'secs':>6} {'pages':>6} "
               f"{'new':>5} {'dups':>5} {'flags':>5} {'errors':>6} {'no-speech':>9}")
    for r in health.recent_runs(session, limit, source_name):
        secs = (r.finished_at - r.started_at).total_seconds() if r.finished_at else 0
        stats = r.stats or {}
        rejected = int(stats.get("clean/not_html", 0)) + int(stats.get("clean/not_prose", 0))
        click.echo(f"{r.id:>4} {r.source.name:<12} {r.started_at:%Y-%m-%d %H:%M:%S}  {r.status:<12} {secs:>6.1f} "
                   f"{r.pages:>6} {r.speeches_new:>5} {r.duplicates:>5} {r.flagged:>5} {r.errors:>6} {rejected:>9}")
        if stats.get("degraded"):
            click.echo(f"{'':>5}degraded: {stats['degraded']}")


def summary(session: Session) -> dict[str, int]:
    count = lambda stmt: session.scalar(stmt) or 0  # noqa: E731
    return {
        "sources": count(select(func.count()).select_from(Source)),
        "runs": count(select(func.count()).select_from(CrawlRun)),
        "pages": count(select(func.count()).select_from(Capture)),
        "speeches": count(select(func.count()).select_from(Speech)),
        "groups": count(select(func.count()).select_from(DupGroup)),
        "groups_with_copies": count(select(func.count()).select_from(DupGroup).where(DupGroup.size > 1)),
        "truncated": count(select(func.count()).select_from(Speech).where(Speech.truncated)),
        "mojibake": count(select(func.count()).select_from(Speech).where(Speech.mojibake)),
        "needs_review": count(select(func.count()).select_from(Speech).where(Speech.needs_review)),
        "pages_not_html": count(select(func.count()).select_from(Capture).where(Capture.note.like("not_html%"))),
        "pages_not_prose": count(select(func.count()).select_from(Capture).where(Capture.note.like("not_prose%"))),
    }


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of what the archive holds."""
    data = summary(_session(ctx))
    click.echo(json.dumps(data) if as_json else "\n".join(f"{k:<20} {v}" for k, v in data.items()))


@main.command("concordance")
@click.argument("query")
@filter_options
@click.option("--width", default=12, show_default=True, help="Characters of context on each side.")
@click.option("--sort", type=click.Choice(SORTS), default="position", show_default=True,
              help="left: by the left context read backwards; right: by the right context.")
@click.option("--limit", default=1000, show_default=True, help="Most lines.")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the lines as CSV here.")
@click.pass_context
@user_errors
def concordance_cmd(ctx: click.Context, query: str, filters: Filters, width: int, sort: str, limit: int,
                    csv_out: Path | None) -> None:
    """Key word in context: every occurrence of QUERY with WIDTH characters either side."""
    lines = concordance(_session(ctx), query, filters, width, sort, limit)
    if csv_out:
        if not csv_out.parent.is_dir():
            raise ValueError(f"folder for the CSV does not exist: {csv_out.parent}")
        write_atomic(csv_out, to_csv(lines, bom=True))
        click.echo(f"wrote {len(lines)} lines to {csv_out}", err=True)
        return
    for line in lines:
        click.echo(f"{line.left:>{width}} 【{line.match}】 {line.right:<{width}}  #{line.speech_id} {line.title}")
    click.echo(f"{len(lines)} line(s)", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; the default keeps the archive on this machine.")
@click.option("--port", default=8000, show_default=True)
@click.pass_context
@user_errors
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the read-only web UI and JSON API (OpenAPI at /api/docs)."""
    import uvicorn

    from web.app import create_app

    uvicorn.run(create_app(ctx.obj["db"]), host=host, port=port, log_level="info")


@main.command("dedup")
@click.option("--rebuild", is_flag=True, required=True, help="Regroup every speech from scratch.")
@click.pass_context
@user_errors
def dedup_cmd(ctx: click.Context, rebuild: bool) -> None:
    """Rebuild the duplicate groups and their canonical texts."""
    from archive.dedup import grouping

    session = _session(ctx, writer=True)
    n = grouping.rebuild(session, progress=_stage_progress)
    session.commit()
    click.echo(f"{n} groups")


@main.command("reindex")
@click.pass_context
@user_errors
def reindex_cmd(ctx: click.Context) -> None:
    """Refold every speech's search text and rebuild the full-text index (after changing
    search_placeholders)."""
    engine = open_archive(ctx.obj["db"], writer=True)
    with engine.begin() as conn:
        n = fulltext.refold(conn, progress=_stage_progress)
    engine.dispose()
    click.echo(f"{n} speeches reindexed")


@main.command("copy")
@click.argument("target")
@click.pass_context
@user_errors
def copy_cmd(ctx: click.Context, target: str) -> None:
    """Copy the whole archive (--db) into TARGET, a new, empty archive database — the move from the
    SQLite file to PostgreSQL. Ids are kept; the schedule moves too, now crawling into TARGET."""
    from archive.storage.copy import copy_archive
    from scheduler import copy_jobs

    copied = copy_archive(ctx.obj["db"], target, progress=_stage_progress)
    if sys.stderr.isatty():
        click.echo(err=True)
    jobs = copy_jobs(ctx.obj["db"], target)
    click.echo(", ".join(f"{n} {table}" for table, n in copied.items()) + f", {jobs} scheduled crawls")
    click.echo("copied: point SPEECH_ARCHIVE_DB at the new archive; the old one is unchanged")


@main.command("versions")
@click.argument("speech_id", type=int)
@click.pass_context
@user_errors
def history(ctx: click.Context, speech_id: int) -> None:
    """The versions of a speech that recrawls found, oldest first, each with its diff from the one before."""
    for v in versions(_session(ctx), speech_id):
        s = v.speech
        click.echo(f"#{s.id}  captured {s.captured_at:%Y-%m-%d %H:%M} UTC  {len(s.text):>6} chars  {s.url}")
        for line in v.diff:
            click.echo("      " + (line if len(line) <= 160 else line[:160] + "…"))


@main.command()
@click.argument("group_id", type=int)
@click.option("--diff", "show_diff", is_flag=True, help="Show each copy's differences from the canonical text.")
@click.pass_context
@user_errors
def group(ctx: click.Context, group_id: int, show_diff: bool) -> None:
    """List a duplicate group's members; the canonical one is marked *."""
    session = _session(ctx)
    for m in members(session, group_id):
        s = m.speech
        flags = ",".join(f for f, on in (("truncated", s.truncated), ("mojibake", s.mojibake)) if on)
        click.echo(f"{'*' if m.canonical else ' '} #{s.id} {s.site:<10} {len(s.text):>6} chars {s.script:<11} "
                   f"{flags:<18} {s.url}")
        if show_diff and m.diff:
            for line in m.diff:
                click.echo("      " + (line if len(line) <= 160 else line[:160] + "…"))
    rebuilt = session.get(DupGroup, group_id).reconstruction
    if rebuilt:
        sources = sorted({p["from"] for p in rebuilt["paragraphs"]})
        click.echo(f"reconstructed from {', '.join(f'#{i}' for i in sources)}: {rebuilt['chars']} chars, "
                   f"{rebuilt['filled']} gap(s) filled, {len(rebuilt['open_gaps'])} still open")


@main.command()
@click.option("--db-file", type=click.Path(dir_okay=False, path_type=Path), default=Path("demo-archive.sqlite3"),
              show_default=True, help="SQLite file to create (replaced if it exists).")
@user_errors
def demo(db_file: Path) -> None:
    """Serve the bundled sample site on 127.0.0.1, crawl it into a fresh SQLite archive, show the result."""
    from crawler.run import run_crawl
    from demo.server import DEMO_SOURCE, DemoSite

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_file.resolve()}"
    started = time.monotonic()
    with DemoSite() as site:
        click.echo(f"serving the sample site at {site.url}")
        source = load_source(str(DEMO_SOURCE)).with_base_url(site.url)
        run_crawl(source, url)
    engine = open_archive(url)
    with sessions(engine)() as session:
        data = summary(session)
        click.echo(f"\ncrawled in {time.monotonic() - started:.1f}s into {db_file}")
        click.echo(f"pages {data['pages']} · speeches {data['speeches']} · duplicate groups {data['groups']} "
                   f"({data['groups_with_copies']} with several copies) · truncated {data['truncated']} · "
                   f"mojibake {data['mojibake']} · flagged for review {data['needs_review']}")
        for query, note in (("驻村", "a two-character word"), ("基层组织", "simplified query, traditional copies too")):
            hits = search(session, query, limit=50)
            trad = [h for h in hits if h.speech.script == "traditional"]
            click.echo(f"\nsample search for {query} ({note}): {len(hits)} speeches, {len(trad)} in traditional script")
            for h in [h for h in hits if h not in trad][:2] + trad[:2]:
                click.echo(f"  #{h.speech.id} {h.speech.title} [{h.speech.site}, {h.speech.script}]\n      {h.snippet}")
    engine.dispose()
    db = f"sqlite:///{db_file}"
    click.echo(f"\nnext:\n  speech-archive --db {db} search '基層 OR 基层'\n"
               f"  speech-archive --db {db} search '\"农村基层组织建设\"' --canonical\n"
               f"  speech-archive --db {db} export --format parquet --out speeches.parquet\n"
               f"  speech-archive --db {db} serve      # web UI and JSON API on http://127.0.0.1:8000\n"
               f"  speech-archive --db {db} runs")


@main.command("scheduler")
@click.option("--sources-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(str(settings.get("sources_dir"))), show_default=True, help="Folder of source files.")
@click.pass_context
@user_errors
def scheduler_cmd(ctx: click.Context, sources_dir: Path) -> None:
    """Run every source's crawl on its schedule, each in its own process, until stopped."""
    import logging

    from scheduler import run_forever

    if not sources_dir.is_dir():
        raise FileNotFoundError(f"no sources folder {sources_dir}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    open_archive(ctx.obj["db"]).dispose()
    run_forever(ctx.obj["db"], sources_dir)


@main.group()
def sources() -> None:
    """Source files: one per site, under the sources folder."""


@sources.command("init")
@click.argument("url")
@click.option("--name", help="The source's name (default: from the site's host).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the source file (default: SOURCES_DIR/NAME.toml).")
@click.option("--requests", "budget", default=60, show_default=True, type=click.IntRange(1, 1000),
              help="Pages the sample may fetch.")
@click.option("--delay", default=0.5, show_default=True, type=click.FloatRange(0),
              help="Seconds between requests, in the sample and in the file written.")
@click.option("--force", is_flag=True, help="Overwrite an existing source file.")
@user_errors
def sources_init(url: str, name: str | None, out: Path | None, budget: int, delay: float, force: bool) -> None:
    """Crawl a small sample of the site at URL (archiving nothing), say what it found, and write a
    commented source file with the address patterns it learned."""
    from crawler.survey import name_for, report, survey, write_source

    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).hostname:
        raise click.BadParameter(f"{url!r} is not an http(s) address", param_hint="URL")
    name = name or name_for(url)
    out = out or Path(str(settings.get("sources_dir"))) / f"{name}.toml"
    if out.exists() and not force:
        raise SourceError(f"{out} exists already; give another --out or --force")
    found = survey(url, budget, delay)
    for line in report(found):
        click.echo(line)
    click.echo(f"wrote {write_source(found, name, out, force=True)}: review it, then `speech-archive crawl {out}`")


@main.group()
def schedule() -> None:
    """List and change the scheduled crawls (the running scheduler picks changes up within 30 s)."""


def _job_id(name: str) -> str:
    return name if name.startswith("crawl:") else f"crawl:{name}"


@schedule.command("list")
@click.pass_context
@user_errors
def schedule_list(ctx: click.Context) -> None:
    """Every scheduled source: timetable, next run (UTC) or paused."""
    from scheduler import job_store

    open_archive(ctx.obj["db"]).dispose()
    with job_store(ctx.obj["db"]) as jobs:
        for job in sorted(jobs.get_jobs(), key=lambda j: j.id):
            nxt = f"{job.next_run_time:%Y-%m-%d %H:%M:%S}" if job.next_run_time else "paused"
            click.echo(f"{job.name:<16} {str(job.trigger):<40} {nxt}")


@schedule.command("add")
@click.argument("source")
@click.option("--cron", help="Crontab line (UTC) or 'every N minutes'; default: the source file's schedule.")
@click.pass_context
@user_errors
def schedule_add(ctx: click.Context, source: str, cron: str | None) -> None:
    """Schedule SOURCE (a name in the sources folder or a path)."""
    from scheduler import crawl_job, job_store

    src = load_source(source)
    line = cron or src.schedule
    if not line:
        raise ValueError(f"source {src.name} has no schedule; give one with --cron '0 3 * * *'")
    trigger = trigger_of(line)
    open_archive(ctx.obj["db"]).dispose()
    with job_store(ctx.obj["db"]) as jobs:
        jobs.add_job(crawl_job, trigger, id=_job_id(src.name), name=src.name, replace_existing=True,
                           args=[str(Path(src.path).resolve()), ctx.obj["db"]])
    click.echo(f"scheduled {src.name}: {line} (UTC)")


def _edit_job(ctx: click.Context, source: str, action: str) -> None:
    from scheduler import job_store

    open_archive(ctx.obj["db"]).dispose()
    with job_store(ctx.obj["db"]) as jobs:
        if jobs.get_job(_job_id(source)) is None:
            raise ValueError(f"no scheduled crawl for {source!r}; see 'speech-archive schedule list'")
        getattr(jobs, f"{action}_job")(_job_id(source))
    click.echo(f"{source}: {action}d")  # paused, resumed, removed


def _job_command(action: str, help_text: str) -> None:
    """Register ``schedule ACTION SOURCE``: pause, resume and remove differ only in the job-store call."""

    @schedule.command(action, help=help_text)
    @click.argument("source")
    @click.pass_context
    @user_errors
    def command(ctx: click.Context, source: str) -> None:
        _edit_job(ctx, source, action)


_job_command("pause", "Stop running SOURCE on its timetable until resumed.")
_job_command("resume", "Run SOURCE on its timetable again.")
_job_command("remove", "Unschedule SOURCE (its archive stays).")


@schedule.command("run-now")
@click.argument("source")
@click.pass_context
@user_errors
def schedule_run_now(ctx: click.Context, source: str) -> None:
    """Crawl SOURCE now, in the foreground, as the scheduler would."""
    from scheduler import crawl_job

    src = load_source(source)
    sys.exit(crawl_job(str(Path(src.path).resolve()), ctx.obj["db"]))


if __name__ == "__main__":
    main()


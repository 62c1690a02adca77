"""Read-only web UI and JSON API over the archive: search, speech, group, concordance, export.

Pages are rendered on the server (Jinja2, autoescaped) and work without JavaScript; every piece of
archived text is escaped, and the raw-capture view is sanitised and served under a sandboxing
Content-Security-Policy so no script of a scraped page ever runs. The app only reads: SQLite
connections are opened with ``query_only``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode, urlparse

import lxml.html
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from lxml_html_clean import Cleaner
from markupsafe import Markup, escape
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

import settings
from archive.dedup import groups
from archive.export.record import DETAIL, of_speech, utc_iso
from archive.export.write import csv_row, fields, rows
from archive.health import recent_runs
from archive.query.concordance import SORTS, concordance, to_csv
from archive.query.search import (HIT_END, HIT_START, ORDERS, Filters, QueryError, facets, parse_query, rank_window,
                                  search)
from archive.query.search import Query as SearchQuery
from archive.query.segment import require_segmenter
from archive.query.trend import BY, PER, Trend, trend
from archive.query.trend import to_csv as trend_csv
from archive.storage.db import open_archive, sessions
from archive.storage.models import Capture, DupGroup, Speech
from archive.storage.store import raw_body
from web.chart import line_chart

PER_PAGE = 20
RUNS_SHOWN = 100
TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
RAW_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def highlight(marked: str) -> Markup:
    """Escape a snippet, then turn its hit marks into <mark> (the text's own 【】 stay text)."""
    return Markup(str(escape(marked)).replace(HIT_START, "<mark>").replace(HIT_END, "</mark>"))


TEMPLATES.env.filters["highlight"] = highlight
def web_link(url: object) -> bool:
    """Only web addresses become links: never javascript:, data: or the like."""
    return urlparse(str(url)).scheme in ("http", "https")


TEMPLATES.env.tests["web_link"] = web_link
# Every page of ours: nothing from another host, no framing, no inline script (none is needed).
PAGE_POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'none'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_ID = 2**63 - 1  # the largest id a database row can have


def _schema_type(schema: dict) -> str:
    """A parameter's type as a reader wants it: "integer", "string | null", "boolean"."""
    if "anyOf" in schema:
        return " | ".join(_schema_type(s) for s in schema["anyOf"])
    return str(schema.get("type", schema.get("$ref", "").rsplit("/", 1)[-1] or "any"))


def _read_only(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _query_only(dbapi_conn, _record) -> None:  # noqa: ANN001
            dbapi_conn.execute("PRAGMA query_only=ON")


class SearchParams:
    """The search form's fields, shared by the page, the API and the exports."""

    def __init__(self, q: str = "", site: str | None = None, speaker: str | None = None, region: str | None = None,
                 date_from: Annotated[str | None, Query(alias="from")] = None,
                 date_to: Annotated[str | None, Query(alias="to")] = None,
                 captured_from: datetime | None = None, captured_to: datetime | None = None,
                 truncated: bool | None = None, reconstructed: bool | None = None, canonical: bool = False,
                 order: str = "relevance", page: Annotated[int, Query(ge=1)] = 1) -> None:
        self.q, self.order, self.page = q, order, page
        self.filters = Filters(site=site or None, speaker=speaker or None, region=region or None,
                               date_from=date_from or None, date_to=date_to or None, captured_from=captured_from,
                               captured_to=captured_to, truncated=truncated, reconstructed=reconstructed,
                               canonical_only=canonical)
        self.args = {k: v for k, v in {"q": q, "site": site, "speaker": speaker, "region": region, "from": date_from,
                                       "to": date_to, "canonical": "true" if canonical else None,
                                       "order": order if order != "relevance" else None}.items() if v}

    def url(self, **changes: object) -> str:
        args = {**self.args, **{k: v for k, v in changes.items() if v is not None}}
        return "?" + urlencode({k: v for k, v in args.items() if v not in ("", None)})


def _session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


Db = Annotated[Session, Depends(_session)]
Params = Annotated[SearchParams, Depends()]


def create_app(db_url: str | None = None) -> FastAPI:
    engine = open_archive(db_url)
    _read_only(engine)
    make_session = sessions(engine)
    app = FastAPI(title="speech-archive", description="Search the archive of published speech texts.",
                  version="1", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.sessions = make_session
    hosts = {*LOOPBACK, *(h.strip().lower() for h in str(settings.get("web_hosts")).split(",") if h.strip())}

    @app.middleware("http")
    async def _guard(request: Request, call_next) -> Response:  # noqa: ANN001 - Starlette's callable
        """Answer only the names this archive is served under (a page that rebinds its own name to
        127.0.0.1 must not read the archive), and send every response with a strict policy."""
        host = (request.headers.get("host") or "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name not in hosts:
            return PlainTextResponse(f"unknown host {host!r}: add it to SPEECH_ARCHIVE_WEB_HOSTS to serve it",
                                     status_code=400)
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        return response

    def speech_or_404(session: Session, speech_id: int) -> Speech:
        if not 0 < speech_id <= MAX_ID:
            raise HTTPException(404, f"no speech {speech_id}")
        speech = session.get(Speech, speech_id)
        if speech is None:
            raise HTTPException(404, f"no speech {speech_id}")
        return speech

    def run(session: Session, p: SearchParams) -> dict:
        hits = search(session, p.q, p.filters, limit=PER_PAGE, offset=(p.page - 1) * PER_PAGE, order=p.order)
        return {"hits": hits, "facets": facets(session, parse_query(p.q), p.filters), "rank_window": rank_window()}

    @app.exception_handler(QueryError)
    async def _bad_query(request: Request, exc: QueryError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return TEMPLATES.TemplateResponse(request, "error.html", {"message": str(exc)}, status_code=400)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return TEMPLATES.TemplateResponse(request, "error.html", {"message": exc.detail}, status_code=exc.status_code)

    # ---- pages -------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, session: Db, p: Params) -> Response:
        context: dict = {"p": p, "orders": ORDERS, "per_page": PER_PAGE}
        if p.q.strip():
            context.update(run(session, p))
        return TEMPLATES.TemplateResponse(request, "search.html", context)

    @app.get("/speech/{speech_id}", response_class=HTMLResponse, include_in_schema=False)
    def speech_page(request: Request, session: Db, speech_id: int) -> Response:
        speech = speech_or_404(session, speech_id)
        members = groups.members(session, speech.group_id) if speech.group_id else []
        group = session.get(DupGroup, speech.group_id) if speech.group_id else None
        return TEMPLATES.TemplateResponse(request, "speech.html", {"s": speech, "members": members, "group": group,
                                                                   "capture": speech.capture,
                                                                   "versions": groups.versions(session, speech_id)})

    @app.get("/capture/{capture_id}/raw", include_in_schema=False)
    def raw_capture(session: Db, capture_id: int) -> Response:
        """The page as fetched, sanitised (``sanitised``); the CSP forbids whatever slipped through."""
        if not 0 < capture_id <= MAX_ID:
            raise HTTPException(404, f"no capture {capture_id}")
        capture = session.get(Capture, capture_id)
        if capture is None:
            raise HTTPException(404, f"no capture {capture_id}")
        html = raw_body(capture).decode(capture.encoding or "utf-8", errors="replace")
        return HTMLResponse(sanitised(html) if html.strip() else "",
                            headers={"Content-Security-Policy": RAW_POLICY, "X-Content-Type-Options": "nosniff"})

    @app.get("/concordance", response_class=HTMLResponse, include_in_schema=False)
    def concordance_page(request: Request, session: Db, p: Params, width: Annotated[int, Query(ge=1, le=200)] = 12,
                         sort: str = "position") -> Response:
        lines = concordance(session, p.q, p.filters, width, sort) if p.q.strip() else []
        return TEMPLATES.TemplateResponse(request, "concordance.html", {"p": p, "lines": lines, "width": width,
                                                                        "sort": sort, "sorts": SORTS})

    def run_trend(session: Session, p: SearchParams, terms: str, by: str, per: str, all_copies: bool) -> Trend:
        p.filters.canonical_only = not all_copies
        return trend(session, split_terms(terms), by, per, p.filters)

    @app.get("/trend", response_class=HTMLResponse, include_in_schema=False)
    def trend_page(request: Request, session: Db, p: Params, terms: str = "", by: str = "year",
                   per: str = "speeches", all_copies: bool = False) -> Response:
        context: dict = {"p": p, "terms": terms, "by": by, "per": per, "all_copies": all_copies, "bys": list(BY),
                         "pers": PER}
        if terms.strip():
            t = run_trend(session, p, terms, by, per, all_copies)
            context.update(t=t, chart=line_chart(t, lambda term, period: "/" + p.url(
                q=term, **{"from": period, "to": period, "canonical": None if all_copies else "true"})),
                csv="/api/trend" + p.url(terms=terms, by=by, per=per, all_copies="true" if all_copies else None,
                                         format="csv"))
        return TEMPLATES.TemplateResponse(request, "trend.html", context)

    # ---- JSON API ----------------------------------------------------------------------------

    @app.get("/api/trend", summary="Each term's use per year or month (JSON, or CSV with format=csv)")
    def api_trend(session: Db, p: Params, terms: str, by: str = "year", per: str = "speeches",
                  all_copies: bool = False, format: str = "json") -> Response:
        """``terms``: queries separated by commas; by speech date; canonical copies only unless ``all_copies``."""
        if format not in ("json", "csv"):
            raise QueryError("format must be json or csv")
        t = run_trend(session, p, terms, by, per, all_copies)
        if format == "csv":
            return Response(trend_csv(t, bom=True), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="trend.csv"'})
        return JSONResponse({"terms": t.terms, "by": t.by, "per": t.per, "periods": t.periods, "totals": t.totals,
                             "values": t.values, "matches": t.matches, "undated": t.undated})

    @app.get("/api/search", summary="Speeches containing the query, with facet counts")
    def api_search(session: Db, p: Params) -> dict:
        result = run(session, p)
        f = result["facets"]
        return {"query": p.q, "page": p.page, "per_page": PER_PAGE, "total": f.total,
                "ranked_among": min(f.total, result["rank_window"]) if p.order == "relevance" else f.total,
                "facets": {"site": f.site, "year": f.year, "speaker": f.speaker},
                "facets_sampled": f.sampled,  # 1: exact; n: estimated from every n-th match
                "total_estimated": f.total_estimated,  # the total too is estimated from that sample
                "hits": [{**of_speech(h.speech), "snippet": h.snippet, "occurrences": h.count} for h in result["hits"]]}

    @app.get("/api/speech/{speech_id}", summary="One speech with its provenance")
    def api_speech(session: Db, speech_id: int) -> dict:
        s = speech_or_404(session, speech_id)
        return {**of_speech(s, DETAIL),
                "capture": {"id": s.capture_id, "url": s.capture.url, "fetched_at": utc_iso(s.capture.fetched_at),
                            "http_status": s.capture.http_status, "encoding": s.capture.encoding}}

    @app.get("/api/group/{group_id}", summary="Every copy of one speech and its differences from the canonical")
    def api_group(session: Db, group_id: int) -> dict:
        if not 0 < group_id <= MAX_ID:
            raise HTTPException(404, f"no group {group_id}")
        try:
            members = groups.members(session, group_id)
        except ValueError as exc:
            raise HTTPException(404, str(exc)) from exc
        group = session.get(DupGroup, group_id)
        return {"id": group_id, "canonical_id": group.canonical_id, "reconstruction": group.reconstruction,
                "members": [{**of_speech(m.speech), "canonical": m.canonical, "diff": m.diff} for m in members]}

    @app.get("/api/concordance", summary="Key word in context lines (JSON, or CSV with format=csv)")
    def api_concordance(session: Db, p: Params, width: Annotated[int, Query(ge=1, le=200)] = 12,
                        sort: str = "position", format: str = "json", limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
                        ) -> Response:
        lines = concordance(session, p.q, p.filters, width, sort, limit)
        if format == "csv":
            return Response(to_csv(lines, bom=True), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="concordance.csv"'})
        if format != "json":
            raise QueryError("format must be json or csv")
        return JSONResponse([line.__dict__ for line in lines])

    @app.get("/api/export", summary="The matching speeches streamed as JSON lines or CSV (export schema)")
    def api_export(p: Params, format: str = "jsonl", segment: bool = False) -> Response:
        if format not in ("jsonl", "csv"):
            raise QueryError("format must be jsonl or csv (Parquet: use the command line)")
        query = parse_query(p.q) if p.q.strip() else None  # a bad query fails before the stream starts
        if segment:
            try:
                require_segmenter()
            except ValueError as exc:
                raise HTTPException(501, str(exc)) from exc
        return StreamingResponse(_export_stream(make_session, p.filters, query, format, segment),
                                 media_type="application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8")

    @app.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request) -> Response:
        """The API described from its own OpenAPI document, rendered here: no script, nothing from a CDN."""
        spec = app.openapi()
        operations = [{"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                       "params": [{"name": p["name"], "where": p["in"], "required": p.get("required", False),
                                   "type": _schema_type(p.get("schema", {}))} for p in op.get("parameters", [])]}
                      for path, item in spec["paths"].items() for method, op in item.items()]
        return TEMPLATES.TemplateResponse(request, "api_docs.html", {"spec": spec, "operations": operations})

    @app.get("/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(request: Request, session: Db) -> Response:
        return TEMPLATES.TemplateResponse(request, "runs.html", {"runs": recent_runs(session, RUNS_SHOWN)})

    @app.get("/api/runs", summary="The newest crawl runs, with why a degraded run looks wrong")
    def api_runs(session: Db, limit: Annotated[int, Query(ge=1, le=1000)] = RUNS_SHOWN) -> list[dict]:
        return [{"id": r.id, "source": r.source.name, "started_at": r.started_at.isoformat(), "status": r.status,
                 "pages": r.pages, "speeches_new": r.speeches_new, "errors": r.errors,
                 "degraded": (r.stats or {}).get("degraded")} for r in recent_runs(session, limit)]

    @app.get("/healthz", include_in_schema=False)
    def health(session: Db) -> PlainTextResponse:
        session.execute(select(1))
        return PlainTextResponse("ok")

    return app


_RAW_CLEANER = Cleaner(scripts=True, javascript=True, embedded=True, frames=True, forms=True, meta=True,
                       page_structure=False, style=True, inline_style=True, links=True, annoying_tags=True)
_FETCHING = ("src", "srcset", "background", "poster", "data", "action", "formaction", "ping", "lowsrc", "dynsrc")


def sanitised(html: str) -> str:
    """A captured page made safe to show: no script, frame, form, event attribute, refresh, base,
    stylesheet or anything else that would make the reader's browser ask another host (the site
    would learn who reads it); only links to web addresses stay links."""
    root = lxml.html.document_fromstring(html)
    _RAW_CLEANER(root)  # in place: the page is parsed once
    for el in root.iter("base"):
        el.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str):
            for name in _FETCHING:
                el.attrib.pop(name, None)
            if el.tag == "a" and "href" in el.attrib and not web_link(el.get("href")):
                del el.attrib["href"]
    return lxml.html.tostring(root, encoding="unicode")


def split_terms(terms: str) -> list[str]:
    """The trend form's terms: queries separated by commas (either width)."""
    return [t for t in re.split(r"[,，]", terms) if t.strip()]


def _export_stream(make_session, filters: Filters, query: SearchQuery | None,  # noqa: ANN001 - a sessionmaker
                   fmt: str, segment: bool) -> Iterator[str]:
    """Rows of the export schema for the form's filters and query, streamed."""
    with make_session() as session:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields(segment))
        if fmt == "csv":
            writer.writeheader()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        for row in rows(session, filters, query=query, segment=segment):
            if fmt == "jsonl":
                yield json.dumps(row, ensure_ascii=False) + "\n"
                continue
            writer.writerow(csv_row(row))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

"""Raw captures as WARC 1.1, for archivists' tools (pywb, Browsertrix, the Internet Archive's).

Each capture becomes a request record and a response record (status and headers as fetched, the
body as stored, the capture time as WARC-Date), gzip-compressed record by record, so the file can
be read from any record's offset. The crawler stored no request headers, so a request record says
only the method, the path and the host. Bodies are stored decoded (Scrapy undoes gzip and chunking
on the way in), so the response's Content-Encoding and Transfer-Encoding headers are kept under
``X-Archive-Orig-`` names, the convention pywb reads, and Content-Length is the stored body's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from archive.storage.models import Capture, as_utc
from archive.storage.store import raw_body

_RENAMED = ("content-encoding", "transfer-encoding")


def _response_headers(capture: Capture, length: int) -> StatusAndHeaders:
    try:
        phrase = HTTPStatus(capture.http_status).phrase
    except ValueError:
        phrase = "Unknown"
    headers = []
    for name, value in (capture.headers or {}).items():
        if name.lower() in _RENAMED:
            headers.append((f"X-Archive-Orig-{name}", value))
        elif name.lower() != "content-length":
            headers.append((name, value))
    headers.append(("Content-Length", str(length)))
    return StatusAndHeaders(f"{capture.http_status} {phrase}", headers, protocol="HTTP/1.1")


def _request_headers(url: str) -> StatusAndHeaders:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return StatusAndHeaders(f"GET {target} HTTP/1.1", [("Host", parts.netloc)], protocol="HTTP/1.1",
                            is_http_request=True)


def _date(moment: datetime) -> str:
    return datetime_to_iso_date(as_utc(moment).replace(tzinfo=None), use_micros=True)


def write_records(fh: BinaryIO, captures: Iterator[Capture], filename: str) -> int:
    """A warcinfo record, then a response and a request record per capture; returns the captures written."""
    writer = WARCWriter(fh, gzip=True, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record(filename, {"software": "speech-archive",
                                                                 "format": "WARC File Format 1.1"}))
    n = 0
    for capture in captures:
        url = capture.final_url or capture.url
        body = raw_body(capture)
        when = _date(capture.fetched_at)
        response = writer.create_warc_record(url, "response", payload=BytesIO(body), length=len(body),
                                             http_headers=_response_headers(capture, len(body)),
                                             warc_headers_dict={"WARC-Date": when})
        request = writer.create_warc_record(url, "request", http_headers=_request_headers(url),
                                            warc_headers_dict={"WARC-Date": when, "WARC-Concurrent-To":
                                                               response.rec_headers.get_header("WARC-Record-ID")})
        writer.write_record(response)
        writer.write_record(request)
        n += 1
    return n


def write_warc(path: Path, captures: Iterator[Capture], filename: str | None = None) -> int:
    with path.open("wb") as fh:
        return write_records(fh, captures, filename or path.name)

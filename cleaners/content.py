"""What a response body is, before anyone reads it as a page: HTML, or a PDF, an image, an archive…

Sites serve documents and pictures at article URLs. Those are kept raw (an archivist may want
them) but are not HTML, so they give no speech; the Content-Type says so, and where it lies or is
missing the first bytes do.
"""

from __future__ import annotations

_MAGIC = ((b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"GIF8", "a GIF image"), (b"RIFF", "a RIFF file (WebP image, audio or video)"), (b"BM", "a BMP image"),
          (b"PK\x03\x04", "a ZIP archive or Office document"), (b"\x1f\x8b", "a gzip archive"),
          (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
          (b"\xd0\xcf\x11\xe0", "an Office document (doc, xls, ppt)"), (b"{\\rtf", "an RTF document"),
          (b"ID3", "an MP3 file"), (b"\x00\x00\x00", "a video or binary file"))
_TEXTUAL = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


def not_html(body: bytes, content_type: str | None = None) -> str | None:
    """Why ``body`` is not an HTML page (for the record), or None when it may be read as one."""
    head = body[:16]
    for magic, what in _MAGIC:
        if head.startswith(magic) and not (magic == b"BM" and b"<" in body[:512]):
            return what
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind and not kind.startswith(_TEXTUAL) and "html" not in kind:
        return f"served as {kind}"
    sample = body[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 20:  # UTF-16 has NULs too, but a BOM says so first
        if not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "binary data"
    return None

"""Decoding page bytes: Chinese sites often send GBK or Big5 with a missing or wrong charset.

UTF-8 is tried first because strict UTF-8 decoding of anything else fails almost at once. Then
what the page declares. GBK and Big5 byte ranges overlap, so a page that declares nothing usable
is decoded both ways and the reading with more common characters wins.
"""

from __future__ import annotations

import codecs
import re

from cleaners.chars import common_share

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "big5": "big5hkscs",
            "x-big5": "big5hkscs", "cp950": "big5hkscs", "iso-8859-1": "cp1252", "latin-1": "cp1252"}
def normalise_name(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(body: bytes) -> str | None:
    m = _META.search(body[:4096])
    return m.group(1).decode("ascii", "ignore") if m else None


def decode_html(body: bytes, header_charset: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). Never raises: the last resort replaces undecodable bytes."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace"), "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace"), "utf-16"
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = [normalise_name(n) for n in (hint, header_charset, declared_charset(body))]
    readings = []
    for enc in dict.fromkeys([d for d in declared if d and d != "utf-8"] + ["gb18030", "big5hkscs"]):
        try:
            readings.append((enc, body.decode(enc)))
        except UnicodeDecodeError:
            continue
    if readings:
        first_enc, first_text = readings[0]
        if first_enc in declared and common_share(first_text) >= 0.5:
            return first_text, first_enc
        enc, text = max(readings, key=lambda r: common_share(r[1]))
        return text, enc
    return body.decode("gb18030", errors="replace"), "gb18030"

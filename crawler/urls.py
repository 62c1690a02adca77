"""Canonical URLs: one address per page, whatever tracking parameters or fragments a link carried."""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that name the visit, not the page: tracking, sessions and tokens (one article linked
# with a fresh ?token= each time is one page).
_TRACKING = re.compile(r"^(?:utm_\w+|spm|from|fromsource|ref|refer|referer|share(?:_\w+)?|fbclid|gclid|"
                       r"wxfrom|isappinstalled|scene|clicktime|_t|timestamp|sessionid|session|sessid|sid|s|"
                       r"jsessionid|phpsessid|aspsessionid\w*|cfid|cftoken|token|access_token|auth|nonce|rnd|rand)$",
                       re.I)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.I)  # /a/1.html;jsessionid=AB12
_PART = re.compile(r"[_-]\d{1,3}(?=\.\w{2,5}$)")


def canonical(url: str, drop: Collection[str] = ()) -> str:
    """Lower-case scheme and host, drop fragment, tracking parameters (and the site's own ``drop``,
    lower case) and default ports, sort the query."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and not (parts.scheme == "http" and parts.port == 80 or parts.scheme == "https" and parts.port == 443):
        host = f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k) and k.lower() not in drop)
    return urlunsplit((parts.scheme.lower(), host, _PATH_SESSION.sub("", parts.path) or "/", urlencode(query), ""))


def article_stem(url: str) -> str:
    """The URL without a page-number suffix: a.html, a_2.html and a-3.html share one stem."""
    parts = urlsplit(canonical(url))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in ("page", "p", "pn", "pageno")]
    return urlunsplit((parts.scheme, parts.netloc, _PART.sub("", parts.path), urlencode(query), ""))


def is_continuation(article_url: str, link_url: str) -> bool:
    """True when ``link_url`` is a later page of the same article."""
    return canonical(article_url) != canonical(link_url) and article_stem(article_url) == article_stem(link_url)

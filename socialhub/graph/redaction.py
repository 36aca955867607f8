"""Remove secrets (tokens, proofs, app secrets, OAuth codes) from URLs and free text before they are logged
or stored. `redact_text` is what the logging filter runs over every record."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

REDACTED = "[redacted]"

# Query parameters whose value is a credential. `code` is the OAuth authorization code.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "input_token",
        "appsecret_proof",
        "client_secret",
        "code",
        "fb_exchange_token",
        "refresh_token",
    }
)

_NAMES = "|".join(sorted(SECRET_PARAMS - {"code"}))
# name=value anywhere in text (also URL-encoded `=` as %3D). `code` alone is too common a word in log lines
# ("code=190"), so it is redacted only inside a query string, right after `?`, `&` or `#`.
_PAIR_RE = re.compile(rf"(?i)(\b(?:{_NAMES})(?:=|%3D))[^&\s\"'#<>]+")
_CODE_RE = re.compile(r"(?i)([?&#](?:amp;)?code(?:=|%3D))[^&\s\"'#<>]+")
# "access_token": "...", as in a JSON body or a repr of a dict.
_JSON_RE = re.compile(rf"(?i)([\"']?\b(?:{_NAMES}|code)[\"']?\s*:\s*[\"'])[^\"']*([\"'])")
# Authorization headers: "Authorization: OAuth <token>", "Bearer <token>"; long token-looking strings only,
# so that Meta's own prose ("Invalid OAuth access token") stays readable.
_AUTH_HEADER_RE = re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:OAuth|Bearer)\s+)[^\s\"',}]+")
_AUTH_SCHEME_RE = re.compile(r"(\b(?:OAuth|Bearer)\s+)[A-Za-z0-9\-._~+/|%]{16,}=*")
# Our own links that carry their permission in the path: a client's review link and an invitation.
_LINK_TOKEN_RE = re.compile(r"(/(?:review|invitations)/)[A-Za-z0-9_\-]{20,}")


def _redact_query(query: str) -> str:
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        name, sep, _value = part.partition("=")
        if sep and unquote_plus(name).lower() in SECRET_PARAMS:
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(part)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """Return `url` with the value of every credential query parameter (and fragment parameter, as OAuth
    redirects put tokens there) replaced by `[redacted]`. Everything else is kept as it was."""
    try:
        scheme, netloc, path, query, fragment = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if "@" in netloc:  # user:password@host
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    return urlunsplit((scheme, netloc, path, _redact_query(query), _redact_query(fragment)))


def redact_text(text: str) -> str:
    """Redact credentials inside any text: URLs, `access_token=...` pairs, JSON keys, Authorization headers and
    the tokens in the paths of review and invitation links."""
    if not text:
        return text
    text = _PAIR_RE.sub(rf"\1{REDACTED}", text)
    text = _CODE_RE.sub(rf"\1{REDACTED}", text)
    text = _JSON_RE.sub(rf"\1{REDACTED}\2", text)
    text = _AUTH_HEADER_RE.sub(rf"\1{REDACTED}", text)
    text = _AUTH_SCHEME_RE.sub(rf"\1{REDACTED}", text)
    text = _LINK_TOKEN_RE.sub(rf"\1{REDACTED}", text)
    return text

"""The Content-Security-Policy: SocialHub's own origin, plus only the outside hosts its pages need.

Built from settings values (the Meta URLs, the media bucket), so a deployment pointed at the sandbox, or at a
private S3-compatible store, allows exactly those hosts. Imported by `socialhub/settings.py`: no Django here."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

# Meta's own Graph API hosts. Any other Graph URL is a stand-in for Meta (the sandbox).
META_GRAPH_ORIGINS = frozenset({"https://graph.facebook.com", "https://graph.instagram.com"})
# Page and Instagram profile pictures (Channel.avatar_url) are links to Meta's CDNs.
META_PICTURE_SOURCES = ("https://*.fbcdn.net", "https://*.cdninstagram.com")


def origin(url: str) -> str:
    """`scheme://host[:port]` of an absolute URL: `http://127.0.0.1:8100/www.facebook.com` → `http://127.0.0.1:8100`."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"Not an absolute URL: {url!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def s3_origins(*, bucket: str, region: str | None = None, endpoint_url: str | None = None) -> list[str]:
    """Where presigned links to the media bucket point: the custom endpoint (an S3-compatible store), else AWS's
    global and regional virtual-hosted names of the bucket."""
    if endpoint_url:
        return [origin(endpoint_url)]
    names = [f"https://{bucket}.s3.amazonaws.com"]
    if region:
        names.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return names


def _unique(sources: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(sources))


def content_security_policy(
    *, facebook_url: str, instagram_www_url: str, graph_urls: Iterable[str], media_origins: Iterable[str] = ()
) -> dict[str, dict[str, list[str]]]:
    """The CONTENT_SECURITY_POLICY setting (django-csp 4)."""
    # Signing in with Facebook and connecting a channel post a form to SocialHub, which answers with a redirect
    # to Meta's consent dialog; browsers apply form-action to that redirect as well. The Instagram code
    # exchange (INSTAGRAM_API_URL) is made by the server, never by the browser.
    form_action = _unique(["'self'", origin(facebook_url), origin(instagram_www_url)])
    # data: for the small SVG icons in Bootstrap's stylesheet (checkboxes, select arrows). Channel pictures come
    # from Meta's CDNs; a stand-in Graph API (the sandbox) serves them itself.
    stand_ins = [o for o in map(origin, graph_urls) if o not in META_GRAPH_ORIGINS]
    img_src = _unique(["'self'", "data:", *META_PICTURE_SOURCES, *stand_ins, *media_origins])
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": img_src,
            "connect-src": ["'self'"],
            "frame-ancestors": ["'none'"],
            "form-action": form_action,
        }
    }

"""The composer's questions to Meta (products for product tags, the Page of an Instagram location), asked by a
worker: the web request stores a `GraphLookup` and the page polls it until the worker has stored the answer.

Places: Meta's `location_id` is the id of a Facebook Page that has a location (IG User media reference). Meta's
Pages search needs the Page Public Metadata Access feature, so the person pastes the Page's link or id and
SocialHub reads `GET /{id-or-username}?fields=id,name,location` with the channel's Facebook-Login token.
Instagram-Login tokens reach graph.instagram.com only, which serves no Pages: such a channel may give a numeric
id, used unverified (Meta checks it when the post is published)."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Channel, ConnectedVia, Platform, Workspace
from accounts.services.channels import channel_client, channel_record_error
from socialhub.graph import (
    GraphAuthError,
    GraphError,
    GraphPermissionError,
    GraphRateLimitError,
    GraphTransientError,
)

from ..models import GraphLookup
from . import catalog

logger = logging.getLogger(__name__)

REUSE_WINDOW = timedelta(minutes=10)  # the same question within this time is answered from the last answer
PENDING_TIMEOUT = timedelta(minutes=2)  # a worker that has not answered by then is not coming
KEEP_FOR = timedelta(days=1)
QUERY_MAX = 100

NO_PRODUCT_TAGS = "Product tags need an Instagram account connected through Facebook (with its Page)."
EMPTY_PRODUCTS = "Type a product name or SKU to search for."
EMPTY_PLACE = "Paste the link of the place's Facebook Page, or the Page's numeric id."
NOT_A_PAGE_LINK = (
    "That is not a link to a Facebook Page. Open the place's Page on Facebook and copy its address "
    "(such as https://www.facebook.com/yourfavouriteplace), or paste the Page's numeric id."
)
IG_LOGIN_NEEDS_ID = (
    "This Instagram account is connected through Instagram Login, which cannot look Facebook Pages up. Paste the "
    "Page's numeric id instead (a link such as https://www.facebook.com/profile.php?id=… works too)."
)
NO_ADDRESS = "That Page has no address, so Instagram cannot use it as a location."
TOO_LONG = f"That is too long: type at most {QUERY_MAX} characters."
QUEUE_DOWN = "SocialHub's background worker cannot be reached right now, so Meta was not asked. Try again shortly."
TIMED_OUT = "No answer came back from Meta in time (SocialHub's worker may be busy or stopped). Try again."
UNEXPECTED = "Something went wrong while asking Meta. Try again; if it keeps happening, tell your administrator."

FACEBOOK_HOSTS = frozenset(
    {"facebook.com", "www.facebook.com", "m.facebook.com", "mobile.facebook.com", "web.facebook.com", "fb.com"}
)
# First path segments of facebook.com links that are never a Page.
NOT_PAGES = frozenset(
    {
        "groups", "events", "watch", "marketplace", "gaming", "hashtag", "search", "share", "sharer", "sharer.php",
        "story.php", "permalink.php", "photo", "photo.php", "photos", "video.php", "videos", "reel", "reels",
        "stories", "login", "login.php", "home.php", "help", "privacy", "policies", "settings", "notifications",
        "messages", "friends", "bookmarks", "saved", "business", "ads", "dialog", "l.php", "plugins", "media",
    }
)  # fmt: skip
USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.]{4,49}")  # Facebook usernames: 5+ letters, digits, periods
DIGITS_RE = re.compile(r"\d+")
NAME_WITH_ID_RE = re.compile(r".+-(\d{6,})")  # older Page addresses: facebook.com/Some-Place-Name-123456789012


class LookupInvalid(ValueError):
    """The question cannot be asked as typed; the message says why, for the person who typed it."""


def parse_page_link(text: str) -> str:
    """The Page a pasted link or id names: its numeric id, or its username in lower case (Meta matches usernames
    without case). Accepts `https://www.facebook.com/<name-or-id>` (also m.facebook.com, without the scheme, with
    any further path or query), `profile.php?id=<id>`, `/pages/<name>/<id>`, `/people/<name>/<id>`, `/p/<name>-<id>`
    and a bare numeric id. Raises LookupInvalid for anything else."""
    text = text.strip()
    if DIGITS_RE.fullmatch(text):
        return text
    if not re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise LookupInvalid(NOT_A_PAGE_LINK) from None
    if parts.scheme.lower() not in ("http", "https") or host not in FACEBOOK_HOSTS:
        raise LookupInvalid(NOT_A_PAGE_LINK)
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise LookupInvalid(NOT_A_PAGE_LINK)
    first = segments[0].lower()
    if first == "profile.php":
        ids = parse_qs(parts.query).get("id", [])
        if ids and DIGITS_RE.fullmatch(ids[0]):
            return ids[0]
        raise LookupInvalid(NOT_A_PAGE_LINK)
    if first in ("pages", "people") and len(segments) >= 3 and DIGITS_RE.fullmatch(segments[2]):
        return segments[2]
    if first in ("p", "pg") and len(segments) >= 2:
        segments = segments[1:]
    elif first in NOT_PAGES or first in ("pages", "people", "p", "pg"):
        raise LookupInvalid(NOT_A_PAGE_LINK)
    name = segments[0]
    if DIGITS_RE.fullmatch(name):
        return name
    if found := NAME_WITH_ID_RE.fullmatch(name):
        return found.group(1)
    if USERNAME_RE.fullmatch(name) and not name.endswith(".php"):
        return name.lower()
    raise LookupInvalid(NOT_A_PAGE_LINK)


def _question(*, channel: Channel, kind: str, query: str) -> str:
    """The question as it is stored and compared: validated, in one canonical form."""
    query = " ".join(query.split())
    if kind == GraphLookup.Kind.PRODUCTS:
        if channel.platform != Platform.INSTAGRAM or channel.connected_via != ConnectedVia.FACEBOOK_LOGIN:
            raise LookupInvalid(NO_PRODUCT_TAGS)
        if not query:
            raise LookupInvalid(EMPTY_PRODUCTS)
        if len(query) > QUERY_MAX:
            raise LookupInvalid(TOO_LONG)
        return query
    if kind == GraphLookup.Kind.PLACE:
        if not query:
            raise LookupInvalid(EMPTY_PLACE)
        if len(query) > 300:
            raise LookupInvalid(NOT_A_PAGE_LINK)
        page = parse_page_link(query)
        if channel.connected_via == ConnectedVia.INSTAGRAM_LOGIN and not page.isdigit():
            raise LookupInvalid(IG_LOGIN_NEEDS_ID)
        return page
    raise LookupInvalid("SocialHub cannot ask Meta that.")


def lookup_start(*, workspace: Workspace, channel: Channel, kind: str, query: str) -> GraphLookup:
    """Ask Meta a question for the composer, off the web request. Returns the lookup to poll: the answer of the
    same question on the same channel from the last ten minutes when there is one (pending or done), else a new
    pending lookup whose task is queued once the transaction commits. A place asked through an Instagram-Login
    channel is answered at once, unverified. Raises LookupInvalid (its message is for the person)."""
    if channel.workspace_id != workspace.pk:
        raise LookupInvalid("That account is not in this workspace.")
    question = _question(channel=channel, kind=kind, query=query)
    now = timezone.now()
    GraphLookup.objects.filter(workspace=workspace, created_at__lt=now - KEEP_FOR).delete()
    _expire_pending(workspace, now)
    recent = (
        GraphLookup.objects.filter(
            workspace=workspace, channel=channel, kind=kind, query=question, created_at__gte=now - REUSE_WINDOW
        )
        .filter(status__in=(GraphLookup.Status.PENDING, GraphLookup.Status.DONE))
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        return recent
    if kind == GraphLookup.Kind.PLACE and channel.connected_via == ConnectedVia.INSTAGRAM_LOGIN:
        place = {"id": question, "name": "", "address": "", "verified": False}
        return GraphLookup.objects.create(
            workspace=workspace, channel=channel, kind=kind, query=question, status=GraphLookup.Status.DONE,
            results=[place],
        )  # fmt: skip
    lookup = GraphLookup.objects.create(workspace=workspace, channel=channel, kind=kind, query=question)
    transaction.on_commit(functools.partial(_send, lookup.pk))
    return lookup


def _send(lookup_id: int) -> None:
    from ..tasks import run_graph_lookup

    try:
        run_graph_lookup.delay(lookup_id)
    except Exception:
        logger.warning("could not queue graph lookup %s", lookup_id, exc_info=True)
        _finish(lookup_id, status=GraphLookup.Status.FAILED, error=QUEUE_DOWN)


def _expire_pending(workspace: Workspace, now: datetime) -> None:
    GraphLookup.objects.filter(
        workspace=workspace, status=GraphLookup.Status.PENDING, created_at__lt=now - PENDING_TIMEOUT
    ).update(status=GraphLookup.Status.FAILED, error=TIMED_OUT)


def lookup_refresh(lookup: GraphLookup) -> GraphLookup:
    """The lookup as it is now; one still pending after PENDING_TIMEOUT is failed, so the page stops polling."""
    if lookup.status == GraphLookup.Status.PENDING and lookup.created_at < timezone.now() - PENDING_TIMEOUT:
        _finish(lookup.pk, status=GraphLookup.Status.FAILED, error=TIMED_OUT)
    lookup.refresh_from_db()
    return lookup


def _finish(lookup_id: int, *, status: str, results: list[dict[str, Any]] | None = None, error: str = "") -> bool:
    """Store the answer, once: only a lookup still pending takes it."""
    return bool(
        GraphLookup.objects.filter(pk=lookup_id, status=GraphLookup.Status.PENDING).update(
            status=status, results=results or [], error=error
        )
    )


def lookup_run(lookup_id: int) -> None:
    """Ask Meta and store the answer or the reason there is none. Safe to run twice: a lookup that is no longer
    pending (answered, failed, timed out) is left as it is."""
    lookup = GraphLookup.objects.select_related("channel").filter(pk=lookup_id).first()
    if lookup is None or lookup.status != GraphLookup.Status.PENDING:
        return
    try:
        if lookup.kind == GraphLookup.Kind.PRODUCTS:
            results = _products(lookup)
        else:
            results = _place(lookup)
    except (LookupInvalid, catalog.CatalogUnavailable) as exc:
        _finish(lookup_id, status=GraphLookup.Status.FAILED, error=str(exc))
    except ValidationError as exc:  # the channel was disconnected meanwhile
        _finish(lookup_id, status=GraphLookup.Status.FAILED, error=" ".join(exc.messages))
    except GraphError as exc:
        if isinstance(exc, GraphAuthError):
            channel_record_error(channel=lookup.channel, error=exc)
        logger.info("graph lookup %s failed: %s", lookup_id, exc.operator_details())
        _finish(lookup_id, status=GraphLookup.Status.FAILED, error=_graph_error_words(lookup, exc))
    except Exception:
        logger.exception("graph lookup %s failed", lookup_id)
        _finish(lookup_id, status=GraphLookup.Status.FAILED, error=UNEXPECTED)
    else:
        _finish(lookup_id, status=GraphLookup.Status.DONE, results=results)


def _products(lookup: GraphLookup) -> list[dict[str, Any]]:
    found = catalog.catalog_product_search(channel=lookup.channel, query=lookup.query)
    return [dataclasses.asdict(product) for product in found]


def _place(lookup: GraphLookup) -> list[dict[str, Any]]:
    page = channel_client(lookup.channel).get(lookup.query, fields="id,name,location")
    location = page.get("location") or {}
    if not isinstance(location, dict) or not any(
        location.get(key) not in (None, "") for key in ("street", "city", "country", "latitude", "longitude")
    ):
        raise LookupInvalid(NO_ADDRESS)
    address = ", ".join(str(location[key]) for key in ("street", "city", "country") if location.get(key))
    return [{"id": str(page["id"]), "name": page.get("name", ""), "address": address, "verified": True}]


def _graph_error_words(lookup: GraphLookup, exc: GraphError) -> str:
    products = lookup.kind == GraphLookup.Kind.PRODUCTS
    if isinstance(exc, GraphAuthError):
        words = "Meta no longer accepts this account's connection. Reconnect the account on the Channels page."
    elif isinstance(exc, GraphPermissionError):
        words = (
            "SocialHub may not read this account's product catalog. Reconnect the account and allow catalog "
            "access when Meta asks."
            if products
            else "Meta did not let SocialHub read that Page (reading a Page this account does not manage needs "
            "Meta's Page Public Metadata Access feature)."
        )
    elif isinstance(exc, GraphRateLimitError):
        words = "Meta asks SocialHub to slow down. Try again in a few minutes."
    elif isinstance(exc, GraphTransientError):
        words = "Meta did not answer properly just now. Try again in a moment."
    elif not products and (exc.code == 803 or (exc.code == 100 and exc.subcode == 33)):
        words = "Meta cannot find that Page, or does not let this account see it. Check the link."
    else:
        words = "Meta refused the product search." if products else "Meta refused to look that Page up."
    meta = exc.meta_message or ""
    return f"{words} Meta's answer: {meta}" if meta else words

"""Connecting Facebook Pages and Instagram accounts to a workspace, and keeping their tokens alive.

Flow (Facebook Login for Business): code → short-lived user token (allauth) → long-lived user token
(`fb_exchange_token`) → `/me/accounts` (Pages with their Page tokens, which never expire when obtained from a
long-lived user token, and each Page's linked Instagram professional account) → the user picks → channels.
Instagram Login: code → one-hour token → 60-day token (allauth provider) → the account → channels.
Sources: developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived,
…/docs/pages-api/overview, …/docs/instagram-platform/instagram-api-with-instagram-login/business-login.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from socialhub.graph import GraphAuthError, GraphClient, GraphError, GraphPermissionError

from ..models import Channel, ChannelStatus, ConnectedVia, PendingConnection, Platform, Workspace
from ..roles import Capability
from ..scopes import missing_scopes

if TYPE_CHECKING:
    from ..models import User

logger = logging.getLogger(__name__)

PENDING_CONNECTION_LIFETIME = timedelta(minutes=30)
# Instagram-Login tokens can be refreshed once they are a day old; we refresh those that expire within ten days.
IG_REFRESH_MIN_AGE = timedelta(days=1)
IG_REFRESH_WINDOW = timedelta(days=10)
# The scope whose per-asset grant tells whether the person ticked a Page or an Instagram account.
_ASSET_SCOPE = {Platform.FACEBOOK_PAGE: "pages_show_list", Platform.INSTAGRAM: "instagram_basic"}
PAGE_FIELDS = [
    "id",
    "name",
    {"picture": ["url"]},
    {"instagram_business_account": ["id", "username", "name", "profile_picture_url"]},
]


@dataclass(frozen=True)
class Candidate:
    """One account offered in the picker after consent."""

    key: str  # "<platform>:<external id>"
    platform: str
    external_id: str
    name: str
    username: str
    avatar_url: str
    page_id: str

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Candidate:
        return cls(**data)


def _expires_at(seconds: Any) -> datetime | None:
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return None
    return timezone.now() + timedelta(seconds=seconds) if seconds > 0 else None


# --- Facebook Login --------------------------------------------------------------------------------------
def facebook_exchange_long_lived(*, short_lived_token: str) -> tuple[str, datetime | None]:
    answer = GraphClient(access_token=short_lived_token).request(
        "GET",
        "oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "fb_exchange_token": short_lived_token,
        },
        authenticate=False,
    )
    return answer["access_token"], _expires_at(answer.get("expires_in"))


def facebook_permissions(*, user_token: str) -> tuple[list[str], list[str]]:
    answer = GraphClient(access_token=user_token).get("me/permissions")
    granted = [p["permission"] for p in answer.get("data", []) if p.get("status") == "granted"]
    declined = [p["permission"] for p in answer.get("data", []) if p.get("status") == "declined"]
    return granted, declined


def _facebook_candidates(*, user_token: str) -> list[Candidate]:
    candidates: list[Candidate] = []
    for page in GraphClient(access_token=user_token).paginate("me/accounts", fields=PAGE_FIELDS, max_pages=20):
        picture = (page.get("picture") or {}).get("data", {}).get("url", "")
        candidates.append(
            Candidate(
                f"{Platform.FACEBOOK_PAGE}:{page['id']}",
                Platform.FACEBOOK_PAGE,
                page["id"],
                page["name"],
                "",
                picture,
                "",
            )
        )
        ig = page.get("instagram_business_account")
        if ig:
            candidates.append(
                Candidate(
                    f"{Platform.INSTAGRAM}:{ig['id']}",
                    Platform.INSTAGRAM,
                    ig["id"],
                    ig.get("name") or "",
                    ig.get("username") or "",
                    ig.get("profile_picture_url") or "",
                    page["id"],
                )
            )
    return candidates


def pending_connection_from_facebook(*, workspace: Workspace, user: User, short_lived_token: str) -> PendingConnection:
    """After Facebook consent: swap for a long-lived token and list what the person granted."""
    user_token, expires_at = facebook_exchange_long_lived(short_lived_token=short_lived_token)
    granted, declined = facebook_permissions(user_token=user_token)
    granular = debug_token(user_token).get("granular_scopes", [])
    # Offer only what the person ticked in Meta's dialog: an asset outside a scope's target ids was not granted.
    candidates = [
        c
        for c in _facebook_candidates(user_token=user_token)
        if _granted_for(c.external_id, granted=[_ASSET_SCOPE[c.platform]], granular=granular)
    ]
    PendingConnection.objects.filter(user=user, created_at__lt=timezone.now() - PENDING_CONNECTION_LIFETIME).delete()
    return PendingConnection.objects.create(
        workspace=workspace,
        user=user,
        connected_via=ConnectedVia.FACEBOOK_LOGIN,
        user_token=user_token,
        user_token_expires_at=expires_at,
        candidates=[c.__dict__ for c in candidates],
        granted_scopes=granted,
        declined_scopes=declined,
    )


@transaction.atomic
def pending_connection_from_instagram(
    *, workspace: Workspace, user: User, token: str, expires_at: datetime | None, profile: dict, permissions: list[str]
) -> PendingConnection:
    """After Instagram Login consent (the provider already holds the 60-day token and the profile)."""
    ig_id = str(profile.get("user_id") or profile["id"])
    candidate = Candidate(
        f"{Platform.INSTAGRAM}:{ig_id}",
        Platform.INSTAGRAM,
        ig_id,
        profile.get("name") or "",
        profile.get("username") or "",
        profile.get("profile_picture_url") or "",
        "",
    )
    return PendingConnection.objects.create(
        workspace=workspace,
        user=user,
        connected_via=ConnectedVia.INSTAGRAM_LOGIN,
        user_token=token,
        user_token_expires_at=expires_at,
        candidates=[candidate.__dict__],
        granted_scopes=permissions,
        declined_scopes=[],
    )


def pending_connection_get(*, public_id: Any, workspace: Workspace, user: User) -> PendingConnection | None:
    return PendingConnection.objects.filter(
        public_id=public_id,
        workspace=workspace,
        user=user,
        created_at__gte=timezone.now() - PENDING_CONNECTION_LIFETIME,
    ).first()


def candidates_connected_elsewhere(*, pending: PendingConnection) -> dict[str, Workspace]:
    """Which offered accounts are already live in another workspace of the same agency (key → workspace)."""
    ids = [c["external_id"] for c in pending.candidates]
    taken = (
        Channel.objects.filter(workspace__agency_id=pending.workspace.agency_id, external_id__in=ids)
        .exclude(workspace=pending.workspace)
        .exclude(status=ChannelStatus.DISCONNECTED)
        .select_related("workspace")
    )
    return {f"{c.platform}:{c.external_id}": c.workspace for c in taken}


def _granted_for(*target_ids: str, granted: list[str], granular: list[dict]) -> list[str]:
    """Scopes that apply to one Page or Instagram account (and, for Instagram, its Page): Meta lists per-asset
    grants in `granular_scopes`; an entry without `target_ids` applies to every asset, one with an empty list to
    none (the person unticked every asset of that kind in the dialog)."""
    targeted = {g["scope"]: set(g["target_ids"]) for g in granular if g.get("target_ids") is not None}
    ids = {t for t in target_ids if t}
    return sorted(s for s in granted if s not in targeted or ids & targeted[s])


def debug_token(token: str) -> dict:
    """`debug_token` read with the app token: validity, expiry, scopes and per-asset grants of any token."""
    return GraphClient.for_app().get("debug_token", params={"input_token": token}).get("data", {})


def pending_connection_confirm(*, pending: PendingConnection, keys: list[str], user: User) -> list[Channel]:
    """Turn the picked accounts into channels of the workspace. Reconnecting an existing channel keeps the
    row (and so its history and scheduled posts) and only replaces its token and status."""
    chosen = [Candidate.from_dict(c) for c in pending.candidates if c["key"] in set(keys)]
    if not chosen:
        raise ValidationError("Tick the accounts to connect to this workspace. Nothing was connected.")
    elsewhere = candidates_connected_elsewhere(pending=pending)
    blocked = [c for c in chosen if c.key in elsewhere]
    if blocked:
        names = ", ".join(f"{c.username or c.name} (in {elsewhere[c.key].name})" for c in blocked)
        raise ValidationError(f"Already connected to another workspace: {names}. Disconnect it there first.")

    now = timezone.now()
    page_tokens: dict[str, str] = {}
    granular: list[dict] = []
    if pending.connected_via == ConnectedVia.FACEBOOK_LOGIN:
        page_tokens = {
            page["id"]: page["access_token"]
            for page in GraphClient(access_token=pending.user_token).paginate(
                "me/accounts", fields="id,access_token", max_pages=20
            )
        }
        granular = debug_token(pending.user_token).get("granular_scopes", [])
    # Meta was asked everything above; the writes below are quick and all or nothing.
    with transaction.atomic():
        return _save_channels(pending, chosen, user, page_tokens, granular, now)


def _save_channels(
    pending: PendingConnection,
    chosen: list[Candidate],
    user: User,
    page_tokens: dict[str, str],
    granular: list[dict],
    now: Any,
) -> list[Channel]:
    channels = []
    for candidate in chosen:
        if pending.connected_via == ConnectedVia.FACEBOOK_LOGIN:
            page_id = candidate.page_id or candidate.external_id
            if page_id not in page_tokens:
                raise ValidationError(f"Facebook no longer lists {candidate.name or candidate.username}. Try again.")
            # A Page token obtained with a long-lived user token does not expire.
            token, expires_at = page_tokens[page_id], None
            scopes = _granted_for(
                candidate.external_id, candidate.page_id, granted=pending.granted_scopes, granular=granular
            )
        else:
            token, expires_at, scopes = pending.user_token, pending.user_token_expires_at, pending.granted_scopes
        channel, _created = Channel.objects.update_or_create(
            workspace=pending.workspace,
            platform=candidate.platform,
            external_id=candidate.external_id,
            defaults={
                "connected_via": pending.connected_via,
                "page_id": candidate.page_id,
                "name": candidate.name or candidate.username,
                "username": candidate.username,
                "avatar_url": candidate.avatar_url,
                "access_token": token,
                "token_issued_at": now,
                "token_expires_at": expires_at,
                "granted_scopes": scopes,
                "status": ChannelStatus.ACTIVE,
                "status_reason": "",
                "last_error": "",
                "last_error_at": None,
                "last_checked_at": now,
                "connected_by": user,
                "connected_at": now,
                "disconnected_at": None,
            },
        )
        _flag_missing_scopes(channel)
        channels.append(channel)
        transaction.on_commit(functools.partial(_queue_after_connect, channel.pk))
    pending.delete()
    return channels


# What other apps do once a channel is connected: the inbox asks Meta for the channel's webhooks and brings in the
# comments of its recent posts; insights fill the channel's history as far back as Meta allows.
AFTER_CONNECT_TASKS = ("inbox.subscribe_channel", "analytics.sync_channel")


def _queue_after_connect(channel_id: int) -> None:
    for task in AFTER_CONNECT_TASKS:
        try:
            current_app.send_task(task, args=[channel_id])
        except Exception:
            logger.warning("could not queue %s for channel %s", task, channel_id, exc_info=True)


def _flag_missing_scopes(channel: Channel) -> bool:
    missing = missing_scopes(
        platform=channel.platform, connected_via=channel.connected_via, granted=channel.granted_scopes
    )
    if not missing:
        return False
    needed = "; ".join(f"{name} (to {why})" for name, why in missing.items())
    channel_mark_needs_reconnect(channel=channel, reason=f"Permissions missing: {needed}. Reconnect and allow them.")
    return True


# --- Status --------------------------------------------------------------------------------------------------
_CONNECTED = (ChannelStatus.ACTIVE, ChannelStatus.NEEDS_RECONNECT)


def _channel_update(channel: Channel, *, statuses: tuple[str, ...] = _CONNECTED, **values: Any) -> bool:
    """Write `values` on the channel only while it is still the connection `channel` was read as (same
    `connected_at`) and in one of `statuses`; then mirror them on `channel`.

    Meta can take seconds to answer. A disconnect made meanwhile (another request) or a reconnect (which stamps a
    new `connected_at`) wins: the stale object is never saved over it. Returns False when the write lost; then
    `channel` is reloaded, so its caller sees the status and token as they are now."""
    updated = Channel.objects.filter(pk=channel.pk, status__in=statuses, connected_at=channel.connected_at).update(
        **values
    )
    if updated:
        for name, value in values.items():
            setattr(channel, name, value)
        return True
    try:
        channel.refresh_from_db(fields=["status", "status_reason", "access_token", "connected_at", "disconnected_at"])
    except Channel.DoesNotExist:
        pass
    logger.info(
        "channel %s changed while Meta was asked (now %s); its answer is not written", channel.pk, channel.status
    )
    return False


def channel_mark_needs_reconnect(*, channel: Channel, reason: str, error: GraphError | None = None) -> bool:
    """Ask the workspace to reconnect the channel. A channel disconnected meanwhile stays disconnected."""
    values: dict[str, Any] = {"status": ChannelStatus.NEEDS_RECONNECT, "status_reason": reason}
    if error is not None:
        values.update(last_error=_describe(error), last_error_at=timezone.now())
    was = channel.status
    if not _channel_update(channel, **values):
        return False
    logger.info("channel %s needs reconnect: %s", channel.pk, reason)
    if was == ChannelStatus.ACTIVE:
        _tell_reconnect(channel, reason)
    return True


def _tell_reconnect(channel: Channel, reason: str) -> None:
    """The people who manage channels (and whoever connected it) hear once per connection that it needs them."""
    from notifications.models import Kind
    from notifications.services import notify

    from ..access import people_with

    workspace = channel.workspace
    try:
        notify(
            kind=Kind.CHANNEL_RECONNECT,
            users=[*people_with(workspace, Capability.CHANNELS_MANAGE), channel.connected_by],
            workspace=workspace,
            title=f"Reconnect {channel.display_name}",
            body=reason,
            url=reverse("accounts:channels", kwargs={"workspace_id": workspace.public_id}),
            key=f"channel:{channel.pk}:reconnect:{channel.connected_at.timestamp():.0f}",
        )
    except Exception:
        logger.exception("could not notify about channel %s", channel.pk)


def _describe(error: GraphError) -> str:
    trace = f" (Meta trace {error.fbtrace_id})" if error.fbtrace_id else ""
    return f"{error.message}{trace}"


def channel_record_error(*, channel: Channel, error: GraphError) -> None:
    """Keep Meta's last refusal on the channel; a token or permission refusal means reconnecting is needed."""
    if isinstance(error, GraphAuthError | GraphPermissionError):
        channel_mark_needs_reconnect(channel=channel, reason=error.message, error=error)
        return
    _channel_update(channel, last_error=_describe(error), last_error_at=timezone.now())


def channel_client(channel: Channel) -> GraphClient:
    if channel.status == ChannelStatus.DISCONNECTED or not channel.access_token:
        raise ValidationError(f"{channel.display_name} is disconnected. Connect it again to use it.")
    return GraphClient(access_token=channel.access_token, host=channel.graph_host, channel_id=channel.pk)  # type: ignore[arg-type]


def channel_check_token(*, channel: Channel) -> bool:
    """Ask Meta whether the channel's token still works and still carries the permissions it needs.
    Returns True when the channel is usable; otherwise it is marked "needs reconnect" with the reason.

    Every write is conditional on the channel still being the connection that was asked about: one disconnected
    or reconnected while Meta answered is left as it is now (and False is returned for a disconnected one)."""
    if channel.status == ChannelStatus.DISCONNECTED:
        return False
    now = timezone.now()
    if channel.token_expires_at and channel.token_expires_at <= now:
        channel_mark_needs_reconnect(channel=channel, reason="The connection expired. Reconnect the account.")
        return False
    try:
        if channel.connected_via == ConnectedVia.FACEBOOK_LOGIN:
            data = debug_token(channel.access_token)
            if not data.get("is_valid"):
                why = (data.get("error") or {}).get("message") or "Facebook no longer accepts this connection."
                channel_mark_needs_reconnect(channel=channel, reason=f"{why} Reconnect the account.")
                return False
            granted = _granted_for(
                channel.external_id,
                channel.page_id,
                granted=data.get("scopes", []),
                granular=data.get("granular_scopes", []),
            )
        else:
            channel_client(channel).get("me", fields="user_id,username")
            granted = channel.granted_scopes
    except (GraphAuthError, GraphPermissionError) as exc:
        channel_record_error(channel=channel, error=exc)
        return False
    if not _channel_update(channel, granted_scopes=granted, last_checked_at=now):
        return False  # disconnected or reconnected while Meta answered: the answer is about a connection now gone
    if _flag_missing_scopes(channel):
        return False
    if channel.status == ChannelStatus.NEEDS_RECONNECT:
        _channel_update(
            channel, statuses=(ChannelStatus.NEEDS_RECONNECT,), status=ChannelStatus.ACTIVE, status_reason=""
        )
    return channel.status == ChannelStatus.ACTIVE


def channel_refresh_instagram_token(*, channel: Channel) -> None:
    """Swap an Instagram-Login token for a fresh 60-day one (`ig_refresh_token`; allowed once it is a day old).
    The new token is kept only if the channel is still the same connection: a disconnect made while Meta answered
    must not bring a token back."""
    client = channel_client(channel)
    try:
        answer = client.request("GET", "refresh_access_token", params={"grant_type": "ig_refresh_token"})
    except GraphError as exc:
        channel_record_error(channel=channel, error=exc)
        raise
    _channel_update(
        channel,
        access_token=answer["access_token"],
        token_issued_at=timezone.now(),
        token_expires_at=_expires_at(answer.get("expires_in")),
    )


def channels_due_for_refresh() -> list[int]:
    now = timezone.now()
    return list(
        Channel.objects.filter(
            connected_via=ConnectedVia.INSTAGRAM_LOGIN,
            status=ChannelStatus.ACTIVE,
            token_issued_at__lte=now - IG_REFRESH_MIN_AGE,
            token_expires_at__lte=now + IG_REFRESH_WINDOW,
            token_expires_at__gt=now,
        ).values_list("pk", flat=True)
    )


@transaction.atomic
def channel_disconnect(*, channel: Channel) -> int:
    """Stop using the channel: its token is dropped, its history kept, publishing to it stops. Posts that were
    still to go out on it fail with the reason (and can be retried after reconnecting); drafts and posts
    awaiting approval stay as they are. Publishing owns its rows: it stops them, in this same transaction.
    Returns how many were stopped."""
    from publishing.services.transitions import channel_disconnected

    stopped = channel_disconnected(channel)
    channel.status = ChannelStatus.DISCONNECTED
    channel.status_reason = "Disconnected by your team."
    channel.access_token = ""
    channel.disconnected_at = timezone.now()
    channel.save(update_fields=["status", "status_reason", "access_token", "disconnected_at"])
    return stopped

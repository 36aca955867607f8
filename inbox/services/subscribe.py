"""Asking Meta to send a channel's new comments to SocialHub's webhook (graph-api reference §3.3).

- A Page: `POST /{page-id}/subscribed_apps` with `subscribed_fields=feed` and the Page token (needs
  `pages_manage_metadata`).
- An Instagram account through Facebook Login: its Page is subscribed the same way, with the channel's token
  (the Page token); the Page subscription carries the account's `comments` and `mentions` webhooks.
- An Instagram account through Instagram Login: `POST /me/subscribed_apps` with
  `subscribed_fields=comments,mentions` on graph.instagram.com.
Without a subscription comments still arrive, by the poll, every few minutes."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Channel, ChannelStatus, ConnectedVia
from accounts.services.channels import channel_client, channel_record_error
from socialhub.graph import GraphAuthError, GraphError, GraphPermissionError

from ..models import ChannelSync

logger = logging.getLogger(__name__)

PAGE_FIELDS = "feed"
INSTAGRAM_LOGIN_FIELDS = "comments,mentions"
SLOWER_WITHOUT = "until then they arrive every few minutes."


def _permission_words(channel: Channel) -> str:
    if channel.connected_via == ConnectedVia.INSTAGRAM_LOGIN:
        return (
            "Give SocialHub the 'instagram_business_manage_comments' permission so new comments arrive in seconds; "
            + SLOWER_WITHOUT
        )
    return "Give SocialHub the 'pages_manage_metadata' permission so new comments arrive in seconds; " + SLOWER_WITHOUT


def channel_subscribe(channel: Channel) -> bool:
    """Subscribe the channel to the webhooks. Returns whether Meta confirmed; otherwise the reason is kept on
    the channel's inbox bookkeeping, in words (and a refused token asks for a reconnect)."""
    if channel.status != ChannelStatus.ACTIVE:
        return False
    try:
        client = channel_client(channel)
        if channel.connected_via == ConnectedVia.INSTAGRAM_LOGIN:
            answer = client.post("me/subscribed_apps", data={"subscribed_fields": INSTAGRAM_LOGIN_FIELDS})
        else:
            page_id = channel.page_id or channel.external_id
            answer = client.post(f"{page_id}/subscribed_apps", data={"subscribed_fields": PAGE_FIELDS})
    except ValidationError as exc:
        _record(channel, error=" ".join(exc.messages))
        return False
    except GraphPermissionError as exc:
        _record(channel, error=_permission_words(channel))
        logger.info("channel %s not subscribed: %s", channel.pk, exc.operator_details())
        return False
    except GraphAuthError as exc:
        channel_record_error(channel=channel, error=exc)
        _record(channel, error=exc.message)
        return False
    except GraphError as exc:
        _record(channel, error=f"{exc.message} New comments arrive every few minutes until this works.")
        return False
    if answer.get("success") is False:
        _record(channel, error="Meta did not confirm the subscription. New comments arrive every few minutes.")
        return False
    _record(channel, subscribed=True)
    return True


def _record(channel: Channel, *, subscribed: bool = False, error: str = "") -> None:
    values: dict[str, object] = {"subscribe_error": error}
    if subscribed:
        values["subscribed_at"] = timezone.now()
    ChannelSync.objects.update_or_create(channel=channel, defaults=values)

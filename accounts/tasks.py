"""Background work for accounts: invitation clean-up and keeping channel tokens alive. Thin: id in, load,
service, retry decision."""

from __future__ import annotations

from celery import shared_task

from socialhub.graph import GraphError

from .models import Channel, ChannelStatus
from .services import channels as channel_services
from .services import invitations_prune


@shared_task(name="accounts.prune_expired_invitations")
def prune_expired_invitations() -> int:
    """Delete invitations that expired unused more than 30 days ago."""
    return invitations_prune(older_than_days=30)


@shared_task(name="accounts.refresh_instagram_tokens")
def refresh_instagram_tokens() -> int:
    """Queue a refresh for every Instagram-Login token older than a day that expires within ten days."""
    due = channel_services.channels_due_for_refresh()
    for channel_id in due:
        refresh_instagram_token.delay(channel_id)
    return len(due)


@shared_task(bind=True, name="accounts.refresh_instagram_token", max_retries=5)
def refresh_instagram_token(self, channel_id: int) -> None:  # type: ignore[no-untyped-def]
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    if channel is None:
        return
    try:
        channel_services.channel_refresh_instagram_token(channel=channel)
    except GraphError as exc:
        if exc.retryable and self.request.retries < self.max_retries:
            raise self.retry(countdown=exc.retry_delay(self.request.retries)) from exc


@shared_task(name="accounts.check_channel_tokens")
def check_channel_tokens() -> int:
    """Daily: ask Meta about every connected channel's token and permissions."""
    ids = list(Channel.objects.exclude(status=ChannelStatus.DISCONNECTED).values_list("pk", flat=True))
    for channel_id in ids:
        check_channel_token.delay(channel_id)
    return len(ids)


@shared_task(bind=True, name="accounts.check_channel_token", max_retries=3)
def check_channel_token(self, channel_id: int) -> None:  # type: ignore[no-untyped-def]
    channel = Channel.objects.filter(pk=channel_id).exclude(status=ChannelStatus.DISCONNECTED).first()
    if channel is None:
        return
    try:
        channel_services.channel_check_token(channel=channel)
    except GraphError as exc:  # not about the token (those are recorded): Meta was busy or down
        channel_services.channel_record_error(channel=channel, error=exc)
        if exc.retryable and self.request.retries < self.max_retries:
            raise self.retry(countdown=exc.retry_delay(self.request.retries)) from exc

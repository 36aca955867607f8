"""Inbox tasks: thin. Id in → load → service → retry decision."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts.models import Channel, ChannelStatus

from .models import WebhookDelivery
from .services import ingest, subscribe, sync

logger = logging.getLogger(__name__)

PROCESS_WEBHOOK = "inbox.process_webhook"
POLL_CHANNEL = "inbox.poll_channel"
# A stored delivery still unprocessed this long after it came was never queued (the broker was down): again.
STUCK_WEBHOOK_AFTER = timedelta(minutes=5)
STUCK_WEBHOOK_MAX_AGE = timedelta(days=1)


@shared_task(name=PROCESS_WEBHOOK, bind=True, ignore_result=True, max_retries=4)
def process_webhook(self, delivery_id: int) -> int:  # type: ignore[no-untyped-def]
    """Apply one webhook delivery. Safe to run twice: a processed delivery is left alone and storing is
    idempotent. A failure is kept on the delivery and tried again with a growing wait; the last one closes it
    (the next poll brings what it held)."""
    try:
        return ingest.webhook_process(delivery_id)
    except Exception as exc:
        last = self.request.retries >= self.max_retries
        ingest.webhook_record_error(delivery_id=delivery_id, error=exc, final=last)
        if last:
            logger.exception("webhook delivery %s failed for good", delivery_id)
            return 0
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from None


@shared_task(name="inbox.poll_channels", ignore_result=True)
def poll_channels() -> int:
    """Every INBOX_POLL_SECONDS: one poll per active channel, and deliveries the broker never took, again."""
    now = timezone.now()
    stuck = WebhookDelivery.objects.filter(
        processed_at__isnull=True,
        error="",
        received_at__lt=now - STUCK_WEBHOOK_AFTER,
        received_at__gte=now - STUCK_WEBHOOK_MAX_AGE,
    ).values_list("pk", flat=True)
    for delivery_id in stuck:
        process_webhook.delay(delivery_id)
    channel_ids = list(Channel.objects.filter(status=ChannelStatus.ACTIVE).values_list("pk", flat=True))
    for channel_id in channel_ids:
        poll_channel.delay(channel_id)
    return len(channel_ids)


@shared_task(name=POLL_CHANNEL, bind=True, ignore_result=True, max_retries=3)
def poll_channel(self, channel_id: int, backfill: bool = False) -> str:  # type: ignore[no-untyped-def]
    """Read one channel's recent comments. Safe to run twice (storing is idempotent). While Meta reports the
    channel's usage high a backfill comes back later; a regular poll waits for the next round."""
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    if channel is None:
        return "skipped"
    result = sync.channel_poll(channel, backfill=backfill)
    if result.postponed and backfill and self.request.retries < self.max_retries:
        raise self.retry(countdown=max(result.postponed, 1.0))
    if result.error:
        return "failed"
    return "postponed" if result.postponed else "done"


@shared_task(name="inbox.subscribe_channel", ignore_result=True)
def subscribe_channel(channel_id: int) -> str:
    """A channel was just connected: ask Meta for its webhooks, then bring in the comments of its recent posts."""
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    if channel is None:
        return "skipped"
    subscribe.channel_subscribe(channel)
    result = sync.channel_poll(channel, backfill=True)
    if result.postponed:
        # Usage is high: the backfill comes back later (the subscription is not asked for twice).
        poll_channel.apply_async(args=[channel_id, True], countdown=max(result.postponed, 1.0))
        return "postponed"
    return "failed" if result.error else "done"

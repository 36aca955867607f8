"""Inbox tasks: thin. Id in → load → service → retry decision."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Channel, ChannelStatus

from .models import ChannelSync, WebhookDelivery
from .services import ingest, subscribe, sync

logger = logging.getLogger(__name__)

PROCESS_WEBHOOK = "inbox.process_webhook"
POLL_CHANNEL = "inbox.poll_channel"
SUBSCRIBE_CHANNEL = "inbox.subscribe_channel"
# A stored delivery still unprocessed this long after it came, or after it was last queued, lost its task (the
# broker was down, a worker died, a retry was dropped): queued again.
STUCK_WEBHOOK_AFTER = timedelta(minutes=5)
# Older than this and still unprocessed: given up (the poll has long brought its comments).
STUCK_WEBHOOK_MAX_AGE = timedelta(days=1)
GIVEN_UP = "Not processed within a day: given up (the poll brings its comments)."
# A channel without a webhook subscription is asked for one at most this often while its task is outstanding.
SUBSCRIBE_EVERY = timedelta(hours=1)
PRUNE_BATCH = 5000
STUCK_WEBHOOK_BATCH = 2000  # per round, oldest first: a backlog drains over several rounds


def _queued_key(delivery_id: int) -> str:
    return f"inbox:webhook-queued:{delivery_id}"


def _requeue_due(delivery_id: int) -> bool:
    """Whether the delivery's task is overdue, noting that it is queued again now. Each time it is queued again
    the next wait doubles (5, 10, 20 minutes…): a long backlog is not flooded with copies of the same delivery."""
    if cache.get(_queued_key(delivery_id)) is not None:
        return False
    count_key = f"inbox:webhook-requeues:{delivery_id}"
    requeues = cache.get(count_key, 0)
    cache.set(count_key, requeues + 1, timeout=int(STUCK_WEBHOOK_MAX_AGE.total_seconds()))
    wait = STUCK_WEBHOOK_AFTER.total_seconds() * 2 ** min(requeues, 8)
    return bool(cache.add(_queued_key(delivery_id), True, timeout=int(wait)))


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
        countdown = 30 * 2**self.request.retries
        # The retry is on its way: the sweep leaves the delivery alone until it is overdue.
        cache.set(_queued_key(delivery_id), True, timeout=int(countdown + STUCK_WEBHOOK_AFTER.total_seconds()))
        raise self.retry(exc=exc, countdown=countdown) from None


def requeue_stuck_deliveries(now: datetime | None = None) -> int:
    """Queue again the deliveries whose task was lost (never taken by the broker, or a retry that never came),
    each after five minutes, then after ever longer waits however long the backlog; give up those older than a
    day. Returns how many were queued."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(processed_at__isnull=True, received_at__lt=now - STUCK_WEBHOOK_MAX_AGE).update(
        processed_at=now, error=GIVEN_UP
    )
    stuck = (
        WebhookDelivery.objects.filter(processed_at__isnull=True, received_at__lt=now - STUCK_WEBHOOK_AFTER)
        .order_by("received_at")
        .values_list("pk", flat=True)[:STUCK_WEBHOOK_BATCH]
    )
    queued = 0
    for delivery_id in stuck:
        if _requeue_due(delivery_id):
            process_webhook.delay(delivery_id)
            queued += 1
    return queued


def _subscribe_due(channel_id: int) -> bool:
    """Whether to ask for the channel's subscription now (and note that it was asked for)."""
    return bool(cache.add(f"inbox:subscribe-queued:{channel_id}", True, timeout=int(SUBSCRIBE_EVERY.total_seconds())))


@shared_task(name="inbox.poll_channels", ignore_result=True)
def poll_channels() -> int:
    """Every INBOX_POLL_SECONDS: one poll per active channel, and deliveries whose task was lost, again. A channel
    never subscribed to the webhooks (connected before the inbox existed, or its task was lost) is subscribed and
    backfilled instead; one whose backfill never finished is backfilled."""
    requeue_stuck_deliveries()
    channel_ids = list(Channel.objects.filter(status=ChannelStatus.ACTIVE).values_list("pk", flat=True))
    syncs = {s.channel_id: s for s in ChannelSync.objects.filter(channel_id__in=channel_ids)}
    for channel_id in channel_ids:
        state = syncs.get(channel_id)
        never_asked = state is None or (state.subscribed_at is None and not state.subscribe_error)
        if never_asked and _subscribe_due(channel_id):
            subscribe_channel.delay(channel_id)
        else:
            poll_channel.delay(channel_id, backfill=state is not None and state.backfilled_at is None)
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


@shared_task(name=SUBSCRIBE_CHANNEL, ignore_result=True)
def subscribe_channel(channel_id: int) -> str:
    """A channel was just connected (or never subscribed): ask Meta for its webhooks, then bring in the comments of
    its recent posts."""
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


@shared_task(name="inbox.prune_webhook_deliveries", ignore_result=True)
def prune_webhook_deliveries() -> int:
    """Daily: forget processed webhook bodies (they hold what strangers wrote) after INBOX_WEBHOOK_KEEP_DAYS. The
    comments they brought stay. Deletes in batches so the table is never locked for long."""
    cutoff = timezone.now() - timedelta(days=settings.INBOX_WEBHOOK_KEEP_DAYS)
    old = WebhookDelivery.objects.filter(processed_at__isnull=False, received_at__lt=cutoff)
    deleted = 0
    while batch := list(old.values_list("pk", flat=True)[:PRUNE_BATCH]):
        deleted += WebhookDelivery.objects.filter(pk__in=batch).delete()[0]
    return deleted

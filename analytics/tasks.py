"""Insights tasks: thin. Id in → load → service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from accounts.models import Channel, ChannelStatus

from .services import sync

SYNC_CHANNEL = "analytics.sync_channel"


@shared_task(name="analytics.sync_channels", ignore_result=True)
def sync_channels() -> int:
    """Every 15 minutes: queue the sync of each active channel that is due (never synced, or synced longer than
    ANALYTICS_SYNC_HOURS ago) and not held (a sync running or queued, or Meta's usage). Queued channels are held
    for a while so that the next round does not queue them again before their sync ran; each sync carries that
    hold, which lets it take the channel."""
    channel_ids = sync.channel_ids_due()
    until = sync.channels_hold(channel_ids).isoformat()
    for channel_id in channel_ids:
        sync_channel.delay(channel_id, until)
    return len(channel_ids)


@shared_task(name=SYNC_CHANNEL, ignore_result=True, soft_time_limit=1800, time_limit=1900)
def sync_channel(channel_id: int, queued_until: str | None = None) -> str:
    """Read one channel's insights (a backfill the first time: queued on connect, without `queued_until`). Safe to
    run twice: every write is an upsert, and a channel another sync holds is skipped. A disconnected channel, or
    one that needs reconnecting, is skipped; a sync Meta held back comes again with the beat once its
    `next_run_at` has passed. `queued_until`: the hold (ISO time) `sync_channels` queued it under."""
    channel = Channel.objects.select_related("workspace").filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    if channel is None:
        return "skipped"
    held = dt.datetime.fromisoformat(queued_until) if queued_until else None
    result = sync.sync_channel(channel, queued_until=held)
    if result.skipped:
        return "skipped"
    if result.postponed:
        return "postponed"
    return "failed" if result.errors else "done"

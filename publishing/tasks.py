"""Publishing tasks: thin. Id in → service → what to do next (re-queue with a countdown, or stop)."""

from __future__ import annotations

from celery import shared_task

from .publishers.base import RunOutcome
from .services import media, pipeline


@shared_task(name="publishing.dispatch_due_deliveries")
def dispatch_due_deliveries() -> int:
    """Every minute: queue one publish task per delivery that is due."""
    return pipeline.dispatch_due()


@shared_task(name="publishing.sweep_stale_deliveries")
def sweep_stale_deliveries() -> int:
    """Every minute: re-queue deliveries whose worker died mid-run (their lease ran out)."""
    return pipeline.sweep_stale()


@shared_task(name=pipeline.PUBLISH_TASK, ignore_result=True)
def publish_delivery(delivery_id: int, lease_token: str) -> str:
    """Run one delivery as far as it goes now. Safe to run twice: the lease lets only one run act, and every
    step already done (its Meta id is stored) is skipped. Waiting re-queues this task with a countdown."""
    outcome = pipeline.delivery_run(delivery_id=delivery_id, token=lease_token)
    if outcome.kind == RunOutcome.POLL:  # Meta is processing: come back later instead of sleeping here
        pipeline.send_run(delivery_id, lease_token, countdown=outcome.countdown)
    return outcome.kind.value


@shared_task(name="publishing.process_media_asset", ignore_result=True)
def process_media_asset(asset_id: int) -> None:
    """Make a fix's copy or a preview off the web request (FFmpeg and large images can take a while)."""
    media.media_asset_process(asset_id=asset_id)

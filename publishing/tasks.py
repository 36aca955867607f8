"""Publishing tasks: thin. Id in → service → what to do next (re-queue with a countdown, or stop)."""

from __future__ import annotations

import time

from celery import shared_task

from .publishers.base import RunOutcome
from .services import lookups, media, pipeline, removal, wakeups


@shared_task(name="publishing.dispatch_due_deliveries")
def dispatch_due_deliveries() -> int:
    """Every minute: queue one publish task per delivery that is due, start preparing Instagram videos due soon,
    and queue wake-ups for what falls due before the next ticks."""
    return pipeline.dispatch_due()


@shared_task(name="publishing.sweep_stale_deliveries")
def sweep_stale_deliveries() -> int:
    """Every minute: re-queue deliveries whose worker died mid-run (their lease ran out)."""
    return pipeline.sweep_stale()


@shared_task(name=pipeline.PUBLISH_TASK, ignore_result=True)
def publish_delivery(delivery_id: int, lease_token: str) -> str:
    """Run one delivery as far as it goes now. Safe to run twice: the lease lets only one run act, and every
    step already done (its Meta id is stored) is skipped. Waiting re-queues the run as a poll with a countdown."""
    return _run(delivery_id, lease_token)


@shared_task(name=pipeline.POLL_TASK, ignore_result=True)
def poll_delivery(delivery_id: int, lease_token: str) -> str:
    """The same run, come back to check Meta's processing; on its own queue, so it never waits behind a burst."""
    return _run(delivery_id, lease_token)


def _run(delivery_id: int, lease_token: str) -> str:
    outcome = pipeline.delivery_run(delivery_id=delivery_id, token=lease_token)
    if outcome.kind == RunOutcome.POLL:  # Meta is processing: come back later instead of sleeping here
        pipeline.send_run(delivery_id, outcome.token or lease_token, countdown=outcome.countdown, poll=True)
    if outcome.kind != RunOutcome.STALE:
        pipeline.continue_lane(delivery_id)
    return outcome.kind.value


@shared_task(name=wakeups.WAKE_TASK, ignore_result=True)
def wake_due_deliveries(second: int) -> int:
    """At the second posts fall due (queued with that ETA): queue their runs. A wake-up that arrives early waits
    out the rest on the broker, never in the worker."""
    if time.time() < second:
        wakeups.send(second)
        return 0
    return pipeline.dispatch_due(look_ahead=False)


@shared_task(name="publishing.process_media_asset", ignore_result=True)
def process_media_asset(asset_id: int) -> None:
    """Make a fix's copy or a preview off the web request (FFmpeg and large images can take a while)."""
    media.media_asset_process(asset_id=asset_id)


@shared_task(name="publishing.run_graph_lookup", ignore_result=True, soft_time_limit=60, time_limit=90)
def run_graph_lookup(lookup_id: int) -> None:
    """Answer one of the composer's questions to Meta (products, a place's Page). Safe to run twice: only a
    lookup still pending is answered."""
    lookups.lookup_run(lookup_id)


@shared_task(name="publishing.remove_post_from_meta", bind=True, ignore_result=True, max_retries=5)
def remove_post_from_meta(self, post_id: int) -> str:
    """Delete a post on Facebook/Instagram, then in SocialHub. Safe to run twice: what Meta already deleted is
    skipped. A rate limit or an outage comes back after a countdown; the last try records Meta's refusal."""
    retries = self.request.retries
    outcome = removal.post_remove_from_meta(post_id=post_id, attempt=retries, last_try=retries >= self.max_retries)
    if outcome.kind == "retry":
        raise self.retry(countdown=outcome.retry_after)
    return outcome.kind

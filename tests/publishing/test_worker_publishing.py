"""The whole pipeline with a real Celery worker: "publish now", the dispatcher, waiting for Meta's video
processing by re-queueing with a countdown, and the sweep after a worker died."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing.models import Delivery, DeliveryState, Post
from publishing.services.posts import MediaItem, post_create, post_submit
from publishing.tasks import dispatch_due_deliveries, sweep_stale_deliveries
from tests.publishing.conftest import HARBOR_PAGE, wait_for_state

pytestmark = [pytest.mark.django_db(transaction=True)]
DONE = (DeliveryState.PUBLISHED, DeliveryState.FAILED)


@pytest.fixture(autouse=True)
def unhurried_clock(sandbox_control):
    """The worker re-queues its polls after PUBLISH_POLL_SECONDS of real time (0.2 s here); at 60 sandbox
    seconds per real second Meta sees them 12 s apart, as polls minutes apart would be in production."""
    sandbox_control.clock_rate(60)


def test_publish_now_reel_waits_for_processing_without_sleeping(
    celery_app, celery_worker, public_media, channels, upload, samples, workspace, alice, sandbox_control
):
    sandbox_control.processing(video_seconds=2)
    reel = upload(samples.reel())
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["ig"], channels["page"]],
        caption="Worker reel",
        media=[MediaItem(reel)],
        format=Post.Format.REEL,
    )
    post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id), now=True)
    for delivery in post.deliveries.all():
        delivery = wait_for_state(delivery, DONE)
        assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    ig = post.deliveries.get(channel=channels["ig"])
    outcomes = [a.outcome for a in ig.attempt_log.all()]
    assert outcomes[-1] == "published" and "waiting" in outcomes  # processing was polled by re-queued runs


def test_dispatcher_publishes_what_is_due(
    celery_app, celery_worker, public_media, channels, upload, samples, workspace, alice, sandbox_control
):
    photos = [MediaItem(upload(samples.jpeg(800, 800, f"w{i}.jpg"))) for i in range(2)]
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["page"], channels["ig"]],
        caption="Scheduled by the dispatcher",
        media=photos,
        scheduled_at=timezone.now() + timedelta(minutes=5),
    )
    post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
    assert dispatch_due_deliveries.apply().get() == 0  # not due yet
    now = timezone.now()
    Delivery.objects.filter(post=post).update(due_at=now, next_attempt_at=now)
    assert dispatch_due_deliveries.apply().get() == 2
    for delivery in post.deliveries.all():
        assert wait_for_state(delivery, DONE).state == DeliveryState.PUBLISHED
    messages = [p["message"] for p in channel_client(channels["page"]).get(f"{HARBOR_PAGE}/published_posts")["data"]]
    assert messages.count("Scheduled by the dispatcher") == 1


def test_sweep_requeues_a_delivery_whose_worker_died(
    celery_app, celery_worker, public_media, channels, upload, samples, workspace, alice, sandbox_control
):
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["ig"]],
        caption="Swept",
        media=[MediaItem(upload(samples.jpeg(1080, 1080)))],
    )
    post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
    # As if a worker had claimed it and died: publishing, lease expired, no task in the queue.
    Delivery.objects.filter(post=post).update(
        state=DeliveryState.PUBLISHING, lease_token="dead-worker", lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert sweep_stale_deliveries.apply().get() == 1
    assert wait_for_state(post.deliveries.get(), DONE).state == DeliveryState.PUBLISHED

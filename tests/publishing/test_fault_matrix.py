"""What Meta can do wrong, and what the pipeline makes of it. Each case ends published exactly once, or
failed with a reason a marketer can read, or waiting with a clear status; never a duplicate or a post stuck
without a status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.models import ChannelStatus
from accounts.services.channels import channel_client
from publishing.models import Delivery, DeliveryState, Post
from publishing.publishers import instagram
from publishing.services.pipeline import dispatch_due, sweep_stale
from publishing.services.posts import MediaItem, post_create, post_submit
from socialhub.devconnect import connect_with_instagram
from tests.publishing.conftest import HARBOR_IG, LOGIN_ONLY_IG, run_to_end, start_run

pytestmark = [pytest.mark.django_db(transaction=True)]
MEDIA_POST = r"/v\d+\.\d+/%s/media$"
PUBLISH = r"/v\d+\.\d+/%s/media_publish$"


@pytest.fixture
def ig_delivery(public_media, channels, upload, samples, workspace, alice):
    def _make(caption: str = "Fault matrix", channel: str = "ig", **kwargs) -> Delivery:
        photo = upload(samples.jpeg(1080, 1080))
        post = post_create(
            workspace=workspace,
            author=alice,
            channels=[channels[channel]],
            caption=caption,
            media=[MediaItem(photo)],
            **kwargs,
        )
        post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
        return post.deliveries.get()

    return _make


def published_with_caption(channel, caption: str) -> int:
    media = channel_client(channel).get(f"{channel.external_id}/media", fields="id,caption", params={"limit": 100})
    return sum(1 for m in media["data"] if m.get("caption") == caption)


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_transient_error_is_retried_with_backoff(ig_delivery, channels, sandbox_control):
    sandbox_control.fault(path=MEDIA_POST % HARBOR_IG, method="POST", error={"preset": "transient"})
    delivery = run_to_end(ig_delivery("Transient"), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert "Trying again at" in delivery.waiting_reason
    make_due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert published_with_caption(channels["ig"], "Transient") == 1
    assert [a.outcome for a in delivery.attempt_log.all()] == ["retry", "published"]


def test_server_error_on_media_publish_is_retried_once_published(ig_delivery, channels, sandbox_control):
    sandbox_control.fault(path=PUBLISH % HARBOR_IG, kind="http_500")
    delivery = run_to_end(ig_delivery("Server error"), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED
    make_due(delivery)
    assert run_to_end(delivery, sandbox_control).state == DeliveryState.PUBLISHED
    assert published_with_caption(channels["ig"], "Server error") == 1


def test_lost_answer_after_meta_published_is_not_published_again(ig_delivery, channels, sandbox_control):
    # Meta publishes, then the connection drops before the answer: the outcome is unknown to SocialHub.
    sandbox_control.fault(path=PUBLISH % HARBOR_IG, kind="drop", after="after")
    delivery = run_to_end(ig_delivery("Lost answer"), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED and delivery.publish_started_at and not delivery.remote_id
    make_due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert published_with_caption(channels["ig"], "Lost answer") == 1
    steps = [s for a in delivery.attempt_log.all() for s in a.steps]
    assert "asked Meta about the last publish: container PUBLISHED" in steps
    assert steps.count("media_publish") == 1


def test_dropped_connection_before_meta_published_publishes_once(ig_delivery, channels, sandbox_control):
    sandbox_control.fault(path=PUBLISH % HARBOR_IG, kind="drop")
    delivery = run_to_end(ig_delivery("Dropped early"), sandbox_control)
    make_due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert published_with_caption(channels["ig"], "Dropped early") == 1


def test_worker_killed_between_steps_resumes_from_saved_ids(ig_delivery, channels, sandbox_control, monkeypatch):
    delivery = ig_delivery("Killed worker")

    def die(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(instagram, "_check_quota", die)
    from publishing.services import pipeline

    with pytest.raises(SystemExit):
        pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery))
    monkeypatch.undo()
    delivery.refresh_from_db()
    container = delivery.container_id
    assert container and delivery.state == DeliveryState.PUBLISHING  # stuck, as after a killed worker

    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    sandbox_control.clock_advance(settings.PUBLISH_LEASE_SECONDS)  # the lease ran out: that much time passed
    queued = []
    monkeypatch.setattr(pipeline, "_send_on_commit", lambda pk, token: queued.append((pk, token)))
    assert sweep_stale() == 1
    delivery.refresh_from_db()
    assert queued == [(delivery.pk, delivery.lease_token)]  # one publish task, holding the new lease
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.container_id == container  # the container made before the crash was reused
    assert published_with_caption(channels["ig"], "Killed worker") == 1


def test_container_error_fails_with_metas_reason(
    public_media, channels, upload, samples, workspace, alice, sandbox_control
):
    # A clip SocialHub would refuse itself; sent anyway to see Meta's refusal handled.
    clip = upload(samples.short_clip())
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["ig"]],
        caption="Too short",
        media=[MediaItem(clip)],
        format=Post.Format.REEL,
    )
    delivery = post.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SCHEDULED, next_attempt_at=timezone.now())
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.error_message.startswith("Instagram could not prepare the post:")
    assert "2207" not in delivery.error_message  # words, not codes


def test_expired_token_pauses_until_reconnected(client, ig_delivery, channels, workspace, sandbox_control, monkeypatch):
    sandbox_control.clock_advance(61 * 86400)  # the Instagram-Login token is past its 60 days at Meta
    delivery = run_to_end(ig_delivery("After reconnect", channel="ig_login"), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED
    assert "needs reconnecting" in delivery.waiting_reason
    channel = channels["ig_login"]
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    from publishing.services import pipeline

    queued = []
    monkeypatch.setattr(pipeline, "_send_on_commit", lambda pk, token: queued.append(pk))
    assert dispatch_due() == 0  # nothing goes to a channel that cannot publish
    assert not queued

    connect_with_instagram(client, workspace, account=LOGIN_ONLY_IG, channel=channel)
    assert dispatch_due() == 1
    assert queued == [delivery.pk]
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    channel.refresh_from_db()
    assert published_with_caption(channel, "After reconnect") == 1


def test_full_quota_waits_for_the_window(ig_delivery, channels, sandbox_control):
    # Posts made elsewhere filled the quota: SocialHub's own count is far from it, so Meta's refusal of
    # `media_publish` (9/2207042) is what tells, and the post waits instead of failing.
    sandbox_control.quota(HARBOR_IG, quota_total=2, used=2)
    delivery = run_to_end(ig_delivery("Over quota"), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED
    assert "24-hour posting limit" in delivery.waiting_reason
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=30)
    assert published_with_caption(channels["ig"], "Over quota") == 0


def test_quota_is_read_only_once_our_own_posts_near_it(ig_delivery, channels, sandbox_control, settings):
    from socialhub.graph.models import GraphCall

    delivery = run_to_end(ig_delivery("Far from the limit"), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert not GraphCall.objects.filter(path__contains="content_publishing_limit").exists()

    settings.PUBLISH_QUOTA_CHECK_PERCENT = 1  # one post of ours in the window is "near" now
    sandbox_control.quota(HARBOR_IG, quota_total=2, used=2)
    delivery = run_to_end(ig_delivery("Near the limit"), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED
    assert "limit of 2 posts in 24 hours" in delivery.waiting_reason  # Meta's own figure, read first
    assert GraphCall.objects.filter(path__contains="content_publishing_limit").count() == 1
    assert not GraphCall.objects.filter(path__contains="media_publish", outcome="error").exists()
    assert published_with_caption(channels["ig"], "Near the limit") == 0


def test_throttling_waits_as_long_as_meta_says(ig_delivery, channels, sandbox_control):
    sandbox_control.fault(path=PUBLISH % HARBOR_IG, error={"preset": "rate_limit_instagram"})
    delivery = run_to_end(ig_delivery("Throttled"), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED
    assert "slow down" in delivery.waiting_reason
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=1)
    make_due(delivery)
    from django.core.cache import cache

    cache.clear()  # the window passed
    assert run_to_end(delivery, sandbox_control).state == DeliveryState.PUBLISHED
    assert published_with_caption(channels["ig"], "Throttled") == 1


def test_high_usage_slows_down_before_meta_throttles(ig_delivery, channels, sandbox_control):
    sandbox_control.set_usage(capacity=12, window_seconds=3600)
    delivery = ig_delivery("Busy hour")
    for _ in range(10):  # other work used five sixths of the hour's calls before the post is due
        channel_client(channels["ig"]).get(HARBOR_IG, fields="id")
    outcomes = []
    from publishing.services import pipeline

    for _ in range(6):
        outcomes.append(pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery)))
        delivery.refresh_from_db()
        if delivery.state == DeliveryState.PUBLISHED:
            break
        sandbox_control.clock_advance(5)
    reasons = [o.reason for o in outcomes]
    assert any("rate limit is close" in r for r in reasons), reasons


def test_permanent_refusal_fails_then_retry_button_publishes(
    client, alice, ig_delivery, channels, workspace, sandbox_control, monkeypatch
):
    sandbox_control.fault(path=MEDIA_POST % HARBOR_IG, method="POST", error={"preset": "media_type_not_supported"})
    delivery = run_to_end(ig_delivery("Retry me"), sandbox_control)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.error_message == "The media type is not supported for this endpoint"  # Meta's words for users
    client.force_login(alice)
    page = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert "The media type is not supported for this endpoint" in page and "Retry" in page
    from publishing.services import pipeline

    monkeypatch.setattr(
        pipeline, "_send_on_commit", lambda *args, **kwargs: None
    )  # the run below stands for the worker
    client.post(f"/w/{workspace.public_id}/deliveries/{delivery.public_id}/retry/")
    assert run_to_end(delivery, sandbox_control).state == DeliveryState.PUBLISHED
    assert published_with_caption(channels["ig"], "Retry me") == 1

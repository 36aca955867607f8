"""Regressions from reading the pipeline for ways it could post twice, stall, or mislead."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import ChannelStatus
from accounts.services.channels import channel_client
from publishing.models import Delivery, DeliveryState, MediaAsset, Post
from publishing.publishers import instagram
from publishing.services.posts import MediaItem, post_cancel
from tests.publishing.conftest import HARBOR_IG, run_to_end

pytestmark = [pytest.mark.django_db(transaction=True)]
PUBLISH = rf"/v\d+\.\d+/{HARBOR_IG}/media_publish$"


def count(channel, caption, edge="media"):
    listed = channel_client(channel).get(f"{channel.external_id}/{edge}", fields="id,caption", params={"limit": 100})
    return sum(1 for m in listed["data"] if edge == "stories" or m.get("caption") == caption)


def due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_published_container_found_while_preparing_is_not_published_again(
    submit, channels, upload, samples, sandbox_control
):
    sandbox_control.fault(path=PUBLISH, kind="drop", after="after")
    delivery = run_to_end(
        submit(caption="Settling", media=[MediaItem(upload(samples.jpeg(1080, 1080)))]), sandbox_control
    )
    # As if the recovery had seen the container before Meta flipped it to PUBLISHED.
    Delivery.objects.filter(pk=delivery.pk).update(publish_started_at=None)
    due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    steps = [s for a in delivery.attempt_log.all() for s in a.steps]
    assert delivery.state == DeliveryState.PUBLISHED, (delivery.waiting_reason, steps)
    assert steps.count("media_publish") == 1
    assert count(channels["ig"], "Settling") == 1


def test_a_lost_story_is_found_under_stories(submit, channels, upload, samples, sandbox_control):
    sandbox_control.fault(path=PUBLISH, kind="drop", after="after")
    delivery = run_to_end(
        submit(media=[MediaItem(upload(samples.jpeg(1080, 1920)))], format=Post.Format.STORY), sandbox_control
    )
    due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert count(channels["ig"], None, edge="stories") == 1


def test_an_unexpected_error_is_retried_then_fails_never_stuck(
    submit, upload, samples, sandbox_control, monkeypatch, settings
):
    settings.PUBLISH_MAX_ATTEMPTS = 1

    def broken(*args, **kwargs):
        raise KeyError("id")

    monkeypatch.setattr(instagram, "_prepare", broken)
    delivery = run_to_end(submit(caption="Bug", media=[MediaItem(upload(samples.jpeg(1080, 1080)))]), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED and "SocialHub hit an error" in delivery.waiting_reason
    due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.error_message.startswith("SocialHub could not publish this")


def test_processing_polls_are_not_counted_as_errors(submit, upload, samples, sandbox_control):
    delivery = run_to_end(
        submit(caption="Polled", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL), sandbox_control
    )
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.error_count == 0 and delivery.attempts >= 2


def test_a_failed_video_upload_is_sent_again(submit, channels, upload, samples, sandbox_control):
    sandbox_control.fault(path=r"/ig-api-upload/.*", kind="http_500")
    delivery = run_to_end(
        submit(caption="Upload again", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL),
        sandbox_control,
    )
    assert delivery.state == DeliveryState.SCHEDULED and not delivery.uploaded_ids
    due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert count(channels["ig"], "Upload again") == 1


def test_quota_refusal_waits_instead_of_failing(submit, upload, samples, sandbox_control):
    sandbox_control.fault(
        path=PUBLISH,
        error={
            "code": 9,
            "error_subcode": 2207042,
            "type": "OAuthException",
            "message": "Application request limit reached",
        },
        status=400,
    )
    delivery = run_to_end(submit(caption="Later", media=[MediaItem(upload(samples.jpeg(1080, 1080)))]), sandbox_control)
    assert delivery.state == DeliveryState.SCHEDULED
    assert "24-hour posting limit" in delivery.waiting_reason


def test_retry_after_a_refused_container_prepares_it_again(
    client, alice, workspace, submit, channels, upload, samples, sandbox_control, monkeypatch
):
    sandbox_control.fault(
        path=rf"/v\d+\.\d+/{HARBOR_IG}/media$", method="POST", error={"preset": "media_type_not_supported"}
    )
    delivery = run_to_end(submit(caption="Again", media=[MediaItem(upload(samples.jpeg(1080, 1080)))]), sandbox_control)
    assert delivery.state == DeliveryState.FAILED
    Delivery.objects.filter(pk=delivery.pk).update(container_id="17000000000000001")  # a refused container
    from publishing.services import pipeline

    monkeypatch.setattr(pipeline, "_send_on_commit", lambda *args, **kwargs: None)
    client.force_login(alice)
    client.post(f"/w/{workspace.public_id}/deliveries/{delivery.public_id}/retry/")
    delivery.refresh_from_db()
    assert delivery.container_id == ""
    assert run_to_end(delivery, sandbox_control).state == DeliveryState.PUBLISHED


def test_permission_refused_for_one_feature_fails_the_post_not_the_channel(
    submit, channels, upload, samples, sandbox_control
):
    sandbox_control.fault(
        path=PUBLISH,
        error={
            "code": 10,
            "type": "OAuthException",
            "message": "(#10) Application does not have permission for this action",
        },
        status=403,
    )
    delivery = run_to_end(
        submit(caption="Feature", media=[MediaItem(upload(samples.jpeg(1080, 1080)))]), sandbox_control
    )
    assert delivery.state == DeliveryState.FAILED
    channels["ig"].refresh_from_db()
    assert channels["ig"].status == ChannelStatus.ACTIVE


def test_cancel_leaves_a_post_that_is_already_out_alone(submit, channels, workspace, alice):
    delivery = submit("page", caption="Out already")
    Delivery.objects.filter(pk=delivery.pk).update(remote_id="183533740681241_1", state=DeliveryState.SCHEDULED)
    assert post_cancel(post=delivery.post) == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED


def test_uploaded_pages_and_scripts_are_never_served_inline(client, alice, workspace):
    client.force_login(alice)
    client.post(
        f"/w/{workspace.public_id}/media/",
        {"files": [SimpleUploadedFile("evil.html", b"<script>alert(1)</script>", content_type="text/html")]},
    )
    asset = MediaAsset.objects.get()
    assert asset.kind == MediaAsset.Kind.UNKNOWN and asset.probe_error  # kept, and says why it cannot be posted
    response = client.get(f"/w/{workspace.public_id}/media/{asset.public_id}/file")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")

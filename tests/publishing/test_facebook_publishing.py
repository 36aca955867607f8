"""Every Facebook Page post type, published end to end against the sandbox; checks what the sandbox holds."""

from __future__ import annotations

import pytest

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing.models import DeliveryState, Post
from publishing.services.posts import MediaItem, post_create, post_submit
from tests.publishing.conftest import HARBOR_PAGE, run_to_end

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def publish(alice, workspace, channels, sandbox_control):
    def _publish(**kwargs):
        post = post_create(workspace=workspace, author=alice, channels=[channels["page"]], **kwargs)
        post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
        return run_to_end(post.deliveries.get(), sandbox_control)

    return _publish


def page_posts(channel) -> list[dict]:
    answer = channel_client(channel).get(f"{HARBOR_PAGE}/published_posts", fields="id,message,permalink_url")
    return answer["data"]


def test_text_post_with_first_comment(publish, channels):
    delivery = publish(caption="We open at 7 tomorrow.", first_comment="See you there!")
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert delivery.remote_id.startswith(f"{HARBOR_PAGE}_")
    newest = page_posts(channels["page"])[0]
    assert (newest["id"], newest["message"]) == (delivery.remote_id, "We open at 7 tomorrow.")
    comments = channel_client(channels["page"]).get(f"{delivery.remote_id}/comments", fields="id,message")["data"]
    assert [c["message"] for c in comments] == ["See you there!"]


def test_link_post_with_call_to_action(publish, channels):
    delivery = publish(caption="Spring timetable", link="https://harboryoga.example.com/spring", cta_type="SIGN_UP")
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    held = channel_client(channels["page"]).get(delivery.remote_id, fields="id,message,call_to_action")
    assert held["call_to_action"]["type"] == "SIGN_UP"
    assert held["call_to_action"]["value"]["link"] == "https://harboryoga.example.com/spring"


def test_one_photo(publish, upload, samples, channels):
    delivery = publish(caption="Our new mats", media=[MediaItem(upload(samples.jpeg(1200, 900)))])
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert page_posts(channels["page"])[0]["message"] == "Our new mats"


def test_several_photos_in_one_post(publish, upload, samples, channels):
    photos = [MediaItem(upload(samples.jpeg(800, 800, f"p{i}.jpg"))) for i in range(3)]
    delivery = publish(caption="Open day in pictures", media=photos)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert len(delivery.photo_ids) == 3
    held = channel_client(channels["page"]).get(delivery.remote_id, fields="id,attachments")
    assert len(held["attachments"]["data"][0]["subattachments"]["data"]) == 3


def test_video(publish, upload, samples, channels, sandbox_control):
    delivery = publish(caption="Class replay", media=[MediaItem(upload(samples.landscape()))])
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    sandbox_control.clock_advance(60)  # looked at later, not polled again straight away
    held = channel_client(channels["page"]).get(delivery.upload_id, fields="id,status")
    assert held["status"]["video_status"] == "ready"


def test_large_video_goes_up_in_chunks(publish, upload, samples, settings):
    settings.FB_VIDEO_RESUMABLE_THRESHOLD = 10_000  # bytes: force the resumable path
    delivery = publish(caption="Long class", media=[MediaItem(upload(samples.landscape()))])
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    steps = [s for a in delivery.attempt_log.all() for s in a.steps]
    assert any(s.startswith("video chunk") for s in steps)


def test_reel(publish, upload, samples, channels, sandbox_control):
    delivery = publish(caption="60 seconds of calm", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert delivery.uploaded_ids == [delivery.upload_id]
    sandbox_control.clock_advance(60)  # looked at later, not polled again straight away
    held = channel_client(channels["page"]).get(delivery.upload_id, fields="id,status")
    assert held["status"]["publishing_phase"]["status"] == "complete"

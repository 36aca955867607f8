"""A post edited while it waited (held by a pause, after Meta had its container) goes out as it reads now."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing.models import Delivery, DeliveryState, Post
from publishing.publishers.base import RunOutcome
from publishing.services import pipeline, transitions
from publishing.services.posts import MediaItem, post_create, post_submit
from tests.publishing.conftest import run_to_end, start_run

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_caption_fixed_during_a_pause_is_the_one_published(
    public_media, channels, upload, samples, workspace, alice, sandbox_control
):
    sandbox_control.processing(image_seconds=120)  # Meta takes its time with the container
    access = get_workspace_for_user(alice, workspace.public_id)
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["ig"]],
        caption="Our big sale starts now",
        media=[MediaItem(upload(samples.jpeg(1080, 1080)))],
    )
    post_submit(post=post, access=access)
    delivery = post.deliveries.get()
    outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery))
    assert outcome.kind == RunOutcome.POLL  # the container with the old caption is at Meta
    delivery.refresh_from_db()
    old_container = delivery.container_id
    assert old_container

    workspace.paused_at, workspace.pause_reason = timezone.now(), "Not the day for a sale"
    workspace.save(update_fields=["paused_at", "pause_reason"])
    assert pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery)).kind == RunOutcome.DEFERRED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED and "paused" in delivery.waiting_reason

    # The team rewrites it (as the composer saves an edit: back to draft, new text, submitted again)
    transitions.reopen_for_edit(post)
    Post.objects.filter(pk=post.pk).update(caption="Thinking of everyone affected today")
    post.refresh_from_db()
    post_submit(post=post, access=access)
    delivery.refresh_from_db()
    assert delivery.container_id == ""  # what Meta holds was made for the old text

    workspace.paused_at = None
    workspace.save(update_fields=["paused_at"])
    sandbox_control.clock_advance(130)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert delivery.container_id != old_container
    media = channel_client(channels["ig"]).get(delivery.remote_id, fields="caption")
    assert media["caption"] == "Thinking of everyone affected today"


def test_an_edit_never_drops_a_container_a_publish_was_tried_on(
    public_media, channels, upload, samples, workspace, alice, sandbox_control
):
    """Meta can be slow to show a publish: after a lost answer, a later run may find the container not yet
    PUBLISHED and clear `publish_started_at`. What was prepared stays the only trace of that publish, so an edit
    leaves it (and is refused) instead of preparing, and publishing, a second post."""
    access = get_workspace_for_user(alice, workspace.public_id)
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["ig"]],
        caption="Doors open at nine",
        media=[MediaItem(upload(samples.jpeg(1080, 1080)))],
    )
    post_submit(post=post, access=access)
    delivery = run_to_end(post.deliveries.get(), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.publish_tried_at is not None  # set with the first publish_started_at of what is prepared

    # As after a lost answer that a later run read as "not published yet", then a wait (a full quota):
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SCHEDULED, remote_id="", publish_started_at=None, permalink=""
    )
    assert transitions.reopen_for_edit(post) == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED and delivery.container_id  # kept, with its trace

    Delivery.objects.filter(pk=delivery.pk).update(publish_tried_at=None)  # nothing was ever tried on it
    assert transitions.reopen_for_edit(post) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DRAFT and delivery.container_id == ""

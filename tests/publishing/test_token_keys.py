"""A wrong TOKEN_ENCRYPTION_KEYS on the server: pages still open, and due posts wait instead of failing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts import crypto
from accounts.access import get_workspace_for_user
from accounts.models import Channel, ChannelStatus
from publishing.models import Delivery, DeliveryAttempt, DeliveryState, Post
from publishing.services import pipeline
from publishing.services.posts import post_create, post_submit
from tests.publishing.conftest import run_to_end, start_run

pytestmark = pytest.mark.django_db

OTHER_KEY = "bm90LXRoZS1yaWdodC1rZXktZm9yLXRoZXNlLXRva2U="


def use_keys(settings, keys: list[str]) -> None:
    settings.TOKEN_ENCRYPTION_KEYS = keys
    crypto._fernet.cache_clear()


def test_composer_and_posts_list_open_with_a_wrong_key(client, alice, workspace, channels, settings):
    post_create(workspace=workspace, author=alice, channels=[channels["page"]], caption="Listed")
    use_keys(settings, [OTHER_KEY])
    client.force_login(alice)

    composer = client.get(f"/w/{workspace.public_id}/posts/new/")
    assert composer.status_code == 200 and "Harbor Yoga Studio" in composer.content.decode()
    posts = client.get(f"/w/{workspace.public_id}/posts/")
    assert posts.status_code == 200 and "Listed" in posts.content.decode()

    scheduled = client.post(
        f"/w/{workspace.public_id}/posts/new/",
        {
            "channels": [channels["page"].pk],
            "format": "feed",
            "caption": "Scheduled while the key is wrong",
            "when": "later",
            "date": (date.today() + timedelta(days=2)).isoformat(),
            "time": "09:30",
        },
    )
    assert scheduled.status_code == 302
    post = Post.objects.get(caption="Scheduled while the key is wrong")
    assert post.deliveries.get().state == DeliveryState.SCHEDULED


@pytest.mark.parametrize("wrong_keys", [[OTHER_KEY], []], ids=["changed", "removed"])
def test_a_due_delivery_waits_for_the_key_and_goes_out_once_it_is_back(
    alice, workspace, channels, sandbox_control, settings, caplog, wrong_keys
):
    right_keys = list(settings.TOKEN_ENCRYPTION_KEYS)
    page = channels["page"]
    post = post_create(workspace=workspace, author=alice, channels=[page], caption="Held by the key")
    post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id), now=True)
    delivery = post.deliveries.get()
    calls_before = len(sandbox_control.requests(limit=500))

    use_keys(settings, wrong_keys)
    outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery))

    assert outcome.kind == "deferred"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED
    assert delivery.waiting_reason == pipeline.KEYS_UNREADABLE and "Nothing was sent" in delivery.waiting_reason
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=4)
    assert (delivery.error_message, delivery.error_count, delivery.attempts, delivery.lease_token) == ("", 0, 0, "")
    assert not DeliveryAttempt.objects.filter(delivery=delivery).exists()
    channel = Channel.objects.defer("access_token").get(pk=page.pk)
    assert (channel.status, channel.status_reason, channel.last_error) == (ChannelStatus.ACTIVE, "", "")
    assert len(sandbox_control.requests(limit=500)) == calls_before  # nothing reached Meta

    errors = [r for r in caplog.records if r.name == "publishing.services.pipeline" and r.levelname == "ERROR"]
    assert len(errors) == 1 and "TOKEN_ENCRYPTION_KEYS" in errors[0].getMessage()
    assert page.access_token not in caplog.text and not errors[0].exc_info

    assert pipeline.dispatch_due() == 0  # not before its next try
    use_keys(settings, right_keys)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert pipeline.dispatch_due() == 1
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert delivery.remote_id and delivery.waiting_reason == ""

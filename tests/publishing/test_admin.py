"""The admin shows deliveries and their attempts but never edits them: their fields belong to the pipeline.
Failed deliveries are retried through the action, which goes through the service."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import ChannelStatus
from publishing.models import Delivery, DeliveryState
from tests.factories import ChannelFactory, DeliveryAttemptFactory, DeliveryFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def failed_delivery(workspace, alice) -> Delivery:
    # A retry waits for the reconnect instead of calling Meta, so the channel needs no real token.
    channel = ChannelFactory(workspace=workspace, connected_by=alice, status=ChannelStatus.NEEDS_RECONNECT)
    post = PostFactory(workspace=workspace, author=alice, caption="Sunrise class at 7")
    delivery = DeliveryFactory(post=post, channel=channel, failed=True, attempts=3, error_code=100)
    DeliveryAttemptFactory(delivery=delivery, message="refused")
    return delivery


def test_a_delivery_cannot_be_changed_or_added_in_the_admin(client, operator, failed_delivery):
    url = f"/admin/publishing/delivery/{failed_delivery.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="state"' not in page.content.decode()  # shown, not editable
    attempt = failed_delivery.attempt_log.get()
    now = timezone.localtime()
    # Every field the change form had when it was editable, with the state and the error changed.
    response = client.post(
        url,
        {
            "post": failed_delivery.post_id,
            "channel": failed_delivery.channel_id,
            "kind": "fb_text",
            "state": DeliveryState.PUBLISHED,
            "caption_override": "",
            "due_at_0": now.strftime("%Y-%m-%d"),
            "due_at_1": now.strftime("%H:%M:%S"),
            "waiting_reason": "",
            "attempts": "0",
            "error_count": "0",
            "error_message": "",
            "created_at_0": now.strftime("%Y-%m-%d"),
            "created_at_1": now.strftime("%H:%M:%S"),
            "attempt_log-TOTAL_FORMS": "1",
            "attempt_log-INITIAL_FORMS": "1",
            "attempt_log-MIN_NUM_FORMS": "0",
            "attempt_log-MAX_NUM_FORMS": "1000",
            "attempt_log-0-id": attempt.pk,
            "attempt_log-0-delivery": failed_delivery.pk,
        },
    )
    assert response.status_code == 403
    failed_delivery.refresh_from_db()
    assert (failed_delivery.state, failed_delivery.attempts) == (DeliveryState.FAILED, 3)
    assert failed_delivery.error_message == "Meta refused the post."
    assert client.get("/admin/publishing/delivery/add/").status_code == 403


def test_retry_action_still_goes_through_the_service(client, operator, failed_delivery):
    response = client.post(
        "/admin/publishing/delivery/",
        {"action": "retry", "_selected_action": [failed_delivery.pk]},
        follow=True,
    )
    assert "Retrying 1 delivery(ies)." in response.content.decode()
    failed_delivery.refresh_from_db()
    assert failed_delivery.state == DeliveryState.SCHEDULED
    assert failed_delivery.error_message == ""


def test_a_post_still_opens_in_the_admin_with_its_deliveries_shown(client, operator, failed_delivery):
    page = client.get(f"/admin/publishing/post/{failed_delivery.post_id}/change/")
    assert page.status_code == 200
    assert "Meta refused the post." in page.content.decode()
    assert 'name="deliveries-0-state"' not in page.content.decode()

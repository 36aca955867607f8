"""Creating, approving and listing posts through the pages a manager uses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publishing.models import Delivery, DeliveryState, Post
from publishing.services.posts import MediaItem, post_create
from tests.factories import AgencyMembershipFactory, UserFactory, WorkspaceMembershipFactory

pytestmark = pytest.mark.django_db


def form(channels, **extra):
    tomorrow = date.today() + timedelta(days=2)
    return {
        "channels": [c.pk for c in channels],
        "format": "feed",
        "caption": "Fresh bread at 8",
        "when": "later",
        "date": tomorrow.isoformat(),
        "time": "09:30",
        **extra,
    }


def test_manager_schedules_in_the_workspace_time_zone(client, alice, workspace, channels):
    client.force_login(alice)
    response = client.post(f"/w/{workspace.public_id}/posts/new/", form([channels["page"]]))
    assert response.status_code == 302
    post = Post.objects.get()
    local = datetime.combine(date.today() + timedelta(days=2), datetime.min.time().replace(hour=9, minute=30))
    assert post.scheduled_at == local.replace(tzinfo=ZoneInfo("Europe/Rome"))
    assert post.scheduled_timezone == "Europe/Rome" and post.scheduled_local.endswith("09:30:00")
    delivery = post.deliveries.get()
    assert (delivery.state, delivery.due_at) == (DeliveryState.SCHEDULED, post.scheduled_at)
    page = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert "09:30" in page and "Scheduled" in page


def test_invalid_post_keeps_what_was_typed(client, alice, workspace, channels):
    client.force_login(alice)
    response = client.post(
        f"/w/{workspace.public_id}/posts/new/", form([channels["ig"]], caption="No picture, on Instagram")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Instagram posts need at least one photo or video." in body
    assert "No picture, on Instagram" in body
    assert not Post.objects.exists()


def test_editor_drafts_client_approves(client, workspace, agency, bob, channels):
    client.force_login(bob)
    client.post(f"/w/{workspace.public_id}/posts/new/", form([channels["page"]]))
    post = Post.objects.get()
    assert post.approval == Post.Approval.PENDING
    assert post.deliveries.get().state == DeliveryState.AWAITING_APPROVAL
    assert client.post(f"/w/{workspace.public_id}/posts/{post.public_id}/approve/").status_code == 403

    brand = UserFactory()
    AgencyMembershipFactory(agency=agency, user=brand)
    WorkspaceMembershipFactory(workspace=workspace, user=brand, role="client")
    client.force_login(brand)
    assert "Approve" in client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    client.post(f"/w/{workspace.public_id}/posts/{post.public_id}/approve/")
    post.refresh_from_db()
    assert post.approval == Post.Approval.APPROVED
    assert post.deliveries.get().state == DeliveryState.SCHEDULED


def test_post_list_uses_a_bounded_number_of_queries(client, alice, workspace, channels, upload, samples):
    client.force_login(alice)
    photo = upload(samples.jpeg(1080, 1080))

    def make(n):
        for i in range(n):
            post_create(
                workspace=workspace,
                author=alice,
                channels=[channels["page"], channels["ig"]],
                caption=f"Post {i}",
                media=[MediaItem(photo)],
            )

    make(2)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/w/{workspace.public_id}/posts/")
    make(18)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/w/{workspace.public_id}/posts/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_disconnect_says_which_posts_it_affects_and_stops_them(client, alice, workspace, channels):
    client.force_login(alice)
    client.post(f"/w/{workspace.public_id}/posts/new/", form([channels["page"]], caption="Weekend hours"))
    other = post_create(workspace=workspace, author=alice, channels=[channels["ig_login"]], caption="Elsewhere")
    Delivery.objects.filter(post=other).update(state=DeliveryState.SCHEDULED)
    page = channels["page"]
    confirm = client.get(f"/w/{workspace.public_id}/channels/{page.public_id}/disconnect/").content.decode()
    assert "1 post will not go out on Harbor Yoga Studio" in confirm and "Weekend hours" in confirm
    client.post(f"/w/{workspace.public_id}/channels/{page.public_id}/disconnect/")
    stopped = Delivery.objects.get(channel=page)
    assert stopped.state == DeliveryState.FAILED and "was disconnected" in stopped.error_message
    assert Delivery.objects.get(channel=channels["ig_login"]).state == DeliveryState.SCHEDULED

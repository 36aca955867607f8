"""The posts list updates itself: a post's card polls while something of it is under way (publishing, Meta
processing, due now, being deleted on Meta) and stops when nothing is; Retry and Cancel answer with the card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ChannelStatus
from publishing.models import Delivery, DeliveryState, Post
from publishing.services.posts import deliveries_learn_permalinks
from tests.factories import (
    AgencyMembershipFactory,
    DeliveryFactory,
    PostFactory,
    PostMediaFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMembershipFactory,
)
from tests.publishing.conftest import run_to_end

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def card_url(workspace, post):
    return f"/w/{workspace.public_id}/posts/{post.public_id}/deliveries/"


def card(client, workspace, post) -> str:
    response = client.get(card_url(workspace, post), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def polls(html: str, workspace, post) -> bool:
    return f'hx-get="{card_url(workspace, post)}"' in html and 'hx-trigger="every 2s"' in html


def test_a_post_being_published_updates_in_place_then_stops(client, workspace, channels, submit, sandbox_control):
    delivery = submit("page", caption="Doors open at nine")  # "publish now": claimed, a worker has it
    post = delivery.post
    listed = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert polls(listed, workspace, post) and "Publishing" in listed

    delivery = run_to_end(delivery, sandbox_control)
    html = card(client, workspace, post)
    assert "Published" in html
    assert "hx-trigger" not in html and "hx-get" not in html  # nothing under way: the polling stops
    # The link comes with the next read of the Page's posts (the inbox's poll, the insights sync).
    link = f"https://www.facebook.com/{delivery.remote_id}"
    deliveries_learn_permalinks(channel_id=delivery.channel_id, links={delivery.remote_id: link})
    assert "View on Facebook" in card(client, workspace, post)


@pytest.mark.parametrize(
    ("fields", "live"),
    [
        ({"state": DeliveryState.PUBLISHING}, True),
        ({"state": DeliveryState.PROCESSING}, True),
        ({"scheduled": True}, True),  # due now: the dispatcher takes it within the minute
        ({"state": DeliveryState.SCHEDULED, "next_attempt_at": timezone.now() + timedelta(hours=2)}, False),
        ({"failed": True}, False),
        ({"published": True}, False),
        ({}, False),
    ],
)
def test_only_posts_with_something_under_way_poll(client, workspace, channels, fields, live):
    post = PostFactory(workspace=workspace)
    DeliveryFactory(post=post, channel=channels["page"], **fields)
    DeliveryFactory(post=post, channel=channels["ig"])
    assert polls(card(client, workspace, post), workspace, post) is live
    assert polls(client.get(f"/w/{workspace.public_id}/posts/").content.decode(), workspace, post) is live


def test_a_due_post_waiting_for_a_reconnect_does_not_poll(client, workspace, channels):
    post = PostFactory(workspace=workspace)
    DeliveryFactory(post=post, channel=channels["page"], scheduled=True)
    channels["page"].status = ChannelStatus.NEEDS_RECONNECT
    channels["page"].save(update_fields=["status"])
    assert not polls(card(client, workspace, post), workspace, post)


def test_a_failure_shows_metas_reason_and_retry_answers_with_the_card(
    client, workspace, channels, submit, sandbox_control
):
    first = run_to_end(submit("page", caption="Same words twice"), sandbox_control)
    assert first.state == DeliveryState.PUBLISHED
    failed = run_to_end(submit("page", caption="Same words twice"), sandbox_control)
    assert failed.state == DeliveryState.FAILED
    listed = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert "This looks like a duplicate of a post just published." in listed
    retry = f"/w/{workspace.public_id}/deliveries/{failed.public_id}/retry/"
    assert f'hx-post="{retry}"' in listed and not polls(listed, workspace, failed.post)

    response = client.post(retry, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "Trying Harbor Yoga Studio again." in html
    assert f'id="post-{failed.post.public_id}"' in html and "<html" not in html
    assert polls(html, workspace, failed.post)  # it is under way again
    failed.refresh_from_db()
    assert failed.state == DeliveryState.PUBLISHING


def test_retry_and_cancel_without_htmx_go_back_to_the_list(client, workspace, channels):
    post = PostFactory(workspace=workspace)
    failed = DeliveryFactory(post=post, channel=channels["page"], failed=True)
    DeliveryFactory(post=post, channel=channels["ig"], scheduled=True)
    response = client.post(f"/w/{workspace.public_id}/deliveries/{failed.public_id}/retry/")
    assert response.status_code == 302 and response["Location"].endswith(f"#post-{post.public_id}")
    response = client.post(f"/w/{workspace.public_id}/posts/{post.public_id}/cancel/", follow=True)
    assert "Cancelled on" in response.content.decode()
    assert client.get(card_url(workspace, post))["Location"].endswith(f"#post-{post.public_id}")


def test_cancel_with_htmx_answers_with_the_card(client, workspace, channels):
    post = PostFactory(workspace=workspace)
    DeliveryFactory(post=post, channel=channels["page"], scheduled=True)
    DeliveryFactory(post=post, channel=channels["ig"], published=True)
    response = client.post(f"/w/{workspace.public_id}/posts/{post.public_id}/cancel/", headers=HTMX)
    html = response.content.decode()
    assert "Cancelled on 1 channel(s). Anything already published stays." in html
    assert not polls(html, workspace, post) and "Cancelled" in html
    assert set(post.deliveries.values_list("state", flat=True)) == {DeliveryState.CANCELLED, DeliveryState.PUBLISHED}


def test_the_card_is_scoped_to_the_workspace(client, alice, agency, workspace, channels, charlie):
    elsewhere = WorkspaceFactory(agency=agency)
    theirs = PostFactory(workspace=elsewhere)
    assert client.get(card_url(elsewhere, theirs), headers=HTMX).status_code == 200  # alice owns both
    assert client.get(card_url(workspace, theirs), headers=HTMX).status_code == 404
    assert client.get(card_url(workspace, theirs)).status_code == 404
    client.force_login(charlie)
    assert client.get(card_url(elsewhere, theirs), headers=HTMX).status_code == 404


def test_edit_shows_only_before_anything_went_out_and_for_writers(client, agency, workspace, channels, bob):
    draft = PostFactory(workspace=workspace)
    DeliveryFactory(post=draft, channel=channels["page"], scheduled=True)
    out = PostFactory(workspace=workspace)
    DeliveryFactory(post=out, channel=channels["page"], published=True)
    DeliveryFactory(post=out, channel=channels["ig"], scheduled=True)
    going = PostFactory(workspace=workspace)
    DeliveryFactory(post=going, channel=channels["page"], state=DeliveryState.PROCESSING)

    def edit_links(user):
        client.force_login(user)
        html = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
        return {p for p in (draft, out, going) if f"/posts/{p.public_id}/edit/" in html}

    assert edit_links(bob) == {draft}
    analyst = UserFactory()
    AgencyMembershipFactory(agency=agency, user=analyst)
    WorkspaceMembershipFactory(workspace=workspace, user=analyst, role="analyst")
    assert edit_links(analyst) == set()
    html = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert "Duplicate" not in html and "Delete" not in html and "Cancel what" not in html


def test_a_published_post_asks_before_deleting_and_a_draft_does_not(client, workspace, channels):
    out = PostFactory(workspace=workspace)
    DeliveryFactory(post=out, channel=channels["page"], published=True)
    draft = PostFactory(workspace=workspace)
    DeliveryFactory(post=draft, channel=channels["page"])
    html = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    delete_out = f"/w/{workspace.public_id}/posts/{out.public_id}/delete/"
    delete_draft = f"/w/{workspace.public_id}/posts/{draft.public_id}/delete/"
    assert f'href="{delete_out}"' in html  # to the confirmation page
    assert f'hx-post="{delete_draft}"' in html and "hx-confirm" in html
    response = client.post(delete_out, headers=HTMX)  # a stale list: the confirmation page still asks
    assert response["HX-Redirect"] == delete_out and Post.objects.filter(pk=out.pk).exists()


def test_the_list_takes_a_fixed_number_of_queries(client, workspace, channels):
    def make(n):
        for _ in range(n):
            post = PostFactory(workspace=workspace)
            PostMediaFactory(post=post)
            PostMediaFactory(post=post)
            DeliveryFactory(post=post, channel=channels["page"], published=True)
            DeliveryFactory(post=post, channel=channels["ig"], state=DeliveryState.PROCESSING)

    make(5)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/w/{workspace.public_id}/posts/").status_code == 200
    make(35)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/w/{workspace.public_id}/posts/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert Delivery.objects.count() == 80

"""Posts a pause holds, on the posts list: a due post of a paused workspace, or of a paused queue, waits however long
the pause lasts, so its card says "On hold" and why, and does not poll; the list reads what it needs in a fixed
number of queries, held posts or not."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Workspace
from publishing.models import Delivery, DeliveryKind, DeliveryState, Post, PostingQueue
from publishing.services import calendar, pipeline
from tests.factories import ChannelFactory, DeliveryFactory, PostFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]  # nothing here asks Meta
HTMX = {"HX-Request": "true"}
REASON = "Storm warning: hold everything."


@pytest.fixture(autouse=True)
def _signed_in(client, alice):
    client.force_login(alice)  # the owner: she sees every post and may do everything with it


@pytest.fixture
def fb_page(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice)  # Harbor Yoga Studio


@pytest.fixture
def ig(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice, instagram=True)  # @harboryoga


def due(channel, *, in_queue: bool = False, minutes: int = -5) -> Post:
    """A post scheduled on `channel`, due `minutes` from now (past by default: the dispatcher would take it)."""
    at = timezone.now() + timedelta(minutes=minutes)
    post = PostFactory(workspace=channel.workspace, in_queue=in_queue, scheduled_at=at)
    DeliveryFactory(post=post, channel=channel, state=DeliveryState.SCHEDULED, due_at=at, next_attempt_at=at)
    return post


def card_url(workspace, post) -> str:
    return f"/w/{workspace.public_id}/posts/{post.public_id}/deliveries/"


def card(client, workspace, post) -> str:
    """The post's card as the list shows it, and as its polling answers: both must agree."""
    listed = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    found = re.search(rf'<div class="card mb-3 post-card" id="post-{post.public_id}".*?\n</div>\n', listed, re.S)
    assert found, "the post is not on the list"
    alone = client.get(card_url(workspace, post), headers=HTMX).content.decode()
    assert polls(found.group(0), workspace, post) is polls(alone, workspace, post)
    return alone


def polls(html: str, workspace, post) -> bool:
    return f'hx-get="{card_url(workspace, post)}"' in html and 'hx-trigger="every 2s"' in html


def pause(workspace, alice) -> None:
    Workspace.objects.filter(pk=workspace.pk).update(paused_at=timezone.now(), paused_by=alice, pause_reason=REASON)


def pause_queue(channel, alice) -> None:
    PostingQueue.objects.update_or_create(channel=channel, defaults={"paused_at": timezone.now(), "paused_by": alice})


def test_a_due_post_of_a_paused_workspace_is_on_hold_and_does_not_poll(client, alice, workspace, fb_page):
    post = due(fb_page)
    assert polls(card(client, workspace, post), workspace, post)  # due: the dispatcher takes it within the minute
    pause(workspace, alice)
    html = card(client, workspace, post)
    assert not polls(html, workspace, post)
    delivery = post.deliveries.select_related("post__workspace", "channel").get()
    reason = pipeline.hold_reason(delivery)  # the words the pipeline gives a run it holds
    assert reason == f"On hold: Acme Coffee is paused: {REASON}. It goes out once the workspace is resumed."
    assert '<span class="badge text-bg-dark delivery-held">On hold</span>' in html and reason in html

    Workspace.objects.filter(pk=workspace.pk).update(paused_at=None, paused_by=None, pause_reason="")
    html = card(client, workspace, post)
    assert polls(html, workspace, post) and "On hold" not in html  # resumed: it goes out, the card follows it


def test_a_queued_post_of_a_paused_queue_is_on_hold_and_a_post_outside_the_queue_is_not(
    client, alice, workspace, fb_page
):
    queued = due(fb_page, in_queue=True)
    loose = due(fb_page)  # the same account, a time a person chose: the queue's pause does not hold it
    pause_queue(fb_page, alice)
    html = card(client, workspace, queued)
    assert not polls(html, workspace, queued)
    delivery = queued.deliveries.select_related("post__workspace", "channel").get()
    assert pipeline.hold_reason(delivery) == "On hold: the queue of Harbor Yoga Studio is paused."
    assert "On hold: the queue of Harbor Yoga Studio is paused." in html and "delivery-held" in html
    html = card(client, workspace, loose)
    assert polls(html, workspace, loose) and "On hold" not in html


def test_a_queued_post_of_a_paused_workspace_says_it_may_move_to_its_queues_next_free_time(
    client, alice, workspace, fb_page
):
    queued = due(fb_page, in_queue=True)
    loose = due(fb_page)
    pause(workspace, alice)
    delivery = queued.deliveries.select_related("post__workspace", "channel__posting_queue").get()
    reason = pipeline.hold_reason(delivery)
    assert reason == (
        f"On hold: Acme Coffee is paused: {REASON}. Once the workspace is resumed, it goes out at its time; if that "
        "has passed, it moves to its queue's next free time."
    )
    workspace.refresh_from_db()
    assert calendar.hold_reason(queued, delivery, workspace) == reason  # the list's words are the pipeline's
    assert reason in unescape(card(client, workspace, queued))
    assert "goes out once the workspace is resumed" in unescape(card(client, workspace, loose))


def test_only_the_held_account_of_a_post_says_on_hold(client, alice, workspace, fb_page, ig):
    post = due(fb_page, in_queue=True)
    DeliveryFactory(post=post, channel=ig, state=DeliveryState.PUBLISHED, remote_id="17900000000000001")
    pause_queue(fb_page, alice)
    html = card(client, workspace, post)
    rows = re.findall(r'<li class="list-group-item[^"]*delivery" data-state="(\w+)"( data-held="true")?', html)
    assert sorted(rows) == [("published", ""), ("scheduled", ' data-held="true"')]
    assert html.count("delivery-held") == 1


def test_a_post_that_is_not_due_yet_says_on_hold_without_polling(client, alice, workspace, fb_page):
    later = due(fb_page, minutes=90)
    pause(workspace, alice)
    html = card(client, workspace, later)
    assert "delivery-held" in html and not polls(html, workspace, later)


def test_a_run_already_going_keeps_polling_during_a_pause(client, alice, workspace, fb_page):
    post = PostFactory(workspace=workspace)
    DeliveryFactory(post=post, channel=fb_page, state=DeliveryState.PUBLISHING)  # a run took it before the pause
    pause(workspace, alice)
    html = card(client, workspace, post)
    assert polls(html, workspace, post) and "delivery-held" not in html  # it finishes; the card shows how


def bulk_held(workspace, page, ig, n: int) -> None:
    """`n` due posts in a few inserts: every other one queued on the Page (whose queue is paused), each also for
    Instagram (no queue there), so held and due deliveries mix on every card."""
    at = timezone.now() - timedelta(minutes=5)
    made = Post.objects.bulk_create(
        Post(workspace=workspace, caption=f"Held {i}", in_queue=i % 2 == 0, scheduled_at=at) for i in range(n)
    )
    Delivery.objects.bulk_create(
        Delivery(post=post, channel=channel, kind=kind, state=DeliveryState.SCHEDULED, due_at=at, next_attempt_at=at)
        for post in made
        for channel, kind in ((page, DeliveryKind.FB_TEXT), (ig, DeliveryKind.IG_IMAGE))
    )


@pytest.mark.parametrize("workspace_paused", [False, True])
def test_the_list_reads_held_posts_in_a_fixed_number_of_queries(
    client, alice, workspace, fb_page, ig, workspace_paused
):
    pause_queue(fb_page, alice)
    if workspace_paused:
        pause(workspace, alice)
    address = f"/w/{workspace.public_id}/posts/"

    def read() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    bulk_held(workspace, fb_page, ig, 10)
    few, html = read()
    assert html.count("delivery-held") == (20 if workspace_paused else 5)
    bulk_held(workspace, fb_page, ig, 490)
    assert Post.objects.filter(workspace=workspace).count() == 500
    many, html = read()
    assert many == few, (few, many)
    # A page of 20 posts: with the workspace paused every account is held, else the Page's queued half.
    assert html.count("delivery-held") == (40 if workspace_paused else 10)
    # Every post is due on Instagram, which has no queue: unless the workspace is paused, each card polls for that.
    assert html.count('hx-trigger="every 2s"') == (0 if workspace_paused else 20)

"""Comments stored once per channel and Meta id, threaded, with the thread's state kept as people expect: a fan's
new reply makes the thread wait again (and reopens it), our reply settles it, edits, hides and removals on
Facebook show. The sandbox makes each change and its webhook; the webhook is posted, signed as Meta signs it,
to the view and processed as the worker would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import ConnectedVia, Platform
from accounts.services.channels import channel_client
from inbox.models import Comment, CommentKind, CommentStatus, InboxPost, WebhookDelivery
from inbox.services import ingest
from inbox.services.ingest import (
    APP_FACEBOOK,
    APP_INSTAGRAM,
    CommentData,
    comment_mark_removed,
    comment_set_hidden,
    comment_upsert,
    parse_time,
    webhook_channels,
    webhook_process,
)
from inbox.services.sync import channel_poll
from socialhub.graph.models import GraphCall
from tests.factories import (
    HARBOR_IG,
    HARBOR_PAGE,
    LOGIN_ONLY_IG,
    ChannelFactory,
    DeliveryFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

URL = "/webhooks/meta/"


def deliver(client, sandbox_control, **spec) -> dict:
    """Have the sandbox make a change and its webhook, post that to the view as Meta would, and process it."""
    made = sandbox_control.send_webhook(deliver=False, **spec)
    body = json.dumps(made["sent"], separators=(",", ":")).encode()
    response = client.post(
        URL, data=body, content_type="application/json", headers={"X-Hub-Signature-256": made["signature"]}
    )
    assert response.status_code == 200, response.content
    webhook_process(WebhookDelivery.objects.latest("pk").pk)
    return made["sent"]


def change(sent: dict) -> dict:
    entry = sent["entry"][0]
    return entry["changes"][0]["value"] if "changes" in entry else entry["value"]


def newest_post_id(channel) -> str:
    return channel_client(channel).get(f"{HARBOR_PAGE}/published_posts", params={"limit": 1})["data"][0]["id"]


def newest_media_id(channel) -> str:
    return channel_client(channel).get(f"{channel.external_id}/media", params={"limit": 1})["data"][0]["id"]


@pytest.fixture
def page_thread(client, inbox_channels, sandbox_control):
    """A fan's comment under the Page's newest post, in the inbox."""
    sent = deliver(client, sandbox_control, kind="comment", post_id=newest_post_id(inbox_channels["page"]))
    return Comment.objects.get(external_id=change(sent)["comment_id"])


# --- threads ----------------------------------------------------------------------------------------------------
def test_replies_hang_under_their_top_level_comment_and_wake_the_thread(client, sandbox_control, page_thread):
    Comment.objects.filter(pk=page_thread.pk).update(status=CommentStatus.DONE, needs_reply=False)
    sent = deliver(client, sandbox_control, kind="comment", parent_id=page_thread.external_id, text="Me too!")
    reply = Comment.objects.get(external_id=change(sent)["comment_id"])
    # A reply to the reply: Facebook names the reply as its parent; the inbox keeps one level, as Facebook shows.
    sent = deliver(client, sandbox_control, kind="comment", parent_id=reply.external_id, text="Same here")
    second = Comment.objects.get(external_id=change(sent)["comment_id"])

    assert reply.parent == page_thread and second.parent == page_thread
    assert reply.inbox_post == page_thread.inbox_post
    page_thread.refresh_from_db()
    assert page_thread.status == CommentStatus.NEW and page_thread.needs_reply  # reopened: a fan wrote again
    assert page_thread.last_activity_at == second.created_at


def test_our_reply_settles_the_thread_and_a_fans_next_one_wakes_it(inbox_channels, page_thread):
    page = inbox_channels["page"]
    ours, created = comment_upsert(
        channel=page,
        data=CommentData(
            external_id=f"{page_thread.external_id.split('_')[0]}_1999",
            media_id=page_thread.inbox_post.external_id,
            parent_external_id=page_thread.external_id,
            author_id=HARBOR_PAGE,
            author_name="Harbor Yoga Studio",
            text="Yes, at 9 and 11!",
            created_at=timezone.now(),
        ),
    )
    page_thread.refresh_from_db()
    assert created and ours.from_us and ours.parent == page_thread
    assert not page_thread.needs_reply and page_thread.last_activity_at == ours.created_at

    Comment.objects.filter(pk=page_thread.pk).update(status=CommentStatus.DONE)
    fan = CommentData(
        external_id=f"{page_thread.external_id.split('_')[0]}_2000",
        media_id=page_thread.inbox_post.external_id,
        parent_external_id=ours.external_id,  # answering our reply
        author_id="10555",
        author_name="Sam Rivera",
        text="Thanks! And on Monday?",
        created_at=timezone.now() + timedelta(seconds=5),
    )
    comment_upsert(channel=page, data=fan)
    page_thread.refresh_from_db()
    assert page_thread.needs_reply and page_thread.status == CommentStatus.NEW


def test_a_reply_whose_comment_the_inbox_lacks_brings_that_comment_from_meta(client, inbox_channels, sandbox_control):
    # The fan's comment was made on Facebook, but its webhook never came.
    lost = sandbox_control.send_webhook(
        kind="comment", post_id=newest_post_id(inbox_channels["page"]), text="First!", deliver=False
    )
    sent = deliver(client, sandbox_control, kind="comment", parent_id=change(lost["sent"])["comment_id"], text="2nd")
    reply = Comment.objects.get(external_id=change(sent)["comment_id"])
    assert reply.parent.external_id == change(lost["sent"])["comment_id"] and reply.parent.text == "First!"
    assert reply.parent.parent is None


# --- edits, hiding, removals -------------------------------------------------------------------------------------
def test_edits_hides_and_removals_on_facebook_show_in_the_inbox(client, sandbox_control, page_thread):
    before = page_thread.created_at
    deliver(client, sandbox_control, kind="edit", comment_id=page_thread.external_id, text="Edited: Sunday at 9?")
    page_thread.refresh_from_db()
    assert page_thread.text == "Edited: Sunday at 9?" and page_thread.edited_at is not None
    assert page_thread.created_at == before

    deliver(client, sandbox_control, kind="hide", comment_id=page_thread.external_id)
    page_thread.refresh_from_db()
    assert page_thread.hidden
    deliver(client, sandbox_control, kind="unhide", comment_id=page_thread.external_id)
    page_thread.refresh_from_db()
    assert not page_thread.hidden

    reply_sent = deliver(client, sandbox_control, kind="comment", parent_id=page_thread.external_id)
    deliver(client, sandbox_control, kind="remove", comment_id=page_thread.external_id)
    page_thread.refresh_from_db()
    reply = Comment.objects.get(external_id=change(reply_sent)["comment_id"])
    assert page_thread.deleted_at is not None and reply.deleted_at is not None  # Meta removes the replies with it
    assert not page_thread.needs_reply  # nothing is left to answer


def test_changes_to_comments_the_inbox_never_had_are_skipped(client, inbox_channels, sandbox_control):
    post_id = newest_post_id(inbox_channels["page"])
    lost = sandbox_control.send_webhook(kind="comment", post_id=post_id, deliver=False)
    deliver(client, sandbox_control, kind="hide", comment_id=change(lost["sent"])["comment_id"])
    assert not Comment.objects.exists()
    assert WebhookDelivery.objects.get().processed_at is not None and WebhookDelivery.objects.get().error == ""


# --- Instagram and mentions -------------------------------------------------------------------------------------
def test_an_instagram_reply_from_the_account_itself_is_ours(client, inbox_channels, sandbox_control):
    ig = inbox_channels["ig"]
    sent = deliver(client, sandbox_control, kind="comment", object="instagram", media_id=newest_media_id(ig))
    thread = Comment.objects.get(external_id=change(sent)["id"])
    sent = deliver(
        client, sandbox_control, kind="comment", parent_id=thread.external_id, username="harboryoga", text="Thanks!"
    )
    reply = Comment.objects.get(external_id=change(sent)["id"])
    thread.refresh_from_db()
    assert reply.parent == thread and reply.from_us and not thread.needs_reply


def test_a_mention_in_someone_elses_comment_is_kept_as_a_mention(client, inbox_channels, sandbox_control):
    sent = deliver(client, sandbox_control, kind="mention", ig_user_id=HARBOR_IG, text="@harboryoga best class ever")
    mention = Comment.objects.get(external_id=change(sent)["comment_id"])
    assert mention.kind == CommentKind.MENTION and mention.channel == inbox_channels["ig"]
    assert mention.text == "@harboryoga best class ever" and mention.needs_reply
    assert mention.inbox_post.is_mention and mention.inbox_post.external_id == change(sent)["media_id"]
    assert mention.inbox_post.post is None


def test_a_mention_in_a_caption_is_kept_with_the_caption_as_its_text(client, inbox_channels, sandbox_control):
    sent = deliver(
        client, sandbox_control, kind="mention", ig_user_id=HARBOR_IG, caption=True, text="Morning flow @harboryoga"
    )
    media_id = change(sent)["media_id"]
    mention = Comment.objects.get(external_id=media_id)
    assert mention.kind == CommentKind.MENTION and mention.text == "Morning flow @harboryoga"
    assert mention.inbox_post.is_mention and mention.inbox_post.caption == "Morning flow @harboryoga"
    assert mention.author_name  # the stranger's username


def test_an_instagram_login_mention_arrives_as_a_comment_and_is_kept_as_a_mention(
    client, inbox_channels, sandbox_control
):
    ig_login = inbox_channels["ig_login"]
    sent = deliver(client, sandbox_control, kind="mention", ig_user_id=LOGIN_ONLY_IG, text="@maplethread.studio yarn?")
    value = change(sent)
    media_id = value["media"]["id"]
    mention = Comment.objects.get(channel=ig_login, external_id=value["id"])
    assert mention.kind == CommentKind.MENTION and mention.text == "@maplethread.studio yarn?" and mention.needs_reply
    assert mention.author_name == value["from"]["username"] and not mention.from_us
    assert mention.inbox_post.is_mention and mention.inbox_post.external_id == media_id
    assert mention.inbox_post.post is None
    # Nothing asked of Instagram Login that only Facebook Login has.
    assert not GraphCall.objects.filter(path__contains="mentioned_").exists()

    # Another mention under the same stranger's post: known to be theirs, stored without asking Meta anything.
    calls = GraphCall.objects.count()
    sent = deliver(client, sandbox_control, kind="mention", ig_user_id=LOGIN_ONLY_IG, media_id=media_id, text="@m 2")
    second = Comment.objects.get(channel=ig_login, external_id=change(sent)["id"])
    assert second.kind == CommentKind.MENTION and second.inbox_post == mention.inbox_post
    assert GraphCall.objects.count() == calls

    # Someone else's post is never polled for comments.
    channel_poll(ig_login)
    assert not GraphCall.objects.filter(path__contains=f"/{media_id}/comments").exists()


# --- who receives a delivery ------------------------------------------------------------------------------------
def test_a_comment_reaches_every_workspace_that_connected_the_account(client, inbox_channels, sandbox_control):
    other = ChannelFactory(instagram=True, workspace=WorkspaceFactory(agency=inbox_channels["ig"].workspace.agency))
    sent = deliver(client, sandbox_control, kind="comment", media_id=newest_media_id(inbox_channels["ig"]))
    stored = Comment.objects.filter(external_id=change(sent)["id"])
    assert {c.channel for c in stored} == {inbox_channels["ig"], other}
    assert {c.workspace for c in stored} == {inbox_channels["ig"].workspace, other.workspace}


def test_a_delivery_reaches_only_channels_of_the_login_whose_app_signed_it(workspace):
    via_facebook = ChannelFactory(instagram=True, workspace=workspace)
    via_instagram = ChannelFactory(
        workspace=WorkspaceFactory(),
        platform=Platform.INSTAGRAM,
        connected_via=ConnectedVia.INSTAGRAM_LOGIN,
        external_id=HARBOR_IG,
    )
    assert webhook_channels(obj="instagram", account_id=HARBOR_IG, app=APP_FACEBOOK) == [via_facebook]
    assert webhook_channels(obj="instagram", account_id=HARBOR_IG, app=APP_INSTAGRAM) == [via_instagram]
    assert webhook_channels(obj="page", account_id=HARBOR_IG, app=APP_FACEBOOK) == []


# --- links, rules, failures ---------------------------------------------------------------------------------------
def test_comments_under_a_post_socialhub_published_link_to_it(client, inbox_channels, sandbox_control):
    page = inbox_channels["page"]
    post_id = newest_post_id(page)
    delivery = DeliveryFactory(channel=page, published=True, remote_id=post_id)
    deliver(client, sandbox_control, kind="comment", post_id=post_id)
    assert InboxPost.objects.get().post == delivery.post


def test_the_rules_see_each_new_fans_comment_once(
    client, inbox_channels, sandbox_control, monkeypatch, django_capture_on_commit_callbacks
):
    from inbox.services import rules

    seen = []
    monkeypatch.setattr(rules, "rules_apply", lambda comment: seen.append(comment.text) or [])
    post_id = newest_post_id(inbox_channels["page"])
    made = sandbox_control.send_webhook(kind="comment", post_id=post_id, text="Spam spam", deliver=False)
    data = ingest.webhook_events(made["sent"])[0].comment
    with django_capture_on_commit_callbacks(execute=True):
        comment_upsert(channel=inbox_channels["page"], data=data)
        comment_upsert(channel=inbox_channels["page"], data=data)  # seen again: nothing new
        comment_upsert(
            channel=inbox_channels["page"],
            data=CommentData(
                external_id=f"{data.external_id}9",
                media_id=post_id,
                parent_external_id=data.external_id,
                author_id=HARBOR_PAGE,
                author_name="Harbor Yoga Studio",
                text="Our own reply",
                created_at=timezone.now(),
            ),
        )
    assert seen == ["Spam spam"]


def test_rules_skip_old_comments_and_stores_that_ask_for_none(
    inbox_channels, monkeypatch, django_capture_on_commit_callbacks
):
    from inbox.services import rules

    seen = []
    monkeypatch.setattr(rules, "rules_apply", lambda comment: seen.append(comment.text) or [])
    page = inbox_channels["page"]

    def fan(n: int, age: timedelta) -> CommentData:
        return CommentData(
            external_id=f"7127500210_{n}",
            media_id=f"{HARBOR_PAGE}_7127500210",
            parent_external_id=None,
            author_id=f"2426638175300{n}",
            author_name="Jane Doe",
            text=f"spam {n}",
            created_at=timezone.now() - age,
        )

    with django_capture_on_commit_callbacks(execute=True):
        comment_upsert(channel=page, data=fan(1, timedelta(days=3)))  # last week's: a late poll found it
        comment_upsert(channel=page, data=fan(2, timedelta(minutes=3)))
        comment_upsert(channel=page, data=fan(3, timedelta(minutes=3)), apply_rules=False)  # a backfill's
    assert seen == ["spam 2"]
    assert Comment.objects.count() == 3


def test_removing_or_hiding_twice_changes_nothing_more(inbox_channels, make_comment):
    page = inbox_channels["page"]
    thread = make_comment(page, at=timezone.now() - timedelta(hours=1))
    reply = make_comment(page, parent=thread, text="Me too")
    removed_at = timezone.now() - timedelta(minutes=1)

    assert comment_mark_removed(channel=page, external_id=thread.external_id, at=removed_at)
    assert not comment_mark_removed(channel=page, external_id=thread.external_id, at=timezone.now())
    assert not comment_mark_removed(channel=page, external_id=reply.external_id, at=timezone.now())
    thread.refresh_from_db()
    reply.refresh_from_db()
    assert thread.deleted_at == reply.deleted_at == removed_at  # the replies went with it, once
    assert not thread.needs_reply

    assert comment_set_hidden(channel=page, external_id=reply.external_id, hidden=True)
    assert not comment_set_hidden(channel=page, external_id=reply.external_id, hidden=True)
    assert Comment.objects.get(pk=reply.pk).hidden


def test_a_comment_a_poll_still_lists_is_shown_again_a_webhook_never_brings_it_back(inbox_channels, make_comment):
    page = inbox_channels["page"]
    thread = make_comment(page, at=timezone.now() - timedelta(hours=1))
    removed_at = timezone.now() - timedelta(minutes=5)
    comment_mark_removed(channel=page, external_id=thread.external_id, at=removed_at)
    seen = CommentData(
        external_id=thread.external_id,
        media_id=thread.inbox_post.external_id,
        parent_external_id=None,
        author_id=thread.author_id,
        author_name=thread.author_name,
        text=thread.text,
        created_at=thread.created_at,
    )

    comment_upsert(channel=page, data=seen)  # a webhook repeating it
    comment_upsert(channel=page, data=seen, listed_at=removed_at - timedelta(minutes=1))  # read before the removal
    thread.refresh_from_db()
    assert thread.deleted_at == removed_at and not thread.needs_reply

    comment_upsert(channel=page, data=seen, listed_at=timezone.now())  # a poll that read Meta's list just now
    thread.refresh_from_db()
    assert thread.deleted_at is None and thread.needs_reply


@pytest.mark.no_sandbox
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-05-19T23:27:28+0000", datetime(2017, 5, 19, 23, 27, 28, tzinfo=UTC)),
        ("2017-05-19T23:27:28Z", datetime(2017, 5, 19, 23, 27, 28, tzinfo=UTC)),
        ("2017-05-19T23:27:28", datetime(2017, 5, 19, 23, 27, 28, tzinfo=UTC)),
        (1707211876, datetime(2024, 2, 6, 9, 31, 16, tzinfo=UTC)),
        ("1707211876", datetime(2024, 2, 6, 9, 31, 16, tzinfo=UTC)),
        (1707211876.0, datetime(2024, 2, 6, 9, 31, 16, tzinfo=UTC)),
        ("", None),
        (None, None),
        ("yesterday", None),
        (True, None),
        (10**20, None),
    ],
)
def test_meta_times_are_read_one_way(value, expected):
    assert parse_time(value) == expected


def test_a_processing_failure_is_kept_tried_again_and_the_last_one_closes_the_delivery(
    client, inbox_channels, sandbox_control, monkeypatch
):
    from inbox import tasks
    from inbox.services import sync

    made = sandbox_control.send_webhook(kind="comment", post_id=newest_post_id(inbox_channels["page"]), deliver=False)
    body = json.dumps(made["sent"], separators=(",", ":")).encode()
    client.post(URL, data=body, content_type="application/json", headers={"X-Hub-Signature-256": made["signature"]})
    delivery = WebhookDelivery.objects.get()
    tries = []

    def broken(**kwargs):
        tries.append(delivery.pk)
        raise RuntimeError("database went away")

    monkeypatch.setattr(sync, "event_apply", broken)
    tasks.process_webhook.apply(args=[delivery.pk])  # run eagerly: its retries follow at once
    delivery.refresh_from_db()
    assert len(tries) == tasks.process_webhook.max_retries + 1
    assert delivery.error == "RuntimeError: database went away"
    assert delivery.processed_at is not None and not Comment.objects.exists()  # closed; the poll catches up


def test_processing_asks_meta_for_a_new_posts_caption_once(client, inbox_channels, sandbox_control):
    post_id = newest_post_id(inbox_channels["page"])
    deliver(client, sandbox_control, kind="comment", post_id=post_id)
    asked = GraphCall.objects.filter(path__startswith=f"/v25.0/{post_id}?").count()
    deliver(client, sandbox_control, kind="comment", post_id=post_id)
    assert asked == 1
    assert GraphCall.objects.filter(path__startswith=f"/v25.0/{post_id}?").count() == 1
    assert Comment.objects.count() == 2

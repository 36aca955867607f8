"""The poll that catches what webhooks missed, the backfill of a new channel, and its webhook subscription, all
against the sandbox: lost webhooks are found, replies threaded, removals and hides on Meta reconciled, stored
comments not read again, the poll holding back while Meta reports high usage, and a refused token said in words."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import ChannelStatus, ConnectedVia, Platform
from accounts.scopes import missing_scopes, optional_scopes
from accounts.services.channels import channel_client
from inbox import tasks
from inbox.models import ChannelSync, Comment, InboxPost, WebhookDelivery
from inbox.services.ingest import comment_mark_removed
from inbox.services.subscribe import channel_subscribe
from inbox.services.sync import channel_poll
from socialhub.graph.models import GraphCall
from tests.factories import HARBOR_PAGE, ChannelFactory, connect_scopes

pytestmark = pytest.mark.django_db


def lost(sandbox_control, **spec) -> dict:
    """A change made on Meta whose webhook never arrived; returns the value it would have announced."""
    entry = sandbox_control.send_webhook(deliver=False, **spec)["sent"]["entry"][0]
    return entry["changes"][0]["value"] if "changes" in entry else entry["value"]


def newest_post_id(channel) -> str:
    return channel_client(channel).get(f"{HARBOR_PAGE}/published_posts", params={"limit": 1})["data"][0]["id"]


def newest_media_id(channel) -> str:
    return channel_client(channel).get(f"{channel.external_id}/media", params={"limit": 1})["data"][0]["id"]


def calls_during(fn):
    before = set(GraphCall.objects.values_list("pk", flat=True))
    result = fn()
    return result, list(GraphCall.objects.exclude(pk__in=before).order_by("pk").values_list("path", flat=True))


# --- backfill ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["page", "ig", "ig_login"])
def test_a_new_channel_is_backfilled_with_its_recent_comments(inbox_channels, key):
    channel = inbox_channels[key]
    result = channel_poll(channel, backfill=True)
    assert result.error == "" and result.stored > 0
    sync = ChannelSync.objects.get(channel=channel)
    assert sync.backfilled_at is not None and sync.polled_at is not None and sync.poll_error == ""
    # What Meta lists under the newest post is in the inbox, under that post, with its caption.
    client = channel_client(channel)
    media_id = newest_post_id(channel) if key == "page" else newest_media_id(channel)
    on_meta = {c["id"] for c in client.paginate(f"{media_id}/comments", params={"limit": 50})}
    stored = Comment.objects.filter(channel=channel, inbox_post__external_id=media_id)
    assert {c.external_id for c in stored} == on_meta
    assert InboxPost.objects.get(channel=channel, external_id=media_id).caption


def test_a_backfill_runs_no_rules_but_a_new_comment_found_later_does(
    inbox_channels, sandbox_control, monkeypatch, django_capture_on_commit_callbacks
):
    from inbox.services import rules

    seen = []
    monkeypatch.setattr(rules, "rules_apply", lambda comment: seen.append(comment.external_id) or [])
    ig = inbox_channels["ig_login"]
    with django_capture_on_commit_callbacks(execute=True):
        assert channel_poll(ig, backfill=True).stored > 0
    assert seen == []  # a month of comments people have seen already: no rule hides them unseen

    new = lost(sandbox_control, kind="comment", media_id=newest_media_id(ig), text="fr33 f0ll0wers")
    with django_capture_on_commit_callbacks(execute=True):
        channel_poll(ig)
    assert seen == [new["id"]]


def test_a_page_backfill_reads_every_post_in_one_batch(inbox_channels):
    _, paths = calls_during(lambda: channel_poll(inbox_channels["page"], backfill=True))
    assert len(paths) == 2  # the posts, then the comments of all of them in one batch request
    assert "/published_posts?" in paths[0] and paths[1] == "/v25.0/"


# --- what webhooks missed --------------------------------------------------------------------------------------
def test_a_comment_and_a_reply_whose_webhooks_were_lost_are_found_by_the_poll(inbox_channels, sandbox_control):
    page, ig = inbox_channels["page"], inbox_channels["ig"]
    channel_poll(page, backfill=True)
    channel_poll(ig, backfill=True)
    fb_top = lost(sandbox_control, kind="comment", post_id=newest_post_id(page), text="Parking?")
    fb_reply = lost(sandbox_control, kind="comment", parent_id=fb_top["comment_id"], text="Free after 6")
    ig_top = lost(sandbox_control, kind="comment", object="instagram", media_id=newest_media_id(ig), text="Where?")
    ig_reply = lost(sandbox_control, kind="comment", parent_id=ig_top["id"], text="Downtown")

    assert channel_poll(page).stored == 2 and channel_poll(ig).stored == 2
    fb_thread = Comment.objects.get(channel=page, external_id=fb_top["comment_id"])
    assert fb_thread.text == "Parking?" and fb_thread.parent is None
    assert Comment.objects.get(channel=page, external_id=fb_reply["comment_id"]).parent == fb_thread
    ig_thread = Comment.objects.get(channel=ig, external_id=ig_top["id"])
    assert Comment.objects.get(channel=ig, external_id=ig_reply["id"]).parent == ig_thread
    assert ig_thread.needs_reply and fb_thread.needs_reply


def test_removals_hides_and_edits_on_meta_are_reconciled_by_the_poll(inbox_channels, sandbox_control):
    page, ig = inbox_channels["page"], inbox_channels["ig"]
    post_id, media_id = newest_post_id(page), newest_media_id(ig)
    fb = [lost(sandbox_control, kind="comment", post_id=post_id, text=f"fb {n}")["comment_id"] for n in range(3)]
    ig_ids = [lost(sandbox_control, kind="comment", media_id=media_id, text=f"ig {n}")["id"] for n in range(2)]
    channel_poll(page, backfill=True)
    channel_poll(ig, backfill=True)

    lost(sandbox_control, kind="remove", comment_id=fb[0])
    lost(sandbox_control, kind="hide", comment_id=fb[1])
    lost(sandbox_control, kind="edit", comment_id=fb[2], text="fb 2, edited")
    channel_client(ig).delete(ig_ids[0])  # removed on Instagram (Instagram sends no webhook for it)
    channel_client(ig).post(ig_ids[1], data={"hide": "true"})

    assert channel_poll(page).removed == 1
    assert channel_poll(ig).removed == 1
    by_id = {c.external_id: c for c in Comment.objects.filter(external_id__in=fb + ig_ids)}
    assert by_id[fb[0]].deleted_at is not None and by_id[ig_ids[0]].deleted_at is not None
    assert by_id[fb[1]].hidden and by_id[ig_ids[1]].hidden
    assert by_id[fb[2]].text == "fb 2, edited" and by_id[fb[2]].edited_at is not None
    assert all(by_id[i].deleted_at is None for i in (fb[1], fb[2], ig_ids[1]))


# --- incremental --------------------------------------------------------------------------------------------------
def test_comments_already_stored_are_not_read_again(inbox_channels, sandbox_control):
    ig = inbox_channels["ig_login"]  # graph.instagram.com: no batch, one call per page of 50
    media_id = newest_media_id(ig)
    for n in range(100):  # with the seeded ones: three pages of up to 50
        lost(sandbox_control, kind="comment", media_id=media_id, text=f"comment {n}")
    _, first = calls_during(lambda: channel_poll(ig, backfill=True))
    assert sum(f"/{media_id}/comments" in p for p in first) == 3  # every page, the first time
    stored = Comment.objects.filter(inbox_post__external_id=media_id)
    rows = sorted(stored.values("pk", "updated_at", "text", "external_id"), key=lambda r: r["pk"])

    result, quiet = calls_during(lambda: channel_poll(ig))
    assert result.stored == 0 and sum(f"/{media_id}/comments" in p for p in quiet) == 1  # the newest page only

    new = lost(sandbox_control, kind="comment", media_id=media_id, text="one more")
    result, again = calls_during(lambda: channel_poll(ig))
    assert result.stored == 1 and stored.filter(external_id=new["id"]).exists()
    # The newest page held something new, the next one nothing: the oldest page was not asked for again, and no
    # stored comment was read on its own.
    assert sum(f"/{media_id}/comments" in p for p in again) == 2
    assert not any(p.split("?")[0].rsplit("/", 1)[-1] in {r["external_id"] for r in rows} for p in again)
    assert (
        sorted(
            stored.exclude(external_id=new["id"]).values("pk", "updated_at", "text", "external_id"),
            key=lambda r: r["pk"],
        )
        == rows
    )


def test_a_comment_marked_removed_that_meta_still_lists_is_shown_again_once(inbox_channels):
    ig = inbox_channels["ig_login"]
    media_id = newest_media_id(ig)
    channel_poll(ig, backfill=True)
    comment = Comment.objects.filter(channel=ig, inbox_post__external_id=media_id, parent__isnull=True).first()
    comment_mark_removed(channel=ig, external_id=comment.external_id, at=timezone.now() - timedelta(minutes=1))

    channel_poll(ig)
    comment.refresh_from_db()
    assert comment.deleted_at is None

    # No longer news: the next poll reads the newest page only.
    _, paths = calls_during(lambda: channel_poll(ig))
    assert sum(f"/{media_id}/comments" in p for p in paths) == 1


def test_a_quiet_channel_costs_one_call_per_poll(inbox_channels):
    page = inbox_channels["page"]
    channel_poll(page, backfill=True)
    result, paths = calls_during(lambda: channel_poll(page))
    assert result.media == 0 and len(paths) == 1  # the list of posts said nothing changed


# --- slowing down and errors ------------------------------------------------------------------------------------
def test_the_poll_holds_back_while_meta_reports_high_usage(inbox_channels, sandbox_control):
    ig = inbox_channels["ig_login"]
    sandbox_control.set_usage(app_capacity=4)  # four calls fill the Instagram app's hourly window
    channel_poll(ig, backfill=True)
    result, paths = calls_during(lambda: channel_poll(ig))
    assert result.postponed > 0 and paths == []
    assert ig.status == ChannelStatus.ACTIVE


def test_a_refused_token_turns_the_channel_to_reconnect_with_words(inbox_channels, sandbox_control):
    ig = inbox_channels["ig_login"]
    sandbox_control.revoke_tokens(ig_user_id=ig.external_id, reason="password_changed")
    result = channel_poll(ig)
    ig.refresh_from_db()
    assert ig.status == ChannelStatus.NEEDS_RECONNECT
    assert "no longer accepts this connection" in ig.status_reason and "Reconnect" in ig.status_reason
    assert result.error == ig.status_reason == ChannelSync.objects.get(channel=ig).poll_error


def test_other_refusals_are_kept_on_the_channels_inbox_bookkeeping(inbox_channels, sandbox_control):
    page = inbox_channels["page"]
    sandbox_control.fault(path=r"/published_posts", kind="error", error={"preset": "transient"}, count=1)
    result = channel_poll(page)
    page.refresh_from_db()
    assert page.status == ChannelStatus.ACTIVE
    assert result.error and ChannelSync.objects.get(channel=page).poll_error == result.error
    assert channel_poll(page).error == "" and ChannelSync.objects.get(channel=page).poll_error == ""


# --- subscriptions --------------------------------------------------------------------------------------------
def test_a_page_and_its_instagram_account_are_subscribed_through_the_page(inbox_channels):
    page, ig = inbox_channels["page"], inbox_channels["ig"]
    assert channel_client(page).get(f"{HARBOR_PAGE}/subscribed_apps")["data"] == []
    assert channel_subscribe(page) and channel_subscribe(ig)
    apps = channel_client(page).get(f"{HARBOR_PAGE}/subscribed_apps")["data"]
    assert [a["subscribed_fields"] for a in apps] == [["feed"]]
    for channel in (page, ig):
        sync = ChannelSync.objects.get(channel=channel)
        assert sync.subscribed_at is not None and sync.subscribe_error == ""


def test_an_instagram_login_account_subscribes_itself(inbox_channels):
    ig_login = inbox_channels["ig_login"]
    assert channel_subscribe(ig_login)
    apps = channel_client(ig_login).get("me/subscribed_apps")["data"]
    assert sorted(apps[0]["subscribed_fields"]) == ["comments", "mentions"]


def test_without_pages_manage_metadata_the_subscription_is_refused_in_words(workspace, alice, sandbox_control):
    scopes = connect_scopes(platform=Platform.FACEBOOK_PAGE, connected_via=ConnectedVia.FACEBOOK_LOGIN)
    page = ChannelFactory(
        workspace=workspace,
        connected_by=alice,
        sandbox=sandbox_control,
        granted_scopes=[s for s in scopes if s != "pages_manage_metadata"],
    )
    assert not channel_subscribe(page)
    sync = ChannelSync.objects.get(channel=page)
    assert sync.subscribed_at is None
    assert sync.subscribe_error == (
        "Give SocialHub the 'pages_manage_metadata' permission so new comments arrive in seconds; "
        "until then they arrive every few minutes."
    )
    page.refresh_from_db()
    assert page.status == ChannelStatus.ACTIVE  # publishing and polling go on


def test_the_subscribe_task_subscribes_then_backfills(inbox_channels):
    page = inbox_channels["page"]
    assert tasks.subscribe_channel.apply(args=[page.pk]).get() == "done"
    sync = ChannelSync.objects.get(channel=page)
    assert sync.subscribed_at and sync.backfilled_at
    assert Comment.objects.filter(channel=page).exists()


@pytest.fixture
def queued(monkeypatch):
    """What the beat task queues, by task: (channel id, backfill) polls, channel ids to subscribe, deliveries."""
    out = {"poll": [], "subscribe": [], "webhook": []}
    monkeypatch.setattr(
        tasks.poll_channel, "delay", lambda channel_id, backfill=False: out["poll"].append((channel_id, backfill))
    )
    monkeypatch.setattr(tasks.subscribe_channel, "delay", lambda channel_id: out["subscribe"].append(channel_id))
    monkeypatch.setattr(tasks.process_webhook, "delay", lambda delivery_id: out["webhook"].append(delivery_id))
    return out


def test_the_beat_task_polls_active_channels_and_subscribes_those_never_subscribed(inbox_channels, queued):
    page, ig, ig_login = inbox_channels["page"], inbox_channels["ig"], inbox_channels["ig_login"]
    now = timezone.now()
    ChannelSync.objects.create(channel=page, subscribed_at=now, backfilled_at=now)
    # Connected before the inbox existed: no bookkeeping at all.
    ig.status = ChannelStatus.NEEDS_RECONNECT
    ig.save(update_fields=["status"])
    assert tasks.poll_channels.apply().get() == 2
    assert queued["poll"] == [(page.pk, False)]
    assert queued["subscribe"] == [ig_login.pk]  # subscribed, then backfilled, by that task

    # Its task is on its way (or was lost): not asked again within the hour; polled meanwhile.
    queued["poll"].clear()
    queued["subscribe"].clear()
    tasks.poll_channels.apply()
    assert queued["subscribe"] == [] and sorted(queued["poll"]) == sorted([(page.pk, False), (ig_login.pk, False)])


def test_a_channel_meta_refused_to_subscribe_is_polled_and_backfilled_until_that_works(inbox_channels, queued):
    page = inbox_channels["page"]
    ChannelSync.objects.create(channel=page, subscribe_error="Give SocialHub the 'pages_manage_metadata' permission")
    tasks.poll_channels.apply()
    assert (page.pk, True) in queued["poll"] and page.pk not in queued["subscribe"]


def test_a_delivery_whose_task_was_lost_is_queued_again_after_growing_waits(queued):
    now = timezone.now()

    def delivery(age: timedelta, **fields) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            body_sha256=f"{age.total_seconds():064.0f}", payload={}, received_at=now - age, **fields
        )

    lost = delivery(timedelta(minutes=10))
    retry_lost = delivery(timedelta(minutes=20), error="RuntimeError: database went away")  # its retry never came
    fresh = delivery(timedelta(minutes=1))
    done = delivery(timedelta(minutes=30), processed_at=now)
    ancient = delivery(timedelta(days=2))

    assert tasks.requeue_stuck_deliveries(now) == 2
    assert sorted(queued["webhook"]) == sorted([lost.pk, retry_lost.pk])
    assert fresh.pk not in queued["webhook"] and done.pk not in queued["webhook"]
    ancient.refresh_from_db()
    assert ancient.processed_at is not None and ancient.error == tasks.GIVEN_UP

    # A backlog: the next rounds leave them to the task queued just now...
    assert tasks.requeue_stuck_deliveries(now) == 0
    # ...until that one is overdue too (five minutes), then wait twice as long (ten more).
    start = time.time()
    rounds = [(5, {lost.pk, retry_lost.pk, fresh.pk}), (11, {fresh.pk}), (16, {lost.pk, retry_lost.pk})]
    for minutes, expected in rounds:
        queued["webhook"].clear()
        with mock.patch("time.time", return_value=start + minutes * 60 + 1):
            tasks.requeue_stuck_deliveries(now + timedelta(minutes=minutes, seconds=1))
        assert set(queued["webhook"]) == expected, minutes


def test_processed_webhook_bodies_are_deleted_after_the_days_kept(settings):
    settings.INBOX_WEBHOOK_KEEP_DAYS = 7
    now = timezone.now()
    old_done = WebhookDelivery.objects.create(
        body_sha256="a" * 64, payload={}, received_at=now - timedelta(days=8), processed_at=now - timedelta(days=8)
    )
    recent_done = WebhookDelivery.objects.create(
        body_sha256="b" * 64, payload={}, received_at=now - timedelta(days=6), processed_at=now
    )
    pending = WebhookDelivery.objects.create(body_sha256="c" * 64, payload={}, received_at=now - timedelta(hours=1))

    assert tasks.prune_webhook_deliveries.apply().get() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {recent_done.pk, pending.pk}
    assert not WebhookDelivery.objects.filter(pk=old_done.pk).exists()
    assert settings.CELERY_BEAT_SCHEDULE["inbox-prune-webhook-deliveries"]["task"] == "inbox.prune_webhook_deliveries"


def test_the_faster_comment_permissions_are_optional(settings):
    page = optional_scopes(platform=Platform.FACEBOOK_PAGE, connected_via=ConnectedVia.FACEBOOK_LOGIN)
    ig = optional_scopes(platform=Platform.INSTAGRAM, connected_via=ConnectedVia.FACEBOOK_LOGIN)
    assert page == {
        "pages_manage_metadata": "get new comments in seconds",
        "pages_messaging": "send private replies to comments",
    }
    assert "pages_manage_metadata" in ig and "pages_messaging" not in ig
    # A channel connected before these were asked for does not need reconnecting.
    assert not missing_scopes(
        platform=Platform.FACEBOOK_PAGE,
        connected_via=ConnectedVia.FACEBOOK_LOGIN,
        granted=[
            s
            for s in connect_scopes(platform=Platform.FACEBOOK_PAGE, connected_via=ConnectedVia.FACEBOOK_LOGIN)
            if s not in page
        ],
    )


def test_connecting_a_page_subscribes_it_and_backfills_its_comments(
    client, alice, workspace, sandbox_control, monkeypatch, django_capture_on_commit_callbacks
):
    from accounts.models import Channel
    from accounts.services import channels as channel_services
    from socialhub.devconnect import connect_with_facebook

    sent = []
    monkeypatch.setattr(channel_services.current_app, "send_task", lambda name, args: sent.append((name, args)))
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        connect_with_facebook(client, workspace, pages=[HARBOR_PAGE], pick=[f"facebook_page:{HARBOR_PAGE}"])
    page = Channel.objects.get(workspace=workspace, external_id=HARBOR_PAGE)
    assert ("inbox.subscribe_channel", [page.pk]) in sent

    tasks.subscribe_channel.apply(args=sent[0][1])  # what the worker does with it
    apps = channel_client(page).get(f"{HARBOR_PAGE}/subscribed_apps")["data"]
    assert apps and apps[0]["subscribed_fields"] == ["feed"]
    assert Comment.objects.filter(channel=page).exists()
    assert ChannelSync.objects.get(channel=page).backfilled_at is not None

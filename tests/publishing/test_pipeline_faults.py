"""Faults of a publishing run and what each must end in: no post stuck, lost, doubled or published unapproved.

Each test drives real runs against the sandbox (Meta's stand-in over HTTP); time at Meta moves with the
sandbox's clock, and a wait SocialHub measures is moved by shifting its stored start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing.models import Delivery, DeliveryAttempt, DeliveryState, Post
from publishing.publishers import facebook, instagram
from publishing.publishers.base import RunOutcome
from publishing.services import pipeline
from publishing.services.posts import MediaItem, post_create, post_submit
from socialhub.graph import GraphClient
from socialhub.graph.usage import ResponseUsage, Usage, record_usage
from tests.publishing.conftest import HARBOR_IG, HARBOR_PAGE, run_to_end, start_run

pytestmark = [pytest.mark.django_db(transaction=True)]
PHOTOS = rf"/v\d+\.\d+/{HARBOR_PAGE}/photos$"
FEED_POST = rf"/v\d+\.\d+/{HARBOR_PAGE}/feed$"
REELS = rf"/v\d+\.\d+/{HARBOR_PAGE}/video_reels$"
COMMENTS = r"/v\d+\.\d+/[\d_]+/comments$"


def run_once(delivery: Delivery, token: str | None = None):
    return pipeline.delivery_run(delivery_id=delivery.pk, token=token or start_run(delivery))


def due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def page_posts(channel, message: str) -> list[dict]:
    listed = channel_client(channel).get(f"{HARBOR_PAGE}/published_posts", fields="id,message", params={"limit": 100})
    return [p for p in listed["data"] if p.get("message") == message]


def calls(sandbox_control, path_part: str, method: str | None = None) -> list[dict]:
    return [
        r
        for r in sandbox_control.requests(limit=500)
        if path_part in r["path"] and (method is None or r["method"] == method)
    ]


class Killed(BaseException):
    """A worker killed mid-run (SIGKILL, out of memory, hard time limit): the run never returns or records."""


def die(*args, **kwargs):
    raise Killed()


# --- 1. a dying worker counts ------------------------------------------------------------------------------------
def test_a_delivery_that_keeps_killing_workers_ends_failed_after_the_configured_attempts(
    submit, upload, samples, sandbox_control, monkeypatch, settings
):
    settings.PUBLISH_MAX_ATTEMPTS = 2
    delivery = submit(caption="Killer", media=[MediaItem(upload(samples.jpeg(1080, 1080)))])
    monkeypatch.setattr(instagram, "_check_quota", die)
    token = start_run(delivery)
    for _ in range(10):
        try:
            run_once(delivery, token)
        except Killed:  # the lease runs out and the sweep hands the delivery to a new run
            Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
            sandbox_control.clock_advance(settings.PUBLISH_LEASE_SECONDS)
            assert pipeline.sweep_stale() == 1
            delivery.refresh_from_db()
            token = delivery.lease_token
            continue
        break
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.error_message.startswith("Publishing stopped after repeated failures.")
    dead = delivery.attempt_log.filter(outcome=DeliveryAttempt.Outcome.FAILED, message__contains="stopped without")
    assert dead.count() == settings.PUBLISH_MAX_ATTEMPTS + 1
    assert not delivery.attempt_log.filter(outcome=DeliveryAttempt.Outcome.RUNNING).exists()


def test_a_run_redelivered_by_the_broker_waits_for_the_sweep_which_counts_the_dead_one_and_resumes(
    submit, channels, upload, samples, sandbox_control, monkeypatch
):
    delivery = submit(caption="Redelivered", media=[MediaItem(upload(samples.jpeg(1080, 1080)))])
    token = start_run(delivery)
    monkeypatch.setattr(instagram, "_check_quota", die)
    with pytest.raises(Killed):
        run_once(delivery, token)
    monkeypatch.undo()
    delivery.refresh_from_db()
    container = delivery.container_id
    sandbox_control.clock_advance(60)
    # acks_late: the broker hands the same message (same lease token) to another worker. Nothing tells it from a
    # second copy of a run that is still going, so it does nothing: the dead run took the lease with its own token.
    assert run_once(delivery, token).kind == RunOutcome.STALE
    assert delivery.attempt_log.count() == 1
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    sent = []
    monkeypatch.setattr(pipeline, "_send_on_commit", lambda pk, token: sent.append(token))
    assert pipeline.sweep_stale() == 1 and len(sent) == 1  # the lease ran out: a new run gets the delivery
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.error_count == 1 and delivery.container_id == container
    first = delivery.attempt_log.order_by("number").first()
    assert first.outcome == DeliveryAttempt.Outcome.FAILED and "stopped without finishing" in first.message


def test_a_delivery_whose_follow_up_keeps_killing_workers_ends_published(
    submit, channels, sandbox_control, monkeypatch, settings
):
    settings.PUBLISH_MAX_ATTEMPTS = 1
    delivery = submit("page", caption="Out already", first_comment="Then this")
    monkeypatch.setattr(facebook, "post_first_comment", die)
    token = start_run(delivery)
    for _ in range(5):
        try:
            run_once(delivery, token)
        except Killed:
            Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
            pipeline.sweep_stale()
            delivery.refresh_from_db()
            token = delivery.lease_token
            continue
        break
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED and delivery.remote_id
    assert delivery.error_message.startswith("Published. The first comment could not be added")


def test_a_token_check_meta_cannot_answer_is_retried_not_left_running(submit, channels, sandbox_control):
    sandbox_control.fault(
        path=FEED_POST,
        method="POST",
        error={"code": 10, "type": "OAuthException", "message": "(#10) Application does not have permission"},
        status=403,
    )
    sandbox_control.fault(path=r"/debug_token", kind="http_500")
    delivery = submit("page", caption="Checked later")
    assert run_once(delivery).kind == RunOutcome.RETRY
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED and delivery.error_count == 1
    assert not delivery.attempt_log.filter(outcome=DeliveryAttempt.Outcome.RUNNING).exists()


def test_a_video_meta_could_not_process_is_uploaded_again_on_retry(
    public_media, channels, upload, samples, workspace, alice, sandbox_control
):
    clip = upload(samples.short_clip())  # SocialHub would refuse it; sent anyway to see Meta's refusal handled
    post = post_create(
        workspace=workspace, author=alice, channels=[channels["page"]], media=[MediaItem(clip)], format=Post.Format.REEL
    )
    delivery = post.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SCHEDULED, next_attempt_at=timezone.now())
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.error_message.startswith("Facebook could not process the video")
    # Never public: nothing of it is kept, so Retry uploads it again instead of reading the same error.
    assert (delivery.upload_id, delivery.uploaded_ids, delivery.publish_started_at) == ("", [], None)


# --- 2. each wait is measured on its own; sent media is never uploaded again ------------------------------------
def test_a_slow_facebook_reel_is_shown_as_sent_and_never_uploaded_again(
    submit, channels, upload, samples, sandbox_control, settings
):
    settings.PUBLISH_PROCESSING_TIMEOUT = 600
    sandbox_control.processing(video_seconds=3 * 3600)
    delivery = submit("page", caption="Slow reel", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL)
    assert run_once(delivery).kind == RunOutcome.POLL  # sent; the first check waits
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSING and delivery.publish_confirmed_at
    # Twenty minutes of checks later (past PUBLISH_PROCESSING_TIMEOUT), Meta is still processing.
    Delivery.objects.filter(pk=delivery.pk).update(processing_since=timezone.now() - timedelta(minutes=20))
    sandbox_control.clock_advance(20 * 60)
    outcome = run_once(delivery)
    delivery.refresh_from_db()
    assert outcome.kind == RunOutcome.POLL and outcome.countdown >= 5 * 60  # backs off
    assert delivery.state == DeliveryState.PROCESSING
    assert delivery.waiting_reason.startswith("Sent, Meta still processing")
    assert f"https://www.facebook.com/{delivery.upload_id}" in delivery.waiting_reason
    sandbox_control.clock_advance(3 * 3600)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert len(calls(sandbox_control, "/video-upload/", "POST")) == 1  # uploaded once
    assert (
        len([r for r in calls(sandbox_control, "/video_reels", "POST") if r["params"].get("upload_phase") == "start"])
        == 1
    )


def test_a_new_container_starts_a_new_wait(submit, channels, upload, samples, sandbox_control, settings):
    settings.PUBLISH_PROCESSING_TIMEOUT = 600
    sandbox_control.processing(video_seconds=60)
    delivery = submit(caption="Expired reel", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL)
    assert run_once(delivery).kind == RunOutcome.POLL
    # Eleven minutes into waiting, the container expired (the worker was away): it is prepared again.
    Delivery.objects.filter(pk=delivery.pk).update(processing_since=timezone.now() - timedelta(minutes=11))
    sandbox_control.clock_advance(25 * 3600)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert delivery.processing_since is None and delivery.waiting_for == ""


# --- 3. a public post never fails on its follow-up ---------------------------------------------------------------
def test_a_failing_first_comment_leaves_the_post_published_with_a_note(submit, channels, sandbox_control, settings):
    sandbox_control.fault(path=COMMENTS, method="POST", kind="http_500", count=None)
    delivery = submit("page", caption="Opening day", first_comment="Tickets at the door")
    delivery = run_to_end(delivery, sandbox_control)
    for _ in range(pipeline.FOLLOW_UP_ATTEMPTS):
        if delivery.state == DeliveryState.PUBLISHED:
            break
        assert delivery.state == DeliveryState.SCHEDULED and delivery.remote_id
        due(delivery)
        delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.error_message.startswith("Published. The first comment could not be added")
    assert delivery.error_count == 0 and delivery.follow_up_attempts == pipeline.FOLLOW_UP_ATTEMPTS - 1
    assert len(calls(sandbox_control, "/comments", "POST")) == pipeline.FOLLOW_UP_ATTEMPTS
    assert len(page_posts(channels["page"], "Opening day")) == 1


# --- 4. a usage reading holds back only its own app ----------------------------------------------------------
def test_a_busy_instagram_app_does_not_hold_back_a_facebook_page(submit, channels, sandbox_control):
    # The Instagram-Login app just reported 95 % of its hour used.
    record_usage(ResponseUsage(app=Usage(percent=95.0)), app_id=django_settings.INSTAGRAM_APP_ID)
    delivery = run_to_end(submit("page", caption="Not held back"), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.waiting_reason


# --- 5. retry is one claim, respects approval and time; disconnect leaves approvals alone ------------------------
def failed(delivery: Delivery, **fields) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, error_message="Refused", **fields)
    delivery.refresh_from_db()
    return delivery


def test_two_retries_start_one_run_and_never_wipe_stored_ids(submit, channels, client, alice, workspace):
    delivery = failed(submit("page", caption="Double click"), next_attempt_at=None)
    stale_copy = Delivery.objects.get(pk=delivery.pk)
    client.force_login(alice)
    url = f"/w/{workspace.public_id}/deliveries/{delivery.public_id}/retry/"
    client.post(url)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHING
    token = delivery.lease_token
    Delivery.objects.filter(pk=delivery.pk).update(container_id="run-stored-this")  # the run got going
    from publishing.services.posts import delivery_retry

    delivery_retry(delivery=stale_copy)  # the second tab, with the page it loaded before
    client.post(url)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.lease_token, delivery.container_id) == (
        DeliveryState.PUBLISHING,
        token,
        "run-stored-this",
    )


def test_retry_never_publishes_a_post_that_is_not_approved(submit, channels, client, alice, workspace):
    delivery = failed(submit("page", caption="Needs a yes"))
    Post.objects.filter(pk=delivery.post_id).update(approval=Post.Approval.PENDING)
    client.force_login(alice)
    client.post(f"/w/{workspace.public_id}/deliveries/{delivery.public_id}/retry/")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.AWAITING_APPROVAL and not delivery.lease_token


def test_retry_waits_for_the_posts_scheduled_time(submit, channels, client, alice, workspace):
    later = timezone.now() + timedelta(hours=3)
    delivery = failed(submit("page", caption="Tonight", scheduled_at=later))
    client.force_login(alice)
    client.post(f"/w/{workspace.public_id}/deliveries/{delivery.public_id}/retry/")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED and delivery.next_attempt_at == later
    assert pipeline.dispatch_due() == 0


def test_disconnecting_leaves_posts_awaiting_approval_as_they_are(channels, workspace, alice, bob):
    from accounts.services.channels import channel_disconnect

    post = post_create(workspace=workspace, author=bob, channels=[channels["page"]], caption="For the client")
    post_submit(post=post, access=get_workspace_for_user(bob, workspace.public_id))
    delivery = post.deliveries.get()
    assert delivery.state == DeliveryState.AWAITING_APPROVAL
    channel_disconnect(channel=channels["page"])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.AWAITING_APPROVAL and delivery.error_message == ""


# --- 6. a broker that is down loses nothing -----------------------------------------------------------------------
def broker_down(monkeypatch, *, only: set[int] | None = None) -> list[int]:
    """The broker refuses connections (as kombu reports it); with `only`, just for those deliveries."""
    sent: list[int] = []
    real = pipeline.current_app.send_task

    def send_task(name, args=None, **kwargs):
        if name != pipeline.PUBLISH_TASK:  # wake-ups: a lost one only leaves the post to the next tick
            return real(name, args=args, **kwargs)
        if only is None or args[0] in only:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        sent.append(args[0])
        return real(name, args=args, **kwargs)

    monkeypatch.setattr(pipeline.current_app, "send_task", send_task)
    return sent


def test_publish_now_with_the_broker_down_says_queued_and_the_next_tick_sends_it(
    client, alice, workspace, channels, sandbox_control, monkeypatch
):
    broker_down(monkeypatch)
    client.force_login(alice)
    response = client.post(
        f"/w/{workspace.public_id}/posts/new/",
        {"channels": [channels["page"].pk], "caption": "Queue is down", "format": "feed", "when": "now"},
        follow=True,
    )
    assert response.status_code == 200
    assert "goes out when the queue is back" in response.content.decode()
    delivery = Delivery.objects.get(post__caption="Queue is down")
    assert delivery.state == DeliveryState.SCHEDULED and delivery.next_attempt_at <= timezone.now()
    monkeypatch.undo()
    sent = broker_down(monkeypatch, only=set())  # the broker is back
    assert pipeline.dispatch_due() == 1 and sent == [delivery.pk]


def test_one_failed_send_does_not_strand_the_rest_of_the_tick(submit, channels, monkeypatch):
    soon = timezone.now() + timedelta(minutes=5)
    deliveries = [submit("page", caption=f"Tick {n}", scheduled_at=soon) for n in range(3)]
    for delivery in deliveries:
        due(delivery)
    sent = broker_down(monkeypatch, only={deliveries[0].pk})
    assert pipeline.dispatch_due() == 3
    assert sorted(sent) == sorted(d.pk for d in deliveries[1:])
    stranded = Delivery.objects.get(pk=deliveries[0].pk)
    assert stranded.state == DeliveryState.SCHEDULED and stranded.lease_token == ""


# --- 7. an unknown Facebook outcome claims only what is provably this delivery's --------------------------------
def test_a_lost_answer_with_a_post_that_cannot_be_told_apart_is_left_for_a_person(
    submit, channels, upload, samples, sandbox_control, client, alice, workspace
):
    sandbox_control.fault(path=PHOTOS, method="POST", kind="drop", after="after")
    delivery = submit("page", media=[MediaItem(upload(samples.jpeg(1080, 1080)))])  # a photo without text
    assert run_once(delivery).kind == RunOutcome.RETRY  # the answer was lost
    # Meanwhile someone shared a link on the Page by hand, without text either.
    channel_client(channels["page"]).post(f"{HARBOR_PAGE}/feed", data={"link": "https://example.com/menu"})
    sandbox_control.clock_advance(120)
    due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.FAILED and delivery.error_message.startswith("Unconfirmed")
    assert delivery.remote_id == "" and len(delivery.candidates) == 2
    assert all(c["permalink"].startswith("https://") for c in delivery.candidates)
    assert len(calls(sandbox_control, f"/{HARBOR_PAGE}/photos", "POST")) == 1  # not posted again
    client.force_login(alice)
    page = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert "This is it" in page and "publish it again" in page
    assert all(c["permalink"] in page for c in delivery.candidates)
    photo = next(c for c in delivery.candidates if not c["text"])
    client.post(f"/w/{workspace.public_id}/deliveries/{delivery.public_id}/confirm/", {"candidate": photo["id"]})
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED and delivery.remote_id == photo["id"]


def test_a_person_who_finds_nothing_publishes_an_unconfirmed_post_again(
    submit, channels, sandbox_control, client, alice, workspace
):
    delivery = submit("page", caption="Lost in the feed")
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.FAILED,
        error_message="Unconfirmed: …",
        publish_started_at=timezone.now(),
        candidates=[{"id": "1_2", "permalink": "https://www.facebook.com/1/posts/2", "created_time": "", "text": ""}],
        lease_token="",
    )
    client.force_login(alice)
    client.post(f"/w/{workspace.public_id}/deliveries/{delivery.public_id}/publish-again/")
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert len(page_posts(channels["page"], "Lost in the feed")) == 1


def test_a_post_another_delivery_owns_is_never_claimed(submit, channels, sandbox_control):
    first = run_to_end(submit("page", caption="Same words"), sandbox_control)
    assert first.state == DeliveryState.PUBLISHED
    channel_client(channels["page"]).post(f"{HARBOR_PAGE}/feed", data={"message": "Something else"})
    second = submit("page", caption="Same words")
    # Its earlier run began publishing five minutes ago and its call never reached Meta.
    Delivery.objects.filter(pk=second.pk).update(publish_started_at=timezone.now() - timedelta(minutes=5))
    second = run_to_end(second, sandbox_control)
    assert second.state == DeliveryState.PUBLISHED, second.error_message
    assert second.remote_id != first.remote_id
    assert len(page_posts(channels["page"], "Same words")) == 2


# --- 8. a reel's finish is sent once; a chunked upload that does not advance stops -------------------------------
def test_a_lost_answer_to_a_reels_finish_is_never_followed_by_a_second_finish(
    submit, channels, upload, samples, sandbox_control
):
    sandbox_control.processing(video_seconds=120)
    sandbox_control.fault(path=r"/video-upload/", kind="http_500")  # the first run stops after `start`
    delivery = submit("page", caption="Reel once", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL)
    assert run_once(delivery).kind == RunOutcome.RETRY
    sandbox_control.fault(path=REELS, method="POST", kind="drop", after="after")  # now only `finish` is sent there
    due(delivery)
    assert run_once(delivery).kind == RunOutcome.RETRY  # Meta took `finish`; its answer was lost
    due(delivery)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    finishes = [
        r for r in calls(sandbox_control, "/video_reels", "POST") if r["params"].get("upload_phase") == "finish"
    ]
    assert len(finishes) == 1  # and the sandbox marks a repeated finish, failing this test


def test_a_chunked_upload_stops_when_meta_repeats_an_offset(submit, upload, samples, settings, monkeypatch):
    settings.FB_VIDEO_RESUMABLE_THRESHOLD = 10_000
    delivery = submit("page", caption="Stuck upload", media=[MediaItem(upload(samples.landscape()))])
    real_post = GraphClient.post
    transfers = []

    def post(self, path, *, data=None, **kwargs):
        if (data or {}).get("upload_phase") == "transfer":
            transfers.append(data["start_offset"])
            assert len(transfers) < 10, "the upload loop does not stop"
            return {"start_offset": "0", "end_offset": "10000"}  # Meta asks for the first part again, and again
        return real_post(self, path, data=data, **kwargs)

    monkeypatch.setattr(GraphClient, "post", post)
    outcome = run_once(delivery)
    assert outcome.kind == RunOutcome.RETRY and len(transfers) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED and "uploads it again" in delivery.waiting_reason


# --- 9. polling is polite ---------------------------------------------------------------------------------------
def test_the_first_check_after_handing_over_a_reel_waits_a_typical_processing_time(
    submit, channels, upload, samples, sandbox_control, settings
):
    settings.PUBLISH_FIRST_POLL_SECONDS = 30
    delivery = submit("page", caption="Patient", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL)
    outcome = run_once(delivery)
    delivery.refresh_from_db()
    assert outcome.kind == RunOutcome.POLL and outcome.countdown == 30
    assert not calls(sandbox_control, f"/{delivery.upload_id}", "GET")  # not read in the run that sent it


def test_a_recovery_does_not_read_the_same_status_twice(submit, channels, upload, samples, sandbox_control, settings):
    sandbox_control.fault(path=r"/video-upload/", kind="http_500")  # the first run stops after `start`
    delivery = submit("page", caption="Read once", media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL)
    assert run_once(delivery).kind == RunOutcome.RETRY
    sandbox_control.fault(path=REELS, method="POST", kind="drop", after="before")  # `finish` never reaches Meta
    due(delivery)
    assert run_once(delivery).kind == RunOutcome.RETRY
    due(delivery)
    assert run_once(delivery).kind == RunOutcome.POLL  # not started yet: Meta may not show it at once, look again
    # Two minutes later Meta still has not started processing it: `finish` never arrived.
    Delivery.objects.filter(pk=delivery.pk).update(publish_started_at=timezone.now() - facebook.SETTLE)
    sandbox_control.clock_advance(settings.PUBLISH_POLL_SECONDS + 5)
    run_once(delivery)  # sends `finish` again (it never arrived), then waits before checking
    delivery.refresh_from_db()
    reads = calls(sandbox_control, f"/{delivery.upload_id}", "GET")
    assert len(reads) == 2  # once per recovery, never again in the same run
    assert len(calls(sandbox_control, "/video_reels", "POST")) == 3  # start, the lost finish, finish
    sandbox_control.clock_advance(settings.PUBLISH_FIRST_POLL_SECONDS + 5)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message


# --- 11. alt text only where Meta takes it ---------------------------------------------------------------------
def test_alt_text_is_sent_on_feed_images_but_not_on_stories(submit, channels, upload, samples, sandbox_control):
    tall, square = upload(samples.jpeg(1080, 1920)), upload(samples.jpeg(1080, 1080))
    story = run_to_end(
        submit(media=[MediaItem(tall, alt_text="A lighthouse")], format=Post.Format.STORY), sandbox_control
    )
    assert story.state == DeliveryState.PUBLISHED, story.error_message
    feed = run_to_end(submit(caption="Lighthouse", media=[MediaItem(square, alt_text="A lighthouse")]), sandbox_control)
    assert feed.state == DeliveryState.PUBLISHED, feed.error_message
    creates = [r for r in calls(sandbox_control, f"/{HARBOR_IG}/media", "POST") if r["path"].endswith("/media")]
    with_alt = [r["params"].get("media_type") for r in creates if "alt_text" in r["params"]]
    assert with_alt == [None]  # the feed image only

"""Posts go out at their second: wake-ups at the due second, a lane per account so one client's burst never
delays another's post, Instagram videos prepared before their time, and images published without a wasted
status read. Nothing here reaches the broker: what would be queued is captured and inspected."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from celery import current_app
from django.db.models import Max
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing import tasks
from publishing.models import Delivery, DeliveryState, Post
from publishing.publishers.base import RunOutcome
from publishing.services import pipeline, transitions, wakeups
from publishing.services.posts import MediaItem, post_submit
from socialhub.graph.models import GraphCall
from tests.publishing.conftest import HARBOR_IG, run_to_end, start_run

pytestmark = [pytest.mark.django_db(transaction=True)]


@dataclass
class Sent:
    name: str
    args: list
    countdown: float | None
    at: float  # when it was handed over (time.time())


@pytest.fixture(autouse=True)
def queued(monkeypatch) -> list[Sent]:
    """Every task handed to the broker, in order (publish runs, wake-ups, media processing)."""
    sent: list[Sent] = []

    def send_task(name, args=None, kwargs=None, countdown=None, **options):
        sent.append(Sent(name, list(args or []), countdown, time.time()))

    monkeypatch.setattr(current_app, "send_task", send_task)
    return sent


def wakes(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.name == wakeups.WAKE_TASK]


def runs(sent: list[Sent]) -> list[int]:
    return [s.args[0] for s in sent if s.name == pipeline.PUBLISH_TASK]


def set_due(deliveries: list[Delivery] | Delivery, at: datetime) -> None:
    """Make deliveries due at `at` behind the transitions' back (no wake-up asked for)."""
    pks = [d.pk for d in deliveries] if isinstance(deliveries, list) else [deliveries.pk]
    Delivery.objects.filter(pk__in=pks).update(due_at=at, next_attempt_at=at)


def last_call() -> int:
    return GraphCall.objects.aggregate(last=Max("pk"))["last"] or 0


def calls_since(mark: int) -> list[tuple[str, str]]:
    return [(c.method, c.path.split("?")[0]) for c in GraphCall.objects.filter(pk__gt=mark).order_by("pk")]


def steps_since(mark: int) -> list[str]:
    """The Graph calls made since `mark`, in order, by method and last path segment ("POST media_publish")."""
    return [f"{method} {path.rsplit('/', 1)[-1]}" for method, path in calls_since(mark)]


def on_account(channel, caption: str) -> int:
    media = channel_client(channel).get(f"{HARBOR_IG}/media", fields="id,caption", params={"limit": 100})
    return sum(1 for m in media["data"] if m.get("caption") == caption)


# --- wake-ups --------------------------------------------------------------------------------------------------
def test_a_post_due_soon_gets_one_wake_up_at_its_second(submit, queued, settings):
    due = timezone.now() + timedelta(seconds=60)
    assert 60 < settings.PUBLISH_WAKE_AHEAD_SECONDS
    delivery = submit("page", caption="At the second", scheduled_at=due)
    assert delivery.state == DeliveryState.SCHEDULED
    [wake] = wakes(queued)
    assert wake.args == [math.ceil(due.timestamp())]
    assert abs(wake.countdown - (due.timestamp() - wake.at)) < 1
    assert runs(queued) == []  # not due yet: nothing is run before its time


def test_a_post_due_in_an_hour_gets_no_wake_up(submit, queued):
    submit("page", caption="Later today", scheduled_at=timezone.now() + timedelta(hours=1))
    assert wakes(queued) == []


def test_posts_due_in_the_same_second_share_one_wake_up(submit, queued):
    second = math.ceil((timezone.now() + timedelta(seconds=60)).timestamp())
    first = datetime.fromtimestamp(second - 0.7, tz=UTC)
    other = datetime.fromtimestamp(second - 0.1, tz=UTC)
    submit("page", caption="First of two", scheduled_at=first)
    submit("page", caption="Second of two", scheduled_at=other)
    assert [w.args for w in wakes(queued)] == [[second]]


def test_the_tick_wakes_what_falls_due_before_the_next_tick(submit, queued):
    later = timezone.now() + timedelta(hours=1)
    soon = submit("page", caption="Moved closer", scheduled_at=later)
    far = submit("page", caption="Still later", scheduled_at=later)
    assert wakes(queued) == []
    at = timezone.now() + timedelta(seconds=60)
    set_due(soon, at)

    assert pipeline.dispatch_due() == 0  # nothing due yet
    [wake] = wakes(queued)
    assert wake.args == [math.ceil(at.timestamp())]
    assert abs(wake.countdown - (at.timestamp() - wake.at)) < 1
    soon.refresh_from_db()
    far.refresh_from_db()
    assert soon.state == far.state == DeliveryState.SCHEDULED


def test_a_wake_up_on_time_sends_what_is_due(submit, queued):
    delivery = submit("page", caption="Woken", scheduled_at=timezone.now() + timedelta(hours=1))
    set_due(delivery, timezone.now() - timedelta(seconds=1))

    assert tasks.wake_due_deliveries(int(time.time()) - 1) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHING
    assert [s.args for s in queued if s.name == pipeline.PUBLISH_TASK] == [[delivery.pk, delivery.lease_token]]


def test_an_early_wake_up_waits_on_the_broker_and_sends_nothing(submit, queued):
    delivery = submit("page", caption="Not yet", scheduled_at=timezone.now() + timedelta(hours=1))
    set_due(delivery, timezone.now() - timedelta(seconds=1))  # due, yet the wake-up came before its second
    second = int(time.time()) + 30

    assert tasks.wake_due_deliveries(second) == 0
    [wake] = wakes(queued)
    assert wake.args == [second] and 0 < wake.countdown <= 30
    assert runs(queued) == []
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED


# --- lanes -----------------------------------------------------------------------------------------------------
def test_a_burst_fills_its_own_lane_and_another_account_goes_at_once(submit, upload, samples, queued, settings):
    settings.PUBLISH_CHANNEL_CONCURRENCY = 2
    later = timezone.now() + timedelta(hours=1)
    burst = [submit("page", caption=f"Burst {n}", scheduled_at=later) for n in range(10)]
    other = submit(
        "ig_login", caption="Another client", media=[MediaItem(upload(samples.jpeg(1080, 1080)))], scheduled_at=later
    )
    now = timezone.now()
    for n, delivery in enumerate(burst):  # the burst fell due first, in order
        set_due(delivery, now - timedelta(seconds=60 - n))
    set_due(other, now - timedelta(seconds=1))

    assert pipeline.dispatch_due() == 3
    claimed = set(Delivery.objects.filter(state=DeliveryState.PUBLISHING).values_list("pk", flat=True))
    assert claimed == {burst[0].pk, burst[1].pk, other.pk}
    assert other.pk in runs(queued)[:2]  # taking turns: not behind the burst

    queued.clear()
    assert pipeline.dispatch_due() == 0  # the Page's lane is full while two of its runs go on
    assert runs(queued) == []

    burst[0].refresh_from_db()
    outcome = pipeline.delivery_run(delivery_id=burst[0].pk, token=burst[0].lease_token)
    assert outcome.kind == RunOutcome.PUBLISHED
    assert pipeline.continue_lane(burst[0].pk) == 1
    assert runs(queued) == [burst[2].pk]

    queued.clear()
    burst[1].refresh_from_db()
    assert tasks.publish_delivery(burst[1].pk, burst[1].lease_token) == RunOutcome.PUBLISHED.value
    assert runs(queued) == [burst[3].pk]  # the task itself makes room in the lane
    assert Delivery.objects.filter(state=DeliveryState.SCHEDULED).count() == 6


# --- Instagram videos prepared ahead ---------------------------------------------------------------------------
@pytest.fixture
def reel_ahead(submit, upload, samples, queued):
    """A reel scheduled ten minutes ahead, claimed by the tick to be prepared."""

    def _make(caption: str) -> Delivery:
        due = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)
        delivery = submit(
            caption=caption, media=[MediaItem(upload(samples.reel()))], format=Post.Format.REEL, scheduled_at=due
        )
        assert pipeline.dispatch_due() == 1  # claimed although not due
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PUBLISHING
        assert runs(queued) == [delivery.pk]
        return delivery

    return _make


def test_a_reel_is_prepared_ahead_and_waits_ready_for_its_time(reel_ahead, channels, workspace, sandbox_control):
    delivery = reel_ahead("Ready ahead")
    due = delivery.due_at
    local = f"{timezone.localtime(due, workspace.zoneinfo):%H:%M}"
    mark = last_call()

    outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=delivery.lease_token)
    assert outcome.kind == RunOutcome.DEFERRED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED
    assert delivery.container_id and delivery.uploaded_ids == [delivery.container_id]
    assert delivery.next_attempt_at < due and delivery.due_at == due
    assert f"goes out at {local}" in delivery.waiting_reason
    made = calls_since(mark)
    assert [m for m, p in made if p.endswith(f"{HARBOR_IG}/media")] == ["POST"]
    assert any("ig-api-upload" in p for _m, p in made)
    assert not any(p.endswith("media_publish") for _m, p in made)

    sandbox_control.clock_advance(30)  # Meta finished processing the video
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery))
    assert outcome.kind == RunOutcome.DEFERRED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED
    assert delivery.next_attempt_at == due
    assert "Ready" in delivery.waiting_reason and local in delivery.waiting_reason
    assert not any(p.endswith("media_publish") for _m, p in calls_since(mark))
    assert on_account(channels["ig"], "Ready ahead") == 0

    # Still the post's own time: a person may edit it, and what Meta holds for the old version is dropped.
    assert transitions.reopen_for_edit(delivery.post) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DRAFT
    assert (delivery.container_id, delivery.uploaded_ids) == ("", [])


def test_a_reel_prepared_ahead_is_published_once_at_its_time(reel_ahead, channels, sandbox_control):
    delivery = reel_ahead("On the dot")
    mark = last_call()
    assert pipeline.delivery_run(delivery_id=delivery.pk, token=delivery.lease_token).kind == RunOutcome.DEFERRED
    sandbox_control.clock_advance(30)
    set_due(delivery, timezone.now())  # its time has come

    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message or delivery.waiting_reason
    made = calls_since(mark)
    assert sum(1 for _m, p in made if p.endswith("media_publish")) == 1
    assert [m for m, p in made if p.endswith(f"{HARBOR_IG}/media")] == ["POST"]  # the container made ahead
    assert on_account(channels["ig"], "On the dot") == 1


def test_a_reel_edited_after_it_was_prepared_is_prepared_ahead_again(
    reel_ahead, alice, workspace, sandbox_control, queued
):
    delivery = reel_ahead("First words")
    assert pipeline.delivery_run(delivery_id=delivery.pk, token=delivery.lease_token).kind == RunOutcome.DEFERRED
    sandbox_control.clock_advance(30)
    # The team rewrites it while it waits ready (as the composer saves an edit: back to draft, submitted again).
    post = delivery.post
    assert transitions.reopen_for_edit(post) == 1
    Post.objects.filter(pk=post.pk).update(caption="Better words")
    post.refresh_from_db()
    post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
    queued.clear()
    assert pipeline.dispatch_due() == 1  # the next tick prepares what it says now, ahead of its time again
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHING and delivery.container_id == ""
    assert runs(queued) == [delivery.pk]


def test_a_wake_up_that_cannot_be_queued_leaves_the_post_to_the_tick(submit, monkeypatch):
    def broker_down(*args, **kwargs):
        raise OSError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    delivery = submit("page", caption="Queue away", scheduled_at=timezone.now() + timedelta(seconds=60))
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED  # scheduling went through
    monkeypatch.undo()
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args=None, **kw: sent.append(name))
    assert wakeups.wake_at(delivery.due_at)  # the failed one left no mark: the tick's try queues it
    assert sent == [wakeups.WAKE_TASK]


def test_a_full_quota_refused_by_meta_leaves_the_post_editable(submit, upload, samples, sandbox_control):
    sandbox_control.quota(HARBOR_IG, quota_total=1, used=1)  # filled by posts made elsewhere
    delivery = run_to_end(submit(caption="Over the limit", media=[MediaItem(upload(samples.jpeg(1080, 1080)))]))
    assert delivery.state == DeliveryState.SCHEDULED and "24-hour posting limit" in delivery.waiting_reason
    assert delivery.publish_started_at is None and delivery.publish_tried_at is None  # Meta said nothing went out
    assert transitions.reopen_for_edit(delivery.post) == 1


def test_a_photo_is_not_claimed_ahead(submit, upload, samples, queued):
    delivery = submit(
        caption="Photo at ten past",
        media=[MediaItem(upload(samples.jpeg(1080, 1080)))],
        scheduled_at=timezone.now() + timedelta(minutes=10),
    )
    assert pipeline.dispatch_due() == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED
    assert runs(queued) == []


# --- images Meta needs a moment for ----------------------------------------------------------------------------
def test_an_image_is_published_without_a_status_read_and_waits_when_meta_needs_a_moment(
    submit, upload, samples, channels, sandbox_control
):
    sandbox_control.processing(image_seconds=30)
    mark = last_call()
    delivery = submit(caption="A moment", media=[MediaItem(upload(samples.jpeg(1080, 1080)))])

    assert pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery)).kind == RunOutcome.POLL
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSING and not delivery.remote_id
    assert "processing" in delivery.waiting_reason
    container = delivery.container_id
    # Published straight after the container is made: no read of its status first.
    assert steps_since(mark) == ["POST media", "POST media_publish"]
    assert on_account(channels["ig"], "A moment") == 0

    sandbox_control.clock_advance(30)
    mark = last_call()
    assert pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery)).kind == RunOutcome.PUBLISHED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED and delivery.container_id == container
    assert steps_since(mark) == [f"GET {container}", "POST media_publish"]  # checked once Meta had said so
    assert on_account(channels["ig"], "A moment") == 1


def test_a_carousel_waits_for_its_items_then_is_published_once(submit, upload, samples, channels, sandbox_control):
    sandbox_control.processing(image_seconds=30)
    photos = [MediaItem(upload(samples.jpeg(1080, 1080, name=f"item{n}.jpg"))) for n in range(2)]
    mark = last_call()
    delivery = submit(caption="Two at once", media=photos)

    assert pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery)).kind == RunOutcome.POLL
    delivery.refresh_from_db()
    assert len(delivery.child_container_ids) == 2 and delivery.container_id == ""  # refused: items not ready
    assert steps_since(mark) == ["POST media"] * 3 and "processing" in delivery.waiting_reason
    assert on_account(channels["ig"], "Two at once") == 0

    sandbox_control.clock_advance(30)
    assert pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery)).kind == RunOutcome.POLL
    delivery.refresh_from_db()
    assert delivery.container_id  # made once the items were finished
    sandbox_control.clock_advance(30)
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message or delivery.waiting_reason

    made = GraphCall.objects.filter(pk__gt=mark, method="POST", path__regex=rf"/{HARBOR_IG}/media(\?|$)")
    assert made.filter(outcome=GraphCall.Outcome.OK).count() == 3  # two items, one carousel
    assert made.filter(outcome=GraphCall.Outcome.ERROR).count() == 1  # the carousel, while its items processed
    publishes = GraphCall.objects.filter(pk__gt=mark, path__regex=r"/media_publish(\?|$)").order_by("pk")
    # The carousel is published without reading its status first; Meta said "not ready" once, then took it.
    assert [c.outcome for c in publishes] == [GraphCall.Outcome.ERROR, GraphCall.Outcome.OK]
    assert on_account(channels["ig"], "Two at once") == 1


# --- the fewest calls ------------------------------------------------------------------------------------------
def test_a_photo_takes_two_graph_calls(submit, upload, samples):
    mark = last_call()
    delivery = run_to_end(submit(caption="Two calls", media=[MediaItem(upload(samples.jpeg(1080, 1080)))]))
    assert delivery.state == DeliveryState.PUBLISHED
    assert steps_since(mark) == ["POST media", "POST media_publish"]


def test_a_facebook_text_post_takes_one_graph_call(submit):
    mark = last_call()
    delivery = run_to_end(submit("page", caption="One call"))
    assert delivery.state == DeliveryState.PUBLISHED
    assert steps_since(mark) == ["POST feed"]

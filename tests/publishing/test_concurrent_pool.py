"""Publishing on the thread-pool worker (`publisher` in the Procfile): many runs at once in one process, each with
its own thread, database connection and HTTP session, keep every exactly-once guarantee: the lease, resuming from
the ids a run saved, and asking Meta what happened before publishing again after a lost answer."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.signals import task_postrun, task_prerun
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing.models import Delivery, DeliveryAttempt, DeliveryState, Post
from publishing.services import pipeline, transitions
from publishing.services.posts import MediaItem, post_create, post_submit
from publishing.tasks import dispatch_due_deliveries
from tests.publishing.conftest import HARBOR_IG, HARBOR_PAGE, LOGIN_ONLY_IG
from tests.publishing.test_fault_matrix import MEDIA_POST, PUBLISH

pytestmark = [pytest.mark.django_db(transaction=True)]
DONE = (DeliveryState.PUBLISHED, DeliveryState.FAILED)
# Threads of the test worker, on SQLite too: with WAL and the busy timeout its writers wait for each other.
THREADS = 8


@pytest.fixture(scope="module")
def celery_worker_pool() -> str:
    return "threads"


@pytest.fixture(scope="module")
def celery_worker_parameters(celery_worker_parameters) -> dict:  # type: ignore[no-untyped-def]
    return {**celery_worker_parameters, "concurrency": THREADS}


@pytest.fixture(autouse=True)
def _meta_and_wakeups(sandbox_control, settings) -> None:
    """Meta's clock runs at 60 sandbox seconds per real second, so the worker's polls 0.2 s apart are 12 s apart at
    Meta. Retries are made due by the test itself; a wake-up queued for a retry's second would outlive the test and
    dispatch another test's posts, so none are queued ahead. Every post of the burst starts at once (lanes wide
    enough for the five on one account), so the runs overlap as much as they can."""
    sandbox_control.clock_rate(60)
    sandbox_control.processing(video_seconds=2)
    settings.PUBLISH_WAKE_AHEAD_SECONDS = 0
    settings.PUBLISH_CHANNEL_CONCURRENCY = 8


class Runs:
    """Every publishing task the worker ran: its delivery, the thread it ran on, when, and how it ended."""

    def __init__(self) -> None:
        self.started: dict[str, tuple[int, str, float]] = {}
        self.ended: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def on_start(self, task_id, task, args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if task.name in (pipeline.PUBLISH_TASK, pipeline.POLL_TASK):
            with self._lock:
                self.started[task_id] = (args[0], threading.current_thread().name, time.monotonic())

    def on_end(self, task_id, task, retval, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if task.name in (pipeline.PUBLISH_TASK, pipeline.POLL_TASK):
            with self._lock:
                self.ended[task_id] = (str(retval), time.monotonic())

    def of(self, delivery_id: int) -> list[tuple[str, float, float]]:
        """(outcome, start, end) of each ended run of one delivery."""
        with self._lock:
            return [
                (self.ended[task][0], started, self.ended[task][1])
                for task, (pk, _thread, started) in self.started.items()
                if pk == delivery_id and task in self.ended
            ]

    def threads(self) -> set[str]:
        with self._lock:
            return {thread for _pk, thread, _at in self.started.values()}


@pytest.fixture
def runs():  # type: ignore[no-untyped-def]
    record = Runs()
    task_prerun.connect(record.on_start, weak=False)
    task_postrun.connect(record.on_end, weak=False)
    yield record
    task_prerun.disconnect(record.on_start)
    task_postrun.disconnect(record.on_end)


@pytest.fixture
def scheduled(public_media, channels, upload, samples, workspace, alice):
    """A post for one channel, approved and scheduled an hour from now (the test decides when it is due)."""
    later = timezone.now() + timedelta(hours=1)

    def _make(channel: str, caption: str, media=(), **kwargs) -> Delivery:  # type: ignore[no-untyped-def]
        post = post_create(
            workspace=workspace,
            author=alice,
            channels=[channels[channel]],
            caption=caption,
            media=[MediaItem(upload(path)) for path in media],
            scheduled_at=later,
            **kwargs,
        )
        post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
        return post.deliveries.get()

    return _make


def on_meta(channel, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Ids of the posts (Page) or media (Instagram) on the account with this text, as Meta lists them."""
    client = channel_client(channel)
    if channel.external_id == HARBOR_PAGE:
        items = client.get(f"{HARBOR_PAGE}/published_posts", fields="id,message", params={"limit": 100})["data"]
        return [p["id"] for p in items if p.get("message") == text]
    items = client.get(f"{channel.external_id}/media", fields="id,caption", params={"limit": 100})["data"]
    return [m["id"] for m in items if m.get("caption") == text]


def settle(ids: list[int], timeout: float = 30.0) -> dict[int, Delivery]:
    """Wait for the worker until every delivery is published or failed. One that went back to wait (a retry with
    back-off) is made due now and dispatched again, standing in for the minutes a real retry waits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = {d.pk: d for d in Delivery.objects.filter(pk__in=ids)}
        if all(d.state in DONE for d in rows.values()):
            return rows
        now = timezone.now()
        if Delivery.objects.filter(pk__in=ids, state=DeliveryState.SCHEDULED).update(due_at=now, next_attempt_at=now):
            dispatch_due_deliveries.apply()
        time.sleep(0.2)
    states = {d.pk: (d.state, d.waiting_reason, d.error_message) for d in Delivery.objects.filter(pk__in=ids)}
    raise AssertionError(f"deliveries did not settle: {states}")


def most_at_once(attempts: list[DeliveryAttempt]) -> int:
    """The most attempts that were running at the same moment (a worker with one thread never has more than one)."""
    edges = sorted(
        [(a.started_at, 1) for a in attempts] + [(a.finished_at, -1) for a in attempts], key=lambda e: (e[0], e[1])
    )
    running = most = 0
    for _at, step in edges:
        running += step
        most = max(most, running)
    return most


def test_a_burst_with_faults_publishes_every_post_once(
    celery_app, celery_worker, channels, samples, scheduled, sandbox_control, runs
):
    jpeg = samples.jpeg
    deliveries = [
        scheduled("page", "Pool: timetable for May"),
        scheduled("page", "Pool: studio closed on Monday"),
        scheduled("page", "Pool: new mats", [jpeg(1200, 900, "pool-page-1.jpg")]),
        scheduled("page", "Pool: the garden room", [jpeg(1200, 900, "pool-page-2.jpg")]),
        scheduled("ig", "Pool: morning flow", [jpeg(1080, 1080, "pool-ig-1.jpg")]),
        scheduled("ig", "Pool: evening stretch", [jpeg(1080, 1080, "pool-ig-2.jpg")]),
        scheduled("ig", "Pool: teacher of the week", [jpeg(1080, 1080, "pool-ig-3.jpg")]),
        scheduled("ig", "Pool: open day", [jpeg(1080, 1080, f"pool-carousel-{i}.jpg") for i in range(2)]),
        scheduled("ig", "Pool: a minute of calm", [samples.reel()], format=Post.Format.REEL),
        scheduled("ig_login", "Pool: spring linen", [jpeg(1080, 1080, "pool-login-1.jpg")]),
        scheduled("ig_login", "Pool: thread colours", [jpeg(1080, 1080, "pool-login-2.jpg")]),
        scheduled("ig_login", "Pool: workshop dates", [jpeg(1080, 1080, "pool-login-3.jpg")]),
    ]
    ids = [d.pk for d in deliveries]
    faults = [
        # Meta publishes, then the connection drops before the answer: the run cannot know it went out.
        sandbox_control.fault(path=PUBLISH % HARBOR_IG, kind="drop", after="after"),
        sandbox_control.fault(path=PUBLISH % LOGIN_ONLY_IG, kind="http_500"),
        sandbox_control.fault(path=MEDIA_POST % HARBOR_IG, method="POST", error={"preset": "transient"}),
    ]

    now = timezone.now()
    Delivery.objects.filter(pk__in=ids).update(due_at=now, next_attempt_at=now)
    assert dispatch_due_deliveries.apply().get() == len(ids)
    settled = settle(ids)

    for delivery in deliveries:
        done = settled[delivery.pk]
        assert done.state == DeliveryState.PUBLISHED, (delivery.post.caption, done.error_message)
        assert on_meta(delivery.channel, delivery.post.caption) == [done.remote_id]  # once, and the post it knows
    hits = {f["id"]: f["hits"] for f in sandbox_control.faults()}
    assert all(hits[f["id"]] == 1 for f in faults), hits  # every fault met one run

    attempts = list(DeliveryAttempt.objects.filter(delivery_id__in=ids))
    assert sum(a.outcome == DeliveryAttempt.Outcome.RETRY for a in attempts) == len(faults)
    steps = {pk: [s for a in attempts if a.delivery_id == pk for s in a.steps] for pk in ids}
    lost = [pk for pk, taken in steps.items() if "asked Meta about the last publish: container PUBLISHED" in taken]
    assert len(lost) == 1 and settled[lost[0]].channel.external_id == HARBOR_IG
    assert steps[lost[0]].count("media_publish") == 1  # found on Meta, never published again

    # The runs really shared the worker: attempts of different deliveries ran at the same time, on several threads.
    assert most_at_once([a for a in attempts if a.finished_at]) >= 2
    assert len(runs.threads()) >= 2


def test_the_same_run_sent_twice_publishes_once(
    celery_app, celery_worker, channels, samples, scheduled, sandbox_control, runs
):
    # Every call to Meta takes a moment, as on the internet, so the two runs are at Meta at the same time.
    sandbox_control.latency(100)
    delivery = scheduled("ig", "Pool: sent twice", [samples.jpeg(1080, 1080, "pool-twice.jpg")])
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(due_at=now, next_attempt_at=now)
    token = transitions.claim(delivery.pk)
    assert token
    # The broker hands the same message out twice (a redelivery while the first run still works on it).
    assert pipeline.send_run(delivery.pk, token) and pipeline.send_run(delivery.pk, token)

    deadline = time.monotonic() + 20
    while len(runs.of(delivery.pk)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    ended = runs.of(delivery.pk)
    assert len(ended) == 2, ended
    (_first, start_a, end_a), (_second, start_b, end_b) = ended
    assert start_a < end_b and start_b < end_a  # the two runs overlapped

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert on_meta(channels["ig"], "Pool: sent twice") == [delivery.remote_id]

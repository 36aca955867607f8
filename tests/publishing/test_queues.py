"""Posting queues: recurring slots on the workspace's clock (Europe/Rome here), "Add to queue", reordering, and a
paused queue holding its posts until it is resumed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.access import get_workspace_for_user
from publishing.models import DeliveryState, Post, PostingQueue, PostVersion
from publishing.services import pipeline, transitions
from publishing.services.posts import post_create
from publishing.services.queues import (
    QueueRefused,
    next_free_slots,
    post_add_to_queue,
    post_remove_from_queue,
    queue_pause,
    queue_reorder,
    queue_reslot_overdue,
    queue_resume,
    queue_slot_add,
    queue_slots_add,
)
from tests.factories import (
    AgencyFactory,
    ChannelFactory,
    DeliveryFactory,
    PostFactory,
    WorkspaceFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]  # nothing here reaches Meta

ROME = ZoneInfo("Europe/Rome")
HTMX = {"HX-Request": "true"}
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def rome(y: int, m: int, d: int, hh: int, mm: int, fold: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, fold=fold, tzinfo=ROME).astimezone(UTC)


@pytest.fixture
def page(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice)  # Harbor Yoga Studio, a Facebook Page


@pytest.fixture
def instagram(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice, instagram=True)  # @harboryoga


@pytest.fixture
def manager(alice, workspace):
    return get_workspace_for_user(alice, workspace.public_id)


@pytest.fixture
def editor(bob, workspace):
    return get_workspace_for_user(bob, workspace.public_id)


def draft(workspace, author, *channels, caption="Fresh beans today"):
    return post_create(workspace=workspace, author=author, channels=list(channels), caption=caption)


def queued_at(channel, at: datetime, **kwargs):
    """A post already in the channel's queue at `at`, scheduled there."""
    post = PostFactory(workspace=channel.workspace, in_queue=True, scheduled_at=at, **kwargs)
    DeliveryFactory(post=post, channel=channel, state=DeliveryState.SCHEDULED, due_at=at, next_attempt_at=at)
    return post


def later(moment: datetime, days: int) -> datetime:
    """The same time on the Rome clock `days` later (a day is not 24 hours the night the clocks change)."""
    local = timezone.localtime(moment, ROME)
    return datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=ROME).astimezone(UTC)


def soon(days: int, hh: int = 9, mm: int = 30) -> tuple[int, datetime]:
    """The weekday `days` from today and that day's hh:mm in Rome: a slot on that weekday falls there next."""
    day = timezone.localtime(timezone.now(), ROME).date() + timedelta(days=days)
    return day.weekday(), datetime.combine(day, time(hh, mm), tzinfo=ROME).astimezone(UTC)


# --- next free slots ------------------------------------------------------------------------------------------
def test_next_free_slots_follow_the_weekdays_on_the_workspace_clock(page):
    queue_slots_add(channel=page, weekdays=[MON, WED, FRI], at=time(9, 30))
    after = rome(2026, 1, 13, 12, 0)  # a Tuesday
    assert next_free_slots([page], after, 4) == [
        rome(2026, 1, 14, 9, 30),
        rome(2026, 1, 16, 9, 30),
        rome(2026, 1, 19, 9, 30),
        rome(2026, 1, 21, 9, 30),
    ]
    assert next_free_slots([page], rome(2026, 1, 14, 9, 30), 1) == [rome(2026, 1, 16, 9, 30)]  # strictly after


def test_a_week_across_the_march_clock_change_keeps_the_local_time(page):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    moments = next_free_slots([page], rome(2026, 3, 26, 12, 0), 7)  # Thu 26 March; clocks go forward on Sun 29
    local = [m.astimezone(ROME) for m in moments]
    assert [(m.day, m.hour, m.minute) for m in local] == [(d, 9, 30) for d in range(27, 32)] + [(1, 9, 30), (2, 9, 30)]
    assert moments[1] == datetime(2026, 3, 28, 8, 30, tzinfo=UTC)  # Saturday: winter time, UTC+1
    assert moments[2] == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)  # Sunday: summer time, UTC+2


def test_a_slot_in_the_skipped_hour_is_skipped_that_night_and_a_repeated_one_takes_the_first(page):
    queue_slot_add(channel=page, weekday=SUN, at=time(2, 30))
    # 29 March 2026: 02:00 → 03:00 in Rome, so there is no 02:30; the next Sunday has one.
    assert next_free_slots([page], rome(2026, 3, 27, 12, 0), 2) == [rome(2026, 4, 5, 2, 30), rome(2026, 4, 12, 2, 30)]
    # 25 October 2026: 03:00 → 02:00, so 02:30 happens twice: the first, still in summer time (00:30 UTC).
    assert next_free_slots([page], rome(2026, 10, 23, 12, 0), 1) == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_taken_slots_are_skipped_but_only_for_queued_posts_not_yet_out(page, instagram):
    queue_slots_add(channel=page, weekdays=[MON, WED, FRI], at=time(9, 30))
    after = rome(2026, 1, 13, 12, 0)
    queued_at(page, rome(2026, 1, 14, 9, 30))  # Wednesday is taken
    loose = PostFactory(workspace=page.workspace, in_queue=False, scheduled_at=rome(2026, 1, 16, 9, 30))
    DeliveryFactory(post=loose, channel=page, state=DeliveryState.SCHEDULED)  # not queued: does not hold Friday
    gone = PostFactory(workspace=page.workspace, in_queue=True, scheduled_at=rome(2026, 1, 19, 9, 30))
    DeliveryFactory(post=gone, channel=page, published=True)  # already out: Monday is free again
    elsewhere = queued_at(instagram, rome(2026, 1, 21, 9, 30))  # another channel's queue
    assert next_free_slots([page], after, 3) == [
        rome(2026, 1, 16, 9, 30),
        rome(2026, 1, 19, 9, 30),
        rome(2026, 1, 21, 9, 30),
    ]
    # Posts being placed again do not hold their own slots.
    assert next_free_slots([page], after, 1, exclude=[elsewhere.pk]) == [rome(2026, 1, 16, 9, 30)]


def test_a_post_for_two_channels_takes_the_earliest_slot_free_on_both(page, instagram):
    queue_slot_add(channel=page, weekday=MON, at=time(9, 30))
    queue_slot_add(channel=instagram, weekday=MON, at=time(18, 0))
    after = rome(2026, 1, 13, 12, 0)
    assert next_free_slots([page, instagram], after, 2) == [rome(2026, 1, 19, 9, 30), rome(2026, 1, 19, 18, 0)]
    queued_at(instagram, rome(2026, 1, 19, 9, 30))  # Instagram has a post at the Page's slot
    queued_at(page, rome(2026, 1, 19, 18, 0))  # and the Page one at Instagram's
    assert next_free_slots([page, instagram], after, 1) == [rome(2026, 1, 26, 9, 30)]
    # Each on its own: the other channel's post does not hold its time.
    assert next_free_slots([page], after, 1) == [rome(2026, 1, 19, 9, 30)]
    assert next_free_slots([instagram], after, 1) == [rome(2026, 1, 19, 18, 0)]


def test_no_slots_no_moments(page):
    assert next_free_slots([page], timezone.now(), 3) == []


# --- add to queue ---------------------------------------------------------------------------------------------
def test_a_manager_adds_a_draft_and_it_is_scheduled_at_the_next_free_slot(page, workspace, alice, manager):
    weekday, slot = soon(3)
    queue_slot_add(channel=page, weekday=weekday, at=time(9, 30))
    first = draft(workspace, alice, page)
    post = post_add_to_queue(post=first, access=manager, user=alice)
    assert (post.in_queue, post.scheduled_at, post.scheduled_timezone) == (True, slot, "Europe/Rome")
    assert post.scheduled_local.endswith("09:30:00")
    delivery = post.deliveries.get()
    assert (delivery.state, delivery.due_at, delivery.next_attempt_at) == (DeliveryState.SCHEDULED, slot, slot)
    assert post.approval == Post.Approval.NOT_REQUIRED
    assert PostVersion.objects.filter(post=post).count() == 1

    second = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    assert second.scheduled_at == later(slot, 7)  # the week after: that slot is taken


def test_an_editor_adds_their_own_draft_and_it_goes_for_approval_at_the_slot(page, workspace, bob, alice, editor):
    weekday, slot = soon(2, 18, 0)
    queue_slot_add(channel=page, weekday=weekday, at=time(18, 0))
    post = post_add_to_queue(post=draft(workspace, bob, page), access=editor, user=bob)
    assert (post.in_queue, post.scheduled_at, post.approval) == (True, slot, Post.Approval.PENDING)
    assert post.deliveries.get().state == DeliveryState.AWAITING_APPROVAL

    someone_elses = draft(workspace, alice, page)
    with pytest.raises(QueueRefused, match="your own drafts"):
        post_add_to_queue(post=someone_elses, access=editor, user=bob)
    assert Post.objects.get(pk=someone_elses.pk).in_queue is False


def test_a_channel_without_slots_is_named(page, instagram, workspace, alice, manager):
    queue_slot_add(channel=page, weekday=MON, at=time(9, 30))
    post = draft(workspace, alice, page, instagram)
    with pytest.raises(QueueRefused, match="Add posting times to @harboryoga's queue first."):
        post_add_to_queue(post=post, access=manager, user=alice)
    post.refresh_from_db()
    assert (post.in_queue, post.scheduled_at) == (False, None)


def test_only_drafts_are_added_and_an_invalid_post_stays_a_draft(page, instagram, workspace, alice, manager):
    queue_slot_add(channel=instagram, weekday=MON, at=time(9, 30))
    no_photo = draft(workspace, alice, instagram)  # Instagram needs a photo or video
    from publishing.services.posts import PostInvalid

    with pytest.raises(PostInvalid):
        post_add_to_queue(post=no_photo, access=manager, user=alice)
    no_photo.refresh_from_db()
    assert (no_photo.in_queue, no_photo.scheduled_at, no_photo.deliveries.get().state) == (
        False,
        None,
        DeliveryState.DRAFT,
    )
    queue_slot_add(channel=page, weekday=MON, at=time(9, 30))
    scheduled = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    with pytest.raises(QueueRefused, match="Only drafts"):
        post_add_to_queue(post=scheduled, access=manager, user=alice)


def test_taking_a_post_out_of_the_queue_keeps_its_time(page, workspace, alice, manager):
    queue_slot_add(channel=page, weekday=soon(3)[0], at=time(9, 30))
    post = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    out = post_remove_from_queue(post=post, access=manager)
    assert (out.in_queue, out.scheduled_at) == (False, post.scheduled_at)
    assert next_free_slots([page], timezone.now(), 1) == [post.scheduled_at]  # its slot is free again


# --- reorder --------------------------------------------------------------------------------------------------
def test_reordering_swaps_the_times_and_moves_the_deliveries(page, workspace, alice, manager):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    first = post_add_to_queue(post=draft(workspace, alice, page, caption="first"), access=manager, user=alice)
    second = post_add_to_queue(post=draft(workspace, alice, page, caption="second"), access=manager, user=alice)
    early, late = first.scheduled_at, second.scheduled_at
    assert early < late

    moved = queue_reorder(
        channel=page, ordered_post_ids=[second.public_id, first.public_id], access=manager, user=alice
    )
    assert {p.pk for p in moved} == {first.pk, second.pk}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.scheduled_at, first.scheduled_at) == (early, late)
    assert second.deliveries.get().next_attempt_at == early and second.deliveries.get().due_at == early
    assert first.deliveries.get().next_attempt_at == late
    assert first.versions.first().changed == ["time"]
    assert second.scheduled_local.endswith("09:30:00")


def test_reordering_refuses_a_post_going_out_and_a_stale_order(page, workspace, alice, manager, editor, bob):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    posts = [post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice) for _ in range(3)]
    times = [p.scheduled_at for p in posts]
    transitions.claim(posts[0].deliveries.get().pk)  # a run took the first one: it is being published
    with pytest.raises(QueueRefused, match="going out"):
        queue_reorder(channel=page, ordered_post_ids=[p.public_id for p in reversed(posts)], access=manager, user=alice)
    with pytest.raises(QueueRefused, match="changed while you were arranging"):
        queue_reorder(channel=page, ordered_post_ids=[posts[2].public_id], access=manager, user=alice)
    assert [Post.objects.get(pk=p.pk).scheduled_at for p in posts] == times
    # The others still move, among their own times.
    queue_reorder(channel=page, ordered_post_ids=[posts[2].public_id, posts[1].public_id], access=manager, user=alice)
    assert [Post.objects.get(pk=p.pk).scheduled_at for p in posts] == [times[0], times[2], times[1]]
    with pytest.raises(Exception, match="does not allow"):
        queue_reorder(channel=page, ordered_post_ids=[], access=editor, user=bob)


def test_a_run_claiming_a_post_during_a_reorder_rolls_the_whole_reorder_back(
    page, workspace, alice, manager, monkeypatch
):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    posts = [post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice) for _ in range(3)]
    before = [(Post.objects.get(pk=p.pk).scheduled_at, p.deliveries.get().next_attempt_at) for p in posts]
    versions = PostVersion.objects.filter(post__in=posts).count()
    real = transitions.reschedule
    moving: list[int] = []

    def racing(post, *, due):
        # The dispatcher wins the race for the second post moved: a run claims its delivery first.
        moving.append(post.pk)
        if len(moving) == 2:
            transitions.claim(post.deliveries.get().pk)
        return real(post, due=due)

    monkeypatch.setattr(transitions, "reschedule", racing)
    with pytest.raises(QueueRefused, match="started going out a moment ago"):
        queue_reorder(channel=page, ordered_post_ids=[p.public_id for p in reversed(posts)], access=manager, user=alice)
    assert len(moving) == 2  # the first post had moved already: it is put back with the rest
    after = [(Post.objects.get(pk=p.pk).scheduled_at, p.deliveries.get().next_attempt_at) for p in posts]
    assert after == before
    assert PostVersion.objects.filter(post__in=posts).count() == versions


def test_reorder_and_resume_lock_the_deliveries_they_move(page, workspace, alice, manager):
    if not connection.features.has_select_for_update:
        pytest.skip("this database has no row locks (SQLite locks the whole file while writing)")
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    posts = [post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice) for _ in range(2)]
    with CaptureQueriesContext(connection) as captured:
        queue_reorder(channel=page, ordered_post_ids=[p.public_id for p in reversed(posts)], access=manager, user=alice)
    locks = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    assert any('FROM "publishing_delivery"' in sql for sql in locks), locks


def lock_statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]


def test_resume_and_reorder_lock_posts_without_their_workspace(page, workspace, alice, manager):
    if not connection.features.has_select_for_update_of:
        pytest.skip("this database cannot lock some of a query's tables (SQLite locks the whole file while writing)")
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    posts = [post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice) for _ in range(2)]
    queue_pause(channel=page, user=alice)
    with CaptureQueriesContext(connection) as resuming:
        assert len(queue_resume(channel=page, user=alice, now=posts[1].scheduled_at + timedelta(hours=1))) == 2
    with CaptureQueriesContext(connection) as reordering:
        queue_reorder(channel=page, ordered_post_ids=[p.public_id for p in reversed(posts)], access=manager, user=alice)
    for captured in (resuming, reordering):
        post_locks = [sql for sql in lock_statements(captured) if 'FROM "publishing_post"' in sql]
        assert post_locks and all(sql.endswith('FOR UPDATE OF "publishing_post"') for sql in post_locks), post_locks


def failed_elsewhere(post, channel, state: str):
    """The post failed (or was cancelled) on `channel` before anything of it was sent anywhere."""
    if state == DeliveryState.FAILED:
        return DeliveryFactory(post=post, channel=channel, failed=True)
    return DeliveryFactory(post=post, channel=channel, state=DeliveryState.CANCELLED)


@pytest.mark.parametrize("state", [DeliveryState.FAILED, DeliveryState.CANCELLED])
def test_a_post_that_failed_or_was_cancelled_elsewhere_keeps_its_place_in_a_reorder(
    page, instagram, workspace, alice, manager, state
):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    first = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    second = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    third = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    failed_elsewhere(first, instagram, state)  # the same post, on Instagram
    times = [p.scheduled_at for p in (first, second, third)]
    with pytest.raises(QueueRefused, match="failed or was cancelled on another account, so it cannot be reordered"):
        queue_reorder(channel=page, ordered_post_ids=[second.public_id, first.public_id], access=manager, user=alice)
    assert [Post.objects.get(pk=p.pk).scheduled_at for p in (first, second, third)] == times
    # The others are still reordered among their own times.
    queue_reorder(channel=page, ordered_post_ids=[third.public_id, second.public_id], access=manager, user=alice)
    assert [Post.objects.get(pk=p.pk).scheduled_at for p in (first, second, third)] == [times[0], times[2], times[1]]


@pytest.mark.parametrize("state", [DeliveryState.FAILED, DeliveryState.CANCELLED])
def test_a_post_that_failed_or_was_cancelled_elsewhere_moves_with_its_resumed_queue(
    page, instagram, workspace, alice, manager, state
):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    first = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    second = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    elsewhere = failed_elsewhere(first, instagram, state)
    before = (elsewhere.state, elsewhere.due_at, elsewhere.next_attempt_at, elsewhere.error_message)
    times = [first.scheduled_at, second.scheduled_at]

    queue_pause(channel=page, user=alice)
    now = times[1] + timedelta(hours=1)  # both went by during the pause
    moved = queue_resume(channel=page, user=alice, now=now)
    assert [p.pk for p in moved] == [first.pk, second.pk]  # in their order, one slot each
    new = [Post.objects.get(pk=p.pk).scheduled_at for p in (first, second)]
    assert new == [later(times[1], 1), later(times[1], 2)]
    waiting = first.deliveries.get(channel=page)
    assert (waiting.state, waiting.due_at, waiting.next_attempt_at) == (DeliveryState.SCHEDULED, new[0], new[0])
    elsewhere.refresh_from_db()
    assert (elsewhere.state, elsewhere.due_at, elsewhere.next_attempt_at, elsewhere.error_message) == before
    assert not elsewhere.remote_id and "time" in first.versions.first().changed  # the move is in its history
    assert pipeline.dispatch_due(now=now) == 0  # nothing goes out on the tick after the resume
    assert pipeline.dispatch_due(now=new[0]) == 1  # the Page's delivery, at its new time


def test_a_post_that_went_out_somewhere_is_not_moved_by_a_resume(page, instagram, workspace, alice, manager):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    first = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    second = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    # Failed on Instagram after Meta was asked: it may be public there, so its time is left to a person.
    DeliveryFactory(post=first, channel=instagram, failed=True, publish_started_at=first.scheduled_at)
    queue_pause(channel=page, user=alice)
    moved = queue_resume(channel=page, user=alice, now=second.scheduled_at + timedelta(hours=1))
    assert moved == [second]
    assert Post.objects.get(pk=first.pk).scheduled_at == first.scheduled_at


# --- pause and resume -----------------------------------------------------------------------------------------
def test_a_paused_queue_holds_a_due_post_and_resuming_gives_it_the_next_free_slot(page, workspace, alice, manager):
    weekday, slot = soon(2)
    queue_slot_add(channel=page, weekday=weekday, at=time(9, 30))
    post = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    assert post.scheduled_at == slot
    queue_pause(channel=page, user=alice)
    queue = PostingQueue.objects.get(channel=page)
    assert queue.paused_by == alice and queue.paused_at is not None

    late = slot + timedelta(minutes=5)
    assert pipeline.dispatch_due(now=late) == 0  # due, and held
    delivery = post.deliveries.get()
    assert (delivery.state, delivery.next_attempt_at) == (DeliveryState.SCHEDULED, slot)

    moved = queue_resume(channel=page, user=alice, now=slot + timedelta(hours=1))
    assert [p.pk for p in moved] == [post.pk]
    post.refresh_from_db()
    delivery.refresh_from_db()
    assert post.scheduled_at == later(slot, 7)  # the next time this slot comes round
    assert delivery.next_attempt_at == post.scheduled_at
    assert PostingQueue.objects.get(channel=page).paused_at is None
    assert pipeline.dispatch_due(now=slot + timedelta(hours=1)) == 0  # nothing goes out in a burst
    assert pipeline.dispatch_due(now=post.scheduled_at) == 1


def test_resuming_keeps_the_order_and_leaves_times_alone_when_nothing_is_overdue(page, workspace, alice, manager):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    posts = [post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice) for _ in range(3)]
    times = [p.scheduled_at for p in posts]
    queue_pause(channel=page, user=alice)
    assert queue_resume(channel=page, user=alice) == []
    assert [Post.objects.get(pk=p.pk).scheduled_at for p in posts] == times

    queue_pause(channel=page, user=alice)
    # Resumed the day after the second post's time: all three move on, in their order, one slot each.
    moved = queue_resume(channel=page, user=alice, now=times[1] + timedelta(hours=2))
    assert len(moved) == 3
    new = [Post.objects.get(pk=p.pk).scheduled_at for p in posts]
    assert new == [later(times[1], 1), later(times[1], 2), later(times[1], 3)]


def test_reslotting_leaves_a_paused_queue_to_its_own_resume(page, workspace, alice, manager):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    post = post_add_to_queue(post=draft(workspace, alice, page), access=manager, user=alice)
    overdue = post.scheduled_at + timedelta(hours=1)
    queue_pause(channel=page, user=alice)
    assert queue_reslot_overdue(channel=page, user=alice, now=overdue) == []
    assert Post.objects.get(pk=post.pk).scheduled_at == post.scheduled_at
    assert [p.pk for p in queue_resume(channel=page, user=alice, now=overdue)] == [post.pk]


def test_resuming_a_queue_without_posting_times_is_refused_and_it_stays_paused(page, workspace, alice):
    post = queued_at(page, timezone.now() - timedelta(hours=1))
    queue_pause(channel=page, user=alice)
    with pytest.raises(QueueRefused, match="Add posting times to Harbor Yoga Studio's queue first"):
        queue_resume(channel=page, user=alice)
    assert PostingQueue.objects.get(channel=page).paused_at is not None
    assert Post.objects.get(pk=post.pk).scheduled_at == post.scheduled_at


# --- pages ----------------------------------------------------------------------------------------------------
def url(workspace, rest: str = "") -> str:
    return f"/w/{workspace.public_id}/{rest}"


def test_the_queue_page_shows_slots_posts_and_the_next_free_time(client, page, instagram, workspace, alice, manager):
    weekday, slot = soon(3)
    queue_slots_add(channel=page, weekdays=[weekday], at=time(9, 30))
    post_add_to_queue(post=draft(workspace, alice, page, caption="Cold brew is back"), access=manager, user=alice)
    client.force_login(alice)
    body = client.get(url(workspace, f"queue/?channel={page.public_id}")).content.decode()
    assert "Cold brew is back" in body and "09:30" in body
    assert "Next free time" in body and "Pause the queue" in body
    local = timezone.localtime(slot, ROME)
    assert f"{local:%a} {local.day} {local:%b}, 09:30" in body
    assert 'href="/w/' + str(workspace.public_id) + '/queue/"' in client.get(url(workspace, "posts/")).content.decode()
    other = client.get(url(workspace, f"queue/?channel={instagram.public_id}"), headers=HTMX).content.decode()
    assert 'id="queue-panel"' in other and "<html" not in other and "No posting times yet" in other


def test_slots_pause_and_order_through_the_page_answer_with_the_panel(client, page, workspace, alice, manager):
    client.force_login(alice)
    base = url(workspace, f"queue/{page.public_id}/")
    response = client.post(base + "slots/", {"weekdays": [str(d) for d in range(7)], "time": "09:30"}, headers=HTMX)
    assert response.status_code == 200 and "Added: Monday" in response.content.decode()
    assert "<html" not in response.content.decode()
    response = client.post(base + "slots/", {"time": "10:00"}, headers=HTMX)
    assert "Tick at least one day" in response.content.decode()

    first = post_add_to_queue(post=draft(workspace, alice, page, caption="one"), access=manager, user=alice)
    second = post_add_to_queue(post=draft(workspace, alice, page, caption="two"), access=manager, user=alice)
    order = [str(first.public_id), str(second.public_id)]
    response = client.post(base + "order/", {"post": order, "down": order[0]}, headers=HTMX)
    assert "New order saved" in response.content.decode()
    assert Post.objects.get(pk=second.pk).scheduled_at == first.scheduled_at

    response = client.post(base + "pause/", headers=HTMX)
    assert "Paused by Alice Owner" in response.content.decode() and "Resume the queue" in response.content.decode()
    response = client.post(base + "resume/")  # without htmx: back to the page
    assert response.status_code == 302 and response["Location"].endswith(f"?channel={page.public_id}")

    slot_id = page.posting_queue.slots.first().pk
    client.post(base + f"slots/{slot_id}/remove/", headers=HTMX)
    assert page.posting_queue.slots.count() == 6


def queue_row(body: str, post) -> str:
    found = re.search(rf'<li class="[^"]*queue-item[^"]*" data-post="{post.public_id}">.*?</li>', body, re.S)
    assert found, "the post is not in the queue"
    return found.group(0)


def test_a_post_that_failed_elsewhere_can_be_taken_out_and_is_on_hold_while_the_queue_is(
    client, page, instagram, workspace, alice, manager, bob
):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    stuck = post_add_to_queue(post=draft(workspace, alice, page, caption="Stuck"), access=manager, user=alice)
    fine = post_add_to_queue(post=draft(workspace, alice, page, caption="Fine"), access=manager, user=alice)
    DeliveryFactory(post=stuck, channel=instagram, failed=True)
    client.force_login(alice)
    address = url(workspace, f"queue/?channel={page.public_id}")
    row = queue_row(client.get(address).content.decode(), stuck)
    assert "Failed or cancelled on another account" in row and "It keeps its place when you reorder." in row
    assert "queue-fixed" in row and "drag-handle" not in row and 'name="post"' not in row  # not in the order sent
    assert 'name="up"' not in row and "On hold" not in row
    remove = url(workspace, f"queue/{page.public_id}/posts/{stuck.public_id}/remove/")
    assert f'formaction="{remove}"' in row and f'hx-post="{remove}"' in row and ">Take out<" in row

    queue_pause(channel=page, user=alice)
    body = client.get(address).content.decode()
    assert "On hold" in queue_row(body, stuck) and "On hold" in queue_row(body, fine)
    client.force_login(bob)  # an editor sees the queue, not its buttons
    row = queue_row(client.get(address).content.decode(), stuck)
    assert "Take out" not in row and "It keeps its place" not in row

    client.force_login(alice)
    response = client.post(remove, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Taken out of the queue. It keeps its time" in body
    assert f'data-post="{stuck.public_id}"' not in body and f'data-post="{fine.public_id}"' in body
    assert Post.objects.get(pk=stuck.pk).in_queue is False


def test_an_editor_sees_the_queue_but_cannot_change_it(client, page, workspace, bob):
    client.force_login(bob)
    body = client.get(url(workspace, "queue/")).content.decode()
    assert "Posting times" in body and "Pause the queue" not in body and "Add posting time" not in body
    assert client.post(url(workspace, f"queue/{page.public_id}/pause/")).status_code == 403
    assert (
        client.post(url(workspace, f"queue/{page.public_id}/slots/"), {"weekdays": ["0"], "time": "09:00"}).status_code
        == 403
    )


def test_add_to_queue_from_the_posts_list_and_from_the_composer(client, page, workspace, alice):
    weekday, slot = soon(4)
    queue_slot_add(channel=page, weekday=weekday, at=time(9, 30))
    client.force_login(alice)
    waiting = draft(workspace, alice, page, caption="From the list")
    listing = client.get(url(workspace, "posts/")).content.decode()
    assert f"/posts/{waiting.public_id}/queue/" in listing
    response = client.post(url(workspace, f"posts/{waiting.public_id}/queue/"), follow=True)
    assert "Added to the queue: it goes out on" in response.content.decode()
    waiting.refresh_from_db()
    assert (waiting.in_queue, waiting.scheduled_at) == (True, slot)
    assert f"/posts/{waiting.public_id}/queue/" not in client.get(url(workspace, "posts/")).content.decode()

    response = client.post(
        url(workspace, "posts/new/"),
        {"channels": [page.pk], "format": "feed", "caption": "From the composer", "when": "later", "intent": "queue"},
    )
    assert response.status_code == 302
    composed = Post.objects.get(caption="From the composer")
    assert (composed.in_queue, composed.scheduled_at) == (True, later(slot, 7))
    assert composed.deliveries.get().state == DeliveryState.SCHEDULED
    assert composed.versions.count() == 1


def test_the_composer_explains_a_queue_without_times_and_keeps_the_post_unsaved(client, page, workspace, alice):
    client.force_login(alice)
    response = client.post(
        url(workspace, "posts/new/"),
        {"channels": [page.pk], "format": "feed", "caption": "Nowhere to go", "when": "later", "intent": "queue"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Add posting times to Harbor Yoga Studio&#x27;s queue first." in body
    assert "Nowhere to go" in body and not Post.objects.exists()


def test_another_workspaces_channel_or_post_is_a_404(client, page, workspace, alice, charlie):
    stranger_ws = WorkspaceFactory(agency=AgencyFactory(name="Elsewhere 2"), timezone="Europe/Rome")
    theirs = ChannelFactory(workspace=stranger_ws)
    their_post = PostFactory(workspace=stranger_ws)
    DeliveryFactory(post=their_post, channel=theirs)
    client.force_login(alice)
    assert client.get(url(workspace, f"queue/?channel={theirs.public_id}")).status_code == 404
    assert client.get(url(workspace, "queue/?channel=not-a-uuid")).status_code == 404
    for action in ("slots/", "order/", "pause/", "resume/", "slots/1/remove/", f"posts/{their_post.public_id}/remove/"):
        assert client.post(url(workspace, f"queue/{theirs.public_id}/{action}")).status_code == 404, action
    assert (
        client.post(url(workspace, f"queue/{page.public_id}/posts/{their_post.public_id}/remove/")).status_code == 404
    )
    assert client.post(url(workspace, f"posts/{their_post.public_id}/queue/")).status_code == 404
    assert not PostingQueue.objects.filter(channel=theirs).exists()
    client.force_login(charlie)
    assert client.get(url(workspace, "queue/")).status_code == 404
    assert client.post(url(workspace, f"queue/{page.public_id}/pause/")).status_code == 404


def test_the_queue_page_takes_a_fixed_number_of_queries(client, page, instagram, workspace, alice):
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    start = timezone.now() + timedelta(days=1)

    def fill(first: int, last: int) -> None:
        for n in range(first, last):
            post = queued_at(page, start + timedelta(hours=n), author=alice)
            DeliveryFactory(post=post, channel=instagram, state=DeliveryState.SCHEDULED)

    fill(0, 10)
    client.force_login(alice)
    address = url(workspace, f"queue/?channel={page.public_id}")
    with CaptureQueriesContext(connection) as few:
        assert client.get(address).status_code == 200
    fill(10, 200)
    with CaptureQueriesContext(connection) as many:
        body = client.get(address).content.decode()
    assert body.count('class="list-group-item d-flex gap-2 align-items-start queue-item') == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_nav_lists_the_queue_after_posts(client, workspace, alice):
    client.force_login(alice)
    body = client.get(url(workspace)).content.decode()
    posts_at, queue_at = body.index(f"/w/{workspace.public_id}/posts/"), body.index(f"/w/{workspace.public_id}/queue/")
    assert posts_at < queue_at

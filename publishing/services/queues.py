"""Posting queues: each channel's recurring posting times, and the posts waiting for them.

A queue's slots are weekdays and wall-clock times on the workspace's clock ("Monday 09:30"). "Add to queue" gives
a post the next slot nobody has taken; reordering the queue hands the same times out in the new order; a paused
queue holds its posts (the dispatcher skips them, `pipeline.held`), and resuming, once a post's time went by
meanwhile, gives the queue's posts the next free slots in their order, so nothing goes out in a burst.

The night the clocks change:
- a slot time the clocks skip (02:30 the night summer time starts in Europe) does not happen that day: the slot is
  skipped, not moved to 03:00, where it could fall on another slot or on a time nobody chose;
- a slot time the clocks show twice (02:30 the night summer time ends) is taken at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.crypto import encrypted_field_names
from accounts.models import Channel
from accounts.roles import Capability

from ..models import ACTIVE_STATES, Delivery, DeliveryState, Post, PostingQueue, PostingSlot
from . import composer, posts, transitions
from .local_time import NonexistentLocalTime, to_aware

if TYPE_CHECKING:
    from accounts.access import WorkspaceAccess
    from accounts.models import User

S = DeliveryState
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# A delivery in one of these holds its post's slot: it has not gone out yet (or is going out right now).
WAITING_STATES = (S.DRAFT, S.AWAITING_APPROVAL, S.SCHEDULED, *ACTIVE_STATES)


class QueueRefused(Exception):
    """The queue cannot do what was asked; the message says why and what to do instead."""


@dataclass(frozen=True)
class QueuedPost:
    """A post in a channel's queue, as the queue page shows it."""

    post: Post
    delivery: Delivery  # the post on this channel
    others: list[Delivery]  # the post on its other channels
    movable: bool  # nothing of it has gone out or is going out

    @property
    def stuck(self) -> bool:
        """Not movable because it failed or was cancelled somewhere, with nothing sent anywhere. Reordering leaves
        it where it is; after a pause it still takes a new time with the rest of the queue (`_reslottable`), and a
        person may take it out of the queue."""
        return _stuck([self.delivery, *self.others])

    @property
    def moves_on_resume(self) -> bool:
        """Held while the queue is paused and given a new time after it (`queue_reslot_overdue`); a person may
        take it out of the queue."""
        return self.movable or self.stuck


# --- slots ----------------------------------------------------------------------------------------------------
def queue_for(channel: Channel) -> PostingQueue:
    return PostingQueue.objects.get_or_create(channel=channel)[0]


def _locked_queue(channel: Channel) -> PostingQueue:
    queue_for(channel)
    return PostingQueue.objects.select_for_update().get(channel=channel)


@transaction.atomic
def queue_slot_add(*, channel: Channel, weekday: int, at: time) -> tuple[PostingSlot, bool]:
    """One posting time (weekday 0 Monday … 6 Sunday, to the minute). Returns (slot, created): a time the queue
    has already is left as it is."""
    if not 0 <= weekday <= 6:
        raise QueueRefused("Pick a day of the week.")
    return PostingSlot.objects.get_or_create(
        queue=queue_for(channel), weekday=weekday, time=at.replace(second=0, microsecond=0, tzinfo=None)
    )


@transaction.atomic
def queue_slots_add(*, channel: Channel, weekdays: Iterable[int], at: time) -> list[PostingSlot]:
    """The same time on several days (the form's day checkboxes). Returns the slots that are new."""
    days = sorted(set(weekdays))
    if not days:
        raise QueueRefused("Tick at least one day for this posting time.")
    return [slot for slot, created in (queue_slot_add(channel=channel, weekday=d, at=at) for d in days) if created]


def queue_slot_remove(*, channel: Channel, slot_id: int) -> bool:
    """Remove one posting time. Posts already queued keep their times."""
    deleted, _ = PostingSlot.objects.filter(queue__channel=channel, pk=slot_id).delete()
    return bool(deleted)


def slots_of(channels: Sequence[Channel]) -> list[PostingSlot]:
    return list(PostingSlot.objects.filter(queue__channel__in=list(channels)).select_related("queue"))


# --- free slots -----------------------------------------------------------------------------------------------
def _taken(channels: Sequence[Channel], *, after: datetime, exclude: Iterable[int] = ()) -> set[datetime]:
    """Moments already given to a queued post that has not gone out on one of `channels`."""
    rows = Delivery.objects.filter(
        channel__in=list(channels),
        state__in=WAITING_STATES,
        post__in_queue=True,
        post__scheduled_at__gt=after,
    ).exclude(post_id__in=list(exclude))
    return set(rows.values_list("post__scheduled_at", flat=True))


def _moments_on(day: date, times: Iterable[time], zone) -> list[datetime]:  # type: ignore[no-untyped-def]
    moments = []
    for at in times:
        try:
            moments.append(to_aware(day, at, zone, fold=0))  # shown twice: the first one
        except NonexistentLocalTime:
            continue  # skipped by the clocks that day: so is the slot
    return sorted(moments)


def next_free_slots(
    channels: Sequence[Channel], after: datetime, count: int = 1, *, exclude: Iterable[int] = ()
) -> list[datetime]:
    """The next `count` slot moments (aware, UTC) strictly after `after`, on the workspace's clock.

    The candidates are the union of the channels' slots; a moment is free when no queued post that has not gone
    out holds it on any of the channels. So a post for several accounts takes the earliest moment free on all
    of them, even when it is a slot of only one of them. Posts whose ids are in `exclude` do not count (the post
    being placed, or posts about to be placed again). Empty when the channels have no slots."""
    channels = list(channels)
    if not channels or count < 1:
        return []
    by_weekday: dict[int, set[time]] = {}
    for slot in slots_of(channels):
        by_weekday.setdefault(slot.weekday, set()).add(slot.time)
    if not by_weekday:
        return []
    zone = channels[0].workspace.zoneinfo
    taken = _taken(channels, after=after, exclude=exclude)
    found: list[datetime] = []
    day = after.astimezone(zone).date()
    # Every week has at least one slot, so this many weeks always hold `count` free moments (a week may lose one
    # slot to the clocks skipping it; the extra weeks cover that).
    last = day + timedelta(weeks=len(taken) + count + 2)
    while day <= last and len(found) < count:
        for moment in _moments_on(day, by_weekday.get(day.weekday(), ()), zone):
            if moment > after and moment not in taken:
                found.append(moment)
                if len(found) == count:
                    break
        day += timedelta(days=1)
    return found


# --- what is in a queue ---------------------------------------------------------------------------------------
def queued(channel: Channel) -> QuerySet[Post]:
    """The posts in the channel's queue that have not gone out there, earliest first."""
    return (
        Post.objects.filter(
            workspace_id=channel.workspace_id,
            in_queue=True,
            scheduled_at__isnull=False,
            deliveries__channel=channel,
            deliveries__state__in=WAITING_STATES,
        )
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=Delivery.objects.select_related("channel")
                .defer(*encrypted_field_names(Channel, prefix="channel__"))
                .order_by("channel__name"),
            )
        )
        .order_by("scheduled_at", "pk")
    )


# A post moves with the queue only while every one of its deliveries is in one of these, and nothing of it was sent.
MOVABLE_STATES = (S.DRAFT, S.AWAITING_APPROVAL, S.SCHEDULED)


def _movable(deliveries: Iterable[Delivery]) -> bool:
    """Nothing of the post went out, is going out, failed or was cancelled: its time can still move."""
    return all(d.state in MOVABLE_STATES and not d.remote_id and d.publish_started_at is None for d in deliveries)


def _stuck(deliveries: Sequence[Delivery]) -> bool:
    """Failed or was cancelled on some account, and nothing of it was sent or is going out anywhere."""
    return any(d.state in (S.FAILED, S.CANCELLED) for d in deliveries) and not any(
        d.state in (*ACTIVE_STATES, S.PUBLISHED) or d.remote_id or d.publish_started_at for d in deliveries
    )


def _reslottable(deliveries: Sequence[Delivery]) -> bool:
    """A pause's end moves it: movable, or stuck with something still waiting on another account. Left at its
    time, a stuck post's scheduled delivery would go out on the first tick after the resume, the burst re-slotting
    is there to prevent; its failed or cancelled deliveries are not touched (`transitions.reschedule` moves only
    scheduled ones)."""
    return _movable(deliveries) or (_stuck(deliveries) and any(d.state in MOVABLE_STATES for d in deliveries))


def queued_posts(channel: Channel) -> list[QueuedPost]:
    rows = []
    for post in queued(channel):
        deliveries = list(post.deliveries.all())
        mine = next(d for d in deliveries if d.channel_id == channel.pk)
        others = [d for d in deliveries if d.channel_id != channel.pk]
        rows.append(QueuedPost(post=post, delivery=mine, others=others, movable=_movable(deliveries)))
    return rows


# --- adding and removing posts --------------------------------------------------------------------------------
def _channel_names(channels: Iterable[Channel]) -> str:
    names = [c.display_name for c in channels]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _set_time(post: Post, at: datetime) -> None:
    post.scheduled_at = at
    post.scheduled_local = posts.local_text(at, post.workspace)
    post.scheduled_timezone = post.workspace.timezone


@transaction.atomic
def post_add_to_queue(*, post: Post, access: WorkspaceAccess, user: User, now: datetime | None = None) -> Post:
    """Give a draft the next free slot of its channels' queues and submit it, as the composer's "Schedule" does:
    scheduled at that time, or sent for approval when the person may only draft. People who may only draft add
    their own drafts. Refused (`QueueRefused`) for a post that is not a draft, or for channels without posting
    times; `posts.PostInvalid` when the post cannot be scheduled as it is (then nothing changes)."""
    access.require(Capability.POSTS_DRAFT)
    post = Post.objects.select_for_update().select_related("workspace").get(pk=post.pk)
    if post.workspace_id != access.workspace.pk:
        raise PermissionDenied("This post belongs to another workspace.")
    if not access.can(Capability.POSTS_PUBLISH) and post.author_id != user.pk:
        raise QueueRefused(
            "You can add your own drafts to the queue. Ask a manager to add this one, or send it for approval."
        )
    if post.removal_requested_at:
        raise QueueRefused("This post is being deleted, so it cannot be queued.")
    deliveries = list(
        post.deliveries.select_related("channel__workspace").defer(*encrypted_field_names(Channel, prefix="channel__"))
    )
    if not deliveries:
        raise QueueRefused("Choose at least one account to publish on, then add the post to the queue.")
    if any(d.state != S.DRAFT for d in deliveries):
        raise QueueRefused(
            "Only drafts can be added to the queue; this post is already scheduled, awaiting approval or sent."
        )
    channels = sorted((d.channel for d in deliveries), key=lambda c: c.pk)
    for channel in channels:  # one at a time per queue, so two posts added at once do not take the same slot
        _locked_queue(channel)
    slotted = PostingSlot.objects.filter(queue__channel__in=channels).values_list("queue__channel_id", flat=True)
    with_slots = set(slotted)
    without = [c for c in channels if c.pk not in with_slots]
    if without:
        whose = _channel_names(without)
        if len(without) == 1:
            raise QueueRefused(f"Add posting times to {whose}'s queue first.")
        raise QueueRefused(f"Add posting times to the queues of {whose} first.")
    slot = next_free_slots(channels, now or timezone.now(), 1, exclude=[post.pk])
    if not slot:  # cannot happen with slots in place; kept so a bug reads as a refusal, not a crash
        raise QueueRefused("No free posting time was found. Add posting times to the queue.")
    _set_time(post, slot[0])
    post.in_queue = True
    post.save(update_fields=["scheduled_at", "scheduled_local", "scheduled_timezone", "in_queue", "updated_at"])
    composer.record_version(post, user)
    return posts.post_submit(post=post, access=access)


@transaction.atomic
def post_remove_from_queue(*, post: Post, access: WorkspaceAccess) -> Post:
    """Take the post out of the queue: it keeps its time, and a pause or reorder of the queue no longer moves it."""
    access.require(Capability.POSTS_PUBLISH)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.workspace_id != access.workspace.pk:
        raise PermissionDenied("This post belongs to another workspace.")
    if post.in_queue:
        post.in_queue = False
        post.save(update_fields=["in_queue", "updated_at"])
    return post


# --- moving posts ---------------------------------------------------------------------------------------------
@dataclass
class _Locked:
    """A queued post that can move, with its deliveries, all locked until the transaction ends."""

    post: Post
    deliveries: list[Delivery]

    @property
    def waiting(self) -> int:
        """Its deliveries the dispatcher would send at its time: those a move must carry along."""
        return sum(1 for d in self.deliveries if d.state == S.SCHEDULED)


def _move(locked: _Locked, at: datetime, user: User | None) -> None:
    """The post goes to `at`, with its scheduled deliveries. Its deliveries are locked, so no run can claim one
    meanwhile; should the count still differ (the lock is the database's, and SQLite has none), the move is
    refused and the whole change rolled back rather than leave the post at one time and a delivery at another."""
    post = locked.post
    _set_time(post, at)
    post.save(update_fields=["scheduled_at", "scheduled_local", "scheduled_timezone", "updated_at"])
    if transitions.reschedule(post, due=at) != locked.waiting:
        raise QueueRefused(
            f"“{post}” started going out a moment ago, so the queue was left as it was. Look at the queue again."
        )
    composer.record_version(post, user)


def _locked_posts(channel: Channel, *, stuck_too: bool = False) -> list[_Locked]:
    """The channel's queued posts that can still move, earliest first, locked with their deliveries (the
    dispatcher skips locked deliveries, and a run cannot claim one until the move is saved). With `stuck_too`,
    also the posts that failed or were cancelled elsewhere but still wait here (`_reslottable`).

    Only the posts' and deliveries' rows are locked (`of=("self",)`), not the workspace joined along: a workspace
    resume has updated its workspace row already, and the composer locks a post with its workspace in one
    statement, so locking the workspace here as well would take the two rows in another order."""
    ids = list(queued(channel).values_list("pk", flat=True))
    locked = list(
        Post.objects.select_for_update(of=("self",)).select_related("workspace").filter(pk__in=ids).order_by("pk")
    )
    deliveries: dict[int, list[Delivery]] = {}
    rows = (
        Delivery.objects.select_for_update(of=("self",))
        .filter(post_id__in=ids)
        .select_related("channel__workspace")
        .defer(*encrypted_field_names(Channel, prefix="channel__"))
        .order_by("pk")
    )
    for d in rows:
        deliveries.setdefault(d.post_id, []).append(d)
    moves = _reslottable if stuck_too else _movable
    movable = [_Locked(p, deliveries.get(p.pk, [])) for p in locked if moves(deliveries.get(p.pk, []))]
    return sorted(movable, key=lambda m: (m.post.scheduled_at, m.post.pk))


@transaction.atomic
def queue_reorder(
    *, channel: Channel, ordered_post_ids: Sequence[UUID | str], access: WorkspaceAccess, user: User | None
) -> list[Post]:
    """Put the channel's queued posts in this order: they keep the same set of times, the first post taking the
    earliest. Posts that went out or are going out are not movable and may not be named. A post for several
    accounts moves on all of them. Returns the posts whose time changed."""
    access.require(Capability.POSTS_PUBLISH)
    if channel.workspace_id != access.workspace.pk:
        raise PermissionDenied("This channel belongs to another workspace.")
    movable = _locked_posts(channel)
    by_id = {str(m.post.public_id): m for m in movable}
    wanted = [str(i) for i in ordered_post_ids]
    fixed = {str(row.post.public_id): row for row in queued_posts(channel) if not row.movable}
    named = [fixed[i] for i in wanted if i in fixed]
    if named:
        raise QueueRefused(_fixed_reason(named[0]))
    if len(set(wanted)) != len(wanted) or set(wanted) != set(by_id):
        raise QueueRefused(
            "The queue changed while you were arranging it. Here it is as it is now: move the posts again."
        )
    times = [m.post.scheduled_at for m in movable]
    moved = []
    for public_id, at in zip(wanted, times, strict=True):
        locked = by_id[public_id]
        if locked.post.scheduled_at != at:
            _move(locked, at, user)  # type: ignore[arg-type]
            moved.append(locked.post)
    return moved


def _fixed_reason(row: QueuedPost) -> str:
    if row.stuck:
        return (
            f"“{row.post}” failed or was cancelled on another account, so it cannot be reordered. Retry it from "
            "the posts list, or take it out of the queue."
        )
    return f"“{row.post}” has gone out or is going out now, so it cannot be moved."


# --- pause and resume -----------------------------------------------------------------------------------------
@transaction.atomic
def queue_pause(*, channel: Channel, user: User | None, now: datetime | None = None) -> PostingQueue:
    """Hold the queue's posts: none goes out until the queue is resumed (a run already going finishes)."""
    queue = _locked_queue(channel)
    if queue.paused_at is None:
        queue.paused_at = now or timezone.now()
        queue.paused_by = user
        queue.save(update_fields=["paused_at", "paused_by"])
    return queue


@transaction.atomic
def queue_resume(*, channel: Channel, user: User | None, now: datetime | None = None) -> list[Post]:
    """Let the queue's posts go out again, moving those whose time went by during the pause to the next free slots
    (`queue_reslot_overdue`). Refused (`QueueRefused`, and the queue stays paused) when some are overdue and the
    queue has no posting times to give them. Returns the posts whose time changed."""
    queue = _locked_queue(channel)
    if queue.paused_at is None:
        return []
    queue.paused_at = None
    queue.paused_by = None
    queue.save(update_fields=["paused_at", "paused_by"])
    return queue_reslot_overdue(channel=channel, user=user, now=now)


@transaction.atomic
def queue_reslot_overdue(*, channel: Channel, user: User | None, now: datetime | None = None) -> list[Post]:
    """After a pause (of the queue, or of the whole workspace): when the time of at least one of the channel's
    queued posts went by, all its queued posts that can still move take the next free slots from now, in the
    order they had; so do those that failed or were cancelled on another account and still wait here (their
    scheduled deliveries move, the failed or cancelled ones stay as they are). The queue carries on where it
    stopped, one post per slot, instead of sending everything overdue at once. When none is overdue, every post
    keeps its time. A queue that is itself paused is left to its own resume. Refused (`QueueRefused`, nothing
    changed) when posts are overdue and the queue has no posting times. Returns the posts whose time changed."""
    queue = PostingQueue.objects.select_for_update().filter(channel=channel).first()
    if queue is not None and queue.paused_at is not None:
        return []
    now = now or timezone.now()
    waiting = _locked_posts(channel, stuck_too=True)
    if not any(m.post.scheduled_at <= now for m in waiting):
        return []
    if queue is None or not queue.slots.exists():
        raise QueueRefused(
            f"Add posting times to {channel.display_name}'s queue first, so the posts that waited get new times."
        )
    return _reslot(waiting, after=now, user=user)


def _reslot(waiting: list[_Locked], *, after: datetime, user: User | None) -> list[Post]:
    """Each post in turn takes the first slot free on its channels after the one before it took."""
    pending = {m.post.pk for m in waiting}
    cursor = after
    moved = []
    for locked in waiting:
        free = next_free_slots([d.channel for d in locked.deliveries], cursor, 1, exclude=pending)
        pending.discard(locked.post.pk)
        if not free:
            continue
        cursor = free[0]
        if locked.post.scheduled_at != cursor:
            _move(locked, cursor, user)
            moved.append(locked.post)
    return moved

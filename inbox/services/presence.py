"""Who has a thread open, or is writing a reply in it, right now.

An open thread sends a heartbeat every 10 s (`presence_beat`) and says when it closes (`presence_leave`). Someone
counts as there for 30 s after their last heartbeat; rows nobody refreshed for minutes are deleted by the next
heartbeat in the workspace (`presence_prune`), so the table stays about as small as the team."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..models import Comment, Presence

if TYPE_CHECKING:
    import uuid

    from accounts.models import User, Workspace

PRESENCE_FRESH = timedelta(seconds=30)  # heartbeats come every 10 s: three missed and the person has left
PRESENCE_KEEP = timedelta(minutes=10)  # older rows are deleted when someone next sends a heartbeat


def presence_beat(*, thread: Comment, user: User, activity: str) -> None:
    """Record that `user` has the thread open now, viewing it or replying in it (anything else counts as viewing),
    and forget the heartbeats of the workspace nobody sent for minutes."""
    if activity != Presence.Activity.REPLYING:
        activity = Presence.Activity.VIEWING
    now = timezone.now()
    values = {"activity": activity, "seen_at": now}
    if not Presence.objects.filter(thread=thread, user=user).update(**values):
        try:
            with transaction.atomic():
                Presence.objects.create(workspace_id=thread.workspace_id, thread=thread, user=user, **values)
        except IntegrityError:  # the same person's other tab got there first
            Presence.objects.filter(thread=thread, user=user).update(**values)
    presence_prune(workspace_id=thread.workspace_id, now=now)


def presence_leave(*, thread: Comment, user: User) -> None:
    """The person closed the thread: they are not shown there any more, at once."""
    Presence.objects.filter(thread=thread, user=user).delete()


def presence_prune(*, workspace_id: int, now: datetime | None = None) -> int:
    """Delete the workspace's heartbeats older than PRESENCE_KEEP; returns how many."""
    cutoff = (now or timezone.now()) - PRESENCE_KEEP
    deleted, _ = Presence.objects.filter(workspace_id=workspace_id, seen_at__lt=cutoff).delete()
    return deleted


def _fresh(workspace: Workspace, user: User) -> QuerySet[Presence]:
    return (
        Presence.objects.filter(workspace=workspace, seen_at__gte=timezone.now() - PRESENCE_FRESH)
        .exclude(user=user)
        .select_related("user")
        .order_by("activity", "seen_at")  # "replying" before "viewing"
    )


def presence_for(*, workspace: Workspace, thread_ids: list[int], user: User) -> dict[int, list[Presence]]:
    """Who else (not `user`) has each of these threads open, seen in the last 30 seconds."""
    found: dict[int, list[Presence]] = defaultdict(list)
    for row in _fresh(workspace, user).filter(thread_id__in=thread_ids):
        found[row.thread_id].append(row)
    return dict(found)


def presence_map(*, workspace: Workspace, user: User) -> dict[uuid.UUID, list[Presence]]:
    """Every thread of the workspace someone else has open now, by the thread's public id."""
    found: dict[uuid.UUID, list[Presence]] = defaultdict(list)
    for row in (
        _fresh(workspace, user)
        .select_related("thread")
        .only("activity", "seen_at", "thread__public_id", "user__full_name", "user__email")[:200]
    ):
        found[row.thread.public_id].append(row)
    return dict(found)  # a plain dict: templates look keys up before attributes

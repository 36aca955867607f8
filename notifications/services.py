"""Telling people: one call, `notify`, used by every app; in-app rows for the bell, and email digests sent by a
worker, at most one per person per NOTIFICATION_DIGEST_SECONDS (what arrives meanwhile waits for the next).

The first digest of a burst waits a moment (`GATHER_SECONDS`), so a post failing on three channels at once is one
email, not one now and two later. Queueing a digest may fail (the broker is down): the notification is saved all
the same and the beat's sweep (`digests_due`) queues the digest once the broker is back."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.access import people_with
from accounts.roles import Capability

from .models import DEFAULTS, Kind, Notification, Preference

if TYPE_CHECKING:
    from accounts.models import User, Workspace

logger = logging.getLogger(__name__)
DIGEST_TASK = "notifications.send_digest"
# How long the first digest of a burst waits for the rest of it (never longer than the digest interval).
GATHER_SECONDS = 60


def preferences_for(user: User) -> dict[str, tuple[bool, bool]]:
    """(in-app, email) per kind for one person: their choices over the defaults."""
    chosen = {p.kind: (p.in_app, p.email) for p in Preference.objects.filter(user=user)}
    return {kind: chosen.get(kind, DEFAULTS[kind]) for kind in Kind.values}


def preferences_save(*, user: User, choices: dict[str, tuple[bool, bool]]) -> None:
    with transaction.atomic():
        for kind, (in_app, email) in choices.items():
            Preference.objects.update_or_create(user=user, kind=Kind(kind), defaults={"in_app": in_app, "email": email})


def notify(
    *,
    kind: Kind | str,
    users: Iterable[User],
    title: str,
    body: str = "",
    url: str = "",
    workspace: Workspace | None = None,
    key: str = "",
    exclude: User | None = None,
) -> list[Notification]:
    """Tell each of `users` (but `exclude`, the person who did it) what happened, as their preferences ask. The
    same `key` tells a person once, however often the event repeats. Emails go out in a digest, after commit.

    About a workspace, only people who may still open it are told: an author or whoever connected a channel who
    has since left the agency or the workspace hears nothing more of its posts, comments or accounts."""
    kind = Kind(kind)
    people = {u.pk: u for u in users if u is not None and u.is_active and (exclude is None or u.pk != exclude.pk)}
    if people and workspace is not None:
        members = {u.pk for u in people_with(workspace, Capability.VIEW)}
        people = {pk: u for pk, u in people.items() if pk in members}
    if not people:
        return []
    chosen = {p.user_id: (p.in_app, p.email) for p in Preference.objects.filter(user_id__in=list(people), kind=kind)}
    told: set[int] = set()
    if key:
        told = set(Notification.objects.filter(user_id__in=list(people), key=key).values_list("user_id", flat=True))
    made, emailed = [], []
    for pk in people:
        in_app, email = chosen.get(pk, DEFAULTS[kind])
        if pk in told or not (in_app or email):
            continue
        row = Notification(
            user_id=pk,
            workspace=workspace,
            kind=kind,
            title=title[:200],
            body=body,
            url=url[:500],
            key=key[:200],
            in_app=in_app,
            email=Notification.Email.PENDING if email else Notification.Email.NONE,
        )
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # told already by a run at the same moment
            continue
        made.append(row)
        if email:
            emailed.append(pk)
    if emailed:
        transaction.on_commit(functools.partial(_queue_digests, emailed, _gather_seconds()))
    return made


def _gather_seconds() -> float:
    return min(GATHER_SECONDS, settings.NOTIFICATION_DIGEST_SECONDS)


def _queue_digests(user_ids: list[int], countdown: float = 0) -> int:
    """Hand each person's digest to the broker. A broker that is down refuses them all alike, so the first refusal
    stops the round: the notifications stay pending and the beat's sweep (`digests_due`) queues them later."""
    queued = 0
    for user_id in user_ids:
        try:
            current_app.send_task(DIGEST_TASK, args=[user_id], countdown=countdown or None)
        except Exception:
            logger.warning(
                "could not queue the notification digest of %d person(s); the next sweep sends it",
                len(user_ids) - queued,
                exc_info=True,
            )
            break
        queued += 1
    return queued


def _window() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_DIGEST_SECONDS)


def digest_send(*, user_id: int, now: datetime | None = None) -> int:
    """Email a person what waits for them, in one message, unless one went out less than the digest interval ago
    (then come back when it ends). What they have read in the app or turned email off for since, or anything for
    someone who can no longer sign in or has no address, is not emailed. Returns how many the email carried.

    Safe to run twice at once: the waiting rows are locked and marked sent in the transaction that sends them."""
    now = now or timezone.now()
    window = _window()
    with transaction.atomic():
        pending = list(
            # `of`: the workspace may be null (an outer join), and only the notifications themselves need locking.
            Notification.objects.select_for_update(of=("self",))
            .filter(user_id=user_id, email=Notification.Email.PENDING)
            .select_related("user", "workspace")
            .order_by("created_at", "id")
        )
        if not pending:
            return 0
        user = pending[0].user
        wanted = preferences_for(user) if user.is_active and user.email else {}
        # What they read in the app meanwhile is left out too: the email is for what they have not seen.
        unwanted = [n.pk for n in pending if n.read_at is not None or not wanted.get(n.kind, (False, False))[1]]
        if unwanted:
            Notification.objects.filter(pk__in=unwanted).update(email=Notification.Email.NONE)
            pending = [n for n in pending if n.pk not in unwanted]
            if not pending:
                return 0
        last = Notification.objects.filter(user_id=user_id).aggregate(last=Max("emailed_at"))["last"]
        if last is not None and now - last < window:
            wait = (last + window - now).total_seconds()
            transaction.on_commit(functools.partial(_queue_digests, [user_id], wait + 1))
            return 0
        # Marked first, in the same transaction: a mail server that refuses the message rolls the mark back, and
        # the sweep tries again.
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            email=Notification.Email.SENT, emailed_at=now
        )
        context = {
            "user": user,
            "notifications": pending,
            "base_url": settings.PUBLIC_BASE_URL,
            "preferences_url": settings.PUBLIC_BASE_URL + reverse("notifications:notification_preferences"),
            "interval_minutes": max(1, round(window.total_seconds() / 60)) if window else 0,
        }
        more = len(pending) - 1
        subject = f"{pending[0].title} and {more} more" if more else pending[0].title
        send_mail(
            subject=f"[SocialHub] {' '.join(subject.split())}",  # one line: a header cannot carry a line break
            message=render_to_string("notifications/email/digest.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    return len(pending)


def digests_due(*, now: datetime | None = None) -> int:
    """Beat: queue the digest of everyone with email waiting whose interval has passed (catches what a lost queue
    message or a broker that was down left behind). Returns how many digests were queued."""
    now = now or timezone.now()
    waiting = set(
        Notification.objects.filter(email=Notification.Email.PENDING).values_list("user_id", flat=True).distinct()
    )
    if not waiting:
        return 0
    recent = set(
        Notification.objects.filter(user_id__in=waiting, emailed_at__gt=now - _window())
        .values_list("user_id", flat=True)
        .distinct()
    )
    return _queue_digests(sorted(waiting - recent))


def notifications_for(user: User, *, unread: bool = False) -> QuerySet[Notification]:
    """What a person sees in the app, newest first (email-only ones are not shown)."""
    rows = Notification.objects.filter(user=user, in_app=True).select_related("workspace")
    return rows.filter(read_at__isnull=True) if unread else rows


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).count()


def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())

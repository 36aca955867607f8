"""Telling people: one call, `notify`, used by every app; in-app rows for the bell, and email digests sent by a
worker, at most one per person per NOTIFICATION_DIGEST_SECONDS (what arrives meanwhile waits for the next)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from .models import DEFAULTS, Kind, Notification, Preference

if TYPE_CHECKING:
    from accounts.models import User, Workspace

logger = logging.getLogger(__name__)
DIGEST_TASK = "notifications.send_digest"


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
    same `key` tells a person once, however often the event repeats. Emails go out in a digest, after commit."""
    kind = Kind(kind)
    people = {u.pk: u for u in users if u is not None and (exclude is None or u.pk != exclude.pk)}
    if not people:
        return []
    chosen = {(p.user_id): (p.in_app, p.email) for p in Preference.objects.filter(user_id__in=list(people), kind=kind)}
    made = []
    for pk in people:
        in_app, email = chosen.get(pk, DEFAULTS[kind])
        if not (in_app or email):
            continue
        if key and Notification.objects.filter(user_id=pk, key=key).exists():
            continue
        row = Notification(
            user_id=pk,
            workspace=workspace,
            kind=kind,
            title=title[:200],
            body=body,
            url=url,
            key=key,
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
            transaction.on_commit(functools.partial(_queue_digest, pk))
    return made


def _queue_digest(user_id: int, countdown: float = 0) -> None:
    try:
        current_app.send_task(DIGEST_TASK, args=[user_id], countdown=countdown or None)
    except Exception:  # the beat's sweep (`digests_due`) sends it later
        logger.warning("could not queue the notification digest of user %s", user_id, exc_info=True)


def digest_send(*, user_id: int) -> int:
    """Email a person what waits for them, in one message, unless one went out less than the digest interval ago
    (then come back when it ends). Returns how many notifications the email carried."""
    window = timedelta(seconds=settings.NOTIFICATION_DIGEST_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update()
            .filter(user_id=user_id, email=Notification.Email.PENDING)
            .select_related("user", "workspace")
            .order_by("created_at", "id")
        )
        if not pending:
            return 0
        last = Notification.objects.filter(user_id=user_id).aggregate(last=Max("emailed_at"))["last"]
        if last is not None and now - last < window:
            wait = (last + window - now).total_seconds()
            transaction.on_commit(functools.partial(_queue_digest, user_id, wait + 1))
            return 0
        user = pending[0].user
        context = {"user": user, "notifications": pending, "base_url": settings.PUBLIC_BASE_URL}
        subject = pending[0].title if len(pending) == 1 else f"{len(pending)} updates from SocialHub"
        send_mail(
            subject=f"[SocialHub] {subject}",
            message=render_to_string("notifications/email/digest.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            email=Notification.Email.SENT, emailed_at=now
        )
    return len(pending)


def digests_due() -> int:
    """Beat: queue the digest of everyone with email waiting (catches what a lost queue message left)."""
    users = list(
        Notification.objects.filter(email=Notification.Email.PENDING).values_list("user_id", flat=True).distinct()
    )
    for user_id in users:
        _queue_digest(user_id)
    return len(users)


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).count()


def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())

"""The crisis pause: stop everything a workspace would publish, at once, until someone resumes it.

While `Workspace.paused_at` is set the publishing dispatcher leaves the workspace's deliveries alone (scheduled
posts, first comments, queues) and a run that starts anyway goes back to wait with the reason
(`publishing.services.pipeline.held` and `hold_reason`). On resume, what waited is due and the next dispatcher tick
(every minute) sends it, except queued posts whose time went by: each queue carries on from its next free slot, as
when a paused queue is resumed (`publishing.services.queues.queue_reslot_overdue`), so a queue does not go out in
a burst. A queue paused on its own stays paused.

Both writes are conditional UPDATEs on the state they expect, so two people clicking at the same moment do not
overwrite each other: the second pause keeps who paused first and why, the second resume finds nothing to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from ..access import get_workspace_for_user
from ..crypto import encrypted_field_names
from ..models import Channel, ChannelStatus, Workspace
from ..roles import Capability

if TYPE_CHECKING:
    from ..models import User

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = Workspace._meta.get_field("pause_reason").max_length or 300


def _require_publish(workspace: Workspace, user: User) -> None:
    try:
        access = get_workspace_for_user(user, workspace.public_id)
    except Http404:
        raise PermissionDenied("You are not a member of this workspace.") from None
    if not access.can(Capability.POSTS_PUBLISH):
        raise PermissionDenied("Only people who may publish can pause or resume publishing.")


def workspace_pause(*, workspace: Workspace, user: User, reason: str) -> bool:
    """Pause all publishing of the workspace. True when this call paused it; False when it was paused already
    (the workspace is re-read, so the caller can say by whom)."""
    _require_publish(workspace, user)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Say in a few words why publishing is paused, so your team knows."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX_LENGTH} characters."})
    paused = bool(
        Workspace.objects.filter(pk=workspace.pk, paused_at__isnull=True).update(
            paused_at=timezone.now(), paused_by=user, pause_reason=reason
        )
    )
    workspace.refresh_from_db(fields=["paused_at", "paused_by", "pause_reason"])
    if paused:
        logger.info("workspace %s paused by user %s", workspace.pk, user.pk)
    return paused


@dataclass(frozen=True)
class Resumed:
    """What resuming did to the posts that waited."""

    going_out: int  # posts whose time passed: the next dispatcher tick sends them
    moved: int  # queued posts that took the next free times of their queues


def workspace_resume(*, workspace: Workspace, user: User, now: datetime | None = None) -> Resumed | None:
    """Resume publishing, and give the overdue posts of each channel's queue the queue's next free times. None
    when it was not paused (any more). The resume and the new times are one transaction: the dispatcher never
    sees the workspace resumed with a queue's overdue posts still due."""
    from publishing import overview  # publishing builds on accounts: asked at call time, not at import
    from publishing.services import queues

    _require_publish(workspace, user)
    now = now or timezone.now()
    with transaction.atomic():
        resumed = bool(
            Workspace.objects.filter(pk=workspace.pk, paused_at__isnull=False).update(
                paused_at=None, paused_by=None, pause_reason=""
            )
        )
        if not resumed:
            workspace.refresh_from_db(fields=["paused_at", "paused_by", "pause_reason"])
            return None
        moved: set[int] = set()
        channels = Channel.objects.filter(workspace=workspace).exclude(status=ChannelStatus.DISCONNECTED)
        for channel in channels.select_related("workspace").defer(*encrypted_field_names(Channel)).order_by("pk"):
            try:
                moved.update(p.pk for p in queues.queue_reslot_overdue(channel=channel, user=user, now=now))
            except queues.QueueRefused:
                # A queue without posting times has none to give: its overdue posts go out like the others.
                continue
        going_out = overview.overdue_count(workspace=workspace, now=now)
    workspace.refresh_from_db(fields=["paused_at", "paused_by", "pause_reason"])
    logger.info("workspace %s resumed by user %s", workspace.pk, user.pk)
    return Resumed(going_out=going_out, moved=len(moved))

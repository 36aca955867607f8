"""Notification tasks: thin."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name=services.DIGEST_TASK, ignore_result=True)
def send_digest(user_id: int) -> int:
    """Email one person what waits for them (or come back when their digest interval ends)."""
    return services.digest_send(user_id=user_id)


@shared_task(name="notifications.queue_due_digests", ignore_result=True)
def queue_due_digests() -> int:
    return services.digests_due()

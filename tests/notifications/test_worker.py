"""Digests through a real Celery worker: queued when the notifications commit, gathered into one email, and what
comes within the interval sent when it ends, by the task coming back with a countdown."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import Kind, Notification
from notifications.services import notify
from notifications.tasks import send_digest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.no_sandbox]


def wait_for_emails(count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(mail.outbox) == count, [m.subject for m in mail.outbox]


def test_the_worker_sends_one_digest_per_interval(celery_app, celery_worker, settings, alice):
    assert send_digest.name in celery_app.tasks  # registered with the test app before its worker started
    settings.NOTIFICATION_DIGEST_SECONDS = 2  # the first digest also waits this long for the rest of its burst
    with transaction.atomic():
        notify(kind=Kind.POST_FAILED, users=[alice], title="Failed on Harbor Yoga Studio")
        notify(kind=Kind.CHANNEL_RECONNECT, users=[alice], title="Reconnect @harboryoga")
        assert mail.outbox == []
    wait_for_emails(1)
    assert mail.outbox[0].subject == "[SocialHub] Failed on Harbor Yoga Studio and 1 more"
    assert mail.outbox[0].to == [alice.email]

    notify(kind=Kind.POST_FAILED, users=[alice], title="Failed on @harboryoga")
    wait_for_emails(2)
    assert mail.outbox[1].subject == "[SocialHub] Failed on @harboryoga"
    deadline = time.monotonic() + 10  # the worker commits its "sent" mark just after handing over the email
    while Notification.objects.filter(emailed_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    emailed = sorted(Notification.objects.values_list("emailed_at", flat=True))
    assert (emailed[-1] - emailed[0]).total_seconds() >= 2  # the second waited out the interval
    assert not Notification.objects.filter(email=Notification.Email.PENDING).exists()

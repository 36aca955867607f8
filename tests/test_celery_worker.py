"""A real Celery worker (celery.contrib.pytest) runs a task that writes to the database."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Invitation
from accounts.tasks import prune_expired_invitations


@pytest.mark.django_db(transaction=True)
def test_worker_prunes_expired_invitations(celery_app, celery_worker, agency, alice):
    now = timezone.now()
    for days, email in ((40, "old@example.com"), (-3, "fresh@example.com")):
        _token, token_hash = Invitation.new_token()
        Invitation.objects.create(
            agency=agency, email=email, token_hash=token_hash, invited_by=alice, expires_at=now - timedelta(days=days)
        )
    prune_expired_invitations.delay()
    deadline = time.monotonic() + 20
    while Invitation.objects.filter(email="old@example.com").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(Invitation.objects.values_list("email", flat=True)) == ["fresh@example.com"]

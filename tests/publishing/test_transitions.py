"""One module changes a delivery's state, each change conditional on the state it expects."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from publishing.models import Delivery, DeliveryAttempt, DeliveryState
from publishing.services import transitions
from tests.factories import DeliveryFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "publishing", "socialhub")


def state_writes(path: Path) -> list[str]:
    """Lines of `path` that write a `state`: `x.state = …`, `.update(state=…)`, `.create(state=…)`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "state" for t in targets):
                found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("update", "create", "get_or_create", "update_or_create", "bulk_update"):
                if any(k.arg == "state" for k in node.keywords):
                    found.append(f"{path.name}:{node.lineno}")
    return found


def test_only_the_transitions_module_writes_a_delivery_state():
    writes = [
        f"{path.relative_to(ROOT)} {line}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path.name != "transitions.py"
        for line in state_writes(path)
    ]
    assert writes == []


def test_the_check_above_sees_a_state_write(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text("Delivery.objects.filter(pk=1).update(state='failed')\nd.state = 'x'\n")
    assert sorted(state_writes(sample)) == ["views.py:1", "views.py:2"]


@pytest.mark.django_db
def test_a_run_cannot_end_a_delivery_another_run_took_over():
    delivery = DeliveryFactory(state=DeliveryState.SCHEDULED, next_attempt_at=timezone.now())
    first = transitions.claim(delivery.pk)
    assert first and transitions.claim(delivery.pk) is None  # claimed once
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    second = transitions.re_lease(delivery.pk)
    assert second and second != first
    assert not transitions.to_failed(delivery.pk, first, message="late")  # the swept run's word does not count
    assert transitions.to_failed(delivery.pk, second, message="refused")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.error_message, delivery.lease_token, delivery.lease_until) == (
        DeliveryState.FAILED,
        "refused",
        "",
        None,
    )


@pytest.mark.django_db
def test_leaving_a_wait_resets_it_and_records_the_attempt():
    delivery = DeliveryFactory(state=DeliveryState.SCHEDULED, next_attempt_at=timezone.now())
    token = transitions.claim(delivery.pk)
    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=1)
    assert transitions.to_processing(
        delivery, token, attempt=attempt, reason="processing", countdown=30, since=timezone.now(), subject="c1"
    )
    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=2)
    assert transitions.to_scheduled(
        delivery.pk, token, at=timezone.now(), reason="busy", attempt=attempt, count_error=True
    )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.processing_since, delivery.waiting_for, delivery.lease_token) == (
        DeliveryState.SCHEDULED,
        None,
        "",
        "",
    )
    assert delivery.error_count == 1
    attempt.refresh_from_db()
    assert attempt.outcome == DeliveryAttempt.Outcome.WAITING and attempt.finished_at


@pytest.mark.django_db
def test_a_published_delivery_needs_its_meta_id():
    delivery = DeliveryFactory(state=DeliveryState.SCHEDULED, next_attempt_at=timezone.now())
    token = transitions.claim(delivery.pk)
    assert not transitions.to_published(delivery.pk, token)
    Delivery.objects.filter(pk=delivery.pk).update(remote_id="1784_1")
    assert transitions.to_published(delivery.pk, token)

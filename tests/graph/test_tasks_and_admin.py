from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from socialhub.graph.admin import GraphCallAdmin
from socialhub.graph.models import GraphCall
from socialhub.graph.tasks import prune_graph_calls

pytestmark = [pytest.mark.no_sandbox, pytest.mark.django_db]


def make_call(age_days: float) -> GraphCall:
    call = GraphCall.objects.create(
        method="GET", host="graph.facebook.com", path="/v25.0/me", status=200, duration_ms=12, outcome="ok"
    )
    GraphCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    return call


def test_prune_deletes_only_old_calls_in_batches(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GRAPH_CALL_RETENTION_DAYS = 30
    old = [make_call(31) for _ in range(7)]
    recent = [make_call(29), make_call(0)]
    assert prune_graph_calls(batch_size=3) == 7
    assert set(GraphCall.objects.values_list("pk", flat=True)) == {c.pk for c in recent}
    assert not GraphCall.objects.filter(pk__in=[c.pk for c in old]).exists()
    assert prune_graph_calls() == 0


def test_prune_is_registered_under_the_beat_name() -> None:
    assert prune_graph_calls.name == "graph.prune_graph_calls"


def test_admin_is_read_only_and_only_superusers_delete() -> None:
    user_model = get_user_model()
    admin = GraphCallAdmin(GraphCall, site)
    request = RequestFactory().get("/admin/graph/graphcall/")
    request.user = user_model(is_staff=True, is_superuser=False, is_active=True)
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)
    request.user = user_model(is_staff=True, is_superuser=True, is_active=True)
    assert not admin.has_change_permission(request)
    assert admin.has_delete_permission(request)
    assert GraphCall in site._registry

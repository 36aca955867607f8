"""Operators see each channel's insights sync and what was stored, read-only, and never a token."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.models import Audience, DailyMetric, InsightSync, PostInsight
from tests.factories import ChannelFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]


def test_operators_see_the_sync_read_only_without_tokens(client, workspace):
    operator = UserFactory(email="op@socialhub.example", is_staff=True, is_superuser=True)
    channel = ChannelFactory(workspace=workspace)
    state = InsightSync.objects.create(channel=channel, workspace=workspace, last_error="Meta did not give x: no")
    DailyMetric.objects.create(workspace=workspace, channel=channel, metric="page_media_view", date="2026-11-01")
    PostInsight.objects.create(
        workspace=workspace, channel=channel, external_id="1_2", kind="PAGE_POST", published_at="2026-11-01T10:00Z"
    )
    Audience.objects.create(workspace=workspace, channel=channel, metric="follower_demographics", breakdown="age")
    client.force_login(operator)

    for model in ("insightsync", "dailymetric", "postinsight", "audience", "reportschedule", "agencybranding"):
        page = client.get(reverse(f"admin:analytics_{model}_changelist"))
        assert page.status_code == 200, model
        assert channel.access_token not in page.content.decode()
    detail = client.get(reverse("admin:analytics_insightsync_change", args=[state.pk]))
    assert detail.status_code == 200 and "Meta did not give x" in detail.content.decode()
    assert channel.access_token not in detail.content.decode()
    assert client.get(reverse("admin:analytics_dailymetric_add")).status_code == 403

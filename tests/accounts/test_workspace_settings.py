"""Workspace settings: the approval flow (three choices, each explained) saved by `workspace_update`."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from accounts.models import ApprovalFlow, Workspace
from accounts.services import workspace_update

pytestmark = pytest.mark.django_db


def checked(html: str) -> list[str]:
    """The value of the approval choice that is ticked (there must be exactly one)."""
    tags = re.findall(r'<input[^>]*name="approval_flow"[^>]*>', html, re.S)
    values = [re.search(r'value="([^"]+)"', t).group(1) for t in tags if re.search(r"\schecked\b", t)]
    assert len(values) == 1, values
    return values[0]


def settings_url(workspace: Workspace) -> str:
    return f"/w/{workspace.public_id}/settings/"


def test_the_three_flows_are_offered_each_with_a_line_of_explanation(client, alice, workspace):
    client.force_login(alice)
    html = client.get(settings_url(workspace)).content.decode()
    for value, label in ApprovalFlow.choices:
        assert f'id="approval-flow-{value}" value="{value}"' in html
        assert f'for="approval-flow-{value}">{escape(label)}</label>' in html
        assert f'id="approval-flow-{value}-help"' in html
    assert checked(html) == ApprovalFlow.INTERNAL  # the default
    assert "then the client approves every post" in html


def test_saving_a_flow(client, alice, workspace):
    client.force_login(alice)
    response = client.post(
        settings_url(workspace),
        {"name": "Acme Coffee", "timezone": "Europe/Rome", "approval_flow": ApprovalFlow.INTERNAL_CLIENT},
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.approval_flow == ApprovalFlow.INTERNAL_CLIENT
    html = client.get(settings_url(workspace)).content.decode()
    assert checked(html) == ApprovalFlow.INTERNAL_CLIENT


def test_an_unknown_flow_is_refused(client, alice, workspace):
    client.force_login(alice)
    response = client.post(
        settings_url(workspace), {"name": "Acme Coffee", "timezone": "Europe/Rome", "approval_flow": "whoever"}
    )
    assert response.status_code == 200
    workspace.refresh_from_db()
    assert workspace.approval_flow == ApprovalFlow.INTERNAL


def test_a_form_without_the_flow_leaves_it_as_it_is(client, alice, workspace):
    Workspace.objects.filter(pk=workspace.pk).update(approval_flow=ApprovalFlow.NONE)
    client.force_login(alice)
    client.post(settings_url(workspace), {"name": "Acme Roasters", "timezone": "Europe/Rome"})
    workspace.refresh_from_db()
    assert (workspace.name, workspace.approval_flow) == ("Acme Roasters", ApprovalFlow.NONE)


def test_only_managers_change_settings(client, bob, workspace):
    client.force_login(bob)
    response = client.post(
        settings_url(workspace), {"name": "Acme Coffee", "timezone": "Europe/Rome", "approval_flow": "none"}
    )
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.approval_flow == ApprovalFlow.INTERNAL


def test_the_service_keeps_the_flow_unless_given_one(workspace):
    workspace_update(workspace=workspace, name="Acme", timezone_name="Europe/Rome")
    assert Workspace.objects.get(pk=workspace.pk).approval_flow == ApprovalFlow.INTERNAL
    workspace_update(workspace=workspace, name="Acme", timezone_name="Europe/Rome", approval_flow=ApprovalFlow.NONE)
    assert Workspace.objects.get(pk=workspace.pk).approval_flow == ApprovalFlow.NONE
    with pytest.raises(ValidationError):
        workspace_update(workspace=workspace, name="Acme", timezone_name="Europe/Rome", approval_flow="maybe")
    assert Workspace.objects.get(pk=workspace.pk).approval_flow == ApprovalFlow.NONE

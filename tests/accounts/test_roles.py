"""Each role sees and may do exactly what accounts/roles.py and the README say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts.models import WorkspaceRole
from accounts.roles import Capability, capability_table
from tests.factories import AgencyMembershipFactory, UserFactory, WorkspaceMembershipFactory

pytestmark = pytest.mark.django_db

PAGES = {
    "dashboard": ("/w/{ws}/", Capability.VIEW),
    "team": ("/w/{ws}/team/", Capability.WORKSPACE_MANAGE),
    "settings": ("/w/{ws}/settings/", Capability.WORKSPACE_MANAGE),
}
EXPECTED = {
    "manager": {"dashboard": 200, "team": 200, "settings": 200},
    "editor": {"dashboard": 200, "team": 403, "settings": 403},
    "moderator": {"dashboard": 200, "team": 403, "settings": 403},
    "analyst": {"dashboard": 200, "team": 403, "settings": 403},
    "client": {"dashboard": 200, "team": 403, "settings": 403},
}


@pytest.mark.parametrize("role", WorkspaceRole.values)
def test_workspace_pages_per_role(client, agency, workspace, role):
    user = UserFactory()
    AgencyMembershipFactory(agency=agency, user=user, role="member")
    WorkspaceMembershipFactory(workspace=workspace, user=user, role=role)
    client.force_login(user)
    for page, (url, _cap) in PAGES.items():
        status = client.get(url.format(ws=workspace.public_id)).status_code
        assert status == EXPECTED[role][page], f"{role} on {page}: {status}"


@pytest.mark.parametrize("agency_role", ["owner", "admin"])
def test_agency_owners_and_admins_manage_every_workspace(client, agency, workspace, agency_role):
    user = UserFactory()
    AgencyMembershipFactory(agency=agency, user=user, role=agency_role)
    client.force_login(user)
    for url, _cap in PAGES.values():
        assert client.get(url.format(ws=workspace.public_id)).status_code == 200
    assert client.get(f"/agency/{agency.public_id}/team/").status_code == 200
    assert client.get(f"/agency/{agency.public_id}/workspaces/new/").status_code == 200


def test_agency_member_without_workspace_role_sees_nothing(client, agency, workspace):
    user = UserFactory()
    AgencyMembershipFactory(agency=agency, user=user, role="member")
    client.force_login(user)
    assert client.get(f"/w/{workspace.public_id}/").status_code == 404
    assert client.get(f"/agency/{agency.public_id}/team/").status_code == 403
    assert client.get(f"/agency/{agency.public_id}/workspaces/new/").status_code == 403


def test_editor_cannot_change_roles_by_posting(client, workspace, bob):
    from accounts.models import WorkspaceMembership

    membership = WorkspaceMembership.objects.get(user=bob)
    client.force_login(bob)
    response = client.post(f"/w/{workspace.public_id}/team/{membership.pk}/role/", {"role": "manager"})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == "editor"


def test_readme_role_table_matches_the_code():
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        m = re.match(r"^\| `([\w.]+)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [cell.strip() == "✓" for cell in m.group(2).split("|")]
    assert rows == dict(capability_table())

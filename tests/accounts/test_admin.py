from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_operator_sees_agencies_with_their_workspaces_and_people(client, agency, workspace, bob):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    for url in (
        "/admin/accounts/agency/",
        "/admin/accounts/workspace/",
        "/admin/accounts/agencymembership/",
        "/admin/accounts/workspacemembership/",
        "/admin/accounts/invitation/",
        "/admin/accounts/user/",
        "/admin/graph/graphcall/",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/accounts/agency/{agency.pk}/change/").content.decode()
    assert "Acme Coffee" in page and "bob@northwind.example" in page
    assert "Northwind" in client.get("/admin/accounts/agency/?q=bob@northwind").content.decode()


def test_non_staff_cannot_use_the_admin(client, alice):
    client.force_login(alice)
    response = client.get("/admin/")
    assert response.status_code in (302, 403)

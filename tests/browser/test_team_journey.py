"""A manager signs in, switches workspace, and changes a teammate's role without a page reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import WorkspaceMembership
from tests.factories import PASSWORD, WorkspaceFactory


@pytest.mark.django_db(transaction=True)
def test_sign_in_switch_workspace_and_change_a_role(live_server, page: Page, alice, agency, workspace, bob):
    second = WorkspaceFactory(agency=agency, name="Bistro Verde")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(workspace.name)

    page.locator("#workspace-switcher").click()
    page.get_by_role("link", name="Bistro Verde").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bistro Verde")
    assert f"/w/{second.public_id}/" in page.url

    page.goto(f"{live_server.url}/w/{workspace.public_id}/team/")
    url_before = page.url
    page.get_by_label("Role of Bob Editor").select_option("analyst")
    expect(page.get_by_text("Saved")).to_be_visible()
    assert page.url == url_before
    assert WorkspaceMembership.objects.get(user=bob).role == "analyst"

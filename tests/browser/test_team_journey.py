"""A manager signs in, switches workspace, changes a teammate's role without a page reload, and copies an
invitation link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Invitation, WorkspaceMembership
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


@pytest.mark.django_db(transaction=True)
def test_copy_an_invitation_link(live_server, page: Page, alice, agency, workspace):
    token, token_hash = Invitation.new_token()
    Invitation.objects.create(
        agency=agency,
        email="dana@northwind.example",
        token_hash=token_hash,
        invited_by=alice,
        expires_at=timezone.now() + timedelta(days=7),
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/agency/{agency.public_id}/team/")

    page.get_by_role("button", name="Copy invitation link").click()
    link = page.get_by_label("Invitation link for dana@northwind.example")
    expect(link).to_have_value(re.compile(r"/invitations/[\w-]+/$"))
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
    assert Invitation.find_by_token(token) is None  # the earlier link stopped working
    assert not [m for m in console if "Content Security Policy" in m], console

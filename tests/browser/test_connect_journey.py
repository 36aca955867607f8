"""A manager connects two Facebook Pages from the Channels page, through the sandbox's consent page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Channel
from tests.factories import PASSWORD

HARBOR_PAGE, COPPER_PAGE, BAKERY_PAGE = "183533740681241", "162585178128657", "136859574890682"


@pytest.mark.django_db(transaction=True)
def test_connect_two_pages_with_facebook(live_server, page: Page, alice, agency, workspace, sandbox_control):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="Channels").click()
    expect(page.get_by_text("No channels yet.")).to_be_visible()

    page.get_by_role("button", name="Connect with Facebook").click()
    # Meta's (the sandbox's) consent page: grant two of the three Pages, and no Instagram account.
    expect(page.locator("#consent")).to_be_visible()
    page.locator(f"#page-{BAKERY_PAGE}").uncheck()
    for checkbox in page.locator("input[name=instagram]").all():
        checkbox.uncheck()
    page.locator("#continue").click()

    expect(page.get_by_role("heading", name=f"Which accounts should {workspace.name} use?")).to_be_visible()
    expect(page.get_by_text("Harbor Yoga Studio")).to_be_visible()
    expect(page.get_by_text("Blue Door Bakery")).to_have_count(0)
    # Nothing is ticked until the manager ticks it.
    expect(page.locator("input[name=accounts]:checked")).to_have_count(0)
    page.locator(f"#pick-{HARBOR_PAGE}").check()
    page.locator(f"#pick-{COPPER_PAGE}").check()
    page.get_by_role("button", name="Connect selected").click()

    expect(page.get_by_text("Connected: Harbor Yoga Studio, Copper Kettle Cafe.")).to_be_visible()
    names = page.locator(".channel-name")
    expect(names).to_have_text(["Copper Kettle Cafe", "Harbor Yoga Studio"])
    expect(page.locator(".channel-status").first).to_have_text("Active")
    assert set(Channel.objects.values_list("external_id", flat=True)) == {HARBOR_PAGE, COPPER_PAGE}

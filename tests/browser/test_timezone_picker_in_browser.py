"""The time-zone picker in a real browser whose clock is set to a zone: onboarding and a new workspace take the
browser's zone, the settings offer it with a button, and a zone is found by typing a city; then a paused
workspace is resumed from its banner without a page reload."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from accounts.models import Workspace
from accounts.services.pause import workspace_pause
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def signed_in_page(new_context, live_server, user, *, zone: str):
    """A browser page whose time zone is `zone`, signed in as `user`."""
    context = new_context(timezone_id=zone)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context.new_page()


def test_onboarding_takes_the_browsers_zone(new_context, live_server):
    newcomer = UserFactory(full_name="Erin Newcomer")
    page = signed_in_page(new_context, live_server, newcomer, zone="Asia/Tokyo")
    page.goto(f"{live_server.url}/onboarding/")
    field = page.get_by_label("Time zone")
    expect(field).to_have_value("Asia/Tokyo")
    expect(page.get_by_text("Filled in with this computer's time zone.")).to_be_visible()
    expect(page.get_by_role("button", name="Use my time zone")).to_be_hidden()
    page.get_by_label("Your agency's name").fill("Sakura Social")
    page.get_by_label("Your first client").fill("Matcha Bar")
    page.get_by_role("button", name="Create my agency").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Matcha Bar")
    assert Workspace.objects.get(name="Matcha Bar").timezone == "Asia/Tokyo"


def test_a_new_workspace_takes_the_browsers_zone_and_a_city_can_be_typed(new_context, live_server, alice, agency):
    page = signed_in_page(new_context, live_server, alice, zone="America/New_York")
    page.goto(f"{live_server.url}/agency/{agency.public_id}/workspaces/new/")
    field = page.get_by_label("Time zone")
    expect(field).to_have_value("America/New_York")
    field.fill("lisbon")  # typed, not picked from the suggestions: matched to its zone on the server
    page.get_by_label("Client name").fill("Pastelaria Belém")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pastelaria Belém")
    assert Workspace.objects.get(name="Pastelaria Belém").timezone == "Europe/Lisbon"


def test_settings_offer_the_browsers_zone_with_a_button(new_context, live_server, alice, workspace):
    page = signed_in_page(new_context, live_server, alice, zone="America/New_York")
    page.goto(f"{live_server.url}/w/{workspace.public_id}/settings/")
    field = page.get_by_label("Time zone")
    expect(field).to_have_value("Europe/Rome")  # the saved zone is never changed by itself
    button = page.get_by_role("button", name="Use my time zone (America/New York)")
    button.click()
    expect(field).to_have_value("America/New_York")
    expect(button).to_be_hidden()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Workspace settings saved.")).to_be_visible()
    workspace.refresh_from_db()
    assert workspace.timezone == "America/New_York"


def test_a_browser_in_the_workspaces_zone_is_not_offered_it(new_context, live_server, alice, workspace):
    page = signed_in_page(new_context, live_server, alice, zone="Europe/Rome")
    page.goto(f"{live_server.url}/w/{workspace.public_id}/settings/")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Rome")
    expect(page.get_by_role("button", name="Use my time zone")).to_be_hidden()


def test_resuming_from_the_switch_clears_the_banner_without_a_reload(new_context, live_server, alice, workspace):
    workspace_pause(workspace=workspace, user=alice, reason="Storm warning")
    page = signed_in_page(new_context, live_server, alice, zone="Europe/Rome")
    page.goto(f"{live_server.url}/w/{workspace.public_id}/settings/")
    banner = page.locator("#pause-banner")
    expect(banner).to_contain_text("Publishing is paused for Acme Coffee.")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Resume publishing", exact=True).click()
    expect(page.get_by_text("Posts whose time has passed go out within a minute.")).to_be_visible()
    expect(banner).to_be_empty()
    assert page.evaluate("window.notReloaded") is True
    page.get_by_label("Why are you pausing?").fill("Back to the storm")
    page.get_by_role("button", name="Pause all publishing").click()
    expect(banner).to_contain_text("Back to the storm")
    workspace.refresh_from_db()
    assert workspace.paused and workspace.pause_reason == "Back to the storm"

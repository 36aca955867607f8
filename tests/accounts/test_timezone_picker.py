"""The time-zone picker on onboarding, workspace creation and workspace settings: a searchable field listing every
zone, set up for static/js/timezone.js to propose the browser's zone, and the server's checks behind it."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from accounts.forms import TimezoneField
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def picker(html: str) -> dict[str, str]:
    """The time-zone input's attributes."""
    tag = re.search(r'<input type="text" name="timezone"[^>]*>', html, re.S)
    assert tag, "no time-zone input on the page"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(0)))


def zones_listed(html: str, list_id: str) -> set[str]:
    block = re.search(rf'<datalist id="{list_id}">(.*?)</datalist>', html, re.S)
    assert block, "no list of zones"
    return set(re.findall(r'<option value="([^"]+)"', block.group(1)))


@pytest.fixture
def newcomer(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_onboarding_lists_every_zone_and_proposes_the_browsers(client, newcomer):
    html = client.get("/onboarding/").content.decode()
    field = picker(html)
    assert field["data-tz-picker"] == "prefill" and field["data-tz-default"] == "UTC" and field["value"] == "UTC"
    zones = zones_listed(html, field["list"])
    assert {"Europe/Rome", "America/New_York", "Asia/Kolkata", "UTC"} <= zones
    assert zones == {n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC"}
    assert '<option value="America/New_York" label="America/New York">' in html  # found by typing "new york"
    assert '<script src="/static/js/timezone.js" defer></script>' in html
    assert "Start typing a city" in html


def test_workspace_creation_proposes_the_browsers_zone(client, alice, agency):
    client.force_login(alice)
    html = client.get(f"/agency/{agency.public_id}/workspaces/new/").content.decode()
    assert picker(html)["data-tz-picker"] == "prefill"
    assert "js/timezone.js" in html


def test_settings_offer_the_browsers_zone_without_changing_the_saved_one(client, alice, workspace):
    client.force_login(alice)
    html = client.get(f"/w/{workspace.public_id}/settings/").content.decode()
    field = picker(html)
    assert field["data-tz-picker"] == "offer" and field["value"] == "Europe/Rome"
    assert "data-tz-use hidden>Use my time zone</button>" in html
    assert "js/timezone.js" in html


def test_a_form_sent_back_with_an_error_keeps_what_was_typed(client, newcomer):
    response = client.post("/onboarding/", {"agency_name": "", "workspace_name": "Fresh Juice", "timezone": "UTC"})
    field = picker(response.content.decode())
    assert field["value"] == "UTC" and field["data-tz-picker"] == "offer"  # never overwritten after a send


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("Europe/Rome", "Europe/Rome"),
        ("europe/rome", "Europe/Rome"),
        ("  Rome ", "Europe/Rome"),
        ("new york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("utc", "UTC"),
    ],
)
def test_what_people_type_is_matched_to_the_zone(client, alice, agency, typed, saved):
    client.force_login(alice)
    response = client.post(f"/agency/{agency.public_id}/workspaces/new/", {"name": "Beta", "timezone": typed})
    assert response.status_code == 302
    assert agency.workspaces.get(name="Beta").timezone == saved


def test_an_unknown_zone_says_what_to_do(client, alice, workspace):
    client.force_login(alice)
    response = client.post(
        f"/w/{workspace.public_id}/settings/",
        {"name": "Acme Coffee", "timezone": "Mars/Olympus", "approval_flow": "internal"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "“Mars/Olympus” is not a time zone we know. Type a city, such as Rome or New York" in html
    assert 'aria-describedby="id_timezone-help id_timezone-error"' in html
    workspace.refresh_from_db()
    assert workspace.timezone == "Europe/Rome"


def test_a_city_in_two_zones_is_not_guessed():
    # America/Buenos_Aires and America/Argentina/Buenos_Aires: the full name is needed
    with pytest.raises(ValidationError, match="not a time zone we know"):
        TimezoneField().clean("Buenos Aires")
    assert TimezoneField().clean("america/argentina/buenos aires") == "America/Argentina/Buenos_Aires"


def test_an_empty_zone_is_refused_in_plain_words():
    with pytest.raises(ValidationError, match="Choose the time zone"):
        TimezoneField().clean("")

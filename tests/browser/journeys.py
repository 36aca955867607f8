"""Steps the browser journeys share."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def sign_in(page: Page, live_server, user) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form, as a person does, and wait for the page it lands on."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

"""A manager drags a post on the calendar, in a real browser, from the Saturday before Europe's spring clock change
to the Sunday the clocks go forward, keeping its 10:00 on Rome's clock; the dispatcher leaves it alone at the old
moment and hands it over at the new one, and it is published on the sandbox's Facebook Page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing.models import DeliveryState
from publishing.services import pipeline
from publishing.services.posts import post_create, post_submit
from tests.browser.journeys import sign_in

# The publishing tests' fixtures, used here by name (so ruff's F811 does not apply to their parameters).
# ruff: noqa: F811
from tests.publishing.conftest import _fast_pipeline, channels, run_to_end  # noqa: F401
from tests.publishing.test_schedule_dst import next_last_sunday

pytestmark = [pytest.mark.django_db(transaction=True)]
ROME = ZoneInfo("Europe/Rome")


def drag(page: Page, source: str, target: str) -> None:
    """Press on `source`, move in steps as a hand would, and let go inside `target`."""
    page.locator(target).scroll_into_view_if_needed()
    start, end = page.locator(source).bounding_box(), page.locator(target).bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + 6
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y + 8, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=20)
    page.mouse.up()


def test_a_post_dragged_onto_the_sunday_the_clocks_change_goes_out_at_ten_rome_time(
    live_server, page: Page, channels, workspace, alice, sandbox_control
):
    assert workspace.timezone == "Europe/Rome"
    sunday = next_last_sunday(3)
    saturday = sunday - timedelta(days=1)
    old = datetime.combine(saturday, time(10), tzinfo=ROME).astimezone(UTC)
    new = datetime.combine(sunday, time(10), tzinfo=ROME).astimezone(UTC)
    assert (old.hour, new.hour) == (9, 8)  # 10:00 in Rome is 09:00 UTC in winter, 08:00 UTC in summer

    post = post_create(
        workspace=workspace, author=alice, channels=[channels["page"]], caption="Longer evenings, longer hours"
    )
    post.scheduled_at = old
    post.save(update_fields=["scheduled_at"])
    post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
    delivery = post.deliveries.get()
    assert (delivery.state, delivery.due_at) == (DeliveryState.SCHEDULED, old)

    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/w/{workspace.public_id}/")
    page.locator("#main-nav").get_by_role("link", name="Calendar", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calendar")
    page.goto(f"{live_server.url}/w/{workspace.public_id}/calendar/?view=month&date={saturday.isoformat()}")
    card = f"#cal-post-{post.public_id}"
    expect(page.locator(f'.cal-drop[data-day="{saturday.isoformat()}"] {card}')).to_contain_text("10:00")
    expect(page.locator(f'.cal-day:has(.cal-drop[data-day="{sunday.isoformat()}"]) .cal-note')).to_have_text(
        "Clocks go forward an hour"
    )

    drag(page, card, f'.cal-drop[data-day="{sunday.isoformat()}"]')
    expect(page.locator(".cal-notice")).to_have_text(f"Moved to Sunday {sunday.day} March at 10:00 (Europe/Rome).")
    moved = page.locator(f'.cal-drop[data-day="{sunday.isoformat()}"] {card}')
    expect(moved).to_contain_text("10:00")
    expect(page.locator(f'.cal-drop[data-day="{saturday.isoformat()}"] {card}')).to_have_count(0)
    assert f"date={saturday.isoformat()}" in page.url  # the URL still names the calendar's state

    post.refresh_from_db()
    delivery.refresh_from_db()
    assert post.scheduled_at == new and post.scheduled_local == f"{sunday.isoformat()}T10:00:00"
    assert (delivery.due_at, delivery.next_attempt_at) == (new, new)
    assert post.versions.first().changed == ["time"]

    # The old moment passes: nothing goes. Then Sunday, 10:00 in Rome, comes: it goes.
    assert pipeline.dispatch_due(now=old) == 0
    assert pipeline.dispatch_due(now=new - timedelta(seconds=1)) == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED
    assert pipeline.dispatch_due(now=new) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHING

    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert delivery.due_at.astimezone(ROME) == datetime.combine(sunday, time(10), tzinfo=ROME)
    assert delivery.due_at.astimezone(ROME).utcoffset() == timedelta(hours=2)
    published = channel_client(channels["page"]).get(delivery.remote_id, fields="message")
    assert published["message"] == "Longer evenings, longer hours"

    page.reload()
    expect(page.locator(f'.cal-drop[data-day="{sunday.isoformat()}"] {card} .cal-badge')).to_have_text("Published")
    expect(page.locator(f"{card}.cal-movable")).to_have_count(0)  # gone out: it no longer moves


def test_filters_periods_and_a_refused_drop_in_the_browser(live_server, page: Page, workspace, alice):
    from tests.factories import ChannelFactory, DeliveryFactory, PostFactory

    sunday = next_last_sunday(3)
    saturday = sunday - timedelta(days=1)
    facebook = ChannelFactory(workspace=workspace, connected_by=alice)
    instagram = ChannelFactory(workspace=workspace, connected_by=alice, instagram=True)
    posts = {}
    for name, channel, day, hour in (("fb", facebook, sunday, 10), ("ig", instagram, saturday, 11)):
        at = datetime.combine(day, time(hour), tzinfo=ROME).astimezone(UTC)
        posts[name] = PostFactory(workspace=workspace, author=alice, scheduled_at=at, caption=f"Espresso {name}")
        DeliveryFactory(post=posts[name], channel=channel, state=DeliveryState.SCHEDULED, due_at=at, next_attempt_at=at)
    fb, ig = (f"#cal-post-{posts[n].public_id}" for n in ("fb", "ig"))

    page.set_viewport_size({"width": 1400, "height": 1600})  # the week's 02:00 and 11:00 rows both in sight
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/w/{workspace.public_id}/calendar/?date={saturday.isoformat()}")
    expect(page.locator(fb)).to_have_count(1)
    page.get_by_label("Account").select_option(label=f"{instagram.display_name} (Instagram)")
    expect(page.locator(fb)).to_have_count(0)  # swapped in place, no reload
    expect(page.locator(ig)).to_have_count(1)
    expect(page).to_have_url(re.compile(f"channel={instagram.public_id}"))

    page.get_by_role("link", name="Week").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{sunday.day - 6} – {sunday.day} March")
    expect(page).to_have_url(re.compile(r"view=week"))
    expect(page).to_have_url(re.compile(f"channel={instagram.public_id}"))  # the filter stays
    expect(page.get_by_label("Account")).to_have_value(str(instagram.public_id))

    # Onto 02:00 of the Sunday the clocks skip it: refused with the reason, and the post goes back to its place.
    drag(page, ig, f'.cal-drop[data-day="{sunday.isoformat()}"][data-hour="2"]')
    expect(page.locator(".cal-notice")).to_contain_text(f"Not moved: There is no 02:00 on Sunday {sunday.day} March")
    expect(page.locator(f'.cal-drop[data-day="{saturday.isoformat()}"][data-hour="11"] {ig}')).to_have_count(1)
    posts["ig"].refresh_from_db()
    assert posts["ig"].scheduled_at.astimezone(ROME).hour == 11

    page.get_by_role("link", name="Next", exact=False).click()
    expect(page).to_have_url(re.compile(f"date={(sunday + timedelta(days=1)).isoformat()}"))
    expect(page.locator(ig)).to_have_count(0)

    # The posts list: search as you type, the URL keeps it.
    page.goto(f"{live_server.url}/w/{workspace.public_id}/posts/")
    page.get_by_label("Search the text").fill("espresso ig")
    expect(page.locator(".post-card")).to_have_count(1)
    expect(page.locator(f"#post-{posts['ig'].public_id}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=espresso(%20|\+)ig"))

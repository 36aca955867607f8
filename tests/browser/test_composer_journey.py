"""A marketer composes in a real browser against the sandbox and a real Celery worker: a carousel ordered by
dragging with a person and a product tagged by clicking on the photo, scheduled in the workspace's time zone,
edited and published in the new order; a Facebook link post with a button and its own text per account,
whose status turns to published without a reload; a story caption flagged before submitting; a draft that
survives a reload."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.services.channels import channel_client
from publishing.models import Delivery, DeliveryState, Post
from publishing.tasks import dispatch_due_deliveries
from tests.browser.journeys import sign_in
from tests.factories import ChannelFactory

# The publishing tests' fixtures, used here by name (so ruff's F811 does not apply to their parameters).
# ruff: noqa: F811
from tests.publishing.conftest import (  # noqa: F401
    _fast_pipeline,
    channels,
    public_media,
    samples,
    upload,
    wait_for_state,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


def click_at(page: Page, selector: str, fx: float, fy: float) -> None:
    box = page.locator(selector).bounding_box()
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def drag(page: Page, source: str, target: str) -> None:
    """Press on `source`, move in steps as a hand would, and let go over the top of `target`."""
    page.locator(target).scroll_into_view_if_needed()
    start, end = page.locator(source).bounding_box(), page.locator(target).bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 8, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 4, steps=20)
    page.mouse.up()


def order(page: Page) -> list[str]:
    return page.locator("#selected-media .media-row").evaluate_all("rows => rows.map(r => r.dataset.name)")


def test_carousel_dragged_tagged_scheduled_edited_and_published_in_the_new_order(
    live_server,
    page: Page,
    celery_app,
    celery_worker,
    public_media,
    channels,
    upload,
    samples,
    workspace,
    alice,
    sandbox_control,
):
    names = ["first.jpg", "second.jpg", "third.jpg"]
    for name in names:
        upload(samples.jpeg(1080, 1080, name))
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/w/{workspace.public_id}/posts/new/")
    page.locator(f"#ch-{channels['ig'].pk}").check()
    page.get_by_label("Caption", exact=True).fill("Three loaves")
    page.get_by_role("button", name="Add from the media library").click()
    for name in names:
        page.get_by_role("button", name=f"Add {name}").click()
        expect(page.locator(f'#selected-media .media-row[data-name="{name}"]')).to_have_count(1)
    assert order(page) == names

    # Drag the third photo to the top.
    drag(page, '.media-row[data-name="third.jpg"] .drag-handle', '.media-row[data-name="first.jpg"]')
    expect(page.locator("#selected-media .media-row").first).to_have_attribute("data-name", "third.jpg")
    assert order(page) == ["third.jpg", "first.jpg", "second.jpg"]

    # Tag a person and a product on it by clicking where they are.
    page.get_by_role("button", name="Tag people or products on third.jpg").click()
    expect(page.locator("#tag-image")).to_be_visible()
    page.wait_for_function("document.getElementById('tag-image').naturalWidth > 0")
    click_at(page, "#tag-image", 0.25, 0.5)
    page.get_by_label("Person (Instagram username)").fill("maria.k")
    page.get_by_role("button", name="Tag person").click()
    click_at(page, "#tag-image", 0.75, 0.2)
    page.get_by_label("Product from your catalog").fill("Mug")
    page.get_by_role("button", name="Search").click()
    page.locator(".js-pick-product", has_text="Ceramic Mug").click()
    expect(page.locator("#tag-list li")).to_have_count(2)
    page.get_by_role("button", name="Done").last.click()
    expect(page.locator('.media-row[data-name="third.jpg"] .js-tag-summary')).to_have_text(
        "Tagged: @maria.k · Products: Ceramic Mug"
    )

    tomorrow = timezone.localtime(timezone.now(), workspace.zoneinfo).date() + timedelta(days=1)
    page.get_by_label("Day").fill(tomorrow.isoformat())
    page.get_by_label("Time", exact=True).fill("10:00")
    expect(page.locator(".channel-check")).to_contain_text("Instagram carousel")
    expect(page.locator("#composer-status")).to_contain_text("Ready to go out")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("Post scheduled.")).to_be_visible()

    post = Post.objects.get()
    assert [i.asset.original_name for i in post.items.select_related("asset")] == [
        "third.jpg",
        "first.jpg",
        "second.jpg",
    ]
    tagged = post.items.first()
    assert tagged.user_tags == [
        {"username": "maria.k", "x": pytest.approx(0.25, abs=0.02), "y": pytest.approx(0.5, abs=0.02)}
    ]
    assert tagged.product_tags[0]["name"] == "Ceramic Mug"
    assert post.scheduled_local == f"{tomorrow.isoformat()}T10:00:00" and post.scheduled_timezone == "Europe/Rome"

    # Edit it: new caption and time, through the same composer.
    page.goto(f"{live_server.url}/w/{workspace.public_id}/posts/{post.public_id}/edit/")
    expect(page.get_by_label("Caption", exact=True)).to_have_value("Three loaves")
    assert order(page) == ["third.jpg", "first.jpg", "second.jpg"]
    page.get_by_label("Caption", exact=True).fill("Three loaves, fresh from the oven")
    page.get_by_label("Time", exact=True).fill("11:30")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("Post scheduled.")).to_be_visible()
    post.refresh_from_db()
    assert post.caption == "Three loaves, fresh from the oven"
    assert post.scheduled_local == f"{tomorrow.isoformat()}T11:30:00"
    assert post.versions.first().changed == ["caption", "time"]

    # Its time comes: the worker publishes what was saved last, in the order chosen.
    now = timezone.now()
    Delivery.objects.filter(post=post).update(due_at=now, next_attempt_at=now)
    assert dispatch_due_deliveries.apply().get() == 1
    delivery = wait_for_state(post.deliveries.get(), (DeliveryState.PUBLISHED, DeliveryState.FAILED))
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    media = channel_client(channels["ig"]).get(delivery.remote_id, fields="caption,children{id}")
    assert media["caption"] == "Three loaves, fresh from the oven"
    assert len(media["children"]["data"]) == 3
    items = [
        r["params"]["image_url"]
        for r in reversed(sandbox_control.requests(limit=200))
        if r["method"] == "POST" and r["path"].endswith("/media") and r["params"].get("is_carousel_item") == "true"
    ]
    assert [Path(u.split("?")[0]).stem for u in items] == ["third", "first", "second"], items


def test_facebook_link_post_with_a_button_and_text_per_account_turns_published_without_a_reload(
    live_server, page: Page, celery_app, celery_worker, channels, workspace, alice, sandbox_control
):
    state = sandbox_control.state()
    cafe_id = next(p["id"] for p in state["pages"] if p["name"] == "Copper Kettle Cafe")
    cafe = ChannelFactory(workspace=workspace, connected_by=alice, sandbox=sandbox_control, external_id=cafe_id)
    harbor = channels["page"]
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/w/{workspace.public_id}/posts/new/")
    page.locator(f"#ch-{harbor.pk}").check()
    page.locator(f"#ch-{cafe.pk}").check()
    page.get_by_label("Caption", exact=True).fill("New mugs are in")
    page.get_by_text("Different text for one account").click()
    page.get_by_label(f"Caption on {cafe.display_name} (empty: the caption above)").fill(
        "New mugs at the cafe: order online, pick them up with your coffee"
    )
    page.get_by_label("Link to share").fill("https://shop.example.com/mugs")
    page.get_by_label("Button on the link").select_option(label="Shop now")
    expect(page.locator(".pv-fb-link__cta").first).to_have_text("Shop now")
    page.get_by_label("Publish now").check()
    expect(page.locator("#composer-status")).to_contain_text("Ready to go out")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Post publishing now.")).to_be_visible()

    post = Post.objects.get()
    for channel in (harbor, cafe):
        row = page.locator(f"#post-{post.public_id} .delivery", has_text=channel.display_name)
        expect(row.locator(".delivery-state")).to_have_text("Published", timeout=30_000)  # polled, not reloaded
    sent = {d.channel_id: d for d in post.deliveries.all()}
    assert {d.kind for d in sent.values()} == {"fb_link"}
    harbor_post = channel_client(harbor).get(sent[harbor.pk].remote_id, fields="message,call_to_action")
    cafe_post = channel_client(cafe).get(sent[cafe.pk].remote_id, fields="message")
    assert harbor_post["message"] == "New mugs are in"
    assert cafe_post["message"] == "New mugs at the cafe: order online, pick them up with your coffee"


def test_story_caption_is_flagged_before_submit_and_a_draft_survives_a_reload(
    live_server, page: Page, channels, upload, samples, workspace, alice
):
    upload(samples.jpeg(1080, 1920, "story.jpg"))
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/w/{workspace.public_id}/posts/new/")
    page.locator(f"#ch-{channels['ig'].pk}").check()
    page.get_by_label("Format").select_option("story")
    page.get_by_role("button", name="Add from the media library").click()
    page.get_by_role("button", name="Add story.jpg").click()
    page.get_by_label("Caption", exact=True).fill("Words nobody would see")
    expect(page.locator('.problems [data-code="story_caption"]')).to_be_visible()
    expect(page.locator("#composer-status")).to_contain_text("Fix what is in red")

    # Nothing was saved yet, but what was typed is kept: a reload brings it back.
    expect(page).to_have_url(re.compile(r"draft="))
    page.reload()
    expect(page.get_by_label("Caption", exact=True)).to_have_value("Words nobody would see")
    expect(page.locator('#selected-media .media-row[data-name="story.jpg"]')).to_have_count(1)
    expect(page.get_by_label("Format")).to_have_value("story")
    assert not Post.objects.exists()

    # A PNG gets its JPEG copy with one click, in place, keeping its alt text.
    png = upload(samples.png(1080, 1920))
    page.get_by_role("button", name="Remove story.jpg from the post").click()
    page.get_by_role("button", name="Add from the media library").click()
    page.get_by_role("button", name=f"Add {png.original_name}").click()
    page.get_by_label(f"Alt text for {png.original_name}").fill("Our counter at dawn")
    page.get_by_role("button", name=re.compile("Make a JPEG copy")).click()
    copy = page.locator("#selected-media .media-row")
    expect(copy).to_have_count(1)
    expect(copy).to_have_attribute("data-name", re.compile(r"\(JPEG copy\)\.jpg$"))
    expect(copy.get_by_label(re.compile("Alt text for"))).to_have_value("Our counter at dawn")

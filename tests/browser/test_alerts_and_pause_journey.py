"""Two journeys in real browsers against the sandbox. A post Meta refuses for good: the managers who may publish
find it in the bell, the one who reads it lands on the post's card with Meta's reason, and only those whose
preferences ask for email get one. A crisis pause: a manager pauses the workspace from its dashboard, every page
says who paused and why, a post whose time comes waits on hold without a call to Meta, and once resumed it goes out
on the Page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from notifications.models import Kind, Notification, Preference
from notifications.services import digest_send
from publishing.models import Delivery, DeliveryState, Post
from publishing.publishers.base import RunOutcome
from publishing.services import pipeline, transitions
from publishing.services.posts import post_create, post_submit
from tests.browser.journeys import sign_in
from tests.factories import AgencyMembershipFactory, UserFactory, WorkspaceMembershipFactory

# The publishing tests' fixtures, used here by name (so ruff's F811 does not apply to their parameters).
# ruff: noqa: F811
from tests.publishing.conftest import (  # noqa: F401
    HARBOR_PAGE,
    _fast_pipeline,
    channels,
    public_media,
    run_to_end,
    submit,
)

pytestmark = [pytest.mark.django_db(transaction=True)]
FEED_POST = rf"/v\d+\.\d+/{HARBOR_PAGE}/feed$"
META_REASON = "The media type is not supported for this endpoint"


def manager(agency, workspace, name: str):
    person = UserFactory(full_name=name)
    AgencyMembershipFactory(agency=agency, user=person, role="member")
    WorkspaceMembershipFactory(workspace=workspace, user=person, role="manager")
    return person


def bell_once_counted(page: Page, go: Callable[[], None]) -> Locator:
    """Do `go` (it opens a page) and return the bell once the count that page asks for is shown in it."""
    with page.expect_response(lambda r: r.url.endswith("/notifications/count/")):
        go()
    expect(page.locator("#notification-count")).not_to_have_class(re.compile(r"\bhtmx-request\b"))
    return page.locator("#notification-bell")


def test_a_post_meta_refuses_is_in_the_bell_of_each_manager_and_emailed_only_to_who_wants_email(
    live_server, page: Page, browser: Browser, submit, channels, agency, workspace, alice, sandbox_control
):
    ws = workspace.public_id
    caption = "Spring timetable is out"
    dana = manager(agency, workspace, "Dana Manager")

    # Dana wants no email about failed posts: she unticks it on her notification choices.
    dana_page = browser.new_context().new_page()
    sign_in(dana_page, live_server, dana)
    dana_page.goto(f"{live_server.url}/notifications/preferences/")
    email_box = dana_page.get_by_label("Email: A post failed")
    expect(email_box).to_be_checked()
    email_box.uncheck()
    dana_page.get_by_role("button", name="Save").click()
    expect(dana_page.locator(".saved-flash")).to_have_text("Saved.")
    expect(dana_page.get_by_label("Email: A post failed")).not_to_be_checked()
    expect(dana_page.get_by_label("In app: A post failed")).to_be_checked()
    choice = Preference.objects.get(user=dana, kind=Kind.POST_FAILED)
    assert (choice.in_app, choice.email) == (True, False)

    sign_in(page, live_server, alice)
    expect(bell_once_counted(page, lambda: page.goto(f"{live_server.url}/w/{ws}/"))).to_have_accessible_name(
        "Notifications"
    )

    # The post goes to the Page, and Meta refuses it for good.
    sandbox_control.fault(path=FEED_POST, method="POST", error={"preset": "media_type_not_supported"})
    delivery = run_to_end(submit("page", caption=caption), sandbox_control)
    assert delivery.state == DeliveryState.FAILED
    post = delivery.post
    title = f"Failed on Harbor Yoga Studio: “{caption}”"
    card_path = f"/w/{ws}/posts/#post-{post.public_id}"

    # The digest: one email, to Alice, with Meta's reason and the way to the post; none to Dana.
    assert digest_send(user_id=alice.pk, now=timezone.now()) == 1
    assert digest_send(user_id=dana.pk, now=timezone.now()) == 0
    (message,) = mail.outbox
    assert message.to == [alice.email]
    assert message.subject == f"[SocialHub] {title}"
    assert META_REASON in message.body
    assert f"{live_server.url}{card_path}" in message.body

    # Alice's bell has it; opening it lands on the post's card with the failure, and it is read.
    page.reload()
    bell = page.get_by_role("button", name="Notifications, 1 unread", exact=True)
    expect(bell).to_be_visible()
    bell.click()
    panel = page.locator("#notification-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("1 unread")
    note = panel.get_by_role("button", name=f"Unread: {title}", exact=True)
    bell = bell_once_counted(page, note.click)
    expect(page).to_have_url(f"{live_server.url}{card_path}")
    card = page.locator(f"#post-{post.public_id}")
    expect(card).to_be_in_viewport()
    row = card.locator(".delivery", has_text="Harbor Yoga Studio")
    expect(row.locator(".delivery-state")).to_have_text("Failed")
    expect(row.locator(".delivery-error")).to_contain_text(META_REASON)
    expect(bell).to_have_accessible_name("Notifications")
    bell.click()
    expect(panel).to_contain_text("All read")
    expect(panel.get_by_role("button", name=title, exact=True)).to_be_visible()

    # Dana, who turned email off, still has it in the app, with Meta's reason.
    dana_page.reload()
    expect(dana_page.get_by_role("button", name="Notifications, 1 unread", exact=True)).to_be_visible()
    dana_page.goto(f"{live_server.url}/notifications/")
    item = dana_page.locator(".notification-item", has_text=title)
    expect(item).to_contain_text(META_REASON)
    expect(item).to_have_class(re.compile(r"\bnotification-unread\b"))
    dana_note = Notification.objects.get(user=dana, kind=Kind.POST_FAILED)
    assert dana_note.email == Notification.Email.NONE and dana_note.in_app
    assert len(mail.outbox) == 1
    dana_page.context.close()


def test_a_paused_workspace_holds_a_due_post_and_sends_it_once_resumed(
    live_server, page: Page, channels, agency, workspace, alice, sandbox_control
):
    ws = workspace.public_id
    facebook = channels["page"]
    caption = "Open day on Saturday"
    reason = "Breaking news in town, hold everything until we review it"
    mara = manager(agency, workspace, "Mara Manager")

    post = post_create(workspace=workspace, author=alice, channels=[facebook], caption=caption)
    post.scheduled_at = timezone.now() + timedelta(hours=1)
    post.save(update_fields=["scheduled_at"])
    post_submit(post=post, access=get_workspace_for_user(alice, ws))
    delivery = post.deliveries.get()
    assert delivery.state == DeliveryState.SCHEDULED

    # The manager pauses publishing from the dashboard, saying why.
    sign_in(page, live_server, mara)
    page.goto(f"{live_server.url}/w/{ws}/")
    switch = page.locator("#pause-switch")
    expect(switch.locator(".badge")).to_have_text("On")
    page.get_by_label("Why are you pausing?").fill(reason)
    page.get_by_role("button", name="Pause all publishing").click()
    expect(switch).to_contain_text("Publishing is paused. Nothing of Acme Coffee goes out until someone resumes it.")
    expect(switch.locator(".badge")).to_have_text("Paused")
    banner = page.locator("#pause-banner")
    expect(banner).to_contain_text("Publishing is paused for Acme Coffee.")
    expect(banner).to_contain_text(re.compile(rf"Paused by Mara Manager on .+: “{re.escape(reason)}”"))
    workspace.refresh_from_db()
    assert workspace.paused_by == mara and workspace.pause_reason == reason

    # Its time comes while paused: the dispatcher leaves it, and a run started anyway sends nothing to Meta.
    due = timezone.now()
    Post.objects.filter(pk=post.pk).update(scheduled_at=due)
    Delivery.objects.filter(pk=delivery.pk).update(due_at=due, next_attempt_at=due)
    page.reload()
    expect(page.locator(".pause-held")).to_have_text("1 post on hold is past its time.")
    feed = f"{facebook.external_id}/feed"
    assert caption not in [p.get("message") for p in channel_client(facebook).get(feed, fields="id,message")["data"]]
    seen_by_meta = sandbox_control.requests(limit=1000)

    assert pipeline.dispatch_due(now=timezone.now()) == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED
    token = transitions.claim(delivery.pk)
    assert token
    outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=token)
    assert outcome.kind == RunOutcome.DEFERRED
    delivery.refresh_from_db()
    on_hold = f"On hold: Acme Coffee is paused: {reason}. It goes out once the workspace is resumed."
    assert (delivery.state, delivery.waiting_reason, delivery.remote_id) == (DeliveryState.SCHEDULED, on_hold, "")
    assert sandbox_control.requests(limit=1000) == seen_by_meta

    # The posts list says so too: the banner, and the card on hold with the reason.
    page.goto(f"{live_server.url}/w/{ws}/posts/")
    expect(banner).to_contain_text("Publishing is paused for Acme Coffee.")
    expect(banner).to_contain_text(re.compile(rf"Paused by Mara Manager on .+: “{re.escape(reason)}”"))
    row = page.locator(f"#post-{post.public_id} .delivery", has_text=facebook.display_name)
    expect(row.locator(".delivery-state")).to_have_text("Scheduled")
    expect(row.locator(".delivery-held")).to_have_text("On hold")
    expect(row.locator(".delivery-hold")).to_have_text(on_hold)

    # Resumed from the banner's link: the banner goes, and the next tick sends the post to the Page.
    banner.get_by_role("link", name="Resume publishing…").click()
    expect(page).to_have_url(f"{live_server.url}/w/{ws}/#pause-switch")
    page.get_by_role("button", name="Resume publishing").click()
    expect(switch).to_contain_text("Publishing is back on. 1 post whose time passed goes out within a minute.")
    expect(switch.locator(".badge")).to_have_text("On")
    expect(page.get_by_text("Publishing is paused for Acme Coffee.")).to_have_count(0)
    workspace.refresh_from_db()
    assert workspace.paused_at is None
    page.goto(f"{live_server.url}/w/{ws}/posts/")
    expect(row.locator(".delivery-state")).to_have_text("Scheduled")
    expect(row.locator(".delivery-held")).to_have_count(0)
    expect(banner).not_to_contain_text("Publishing is paused")

    assert pipeline.dispatch_due(now=timezone.now()) == 1
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    on_the_page = {p["id"]: p.get("message") for p in channel_client(facebook).get(feed, fields="id,message")["data"]}
    assert on_the_page.get(delivery.remote_id) == caption
    page.reload()
    expect(row.locator(".delivery-state")).to_have_text("Published")

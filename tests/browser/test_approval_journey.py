"""A post goes through the team and the client in real browsers: an editor sends it for approval from the
composer, a manager approves it, the client opens their magic link in a browser of their own (no account) and
asks for changes, the editor reads why, changes it and sends it again, the manager and then the client approve
it, and it is published on the sandbox's Facebook Page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import ApprovalFlow
from publishing.models import ApprovalDecision, DeliveryState, Post
from tests.browser.journeys import sign_in

# The publishing tests' fixtures, used here by name (so ruff's F811 does not apply to their parameters).
# ruff: noqa: F811
from tests.publishing.conftest import _fast_pipeline, channels, run_to_end  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]


def review_from_approvals(page: Page, live_server, workspace, section: str) -> None:
    """Open the first post of a section of the Approvals page."""
    page.goto(f"{live_server.url}/w/{workspace.public_id}/approvals/")
    page.locator(f"#{section} .approval-row").first.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Review post")).to_be_visible()


def test_editor_manager_and_client_approve_a_post_with_one_round_of_changes(
    live_server, page: Page, browser: Browser, channels, workspace, alice, bob, sandbox_control
):
    workspace.approval_flow = ApprovalFlow.INTERNAL_CLIENT
    workspace.save(update_fields=["approval_flow"])
    facebook = channels["page"]
    ws = workspace.public_id

    # The editor writes the post and sends it for approval.
    sign_in(page, live_server, bob)
    page.goto(f"{live_server.url}/w/{ws}/posts/new/")
    page.locator(f"#ch-{facebook.pk}").check()
    page.get_by_label("Caption", exact=True).fill("Fresh bread every morning at 8")
    tomorrow = timezone.localtime(timezone.now(), workspace.zoneinfo).date() + timedelta(days=1)
    page.get_by_label("Day").fill(tomorrow.isoformat())
    page.get_by_label("Time", exact=True).fill("10:00")
    expect(page.locator("#composer-status")).to_contain_text("Ready to go out")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text("Post sent for approval.")).to_be_visible()
    post = Post.objects.get()
    assert post.approval == Post.Approval.PENDING

    # The manager remarks on it to the team, approves it for the client, writes to the client (the comment form
    # now says the client reads it) and makes the client's review link.
    manager = browser.new_context().new_page()
    sign_in(manager, live_server, alice)
    review_from_approvals(manager, live_server, workspace, "waiting-for-me")
    expect(manager.locator(".pv-card")).to_contain_text("Fresh bread every morning at 8")
    expect(manager.locator("#comment-body-help")).to_contain_text("Only the team sees this comment.")
    manager.get_by_label("Add a comment").fill("Between us: the price list is out of date")
    manager.get_by_role("button", name="Comment", exact=True).click()
    expect(manager.locator(".post-comment").first).to_contain_text("the price list is out of date")
    expect(manager.locator(".post-comment").first).not_to_contain_text("Seen by the client")
    manager.get_by_role("button", name="Approve and send to the client").click()
    expect(manager.locator("#decision")).to_contain_text("It now waits for the client's approval.")
    expect(manager.locator("#comment-body-help")).to_contain_text("The client sees this comment")
    manager.get_by_label("Add a comment").fill("Rosa, this is the bread from our new oven")
    manager.get_by_role("button", name="Comment", exact=True).click()
    for_rosa = manager.locator(".post-comment", has_text="from our new oven")
    expect(for_rosa).to_contain_text("Seen by the client")
    post.refresh_from_db()
    assert post.approval == Post.Approval.CLIENT_PENDING
    assert post.deliveries.get().state == DeliveryState.AWAITING_APPROVAL
    manager.goto(f"{live_server.url}/w/{ws}/approvals/links/")
    manager.get_by_label("Who it is for").fill("Rosa at Acme")
    manager.get_by_role("button", name="Make the link").click()
    magic = manager.locator("#new-link").input_value()
    assert "/review/" in magic

    # The client opens the link in a browser of their own, without an account, and asks for changes.
    rosa = browser.new_context().new_page()
    rosa.goto(live_server.url + magic[magic.index("/review/") :])
    assert rosa.url == f"{live_server.url}/review/"  # the token is gone from the address
    expect(rosa.get_by_role("heading", name="Posts waiting for your approval")).to_be_visible()
    rosa.locator(".client-post").first.get_by_role("link", name="Review").click()
    expect(rosa.locator(".pv-card")).to_contain_text("Fresh bread every morning at 8")
    expect(rosa.locator("#comments")).to_contain_text("from our new oven")
    expect(rosa.locator("#comments")).not_to_contain_text("price list")
    rosa.get_by_label("Or ask for changes").fill("Please say the bread comes out of the oven at 7:30.")
    rosa.get_by_role("button", name="Request changes").click()
    expect(rosa.get_by_text("Sent to the team with your comment")).to_be_visible()
    post.refresh_from_db()
    assert post.approval == Post.Approval.REJECTED
    assert post.deliveries.get().state == DeliveryState.DRAFT

    # The editor reads why, changes the post in the composer and sends it again.
    review_from_approvals(page, live_server, workspace, "my-posts")
    expect(page.locator(".decision-history")).to_contain_text("Please say the bread comes out of the oven at 7:30.")
    expect(page.locator("#approval-status")).to_contain_text("Changes requested")
    page.get_by_role("link", name="Edit in the composer").click()
    page.get_by_label("Caption", exact=True).fill("Fresh bread every morning, out of the oven at 7:30")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text("Post sent for approval.")).to_be_visible()
    post.refresh_from_db()
    assert post.approval == Post.Approval.PENDING

    # The manager approves the new version; the client approves it through the same link.
    review_from_approvals(manager, live_server, workspace, "waiting-for-me")
    expect(manager.locator(".pv-card")).to_contain_text("out of the oven at 7:30")
    manager.get_by_role("button", name="Approve and send to the client").click()
    expect(manager.locator("#decision")).to_contain_text("It now waits for the client's approval.")
    rosa.goto(f"{live_server.url}/review/")
    rosa.locator(".client-post").first.get_by_role("link", name="Review").click()
    expect(rosa.locator(".pv-card")).to_contain_text("out of the oven at 7:30")
    rosa.get_by_role("button", name="Approve").click()
    expect(rosa.get_by_text("Approved, thank you.")).to_be_visible()
    expect(rosa.get_by_text("Nothing waits for your approval right now.")).to_be_visible()

    post.refresh_from_db()
    delivery = post.deliveries.get()
    assert post.approval == Post.Approval.APPROVED and delivery.state == DeliveryState.SCHEDULED
    steps = list(post.decisions.values_list("stage", "action", "actor_name", "version"))
    assert steps == [
        ("internal", "submitted", "Bob Editor", 1),
        ("internal", "approved", "Alice Owner", 1),
        ("client", "changes_requested", "Rosa at Acme", 1),
        ("internal", "submitted", "Bob Editor", 2),
        ("internal", "approved", "Alice Owner", 2),
        ("client", "approved", "Rosa at Acme", 2),
    ]
    assert ApprovalDecision.objects.filter(link__name="Rosa at Acme").count() == 2

    # Its time comes: it goes out on the Page.
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED and delivery.remote_id
    manager.context.close()
    rosa.context.close()

"""A moderator works the comment inbox in a real browser, with a real Celery worker and the sandbox standing in for
Meta. Fans comment on the Harbor Page and Meta's signed webhooks bring the comments in; the moderator keeps to the
conversations waiting for a reply, answers a question with a saved reply (filled in for that fan and that post),
hides a spam comment from the keyboard, and sees each action pending until Meta confirmed it; meanwhile a new
comment arrives in the open list without a reload. The sandbox then holds the reply once and the hidden comment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services.channels import channel_client
from inbox.action_tasks import perform_action  # imported before the test's Celery app exists, so its worker
from inbox.models import ActionState, Comment, CommentAction
from inbox.services.replies import saved_reply_create
from inbox.tasks import process_webhook  # knows both tasks
from tests.browser.journeys import sign_in
from tests.factories import HARBOR_PAGE

# The inbox tests' fixtures, used here by name (so ruff's F811 does not apply to their parameters).
# ruff: noqa: F811
from tests.inbox.conftest import inbox_channels, make_comment, moderator  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]

SPAM = "Free followers!! visit spam.example"
QUESTION = "Is the 7 am class full on Saturday?"
ANSWERED = "Is there parking near the studio?"
LATE = "Do you sell gift cards?"
SAVED = "Thank you {first_name}! Details: {post_link}"
WAIT = 15_000  # ms: webhooks through the worker, the list's 5 s poll, a card's 2 s poll


def meta_comment(sandbox_control, live_server, post_id: str, name: str, text: str) -> dict:
    """A fan comments on the Page on Facebook; Meta's signed webhook goes to the running server. Returns the
    feed change Meta sent."""
    sent = sandbox_control.send_webhook(
        kind="comment", post_id=post_id, name=name, text=text, url=f"{live_server.url}/webhooks/meta/"
    )
    assert sent["response"]["status"] == 200, sent["response"]
    return sent["sent"]["entry"][0]["changes"][0]["value"]


def page_answers_on_facebook(sandbox_control, live_server, page_channel, fan: dict, text: str) -> None:
    """The Page answers a fan on Facebook itself (not through SocialHub), and Meta's feed webhook tells SocialHub."""
    reply_id = channel_client(page_channel).post(f"{fan['comment_id']}/comments", data={"message": text})["id"]
    value = {
        **fan,
        "from": {"id": HARBOR_PAGE, "name": page_channel.name},
        "message": text,
        "comment_id": reply_id,
        "parent_id": fan["comment_id"],
        "created_time": fan["created_time"] + 60,
    }
    change = {"field": "feed", "value": value}
    entry = {"id": HARBOR_PAGE, "time": value["created_time"], "changes": [change]}
    sent = sandbox_control.send_webhook(object="page", entry=[entry], url=f"{live_server.url}/webhooks/meta/")
    assert sent["response"]["status"] == 200, sent["response"]


def slow_meta(sandbox_control, path: str, method: str) -> None:
    """Meta takes a second to answer this one call, so what the person sees while it is on its way is certain."""
    sandbox_control.fault(path=rf"/v\d+\.\d+/{path}$", method=method, kind="slow", delay_ms=1200)


def test_a_moderator_answers_with_a_saved_reply_and_hides_spam_while_new_comments_arrive(
    celery_app, celery_worker, live_server, page: Page, inbox_channels, moderator, workspace, alice, sandbox_control
):
    assert {process_webhook.name, perform_action.name} <= set(celery_app.tasks)
    facebook = inbox_channels["page"]
    saved_reply_create(workspace=workspace, title="Thanks", text=SAVED, by=alice)
    post_id = channel_client(facebook).get(f"{HARBOR_PAGE}/published_posts", params={"limit": 1})["data"][0]["id"]

    # Fans comment on the Page's newest post; one question the Page already answered on Facebook.
    question = meta_comment(sandbox_control, live_server, post_id, "Priya Shah", QUESTION)
    answered = meta_comment(sandbox_control, live_server, post_id, "Jordan Lee", ANSWERED)
    spam = meta_comment(sandbox_control, live_server, post_id, "Sam Rivera", SPAM)
    page_answers_on_facebook(sandbox_control, live_server, facebook, answered, "Yes, behind the studio.")
    post_link = question["post"]["permalink_url"]
    assert post_link

    # The moderator opens the Inbox from the navigation; the comments are there once the worker stored them.
    sign_in(page, live_server, moderator)
    page.goto(f"{live_server.url}/w/{workspace.public_id}/")
    page.get_by_role("navigation").get_by_role("link", name="Inbox", exact=True).click()
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    page.evaluate("() => { window.sameInboxPage = true; }")  # gone if anything reloads the page
    rows = page.locator("#thread-list > .inbox-row")
    expect(rows.filter(has_text=QUESTION)).to_be_visible(timeout=WAIT)
    expect(rows.filter(has_text=SPAM)).to_be_visible(timeout=WAIT)
    expect(rows.filter(has_text=ANSWERED).locator(".inbox-row-reply.is-ours")).to_contain_text(
        "behind the studio", timeout=WAIT
    )

    # Only the conversations waiting for a reply.
    page.get_by_label("Waiting for a reply").check()
    expect(page).to_have_url(re.compile(r"[?&]unanswered=1"))
    expect(rows.filter(has_text=ANSWERED)).to_have_count(0)
    expect(rows.filter(has_text=QUESTION)).to_be_visible()
    expect(rows.filter(has_text=SPAM)).to_be_visible()

    # The question, answered with the saved reply filled in for Priya and the post.
    rows.filter(has_text=QUESTION).locator(".inbox-open").click()
    panel = page.locator("#thread-panel")
    expect(panel.get_by_role("heading", name="Priya Shah on Harbor Yoga Studio")).to_be_visible()
    panel.get_by_label("Saved reply").select_option(label="Thanks")
    expected = f"Thank you Priya! Details: {post_link}"
    expect(panel.get_by_label("Reply to Priya Shah")).to_have_value(expected)
    slow_meta(sandbox_control, f"{question['comment_id']}/comments", "POST")
    panel.get_by_role("button", name="Send reply").click()
    thread_card = panel.locator(".thread-top > .inbox-comment")
    expect(thread_card.locator(".action-pending")).to_contain_text("Sending reply: “Thank you Priya!")
    expect(thread_card.locator(".action-last")).to_contain_text(f"Replied by {moderator.get_full_name()}", timeout=WAIT)
    ours = panel.locator(".thread-reply", has_text=expected)
    expect(ours).to_be_visible()
    expect(ours.get_by_text("Our reply")).to_be_visible()

    # The spam, hidden from the keyboard: pending until Meta confirms, then marked hidden.
    rows.filter(has_text=SPAM).locator(".inbox-open").click()
    expect(panel.get_by_role("heading", name="Sam Rivera on Harbor Yoga Studio")).to_be_focused()
    slow_meta(sandbox_control, spam["comment_id"], "POST")
    page.keyboard.press("h")
    spam_card = panel.locator(".thread-top > .inbox-comment")
    expect(spam_card.locator(".action-pending")).to_contain_text("Hiding…")

    # Meanwhile a fan comments again: the open list shows it without a reload.
    meta_comment(sandbox_control, live_server, post_id, "Chloé Martin", LATE)

    expect(spam_card.locator(".badge-hidden")).to_be_visible(timeout=WAIT)
    expect(spam_card).to_have_attribute("data-hidden", "true")
    expect(spam_card.locator(".action-last")).to_contain_text("Hidden by")
    expect(rows.filter(has_text=SPAM).locator(".badge", has_text="Hidden")).to_be_visible(timeout=WAIT)
    expect(rows.filter(has_text=LATE)).to_be_visible(timeout=WAIT)
    assert page.evaluate("() => window.sameInboxPage === true")

    # On Meta: the reply exists once, as the Page, with the placeholders filled in; the spam is hidden.
    client = channel_client(facebook)
    replies = client.get(f"{question['comment_id']}/comments", fields="message,from")["data"]
    assert [(r["message"], r["from"]["id"]) for r in replies] == [(expected, HARBOR_PAGE)]
    assert client.get(spam["comment_id"], fields="is_hidden")["is_hidden"] is True
    assert set(CommentAction.objects.values_list("kind", "state")) == {
        ("reply", ActionState.DONE),
        ("hide", ActionState.DONE),
    }
    assert Comment.objects.get(external_id=spam["comment_id"]).hidden is True


def test_a_saved_reply_chosen_as_soon_as_the_reply_box_shows_fills_it(
    live_server, page: Page, inbox_channels, moderator, workspace, alice, make_comment
):
    thread = make_comment(inbox_channels["page"], text=QUESTION, author_name="Priya Shah")
    saved_reply_create(workspace=workspace, title="Thanks", text="Thank you {first_name}!", by=alice)
    sign_in(page, live_server, moderator)

    # A slow connection: every answer takes a while to arrive, the person chooses as soon as the box is there.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.goto(f"{live_server.url}/w/{workspace.public_id}/inbox/t/{thread.public_id}/")
    panel = page.locator("#thread-panel")
    panel.get_by_label("Saved reply").select_option(label="Thanks")
    # The picker fills the box at once when it works: no need to wait long for the text.
    expect(panel.get_by_label("Reply to Priya Shah")).to_have_value("Thank you Priya!", timeout=2000)

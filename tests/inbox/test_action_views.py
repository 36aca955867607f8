"""The action buttons and the reply box as a moderator uses them: htmx answers the comment's card (pending, then
polled until Meta answered, then the outcome or Meta's reason with Retry), the reply box keeps what was typed when
a reply is refused, and only people who moderate the workspace's inbox may act."""

# ruff: noqa: F811
from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox.models import ActionState, CommentAction
from inbox.services.actions import action_perform
from tests.factories import ChannelFactory, WorkspaceFactory
from tests.inbox.test_actions import fan, on_meta  # noqa: F401

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def action_url(comment, kind):
    return reverse(
        "inbox:action",
        kwargs={"workspace_id": comment.workspace.public_id, "comment_id": comment.public_id, "kind": kind},
    )


def card_url(comment, *waiting):
    url = reverse(
        "inbox:comment", kwargs={"workspace_id": comment.workspace.public_id, "comment_id": comment.public_id}
    )
    return url + "".join(f"{'&' if i else '?'}waiting={a.public_id}" for i, a in enumerate(waiting))


def thread_url(comment):
    return reverse(
        "inbox:thread", kwargs={"workspace_id": comment.workspace.public_id, "comment_id": comment.public_id}
    )


def run_pending():
    for pk in CommentAction.objects.filter(state=ActionState.PENDING).values_list("pk", flat=True):
        action_perform(pk)


def test_hide_shows_hiding_then_polls_until_meta_confirms(client, inbox_channels, fan, alice):
    channel = inbox_channels["ig"]
    comment = fan(channel, text="Free followers at spam.example")

    answer = client.post(action_url(comment, "hide"), headers=HTMX)

    html = answer.content.decode()
    assert answer.status_code == 200
    assert f'id="comment-{comment.public_id}"' in html and "Hiding…" in html
    assert 'hx-trigger="every 2s"' in html and 'data-pending="true"' in html
    action = CommentAction.objects.get()
    assert action.actor == alice and action.kind == "hide" and action.state == ActionState.PENDING

    action_perform(action.pk)
    polled = client.get(card_url(comment, action), headers=HTMX)

    html = polled.content.decode()
    assert "every 2s" not in html and "Hiding…" not in html
    assert "badge-hidden" in html and "Hidden by Alice Owner" in html and "Unhide" in html
    assert json.loads(polled.headers["HX-Trigger"])["inboxActionFinished"] == {
        "thread": str(comment.public_id),
        "kinds": ["hide"],
    }
    assert on_meta(channel, comment.external_id, "hidden")["hidden"] is True


def test_metas_refusal_is_shown_with_a_retry_button_that_works(
    client,
    inbox_channels,
    fan,
    sandbox_control,
):
    comment = fan(inbox_channels["page"])
    sandbox_control.fault(path=r"/likes$", method="POST", error={"preset": "unknown"})
    client.post(action_url(comment, "like"), headers=HTMX)
    action = CommentAction.objects.get()
    action_perform(action.pk)

    html = client.get(card_url(comment), headers=HTMX).content.decode()

    action.refresh_from_db()
    assert action.state == ActionState.FAILED
    assert "Not liked" in html and action.error in html
    retry = reverse(
        "inbox:action_retry", kwargs={"workspace_id": comment.workspace.public_id, "action_id": action.public_id}
    )
    assert f'hx-post="{retry}"' in html

    html = client.post(retry, headers=HTMX).content.decode()
    assert "Liking…" in html
    action_perform(action.pk)
    html = client.get(card_url(comment), headers=HTMX).content.decode()
    assert "badge-liked" in html and "Not liked" not in html


def test_a_refused_reply_keeps_what_was_typed(client, inbox_channels, fan):
    thread = fan(inbox_channels["ig"], hidden=True)
    typed = "We open at 7 on Sundays, see you there!"

    answer = client.post(action_url(thread, "reply"), {"text": typed, "form": "reply"}, headers=HTMX)

    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Instagram does not take replies to a hidden comment. Unhide it first." in html
    assert f">{typed}</textarea>" in html
    assert not CommentAction.objects.exists()


def test_a_sent_reply_empties_the_box_and_shows_sending_on_the_card(client, inbox_channels, fan):
    channel = inbox_channels["page"]
    thread = fan(channel)

    html = client.post(
        action_url(thread, "reply"), {"text": "Yes, 9 am!", "form": "reply"}, headers=HTMX
    ).content.decode()

    assert f'id="reply-form-{thread.public_id}"' in html and "Sending your reply" in html
    assert "></textarea>" in html  # an empty box for the next reply
    assert 'hx-swap-oob="true"' in html and "Sending reply: “Yes, 9 am!”…" in html
    run_pending()
    assert [r["message"] for r in client_replies(channel, thread)] == ["Yes, 9 am!"]


def client_replies(channel, thread):
    from accounts.services.channels import channel_client

    return channel_client(channel).get(f"{thread.external_id}/comments", fields="message")["data"]


def test_the_reply_box_offers_saved_replies_filled_in_and_a_private_reply_where_possible(
    client,
    inbox_channels,
    fan,
    alice,
):
    from inbox.services.replies import saved_reply_create

    page_comment = fan(inbox_channels["page"])
    saved_reply_create(
        workspace=page_comment.workspace, title="Thanks", text="Thanks {first_name}! {post_link}", by=alice
    )
    url = reverse(
        "inbox:reply_form",
        kwargs={"workspace_id": page_comment.workspace.public_id, "comment_id": page_comment.public_id},
    )

    html = client.get(url, headers=HTMX).content.decode()

    first = page_comment.author_name.split()[0]
    assert f'data-text="Thanks {first}! {page_comment.inbox_post.permalink}"' in html
    assert 'name="private"' in html and "Send privately" in html
    assert "<script" not in html  # the picker's script loads with the inbox page; nothing inline

    ig_comment = fan(inbox_channels["ig"])
    url = reverse(
        "inbox:reply_form", kwargs={"workspace_id": ig_comment.workspace.public_id, "comment_id": ig_comment.public_id}
    )
    html = client.get(url, headers=HTMX).content.decode()
    assert 'name="private"' not in html
    assert "Instagram private replies need messaging access SocialHub does not ask for." in html


def test_send_privately_sends_a_private_reply(client, inbox_channels, fan, sandbox_control):
    comment = fan(inbox_channels["page"])
    client.post(
        action_url(comment, "reply"), {"text": "Check your messages", "form": "reply", "private": "1"}, headers=HTMX
    )
    action = CommentAction.objects.get()
    assert action.kind == "private_reply"
    action_perform(action.pk)
    comment.refresh_from_db()
    assert comment.private_reply_at is not None
    html = client.get(card_url(comment), headers=HTMX).content.decode()
    assert "Private reply sent" in html


def test_the_thread_page_shows_the_cards_and_a_reply_box(client, inbox_channels, fan):
    thread = fan(inbox_channels["ig"])
    reply = fan(inbox_channels["ig"], parent=thread, text="Same question")
    html = client.get(thread_url(thread), headers=HTMX).content.decode()
    assert f'id="comment-{thread.public_id}"' in html and f'id="comment-{reply.public_id}"' in html
    assert f'id="reply-form-{thread.public_id}"' in html
    assert (
        reverse("inbox:reply_form", kwargs={"workspace_id": thread.workspace.public_id, "comment_id": thread.public_id})
        in html
    )


def test_without_htmx_the_views_go_back_to_the_thread(client, inbox_channels, fan):
    thread = fan(inbox_channels["ig"], hidden=True)

    answer = client.post(action_url(thread, "reply"), {"text": "Typed reply", "form": "reply"}, follow=True)

    assert answer.redirect_chain[0][0].startswith(thread_url(thread))
    said = [str(m) for m in answer.context["messages"]]
    assert said == [
        "Instagram does not take replies to a hidden comment. Unhide it first. Your reply was: “Typed reply”"
    ]


@pytest.mark.parametrize("which,platform", [("ig", "Instagram"), ("page", "Facebook")])
def test_a_removed_comment_says_where_it_was_removed(which, platform, client, inbox_channels, make_comment):
    thread = make_comment(inbox_channels[which], deleted_at=timezone.now())
    html = client.get(card_url(thread), headers=HTMX).content.decode()
    assert f"Removed on {platform}" in html and "comment-actions" not in html
    ids = {"workspace_id": thread.workspace.public_id, "comment_id": thread.public_id}
    html = client.get(reverse("inbox:reply_form", kwargs=ids), headers=HTMX).content.decode()
    assert f"This conversation was removed on {platform}; it cannot be answered." in html


def test_a_replys_card_reads_its_threads_post_with_the_comment(client, inbox_channels, make_comment):
    thread = make_comment(inbox_channels["ig"])
    reply = make_comment(inbox_channels["ig"], parent=thread, text="Same here")
    with CaptureQueriesContext(connection) as queries:
        html = client.get(card_url(reply), headers=HTMX).content.decode()
    assert "action-hide" in html  # the buttons depend on the thread's post (a mention's cannot be hidden)
    assert not [q for q in queries if 'FROM "inbox_inboxpost"' in q["sql"]]


def test_assign_from_the_card(client, inbox_channels, make_comment, moderator, editor):
    thread = make_comment(inbox_channels["page"])
    html = client.post(action_url(thread, "assign"), {"assignee": str(moderator.pk)}, headers=HTMX).content.decode()
    thread.refresh_from_db()
    assert thread.assignee == moderator and "Assigned to" in html

    html = client.post(action_url(thread, "assign"), {"assignee": str(editor.pk)}, headers=HTMX).content.decode()
    assert "Choose someone who moderates this inbox." in html
    thread.refresh_from_db()
    assert thread.assignee == moderator


def test_undo_from_the_card(client, inbox_channels, make_comment):
    thread = make_comment(inbox_channels["page"])
    client.post(action_url(thread, "done"), headers=HTMX)
    done = CommentAction.objects.get()
    undo = reverse(
        "inbox:action_undo", kwargs={"workspace_id": thread.workspace.public_id, "action_id": done.public_id}
    )
    html = client.get(card_url(thread), headers=HTMX).content.decode()
    assert f'hx-post="{undo}"' in html

    html = client.post(undo, headers=HTMX).content.decode()

    thread.refresh_from_db()
    assert thread.status == "new" and "Reopened" in html


def test_bulk_reports_what_was_refused(client, inbox_channels, fan, charlie):
    channel = inbox_channels["ig"]
    spam = fan(channel, text="Free followers")
    already = fan(channel, text="Old spam", hidden=True)
    other = ChannelFactory(workspace=WorkspaceFactory(agency=charlie.agency_memberships.get().agency))
    from inbox.models import Comment, InboxPost

    foreign_post = InboxPost.objects.create(workspace=other.workspace, channel=other, external_id="x1")
    foreign = Comment.objects.create(
        workspace=other.workspace,
        channel=other,
        inbox_post=foreign_post,
        external_id="c1",
        created_at=spam.created_at,
        last_activity_at=spam.created_at,
    )
    url = reverse("inbox:bulk", kwargs={"workspace_id": spam.workspace.public_id})

    answer = client.post(
        url,
        {"kind": "hide", "comment": [str(spam.public_id), str(already.public_id), str(foreign.public_id)]},
        headers=HTMX,
    )

    html = answer.content.decode()
    assert "Hide: 1 comment sent to Meta. 1 not:" in html and "This comment is hidden already." in html
    assert json.loads(answer.headers["HX-Trigger"])["inboxBulkDone"]["kind"] == "hide"
    assert list(CommentAction.objects.values_list("comment", flat=True)) == [spam.pk]  # never the foreign one
    run_pending()
    assert on_meta(channel, spam.external_id, "hidden")["hidden"] is True


def test_bulk_says_what_was_done_with_the_buttons_verb(client, inbox_channels, make_comment):
    threads = [make_comment(inbox_channels["page"]) for _ in range(2)]
    url = reverse("inbox:bulk", kwargs={"workspace_id": threads[0].workspace.public_id})
    html = client.post(url, {"kind": "done", "comment": [str(t.public_id) for t in threads]}, headers=HTMX)
    assert "Mark done: 2 comments." in html.content.decode()


def test_bulk_without_htmx_goes_back_to_the_list(client, inbox_channels, make_comment):
    threads = [make_comment(inbox_channels["page"]) for _ in range(2)]
    url = reverse("inbox:bulk", kwargs={"workspace_id": threads[0].workspace.public_id})
    answer = client.post(
        url, {"kind": "done", "comment": [str(t.public_id) for t in threads], "next": "https://evil.example/"}
    )
    assert answer.status_code == 302
    assert answer.url == reverse("inbox:inbox", kwargs={"workspace_id": threads[0].workspace.public_id})


# --- who may act ----------------------------------------------------------------------------------------------
def test_a_moderator_may_act(client, inbox_channels, make_comment, moderator):
    thread = make_comment(inbox_channels["page"])
    client.force_login(moderator)
    assert client.post(action_url(thread, "done"), headers=HTMX).status_code == 200
    assert CommentAction.objects.get().actor == moderator


@pytest.mark.parametrize("who", ["analyst", "editor"])
def test_others_in_the_workspace_may_not_act(who, request, client, inbox_channels, make_comment):
    thread = make_comment(inbox_channels["page"])
    client.force_login(request.getfixturevalue(who))
    assert client.post(action_url(thread, "hide"), headers=HTMX).status_code == 403
    assert (
        client.post(
            reverse("inbox:bulk", kwargs={"workspace_id": thread.workspace.public_id}),
            {"kind": "done", "comment": [str(thread.public_id)]},
        ).status_code
        == 403
    )
    assert not CommentAction.objects.exists()


def test_analysts_read_the_card_editors_do_not(client, inbox_channels, make_comment, analyst, editor):
    thread = make_comment(inbox_channels["page"])
    client.force_login(analyst)
    html = client.get(card_url(thread), headers=HTMX).content.decode()
    assert "comment-text" in html and "comment-actions" not in html  # read, no buttons
    client.force_login(editor)
    assert client.get(card_url(thread), headers=HTMX).status_code == 403


def test_strangers_get_404(client, inbox_channels, make_comment, charlie):
    thread = make_comment(inbox_channels["page"])
    failed = CommentAction.objects.create(
        workspace=thread.workspace, comment=thread, kind="hide", state=ActionState.FAILED
    )
    client.force_login(charlie)
    ws = thread.workspace.public_id
    assert client.post(action_url(thread, "hide"), headers=HTMX).status_code == 404
    assert client.get(card_url(thread), headers=HTMX).status_code == 404
    assert (
        client.post(
            reverse("inbox:action_retry", kwargs={"workspace_id": ws, "action_id": failed.public_id})
        ).status_code
        == 404
    )
    assert client.post(reverse("inbox:bulk", kwargs={"workspace_id": ws}), {"kind": "done"}).status_code == 404


def test_a_comment_of_another_workspace_is_404(client, inbox_channels, alice, make_comment):
    from tests.factories import AgencyMembershipFactory

    elsewhere = WorkspaceFactory()
    AgencyMembershipFactory(agency=elsewhere.agency, user=alice, role="owner")
    foreign = make_comment(ChannelFactory(workspace=elsewhere))
    url = reverse(
        "inbox:action",
        kwargs={
            "workspace_id": inbox_channels["page"].workspace.public_id,
            "comment_id": foreign.public_id,
            "kind": "hide",
        },
    )
    assert client.post(url, headers=HTMX).status_code == 404


def test_an_unknown_action_is_404(client, inbox_channels, make_comment):
    thread = make_comment(inbox_channels["page"])
    assert client.post(action_url(thread, "explode"), headers=HTMX).status_code == 404

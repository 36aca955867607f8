"""What moderators do to comments, against the sandbox over real HTTP: every action reaches Meta (read back from
the sandbox), is recorded with who did it, and shows as done only once Meta confirmed it. Refusals (before Meta,
or Meta's own) are kept in words and can be retried; a reply whose answer was lost is posted once, and one attempt
at a time talks to Meta."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ChannelStatus
from accounts.services.channels import channel_client
from inbox.models import ActionState, Comment, CommentAction, CommentKind, CommentStatus, InboxPost
from inbox.services import actions
from inbox.services.actions import ActionRefused, action_perform, action_request
from notifications.models import Kind, Notification
from socialhub.graph import GraphClient, GraphError

pytestmark = pytest.mark.django_db


# --- comments on the sandbox (also used by the other action test files) -----------------------------------------------
def newest_media(channel) -> str:
    """The channel's newest Instagram media or Page post on the sandbox."""
    client = channel_client(channel)
    if channel.platform == "instagram":
        return client.get(f"{channel.external_id}/media", params={"limit": 1})["data"][0]["id"]
    return client.get(f"{channel.external_id}/published_posts", params={"limit": 1})["data"][0]["id"]


@pytest.fixture
def fan(sandbox_control, make_comment):
    """`fan(channel, text=..., parent=..., at=...)`: a fan's comment written on the sandbox (no webhook sent) and
    stored as ingest stores it."""

    def _fan(channel, *, text="Do you have classes on Sunday?", parent=None, at=None, **fields):
        media = parent.inbox_post.external_id if parent else newest_media(channel)
        ig = channel.platform == "instagram"
        spec = {"object": "instagram", "media_id": media} if ig else {"object": "page", "post_id": media}
        if parent is not None:
            spec["parent_id"] = parent.external_id
        sent = sandbox_control.send_webhook(kind="comment", text=text, deliver=False, **spec)["sent"]
        entry = sent["entry"][0]
        value = entry["changes"][0]["value"] if "changes" in entry else entry["value"]
        author = value["from"]
        return make_comment(
            channel,
            text=text,
            parent=parent,
            media_id=media,
            at=at,
            external_id=value["id"] if ig else value["comment_id"],
            author_id=author["id"],
            author_name=author.get("username") or author.get("name"),
            **fields,
        )

    return _fan


@pytest.fixture
def mention(sandbox_control, make_comment):
    """`mention(channel, caption=False)`: a stranger mentions the Instagram account on their own media (in a
    comment, or in the caption), stored as ingest stores mentions."""

    def _mention(channel, *, caption=False):
        sent = sandbox_control.send_webhook(
            kind="mention", ig_user_id=channel.external_id, caption=caption, deliver=False
        )["sent"]
        value = sent["entry"][0]["changes"][0]["value"]
        media = value["media_id"]
        comment = make_comment(
            channel,
            text="@harboryoga see you there",
            media_id=media,
            external_id=value.get("comment_id") or media,
            kind=CommentKind.MENTION,
        )
        InboxPost.objects.filter(pk=comment.inbox_post_id).update(is_mention=True)
        return Comment.objects.get(pk=comment.pk)

    return _mention


def perform(action: CommentAction, **kwargs) -> CommentAction:
    outcome = action_perform(action.pk, **kwargs)
    action.refresh_from_db()
    action.outcome = outcome
    return action


def later(seconds: float):
    """Django's clock moved on by `seconds`, as when the task comes back after its countdown."""
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(seconds=seconds))


def calls(sandbox_control, method: str, path_end: str) -> list[dict]:
    return [
        r
        for r in sandbox_control.requests(limit=200)
        if r["method"] == method and r["path"].rstrip("/").endswith(path_end)
    ]


def on_meta(channel, comment_id: str, fields: str) -> dict:
    return channel_client(channel).get(comment_id, fields=fields)


def replies_on_meta(channel, thread: Comment) -> list[dict]:
    client = channel_client(channel)
    if channel.platform == "instagram":
        return client.get(f"{thread.external_id}/replies", fields="id,text,from")["data"]
    answer = client.get(f"{thread.external_id}/comments", fields="id,message,from")["data"]
    return [{"id": r["id"], "text": r["message"], "from": r["from"]} for r in answer]


# --- reply ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["page", "ig", "ig_login"])
def test_a_reply_is_posted_on_meta_and_stored_as_ours(which, inbox_channels, fan, alice):
    channel = inbox_channels[which]
    thread = fan(channel)

    action = action_request(comment=thread, kind="reply", actor=alice, text="Yes, at 9 and 11!")

    assert action.state == ActionState.PENDING and action.actor == alice
    assert not Comment.objects.filter(parent=thread).exists()  # nothing shown before Meta confirms
    action = perform(action)
    assert action.state == ActionState.DONE and action.finished_at and action.result_id
    on_meta_replies = replies_on_meta(channel, thread)
    assert [(r["id"], r["text"], r["from"]["id"]) for r in on_meta_replies] == [
        (action.result_id, "Yes, at 9 and 11!", channel.external_id)
    ]
    ours = Comment.objects.get(channel=channel, external_id=action.result_id)
    assert ours.from_us and ours.parent == thread and ours.text == "Yes, at 9 and 11!"
    thread.refresh_from_db()
    assert thread.needs_reply is False


def test_a_reply_to_a_reply_goes_to_the_top_level_comment(inbox_channels, fan, alice):
    channel = inbox_channels["ig"]
    thread = fan(channel)
    reply = fan(channel, parent=thread, text="Me too, what time?")

    action = perform(action_request(comment=reply, kind="reply", actor=alice, text="9 o'clock"))

    assert action.state == ActionState.DONE
    assert [r["text"] for r in replies_on_meta(channel, thread)] == ["Me too, what time?", "9 o'clock"]
    assert Comment.objects.get(external_id=action.result_id).parent == thread


@pytest.mark.parametrize("caption", [False, True])
def test_a_reply_to_a_mention_goes_through_the_mentions_edge(caption, inbox_channels, mention, alice, sandbox_control):
    channel = inbox_channels["ig"]
    thread = mention(channel, caption=caption)

    action = perform(action_request(comment=thread, kind="reply", actor=alice, text="Thanks for the shout-out!"))

    assert action.state == ActionState.DONE, action.error
    [call] = calls(sandbox_control, "POST", "/mentions")
    assert call["status"] == 200 and call["params"]["media_id"] == thread.inbox_post.external_id
    assert ("comment_id" in call["params"]) is not caption
    ours = Comment.objects.get(external_id=action.result_id)
    assert ours.parent == thread and ours.kind == CommentKind.MENTION and ours.from_us


def test_a_mention_of_an_instagram_login_account_is_not_answered_through_the_api(
    inbox_channels, make_comment, alice, sandbox_control
):
    """Meta's mention replies (`/{ig-user-id}/mentions`) exist only for Facebook Login; Instagram Login has no way to
    answer a stranger's post, so the person is told where to answer instead of a refusal from Meta."""
    channel = inbox_channels["ig_login"]
    stranger = InboxPost.objects.create(
        workspace=channel.workspace, channel=channel, external_id="17999000000000001", is_mention=True
    )
    thread = make_comment(channel, media_id=stranger.external_id, kind=CommentKind.MENTION, text="@maplethread.studio")

    with pytest.raises(ActionRefused, match="only for accounts connected through Facebook"):
        action_request(comment=thread, kind="reply", actor=alice, text="Thank you!")
    assert not CommentAction.objects.exists()


def test_empty_and_too_long_replies_are_refused_before_meta(inbox_channels, fan, alice, sandbox_control):
    thread = fan(inbox_channels["ig"])
    with pytest.raises(ActionRefused, match="Write a reply first"):
        action_request(comment=thread, kind="reply", actor=alice, text="   ")
    with pytest.raises(ActionRefused, match="at most 2,200 characters; this one has 2,201"):
        action_request(comment=thread, kind="reply", actor=alice, text="x" * 2201)
    assert not CommentAction.objects.exists()
    assert not calls(sandbox_control, "POST", "/replies")


def test_a_hidden_instagram_comment_cannot_be_replied_to(inbox_channels, fan, alice):
    thread = fan(inbox_channels["ig"], hidden=True)
    with pytest.raises(ActionRefused, match="Unhide it first"):
        action_request(comment=thread, kind="reply", actor=alice, text="Hi")


# --- hide / unhide --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which,flag", [("ig", "hidden"), ("page", "is_hidden"), ("ig_login", "hidden")])
def test_hide_and_unhide_change_the_comment_on_meta(which, flag, inbox_channels, fan, alice, moderator):
    channel = inbox_channels[which]
    comment = fan(channel, text="Free followers at spam.example")

    hide = action_request(comment=comment, kind="hide", actor=moderator)
    comment.refresh_from_db()
    assert comment.hidden is False  # not before Meta says so
    assert perform(hide).state == ActionState.DONE
    comment.refresh_from_db()
    assert comment.hidden is True and on_meta(channel, comment.external_id, flag)[flag] is True
    assert hide.actor == moderator

    unhide = perform(action_request(comment=comment, kind="unhide", actor=alice))
    comment.refresh_from_db()
    assert unhide.state == ActionState.DONE and comment.hidden is False
    assert on_meta(channel, comment.external_id, flag)[flag] is False


def test_our_own_comments_cannot_be_hidden(inbox_channels, fan, alice, make_comment, sandbox_control):
    thread = fan(inbox_channels["ig"])
    ours = make_comment(inbox_channels["ig"], parent=thread, from_us=True, text="Thanks!")
    with pytest.raises(ActionRefused, match="Your own comments are always shown"):
        action_request(comment=ours, kind="hide", actor=alice)
    assert not CommentAction.objects.exists()


def test_a_second_hide_while_the_first_is_on_its_way_is_refused(inbox_channels, fan, alice):
    comment = fan(inbox_channels["page"])
    action_request(comment=comment, kind="hide", actor=alice)
    with pytest.raises(ActionRefused, match="still sending"):
        action_request(comment=comment, kind="hide", actor=alice)


# --- delete ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["ig", "page"])
def test_delete_removes_the_comment_and_its_replies(which, inbox_channels, fan, alice):
    channel = inbox_channels[which]
    thread = fan(channel, text="Terrible service")
    reply = fan(channel, parent=thread, text="Agreed")

    action = perform(action_request(comment=thread, kind="delete", actor=alice))

    assert action.state == ActionState.DONE
    with pytest.raises(GraphError) as gone:
        on_meta(channel, thread.external_id, "id")
    assert (gone.value.code, gone.value.subcode) == (100, 33)
    thread.refresh_from_db()
    reply.refresh_from_db()
    assert thread.deleted_at and reply.deleted_at and thread.needs_reply is False


def test_deleting_a_reply_leaves_the_thread_waiting_for_an_answer(inbox_channels, fan, alice, make_comment):
    channel = inbox_channels["page"]
    thread = fan(channel)
    ours = perform(action_request(comment=thread, kind="reply", actor=alice, text="We'll check"))
    our_reply = Comment.objects.get(external_id=ours.result_id)

    perform(action_request(comment=our_reply, kind="delete", actor=alice))

    thread.refresh_from_db()
    assert thread.deleted_at is None and thread.needs_reply is True


@pytest.mark.parametrize("which,platform", [("ig", "Instagram"), ("page", "Facebook")])
def test_a_removed_comment_is_said_to_be_removed_on_its_platform(which, platform, inbox_channels, make_comment, alice):
    comment = make_comment(inbox_channels[which], deleted_at=timezone.now())
    with pytest.raises(ActionRefused, match=f"This comment was removed on {platform}."):
        action_request(comment=comment, kind="hide", actor=alice)


def test_comments_on_someone_elses_media_cannot_be_deleted_or_hidden(inbox_channels, mention, alice):
    thread = mention(inbox_channels["ig"])
    with pytest.raises(ActionRefused, match="only its owner can delete it"):
        action_request(comment=thread, kind="delete", actor=alice)
    with pytest.raises(ActionRefused, match="only its owner can hide it"):
        action_request(comment=thread, kind="hide", actor=alice)


# --- like -----------------------------------------------------------------------------------------------------
def test_like_and_unlike_a_page_comment(inbox_channels, fan, alice):
    channel = inbox_channels["page"]
    comment = fan(channel, text="Best studio in town")

    assert perform(action_request(comment=comment, kind="like", actor=alice)).state == ActionState.DONE
    comment.refresh_from_db()
    seen = on_meta(channel, comment.external_id, "user_likes,like_count")
    assert comment.liked_at and comment.like_count == seen["like_count"] and seen["user_likes"] is True

    assert perform(action_request(comment=comment, kind="unlike", actor=alice)).state == ActionState.DONE
    comment.refresh_from_db()
    assert comment.liked_at is None and on_meta(channel, comment.external_id, "user_likes")["user_likes"] is False


def test_an_unlike_confirmed_after_the_like_was_gone_leaves_the_count(inbox_channels, fan, alice):
    comment = fan(inbox_channels["page"])
    perform(action_request(comment=comment, kind="like", actor=alice))
    unlike = action_request(comment=comment, kind="unlike", actor=alice)
    Comment.objects.filter(pk=comment.pk).update(liked_at=None, like_count=7)  # the like went some other way

    assert perform(unlike).state == ActionState.DONE
    comment.refresh_from_db()
    assert comment.like_count == 7


def test_instagram_comments_cannot_be_liked(inbox_channels, fan, alice, sandbox_control):
    comment = fan(inbox_channels["ig"])
    with pytest.raises(ActionRefused, match="Instagram does not let apps like comments."):
        action_request(comment=comment, kind="like", actor=alice)
    assert not calls(sandbox_control, "POST", "/likes")


# --- private reply --------------------------------------------------------------------------------------------
def test_a_private_reply_is_sent_once(inbox_channels, fan, alice, sandbox_control):
    channel = inbox_channels["page"]
    comment = fan(channel, text="How much is a 10-class card?")
    assert actions.private_reply_possible(comment) == (True, "")

    action = perform(action_request(comment=comment, kind="private_reply", actor=alice, text="It's 120 €, Jane."))

    assert action.state == ActionState.DONE and action.result_id.startswith("m_")
    [call] = calls(sandbox_control, "POST", f"{channel.external_id}/messages")
    assert call["status"] == 200
    assert on_meta(channel, comment.external_id, "can_reply_privately")["can_reply_privately"] is False
    comment.refresh_from_db()
    assert comment.private_reply_at is not None
    with pytest.raises(ActionRefused, match="already sent"):
        action_request(comment=comment, kind="private_reply", actor=alice, text="And again")


def test_a_private_reply_is_refused_before_meta_after_seven_days(inbox_channels, fan, alice, sandbox_control):
    comment = fan(inbox_channels["page"])
    sandbox_control.clock_advance(9 * 86400)
    later = timezone.now() + timedelta(days=9)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert actions.private_reply_possible(comment)[0] is False
        with pytest.raises(ActionRefused) as refused:
            action_request(comment=comment, kind="private_reply", actor=alice, text="Sorry for the wait")
    assert refused.value.messages == [
        "A private reply can be sent only within 7 days of the comment; this one is 9 days old."
    ]
    assert not calls(sandbox_control, "POST", "/messages")


def test_private_replies_need_a_page_with_messaging_access(inbox_channels, fan, alice):
    ig_comment = fan(inbox_channels["ig"])
    assert actions.private_reply_possible(ig_comment) == (False, actions.IG_PRIVATE_REPLY)
    page = inbox_channels["page"]
    page.granted_scopes = [s for s in page.granted_scopes if s != "pages_messaging"]
    page.save()
    comment = fan(page)
    with pytest.raises(ActionRefused, match=r"pages_messaging"):
        action_request(comment=comment, kind="private_reply", actor=alice, text="Hi")


def test_metas_refusal_of_a_second_private_reply_is_shown_and_nothing_is_marked(inbox_channels, fan, alice):
    channel = inbox_channels["page"]
    comment = fan(channel)
    # Someone answered privately from Facebook's own inbox meanwhile.
    channel_client(channel).post(
        f"{channel.external_id}/messages",
        data={"recipient": {"comment_id": comment.external_id}, "message": {"text": "Answered from Facebook"}},
    )

    action = perform(action_request(comment=comment, kind="private_reply", actor=alice, text="Hello!"))

    assert action.state == ActionState.FAILED and action.error_code == "10900"
    assert action.error.startswith("Facebook allows one private reply per comment")
    assert "Activity already replied to" in action.error  # Meta's own words are kept too
    comment.refresh_from_db()
    assert comment.private_reply_at is None


# --- refusals, retries, lost answers --------------------------------------------------------------------------
def test_a_refused_action_shows_metas_reason_and_retry_works(inbox_channels, fan, alice, sandbox_control):
    channel = inbox_channels["ig"]
    comment = fan(channel)
    sandbox_control.fault(
        path=rf"/{comment.external_id}$",
        method="POST",
        error={"message": "(#368) The action attempted has been deemed abusive", "code": 368},
    )

    action = perform(action_request(comment=comment, kind="hide", actor=alice))

    assert action.state == ActionState.FAILED and action.error_code == "368"
    assert "policy reason" in action.error and "deemed abusive" in action.error
    comment.refresh_from_db()
    assert comment.hidden is False and on_meta(channel, comment.external_id, "hidden")["hidden"] is False

    retried = actions.action_retry(action=action, actor=alice)
    assert retried.state == ActionState.PENDING and retried.error == ""
    assert perform(retried).state == ActionState.DONE
    comment.refresh_from_db()
    assert comment.hidden is True and on_meta(channel, comment.external_id, "hidden")["hidden"] is True


def test_a_reply_whose_answer_was_lost_is_posted_once(inbox_channels, fan, alice, sandbox_control):
    channel = inbox_channels["ig"]
    thread = fan(channel)
    sandbox_control.fault(path=rf"/{thread.external_id}/replies$", method="POST", kind="drop", after="after")
    action = action_request(comment=thread, kind="reply", actor=alice, text="See you Sunday!")

    first = perform(action, last_try=False)
    assert first.outcome == "retry" and first.state == ActionState.PENDING
    with later(first.outcome.countdown):
        second = perform(action, last_try=False)

    assert second.state == ActionState.DONE
    on_meta_replies = [r for r in replies_on_meta(channel, thread) if r["text"] == "See you Sunday!"]
    assert len(on_meta_replies) == 1 and second.result_id == on_meta_replies[0]["id"]
    assert len(calls(sandbox_control, "POST", "/replies")) == 1  # the second attempt looked instead of posting
    assert Comment.objects.filter(parent=thread, from_us=True).count() == 1


def test_the_same_reply_sent_again_later_is_a_new_reply(inbox_channels, fan, alice):
    channel = inbox_channels["page"]
    thread = fan(channel)
    first = perform(action_request(comment=thread, kind="reply", actor=alice, text="Thank you!"))
    # A second "Thank you!" whose first attempt was lost must not adopt the earlier, unrelated reply.
    second = action_request(comment=thread, kind="reply", actor=alice, text="Thank you!")
    CommentAction.objects.filter(pk=second.pk).update(attempts=1)
    with CaptureQueriesContext(connection) as queries:
        second = perform(second)
    assert second.state == ActionState.DONE and second.result_id != first.result_id
    assert [r["text"] for r in replies_on_meta(channel, thread)].count("Thank you!") == 2
    # Which replies are taken is asked about the ones Meta listed, not read for every reply the channel ever sent.
    [taken] = [q["sql"] for q in queries if '"result_id" IN' in q["sql"]]
    assert first.result_id in taken


def test_a_lost_answer_on_a_mention_reply_is_left_to_a_person(inbox_channels, mention, alice, sandbox_control):
    thread = mention(inbox_channels["ig"])
    sandbox_control.fault(path=r"/mentions$", method="POST", kind="drop", after="after")

    action = perform(action_request(comment=thread, kind="reply", actor=alice, text="Thanks!"), last_try=False)

    assert action.state == ActionState.FAILED and action.error_code == "unconfirmed"
    assert "may or may not have been posted" in action.error
    assert len(calls(sandbox_control, "POST", "/mentions")) == 1


def test_a_rate_limit_comes_back_later_then_succeeds(inbox_channels, fan, alice, sandbox_control):
    comment = fan(inbox_channels["page"])
    sandbox_control.fault(path=r"/likes$", method="POST", error={"preset": "rate_limit_page"})
    action = action_request(comment=comment, kind="like", actor=alice)

    first = perform(action, last_try=False)
    assert first.outcome == "retry" and first.outcome.countdown > 0 and first.state == ActionState.PENDING
    with later(first.outcome.countdown):
        assert perform(action, last_try=False).state == ActionState.DONE


def test_a_rate_limit_on_the_last_try_is_refused_in_words(inbox_channels, fan, alice, sandbox_control):
    comment = fan(inbox_channels["page"])
    sandbox_control.fault(path=r"/likes$", method="POST", error={"preset": "rate_limit_page"})
    action = perform(action_request(comment=comment, kind="like", actor=alice))
    assert action.state == ActionState.FAILED and action.error_code == "80001"
    assert "slow down" in action.error
    comment.refresh_from_db()
    assert comment.liked_at is None


def test_a_refused_token_flags_the_channel_for_reconnecting(inbox_channels, fan, alice, sandbox_control):
    channel = inbox_channels["ig"]
    comment = fan(channel)
    sandbox_control.fault(path=r"/replies$", method="POST", error={"preset": "token_invalidated"})

    action = perform(action_request(comment=comment, kind="reply", actor=alice, text="Hi"))

    assert action.state == ActionState.FAILED and action.error_code.startswith("190")
    assert "Reconnect the account" in action.error
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT


def test_performing_twice_sends_once(inbox_channels, fan, alice, sandbox_control):
    thread = fan(inbox_channels["page"])
    action = action_request(comment=thread, kind="reply", actor=alice, text="Once")
    assert perform(action).outcome == "done"
    assert perform(action).outcome == "skipped"
    assert len(calls(sandbox_control, "POST", f"{thread.external_id}/comments")) == 1


def test_a_second_run_while_an_attempt_talks_to_meta_waits_instead_of_posting(
    inbox_channels, fan, alice, sandbox_control
):
    channel = inbox_channels["ig"]
    thread = fan(channel)
    action = action_request(comment=thread, kind="reply", actor=alice, text="See you at 9!")
    # A first run claimed it a moment ago and its POST is still on its way (the sweep or a Celery retry runs again).
    CommentAction.objects.filter(pk=action.pk).update(attempts=1, attempt_started_at=timezone.now())

    second = perform(action, last_try=False)

    window = actions.attempt_window().total_seconds()
    assert second.outcome == "retry" and second.outcome.countdown == window
    assert second.state == ActionState.PENDING and second.attempts == 1
    assert not calls(sandbox_control, "GET", "/replies") and not calls(sandbox_control, "POST", "/replies")
    # The first run died without an answer: once its hold ran out, the next run looks on Meta, then posts once.
    with later(window):
        assert perform(action, last_try=False).state == ActionState.DONE
    assert [r["text"] for r in replies_on_meta(channel, thread)] == ["See you at 9!"]
    assert len(calls(sandbox_control, "POST", "/replies")) == 1


def test_an_attempt_that_lost_the_action_while_looking_on_meta_does_not_post(
    inbox_channels, fan, alice, sandbox_control, monkeypatch
):
    thread = fan(inbox_channels["page"])
    action = action_request(comment=thread, kind="reply", actor=alice, text="We open at 7")
    CommentAction.objects.filter(pk=action.pk).update(attempts=1)  # an earlier attempt's answer was lost
    look = actions._find_sent_reply

    def slow_look(*args, **kwargs):
        found = look(*args, **kwargs)
        # Meanwhile, this attempt's hold having run out, another run claimed the action.
        CommentAction.objects.filter(pk=action.pk).update(attempts=3, attempt_started_at=timezone.now())
        return found

    monkeypatch.setattr(actions, "_find_sent_reply", slow_look)

    assert perform(action).outcome == "skipped"
    assert not calls(sandbox_control, "POST", f"{thread.external_id}/comments")


def test_after_an_outage_the_task_comes_back_once_its_hold_ran_out(inbox_channels, fan, alice, sandbox_control):
    comment = fan(inbox_channels["page"])
    # Meta is down a moment; the backoff (30 s) is shorter than the attempt holds the action.
    sandbox_control.fault(path=r"/likes$", method="POST", error={"preset": "transient"})
    action = action_request(comment=comment, kind="like", actor=alice)

    first = perform(action, last_try=False)

    assert first.outcome == "retry" and first.outcome.countdown > actions.attempt_window().total_seconds() - 1
    with later(first.outcome.countdown):  # not sent back only to find its own attempt still holding it
        assert perform(action, last_try=False).state == ActionState.DONE


@pytest.mark.parametrize("kind", ["hide", "like", "delete"])
def test_metas_success_false_is_a_refusal_and_nothing_changes(kind, inbox_channels, fan, alice, monkeypatch):
    channel = inbox_channels["page"]
    comment = fan(channel, text="Free followers at spam.example")
    real_request = GraphClient.request

    def meta_says_no(self, method, url_or_path, **kwargs):
        if method.upper() in ("POST", "DELETE") and comment.external_id in url_or_path:
            return {"success": False}
        return real_request(self, method, url_or_path, **kwargs)

    monkeypatch.setattr(GraphClient, "request", meta_says_no)

    action = perform(action_request(comment=comment, kind=kind, actor=alice))

    assert action.state == ActionState.FAILED and action.error_code == "not_confirmed"
    assert action.error == "Meta did not confirm this; nothing changed."
    comment.refresh_from_db()
    assert not comment.hidden and comment.liked_at is None and comment.deleted_at is None
    assert on_meta(channel, comment.external_id, "is_hidden")["is_hidden"] is False


def test_a_multi_line_reply_is_stored_and_sent_with_plain_line_breaks(inbox_channels, fan, alice, sandbox_control):
    channel = inbox_channels["ig"]
    thread = fan(channel)
    sandbox_control.fault(path=rf"/{thread.external_id}/replies$", method="POST", kind="drop", after="after")
    action = action_request(comment=thread, kind="reply", actor=alice, text="Hi Jane,\r\nsee you Sunday!\r\n  ")

    assert action.text == "Hi Jane,\nsee you Sunday!"
    first = perform(action, last_try=False)
    with later(first.outcome.countdown):
        second = perform(action, last_try=False)

    assert second.state == ActionState.DONE
    assert [r["text"] for r in replies_on_meta(channel, thread)] == ["Hi Jane,\nsee you Sunday!"]
    assert len(calls(sandbox_control, "POST", "/replies")) == 1  # the lost answer was found, not posted again


def test_a_disconnected_channel_refuses_before_meta(inbox_channels, fan, alice):
    channel = inbox_channels["page"]
    comment = fan(channel)
    channel.status = ChannelStatus.DISCONNECTED
    channel.save()
    with pytest.raises(ActionRefused, match="is disconnected"):
        action_request(comment=comment, kind="hide", actor=alice)


def test_a_broker_that_cannot_take_the_task_refuses_the_action(
    inbox_channels, fan, alice, monkeypatch, django_capture_on_commit_callbacks
):
    comment = fan(inbox_channels["page"])

    def broker_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(actions.current_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        action = action_request(comment=comment, kind="hide", actor=alice)
    action.refresh_from_db()
    assert action.state == ActionState.FAILED and "nothing was sent to Meta" in action.error


# --- local kinds: done, reopen, assign, tag -------------------------------------------------------------------
def test_done_and_reopen_change_the_thread_at_once(inbox_channels, make_comment, alice):
    thread = make_comment(inbox_channels["ig"])
    reply = make_comment(inbox_channels["ig"], parent=thread)

    done = action_request(comment=reply, kind="done", actor=alice)  # acting on a reply acts on its thread

    assert done.state == ActionState.DONE and done.finished_at and done.actor == alice
    thread.refresh_from_db()
    assert thread.status == CommentStatus.DONE
    with pytest.raises(ActionRefused, match="marked done already"):
        action_request(comment=thread, kind="done", actor=alice)
    action_request(comment=thread, kind="reopen", actor=alice)
    thread.refresh_from_db()
    assert thread.status == CommentStatus.NEW


def test_assigning_tells_the_assignee_unless_they_assigned_themselves(
    inbox_channels, make_comment, alice, moderator, django_capture_on_commit_callbacks
):
    thread = make_comment(inbox_channels["page"], text="Can I bring my dog?")
    with django_capture_on_commit_callbacks(execute=True):
        action_request(comment=thread, kind="assign", actor=alice, assignee=moderator)
    thread.refresh_from_db()
    assert thread.assignee == moderator
    [note] = Notification.objects.filter(user=moderator, kind=Kind.COMMENT_ASSIGNED)
    assert "Alice Owner assigned you" in note.title and str(thread.public_id) in note.url

    with django_capture_on_commit_callbacks(execute=True):
        action_request(comment=thread, kind="assign", actor=alice, assignee=alice)
    assert not Notification.objects.filter(user=alice, kind=Kind.COMMENT_ASSIGNED).exists()


def test_people_who_moderate_are_the_ones_who_may_be_assigned(workspace, alice, moderator, analyst, editor, bob):
    people = actions.assignable_people(workspace)
    assert alice in people and moderator in people
    assert analyst not in people and editor not in people and bob not in people


def test_only_people_who_moderate_can_be_assigned(inbox_channels, make_comment, alice, analyst, editor):
    thread = make_comment(inbox_channels["page"])
    for person in (analyst, editor):
        with pytest.raises(ActionRefused, match="cannot moderate this workspace's inbox"):
            action_request(comment=thread, kind="assign", actor=alice, assignee=person)
    thread.refresh_from_db()
    assert thread.assignee is None


def test_tags_are_added_and_removed(inbox_channels, make_comment, alice):
    thread = make_comment(inbox_channels["page"])
    action_request(comment=thread, kind="tag", actor=alice, text="  pricing ")
    action_request(comment=thread, kind="tag", actor=alice, text="complaint")
    thread.refresh_from_db()
    assert thread.tags == ["pricing", "complaint"]
    with pytest.raises(ActionRefused, match="tagged “pricing” already"):
        action_request(comment=thread, kind="tag", actor=alice, text="pricing")
    action_request(comment=thread, kind="untag", actor=alice, text="pricing")
    thread.refresh_from_db()
    assert thread.tags == ["complaint"]


# --- undo -----------------------------------------------------------------------------------------------------
def test_undo_of_a_hide_shows_the_comment_again_on_meta(inbox_channels, fan, alice):
    channel = inbox_channels["page"]
    comment = fan(channel)
    hide = perform(action_request(comment=comment, kind="hide", actor=alice))

    undo = perform(actions.action_undo(action=hide, actor=alice))

    assert undo.kind == "unhide" and undo.undo_of == hide and undo.state == ActionState.DONE
    assert on_meta(channel, comment.external_id, "is_hidden")["is_hidden"] is False
    with pytest.raises(ActionRefused, match="undone already"):
        actions.action_undo(action=hide, actor=alice)


def test_undo_of_an_assignment_gives_it_back(inbox_channels, make_comment, alice, moderator):
    thread = make_comment(inbox_channels["page"])
    action_request(comment=thread, kind="assign", actor=alice, assignee=alice)
    second = action_request(comment=thread, kind="assign", actor=alice, assignee=moderator)

    actions.action_undo(action=second, actor=alice)

    thread.refresh_from_db()
    assert thread.assignee == alice


@pytest.mark.parametrize("kind", ["reply", "delete"])
def test_replies_and_deletions_cannot_be_undone(kind, inbox_channels, fan, alice):
    comment = fan(inbox_channels["page"])
    action = perform(action_request(comment=comment, kind=kind, actor=alice, text="Hi"))
    with pytest.raises(ActionRefused, match="cannot be"):
        actions.action_undo(action=action, actor=alice)


# --- bulk -----------------------------------------------------------------------------------------------------
def test_bulk_hide_acts_on_each_and_reports_the_refused(inbox_channels, fan, make_comment, alice):
    channel = inbox_channels["ig"]
    spam = [fan(channel, text=f"Free followers {n}") for n in range(2)]
    already = fan(channel, text="Old spam", hidden=True)

    results = actions.bulk_request(comments=[*spam, already], kind="hide", actor=alice)

    made = [r for r in results if r.pk]
    refused = [r for r in results if not r.pk]
    assert len(made) == 2 and all(r.state == ActionState.PENDING for r in made)
    assert [(r.comment, r.error) for r in refused] == [(already, "This comment is hidden already.")]
    for action in made:
        assert perform(action).state == ActionState.DONE
    for comment in spam:
        assert on_meta(channel, comment.external_id, "hidden")["hidden"] is True


def test_bulk_assign_and_done(inbox_channels, make_comment, alice, moderator):
    threads = [make_comment(inbox_channels["page"]) for _ in range(3)]
    actions.bulk_request(comments=threads, kind="assign", actor=alice, assignee=moderator)
    actions.bulk_request(comments=threads, kind="done", actor=alice)
    assert set(Comment.objects.filter(pk__in=[t.pk for t in threads]).values_list("assignee", "status")) == {
        (moderator.pk, CommentStatus.DONE)
    }


def test_bulk_takes_only_some_kinds(inbox_channels, make_comment, alice):
    with pytest.raises(ActionRefused, match="Only these can be done to many comments at once"):
        actions.bulk_request(comments=[make_comment(inbox_channels["page"])], kind="delete", actor=alice)

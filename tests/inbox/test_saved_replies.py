"""Saved replies: `{first_name}` and `{post_link}` filled in for each comment, the list/add/edit/delete pages, and who
may change them (managers and moderators; analysts and clients read them; editors do not see the inbox)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from inbox.models import InboxPost, SavedReply
from inbox.services.replies import saved_reply_create, saved_reply_render
from tests.factories import AgencyMembershipFactory, ChannelFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_channel(inbox_channels):
    return inbox_channels["page"]


def with_permalink(comment, url="https://www.facebook.com/183533740681241/posts/42"):
    InboxPost.objects.filter(pk=comment.inbox_post_id).update(permalink=url)
    comment.inbox_post.refresh_from_db()
    return comment


@pytest.mark.parametrize(
    "author,expected",
    [("Jane Doe", "Jane"), ("  Zoë  Müller ", "Zoë"), ("jane_doe", "jane_doe"), ("", "there")],
)
def test_first_name_is_the_first_word_of_the_authors_name_or_there(author, expected, page_channel, make_comment):
    comment = make_comment(page_channel, author_name=author)
    assert saved_reply_render("Hi {first_name}!", comment=comment) == f"Hi {expected}!"


def test_post_link_is_the_permalink_and_other_braces_stay(page_channel, make_comment, alice):
    comment = with_permalink(make_comment(page_channel, author_name="Jane Doe"))
    saved = saved_reply_create(
        workspace=page_channel.workspace, title="Details", text="Thanks {first_name}, all on {post_link} :{)", by=alice
    )
    assert saved_reply_render(saved, comment=comment) == (
        "Thanks Jane, all on https://www.facebook.com/183533740681241/posts/42 :{)"
    )


def test_an_unknown_placeholder_is_refused_when_saving(page_channel, alice):
    with pytest.raises(ValidationError) as refused:
        saved_reply_create(workspace=page_channel.workspace, title="Oops", text="Hi {firstname}!", by=alice)
    assert refused.value.message_dict == {"text": ["Unknown placeholder {firstname}: use {first_name} or {post_link}."]}
    assert not SavedReply.objects.exists()


def replies_url(workspace):
    return reverse("inbox:saved_replies", kwargs={"workspace_id": workspace.public_id})


def test_the_page_lists_replies_and_explains_the_placeholders(client, page_channel, alice):
    saved_reply_create(workspace=page_channel.workspace, title="Thanks", text="Thank you {first_name}!", by=alice)
    html = client.get(replies_url(page_channel.workspace)).content.decode()
    assert "Thank you {first_name}!" in html and "saved-reply-title" in html
    assert "{first_name}" in html and "{post_link}" in html and "The link to the post the comment is on." in html
    assert "Add a saved reply" in html


def test_a_moderator_adds_edits_and_deletes_a_saved_reply(client, page_channel, moderator):
    client.force_login(moderator)
    url = replies_url(page_channel.workspace)

    answer = client.post(url, {"title": "Opening hours", "text": "We open at 7, {first_name}."})
    assert answer.status_code == 302
    saved = SavedReply.objects.get()
    assert saved.created_by == moderator and saved.text == "We open at 7, {first_name}."

    edit = reverse(
        "inbox:saved_reply_edit", kwargs={"workspace_id": page_channel.workspace.public_id, "reply_id": saved.public_id}
    )
    assert "We open at 7" in client.get(edit).content.decode()
    assert client.post(edit, {"title": "Hours", "text": "We open at 6, {first_name}."}).status_code == 302
    saved.refresh_from_db()
    assert (saved.title, saved.text) == ("Hours", "We open at 6, {first_name}.")

    delete = reverse(
        "inbox:saved_reply_delete",
        kwargs={"workspace_id": page_channel.workspace.public_id, "reply_id": saved.public_id},
    )
    assert client.post(delete).status_code == 302
    assert not SavedReply.objects.exists()


def test_a_refused_saved_reply_comes_back_with_the_reason_and_the_text(client, page_channel, alice):
    saved_reply_create(workspace=page_channel.workspace, title="Thanks", text="Thanks!", by=alice)
    answer = client.post(replies_url(page_channel.workspace), {"title": "thanks", "text": "Thanks again {name}"})
    html = answer.content.decode()
    assert answer.status_code == 400
    assert "Another saved reply has this name." in html and "Unknown placeholder {name}" in html
    assert "Thanks again {name}</textarea>" in html
    assert SavedReply.objects.count() == 1


def test_analysts_read_but_may_not_change_saved_replies(client, page_channel, alice, analyst):
    saved = saved_reply_create(workspace=page_channel.workspace, title="Thanks", text="Thanks!", by=alice)
    client.force_login(analyst)
    html = client.get(replies_url(page_channel.workspace)).content.decode()
    assert "Thanks!" in html and "Add a saved reply" not in html
    assert client.post(replies_url(page_channel.workspace), {"title": "X", "text": "Y"}).status_code == 403
    ids = {"workspace_id": page_channel.workspace.public_id, "reply_id": saved.public_id}
    assert client.post(reverse("inbox:saved_reply_delete", kwargs=ids)).status_code == 403
    assert client.get(reverse("inbox:saved_reply_edit", kwargs=ids)).status_code == 403


def test_editors_do_not_see_saved_replies_and_strangers_get_404(client, page_channel, editor, charlie, alice):
    saved = saved_reply_create(workspace=page_channel.workspace, title="Thanks", text="Thanks!", by=alice)
    client.force_login(editor)
    assert client.get(replies_url(page_channel.workspace)).status_code == 403
    client.force_login(charlie)
    ids = {"workspace_id": page_channel.workspace.public_id, "reply_id": saved.public_id}
    assert client.get(replies_url(page_channel.workspace)).status_code == 404
    assert client.post(reverse("inbox:saved_reply_delete", kwargs=ids)).status_code == 404
    assert SavedReply.objects.exists()


def test_a_saved_reply_of_another_workspace_is_404(client, page_channel, alice):
    elsewhere = WorkspaceFactory()
    AgencyMembershipFactory(agency=elsewhere.agency, user=alice, role="owner")
    foreign = saved_reply_create(workspace=elsewhere, title="Theirs", text="Not yours", by=alice)
    ids = {"workspace_id": page_channel.workspace.public_id, "reply_id": foreign.public_id}
    assert client.get(reverse("inbox:saved_reply_edit", kwargs=ids)).status_code == 404
    assert client.post(reverse("inbox:saved_reply_delete", kwargs=ids)).status_code == 404
    assert SavedReply.objects.filter(pk=foreign.pk).exists()


def test_the_picker_fills_in_each_comment(client, page_channel, make_comment, alice):
    saved_reply_create(
        workspace=page_channel.workspace, title="Hi", text="Hi {first_name}! More: {post_link}", by=alice
    )
    nameless = with_permalink(make_comment(page_channel, author_name=""), "https://www.facebook.com/x/posts/1")
    url = reverse(
        "inbox:reply_form", kwargs={"workspace_id": page_channel.workspace.public_id, "comment_id": nameless.public_id}
    )
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-text="Hi there! More: https://www.facebook.com/x/posts/1"' in html


def test_a_channel_of_another_workspace_does_not_lend_its_saved_replies(page_channel, make_comment, alice):
    from inbox.services.replies import saved_replies_rendered

    other = ChannelFactory(workspace=WorkspaceFactory())
    saved_reply_create(workspace=other.workspace, title="Theirs", text="Not for you", by=alice)
    comment = make_comment(page_channel)
    assert saved_replies_rendered(workspace=page_channel.workspace, comment=comment) == []

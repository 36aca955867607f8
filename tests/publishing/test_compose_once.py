"""One composer form makes one post: a double click, or going back and sending the same form again, finds the post
the first send made instead of making a second one."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from unittest import mock

import pytest

from accounts.models import Channel
from accounts.scopes import FACEBOOK_LOGIN_SCOPES
from publishing.models import Delivery, Post
from publishing.services.posts import post_create
from tests.factories import WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]  # scheduling for later asks nothing of Meta


def make_page(workspace, external_id: str = "183533740681241") -> Channel:
    return Channel.objects.create(
        workspace=workspace,
        platform="facebook_page",
        connected_via="facebook_login",
        external_id=external_id,
        name="Acme Coffee Page",
        access_token="page-token",
        granted_scopes=list(FACEBOOK_LOGIN_SCOPES),
    )


@pytest.fixture
def page(workspace) -> Channel:
    return make_page(workspace)


def token_in(html: str) -> str:
    found = re.search(r'<input type="hidden" name="form_token" value="([0-9a-f-]{36})">', html)
    assert found, "the composer carries a one-time form token"
    return found.group(1)


def composer_form(client, workspace, page, **extra) -> dict:
    token = token_in(client.get(f"/w/{workspace.public_id}/posts/new/").content.decode())
    return {
        "form_token": token,
        "channels": [page.pk],
        "format": "feed",
        "caption": "Fresh bread at 8",
        "when": "later",
        "date": (date.today() + timedelta(days=2)).isoformat(),
        "time": "09:30",
        **extra,
    }


def test_each_rendered_composer_has_its_own_token(client, alice, workspace, page):
    client.force_login(alice)
    url = f"/w/{workspace.public_id}/posts/new/"
    first, second = (token_in(client.get(url).content.decode()) for _ in range(2))
    assert first != second
    uuid.UUID(first)


def test_sending_the_same_form_twice_makes_one_post(client, alice, workspace, page):
    client.force_login(alice)
    data = composer_form(client, workspace, page)
    first = client.post(f"/w/{workspace.public_id}/posts/new/", data)
    second = client.post(f"/w/{workspace.public_id}/posts/new/", data)  # double click, or back and send again

    post = Post.objects.get()
    assert Delivery.objects.count() == 1
    assert str(post.form_token) == data["form_token"]
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == f"/w/{workspace.public_id}/posts/#post-{post.public_id}"
    page_after = client.get(second.url).content.decode()
    assert "This post was already saved; sending the form again did not add a second one." in page_after


def test_two_forms_make_two_posts(client, alice, workspace, page):
    client.force_login(alice)
    for _ in range(2):
        client.post(f"/w/{workspace.public_id}/posts/new/", composer_form(client, workspace, page))
    assert Post.objects.count() == 2


def test_a_form_refused_by_validation_can_be_fixed_and_sent_again(client, alice, workspace, page):
    client.force_login(alice)
    data = composer_form(client, workspace, page, caption="")  # a Facebook text post needs some text
    response = client.post(f"/w/{workspace.public_id}/posts/new/", data)
    assert response.status_code == 200 and not Post.objects.exists()
    assert token_in(response.content.decode()) == data["form_token"]  # the same form, re-rendered
    assert client.post(f"/w/{workspace.public_id}/posts/new/", {**data, "caption": "Fresh bread"}).status_code == 302
    assert Post.objects.get().caption == "Fresh bread"


def test_post_create_returns_the_post_a_token_already_made(workspace, alice, page):
    token = uuid.uuid4()
    first = post_create(workspace=workspace, author=alice, channels=[page], caption="Once", form_token=token)
    again = post_create(workspace=workspace, author=alice, channels=[page], caption="Once", form_token=token)
    assert again.pk == first.pk and again.form_token_reused
    assert not getattr(first, "form_token_reused", False)
    assert Post.objects.count() == 1 and Delivery.objects.count() == 1


def test_the_same_token_in_another_workspace_is_another_post(workspace, alice, page):
    token = uuid.uuid4()
    other = WorkspaceFactory(agency=workspace.agency, name="Second Brand")
    post_create(workspace=workspace, author=alice, channels=[page], caption="Here", form_token=token)
    there = post_create(
        workspace=other, author=alice, channels=[make_page(other, "9001")], caption="There", form_token=token
    )
    assert not getattr(there, "form_token_reused", False)
    assert Post.objects.count() == 2


def test_two_sends_at_the_same_moment_meet_at_the_unique_constraint(workspace, alice, page):
    """The other send's post is saved between this send's look-up and its insert: the insert fails on the unique
    constraint, and the post the other send made is returned, whole, with nothing of this send left behind."""
    token = uuid.uuid4()
    winner = post_create(workspace=workspace, author=alice, channels=[page], caption="Winner", form_token=token)
    real_filter = Post.objects.filter
    calls = []

    def look_up_before_the_winner_committed(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        return Post.objects.none() if len(calls) == 1 else real_filter(*args, **kwargs)

    with mock.patch.object(Post.objects, "filter", side_effect=look_up_before_the_winner_committed):
        loser = post_create(workspace=workspace, author=alice, channels=[page], caption="Loser", form_token=token)
    assert len(calls) == 2  # looked up, lost at the insert, looked up again
    assert loser.pk == winner.pk and loser.caption == "Winner" and loser.form_token_reused
    assert Post.objects.count() == 1 and Delivery.objects.count() == 1

"""Approvals with the team and the client: the three flows, who decides which stage, requests for changes, the
decisions and comments recorded, who is told, refusing decisions from pages that are out of date, and the
client's magic link (expiry, revocation, every use recorded, and nothing of another workspace)."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import time, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.models import ApprovalFlow
from notifications.models import Kind, Notification
from publishing import approval_views
from publishing.models import (
    ApprovalLink,
    ApprovalLinkUse,
    DeliveryState,
    Post,
    PostComment,
)
from publishing.services import approvals, composer
from publishing.services.media import asset_from_signed
from publishing.services.posts import MediaItem, NotAwaitingApproval, post_create, post_submit
from tests.factories import (
    AgencyMembershipFactory,
    ChannelFactory,
    MediaAssetFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMembershipFactory,
)

pytestmark = pytest.mark.django_db

A, S = Post.Approval, DeliveryState


def joined(agency, workspace, role: str, email: str, full_name: str):
    """A person in the agency (as a member) with `role` in the workspace."""
    person = UserFactory(email=email, full_name=full_name)
    AgencyMembershipFactory(agency=agency, user=person, role="member")
    WorkspaceMembershipFactory(workspace=workspace, user=person, role=role)
    return person


@pytest.fixture
def dana(agency, workspace):
    """Dana works at the brand: a member of the workspace with the client role."""
    return joined(agency, workspace, "client", "dana@acme.example", "Dana Client")


@pytest.fixture
def mia(agency, workspace):
    """Mia manages the workspace (a workspace manager, not an agency owner)."""
    return joined(agency, workspace, "manager", "mia@northwind.example", "Mia Manager")


@pytest.fixture
def page(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice)


def flow(workspace, value: str) -> None:
    workspace.approval_flow = value
    workspace.save(update_fields=["approval_flow"])


def access(user, workspace):
    return get_workspace_for_user(user, workspace.public_id)


def member(user, workspace) -> approvals.Reviewer:
    return approvals.Reviewer(access=access(user, workspace), user=user)


def make(workspace, author, page, caption: str = "Fresh bread at 8") -> Post:
    post = post_create(
        workspace=workspace,
        author=author,
        channels=[page],
        caption=caption,
        scheduled_at=timezone.now() + timedelta(days=2),
    )
    composer.record_version(post, author)
    return post


def submitted(workspace, author, page, caption: str = "Fresh bread at 8") -> Post:
    post = make(workspace, author, page, caption)
    post_submit(post=post, access=access(author, workspace), user=author)
    post.refresh_from_db()
    return post


def states(post: Post) -> list[str]:
    return list(post.deliveries.values_list("state", flat=True))


def told(user, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind))


def open_link(browser: Client, token: str):
    return browser.get(f"/review/{token}/", HTTP_USER_AGENT="Brand browser 1.0", REMOTE_ADDR="203.0.113.7")


# --- the flows ---------------------------------------------------------------------------------------------------
def test_flow_none_lets_an_editor_schedule_directly(workspace, bob, page):
    flow(workspace, ApprovalFlow.NONE)
    post = submitted(workspace, bob, page)
    assert post.approval == A.NOT_REQUIRED
    assert states(post) == [S.SCHEDULED]
    assert not post.decisions.exists()


def test_flow_internal_an_editors_post_waits_for_a_manager(workspace, alice, bob, mia, page):
    post = submitted(workspace, bob, page)
    assert (post.approval, states(post)) == (A.PENDING, [S.AWAITING_APPROVAL])
    submit = post.decisions.get()
    assert (submit.stage, submit.action, submit.actor, submit.version) == ("internal", "submitted", bob, 1)
    # The managers are asked; the editor who sent it is not.
    assert told(alice, Kind.APPROVAL_REQUESTED) and told(mia, Kind.APPROVAL_REQUESTED)
    assert not told(bob, Kind.APPROVAL_REQUESTED)

    approvals.post_approve(post=post, by=member(mia, workspace))
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.APPROVED, [S.SCHEDULED])
    decision = post.decisions.last()
    assert (decision.stage, decision.action, decision.actor, decision.actor_name) == (
        "internal",
        "approved",
        mia,
        "Mia Manager",
    )
    [given] = told(bob, Kind.APPROVAL_GIVEN)
    assert "Mia Manager" in given.body and "scheduled" in given.body
    assert given.url == f"/w/{workspace.public_id}/posts/{post.public_id}/review/"


def test_flow_internal_a_managers_post_is_scheduled_directly(workspace, alice, page):
    post = submitted(workspace, alice, page)
    assert (post.approval, states(post)) == (A.NOT_REQUIRED, [S.SCHEDULED])


def test_flow_internal_client_goes_through_the_team_then_the_client(workspace, alice, bob, mia, dana, page):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, bob, page)
    assert post.approval == A.PENDING
    assert not told(dana, Kind.APPROVAL_REQUESTED)  # not the client's turn yet

    approvals.post_approve(post=post, by=member(mia, workspace))
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.CLIENT_PENDING, [S.AWAITING_APPROVAL])
    [asked] = told(dana, Kind.APPROVAL_REQUESTED)
    assert "The team approved it" in asked.body
    assert "waits for the client" in told(bob, Kind.APPROVAL_GIVEN)[0].body

    approvals.post_approve(post=post, by=member(dana, workspace))
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.APPROVED, [S.SCHEDULED])
    steps = list(post.decisions.values_list("stage", "action", "actor__email"))
    assert steps == [
        ("internal", "submitted", bob.email),
        ("internal", "approved", mia.email),
        ("client", "approved", dana.email),
    ]
    assert len(told(bob, Kind.APPROVAL_GIVEN)) == 2


def test_flow_internal_client_a_managers_post_starts_with_the_client(workspace, mia, dana, page):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, mia, page)
    assert (post.approval, states(post)) == (A.CLIENT_PENDING, [S.AWAITING_APPROVAL])
    decision = post.decisions.get()
    assert (decision.stage, decision.action, decision.actor) == ("client", "submitted", mia)
    assert told(dana, Kind.APPROVAL_REQUESTED)


def test_nobody_acts_at_a_stage_not_theirs(workspace, alice, bob, dana, page):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, bob, page)
    with pytest.raises(PermissionDenied):
        approvals.post_approve(post=post, by=member(dana, workspace))  # the client, at the team's stage
    with pytest.raises(PermissionDenied):
        approvals.post_request_changes(post=post, by=member(bob, workspace), comment="Looks fine to me")
    approvals.post_approve(post=post, by=member(alice, workspace))
    with pytest.raises(PermissionDenied):
        approvals.post_approve(post=post, by=member(alice, workspace))  # a manager, at the client's stage
    post.refresh_from_db()
    assert post.approval == A.CLIENT_PENDING


def test_the_review_page_refuses_a_decision_from_the_wrong_person_with_403(client, workspace, alice, bob, dana, page):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, bob, page)
    approve = f"/w/{workspace.public_id}/posts/{post.public_id}/approve/"
    client.force_login(dana)
    assert client.post(approve, {"stage": "internal"}).status_code == 403
    client.force_login(bob)
    assert client.post(approve).status_code == 403
    client.force_login(alice)
    assert client.post(approve, {"stage": "internal", "version": "1"}).status_code == 302
    assert client.post(approve, {"stage": "client"}).status_code == 403
    post.refresh_from_db()
    assert post.approval == A.CLIENT_PENDING


# --- changes requested -------------------------------------------------------------------------------------------
def test_request_changes_needs_a_comment_and_sends_the_post_back_to_draft(workspace, alice, bob, page):
    post = submitted(workspace, bob, page)
    with pytest.raises(approvals.CommentRequired):
        approvals.post_request_changes(post=post, by=member(alice, workspace), comment="   ")
    post.refresh_from_db()
    assert post.approval == A.PENDING

    approvals.post_request_changes(post=post, by=member(alice, workspace), comment="Say 8:30, not 8.")
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.REJECTED, [S.DRAFT])
    decision = post.decisions.last()
    assert (decision.action, decision.comment, decision.version, decision.actor) == (
        "changes_requested",
        "Say 8:30, not 8.",
        1,
        alice,
    )
    [note] = told(bob, Kind.CHANGES_REQUESTED)
    assert "Say 8:30, not 8." in note.body


def test_after_changes_the_author_edits_and_submits_and_it_starts_at_the_first_stage_again(
    client, workspace, alice, bob, dana, page
):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, bob, page)
    approvals.post_approve(post=post, by=member(alice, workspace))
    approvals.post_request_changes(post=post, by=member(dana, workspace), comment="Use the photo of the oven")
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.REJECTED, [S.DRAFT])

    client.force_login(bob)
    day = (timezone.localtime(timezone.now(), workspace.zoneinfo) + timedelta(days=3)).date()
    response = client.post(
        f"/w/{workspace.public_id}/posts/{post.public_id}/edit/",
        {
            "channels": [page.pk],
            "format": "feed",
            "caption": "Fresh bread at 8:30",
            "when": "later",
            "date": day.isoformat(),
            "time": "09:30",
            "intent": "submit",
        },
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.PENDING, [S.AWAITING_APPROVAL])
    last = post.decisions.last()
    assert (last.stage, last.action, last.version) == ("internal", "submitted", 2)


# --- stale decisions ---------------------------------------------------------------------------------------------
def test_a_decision_from_a_page_showing_an_older_version_is_refused(workspace, alice, bob, page):
    post = submitted(workspace, bob, page)
    Post.objects.filter(pk=post.pk).update(caption="Changed meanwhile")
    composer.record_version(Post.objects.get(pk=post.pk), bob)  # version 2, still awaiting approval
    with pytest.raises(NotAwaitingApproval, match="changed since you opened it"):
        approvals.post_approve(post=post, by=member(alice, workspace), stage="internal", version=1)
    with pytest.raises(NotAwaitingApproval, match="changed since you opened it"):
        approvals.post_request_changes(post=post, by=member(alice, workspace), comment="No", version=1)
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.PENDING, [S.AWAITING_APPROVAL])
    approvals.post_approve(post=post, by=member(alice, workspace), stage="internal", version=2)
    post.refresh_from_db()
    assert post.approval == A.APPROVED


def test_a_decision_on_a_post_that_moved_on_says_so(client, workspace, alice, mia, bob, page):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, bob, page)
    approvals.post_approve(post=post, by=member(mia, workspace), stage="internal", version=1)
    # Alice's page still shows the team's stage.
    client.force_login(alice)
    response = client.post(
        f"/w/{workspace.public_id}/posts/{post.public_id}/approve/",
        {"stage": "internal", "version": "1"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "moved on since you opened it" in body
    assert "the client&#x27;s approval" in body
    assert post.decisions.filter(action="approved").count() == 1


def test_a_decision_on_a_post_its_author_took_back_is_refused(workspace, alice, bob, page):
    post = submitted(workspace, bob, page)
    approvals.post_request_changes(post=post, by=member(alice, workspace), comment="Shorter, please")
    with pytest.raises(NotAwaitingApproval, match="Changes were already requested"):
        approvals.post_approve(post=post, by=member(alice, workspace))
    post.refresh_from_db()
    assert states(post) == [S.DRAFT]


# --- comments ----------------------------------------------------------------------------------------------------
def test_comments_are_threaded_and_participants_are_told_but_not_the_commenter(workspace, alice, bob, mia, dana, page):
    post = submitted(workspace, bob, page)
    first = approvals.post_comment_add(post=post, by=member(mia, workspace), body="Is 8 right?")
    reply = approvals.post_comment_add(post=post, by=member(bob, workspace), body="Yes, 8 sharp.", parent=first)
    reply_to_reply = approvals.post_comment_add(post=post, by=member(mia, workspace), body="Thanks", parent=reply)
    assert reply.parent == first and reply_to_reply.parent == first  # one thread, in order
    assert [(root.body, [r.body for r in rs]) for root, rs in approvals.threads(list(post.comments.all()))] == [
        ("Is 8 right?", ["Yes, 8 sharp.", "Thanks"])
    ]
    # Mia's first comment: the author and the approvers hear of it; Mia does not.
    first_told = set(Notification.objects.filter(key=f"comment:{first.pk}").values_list("user__email", flat=True))
    assert first_told == {bob.email, alice.email}
    reply_told = set(Notification.objects.filter(key=f"comment:{reply.pk}").values_list("user__email", flat=True))
    assert reply_told == {mia.email, alice.email}
    assert dana.email not in first_told | reply_told  # not a participant in the internal flow


def test_an_empty_comment_or_a_reply_to_another_posts_comment_is_refused(client, workspace, alice, bob, page):
    post = submitted(workspace, bob, page)
    other = submitted(workspace, bob, page, caption="Another")
    elsewhere = approvals.post_comment_add(post=other, by=member(alice, workspace), body="On the other post")
    with pytest.raises(approvals.CommentRequired):
        approvals.post_comment_add(post=post, by=member(alice, workspace), body="  ")
    client.force_login(alice)
    url = f"/w/{workspace.public_id}/posts/{post.public_id}/comments/"
    assert client.post(url, {"body": "Reply", "parent": elsewhere.pk}).status_code == 404
    response = client.post(url, {"body": "Looks good"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Looks good" in response.content.decode()
    assert post.comments.get().author == alice


# --- the review page and the lists --------------------------------------------------------------------------------
def test_the_review_page_shows_previews_history_comments_and_actions_to_whoever_decides(
    client, workspace, alice, bob, page
):
    post = submitted(workspace, bob, page, caption="Sourdough Saturday #bread")
    approvals.post_comment_add(post=post, by=member(bob, workspace), body="First try at this one")
    url = f"/w/{workspace.public_id}/posts/{post.public_id}/review/"
    client.force_login(alice)
    body = client.get(url).content.decode()
    assert "pv-card" in body and "Sourdough Saturday" in body  # the preview
    assert "Sent for the team's approval" in body and "Bob Editor" in body
    assert "First try at this one" in body
    assert "Request changes" in body and 'name="version" value="1"' in body
    client.force_login(bob)
    body = client.get(url).content.decode()
    assert "First try at this one" in body and "Request changes" not in body


def test_review_page_queries_do_not_grow_with_comments_and_decisions(client, workspace, alice, bob, page):
    post = submitted(workspace, bob, page)
    url = f"/w/{workspace.public_id}/posts/{post.public_id}/review/"
    client.force_login(alice)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(10):
        approvals.post_comment_add(post=post, by=member(bob, workspace), body=f"Comment {n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_approvals_list_shows_what_waits_for_me_and_my_own_posts(client, workspace, alice, bob, dana, page):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    internal = submitted(workspace, bob, page, caption="For the team")
    at_client = submitted(workspace, alice, page, caption="For the brand")
    client.force_login(alice)
    body = client.get(f"/w/{workspace.public_id}/approvals/").content.decode()
    waiting = body.split('id="waiting-for-me"')[1].split("</ul>")[0]
    assert str(internal.public_id) in waiting and str(at_client.public_id) not in waiting
    client.force_login(dana)
    body = client.get(f"/w/{workspace.public_id}/approvals/").content.decode()
    waiting = body.split('id="waiting-for-me"')[1].split("</ul>")[0]
    assert str(at_client.public_id) in waiting and str(internal.public_id) not in waiting
    client.force_login(bob)
    body = client.get(f"/w/{workspace.public_id}/approvals/").content.decode()
    mine = body.split('id="my-posts"')[1].split("</ul>")[0]
    assert str(internal.public_id) in mine
    assert f'href="/w/{workspace.public_id}/approvals/"' in body  # in the navigation


def test_approvals_list_pages_what_waits_oldest_first_in_a_fixed_number_of_queries(client, workspace, alice, bob, page):
    first = submitted(workspace, bob, page, caption="The oldest")
    for n in range(3):
        submitted(workspace, bob, page, caption=f"Then {n}")
    url = f"/w/{workspace.public_id}/approvals/"
    client.force_login(alice)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(22):
        submitted(workspace, bob, page, caption=f"Later {n}")
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    waiting = body.split('id="waiting-for-me"')[1].split("</ul>")[0]
    assert waiting.count('class="list-group-item') == 20 and str(first.public_id) in waiting
    assert "Page 1 of 2 (26 posts)" in body
    second = client.get(url, {"page": 2}).content.decode().split('id="waiting-for-me"')[1].split("</ul>")[0]
    assert second.count('class="list-group-item') == 6 and str(first.public_id) not in second


def test_paging_one_approvals_list_keeps_the_page_of_the_other(client, workspace, alice, bob, page, monkeypatch):
    monkeypatch.setattr(approval_views, "APPROVALS_PER_PAGE", 1)
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    for n in range(2):
        submitted(workspace, bob, page, caption=f"Bob's {n}")  # waits for Alice
        submitted(workspace, alice, page, caption=f"Alice's {n}")  # hers, with the client
    client.force_login(alice)
    body = client.get(f"/w/{workspace.public_id}/approvals/", {"page": 2, "mine": 1}).content.decode()
    links = {
        label: parse_qs(urlsplit(unescape(href)).query)
        for href, label in re.findall(r'<a class="page-link" href="([^"]*)">(\w+)</a>', body)
    }
    # Waiting for me: page 2 of 2, back to page 1; mine: page 1 of 2, on to page 2. Each keeps the other's page.
    assert links == {"Previous": {"page": ["1"], "mine": ["1"]}, "Next": {"page": ["2"], "mine": ["2"]}}


def test_the_posts_list_links_to_the_review_and_says_when_the_client_has_it(client, workspace, alice, dana, page):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, alice, page)
    client.force_login(alice)
    body = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert "Awaiting the client" in body
    assert f"/posts/{post.public_id}/review/" in body and "Approve or request changes" not in body
    client.force_login(dana)
    assert "Approve or request changes" in client.get(f"/w/{workspace.public_id}/posts/").content.decode()


# --- magic links -------------------------------------------------------------------------------------------------
@pytest.fixture
def brand_link(workspace, alice):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    return approvals.approval_link_create(workspace=workspace, name="Rosa at Acme", created_by=alice)


def test_a_link_is_stored_hashed_shown_once_and_valid_for_14_days(client, workspace, alice):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    client.force_login(alice)
    url = f"/w/{workspace.public_id}/approvals/links/"
    response = client.post(url, {"name": "Rosa at Acme", "email": "rosa@acme.example", "days": "14"})
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    link = ApprovalLink.objects.get()
    token = response.context["created"]["url"].rsplit("/review/", 1)[1].strip("/")
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in link.token_hash
    assert abs(link.expires_at - (link.created_at + timedelta(days=14))) < timedelta(seconds=5)
    assert token not in client.get(url).content.decode()  # shown that once only
    assert client.post(url, {"name": "Too long", "days": "400"}).status_code == 200
    assert ApprovalLink.objects.count() == 1


def test_only_managers_make_or_revoke_links(client, workspace, bob, dana, brand_link):
    link, _ = brand_link
    for person in (bob, dana):
        client.force_login(person)
        assert client.get(f"/w/{workspace.public_id}/approvals/links/").status_code == 403
        assert client.post(f"/w/{workspace.public_id}/approvals/links/{link.public_id}/revoke/").status_code == 403
    link.refresh_from_db()
    assert link.revoked_at is None


def test_the_client_reviews_through_the_link_and_every_use_is_recorded(workspace, alice, bob, mia, brand_link, page):
    link, token = brand_link
    photo = MediaAssetFactory(workspace=workspace, original_name="croissants.jpg")
    post = post_create(
        workspace=workspace,
        author=mia,
        channels=[page],
        caption="Croissants on Sunday",
        media=[MediaItem(photo)],
        scheduled_at=timezone.now() + timedelta(days=2),
    )
    composer.record_version(post, mia)
    post_submit(post=post, access=access(mia, workspace), user=mia)
    browser = Client()
    response = open_link(browser, token)
    assert response.status_code == 302 and response["Location"] == "/review/"
    listing = browser.get("/review/").content.decode()
    assert "Croissants on Sunday" in listing and "Rosa at Acme" in listing
    page_url = f"/review/posts/{post.public_id}/"
    body = browser.get(page_url).content.decode()
    # The photo comes by the signed, expiring link (the client has no account for the workspace's media URL).
    assert "pv-card" in body and f"/w/{workspace.public_id}/media/" not in body
    signed = re.search(r'src="/media/s/([^/"]+)/croissants.jpg"', body)
    assert signed and asset_from_signed(signed.group(1)) == photo

    browser.post(f"{page_url}comments/", {"body": "Love it"}, REMOTE_ADDR="203.0.113.7")
    comment = PostComment.objects.get()
    assert (comment.link, comment.author, comment.author_name) == (link, None, "Rosa at Acme")
    assert told(mia, Kind.POST_COMMENT)

    response = browser.post(f"{page_url}approve/", {"version": "1"}, HTTP_USER_AGENT="Brand browser 1.0")
    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.APPROVED, [S.SCHEDULED])
    decision = post.decisions.last()
    assert (decision.stage, decision.link, decision.actor, decision.actor_name) == (
        "client",
        link,
        None,
        "Rosa at Acme",
    )
    assert "Rosa at Acme (the client)" in told(mia, Kind.APPROVAL_GIVEN)[0].body
    uses = list(link.uses.order_by("at", "id").values_list("action", "post", "ip_address", "user_agent"))
    assert uses[0] == ("opened", None, "203.0.113.7", "Brand browser 1.0")
    assert [u[:2] for u in uses[1:]] == [("commented", post.pk), ("approved", post.pk)]
    link.refresh_from_db()
    assert link.last_used_at is not None
    # The links page shows them.
    manager = Client()
    manager.force_login(alice)
    links_page = manager.get(f"/w/{workspace.public_id}/approvals/links/").content.decode()
    assert "Rosa at Acme" in links_page and "203.0.113.7" in links_page and "Approved" in links_page


def test_the_client_asks_for_changes_through_the_link(workspace, bob, mia, brand_link, page):
    _, token = brand_link
    post = submitted(workspace, mia, page)
    browser = Client()
    open_link(browser, token)
    url = f"/review/posts/{post.public_id}/request-changes/"
    browser.post(url, {"comment": "", "version": "1"})
    post.refresh_from_db()
    assert post.approval == A.CLIENT_PENDING
    browser.post(url, {"comment": "Please add our opening hours", "version": "1"})
    post.refresh_from_db()
    assert (post.approval, states(post)) == (A.REJECTED, [S.DRAFT])
    assert "Please add our opening hours" in told(mia, Kind.CHANGES_REQUESTED)[0].body
    assert ApprovalLinkUse.objects.filter(action="changes_requested", post=post).count() == 1
    assert browser.get(f"/review/posts/{post.public_id}/").status_code == 404  # no longer the client's


@pytest.mark.parametrize("state", ["unknown", "expired", "revoked"])
def test_a_link_that_no_longer_works_says_so_and_nothing_more(workspace, brand_link, state):
    link, token = brand_link
    if state == "unknown":
        token = token[:-4] + "abcd"
    elif state == "expired":
        ApprovalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        approvals.approval_link_revoke(link=link)
    browser = Client()
    response = open_link(browser, token)
    assert response.status_code == 410
    body = response.content.decode()
    assert "This review link no longer works" in body and "Ask the agency" in body
    assert workspace.name not in body
    assert browser.get("/review/").status_code == 410
    assert not ApprovalLinkUse.objects.exists()


def test_revoking_ends_an_open_session_at_once(client, workspace, alice, mia, brand_link, page):
    link, token = brand_link
    post = submitted(workspace, mia, page)
    browser = Client()
    open_link(browser, token)
    assert browser.get("/review/").status_code == 200
    client.force_login(alice)
    client.post(f"/w/{workspace.public_id}/approvals/links/{link.public_id}/revoke/")
    assert browser.get("/review/").status_code == 410
    assert browser.post(f"/review/posts/{post.public_id}/approve/").status_code == 410
    post.refresh_from_db()
    assert post.approval == A.CLIENT_PENDING


def test_a_link_expiring_during_a_session_ends_it(workspace, mia, brand_link, page):
    link, token = brand_link
    browser = Client()
    open_link(browser, token)
    ApprovalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert browser.get("/review/").status_code == 410


def test_a_link_sees_and_acts_on_its_own_workspaces_posts_awaiting_the_client_only(
    agency, workspace, alice, bob, mia, brand_link, page
):
    _, token = brand_link
    at_client = submitted(workspace, mia, page, caption="Ours, for the client")
    at_team = submitted(workspace, bob, page, caption="Ours, still with the team")
    other_ws = WorkspaceFactory(agency=agency, name="Other Brand", approval_flow=ApprovalFlow.INTERNAL_CLIENT)
    other_page = ChannelFactory(workspace=other_ws, connected_by=alice, external_id="900000000000001")
    elsewhere = submitted(other_ws, alice, other_page, caption="Another brand's post")
    assert elsewhere.approval == A.CLIENT_PENDING

    browser = Client()
    open_link(browser, token)
    listing = browser.get("/review/").content.decode()
    assert "Ours, for the client" in listing
    assert "still with the team" not in listing and "Another brand" not in listing
    for post in (at_team, elsewhere):
        assert browser.get(f"/review/posts/{post.public_id}/").status_code == 404
        assert browser.post(f"/review/posts/{post.public_id}/approve/").status_code == 404
        assert browser.post(f"/review/posts/{post.public_id}/request-changes/", {"comment": "x"}).status_code == 404
        assert browser.post(f"/review/posts/{post.public_id}/comments/", {"body": "x"}).status_code == 404
        post.refresh_from_db()
    assert (at_team.approval, elsewhere.approval) == (A.PENDING, A.CLIENT_PENDING)
    assert not PostComment.objects.exists()
    assert browser.get(f"/review/posts/{at_client.public_id}/").status_code == 200


def test_a_link_cannot_decide_the_teams_stage_even_through_the_service(workspace, bob, brand_link, page):
    link, _ = brand_link
    post = submitted(workspace, bob, page)
    with pytest.raises(PermissionDenied):
        approvals.post_approve(post=post, by=approvals.Reviewer(link=link))


def test_the_opened_link_leaves_the_token_out_of_every_later_url(workspace, mia, brand_link, page):
    _, token = brand_link
    post = submitted(workspace, mia, page)
    browser = Client()
    response = open_link(browser, token)
    assert token not in response["Location"]
    body = browser.get(f"/review/posts/{post.public_id}/").content.decode()
    assert token not in body


def test_client_pages_use_a_bounded_number_of_queries(workspace, mia, brand_link, page):
    _, token = brand_link
    browser = Client()
    open_link(browser, token)
    submitted(workspace, mia, page, caption="One")
    with CaptureQueriesContext(connection) as few:
        browser.get("/review/")
    for n in range(8):
        submitted(workspace, mia, page, caption=f"More {n}")
    with CaptureQueriesContext(connection) as many:
        assert browser.get("/review/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- what the client reads -----------------------------------------------------------------------------------
def client_page(token: str, post: Post) -> tuple[Client, str]:
    browser = Client()
    open_link(browser, token)
    return browser, browser.get(f"/review/posts/{post.public_id}/").content.decode()


def test_the_teams_discussion_before_the_client_stage_is_not_seen_through_the_link(
    workspace, alice, bob, mia, brand_link, page
):
    link, token = brand_link
    post = submitted(workspace, bob, page)
    remark = approvals.post_comment_add(post=post, by=member(mia, workspace), body="The photo is a bit blurry")
    approvals.post_comment_add(post=post, by=member(bob, workspace), body="Their logo looks odd too", parent=remark)
    approvals.post_approve(post=post, by=member(alice, workspace))
    post.refresh_from_db()
    assert post.approval == A.CLIENT_PENDING
    assert not PostComment.objects.filter(shared_with_client=True).exists()

    browser, body = client_page(token, post)
    assert "Fresh bread at 8" in body  # the post itself is there
    assert "blurry" not in body and "logo looks odd" not in body and "No comments yet." in body
    # A reply into the team's thread is as if it did not exist, and changes nothing.
    url = f"/review/posts/{post.public_id}/comments/"
    assert browser.post(url, {"body": "What blur?", "parent": remark.pk}).status_code == 404
    assert post.comments.count() == 2
    with pytest.raises(PermissionDenied):
        approvals.post_comment_add(post=post, by=approvals.Reviewer(link=link), body="What blur?", parent=remark)


def test_a_team_comment_written_while_the_post_waits_for_the_client_is_seen_through_the_link(
    workspace, mia, brand_link, page
):
    _, token = brand_link
    post = submitted(workspace, mia, page)  # a manager's post starts at the client's stage
    note = approvals.post_comment_add(post=post, by=member(mia, workspace), body="Rosa, the time moved to 9")
    assert note.shared_with_client
    _, body = client_page(token, post)
    assert "Rosa, the time moved to 9" in body and f'id="comment-{note.pk}"' in body


def test_a_team_reply_to_the_clients_comment_is_seen_through_the_link_even_after_the_client_stage(
    workspace, alice, bob, brand_link, page
):
    link, token = brand_link
    post = submitted(workspace, bob, page)
    approvals.post_approve(post=post, by=member(alice, workspace))
    browser, _ = client_page(token, post)
    browser.post(f"/review/posts/{post.public_id}/comments/", {"body": "Can it say 8:30?"})
    question = PostComment.objects.get(link=link)
    assert question.shared_with_client
    browser.post(f"/review/posts/{post.public_id}/request-changes/", {"comment": "See my comment", "version": "1"})
    post.refresh_from_db()
    assert post.approval == A.REJECTED

    # Back with the team: a reply in the client's thread is the client's to read; a new comment is not.
    answer = approvals.post_comment_add(post=post, by=member(bob, workspace), body="Done: 8:30", parent=question)
    aside = approvals.post_comment_add(post=post, by=member(bob, workspace), body="They always change the time")
    assert (answer.shared_with_client, aside.shared_with_client) == (True, False)
    post_submit(post=post, access=access(bob, workspace), user=bob)
    approvals.post_approve(post=Post.objects.get(pk=post.pk), by=member(alice, workspace))

    body = browser.get(f"/review/posts/{post.public_id}/").content.decode()
    assert "Can it say 8:30?" in body and "Done: 8:30" in body
    assert "always change the time" not in body
    # The client answers in their thread.
    url = f"/review/posts/{post.public_id}/comments/"
    assert browser.post(url, {"body": "Perfect", "parent": answer.pk}).status_code == 302
    assert PostComment.objects.get(body="Perfect").parent == question


def test_a_members_comment_with_the_client_role_is_shared_at_any_stage(workspace, bob, dana, page):
    post = submitted(workspace, bob, page)  # internal flow: Dana decides the team's stage
    assert post.approval == A.PENDING
    said = approvals.post_comment_add(post=post, by=member(dana, workspace), body="Fine by us")
    assert said.shared_with_client
    reply = approvals.post_comment_add(post=post, by=member(bob, workspace), body="Thanks!", parent=said)
    assert reply.shared_with_client


def test_the_review_page_marks_what_the_client_reads_and_says_who_reads_a_new_comment(
    client, workspace, alice, bob, brand_link, page
):
    post = submitted(workspace, bob, page)
    internal = approvals.post_comment_add(post=post, by=member(alice, workspace), body="Between us")
    url = f"/w/{workspace.public_id}/posts/{post.public_id}/review/"
    client.force_login(alice)
    body = client.get(url).content.decode()
    assert "Seen by the client" not in body
    assert "Only the team sees this comment." in body and 'name="shared" value="0"' in body

    approvals.post_approve(post=post, by=member(alice, workspace))
    shared = approvals.post_comment_add(post=post, by=member(alice, workspace), body="For Rosa")
    body = client.get(url).content.decode()
    assert "The client sees this comment on their review page." in body and 'name="shared" value="1"' in body
    found = re.findall(r'id="comment-(\d+)" data-shared="\w+">(.*?)</article>', body, re.S)
    comments = {int(pk): rest for pk, rest in found}
    assert "Seen by the client" in comments[shared.pk] and "Seen by the client" not in comments[internal.pk]


def test_a_comment_whose_audience_changed_since_the_page_was_drawn_is_refused_and_kept(
    client, workspace, alice, bob, mia, brand_link, page
):
    post = submitted(workspace, bob, page)
    client.force_login(alice)
    # Alice's page was drawn while the post waited for the team; Mia sends it to the client meanwhile.
    approvals.post_approve(post=post, by=member(mia, workspace))
    url = f"/w/{workspace.public_id}/posts/{post.public_id}/comments/"
    response = client.post(url, {"body": "Bob, this is weak", "shared": "0"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "now waits for the client, so they would read" in body
    assert "Bob, this is weak" in body and 'name="shared" value="1"' in body  # kept, with the page as it is now
    assert not post.comments.exists()
    client.post(url, {"body": "Rosa, please check the time", "shared": "1"}, headers={"HX-Request": "true"})
    assert post.comments.get().shared_with_client


def test_a_decision_tells_the_comment_form_who_reads_a_new_comment_now(client, workspace, alice, bob, brand_link, page):
    post = submitted(workspace, bob, page)
    client.force_login(alice)
    response = client.post(
        f"/w/{workspace.public_id}/posts/{post.public_id}/approve/",
        {"stage": "internal", "version": "1"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    audience = body.split('id="comment-audience"')[1]
    assert audience.startswith(' hx-swap-oob="true"') and 'name="shared" value="1"' in audience


# --- a member with the client role reads what the client reads ---------------------------------------------------
def history(body: str) -> list[str]:
    """The decisions a page lists, as their actions in order."""
    listed = body.split('class="list-unstyled small mb-0 decision-history"')[1].split("</ol>")[0]
    return re.findall(r'data-action="(\w+)"', listed)


def told_of(comment: PostComment) -> set[str]:
    return set(Notification.objects.filter(key=f"comment:{comment.pk}").values_list("user__email", flat=True))


def test_a_member_with_the_client_role_reads_on_the_review_page_what_the_link_shows(
    client, workspace, alice, bob, mia, dana, brand_link, page
):
    link, token = brand_link
    post = submitted(workspace, bob, page)
    approvals.post_comment_add(post=post, by=member(mia, workspace), body="The photo is a bit blurry")
    approvals.post_request_changes(post=post, by=member(mia, workspace), comment="Bob, the caption is weak")
    post_submit(post=Post.objects.get(pk=post.pk), access=access(bob, workspace), user=bob)
    approvals.post_approve(post=Post.objects.get(pk=post.pk), by=member(alice, workspace))
    approvals.post_request_changes(post=post, by=approvals.Reviewer(link=link), comment="Please use the new logo")
    post_submit(post=Post.objects.get(pk=post.pk), access=access(bob, workspace), user=bob)
    approvals.post_approve(post=Post.objects.get(pk=post.pk), by=member(alice, workspace))
    approvals.post_comment_add(post=post, by=member(mia, workspace), body="Dana, the time moved to 9")

    _, through_link = client_page(token, post)
    client.force_login(dana)
    body = client.get(f"/w/{workspace.public_id}/posts/{post.public_id}/review/").content.decode()
    assert "time moved to 9" in body and "Please use the new logo" in body
    assert "blurry" not in body and "caption is weak" not in body
    assert history(body) == history(through_link) == ["changes_requested"]
    # The team reads it all.
    client.force_login(alice)
    body = client.get(f"/w/{workspace.public_id}/posts/{post.public_id}/review/").content.decode()
    assert "blurry" in body and "caption is weak" in body and len(history(body)) == 7


def test_in_the_one_stage_flow_a_member_with_the_client_role_reads_their_own_decisions(
    client, workspace, bob, mia, dana, page
):
    post = submitted(workspace, bob, page)  # internal flow: Dana decides the team's stage
    approvals.post_comment_add(post=post, by=member(mia, workspace), body="Between us: far too long")
    approvals.post_request_changes(post=post, by=member(dana, workspace), comment="Shorter, please")
    client.force_login(dana)
    body = client.get(f"/w/{workspace.public_id}/posts/{post.public_id}/review/").content.decode()
    assert "Shorter, please" in body and history(body) == ["changes_requested"]
    assert "far too long" not in body


def test_a_member_with_the_client_role_replies_only_in_threads_the_client_reads(
    client, workspace, bob, mia, dana, page
):
    post = submitted(workspace, bob, page)
    remark = approvals.post_comment_add(post=post, by=member(mia, workspace), body="Between us: far too long")
    said = approvals.post_comment_add(post=post, by=member(dana, workspace), body="Fine by us")
    client.force_login(dana)
    url = f"/w/{workspace.public_id}/posts/{post.public_id}/comments/"
    assert client.post(url, {"body": "What is too long?", "parent": remark.pk}).status_code == 404
    response = client.post(url, {"body": "What is too long?", "parent": remark.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        approvals.post_comment_add(post=post, by=member(dana, workspace), body="What is too long?", parent=remark)
    assert post.comments.count() == 2
    assert client.post(url, {"body": "And the time?", "parent": said.pk}).status_code == 302
    assert PostComment.objects.get(body="And the time?").parent == said


def test_members_with_the_client_role_are_told_only_of_comments_the_client_reads(
    workspace, alice, bob, mia, dana, page
):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    post = submitted(workspace, bob, page)
    remark = approvals.post_comment_add(post=post, by=member(mia, workspace), body="The photo is a bit blurry")
    approvals.post_approve(post=post, by=member(alice, workspace))  # Dana decides it now, so follows it
    aside = approvals.post_comment_add(post=post, by=member(bob, workspace), body="I will swap it", parent=remark)
    note = approvals.post_comment_add(post=post, by=member(mia, workspace), body="Dana, the time moved to 9")
    assert (aside.shared_with_client, note.shared_with_client) == (False, True)
    assert mia.email in told_of(aside) and dana.email not in told_of(aside)
    assert dana.email in told_of(note)
    assert not Notification.objects.filter(user=dana, body__contains="swap").exists()

    # In the one-stage flow too, once Dana has joined the conversation.
    flow(workspace, ApprovalFlow.INTERNAL)
    other = submitted(workspace, bob, page, caption="Another")
    approvals.post_comment_add(post=other, by=member(dana, workspace), body="Love it")
    between_us = approvals.post_comment_add(post=other, by=member(mia, workspace), body="She always says that")
    assert bob.email in told_of(between_us) and dana.email not in told_of(between_us)


def test_without_htmx_a_comment_whose_audience_changed_comes_back_typed(
    client, workspace, alice, bob, mia, brand_link, page
):
    post = submitted(workspace, bob, page)
    client.force_login(alice)
    approvals.post_approve(post=post, by=member(mia, workspace))  # after Alice's page was drawn
    response = client.post(
        f"/w/{workspace.public_id}/posts/{post.public_id}/comments/", {"body": "Bob, this is weak", "shared": "0"}
    )
    body = response.content.decode()
    assert response.status_code == 409 and "now waits for the client, so they would read" in body
    typed = re.search(r'<textarea[^>]*id="comment-body"[^>]*>([^<]*)</textarea>', body)
    assert typed and typed.group(1) == "Bob, this is weak" and 'name="shared" value="1"' in body
    assert not post.comments.exists()


@pytest.mark.parametrize(("flow_value", "said"), [(ApprovalFlow.INTERNAL, False), (ApprovalFlow.INTERNAL_CLIENT, True)])
def test_the_comment_form_speaks_of_the_clients_stage_only_where_there_is_one(
    client, workspace, alice, bob, page, flow_value, said
):
    flow(workspace, flow_value)
    post = submitted(workspace, bob, page)
    client.force_login(alice)
    body = client.get(f"/w/{workspace.public_id}/posts/{post.public_id}/review/").content.decode()
    assert "Only the team sees this comment." in body
    assert ("while the post waits for the client are seen by the client too" in body) == said


# --- the composer's button and the queue's message follow the flow -----------------------------------------------
@pytest.mark.parametrize(
    ("flow_value", "person", "later", "now"),
    [
        (ApprovalFlow.NONE, "bob", "Schedule", "Publish now"),
        (ApprovalFlow.INTERNAL, "bob", "Send for approval", "Send for approval"),
        (ApprovalFlow.INTERNAL, "alice", "Schedule", "Publish now"),
        (ApprovalFlow.INTERNAL_CLIENT, "bob", "Send for approval", "Send for approval"),
        (ApprovalFlow.INTERNAL_CLIENT, "alice", "Send to the client", "Send to the client"),
    ],
)
def test_the_composers_button_says_what_the_flow_does_with_the_post(
    request, client, workspace, page, flow_value, person, later, now
):
    flow(workspace, flow_value)
    client.force_login(request.getfixturevalue(person))
    body = client.get(f"/w/{workspace.public_id}/posts/new/").content.decode()
    button = re.search(r'<button[^>]*id="submit-button"([^>]*)>([^<]*)</button>', body)
    assert button, "the composer has its send button"
    assert f'data-label-later="{later}"' in button.group(1) and f'data-label-now="{now}"' in button.group(1)
    assert button.group(2) == later


@pytest.mark.parametrize(
    ("flow_value", "person", "says"),
    [
        (ApprovalFlow.INTERNAL_CLIENT, "alice", "sent to the client: it goes out once they approve it"),
        (ApprovalFlow.INTERNAL_CLIENT, "bob", "it waits for the team, then the client"),
        (ApprovalFlow.INTERNAL, "bob", "and sent for approval."),
        (ApprovalFlow.INTERNAL, "alice", "Added to the queue: it goes out on"),
    ],
)
def test_adding_to_the_queue_says_who_the_post_waits_for(request, client, workspace, page, flow_value, person, says):
    from django.contrib.messages import get_messages

    from publishing.services.queues import queue_slot_add

    flow(workspace, flow_value)
    user = request.getfixturevalue(person)
    day = timezone.localtime(timezone.now(), workspace.zoneinfo).date() + timedelta(days=2)
    queue_slot_add(channel=page, weekday=day.weekday(), at=time(10, 0))
    post = post_create(workspace=workspace, author=user, channels=[page], caption="Fresh beans today")
    client.force_login(user)
    response = client.post(f"/w/{workspace.public_id}/posts/{post.public_id}/queue/")
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert says in message
    assert ("client" in message) == (says.count("client") > 0)


# --- the links page -------------------------------------------------------------------------------------------------
def uses(link: ApprovalLink, numbers: range) -> None:
    """Uses of the link a minute apart, the nth from the address 198.51.100.n."""
    start = timezone.now() - timedelta(days=1)
    ApprovalLinkUse.objects.bulk_create(
        ApprovalLinkUse(link=link, action="opened", at=start + timedelta(minutes=n), ip_address=f"198.51.100.{n}")
        for n in numbers
    )


def test_the_links_page_lists_the_last_uses_of_each_link_in_a_fixed_number_of_queries(client, workspace, alice):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    made = [approvals.approval_link_create(workspace=workspace, name=f"P{n}", created_by=alice)[0] for n in range(3)]
    for link in made:
        uses(link, range(1))
    client.force_login(alice)
    url = f"/w/{workspace.public_id}/approvals/links/"
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for link in made:
        uses(link, range(1, 50))
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert body.count('class="link-use"') == 30 and body.count("Uses (50)") == 3
    assert body.count("The last 10 uses are shown; 40 earlier uses are not listed.") == 3
    # Newest first: the latest use of each link is listed, the first one is not.
    assert body.count("198.51.100.49<") == 3 and body.count("198.51.100.40<") == 3 and "198.51.100.39<" not in body


def test_the_links_page_lists_the_links_that_work_before_the_others(client, workspace, alice):
    flow(workspace, ApprovalFlow.INTERNAL_CLIENT)
    works, _ = approvals.approval_link_create(workspace=workspace, name="Works", created_by=alice)
    revoked, _ = approvals.approval_link_create(workspace=workspace, name="Revoked", created_by=alice)
    expired, _ = approvals.approval_link_create(workspace=workspace, name="Expired", created_by=alice)
    newest, _ = approvals.approval_link_create(workspace=workspace, name="Newest", created_by=alice)
    approvals.approval_link_revoke(link=revoked)
    ApprovalLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    ApprovalLink.objects.filter(pk=works.pk).update(created_at=timezone.now() - timedelta(days=3))
    client.force_login(alice)
    body = client.get(f"/w/{workspace.public_id}/approvals/links/").content.decode()
    assert re.findall(r'class="card mb-3 approval-link" data-state="(\w+)"', body) == [
        "active",
        "active",
        "expired",
        "revoked",
    ]
    assert body.index("Newest") < body.index("Works") < body.index("Expired")


# --- a link that no longer works leaves no trace of its token in the logs ----------------------------------------
@pytest.fixture
def every_log(caplog):
    """Every log record, Django's request log included (our settings keep it off the root logger)."""
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("django.request", "django.server")]
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name)
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in loggers:
        logger.removeHandler(caplog.handler)


@pytest.mark.parametrize("state", ["works", "unknown", "expired", "revoked"])
def test_the_token_of_a_link_never_reaches_the_logs(every_log, workspace, mia, brand_link, page, state):
    link, token = brand_link
    if state == "unknown":
        token = token[:-4] + "abcd"
    elif state == "expired":
        ApprovalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        approvals.approval_link_revoke(link=link)
    browser = Client(enforce_csrf_checks=True)
    assert open_link(browser, token).status_code == (302 if state == "works" else 410)
    assert browser.post(f"/review/{token}/").status_code == 405
    assert browser.get("/review/no-such-page/x/").status_code == 404  # the log is listening: this one is there
    assert any("Not Found: /review/no-such-page/x/" in r.getMessage() for r in every_log.records)
    leaked = [r.getMessage() for r in every_log.records if token in repr(vars(r)) or token in r.getMessage()]
    assert not leaked

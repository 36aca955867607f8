"""Walk every URL pattern of the project as a stranger (another agency's owner) and as an anonymous visitor.

New URLs are covered automatically: a pattern whose parameter this walk cannot fill fails the test until a value
is added to `param_values` below. Pages that belong to the visitor themself (their own email addresses, MFA,
login) take no tenant id and are listed in SELF_SERVICE.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Invitation, PendingConnection, WorkspaceMembership
from inbox.models import Comment, CommentAction, InboxPost, Rule, SavedReply
from notifications.models import Kind, Notification
from publishing.models import ApprovalLink, ComposerDraft, GraphLookup, PostingQueue, PostingSlot
from tests.factories import ChannelFactory, DeliveryFactory, MediaAssetFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

# Pages about the signed-in visitor or public by nature (sign in, sign up, password reset, health).
# Notifications are each person's own (a stranger sees theirs, never another's: `notification_id` is walked below).
SELF_SERVICE = re.compile(r"^(account_|mfa_|socialaccount_|healthz$|openid|facebook_|instagram_|notification)")
TENANT_PARAMS = {
    "workspace_id",
    "agency_id",
    "membership_id",
    "invitation_id",
    "token",
    "object_id",
    "id",
    "channel_id",
    "pending_id",
    "asset_id",
    "post_id",
    "delivery_id",
    "signed",
    "draft_id",
    "link_id",
    "lookup_id",
    "notification_id",
    "slot_id",
    "comment_id",
    "action_id",
    "reply_id",
    "rule_id",
}


def iter_patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from iter_patterns(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name}" if p.name else None


def build_url(route: str, values: dict[str, str]) -> tuple[str, set[str]]:
    """Turn a route (path() syntax or a regex) into a concrete URL, returning the parameter names used."""
    used: set[str] = set()

    def fill(match: re.Match) -> str:
        name = match.group("name")
        if name not in values:
            raise AssertionError(f"The URL walk has no value for parameter {name!r} in {route!r}: add one.")
        used.add(name)
        return str(values[name])

    url = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", fill, route)
    url = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", fill, url)
    url = url.lstrip("^").rstrip("$").replace("\\", "")
    url = re.sub(r"\(\?:[^)]*\)\??", "", url)
    return "/" + url, used


@pytest.fixture
def param_values(workspace, agency, alice, bob):
    token, token_hash = Invitation.new_token()
    invitation = Invitation.objects.create(
        agency=agency,
        email="new@northwind.example",
        token_hash=token_hash,
        invited_by=alice,
        expires_at="2099-01-01T00:00:00Z",
    )
    channel = ChannelFactory(workspace=workspace, connected_by=alice, access_token="secret-page-token")
    pending = PendingConnection.objects.create(
        workspace=workspace, user=alice, connected_via="facebook_login", user_token="secret-user-token"
    )
    asset = MediaAssetFactory(workspace=workspace, original_name="x.jpg")
    post = PostFactory(workspace=workspace, author=alice, caption="Private draft")
    delivery = DeliveryFactory(post=post, channel=channel)
    unsaved = ComposerDraft.objects.create(
        workspace=workspace, user=alice, token=uuid.uuid4(), data={"caption": ["Private words"]}
    )
    lookup = GraphLookup.objects.create(workspace=workspace, channel=channel, kind="products", query="mug")
    _, link_hash = ApprovalLink.new_token()
    approval_link = ApprovalLink.objects.create(
        workspace=workspace, name="Rosa at the brand", token_hash=link_hash, expires_at="2099-01-01T00:00:00Z"
    )
    notification = Notification.objects.create(
        user=alice, workspace=workspace, kind=Kind.POST_FAILED, title="Private failure", url="/"
    )
    slot = PostingSlot.objects.create(queue=PostingQueue.objects.create(channel=channel), weekday=0, time="09:30")
    inbox_post = InboxPost.objects.create(workspace=workspace, channel=channel, external_id=f"{channel.external_id}_1")
    comment = Comment.objects.create(
        workspace=workspace,
        channel=channel,
        inbox_post=inbox_post,
        external_id=f"{channel.external_id}_1_2",
        author_id="900000001",
        author_name="A fan",
        text="Private comment",
        created_at="2025-01-01T10:00:00Z",
        last_activity_at="2025-01-01T10:00:00Z",
    )
    action = CommentAction.objects.create(workspace=workspace, comment=comment, kind="done", state="done", actor=alice)
    saved_reply = SavedReply.objects.create(workspace=workspace, title="Thanks", text="Thank you, {first_name}!")
    rule = Rule.objects.create(workspace=workspace, name="Spam", pattern="free followers", created_by=alice)
    return {
        "comment_id": comment.public_id,
        "action_id": action.public_id,
        "reply_id": saved_reply.public_id,
        "rule_id": rule.public_id,
        "kind": "done",
        "draft_id": unsaved.token,
        "lookup_id": lookup.public_id,
        "link_id": approval_link.public_id,
        "notification_id": notification.pk,
        "slot_id": slot.pk,
        "workspace_id": workspace.public_id,
        "asset_id": asset.public_id,
        "post_id": post.public_id,
        "delivery_id": delivery.public_id,
        "fix": "convert_to_jpeg",
        "signed": "not-a-valid-signature",
        "filename": "x.jpg",
        "channel_id": channel.public_id,
        "pending_id": pending.public_id,
        "via": "facebook_login",
        "agency_id": agency.public_id,
        "membership_id": WorkspaceMembership.objects.get(user=bob).pk,
        "invitation_id": invitation.pk,
        "token": token,
        "object_id": alice.pk,
        "id": alice.pk,
        "app_label": "accounts",
        "key": "not-a-real-key",
        "uidb36": "1",
        "url": "x",
        "content_type_id": "1",
        "type": "totp",
        "provider": "facebook",
        "pk": "1",
        "chart": "reach-views",
        "path": "x",
    }


def succeeded(response) -> bool:
    """A POST that was not refused: 2xx, or a redirect anywhere but a login page."""
    if 300 <= response.status_code < 400:
        return "/login/" not in response.get("Location", "")
    return response.status_code < 300


def all_urls(values):
    for route, name in iter_patterns(get_resolver()):
        url, used = build_url(route, values)
        yield url, name, used


def test_every_url_is_closed_to_another_agency(client, charlie, param_values):
    client.force_login(charlie)
    leaks = []
    for url, name, used in all_urls(param_values):
        if not used & TENANT_PARAMS and name and SELF_SERVICE.match(name.split(":")[-1]):
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 200 or (used & TENANT_PARAMS and method == "post" and succeeded(response)):
                leaks.append(f"{method.upper()} {url} ({name}) → {response.status_code}")
    assert not leaks, "Pages open to another agency:\n" + "\n".join(leaks)


def test_every_url_is_closed_to_anonymous_visitors(client, param_values):
    leaks = []
    for url, name, used in all_urls(param_values):
        if not used & TENANT_PARAMS and name and SELF_SERVICE.match(name.split(":")[-1]):
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 200:
                leaks.append(f"{method.upper()} {url} ({name}) → {response.status_code}")
    assert not leaks, "Pages open to anonymous visitors:\n" + "\n".join(leaks)


def test_a_workspace_member_of_the_same_agency_is_not_let_into_other_workspaces(client, agency, bob, workspace):
    from tests.factories import WorkspaceFactory

    other = WorkspaceFactory(agency=agency, name="Second Client")
    client.force_login(bob)
    assert client.get(f"/w/{other.public_id}/").status_code == 404
    assert client.get(f"/w/{workspace.public_id}/").status_code == 200


def test_the_walk_notices_a_leak(client, charlie, workspace, monkeypatch):
    """The walk itself must fail when a page ignores tenancy."""
    from accounts import access

    def leaky(user, workspace_id):
        from accounts.models import Workspace
        from accounts.roles import Capability

        return access.WorkspaceAccess(
            Workspace.objects.get(public_id=workspace_id), "owner", None, frozenset(Capability)
        )

    monkeypatch.setattr(access, "get_workspace_for_user", leaky)
    client.force_login(charlie)
    assert client.get(f"/w/{workspace.public_id}/").status_code == 200


def test_invitation_link_for_someone_else_is_a_404(client, agency, alice):
    stranger = UserFactory(email="stranger@example.com")
    token, token_hash = Invitation.new_token()
    Invitation.objects.create(
        agency=agency,
        email="invitee@example.com",
        token_hash=token_hash,
        invited_by=alice,
        expires_at="2099-01-01T00:00:00Z",
    )
    client.force_login(stranger)
    assert client.get(f"/invitations/{token}/").status_code == 404


def test_the_client_review_pages_are_public_and_closed_without_a_working_link(client, charlie, param_values):
    """`/review/…` takes no login by design (a client's magic link): without a link that works, anonymous
    visitors and strangers alike get the same 410 (Gone), whatever the token or post."""
    routes = [(url, name) for url, name, _ in all_urls(param_values) if name and name.startswith("publishing:client_")]
    assert {name for _, name in routes} >= {"publishing:client_review", "publishing:client_review_open"}
    for visitor in (None, charlie):
        if visitor:
            client.force_login(visitor)
        for url, name in routes:
            assert client.get(url).status_code in (405, 410), f"GET {url} ({name})"
            assert client.post(url).status_code in (405, 410), f"POST {url} ({name})"
    assert client.get("/review/not-a-token/").status_code == 410


def test_every_inbox_url_is_walked_and_hidden_from_strangers(client, charlie, param_values):
    """The inbox's pages (list, thread, polling, presence, actions, saved replies, rules) name comments, actions,
    replies and rules of the workspace: a stranger is told none of them exists, a visitor is sent to sign in."""
    routes = [(url, name) for url, name, _ in all_urls(param_values) if name and name.startswith("inbox:")]
    names = {name for _, name in routes}
    assert {"inbox:inbox", "inbox:thread", "inbox:new_items", "inbox:presence", "inbox:action", "inbox:bulk"} <= names
    for url, name in routes:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302 and "/login/" in response["Location"], f"{method} {url} ({name})"
    client.force_login(charlie)
    for url, name in routes:
        for method in ("get", "post"):
            assert getattr(client, method)(url).status_code == 404, f"{method.upper()} {url} ({name})"

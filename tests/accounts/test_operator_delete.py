"""Operators delete a workspace or an agency that has posted, through the admin's confirmation page; a single
channel with deliveries, or a file a post uses, still cannot be deleted on its own."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db.models import RestrictedError
from django.utils import timezone

from accounts.models import Agency, AgencyMembership, Channel, Invitation, Workspace, WorkspaceMembership
from publishing.models import Delivery, DeliveryAttempt, DeliveryState, MediaAsset, Post, PostMedia
from socialhub.graph import GraphClient
from tests.factories import UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]


@pytest.fixture
def posted(workspace, alice, bob) -> Delivery:
    """A workspace that has published: a channel, a post with a photo, its published delivery and attempt log."""
    channel = Channel.objects.create(
        workspace=workspace,
        platform="facebook_page",
        connected_via="facebook_login",
        external_id="183533740681241",
        name="Acme Coffee Page",
        access_token="page-token",
    )
    photo = MediaAsset.objects.create(
        workspace=workspace, file="workspaces/x/media/y/beans.jpg", original_name="beans.jpg", kind="image"
    )
    post = Post.objects.create(workspace=workspace, author=alice, caption="Fresh beans today")
    PostMedia.objects.create(post=post, asset=photo)
    delivery = Delivery.objects.create(
        post=post,
        channel=channel,
        kind="fb_photo",
        state=DeliveryState.PUBLISHED,
        remote_id="183533740681241_1001",
        permalink="https://www.facebook.com/183533740681241/posts/1001",
        published_at=timezone.now(),
    )
    DeliveryAttempt.objects.create(delivery=delivery, number=1, outcome=DeliveryAttempt.Outcome.PUBLISHED)
    Invitation.objects.create(
        agency=workspace.agency,
        email="dana@northwind.example",
        workspace=workspace,
        workspace_role="editor",
        token_hash="0" * 64,
        expires_at=timezone.now(),
    )
    return delivery


@pytest.fixture
def no_graph_calls():
    with mock.patch.object(GraphClient, "request", side_effect=AssertionError("no call to Meta expected")) as request:
        yield request
    assert not request.called


def workspace_rows_left(workspace: Workspace) -> list[str]:
    left = {
        "channels": Channel.objects.filter(workspace=workspace).exists(),
        "posts": Post.objects.filter(workspace=workspace).exists(),
        "deliveries": Delivery.objects.filter(post__workspace=workspace).exists(),
        "attempts": DeliveryAttempt.objects.filter(delivery__post__workspace=workspace).exists(),
        "media": MediaAsset.objects.filter(workspace=workspace).exists(),
        "post media": PostMedia.objects.filter(post__workspace=workspace).exists(),
        "memberships": WorkspaceMembership.objects.filter(workspace=workspace).exists(),
        "invitations": Invitation.objects.filter(workspace=workspace).exists(),
    }
    return [name for name, exists in left.items() if exists]


def test_operator_deletes_a_workspace_that_has_posted(client, workspace, posted, no_graph_calls):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/accounts/workspace/{workspace.pk}/delete/"

    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Are you sure you want to delete the workspace" in body
    assert "protected related objects" not in body and "permission to delete" not in body
    assert "Fresh beans today" in body  # the post …
    assert "Delivery:" in body and "Acme Coffee Page" in body  # … its delivery, and the channel
    assert "beans.jpg" in body
    assert "Posts already published on Facebook and Instagram stay there." in body
    assert "1 published post on Meta" in body

    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert workspace_rows_left(workspace) == []
    assert Agency.objects.filter(pk=workspace.agency_id).exists()  # the agency and its people stay
    assert AgencyMembership.objects.filter(agency_id=workspace.agency_id).count() == 2


def test_operator_deletes_an_agency_that_has_posted(client, agency, workspace, posted, no_graph_calls):
    other = WorkspaceFactory(agency=agency, name="Second Brand")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/accounts/agency/{agency.pk}/delete/"

    body = client.get(url).content.decode()
    assert "Are you sure you want to delete the agency" in body
    assert "Acme Coffee" in body and "Second Brand" in body and "Fresh beans today" in body
    assert "Posts already published on Facebook and Instagram stay there." in body

    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Agency.objects.filter(pk=agency.pk).exists()
    assert not Workspace.objects.filter(pk__in=[workspace.pk, other.pk]).exists()
    assert workspace_rows_left(workspace) == []
    assert not AgencyMembership.objects.filter(agency_id=agency.pk).exists()


def test_deleting_workspaces_from_the_list_shows_the_note_and_deletes(client, workspace, posted, no_graph_calls):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    data = {"action": "delete_selected", "_selected_action": [workspace.pk]}
    body = client.post("/admin/accounts/workspace/", data).content.decode()
    assert "Posts already published on Facebook and Instagram stay there." in body
    assert "Fresh beans today" in body
    client.post("/admin/accounts/workspace/", {**data, "post": "yes"})
    assert workspace_rows_left(workspace) == []


def test_an_operator_allowed_to_delete_workspaces_is_not_stopped_by_what_is_inside(
    client, workspace, posted, no_graph_calls
):
    operator = UserFactory(is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_workspace", "delete_workspace"]
        )
    )
    client.force_login(operator)
    url = f"/admin/accounts/workspace/{workspace.pk}/delete/"
    assert "Are you sure you want to delete the workspace" in client.get(url).content.decode()
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert workspace_rows_left(workspace) == []


def test_a_channel_with_deliveries_and_a_file_a_post_uses_cannot_be_deleted_alone(client, posted):
    with pytest.raises(RestrictedError):
        posted.channel.delete()
    with pytest.raises(RestrictedError):
        PostMedia.objects.get().asset.delete()

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/accounts/channel/{posted.channel.pk}/delete/"
    assert "protected related objects" in client.get(url).content.decode()
    client.post(url, {"post": "yes"})
    assert Channel.objects.filter(pk=posted.channel.pk).exists()
    assert Delivery.objects.filter(pk=posted.pk).exists()

"""Inviting, accepting, changing roles and removing people."""

from __future__ import annotations

import logging
import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import AgencyMembership, Invitation, WorkspaceMembership
from tests.factories import AgencyMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def invite(client, agency, workspace, **data):
    payload = {
        "email": "dana@northwind.example",
        "agency_role": "member",
        "workspace": workspace.pk,
        "workspace_role": "moderator",
        **data,
    }
    return client.post(f"/agency/{agency.public_id}/team/", payload)


def test_invitation_email_link_lets_the_invitee_join_with_the_role(
    client, alice, agency, workspace, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, agency, workspace)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http\S+/invitations/(\S+)/", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    dana = UserFactory(email="dana@northwind.example")
    client.force_login(dana)
    assert client.get(f"/invitations/{link.group(1)}/").status_code == 200
    response = client.post(f"/invitations/{link.group(1)}/")
    assert response.status_code == 302
    assert AgencyMembership.objects.get(user=dana, agency=agency).role == "member"
    assert WorkspaceMembership.objects.get(user=dana, workspace=workspace).role == "moderator"
    # Used once: a second accept is refused.
    client.post(f"/invitations/{link.group(1)}/")
    assert Invitation.objects.get(email="dana@northwind.example").status == "accepted"


def test_expired_invitation_cannot_be_accepted(client, alice, agency, workspace, django_capture_on_commit_callbacks):
    from django.utils import timezone

    client.force_login(alice)
    invite(client, agency, workspace)
    Invitation.objects.update(expires_at=timezone.now())
    dana = UserFactory(email="dana@northwind.example")
    client.force_login(dana)
    invitation = Invitation.objects.get()
    response = client.post(f"/invitations/pending/{invitation.pk}/accept/", follow=True)
    assert "expired" in response.content.decode()
    assert not AgencyMembership.objects.filter(user=dana).exists()


def test_pending_invitations_show_on_home(client, alice, agency, workspace):
    client.force_login(alice)
    invite(client, agency, workspace)
    dana = UserFactory(email="dana@northwind.example")
    client.force_login(dana)
    response = client.get("/")
    assert response.status_code == 200
    assert "Northwind" in response.content.decode()


def test_admin_cannot_invite_owners(client, agency, workspace):
    admin_user = UserFactory()
    AgencyMembershipFactory(agency=agency, user=admin_user, role="admin")
    client.force_login(admin_user)
    response = invite(client, agency, workspace, agency_role="owner")
    assert response.status_code == 200  # form re-rendered with the error
    assert not Invitation.objects.exists()


def test_last_owner_cannot_be_removed_or_demoted(client, alice, agency):
    client.force_login(alice)
    membership = AgencyMembership.objects.get(user=alice)
    response = client.post(f"/agency/{agency.public_id}/team/{membership.pk}/remove/", follow=True)
    assert "at least one owner" in response.content.decode()
    response = client.post(f"/agency/{agency.public_id}/team/{membership.pk}/role/", {"role": "admin"}, follow=True)
    assert "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "owner"


def test_owner_can_be_removed_when_another_owner_remains(client, alice, agency):
    second = UserFactory()
    other = AgencyMembershipFactory(agency=agency, user=second, role="owner")
    client.force_login(alice)
    client.post(f"/agency/{agency.public_id}/team/{other.pk}/remove/")
    assert not AgencyMembership.objects.filter(pk=other.pk).exists()


def test_removing_someone_from_the_agency_removes_their_workspace_access(client, alice, agency, workspace, bob):
    client.force_login(alice)
    membership = AgencyMembership.objects.get(user=bob)
    client.post(f"/agency/{agency.public_id}/team/{membership.pk}/remove/")
    assert not WorkspaceMembership.objects.filter(user=bob).exists()
    client.force_login(bob)
    assert client.get(f"/w/{workspace.public_id}/").status_code == 404


def test_manager_changes_a_role_with_htmx(client, alice, workspace, bob):
    client.force_login(alice)
    membership = WorkspaceMembership.objects.get(user=bob)
    response = client.post(
        f"/w/{workspace.public_id}/team/{membership.pk}/role/", {"role": "analyst"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f'id="member-{membership.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "analyst"


def test_add_agency_member_to_workspace(client, alice, agency, workspace):
    carol = UserFactory()
    carol_membership = AgencyMembershipFactory(agency=agency, user=carol, role="member")
    client.force_login(alice)
    client.post(f"/w/{workspace.public_id}/team/", {"member": carol_membership.pk, "role": "client"})
    assert WorkspaceMembership.objects.get(user=carol).role == "client"


def test_create_workspace_and_change_time_zone(client, alice, agency):
    client.force_login(alice)
    response = client.post(f"/agency/{agency.public_id}/workspaces/new/", {"name": "Beta", "timezone": "Asia/Tokyo"})
    assert response.status_code == 302
    ws = agency.workspaces.get(name="Beta")
    assert ws.timezone == "Asia/Tokyo"
    client.post(f"/w/{ws.public_id}/settings/", {"name": "Beta Foods", "timezone": "America/New_York"})
    ws.refresh_from_db()
    assert (ws.name, ws.timezone) == ("Beta Foods", "America/New_York")
    response = client.post(f"/w/{ws.public_id}/settings/", {"name": "Beta Foods", "timezone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def unconfirmed_user(email: str):
    user = UserFactory(email=email)
    user.emailaddress_set.update(verified=False)
    return user


def test_an_invitation_needs_a_confirmed_address(client, alice, agency, workspace):
    client.force_login(alice)
    invite(client, agency, workspace)
    invitation = Invitation.objects.get()
    token, token_hash = Invitation.new_token()
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=token_hash)
    dana = unconfirmed_user("dana@northwind.example")
    client.force_login(dana)

    page = client.get(f"/invitations/{token}/").content.decode()
    assert "Confirm your email address <strong>dana@northwind.example</strong>" in page
    assert "Accept invitation" not in page
    response = client.post(f"/invitations/{token}/")
    assert "Confirm your email address dana@northwind.example first" in response.content.decode()
    assert not AgencyMembership.objects.filter(user=dana).exists()
    # Neither the home page nor its Accept button offer it.
    assert "Northwind" not in client.get("/", follow=True).content.decode()
    assert client.post(f"/invitations/pending/{invitation.pk}/accept/").status_code == 404
    with pytest.raises(ValidationError, match="Confirm your email address"):
        services.invitation_accept(invitation=invitation, user=dana)

    # The page's button sends the confirmation email again; once confirmed, the invitation can be accepted.
    mail.outbox.clear()
    client.post("/accounts/email/", {"email": "dana@northwind.example", "action_send": ""})
    assert len(mail.outbox) == 1 and "/accounts/confirm-email/" in mail.outbox[0].body
    dana.emailaddress_set.update(verified=True)
    assert "Accept invitation" in client.get(f"/invitations/{token}/").content.decode()
    client.post(f"/invitations/{token}/")
    assert AgencyMembership.objects.get(user=dana, agency=agency).role == "member"


def test_copy_invitation_link_replaces_the_emailed_link(
    client, alice, agency, workspace, caplog, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, agency, workspace)
    emailed = re.search(r"http\S+/invitations/(\S+)/", mail.outbox[0].body).group(1)
    invitation = Invitation.objects.get()
    page = client.get(f"/agency/{agency.public_id}/team/").content.decode()
    assert f'action="/agency/{agency.public_id}/invitations/{invitation.pk}/link/"' in page

    with caplog.at_level(logging.DEBUG):
        response = client.post(f"/agency/{agency.public_id}/invitations/{invitation.pk}/link/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    link = re.search(r'<input[^>]*id="invitation-link" value="([^"]+)" readonly>', page).group(1)
    assert link.startswith(f"{settings.PUBLIC_BASE_URL}/invitations/")
    token = link.rsplit("/", 2)[1]
    assert services.invitation_accept_url(token) == link
    assert 'data-copy-target="invitation-link"' in page and "/static/js/copy.js" in page
    assert "no longer works" in page
    assert token not in caplog.text

    assert Invitation.find_by_token(emailed) is None
    assert Invitation.find_by_token(token) == invitation
    dana = UserFactory(email="dana@northwind.example")
    client.force_login(dana)
    assert client.get(f"/invitations/{emailed}/").status_code == 404
    client.post(f"/invitations/{token}/")
    assert AgencyMembership.objects.filter(user=dana, agency=agency).exists()


def test_only_team_managers_of_the_agency_may_copy_an_invitation_link(client, alice, agency, workspace, bob, charlie):
    client.force_login(alice)
    invite(client, agency, workspace)
    invitation = Invitation.objects.get()
    url = f"/agency/{agency.public_id}/invitations/{invitation.pk}/link/"
    client.force_login(bob)
    assert client.post(url).status_code == 403
    client.force_login(charlie)
    assert client.post(url).status_code == 404
    elsewhere = charlie.agency_memberships.get().agency
    assert client.post(f"/agency/{elsewhere.public_id}/invitations/{invitation.pk}/link/").status_code == 404
    assert Invitation.objects.get().token_hash == invitation.token_hash

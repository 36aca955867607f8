"""Writes for agencies, workspaces, memberships and invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ..models import (
    Agency,
    AgencyMembership,
    AgencyRole,
    ApprovalFlow,
    Invitation,
    Workspace,
    WorkspaceMembership,
    validate_timezone,
)
from ..roles import GRANTABLE_AGENCY_ROLES

if TYPE_CHECKING:
    from ..access import AgencyAccess
    from ..models import User


@transaction.atomic
def agency_create(*, owner: User, name: str, first_workspace_name: str, timezone_name: str) -> Workspace:
    """Onboarding: a new agency owned by `owner`, with its first client workspace."""
    validate_timezone(timezone_name)
    agency = Agency.objects.create(name=name)
    AgencyMembership.objects.create(agency=agency, user=owner, role=AgencyRole.OWNER)
    return Workspace.objects.create(agency=agency, name=first_workspace_name, timezone=timezone_name)


def workspace_create(*, access: AgencyAccess, name: str, timezone_name: str) -> Workspace:
    access.require("workspaces.create")
    validate_timezone(timezone_name)
    if Workspace.objects.filter(agency=access.agency, name=name).exists():
        raise ValidationError({"name": "This agency already has a workspace with that name."})
    return Workspace.objects.create(agency=access.agency, name=name, timezone=timezone_name)


def workspace_update(
    *, workspace: Workspace, name: str, timezone_name: str, approval_flow: str | None = None
) -> Workspace:
    """Rename the workspace, change its time zone and, when given, who approves posts (`ApprovalFlow`). A new
    flow applies to posts submitted from then on; posts already waiting keep the stage they are at."""
    validate_timezone(timezone_name)
    if approval_flow is not None and approval_flow not in ApprovalFlow.values:
        raise ValidationError({"approval_flow": "Choose one of the approval options."})
    if Workspace.objects.filter(agency_id=workspace.agency_id, name=name).exclude(pk=workspace.pk).exists():
        raise ValidationError({"name": "This agency already has a workspace with that name."})
    workspace.name = name
    workspace.timezone = timezone_name
    fields = ["name", "timezone"]
    if approval_flow is not None:
        workspace.approval_flow = approval_flow
        fields.append("approval_flow")
    workspace.save(update_fields=fields)
    return workspace


def _check_grantable(access: AgencyAccess, role: str) -> None:
    if role not in GRANTABLE_AGENCY_ROLES.get(access.role, frozenset()):
        raise PermissionDenied(f"Your role cannot make someone {AgencyRole(role).label.lower()}.")


def _is_last_owner(membership: AgencyMembership) -> bool:
    return (
        membership.role == AgencyRole.OWNER
        and not AgencyMembership.objects.filter(agency_id=membership.agency_id, role=AgencyRole.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def invitation_create(
    *,
    access: AgencyAccess,
    invited_by: User,
    email: str,
    agency_role: str,
    workspace: Workspace | None = None,
    workspace_role: str = "",
) -> Invitation:
    """Invite someone by email and send the accept link. Re-inviting the same address replaces the old link."""
    access.require("team.manage")
    _check_grantable(access, agency_role)
    email = email.strip().lower()
    if workspace is not None and workspace.agency_id != access.agency.pk:
        raise PermissionDenied
    if workspace is not None and not workspace_role:
        raise ValidationError({"workspace_role": "Choose the role this person gets in the workspace."})
    if AgencyMembership.objects.filter(agency=access.agency, user__email__iexact=email).exists():
        raise ValidationError({"email": "This person is already in your agency."})
    now = timezone.now()
    Invitation.objects.pending().filter(agency=access.agency, email=email).update(revoked_at=now)
    token, token_hash = Invitation.new_token()
    invitation = Invitation.objects.create(
        agency=access.agency,
        email=email,
        agency_role=agency_role,
        workspace=workspace,
        workspace_role=workspace_role if workspace else "",
        token_hash=token_hash,
        invited_by=invited_by,
        expires_at=now + settings.INVITATION_LIFETIME,
    )
    context = {"invitation": invitation, "accept_url": invitation_accept_url(token), "inviter": invited_by}
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{invited_by.get_full_name()} invited you to {access.agency.name} on SocialHub",
            message=render_to_string("accounts/email/invitation.txt", context),
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation


def invitation_accept_url(token: str) -> str:
    """The link that accepts an invitation, as sent by email or copied from the team page."""
    return settings.PUBLIC_BASE_URL + reverse("accounts:invitation_accept", kwargs={"token": token})


def invitation_link_renew(*, access: AgencyAccess, invitation: Invitation) -> str:
    """A new accept link for a pending invitation, to pass on by hand when mail is not set up. Only the new
    token's hash is kept, so the link sent before stops working."""
    access.require("team.manage")
    if invitation.agency_id != access.agency.pk:
        raise PermissionDenied
    token, token_hash = Invitation.new_token()
    if not Invitation.objects.pending().filter(pk=invitation.pk).update(token_hash=token_hash):
        raise ValidationError(f"The invitation for {invitation.email} is no longer pending. Send a new one.")
    invitation.token_hash = token_hash
    return invitation_accept_url(token)


def user_verified_emails(user: User) -> list[str]:
    """The user's email addresses they have confirmed, in lower case."""
    return [e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)]


def invitation_revoke(*, access: AgencyAccess, invitation: Invitation) -> None:
    access.require("team.manage")
    if invitation.agency_id != access.agency.pk:
        raise PermissionDenied
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> AgencyMembership:
    if invitation.status != "pending":
        raise ValidationError(f"This invitation is {invitation.status}. Ask for a new one.")
    invited = invitation.email.lower()
    confirmed = {e.email.lower(): e.verified for e in EmailAddress.objects.filter(user=user)}
    if invited not in confirmed and user.email.lower() != invited:
        raise ValidationError(
            f"This invitation was sent to {invitation.email}. Sign in with that address to accept it."
        )
    if not confirmed.get(invited):
        raise ValidationError(
            f"Confirm your email address {invitation.email} first: open the link in the confirmation email we "
            "sent you, then accept the invitation again."
        )
    membership, _created = AgencyMembership.objects.get_or_create(
        agency=invitation.agency, user=user, defaults={"role": invitation.agency_role}
    )
    if invitation.workspace_id:
        WorkspaceMembership.objects.update_or_create(
            workspace_id=invitation.workspace_id, user=user, defaults={"role": invitation.workspace_role}
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def _lock_team(agency: Agency, membership_pk: int) -> AgencyMembership:
    """Lock the agency's team for the rest of the transaction and re-read the membership under that lock.

    The last-owner check and the write after it must see the same owners: without the lock two owners demoting
    (or removing) each other at the same moment would each see the other still owner and both go through,
    leaving the agency with none. Every change of a role takes the agency's row lock first, so they queue up
    and the second one sees what the first one wrote."""
    Agency.objects.select_for_update().only("pk").get(pk=agency.pk)
    membership = AgencyMembership.objects.select_related("user").filter(pk=membership_pk, agency=agency).first()
    if membership is None:
        raise ValidationError("This person is no longer in the agency.")
    return membership


@transaction.atomic
def agency_member_set_role(*, access: AgencyAccess, membership: AgencyMembership, role: str) -> AgencyMembership:
    access.require("team.manage")
    membership = _lock_team(access.agency, membership.pk)
    _check_grantable(access, role)
    _check_grantable(access, membership.role)  # an admin cannot demote an owner
    if role != AgencyRole.OWNER and _is_last_owner(membership):
        raise ValidationError("An agency needs at least one owner. Make someone else owner first.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def agency_member_remove(*, access: AgencyAccess, membership: AgencyMembership) -> None:
    """Remove someone from the agency and every workspace in it. The last owner stays."""
    access.require("team.manage")
    membership = _lock_team(access.agency, membership.pk)
    _check_grantable(access, membership.role)
    if _is_last_owner(membership):
        raise ValidationError("An agency needs at least one owner. Make someone else owner first.")
    WorkspaceMembership.objects.filter(workspace__agency=access.agency, user_id=membership.user_id).delete()
    membership.delete()


def workspace_member_set(*, workspace: Workspace, user: User, role: str) -> WorkspaceMembership:
    """Give an agency member a role in a workspace (or change it)."""
    if not AgencyMembership.objects.filter(agency_id=workspace.agency_id, user=user).exists():
        raise ValidationError("Only people in the agency can join its workspaces. Invite them first.")
    membership, _created = WorkspaceMembership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    return membership


def workspace_member_remove(*, workspace: Workspace, membership: WorkspaceMembership) -> None:
    if membership.workspace_id != workspace.pk:
        raise PermissionDenied
    membership.delete()


def invitations_prune(*, older_than_days: int = 30) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = Invitation.objects.filter(expires_at__lt=cutoff, accepted_at__isnull=True).delete()
    return deleted

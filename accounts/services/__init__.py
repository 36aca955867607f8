"""Writes for accounts: the team (`team.py`) and connected channels (`channels.py`)."""

from .team import (
    agency_create,
    agency_member_remove,
    agency_member_set_role,
    invitation_accept,
    invitation_accept_url,
    invitation_create,
    invitation_link_renew,
    invitation_revoke,
    invitations_prune,
    user_verified_emails,
    workspace_create,
    workspace_member_remove,
    workspace_member_set,
    workspace_update,
)

__all__ = [
    "agency_create",
    "agency_member_remove",
    "agency_member_set_role",
    "invitation_accept",
    "invitation_accept_url",
    "invitation_create",
    "invitation_link_renew",
    "invitation_revoke",
    "invitations_prune",
    "user_verified_emails",
    "workspace_create",
    "workspace_member_remove",
    "workspace_member_set",
    "workspace_update",
]

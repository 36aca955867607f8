"""What each role may do. The one place that answers "may this person do X in this workspace?".

Agency owners and admins act as managers in every workspace of their agency and also run the agency
(team, workspaces). Agency members act only in the workspaces they hold a workspace role in.
The README shows this table; `tests/accounts/test_roles.py` keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum

from .models import AgencyRole, WorkspaceRole


class Capability(StrEnum):
    VIEW = "view"  # open the workspace and its dashboard
    POSTS_DRAFT = "posts.draft"  # write drafts and submit them for approval
    POSTS_PUBLISH = "posts.publish"  # schedule and publish without approval
    POSTS_APPROVE = "posts.approve"  # approve or reject posts awaiting approval
    INBOX_READ = "inbox.read"  # read the comment inbox (what people say about the brand)
    INBOX_MODERATE = "inbox.moderate"  # reply to, hide and delete comments
    INSIGHTS_VIEW = "insights.view"  # read insights and export reports
    CHANNELS_MANAGE = "channels.manage"  # connect, reconnect and disconnect accounts
    WORKSPACE_MANAGE = "workspace.manage"  # rename, change time zone, manage the workspace's team


C = Capability

WORKSPACE_ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    WorkspaceRole.MANAGER: frozenset(Capability),
    WorkspaceRole.EDITOR: frozenset({C.VIEW, C.POSTS_DRAFT, C.INSIGHTS_VIEW}),
    WorkspaceRole.MODERATOR: frozenset({C.VIEW, C.INBOX_READ, C.INBOX_MODERATE}),
    WorkspaceRole.ANALYST: frozenset({C.VIEW, C.INBOX_READ, C.INSIGHTS_VIEW}),
    WorkspaceRole.CLIENT: frozenset({C.VIEW, C.POSTS_APPROVE, C.INBOX_READ, C.INSIGHTS_VIEW}),
}


class AgencyCapability(StrEnum):
    TEAM_MANAGE = "team.manage"  # invite people, change roles, remove people
    WORKSPACES_CREATE = "workspaces.create"
    SEE_ALL_WORKSPACES = "workspaces.all"


A = AgencyCapability

AGENCY_ROLE_CAPABILITIES: dict[str, frozenset[AgencyCapability]] = {
    AgencyRole.OWNER: frozenset(AgencyCapability),
    AgencyRole.ADMIN: frozenset(AgencyCapability),
    AgencyRole.MEMBER: frozenset(),
}

# Roles an admin may hand out; only owners make owners.
GRANTABLE_AGENCY_ROLES: dict[str, frozenset[str]] = {
    AgencyRole.OWNER: frozenset(AgencyRole.values),
    AgencyRole.ADMIN: frozenset({AgencyRole.ADMIN, AgencyRole.MEMBER}),
    AgencyRole.MEMBER: frozenset(),
}


def workspace_capabilities(*, agency_role: str | None, workspace_role: str | None) -> frozenset[Capability]:
    if agency_role in (AgencyRole.OWNER, AgencyRole.ADMIN):
        return frozenset(Capability)
    if workspace_role is None:
        return frozenset()
    return WORKSPACE_ROLE_CAPABILITIES[workspace_role]


def agency_capabilities(agency_role: str | None) -> frozenset[AgencyCapability]:
    return AGENCY_ROLE_CAPABILITIES.get(agency_role or "", frozenset())


def capability_table() -> list[tuple[str, list[bool]]]:
    """Rows of (capability, allowed per workspace role), in WorkspaceRole order, for docs and the team page."""
    return [
        (cap.value, [cap in WORKSPACE_ROLE_CAPABILITIES[role] for role in WorkspaceRole.values]) for cap in Capability
    ]

"""Resolve the workspace or agency named in a URL for the signed-in user.

"Not yours" answers 404 exactly like "does not exist": a stranger cannot tell whether an id is real.
A member who may see the workspace but lacks the capability for an action gets 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from .models import Agency, AgencyMembership, AgencyRole, Workspace, WorkspaceMembership
from .roles import AgencyCapability, Capability, agency_capabilities, workspace_capabilities

if TYPE_CHECKING:
    from .models import User


@dataclass(frozen=True)
class WorkspaceAccess:
    workspace: Workspace
    agency_role: str | None
    workspace_role: str | None
    capabilities: frozenset[Capability]

    def can(self, capability: Capability | str) -> bool:
        return Capability(capability) in self.capabilities

    def require(self, capability: Capability | str) -> None:
        if not self.can(capability):
            raise PermissionDenied("Your role in this workspace does not allow this.")

    @property
    def role_label(self) -> str:
        if self.agency_role in (AgencyRole.OWNER, AgencyRole.ADMIN):
            return AgencyRole(self.agency_role).label
        return WorkspaceMembership(role=self.workspace_role).get_role_display()


@dataclass(frozen=True)
class AgencyAccess:
    agency: Agency
    role: str
    capabilities: frozenset[AgencyCapability]

    def can(self, capability: AgencyCapability | str) -> bool:
        return AgencyCapability(capability) in self.capabilities

    def require(self, capability: AgencyCapability | str) -> None:
        if not self.can(capability):
            raise PermissionDenied("Only the agency's owners and admins may do this.")


def workspaces_for_user(user: User) -> QuerySet[Workspace]:
    """Every workspace the user may open, across all their agencies."""
    if not user.is_authenticated:
        return Workspace.objects.none()
    return (
        Workspace.objects.filter(
            Q(
                agency__memberships__user=user,
                agency__memberships__role__in=[AgencyRole.OWNER, AgencyRole.ADMIN],
            )
            | Q(memberships__user=user, agency__memberships__user=user)
        )
        .select_related("agency")
        .distinct()
        .order_by("agency__name", "name")
    )


def get_workspace_for_user(user: User, workspace_id: UUID | str) -> WorkspaceAccess:
    """Return the user's access to a workspace, or raise Http404 when it is missing or not theirs."""
    if not user.is_authenticated:
        raise Http404
    try:
        workspace = Workspace.objects.select_related("agency").get(public_id=workspace_id)
    except (Workspace.DoesNotExist, ValueError):
        raise Http404 from None
    agency_role = (
        AgencyMembership.objects.filter(agency_id=workspace.agency_id, user=user).values_list("role", flat=True).first()
    )
    if agency_role is None:  # not in the agency at all: a leftover workspace membership grants nothing
        raise Http404
    workspace_role = (
        WorkspaceMembership.objects.filter(workspace=workspace, user=user).values_list("role", flat=True).first()
    )
    capabilities = workspace_capabilities(agency_role=agency_role, workspace_role=workspace_role)
    if not capabilities:
        raise Http404
    return WorkspaceAccess(workspace, agency_role, workspace_role, capabilities)


def get_agency_for_user(user: User, agency_id: UUID | str) -> AgencyAccess:
    if not user.is_authenticated:
        raise Http404
    try:
        membership = AgencyMembership.objects.select_related("agency").get(agency__public_id=agency_id, user=user)
    except (AgencyMembership.DoesNotExist, ValueError):
        raise Http404 from None
    return AgencyAccess(membership.agency, membership.role, agency_capabilities(membership.role))


ViewFunc = Callable[..., HttpResponse]


def workspace_view(capability: Capability = Capability.VIEW) -> Callable[[ViewFunc], ViewFunc]:
    """Decorator: resolve `workspace_id` from the URL, check the capability, pass `access` to the view."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, workspace_id: UUID, *args: Any, **kwargs: Any) -> HttpResponse:
            access = get_workspace_for_user(request.user, workspace_id)  # type: ignore[arg-type]
            access.require(capability)
            request.workspace_access = access  # type: ignore[attr-defined]
            return view(request, access, *args, **kwargs)

        return wrapper

    return decorator


def agency_view(capability: AgencyCapability | None = None) -> Callable[[ViewFunc], ViewFunc]:
    """Decorator: resolve `agency_id` from the URL for a member; optionally require an agency capability."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, agency_id: UUID, *args: Any, **kwargs: Any) -> HttpResponse:
            access = get_agency_for_user(request.user, agency_id)  # type: ignore[arg-type]
            if capability is not None:
                access.require(capability)
            return view(request, access, *args, **kwargs)

        return wrapper

    return decorator


def people_with(workspace: Workspace, capability: Capability) -> list[User]:
    """Everyone who may do `capability` in the workspace: its agency's owners and admins, and its members whose
    role allows it (and who are still in the agency). For telling people about what concerns them."""
    from .models import User
    from .roles import WORKSPACE_ROLE_CAPABILITIES

    roles = [role for role, caps in WORKSPACE_ROLE_CAPABILITIES.items() if capability in caps]
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(
                agency_memberships__agency_id=workspace.agency_id,
                agency_memberships__role__in=[AgencyRole.OWNER, AgencyRole.ADMIN],
            )
            | Q(
                workspace_memberships__workspace=workspace,
                workspace_memberships__role__in=roles,
                agency_memberships__agency_id=workspace.agency_id,
            )
        )
        .distinct()
        .order_by("email")
    )

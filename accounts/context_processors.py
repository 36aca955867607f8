"""Layout data: the workspace switcher and the navigation of the current workspace."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .access import WorkspaceAccess, workspaces_for_user
from .roles import Capability


def _reads_inbox(access: WorkspaceAccess) -> bool:
    from inbox.selectors import can_read_inbox  # the inbox decides who reads it (moderators, analysts, clients)

    return can_read_inbox(access)


# (label, url name, capability, or a test of the access). Only sections that exist are listed; each app adds its own.
WORKSPACE_SECTIONS: list[tuple[str, str, Capability | Callable[[WorkspaceAccess], bool]]] = [
    ("Dashboard", "accounts:workspace_dashboard", Capability.VIEW),
    ("Posts", "publishing:posts", Capability.VIEW),
    ("Calendar", "publishing:calendar", Capability.VIEW),
    ("Queue", "publishing:queue", Capability.VIEW),
    ("Approvals", "publishing:approvals", Capability.VIEW),
    ("Inbox", "inbox:inbox", _reads_inbox),
    ("Media", "publishing:media_library", Capability.VIEW),
    ("Channels", "accounts:channels", Capability.VIEW),
    ("Team", "accounts:workspace_team", Capability.WORKSPACE_MANAGE),
    ("Settings", "accounts:workspace_settings", Capability.WORKSPACE_MANAGE),
]


def _shown(access: WorkspaceAccess, needs: Capability | Callable[[WorkspaceAccess], bool]) -> bool:
    return access.can(needs) if isinstance(needs, Capability) else needs(access)


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"facebook_sign_in": bool(settings.META_APP_ID)}
    access = getattr(request, "workspace_access", None)
    sections = []
    if access is not None:
        for label, url_name, needs in WORKSPACE_SECTIONS:
            if _shown(access, needs):
                url = reverse(url_name, kwargs={"workspace_id": access.workspace.public_id})
                sections.append({"label": label, "url": url, "active": request.path == url})
    agency_admin_of = [m.agency for m in user.agency_memberships.select_related("agency") if m.sees_all_workspaces]
    return {
        "nav_workspaces": workspaces_for_user(user),
        "nav_access": access,
        "nav_sections": sections,
        "nav_agencies": agency_admin_of,
    }

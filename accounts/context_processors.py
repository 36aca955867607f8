"""Layout data: the workspace switcher and the navigation of the current workspace."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .access import workspaces_for_user
from .roles import Capability

# (label, url name, capability). Only sections that exist are listed; each app adds its own.
WORKSPACE_SECTIONS: list[tuple[str, str, Capability]] = [
    ("Dashboard", "accounts:workspace_dashboard", Capability.VIEW),
    ("Posts", "publishing:posts", Capability.VIEW),
    ("Calendar", "publishing:calendar", Capability.VIEW),
    ("Queue", "publishing:queue", Capability.VIEW),
    ("Approvals", "publishing:approvals", Capability.VIEW),
    ("Inbox", "inbox:inbox", Capability.INBOX_READ),
    ("Insights", "analytics:insights", Capability.INSIGHTS_VIEW),
    ("Media", "publishing:media_library", Capability.VIEW),
    ("Channels", "accounts:channels", Capability.VIEW),
    ("Team", "accounts:workspace_team", Capability.WORKSPACE_MANAGE),
    ("Settings", "accounts:workspace_settings", Capability.WORKSPACE_MANAGE),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"facebook_sign_in": bool(settings.META_APP_ID)}
    access = getattr(request, "workspace_access", None)
    sections = []
    if access is not None:
        for label, url_name, needs in WORKSPACE_SECTIONS:
            if access.can(needs):
                url = reverse(url_name, kwargs={"workspace_id": access.workspace.public_id})
                sections.append({"label": label, "url": url, "active": request.path == url})
    agency_admin_of = [m.agency for m in user.agency_memberships.select_related("agency") if m.sees_all_workspaces]
    return {
        "nav_workspaces": workspaces_for_user(user),
        "nav_access": access,
        "nav_sections": sections,
        "nav_agencies": agency_admin_of,
    }

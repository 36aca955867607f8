"""The agency's risk overview: one page across all its workspaces, for its owners and admins."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import AgencyAccess, agency_view
from accounts.roles import AgencyCapability

from . import overview


@agency_view(AgencyCapability.SEE_ALL_WORKSPACES)
@require_GET
def agency_overview(request: HttpRequest, access: AgencyAccess) -> HttpResponse:
    """Failed and unconfirmed posts, channels to fix, Instagram's daily limit, slow approvals, paused workspaces
    and what is coming up, each with a link to where it is put right."""
    report = overview.agency_overview(agency_id=access.agency.pk, now=timezone.now())
    return render(
        request,
        "publishing/agency_overview.html",
        {
            "agency": access.agency,
            "report": report,
            "upcoming_days": overview.UPCOMING_DAYS,
            "token_warning_days": overview.TOKEN_WARNING.days,
        },
    )

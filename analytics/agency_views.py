"""The agency's insights table across all its workspaces (and its CSV), and the logo printed on client reports.
For the agency's owners and admins (SEE_ALL_WORKSPACES); members get 403, strangers 404."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import AgencyAccess, agency_view
from accounts.roles import AgencyCapability

from . import agency
from .forms import BrandingForm
from .models import AgencyBranding
from .report_views import serve_logo
from .selectors import RANGES, Period, last_complete_day, period_from_params


def _period(request: HttpRequest) -> Period:
    """The period in UTC days, as the daily figures are stored, for every workspace alike."""
    return period_from_params(request.GET)


def _table(request: HttpRequest, access: AgencyAccess) -> tuple[Period, str, bool, list[agency.ChannelRow]]:
    period = _period(request)
    key, descending = agency.parse_sort(request.GET.get("sort"))
    rows = agency.agency_channels(agency_id=access.agency.pk, period=period, now=timezone.now())
    return period, key, descending, agency.sort_rows(rows, key, descending)


@agency_view(AgencyCapability.SEE_ALL_WORKSPACES)
@require_GET
def agency_insights(request: HttpRequest, access: AgencyAccess) -> HttpResponse:
    """Every channel of every workspace with its followers, growth, reach, engagement and posts over the period,
    sortable by any column, with what puts its figures at risk."""
    period, key, descending, rows = _table(request, access)
    params = period.params()
    headers = []
    for column in agency.COLUMNS:
        active = column.key == key
        # A first click sorts figures biggest first and names A to Z; a second click turns it round.
        next_descending = (not descending) if active else column.numeric
        headers.append(
            {
                "key": column.key,
                "label": column.label,
                "figure": column.figure,
                "aria_sort": ("descending" if descending else "ascending") if active else "",
                "url": "?" + urlencode({**params, "sort": ("-" if next_descending else "") + column.key}),
            }
        )
    sort_param = ("-" if descending else "") + key
    return render(
        request,
        "analytics/agency_insights.html",
        {
            "agency": access.agency,
            "period": period,
            "rows": rows,
            "headers": headers,
            "sort": sort_param,
            "query": urlencode({**params, "sort": sort_param}),
            # The links to a workspace's pages name the same days, not a range that page would count again.
            "period_query": urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()}),
            "behind_hours": settings.ANALYTICS_SYNC_BEHIND_HOURS,
            "ranges": RANGES,
            "period_max": last_complete_day(),
            "risky": sum(1 for r in rows if r.risks),
        },
    )


@agency_view(AgencyCapability.SEE_ALL_WORKSPACES)
@require_GET
def agency_insights_csv(request: HttpRequest, access: AgencyAccess) -> HttpResponse:
    period, _, _, rows = _table(request, access)
    response = HttpResponse(agency.rows_csv(rows, period), content_type="text/csv; charset=utf-8")
    name = f"agency-insights-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@agency_view(AgencyCapability.SEE_ALL_WORKSPACES)
@require_http_methods(["GET", "POST"])
def branding(request: HttpRequest, access: AgencyAccess) -> HttpResponse:
    """Upload, replace or remove the logo printed at the top of the agency's client reports."""
    current = AgencyBranding.objects.filter(agency=access.agency).first()
    form = BrandingForm()
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            if current and current.logo:
                current.logo.delete(save=False)
                current.logo = ""
                current.save(update_fields=["logo", "updated_at"])
            messages.success(request, "The logo was removed; reports now go out without one.")
            return redirect("analytics:branding", agency_id=access.agency.public_id)
        form = BrandingForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["logo"]
            current = current or AgencyBranding(agency=access.agency)
            old = current.logo.name if current.logo else ""
            # A new name for each upload, so no browser or report keeps showing the old logo.
            current.logo.save(f"{access.agency.public_id}-{secrets.token_hex(4)}.{upload.logo_extension}", upload)
            if old and old != current.logo.name:
                current.logo.storage.delete(old)
            messages.success(request, "The logo was saved; it is printed on every client report from now on.")
            return redirect("analytics:branding", agency_id=access.agency.public_id)
    return render(
        request,
        "analytics/branding.html",
        {"agency": access.agency, "branding": current, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@agency_view(AgencyCapability.SEE_ALL_WORKSPACES)
@require_GET
def branding_logo(request: HttpRequest, access: AgencyAccess) -> HttpResponse:
    return serve_logo(AgencyBranding.objects.filter(agency=access.agency).first())


urlpatterns = [
    path("agency/<uuid:agency_id>/insights/", agency_insights, name="agency_insights"),
    path("agency/<uuid:agency_id>/insights.csv", agency_insights_csv, name="agency_insights_csv"),
    path("agency/<uuid:agency_id>/branding/", branding, name="branding"),
    path("agency/<uuid:agency_id>/branding/logo", branding_logo, name="branding_logo"),
]

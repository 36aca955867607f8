"""The client report: the printable page, its PDF, the agency's logo on it, and the email schedules.

Anyone who may read the workspace's insights (INSIGHTS_VIEW) opens and downloads the report; scheduling it by
email is for those who manage the workspace (WORKSPACE_MANAGE). People outside the workspace get 404."""

from __future__ import annotations

import mimetypes
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.roles import Capability

from . import report_pdf, reports
from .forms import ReportScheduleForm, split_recipients
from .models import ReportSchedule
from .selectors import RANGES, Period, last_complete_day, period_from_params


def _period(request: HttpRequest) -> Period:
    """The period asked for, in UTC days as the figures are stored (ending yesterday, UTC, at the latest)."""
    return period_from_params(request.GET)


def _dates(period: Period) -> str:
    """The period's own days as query parameters: the chart data and the links from the report show exactly the
    days the report shows, even if UTC's day turns between the requests."""
    return urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})


@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def report(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The printable report: logo, KPI cards, charts with their figures as tables, top posts."""
    workspace = access.workspace
    period = _period(request)
    data = reports.report_build(workspace=workspace, period=period)
    query = _dates(period)
    # The same charts as the insights page's (followers per channel, reach and views added up): the canvas draws
    # from that page's JSON for the same period, the table below it prints the figures without JavaScript.
    charts = [
        {
            "slug": slug,
            "chart": chart,
            "json_url": reverse("analytics:chart_data", kwargs={"workspace_id": workspace.public_id, "chart": slug})
            + f"?{query}",
        }
        for slug, chart in (("followers", data.followers), ("reach-views", data.reach_views))
    ]
    with timezone.override(workspace.zoneinfo):
        return render(
            request,
            "analytics/report.html",
            {
                "access": access,
                "workspace": workspace,
                "report": data,
                "period": period,
                "charts": charts,
                "query": query,
                "can_schedule": access.can(Capability.WORKSPACE_MANAGE),
                "ranges": RANGES,
                "period_max": last_complete_day(),
            },
        )


@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def report_pdf_download(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    period = _period(request)
    data = reports.report_build(workspace=access.workspace, period=period)
    response = HttpResponse(report_pdf.render(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{data.filename}"'
    return response


@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def report_logo(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The agency's logo, for the report page (shown to the workspace's clients too)."""
    return serve_logo(reports.agency_branding(access.workspace.agency_id))


def serve_logo(branding: object) -> HttpResponse:
    """A stored logo (checked as PNG or JPEG on upload) with its image type, or 404."""
    logo = getattr(branding, "logo", None)
    if not logo:
        raise Http404
    content_type = mimetypes.guess_type(logo.name)[0] or ""
    if content_type not in ("image/png", "image/jpeg"):
        raise Http404
    try:
        handle = logo.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def report_schedules(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The workspace's report emails, and the form that adds one."""
    workspace = access.workspace
    form = ReportScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        schedule = reports.schedule_create(
            workspace=workspace,
            frequency=form.cleaned_data["frequency"],
            recipients=form.cleaned_data["recipients"],
            by=request.user,
        )
        when = timezone.localtime(schedule.next_send_at, workspace.zoneinfo)
        messages.success(
            request,
            f"The report will be emailed: {schedule.get_frequency_display()}. The first one goes out "
            f"{when:%A} {when.day} {when:%B at %H:%M} ({workspace.timezone}).",
        )
        return redirect("analytics:report_schedules", workspace_id=workspace.public_id)
    schedules = [
        (s, split_recipients(s.recipients))
        for s in ReportSchedule.objects.filter(workspace=workspace).select_related("created_by").order_by("pk")
    ]
    with timezone.override(workspace.zoneinfo):
        return render(
            request,
            "analytics/report_schedules.html",
            {"access": access, "workspace": workspace, "form": form, "schedules": schedules},
            status=400 if request.method == "POST" else 200,
        )


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_POST
def report_schedule_delete(request: HttpRequest, access: WorkspaceAccess, pk: int) -> HttpResponse:
    schedule = get_object_or_404(ReportSchedule, pk=pk, workspace=access.workspace)
    schedule.delete()
    messages.success(request, "The report email was stopped; nobody on it gets the report any more.")
    return redirect(reverse("analytics:report_schedules", kwargs={"workspace_id": access.workspace.public_id}))


urlpatterns = [
    path("w/<uuid:workspace_id>/insights/report/", report, name="report"),
    path("w/<uuid:workspace_id>/insights/report.pdf", report_pdf_download, name="report_pdf"),
    path("w/<uuid:workspace_id>/insights/report/logo", report_logo, name="report_logo"),
    path("w/<uuid:workspace_id>/insights/report/schedules/", report_schedules, name="report_schedules"),
    path(
        "w/<uuid:workspace_id>/insights/report/schedules/<int:pk>/delete/",
        report_schedule_delete,
        name="report_schedule_delete",
    ),
]

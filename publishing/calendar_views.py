"""The calendar of a workspace's posts (month and week), and moving a post by dragging it to another day."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.roles import Capability

from .models import Post
from .services import calendar as calendar_services


class RescheduleForm(forms.Form):
    day = forms.DateField(input_formats=["%Y-%m-%d"])
    time = forms.TimeField(input_formats=["%H:%M"])


def _state(params: QueryDict, access: WorkspaceAccess, options: calendar_services.FilterOptions) -> dict:
    """The calendar's state from a request: view, day and filters (unknown values fall back to the defaults)."""
    view = params.get("view") if params.get("view") in calendar_services.VIEWS else "month"
    today = timezone.localtime(timezone.now(), access.workspace.zoneinfo).date()
    try:
        anchor = date.fromisoformat(params.get("date") or "")
    except ValueError:
        anchor = today
    filters = calendar_services.PostFilters.parse(params, options).without_post()
    return {"view": view, "anchor": anchor, "today": today, "filters": filters}


def _calendar_url(access: WorkspaceAccess, **params: str) -> str:
    url = reverse("publishing:calendar", kwargs={"workspace_id": access.workspace.public_id})
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{url}?{query}" if query else url


def _render(
    request: HttpRequest, access: WorkspaceAccess, params: QueryDict, *, notice: str = "", level: str = "success"
) -> HttpResponse:
    options = calendar_services.filter_options(access.workspace)
    state = _state(params, access, options)
    filters: calendar_services.PostFilters = state["filters"]
    cal = calendar_services.calendar_for(
        access=access, view=state["view"], anchor=state["anchor"], filters=filters, today=state["today"]
    )
    kept = filters.params()
    period = cal.period

    def link(**changes: str) -> str:
        return _calendar_url(access, **{**kept, "view": period.view, "date": period.anchor.isoformat(), **changes})

    workspace = access.workspace
    template = "publishing/calendar.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#calendar"
    return render(
        request,
        template,
        {
            "access": access,
            "workspace": workspace,
            "cal": cal,
            "filters": filters,
            "options": options,
            # Meta processing a video is shown like publishing: both are "going out now".
            "legend": [(value, label) for value, label in options.statuses if value != "processing"],
            "links": {
                "previous": link(date=period.previous.isoformat()),
                "next": link(date=period.next.isoformat()),
                "today": link(date=""),
                "month": link(view="month"),
                "week": link(view="week"),
                "self": link(),
                "week_of": _calendar_url(access, **{**kept, "view": "week"}),  # + "&date=<day>"
            },
            "calendar_url": _calendar_url(access),
            "clear_url": _calendar_url(access, view=period.view, date=period.anchor.isoformat()),
            "posts_url": reverse("publishing:posts", kwargs={"workspace_id": workspace.public_id}),
            "can_draft": access.can(Capability.POSTS_DRAFT),
            "notice": notice,
            "notice_level": level,
        },
    )


@workspace_view()
@require_GET
def calendar_page(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    return _render(request, access, request.GET)


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def post_reschedule(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    """A post dropped on another day (and hour): the calendar again, with the post where it now is, or back
    where it was and the reason it could not move."""
    post = get_object_or_404(Post, public_id=post_id, workspace=access.workspace)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        notice, level = "Drop the post on a day of the calendar (and an hour in the week view).", "error"
    else:
        try:
            moved = calendar_services.post_reschedule(
                post=post,
                access=access,
                user=request.user,  # type: ignore[arg-type]
                day=form.cleaned_data["day"],
                at=form.cleaned_data["time"],
            )
        except calendar_services.NotMovable as exc:
            notice, level = f"Not moved: {exc}", "error"
        else:
            notice, level = moved.notice, "success"
    if request.htmx:
        return _render(request, access, request.POST, notice=notice, level=level)
    getattr(messages, level)(request, notice)
    options = calendar_services.filter_options(access.workspace)
    state = _state(request.POST, access, options)
    return redirect(
        _calendar_url(access, view=state["view"], date=state["anchor"].isoformat(), **state["filters"].params())
    )

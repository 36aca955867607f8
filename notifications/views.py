"""The bell, the list and the preferences of the signed-in person. Everything here is theirs alone: no workspace
in the URL, every query filtered by `user`, and another person's notification answers 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from .forms import PreferencesForm
from .models import Notification
from .services import mark_read, notifications_for, preferences_for, preferences_save, unread_count

PER_PAGE = 20
PANEL_SIZE = 8
# Sent with every change of what is read, so the bell on the page counts again at once.
CHANGED_EVENT = "notifications-changed"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
def notification_count(request: HtmxHttpRequest) -> HttpResponse:
    """The bell's badge, polled by every open page: one count query, and no context processors (the navigation
    they build is not shown here). A visitor signed out meanwhile gets nothing to swap in, not the login page."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    html = render_to_string("notifications/_bell.html#count", {"unread": unread_count(request.user)})
    return HttpResponse(html)


@login_required
@require_GET
def notification_panel(request: HtmxHttpRequest) -> HttpResponse:
    """The latest few, loaded into the bell's panel when it opens."""
    return render(request, "notifications/_bell.html#panel-items", _panel_context(request))


def _panel_context(request: HtmxHttpRequest) -> dict:
    return {"latest": list(notifications_for(request.user)[:PANEL_SIZE]), "unread": unread_count(request.user)}


def _show(value: str | None) -> str:
    return "unread" if value == "unread" else "all"


@login_required
@require_GET
def notification_list(request: HtmxHttpRequest) -> HttpResponse:
    template = "notifications/notification_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#notification-list"
    return render(request, template, _list_context(request, _show(request.GET.get("show")), request.GET.get("page")))


def _list_context(request: HtmxHttpRequest, show: str, page_number: str | None = None) -> dict:
    rows = notifications_for(request.user, unread=show == "unread")
    return {
        "page": Paginator(rows, PER_PAGE).get_page(page_number),
        "show": show,
        "unread": unread_count(request.user),
    }


@login_required
@require_POST
def notification_read_all(request: HtmxHttpRequest) -> HttpResponse:
    """Mark all read; from the panel or the list, with htmx the part that asked is shown again."""
    mark_read(user=request.user)
    show = _show(request.POST.get("show"))
    if not request.htmx:
        messages.success(request, "All notifications are marked as read.")
        return redirect(reverse("notifications:notification_list") + ("?show=unread" if show == "unread" else ""))
    if request.POST.get("from") == "panel":
        response = render(request, "notifications/_bell.html#panel-items", _panel_context(request))
    else:
        response = render(
            request, "notifications/notification_list.html#notification-list", _list_context(request, show)
        )
    response["HX-Trigger"] = CHANGED_EVENT
    return response


@login_required
@require_POST
def notification_open(request: HtmxHttpRequest, notification_id: int) -> HttpResponse:
    """Mark one read and go where it points. Only paths on this site are followed; anything else lands on the list."""
    notification = get_object_or_404(Notification, pk=notification_id, user=request.user)
    mark_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("notifications:notification_list")
    return redirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HtmxHttpRequest) -> HttpResponse:
    # Bound on every POST: with all boxes cleared the form sends no field at all.
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, current=preferences_for(request.user))
    saved = False
    if request.method == "POST" and form.is_valid():
        preferences_save(user=request.user, choices=form.choices())
        if not request.htmx:
            messages.success(request, "Your notification choices are saved.")
            return redirect("notifications:notification_preferences")
        form = PreferencesForm(current=preferences_for(request.user))
        saved = True
    template = "notifications/preferences.html"
    if request.htmx:
        template += "#preferences-form"
    interval = settings.NOTIFICATION_DIGEST_SECONDS
    return render(
        request,
        template,
        {"form": form, "saved": saved, "interval_minutes": max(1, round(interval / 60)), "batched": interval > 0},
    )

"""The inbox pages: the list of threads with its filters, one thread in the side panel, what arrived since the
page was loaded (polled), and who else has a thread open (heartbeats).

Moderators act on comments (the buttons post to `action_views`); analysts and clients read; editors do not see
the inbox. Times are shown on the workspace's clock."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from accounts.access import WorkspaceAccess, workspace_view
from accounts.roles import Capability

from . import selectors
from .models import Comment, Presence
from .selectors import Cursor, InboxFilters
from .services import presence as presence_services
from .services.actions import assignable_people


def _url(name: str, access: WorkspaceAccess, query: dict[str, str] | None = None, **kwargs: object) -> str:
    url = reverse(f"inbox:{name}", kwargs={"workspace_id": access.workspace.public_id, **kwargs})
    query = {k: v for k, v in (query or {}).items() if v not in ("", None)}
    return f"{url}?{urlencode(query)}" if query else url


def _render(request: HttpRequest, access: WorkspaceAccess, template: str, context: dict) -> HttpResponse:
    with timezone.override(access.workspace.zoneinfo):
        return render(request, template, {"access": access, "workspace": access.workspace, **context})


def _list_context(request: HttpRequest, access: WorkspaceAccess, filters: InboxFilters) -> dict:
    """What the list shows: the first page of threads (or the page after `cursor`) and the links around it."""
    workspace = access.workspace
    user = request.user
    cursor = Cursor.parse(request.GET.get("cursor"))
    channels = selectors.workspace_channels(workspace)
    page = selectors.thread_page(
        workspace=workspace,
        filters=filters,
        user=user,  # type: ignore[arg-type]
        cursor=cursor,
        channels=channels,
    )
    kept = filters.params()
    return {
        "filters": filters,
        "page": page,
        "can_moderate": access.can(Capability.INBOX_MODERATE),
        "inbox_url": _url("inbox", access),
        "list_url": _url("inbox", access, kept),
        "more_url": _url("inbox", access, {**kept, "cursor": page.next_cursor}) if page.next_cursor else "",
        "poll_url": _url("new_items", access, {**kept, "since": str(page.since)}),
        "refresh_url": _url("new_items", access, kept),
        "thread_query": urlencode(kept),
        # Only the first page of an unfiltered, empty list needs to know whether the workspace has comments at all.
        "no_comments_yet": not page.threads
        and cursor is None
        and not filters.active
        and not selectors.workspace_has_comments(workspace),
        "me": user,
    }


def _page_context(request: HttpRequest, access: WorkspaceAccess, filters: InboxFilters) -> dict:
    """The whole page: the list plus the filter bar's choices, the bulk form and the subscription notices."""
    workspace = access.workspace
    context = _list_context(request, access, filters)
    context.update(
        {
            "channels": list(context["page"].channels.values()),
            "statuses": selectors.STATUSES,
            "people": assignable_people(workspace),
            "polled_channels": selectors.channels_without_live_updates(workspace),
        }
    )
    return context


def _thread_context(request: HttpRequest, access: WorkspaceAccess, comment_id: UUID) -> dict:
    workspace = access.workspace
    comment = get_object_or_404(Comment.objects.select_related("parent"), workspace=workspace, public_id=comment_id)
    thread = selectors.thread_for_panel(workspace=workspace, thread=comment.thread, user=request.user)  # type: ignore[arg-type]
    can_moderate = access.can(Capability.INBOX_MODERATE)
    return {
        "thread": thread,
        "focus": comment,
        "can_moderate": can_moderate,
        "assignees": assignable_people(workspace) if can_moderate else None,
        "others_here": thread.others_here,  # type: ignore[attr-defined]
        "presence_url": _url("presence", access, comment_id=thread.public_id),
        "inbox_url": _url("inbox", access),
        "back_url": _url("inbox", access, InboxFilters.parse(request.GET).params()),
        "me": request.user,
    }


@workspace_view(Capability.INBOX_READ)
@require_GET
def inbox_page(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The threads, newest activity first. htmx asks for the list alone (filters), or for the next rows (Load more,
    with `cursor`)."""
    filters = InboxFilters.parse(request.GET)
    if request.htmx and not request.htmx.history_restore_request:
        context = _list_context(request, access, filters)
        if request.GET.get("cursor"):
            return _render(request, access, "inbox/_thread_list.html#rows", context)
        # The address bar gets the filters that are set, not every empty field of the form.
        return push_url(_render(request, access, "inbox/_thread_list.html", context), context["list_url"])
    return _render(request, access, "inbox/inbox.html", _page_context(request, access, filters))


@workspace_view(Capability.INBOX_READ)
@require_GET
def thread_view(request: HttpRequest, access: WorkspaceAccess, comment_id: UUID) -> HttpResponse:
    """One thread with every reply and the reply box: the side panel for htmx, else the inbox page with it open.
    A reply's id opens its thread."""
    context = _thread_context(request, access, comment_id)
    if request.htmx and not request.htmx.history_restore_request:
        return _render(request, access, "inbox/_thread.html", context)
    filters = InboxFilters.parse(request.GET)
    return _render(request, access, "inbox/inbox.html", {**_page_context(request, access, filters), **context})


@workspace_view(Capability.INBOX_READ)
@require_GET
def new_items_view(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Polled every few seconds by the list with `since` (the newest comment id it knows): the rows of threads
    that received comments since then, which go to the top of the list (replacing their old row), the rows that
    the filters no longer show, and who has which thread open. With `thread` (one or more public ids) instead: those
    rows as they are now, to refresh them in place after an action."""
    workspace = access.workspace
    user = request.user
    filters = InboxFilters.parse(request.GET)
    kept = filters.params()
    context = {
        "filters": filters,
        "can_moderate": access.can(Capability.INBOX_MODERATE),
        "thread_query": urlencode(kept),
        "me": user,
    }
    wanted = request.GET.getlist("thread")
    if wanted:
        threads, gone = selectors.thread_rows(workspace=workspace, filters=filters, user=user, public_ids=wanted)  # type: ignore[arg-type]
        return _render(
            request,
            access,
            "inbox/_thread_list.html#incoming",
            {**context, "mode": "inplace", "incoming": threads, "gone": gone, "present": None},
        )
    since_value = request.GET.get("since", "")
    # A list without a known start begins from now.
    since = int(since_value) if selectors.is_row_id(since_value) else selectors.latest_comment_id(workspace)
    news = selectors.new_items(workspace=workspace, filters=filters, user=user, since=since)  # type: ignore[arg-type]
    return _render(
        request,
        access,
        "inbox/_thread_list.html#poll",
        {
            **context,
            "mode": "top",
            "incoming": news.threads,
            "gone": news.gone,
            "present": news.present,
            "more": news.more,
            "poll_url": _url("new_items", access, {**kept, "since": str(news.since)}),
        },
    )


@workspace_view(Capability.INBOX_READ)
@require_http_methods(["GET", "POST"])
def presence(request: HttpRequest, access: WorkspaceAccess, comment_id: UUID) -> HttpResponse:
    """POST (a heartbeat every 10 s from an open thread, `activity` viewing or replying; `gone` when it closes):
    records it. Both methods answer with who else is on the thread now."""
    thread = get_object_or_404(Comment, workspace=access.workspace, public_id=comment_id, parent__isnull=True)
    user = request.user
    if request.method == "POST":
        activity = request.POST.get("activity", "")
        if activity == "gone":
            presence_services.presence_leave(thread=thread, user=user)  # type: ignore[arg-type]
            return HttpResponse(status=204)
        # Only someone who may reply can be "replying"; anyone else reading the thread is looking at it.
        if not access.can(Capability.INBOX_MODERATE):
            activity = Presence.Activity.VIEWING
        presence_services.presence_beat(thread=thread, user=user, activity=activity)  # type: ignore[arg-type]
    others = presence_services.presence_for(workspace=access.workspace, thread_ids=[thread.pk], user=user)  # type: ignore[arg-type]
    return _render(
        request, access, "inbox/_presence.html", {"thread": thread, "others_here": others.get(thread.pk, [])}
    )


urlpatterns = [
    path("w/<uuid:workspace_id>/inbox/", inbox_page, name="inbox"),
    path("w/<uuid:workspace_id>/inbox/new/", new_items_view, name="new_items"),
    path("w/<uuid:workspace_id>/inbox/t/<uuid:comment_id>/", thread_view, name="thread"),
    path("w/<uuid:workspace_id>/inbox/t/<uuid:comment_id>/presence/", presence, name="presence"),
]

"""The Queue page: each channel's posting times and the posts waiting for them, in order.

One page per workspace with a tab per channel. Everything that changes the queue (posting times, order, pause)
answers an htmx request with the channel's panel (`queue.html#queue-panel`), and a plain form post with a
redirect back to the page. "Add to queue" on a draft in the list of posts lives here too."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.crypto import encrypted_field_names
from accounts.models import ApprovalFlow, Channel, ChannelStatus
from accounts.roles import Capability

from .models import Post, PostingQueue, PostingSlot
from .services import posts as post_services
from .services import queues
from .services.queues import WEEKDAYS


class SlotForm(forms.Form):
    """The same posting time on one or more days."""

    weekdays = forms.TypedMultipleChoiceField(
        choices=[(str(number), name) for number, name in enumerate(WEEKDAYS)],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one day for this posting time."},
    )
    time = forms.TimeField(
        error_messages={
            "required": "Enter the time, for example 09:30.",
            "invalid": "Enter the time as hours and minutes, for example 09:30.",
        }
    )


def _channels(access: WorkspaceAccess) -> list[Channel]:
    return list(
        Channel.objects.filter(workspace=access.workspace)
        .exclude(status=ChannelStatus.DISCONNECTED)
        .select_related("workspace")
        .defer(*encrypted_field_names(Channel))
        .order_by("platform", "name")
    )


def _channel(access: WorkspaceAccess, channel_id: UUID) -> Channel:
    return get_object_or_404(
        Channel.objects.select_related("workspace").defer(*encrypted_field_names(Channel)),
        public_id=channel_id,
        workspace=access.workspace,
    )


def local_time(post: Post) -> str:
    """The post's time on the workspace's clock, as the queue shows it: "Mon 3 Mar, 09:30"."""
    assert post.scheduled_at is not None
    local = timezone.localtime(post.scheduled_at, post.workspace.zoneinfo)
    return f"{local:%a} {local.day} {local:%b, %H:%M}"


def added_message(post: Post) -> str:
    """What a person reads after adding a post to the queue."""
    when = f"{local_time(post)} ({post.workspace.timezone})"
    if post.approval == Post.Approval.CLIENT_PENDING:
        return f"Added to the queue for {when} and sent to the client: it goes out once they approve it."
    if post.approval == Post.Approval.PENDING:
        if post.workspace.approval_flow == ApprovalFlow.INTERNAL_CLIENT:
            return f"Added to the queue for {when} and sent for approval: it waits for the team, then the client."
        return f"Added to the queue for {when} and sent for approval."
    return f"Added to the queue: it goes out on {when}."


def _panel(
    access: WorkspaceAccess,
    channel: Channel,
    *,
    channels: list[Channel] | None = None,
    form: SlotForm | None = None,
    notice: str = "",
    level: str = "success",
) -> dict[str, Any]:
    """Everything the channel's panel shows, in a fixed number of queries whatever the queue's length."""
    queue = PostingQueue.objects.select_related("paused_by").filter(channel=channel).first()
    slots = list(PostingSlot.objects.filter(queue__channel=channel).order_by("weekday", "time"))
    days = [(name, [s for s in slots if s.weekday == number]) for number, name in enumerate(WEEKDAYS)]
    next_free = queues.next_free_slots([channel], timezone.now(), 1)
    return {
        "access": access,
        "workspace": access.workspace,
        "tz": access.workspace.zoneinfo,
        "channels": channels if channels is not None else _channels(access),
        "channel": channel,
        "queue": queue,
        "paused": bool(queue and queue.paused_at),
        "slot_days": [(name, day_slots) for name, day_slots in days if day_slots],
        "rows": queues.queued_posts(channel),
        "next_free": next_free[0] if next_free else None,
        "can_manage": access.can(Capability.POSTS_PUBLISH),
        "form": form or SlotForm(),
        "weekday_choices": list(enumerate(WEEKDAYS)),
        "chosen_days": [str(d) for d in (form.data.getlist("weekdays") if form is not None else [])],
        "notice": notice,
        "notice_level": level,
    }


@workspace_view()
@require_GET
def queue_page(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    channels = _channels(access)
    chosen = request.GET.get("channel")
    channel = next((c for c in channels if str(c.public_id) == chosen), None) if chosen else None
    if chosen and channel is None:
        raise Http404
    if channel is None and channels:
        channel = channels[0]
    context: dict[str, Any] = {"access": access, "workspace": access.workspace, "channels": channels}
    if channel is not None:
        context = _panel(access, channel, channels=channels)
    template = "publishing/queue.html"
    if request.htmx and channel is not None:
        template += "#queue-panel"
    return render(request, template, context)


def _answer(
    request: HttpRequest,
    access: WorkspaceAccess,
    channel: Channel,
    notice: str,
    level: str = "success",
    form: SlotForm | None = None,
) -> HttpResponse:
    """With htmx the channel's panel, with `notice` in it; otherwise back to the page with the notice."""
    if request.htmx:
        return render(
            request,
            "publishing/queue.html#queue-panel",
            _panel(access, channel, form=form, notice=notice, level=level),
        )
    getattr(messages, level)(request, notice)
    url = reverse("publishing:queue", kwargs={"workspace_id": access.workspace.public_id})
    return redirect(f"{url}?channel={channel.public_id}")


def _days_text(days: list[int]) -> str:
    names = [WEEKDAYS[d] for d in sorted(days)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def queue_slots_add(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    channel = _channel(access, channel_id)
    form = SlotForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _answer(request, access, channel, f"Not added: {first}", "error", form=form)
    days, at = form.cleaned_data["weekdays"], form.cleaned_data["time"]
    added = queues.queue_slots_add(channel=channel, weekdays=days, at=at)
    if not added:
        return _answer(request, access, channel, f"{channel.display_name} already posts at {at:%H:%M} on those days.")
    new_days = _days_text([s.weekday for s in added])
    return _answer(request, access, channel, f"Added: {new_days} at {at:%H:%M}.")


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def queue_slot_remove(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID, slot_id: int) -> HttpResponse:
    channel = _channel(access, channel_id)
    slot = get_object_or_404(PostingSlot, pk=slot_id, queue__channel=channel)
    queues.queue_slot_remove(channel=channel, slot_id=slot.pk)
    return _answer(
        request,
        access,
        channel,
        f"Removed {WEEKDAYS[slot.weekday]} at {slot.time:%H:%M}. Posts already queued keep their times.",
    )


def _order(data: Any) -> list[str]:
    """The order sent: the posts as listed, with one moved a step up or down when a button asked for it."""
    order = list(data.getlist("post"))
    for key, step in (("up", -1), ("down", 1)):
        moving = data.get(key)
        if moving in order:
            i = order.index(moving)
            j = min(max(i + step, 0), len(order) - 1)
            order[i], order[j] = order[j], order[i]
    return order


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def queue_reorder(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    channel = _channel(access, channel_id)
    try:
        moved = queues.queue_reorder(
            channel=channel, ordered_post_ids=_order(request.POST), access=access, user=request.user
        )
    except queues.QueueRefused as exc:
        return _answer(request, access, channel, str(exc), "error")
    notice = "New order saved: the posts swapped their times." if moved else "The order is unchanged."
    return _answer(request, access, channel, notice)


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def queue_pause(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    channel = _channel(access, channel_id)
    queues.queue_pause(channel=channel, user=request.user)
    return _answer(
        request, access, channel, f"Queue paused: nothing in it goes out on {channel.display_name} until you resume."
    )


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def queue_resume(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    channel = _channel(access, channel_id)
    try:
        moved = queues.queue_resume(channel=channel, user=request.user)
    except queues.QueueRefused as exc:
        return _answer(request, access, channel, str(exc), "error")
    if moved:
        notice = f"Queue resumed. {len(moved)} post(s) whose time had passed moved to the next free times."
    else:
        notice = "Queue resumed: the posts go out at their times."
    return _answer(request, access, channel, notice)


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def queue_remove_post(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID, post_id: UUID) -> HttpResponse:
    channel = _channel(access, channel_id)
    post = get_object_or_404(Post.objects.select_related("workspace"), public_id=post_id, workspace=access.workspace)
    queues.post_remove_from_queue(post=post, access=access)
    when = f" on {local_time(post)}" if post.scheduled_at else ""
    return _answer(request, access, channel, f"Taken out of the queue. It keeps its time{when}.")


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def post_queue(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    """The "Add to queue" button on a draft in the list of posts."""
    post = get_object_or_404(Post.objects.select_related("workspace"), public_id=post_id, workspace=access.workspace)
    try:
        post = queues.post_add_to_queue(post=post, access=access, user=request.user)
    except queues.QueueRefused as exc:
        messages.error(request, f"Not added to the queue: {exc}")
    except post_services.PostInvalid as exc:
        messages.error(request, f"Not added to the queue: {exc} Open the post to fix it.")
    else:
        messages.success(request, added_message(post))
    url = reverse("publishing:posts", kwargs={"workspace_id": access.workspace.public_id})
    return redirect(f"{url}#post-{post.public_id}")

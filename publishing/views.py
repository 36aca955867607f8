from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import WorkspaceAccess, workspace_view
from accounts.crypto import encrypted_field_names
from accounts.models import Channel, ChannelStatus
from accounts.roles import Capability

from . import specs
from .convert import ConversionError
from .models import ACTIVE_STATES, Delivery, DeliveryState, MediaAsset, Post, PostMedia
from .services import calendar as calendar_services
from .services import composer, removal
from .services import media as media_services
from .services import posts as post_services
from .uploads import store_uploads, upload_limit


def _serve(asset: MediaAsset, *, thumbnail: bool = False) -> FileResponse:
    """Only files the probe read as an image or a video are shown inline, with the type the probe found; anything
    else is a download, so an uploaded page or script never runs on SocialHub's origin."""
    if thumbnail and asset.thumbnail:
        return FileResponse(asset.thumbnail.open("rb"), content_type="image/jpeg")
    if not asset.file:
        raise Http404
    if asset.kind in (MediaAsset.Kind.IMAGE, MediaAsset.Kind.VIDEO) and asset.mime_type.split("/")[0] in (
        "image",
        "video",
    ):
        return FileResponse(asset.file.open("rb"), content_type=asset.mime_type)
    return FileResponse(
        asset.file.open("rb"), content_type="application/octet-stream", as_attachment=True, filename=asset.original_name
    )


@require_GET
def media_public(request: HttpRequest, signed: str, filename: str) -> HttpResponse:
    """The signed, expiring link through which Meta fetches a file stored on this server. No login: the
    signature is the permission, and it names one file for a limited time."""
    asset = media_services.asset_from_signed(signed)
    if asset is None:
        raise Http404
    return _serve(asset)


@workspace_view()
@require_GET
def media_file(request: HttpRequest, access: WorkspaceAccess, asset_id: UUID) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, public_id=asset_id, workspace=access.workspace)
    return _serve(asset, thumbnail=bool(request.GET.get("thumb")))


def _library_row(asset: MediaAsset) -> dict:
    usable = media_services.usable_for(asset) if asset.kind != MediaAsset.Kind.UNKNOWN and asset.probe else {}
    return {
        "asset": asset,
        "ok": [str(t) for t, problems in usable.items() if not specs.blocking(problems)],
        "problems": {str(t): specs.blocking(problems) for t, problems in usable.items() if specs.blocking(problems)},
        "fixes": sorted(media_services.offered_fixes(asset, usable)),
        "busy": asset.status == MediaAsset.Status.CONVERTING or asset.preview_pending,
    }


@workspace_view()
@require_http_methods(["GET", "POST"])
def media_library(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    if request.method == "POST":
        access.require(Capability.POSTS_DRAFT)
        assets, refused, unreadable = store_uploads(request, access.workspace, request.user)
        for reason in refused:
            messages.error(request, reason)
        for reason in unreadable:
            messages.warning(request, reason)
        if assets:
            messages.success(request, f"Uploaded {len(assets)} file(s).")
        return redirect("publishing:media_library", workspace_id=access.workspace.public_id)
    assets = MediaAsset.objects.filter(workspace=access.workspace).select_related("derived_from")
    page = Paginator(assets, 24).get_page(request.GET.get("page"))
    return render(
        request,
        "publishing/media_library.html",
        {
            **_library_context(access),
            "page": page,
            "rows": [_library_row(asset) for asset in page],
            "upload_limits": {kind: specs.size_text(upload_limit(kind)) for kind in ("image", "video")},
        },
    )


@workspace_view()
@require_GET
def media_card(request: HttpRequest, access: WorkspaceAccess, asset_id: UUID) -> HttpResponse:
    """One file's card; the library polls it while a copy is being made or a preview is pending."""
    asset = get_object_or_404(MediaAsset, public_id=asset_id, workspace=access.workspace)
    return render(
        request, "publishing/media_library.html#asset-card", {**_library_context(access), "row": _library_row(asset)}
    )


def _library_context(access: WorkspaceAccess) -> dict:
    return {
        "access": access,
        "workspace": access.workspace,
        "can_upload": access.can(Capability.POSTS_DRAFT),
        "post_type_labels": POST_TYPE_LABELS,
    }


POST_TYPE_LABELS = {
    "ig_image": "Instagram photo",
    "ig_reel": "Instagram reel",
    "ig_story_image": "Instagram story (photo)",
    "ig_story_video": "Instagram story (video)",
    "ig_carousel_image": "Instagram carousel photo",
    "ig_carousel_video": "Instagram carousel video",
    "fb_photo": "Facebook photo",
    "fb_video": "Facebook video",
    "fb_reel": "Facebook reel",
}


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def media_fix(request: HttpRequest, access: WorkspaceAccess, asset_id: UUID, fix: str) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, public_id=asset_id, workspace=access.workspace)
    try:
        new = media_services.media_asset_fix(asset=asset, fix=fix, user=request.user)
    except ConversionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Making {new.original_name} from {asset.original_name}; the original is kept.")
    return redirect("publishing:media_library", workspace_id=access.workspace.public_id)


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def media_delete(request: HttpRequest, access: WorkspaceAccess, asset_id: UUID) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, public_id=asset_id, workspace=access.workspace)
    try:
        removal.media_asset_delete(asset=asset)
    except removal.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Deleted {asset.original_name}.")
    url = reverse("publishing:media_library", kwargs={"workspace_id": access.workspace.public_id})
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def media_duplicate(request: HttpRequest, access: WorkspaceAccess, asset_id: UUID) -> HttpResponse:
    asset = get_object_or_404(MediaAsset, public_id=asset_id, workspace=access.workspace)
    try:
        copy = removal.media_asset_duplicate(asset=asset, user=request.user)
    except removal.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Made a copy of {asset.original_name}: {copy.original_name}.")
    return redirect("publishing:media_library", workspace_id=access.workspace.public_id)


# --- the posts list --------------------------------------------------------------------------------------------
# A post's card polls for its new state while something of it is under way, and stops when nothing is.
LIVE_POLL = "every 2s"
POSTS_PER_PAGE = 20


def _posts(access: WorkspaceAccess) -> QuerySet[Post]:
    """The workspace's posts with everything their cards show, in a fixed number of queries."""
    return (
        Post.objects.filter(workspace=access.workspace)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "deliveries",
                # The channel's posting queue comes along: whether a paused queue holds a delivery is read
                # from it (`calendar.hold_reason`), not asked card by card.
                queryset=Delivery.objects.select_related("channel", "channel__posting_queue")
                .defer(*encrypted_field_names(Channel, prefix="channel__"))
                .order_by("channel__name"),
            ),
            Prefetch("items", queryset=PostMedia.objects.select_related("asset")),
        )
    )


@dataclass
class DeliveryRow:
    """One account of a post's card, and why a pause holds it ("" when nothing does)."""

    delivery: Delivery
    hold: str


@dataclass
class PostCard:
    """One post on the list, with what the person may do with it now."""

    post: Post
    deliveries: list[Delivery]
    rows: list[DeliveryRow]
    plan: removal.DeletionPlan
    live: bool  # something of it is under way: the card polls
    removal_pending: bool  # being deleted on Meta
    can_edit: bool
    can_duplicate: bool
    can_delete: bool
    can_cancel: bool
    needs_attention: bool  # failed somewhere: listed first, with Meta's reason and Retry
    undated: bool  # a draft without a time


def _in_flight(row: DeliveryRow, now: datetime) -> bool:
    """Under way, or due and about to be: the dispatcher takes it within the minute. A held delivery waits for the
    pause to end, however long that is, so its card does not poll meanwhile."""
    delivery = row.delivery
    if delivery.state in ACTIVE_STATES:
        return True
    return (
        delivery.state == DeliveryState.SCHEDULED
        and not row.hold
        and delivery.next_attempt_at is not None
        and delivery.next_attempt_at <= now
        and delivery.channel.status == ChannelStatus.ACTIVE
    )


def _card(post: Post, access: WorkspaceAccess, request: HttpRequest, now: datetime) -> PostCard:
    deliveries = list(post.deliveries.all())
    rows = [DeliveryRow(d, calendar_services.hold_reason(post, d, access.workspace)) for d in deliveries]
    plan = removal.post_deletion_plan(deliveries)
    removal_pending = bool(post.removal_requested_at and not post.removal_error)
    may_delete = removal.post_may_delete(post=post, access=access, user=request.user, deliveries=deliveries)
    return PostCard(
        post=post,
        deliveries=deliveries,
        rows=rows,
        plan=plan,
        live=removal_pending or any(_in_flight(row, now) for row in rows),
        removal_pending=removal_pending,
        can_edit=access.can(Capability.POSTS_DRAFT) and composer.editable(post, deliveries),
        can_duplicate=access.can(Capability.POSTS_DRAFT),
        can_delete=may_delete and not removal_pending and not plan.busy,
        can_cancel=access.can(Capability.POSTS_PUBLISH) and bool(plan.unsent),
        needs_attention=any(d.state == DeliveryState.FAILED for d in deliveries),
        undated=post.scheduled_at is None and all(d.state == DeliveryState.DRAFT for d in deliveries),
    )


def _list_context(access: WorkspaceAccess) -> dict:
    return {
        "access": access,
        "workspace": access.workspace,
        "can_publish": access.can(Capability.POSTS_PUBLISH),
        "can_approve": access.can(Capability.POSTS_APPROVE),
        "tz": access.workspace.zoneinfo,
        "live_poll": LIVE_POLL,
        "calendar_url": reverse("publishing:calendar", kwargs={"workspace_id": access.workspace.public_id}),
    }


@workspace_view()
@require_GET
def post_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The workspace's posts, those that failed somewhere first (with Meta's reason and Retry), then the newest;
    filtered by account, status, author, approval and words of the caption. htmx asks for the results only."""
    options = calendar_services.filter_options(access.workspace)
    filters = calendar_services.PostFilters.parse(request.GET, options)
    posts = calendar_services.FailuresFirst(calendar_services.filter_posts(_posts(access), filters))
    page = Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    template = "publishing/post_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#post-results"
    posts_url = reverse("publishing:posts", kwargs={"workspace_id": access.workspace.public_id})
    return render(
        request,
        template,
        {
            **_list_context(access),
            "page": page,
            "cards": [_card(post, access, request, now) for post in page],
            "attention_count": posts.attention_count,
            "filters": filters,
            "options": options,
            "posts_url": posts_url,
            "clear_url": posts_url,
        },
    )


def _render_card(
    request: HttpRequest, access: WorkspaceAccess, post_id: UUID, *, notice: str = "", level: str = "success"
) -> HttpResponse:
    """The post's card (the partial the list polls and the buttons on it swap in). A post that is gone (deleted
    meanwhile, on Meta too) answers 404 and asks the page to reload, which also stops the polling."""
    post = _posts(access).filter(public_id=post_id).first()
    if post is None:
        response = HttpResponseNotFound()
        if request.htmx:
            response["HX-Refresh"] = "true"
        return response
    return render(
        request,
        "publishing/post_list.html#post-deliveries",
        {
            **_list_context(access),
            "card": _card(post, access, request, timezone.now()),
            "notice": notice,
            "notice_level": level,
        },
    )


def _to_list(access: WorkspaceAccess, post_id: UUID | None = None) -> HttpResponse:
    url = reverse("publishing:posts", kwargs={"workspace_id": access.workspace.public_id})
    return redirect(f"{url}#post-{post_id}" if post_id else url)


def _answer(
    request: HttpRequest, access: WorkspaceAccess, post_id: UUID, notice: str, level: str = "success"
) -> HttpResponse:
    """An action on a post's card: with htmx the refreshed card with `notice` in it, else back to the list."""
    if request.htmx:
        return _render_card(request, access, post_id, notice=notice, level=level)
    getattr(messages, level)(request, notice)
    return _to_list(access, post_id)


@workspace_view()
@require_GET
def post_deliveries(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    """A post's card with the live state of its deliveries."""
    if not request.htmx:
        post = get_object_or_404(Post, public_id=post_id, workspace=access.workspace)
        return _to_list(access, post.public_id)
    return _render_card(request, access, post_id)


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def post_cancel(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    post = get_object_or_404(Post, public_id=post_id, workspace=access.workspace)
    count = post_services.post_cancel(post=post)
    return _answer(
        request, access, post.public_id, f"Cancelled on {count} channel(s). Anything already published stays."
    )


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def post_duplicate(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    post = get_object_or_404(Post, public_id=post_id, workspace=access.workspace)
    copy = removal.post_duplicate(post=post, author=request.user)
    messages.success(request, "This is a copy of the post, as a draft. Change what you need, then schedule it.")
    return redirect("publishing:post_edit", workspace_id=access.workspace.public_id, post_id=copy.public_id)


def _channels(deliveries: list[Delivery]) -> str:
    return ", ".join(f"{d.channel.display_name} ({removal.platform_name(d.channel)})" for d in deliveries)


def _deleted_message(result: removal.DeletionResult) -> str:
    plan = result.plan
    if result.queued:
        text = (
            f"Deleting it on {plan.deletable_platforms}: {_channels(plan.deletable)}. It leaves SocialHub once Meta "
            "confirms."
        )
        if plan.app_only:
            text += f" Delete it yourself in the Instagram app on {_channels(plan.app_only)}."
        return text
    public = plan.published + plan.uncertain
    if not public:
        return "Post deleted."
    text = f"Deleted from SocialHub only. It stays public on {_channels(plan.published)}." if plan.published else ""
    if plan.uncertain:
        text += (
            f" It may have gone out on {_channels(plan.uncertain)}: check the account, and delete it there if it did."
        )
    return text.strip()


@workspace_view()
@require_http_methods(["GET", "POST"])
def post_delete(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    """Delete a post. A post with something public asks first (this page), offering to delete it on Meta too."""
    post = get_object_or_404(Post.objects.select_related("author"), public_id=post_id, workspace=access.workspace)
    deliveries = list(
        post.deliveries.select_related("channel")
        .defer(*encrypted_field_names(Channel, prefix="channel__"))
        .order_by("channel__name")
    )
    user = request.user
    if not removal.post_may_delete(post=post, access=access, user=user, deliveries=deliveries):
        raise PermissionDenied("Your role in this workspace does not allow deleting this post.")
    plan = removal.post_deletion_plan(deliveries)
    confirm_url = reverse(
        "publishing:post_delete", kwargs={"workspace_id": access.workspace.public_id, "post_id": post_id}
    )
    if request.method == "POST" and plan.needs_confirmation and not request.POST.get("confirmed"):
        if request.htmx:
            return HttpResponseClientRedirect(confirm_url)
        return redirect(confirm_url)
    if request.method == "GET":
        return render(
            request,
            "publishing/post_delete.html",
            {"access": access, "workspace": access.workspace, "post": post, "plan": plan, "deliveries": deliveries},
        )
    try:
        result = removal.post_delete(
            post=post,
            access=access,
            user=user,
            on_meta=bool(request.POST.get("on_meta")),
        )
    except removal.Refused as exc:
        return _answer(request, access, post.public_id, str(exc), "error")
    text = _deleted_message(result)
    if result.queued:
        return _answer(request, access, post.public_id, text)
    if request.htmx:
        return render(request, "publishing/post_list.html#post-removed", {"post": post, "notice": text})
    messages.success(request, text)
    return _to_list(access)


def _workspace_delivery(access: WorkspaceAccess, delivery_id: UUID) -> Delivery:
    return get_object_or_404(
        Delivery.objects.select_related("channel", "post").defer(*encrypted_field_names(Channel, prefix="channel__")),
        public_id=delivery_id,
        post__workspace=access.workspace,
    )


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def delivery_confirm(request: HttpRequest, access: WorkspaceAccess, delivery_id: UUID) -> HttpResponse:
    """After an unconfirmed outcome: the person picked the post on the account that is this one."""
    delivery = _workspace_delivery(access, delivery_id)
    try:
        post_services.delivery_confirm(delivery=delivery, candidate_id=request.POST.get("candidate", ""))
    except post_services.PostInvalid as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Marked as published on {delivery.channel.display_name}.")
    return redirect("publishing:posts", workspace_id=access.workspace.public_id)


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def delivery_publish_again(request: HttpRequest, access: WorkspaceAccess, delivery_id: UUID) -> HttpResponse:
    """After an unconfirmed outcome: the person checked the account and the post is not there."""
    delivery = _workspace_delivery(access, delivery_id)
    try:
        post_services.delivery_publish_again(delivery=delivery)
    except (post_services.PostInvalid, ValidationError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Publishing on {delivery.channel.display_name} again.")
    return redirect("publishing:posts", workspace_id=access.workspace.public_id)


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def delivery_retry(request: HttpRequest, access: WorkspaceAccess, delivery_id: UUID) -> HttpResponse:
    delivery = _workspace_delivery(access, delivery_id)
    try:
        post_services.delivery_retry(delivery=delivery)
    except (post_services.PostInvalid, ValidationError) as exc:
        notice, level = str(exc), "error"
    else:
        if delivery.channel.status != ChannelStatus.ACTIVE:
            notice, level = f"Queued; it goes out once {delivery.channel.display_name} is reconnected.", "info"
        else:
            notice, level = f"Trying {delivery.channel.display_name} again.", "success"
    return _answer(request, access, delivery.post.public_id, notice, level)

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.crypto import encrypted_field_names
from accounts.models import Channel, ChannelStatus
from accounts.roles import Capability

from . import specs
from .convert import ConversionError
from .models import Delivery, MediaAsset, Post, PostMedia
from .services import media as media_services
from .services import posts as post_services
from .uploads import upload_limit, upload_refusals

MAX_FILES_PER_UPLOAD = 20


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
        files = request.FILES.getlist("files")[:MAX_FILES_PER_UPLOAD]
        refused = upload_refusals(request)
        for reason in refused:
            messages.error(request, reason)
        if not files and not refused:
            messages.error(request, "Choose one or more files to upload.")
        for uploaded in files:
            asset = media_services.media_asset_upload(workspace=access.workspace, uploaded=uploaded, user=request.user)
            if asset.probe_error:
                messages.warning(request, f"{asset.original_name} was kept, but cannot be posted: {asset.probe_error}")
        if files:
            messages.success(request, f"Uploaded {len(files)} file(s).")
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


@workspace_view()
@require_GET
def post_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    posts = (
        Post.objects.filter(workspace=access.workspace)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=Delivery.objects.select_related("channel")
                .defer(*encrypted_field_names(Channel, prefix="channel__"))
                .order_by("channel__name"),
            ),
            Prefetch("items", queryset=PostMedia.objects.select_related("asset")),
        )
    )
    page = Paginator(posts, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "publishing/post_list.html",
        {
            "access": access,
            "workspace": access.workspace,
            "page": page,
            "can_publish": access.can(Capability.POSTS_PUBLISH),
            "can_approve": access.can(Capability.POSTS_APPROVE),
            "tz": access.workspace.zoneinfo,
        },
    )


@workspace_view(Capability.POSTS_APPROVE)
@require_POST
def post_approve(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    post = get_object_or_404(Post, public_id=post_id, workspace=access.workspace)
    try:
        post_services.post_approve(post=post, access=access)
    except post_services.PostInvalid as exc:
        messages.error(request, f"Not approved: {exc}")
    else:
        messages.success(request, "Approved and scheduled.")
    return redirect("publishing:posts", workspace_id=access.workspace.public_id)


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def post_cancel(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    post = get_object_or_404(Post, public_id=post_id, workspace=access.workspace)
    count = post_services.post_cancel(post=post)
    messages.success(request, f"Cancelled on {count} channel(s). Anything already published stays.")
    return redirect("publishing:posts", workspace_id=access.workspace.public_id)


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
        messages.error(request, str(exc))
    else:
        if delivery.channel.status != ChannelStatus.ACTIVE:
            messages.info(request, f"Queued; it goes out once {delivery.channel.display_name} is reconnected.")
        else:
            messages.success(request, f"Trying {delivery.channel.display_name} again.")
    return redirect("publishing:posts", workspace_id=access.workspace.public_id)

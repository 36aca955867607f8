"""The composer: write, check as you type, preview, save, edit and restore posts.

The page is one form. While the person types, htmx sends it to `check`, which keeps it as unsaved input and
answers with each channel's counters, problems and preview; the Save buttons send it normally. Media rows,
the library picker and uploads are partials of the same template."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.crypto import encrypted_field_names
from accounts.models import Channel
from accounts.roles import Capability

from .convert import ConversionError
from .forms import PostForm
from .models import DeliveryState, MediaAsset, Post
from .queue_views import added_message
from .services import approvals, composer
from .services import media as media_services
from .services import posts as post_services
from .services import queues as queue_services
from .uploads import store_uploads

LIBRARY_PAGE_SIZE = 24
HISTORY_SHOWN = 20


def _post_url(post: Post) -> str:
    """The post in the workspace's list of posts."""
    return reverse("publishing:posts", kwargs={"workspace_id": post.workspace.public_id}) + f"#post-{post.public_id}"


def _media_urls(workspace: Any) -> Any:
    """`media_url(asset, thumb)` for the workspace's files: the workspace is known, so no query per file."""

    def media_url(asset: MediaAsset, thumb: bool) -> str:
        kwargs = {"workspace_id": workspace.public_id, "asset_id": asset.public_id}
        url = reverse("publishing:media_file", kwargs=kwargs)
        return f"{url}?thumb=1" if thumb else url

    return media_url


def _workspace_post(access: WorkspaceAccess, post_id: UUID) -> Post:
    return get_object_or_404(Post.objects.select_related("workspace"), public_id=post_id, workspace=access.workspace)


def _initial_data() -> QueryDict:
    return composer.as_querydict({"format": ["feed"], "when": ["later"], "share_to_feed": ["on"]})


def _media_rows(access: WorkspaceAccess, data: QueryDict) -> list[dict[str, Any]]:
    """The chosen files in the order chosen, with what was typed for each (one query)."""
    ids = list(dict.fromkeys(m for m in data.getlist("media") if m.isdigit()))
    assets = {a.pk: a for a in MediaAsset.objects.filter(workspace=access.workspace, pk__in=ids)}
    return [_media_row(assets[int(pk)], data) for pk in ids if int(pk) in assets]


def _media_row(asset: MediaAsset, data: QueryDict | dict, source: MediaAsset | None = None) -> dict[str, Any]:
    """One chosen file; `source`: the file it replaces (a fixed copy keeps what was typed for the original)."""
    key = (source or asset).pk
    return {
        "asset": asset,
        "alt_text": data.get(f"alt_{key}", ""),
        "user_tags": data.get(f"user_tags_{key}") or "[]",
        "product_tags": data.get(f"product_tags_{key}") or "[]",
        "busy": asset.status == MediaAsset.Status.CONVERTING,
    }


def _context(
    request: HttpRequest,
    access: WorkspaceAccess,
    form: PostForm,
    data: QueryDict,
    *,
    post: Post | None = None,
    token: UUID | str,
    checked: composer.Checked | None = None,
    show_errors: bool = False,
    problems: dict[Channel, list[Any]] | None = None,
    notices: list[str] | None = None,
) -> dict[str, Any]:
    channels = list(form.fields["channels"].queryset)  # type: ignore[attr-defined]
    chosen = set(data.getlist("channels"))
    cover = None
    if (data.get("cover") or "").isdigit():
        cover = MediaAsset.objects.filter(workspace=access.workspace, pk=data["cover"]).first()
    context = {
        "access": access,
        "workspace": access.workspace,
        "form": form,
        "data": data,
        "post": post,
        "token": token,
        "show_errors": show_errors,
        "problems": problems or {},
        "notices": notices or [],
        "channel_rows": [
            {
                "channel": c,
                "checked": str(c.pk) in chosen,
                "caption": data.get(f"caption_{c.pk}", ""),
                "first_comment": data.get(f"first_comment_{c.pk}", ""),
            }
            for c in channels
        ],
        "media_rows": _media_rows(access, data),
        "cover": cover,
        "cta_choices": form.fields["cta_type"].choices,  # type: ignore[attr-defined]
        "check_url": _check_url(access, post),
        "can_publish": access.can(Capability.POSTS_PUBLISH),
        "submit_labels": approvals.submit_labels(access),
    }
    if checked is not None:
        context.update(_check_context(access, checked))
    if post is not None:
        context["versions"] = list(post.versions.select_related("author")[:HISTORY_SHOWN])
        context["deliveries"] = list(
            post.deliveries.select_related("channel").defer(*encrypted_field_names(Channel, prefix="channel__"))
        )
    else:
        context["unsaved_posts"] = [
            d
            for d in composer.unsaved_new_posts(workspace=access.workspace, user=request.user)
            if str(d.token) != str(token)
        ]
    return context


def _check_context(access: WorkspaceAccess, checked: composer.Checked) -> dict[str, Any]:
    return {
        "checked": checked,
        "previews": composer.previews(checked, media_url=_media_urls(access.workspace)),
        "fixes": checked.fixes(),
        "converting": any(i.asset.status == MediaAsset.Status.CONVERTING for i in checked.items),
    }


def _check_url(access: WorkspaceAccess, post: Post | None) -> str:
    if post is None:
        return reverse("publishing:compose_check", kwargs={"workspace_id": access.workspace.public_id})
    return reverse(
        "publishing:post_check", kwargs={"workspace_id": access.workspace.public_id, "post_id": post.public_id}
    )


def _bind(access: WorkspaceAccess, data: QueryDict) -> PostForm:
    return PostForm(data, workspace=access.workspace)


def _checked(access: WorkspaceAccess, form: PostForm, post: Post | None = None) -> composer.Checked:
    form.is_valid()
    return composer.check(access.workspace, form.cleaned_data, post=post)


def _render(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, "publishing/composer.html", context)


def _save(
    request: HttpRequest, access: WorkspaceAccess, form: PostForm, *, post: Post | None, token: UUID
) -> HttpResponse:
    """Save the composer's form; anything refused renders the composer again with everything typed."""
    data = request.POST
    problems: dict[Channel, list[Any]] = {}
    notices: list[str] = []
    conflict = False
    if form.is_valid():
        try:
            saved = composer.save(access=access, user=request.user, data=form.cleaned_data, post=post)
        except post_services.PostInvalid as exc:
            problems = exc.problems
        except composer.Conflict as exc:
            notices.append(str(exc))
            conflict = True
        except (composer.Incomplete, composer.NotEditable, queue_services.QueueRefused) as exc:
            notices.append(str(exc))
        else:
            composer.forget_unsaved(user=request.user, token=token)
            return _after_save(request, access, saved, form.cleaned_data)
    composer.keep_unsaved(workspace=access.workspace, user=request.user, token=token, post=post, data=data)
    checked = _checked(access, form, post)
    context = _context(
        request,
        access,
        form,
        data,
        post=post,
        token=token,
        checked=checked,
        show_errors=True,
        problems=problems,
        notices=notices,
    )
    if post is not None:
        # After a conflict the next save replaces theirs, as the notice says; otherwise the version typed on.
        sent = data.get("base_version") or ""
        latest = composer.latest_version_number(post)
        context["base_version"] = latest if conflict or not sent.isdigit() else int(sent)
    return _render(request, context)


def _after_save(request: HttpRequest, access: WorkspaceAccess, saved: composer.Saved, data: dict) -> HttpResponse:
    post = saved.post
    if saved.reused:
        # The same form came again (double click, or back and send): the first send made the post.
        messages.info(request, "This post was already saved; sending the form again did not add a second one.")
        return redirect(_post_url(post))
    if not saved.submitted:
        if saved.unscheduled:
            messages.warning(request, "Draft saved. It is no longer scheduled: schedule it again when it is ready.")
        else:
            messages.success(request, "Draft saved.")
        return redirect("publishing:post_edit", workspace_id=access.workspace.public_id, post_id=post.public_id)
    if saved.queued:
        messages.success(request, added_message(post))
        return redirect(_post_url(post))
    now = data.get("when") == "now"
    if post.approval == Post.Approval.CLIENT_PENDING:
        what = "sent to the client for approval"
    elif post.approval == Post.Approval.PENDING:
        what = "sent for approval"
    else:
        what = "publishing now" if now else "scheduled"
    if now and post_services.post_queue_unavailable(post):
        messages.warning(
            request, "Post queued: the publishing queue is not reachable right now; it goes out when the queue is back."
        )
    else:
        messages.success(request, f"Post {what}.")
    return redirect(_post_url(post))


@workspace_view(Capability.POSTS_DRAFT)
@require_http_methods(["GET", "POST"])
def post_new(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    if request.method == "POST":
        form = _bind(access, request.POST)
        token = _token(request.POST.get("form_token")) or uuid4()
        return _save(request, access, form, post=None, token=token)
    token = _token(request.GET.get("draft"))
    kept = composer.unsaved(workspace=access.workspace, user=request.user, token=token) if token else None
    notices = []
    if kept is not None:
        data = composer.as_querydict(kept.data)
        data["form_token"] = str(token)
        notices.append("Here is what you typed last time; nothing was lost.")
    else:
        token = uuid4()
        data = _initial_data()
        data["form_token"] = str(token)
    form = _bind(access, data)
    checked = _checked(access, form) if kept is not None else None
    return _render(request, _context(request, access, form, data, token=token, checked=checked, notices=notices))


@workspace_view(Capability.POSTS_DRAFT)
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    post = _workspace_post(access, post_id)
    token = post.public_id
    if request.method == "POST":
        return _save(request, access, _bind(access, request.POST), post=post, token=token)
    notices: list[str] = []
    deliveries = list(post.deliveries.all())
    if not composer.editable(post, deliveries):
        notices.append(composer.NOT_EDITABLE)
    elif not access.can(Capability.POSTS_PUBLISH) and any(d.state != DeliveryState.DRAFT for d in deliveries):
        notices.append("This post is scheduled or awaiting approval: saving your changes sends it for approval again.")
    kept = composer.unsaved(workspace=access.workspace, user=request.user, token=token)
    base_version = composer.latest_version_number(post)
    version_number = request.GET.get("version")
    if version_number and version_number.isdigit():
        version = get_object_or_404(post.versions, number=int(version_number))
        data, gone = composer.restorable(access.workspace, version.snapshot)
        notices.append(
            f"Version {version.number} is open. Save to make it the current one"
            + (f"; it no longer has {', '.join(gone)}." if gone else ".")
        )
    elif kept is not None and (kept.updated_at > post.updated_at or request.GET.get("unsaved")):
        data = composer.as_querydict(kept.data)
        sent = data.get("base_version") or ""
        base_version = int(sent) if sent.isdigit() else base_version  # the conflict check still applies
        notices.append(
            "Here are the changes you had not saved yet. Save to keep them, or discard them to see the post as saved."
        )
    else:
        data, gone = composer.restorable(access.workspace, composer.form_data_of(post))
        if gone:
            notices.append(f"This post was also for {', '.join(gone)}; saving it leaves that out.")
        if kept is not None:
            notices.append(
                "You also have changes you did not save, typed before this post was saved again. "
                "Open them with “Open my unsaved changes” below, or discard them."
            )
    form = _bind(access, data)
    context = _context(
        request, access, form, data, post=post, token=token, checked=_checked(access, form, post), notices=notices
    )
    context["base_version"] = base_version
    context["has_unsaved"] = kept is not None
    return _render(request, context)


def _token(value: str | None) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def compose_check(request: HttpRequest, access: WorkspaceAccess, post_id: UUID | None = None) -> HttpResponse:
    """The live checks and previews of the form as it is now; it also keeps what was typed."""
    post = _workspace_post(access, post_id) if post_id else None
    token = post.public_id if post else (_token(request.POST.get("form_token")) or uuid4())
    composer.keep_unsaved(workspace=access.workspace, user=request.user, token=token, post=post, data=request.POST)
    form = _bind(access, request.POST)
    checked = _checked(access, form, post)
    context = {
        **_check_context(access, checked),
        "access": access,
        "workspace": access.workspace,
        "form": form,
        "show_errors": True,
        "check_url": _check_url(access, post),
        "kept_at": True,
    }
    response = render(request, "publishing/composer.html#checks", context)
    if post is None and request.htmx and "draft=" not in (request.htmx.current_url or ""):
        response["HX-Replace-Url"] = composer.new_post_url(access.workspace, token)
    return response


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def compose_discard(request: HttpRequest, access: WorkspaceAccess, draft_id: UUID) -> HttpResponse:
    """Forget what was typed and not saved."""
    draft = composer.unsaved(workspace=access.workspace, user=request.user, token=draft_id)
    if draft is None:
        raise Http404
    composer.forget_unsaved(user=request.user, token=draft_id)
    messages.info(request, "Unsaved changes discarded.")
    if draft.post_id:
        return redirect("publishing:post_edit", workspace_id=access.workspace.public_id, post_id=draft.post.public_id)
    return redirect("publishing:post_new", workspace_id=access.workspace.public_id)


@workspace_view(Capability.POSTS_DRAFT)
@require_GET
def compose_library(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The media library inside the composer: a page of files to add, newest first, searchable by name."""
    assets = MediaAsset.objects.filter(workspace=access.workspace).exclude(kind=MediaAsset.Kind.UNKNOWN)
    query = (request.GET.get("q") or "").strip()
    if query:
        assets = assets.filter(original_name__icontains=query)
    kind = request.GET.get("kind")
    if kind in (MediaAsset.Kind.IMAGE, MediaAsset.Kind.VIDEO):
        assets = assets.filter(kind=kind)
    page = Paginator(assets, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "publishing/composer.html#library",
        {"access": access, "workspace": access.workspace, "library": page, "query": query, "kind": kind or ""},
    )


@workspace_view(Capability.POSTS_DRAFT)
@require_GET
def compose_media_row(request: HttpRequest, access: WorkspaceAccess, asset_id: UUID) -> HttpResponse:
    """A file's row in the composer's chosen media, to add it."""
    asset = get_object_or_404(MediaAsset, public_id=asset_id, workspace=access.workspace)
    return render(
        request,
        "publishing/composer.html#media-row",
        {"access": access, "workspace": access.workspace, "row": _media_row(asset, request.GET)},
    )


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def compose_upload(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Upload files from the composer: they go to the library and are added to the post."""
    assets, refused, unreadable = store_uploads(request, access.workspace, request.user)
    rows = [_media_row(asset, {}) for asset in assets if not asset.probe_error]
    errors = [*refused, *unreadable]
    return render(
        request,
        "publishing/composer.html#uploaded",
        {"access": access, "workspace": access.workspace, "rows": rows, "upload_errors": errors},
    )


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def compose_fix(request: HttpRequest, access: WorkspaceAccess, asset_id: UUID, fix: str) -> HttpResponse:
    """Make the fixed copy a problem offers and put it in the post in place of the original, keeping its alt
    text and tags."""
    asset = get_object_or_404(MediaAsset, public_id=asset_id, workspace=access.workspace)
    try:
        new = media_services.media_asset_fix(asset=asset, fix=fix, user=request.user)
    except ConversionError as exc:
        # The original stays in the post, with what was typed for it and the reason under it.
        row = {**_media_row(asset, request.POST), "error": str(exc)}
    else:
        row = _media_row(new, request.POST, source=asset)
    return render(
        request, "publishing/composer.html#media-row", {"access": access, "workspace": access.workspace, "row": row}
    )

"""The composer: write, check, preview, save, edit and restore posts."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.access import WorkspaceAccess, workspace_view
from accounts.models import Channel
from accounts.roles import Capability

from . import specs
from .forms import PostForm
from .models import MediaAsset, Post
from .services import posts as post_services


def _post_url(post: Post) -> str:
    """The post in the workspace's list of posts."""
    return reverse("publishing:posts", kwargs={"workspace_id": post.workspace.public_id}) + f"#post-{post.public_id}"


@workspace_view(Capability.POSTS_DRAFT)
@require_http_methods(["GET", "POST"])
def post_new(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    workspace = access.workspace
    form = PostForm(request.POST or None, workspace=workspace)
    problems: dict[Channel, list[specs.Problem]] = {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        items = [post_services.MediaItem(asset=a) for a in form.ordered_media()]
        post = post_services.post_create(
            workspace=workspace,
            author=request.user,
            channels=list(data["channels"]),
            caption=data["caption"],
            media=items,
            format=data["format"],
            scheduled_at=data["scheduled_at"],  # None: publish now; the form resolved daylight-saving times
            form_token=data["form_token"],
            link=data["link"],
            cta_type=data["cta_type"],
            first_comment=data["first_comment"],
            location_id=data["location_id"],
            collaborators=data["collaborators"],
        )
        if getattr(post, "form_token_reused", False):
            # The same form came again (double click, or back and send): the first send made the post.
            messages.info(request, "This post was already saved; sending the form again did not add a second one.")
            return redirect(_post_url(post))
        try:
            post_services.post_submit(post=post, access=access, now=data["when"] == "now")
        except post_services.PostInvalid as exc:
            problems = exc.problems
            post.delete()  # nothing half-made stays behind; the form keeps everything that was typed
        else:
            what = (
                "sent for approval"
                if post.approval == Post.Approval.PENDING
                else ("publishing now" if data["when"] == "now" else "scheduled")
            )
            if data["when"] == "now" and post_services.post_queue_unavailable(post):
                messages.warning(
                    request,
                    "Post queued: the publishing queue is not reachable right now; it goes out when the queue is back.",
                )
            else:
                messages.success(request, f"Post {what}.")
            return redirect(_post_url(post))
    recent_media = MediaAsset.objects.filter(workspace=workspace).usable()[:60]
    chosen = set(request.POST.getlist("media"))
    return render(
        request,
        "publishing/post_new.html",
        {
            "access": access,
            "workspace": workspace,
            "form": form,
            "problems": problems,
            "recent_media": recent_media,
            "chosen_media": chosen,
            "channels": form.fields["channels"].queryset,
            "chosen_channels": set(request.POST.getlist("channels")),
        },
    )


@workspace_view(Capability.POSTS_DRAFT)
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    raise Http404

"""Approvals: a post's review page (previews, decisions, comments; approve or ask for changes), the posts waiting
for the signed-in person, the magic links managers make for clients, and the pages a client opens through such
a link, without an account.

A client's link is exchanged for an entry in their session on first use and the page redirects to `/review/`, so
the token appears in one request only, never in later URLs, referrers or logs. Every later request reads the
link again: one revoked or expired meanwhile ends the session's access at once. A link that does not work (unknown,
expired or revoked alike) answers 410 Gone with one plain page, and its address is kept out of the request log.

The client sees only the comments shared with them and the decisions they read (`approvals` says which), through
a link or as a member with the client role on the team's review page; for the team, that page marks the shared
comments."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.roles import Capability

from .models import ApprovalDecision, ApprovalLink, MediaAsset, Post, PostComment
from .services import approvals, composer
from .services import posts as post_services

SESSION_LINK = "approval_link"


def _media_urls(workspace: Any) -> Callable[[MediaAsset, bool], str]:
    def media_url(asset: MediaAsset, thumb: bool) -> str:
        url = reverse(
            "publishing:media_file", kwargs={"workspace_id": workspace.public_id, "asset_id": asset.public_id}
        )
        return f"{url}?thumb=1" if thumb else url

    return media_url


def _version(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _stage(value: str | None) -> str | None:
    return value if value in ApprovalDecision.Stage.values else None


def _problems_text(exc: post_services.PostInvalid) -> str:
    return " ".join(f"{ch.display_name}: {p.message}" for ch, ps in exc.problems.items() for p in ps)


# --- the team's review page ------------------------------------------------------------------------------------
def _review_post(access: WorkspaceAccess, post_id: UUID) -> Post:
    return get_object_or_404(
        Post.objects.select_related("workspace", "author"), public_id=post_id, workspace=access.workspace
    )


def _me(request: HttpRequest, access: WorkspaceAccess) -> approvals.Reviewer:
    return approvals.Reviewer(access=access, user=request.user)  # type: ignore[arg-type]


def _decision_context(request: HttpRequest, access: WorkspaceAccess, post: Post) -> dict[str, Any]:
    stage = approvals.stage_of(post)
    me = _me(request, access)
    return {
        "access": access,
        "workspace": access.workspace,
        "post": post,
        "stage": stage,
        "version": approvals.latest_version(post) or 0,
        "can_decide": approvals.may_decide(post, me),
        "decisions": list(approvals.client_decisions(post) if me.is_client else post.decisions.all()),
        "can_manage_links": access.can(Capability.WORKSPACE_MANAGE),
        "tz": access.workspace.zoneinfo,
    }


def _comments(post: Post, me: approvals.Reviewer) -> QuerySet[PostComment]:
    """The post's comments this person reads: a member with the client role reads what the client reads."""
    return approvals.client_comments(post) if me.is_client else post.comments.all()


def _thread_context(request: HttpRequest, access: WorkspaceAccess, post: Post) -> dict[str, Any]:
    me = _me(request, access)
    return {
        "post": post,
        "workspace": access.workspace,
        "threads": approvals.threads(list(_comments(post, me))),
        "comment_shared": approvals.comment_would_be_shared(post, me),
        "viewer_client": me.is_client,
        "comment_url": reverse(
            "publishing:post_comment", kwargs={"workspace_id": access.workspace.public_id, "post_id": post.public_id}
        ),
        "tz": access.workspace.zoneinfo,
    }


def _review_page(
    request: HttpRequest, access: WorkspaceAccess, post: Post, *, status: int = 200, **extra: Any
) -> HttpResponse:
    deliveries = list(post.deliveries.all())
    context = {
        **_decision_context(request, access, post),
        **_thread_context(request, access, post),
        "previews": approvals.post_previews(post, media_url=_media_urls(access.workspace), problems=True),
        "can_edit": access.can(Capability.POSTS_DRAFT) and composer.editable(post, deliveries),
        **extra,
    }
    return render(request, "publishing/review.html", context, status=status)


@workspace_view()
@require_GET
def post_review(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    return _review_page(request, access, _review_post(access, post_id))


def _decided(
    request: HttpRequest, access: WorkspaceAccess, post: Post, notice: str, level: str, **extra: Any
) -> HttpResponse:
    """After a decision: with htmx the decision panel again (its notice in it), and the comment form's word on
    who reads a new comment, which follows the post's stage (swapped alone, so a comment being typed stays);
    else the review page."""
    if request.htmx:  # type: ignore[attr-defined]
        post = _review_post(access, post.public_id)
        context = {**_decision_context(request, access, post), "notice": notice, "notice_level": level, **extra}
        panel = render_to_string("publishing/review.html#decision", context, request)
        me = _me(request, access)
        audience = {
            "workspace": access.workspace,
            "comment_shared": approvals.comment_would_be_shared(post, me),
            "viewer_client": me.is_client,
            "oob": True,
        }
        return HttpResponse(panel + render_to_string("publishing/_approval_thread.html#audience", audience, request))
    getattr(messages, level)(request, notice)
    return redirect("publishing:post_review", workspace_id=access.workspace.public_id, post_id=post.public_id)


@workspace_view()
@require_POST
def post_approve(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    """Approve at the stage the post waits at. Someone who does not decide that stage gets 403."""
    post = _review_post(access, post_id)
    try:
        post = approvals.post_approve(
            post=post,
            by=_me(request, access),
            stage=_stage(request.POST.get("stage")),
            version=_version(request.POST.get("version")),
        )
    except post_services.PostInvalid as exc:
        return _decided(request, access, post, f"Not approved: {_problems_text(exc)}", "error")
    except approvals.NotAwaitingApproval as exc:
        return _decided(request, access, post, f"Not approved: {exc}", "error")
    if post.approval == Post.Approval.CLIENT_PENDING:
        notice = "Approved. It now waits for the client's approval."
    elif post.scheduled_at:
        notice = "Approved and scheduled."
    else:
        notice = "Approved. It is being published now."
    return _decided(request, access, post, notice, "success")


@workspace_view()
@require_POST
def post_request_changes(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    post = _review_post(access, post_id)
    comment = request.POST.get("comment", "")
    try:
        approvals.post_request_changes(
            post=post,
            by=_me(request, access),
            comment=comment,
            stage=_stage(request.POST.get("stage")),
            version=_version(request.POST.get("version")),
        )
    except approvals.CommentRequired as exc:
        return _decided(request, access, post, str(exc), "error", comment_text=comment)
    except approvals.NotAwaitingApproval as exc:
        return _decided(request, access, post, f"Not sent back: {exc}", "error", comment_text=comment)
    return _decided(request, access, post, "Sent back to the author with your comment.", "success")


def _shared(value: str | None) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


@workspace_view()
@require_POST
def post_comment(request: HttpRequest, access: WorkspaceAccess, post_id: UUID) -> HttpResponse:
    """A comment or a reply on the review page; with htmx the thread comes back with it. The form says whether the
    client would read a new comment, as the page showed it; a comment whose audience changed meanwhile is refused
    and comes back typed, with the page as it is now (the whole page without htmx, answered 409). A member with
    the client role replies only in the threads the client reads: any other is not there for them (404)."""
    post = _review_post(access, post_id)
    me = _me(request, access)
    parent_id = request.POST.get("parent") or ""
    parent = get_object_or_404(_comments(post, me), pk=parent_id) if parent_id.isdigit() else None
    body = request.POST.get("body", "")
    notice, level, made, status = "", "success", None, 200
    try:
        made = approvals.post_comment_add(
            post=post,
            by=me,
            body=body,
            parent=parent,
            shared=_shared(request.POST.get("shared")) if parent is None else None,
        )
    except approvals.CommentRequired as exc:
        notice, level = str(exc), "error"
    except approvals.CommentAudienceChanged as exc:
        notice, level, status = str(exc), "error", 409
    if made is None or request.htmx:  # type: ignore[attr-defined]
        post = _review_post(access, post_id)  # its stage may be what refused the comment
        said = {
            "thread_notice": notice,
            "thread_notice_level": level,
            "typed": body if made is None else "",
            "typed_parent": parent.pk if parent is not None and made is None else None,
        }
        if not request.htmx:  # type: ignore[attr-defined]
            return _review_page(request, access, post, status=status, **said)
        context = {**_thread_context(request, access, post), **said}
        return render(request, "publishing/_approval_thread.html", context)
    url = reverse("publishing:post_review", kwargs={"workspace_id": access.workspace.public_id, "post_id": post_id})
    return redirect(f"{url}#comment-{made.pk}")


# --- posts waiting for me --------------------------------------------------------------------------------------
APPROVALS_PER_PAGE = 20


@workspace_view()
@require_GET
def approvals_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    return render(
        request,
        "publishing/approvals.html",
        {
            "access": access,
            "workspace": access.workspace,
            "waiting": Paginator(approvals.awaiting(access), APPROVALS_PER_PAGE).get_page(request.GET.get("page")),
            "mine": Paginator(
                approvals.authored_in_approval(access, request.user),  # type: ignore[arg-type]
                APPROVALS_PER_PAGE,
            ).get_page(request.GET.get("mine")),
            "can_manage_links": access.can(Capability.WORKSPACE_MANAGE),
            "two_stages": access.workspace.approval_flow == "internal_client",
            "tz": access.workspace.zoneinfo,
        },
    )


# --- magic links -----------------------------------------------------------------------------------------------
class ApprovalLinkForm(forms.Form):
    name = forms.CharField(label="Who it is for", max_length=120, help_text="Shown with their comments and decisions.")
    email = forms.EmailField(label="Their email (optional)", required=False)
    days = forms.IntegerField(
        label="Valid for (days)",
        min_value=1,
        max_value=approvals.LINK_DAYS_MAX,
        initial=approvals.LINK_DAYS_DEFAULT,
        help_text=f"1 to {approvals.LINK_DAYS_MAX} days. You can revoke it at any time.",
    )


def _links_page(
    request: HttpRequest, access: WorkspaceAccess, form: ApprovalLinkForm, created: dict | None = None
) -> HttpResponse:
    labels = approvals.LinkUse.LABELS
    links = [
        {
            "link": link,
            "state": "revoked" if link.revoked_at else ("active" if link.usable else "expired"),
            "uses": [(use, labels.get(use.action, use.action)) for use in link.recent_uses],
            "use_count": link.use_count,
            "more_uses": link.use_count - len(link.recent_uses),
        }
        for link in approvals.links_of(access.workspace)
    ]
    response = render(
        request,
        "publishing/approval_links.html",
        {
            "access": access,
            "workspace": access.workspace,
            "form": form,
            "links": links,
            "created": created,
            "two_stages": access.workspace.approval_flow == "internal_client",
            "tz": access.workspace.zoneinfo,
        },
    )
    add_never_cache_headers(response)
    return response


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def approval_links(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The workspace's client review links. A new link is shown once, on the page the POST renders (not after a
    redirect), so its token is never in a URL or a stored message."""
    if request.method == "GET":
        return _links_page(request, access, ApprovalLinkForm(initial={"days": approvals.LINK_DAYS_DEFAULT}))
    form = ApprovalLinkForm(request.POST)
    if not form.is_valid():
        return _links_page(request, access, form)
    link, token = approvals.approval_link_create(
        workspace=access.workspace,
        name=form.cleaned_data["name"],
        email=form.cleaned_data["email"],
        days=form.cleaned_data["days"],
        created_by=request.user,  # type: ignore[arg-type]
    )
    url = settings.PUBLIC_BASE_URL + reverse("publishing:client_review_open", kwargs={"token": token})
    fresh = ApprovalLinkForm(initial={"days": approvals.LINK_DAYS_DEFAULT})
    return _links_page(request, access, fresh, created={"link": link, "url": url})


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_POST
def approval_link_revoke(request: HttpRequest, access: WorkspaceAccess, link_id: UUID) -> HttpResponse:
    link = get_object_or_404(ApprovalLink, public_id=link_id, workspace=access.workspace)
    if approvals.approval_link_revoke(link=link):
        messages.success(request, f"The link for {link.name} no longer works, including on pages already open.")
    else:
        messages.info(request, f"The link for {link.name} was revoked already.")
    return redirect("publishing:approval_links", workspace_id=access.workspace.public_id)


# --- the client's pages, through a magic link ------------------------------------------------------------------
def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _link_gone(request: HttpRequest) -> HttpResponse:
    """The same plain page, and status, for an unknown, expired or revoked link: nothing says which."""
    response = render(request, "publishing/client_review.html", {"gone": True}, status=410)
    add_never_cache_headers(response)
    return response


def _unlogged(response: HttpResponse) -> HttpResponse:
    """Keep Django's request log from writing this response's path ("Gone: /review/<token>/"): the token in it
    opens the client's review for as long as the link works, and logs outlive that."""
    response._has_been_logged = True  # type: ignore[attr-defined]  # read by django.utils.log.log_response
    return response


ClientView = Callable[..., HttpResponse]


def client_view(view: ClientView) -> ClientView:
    """Resolve the link the session holds (read again on every request) and pass the client as a Reviewer."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        link_id = request.session.get(SESSION_LINK)
        link = approvals.approval_link_current(link_id)
        if link is None:
            if link_id is not None:
                request.session.pop(SESSION_LINK, None)
            return _link_gone(request)
        by = approvals.Reviewer(
            link=link, ip_address=_client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
        response = view(request, by, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapper


@never_cache
@csrf_exempt  # it only reads (GET); a refused POST must not be logged with the token by the CSRF check either
def client_review_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link as sent: exchanged for the session's entry, then off to `/review/` without the token. Its method
    is checked here rather than by `require_GET`, which logs the path of what it refuses."""
    if request.method != "GET":
        return _unlogged(HttpResponseNotAllowed(["GET"]))
    link = approvals.approval_link_open(
        token=token, ip_address=_client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
    )
    if link is None:
        request.session.pop(SESSION_LINK, None)
        return _unlogged(_link_gone(request))
    request.session.cycle_key()
    request.session[SESSION_LINK] = link.pk
    return redirect("publishing:client_review")


def _client_post(by: approvals.Reviewer, post_id: UUID) -> Post:
    """One of the link's posts: its workspace's, awaiting the client. Anything else is 404."""
    assert by.link is not None
    post = approvals.client_posts(by.link).filter(public_id=post_id).first()
    if post is None:
        raise Http404
    return post


@client_view
@require_GET
def client_review(request: HttpRequest, by: approvals.Reviewer) -> HttpResponse:
    assert by.link is not None
    return render(
        request,
        "publishing/client_review.html",
        {
            "link": by.link,
            "workspace": by.link.workspace,
            "posts": list(approvals.client_posts(by.link)),
            "media_url": approvals.public_media_url,
            "tz": by.link.workspace.zoneinfo,
        },
    )


@client_view
@require_GET
def client_post(request: HttpRequest, by: approvals.Reviewer, post_id: UUID) -> HttpResponse:
    post = _client_post(by, post_id)
    assert by.link is not None
    return render(
        request,
        "publishing/client_review.html",
        {
            "link": by.link,
            "workspace": by.link.workspace,
            "post": post,
            "version": approvals.latest_version(post) or 0,
            "previews": approvals.post_previews(post, media_url=approvals.public_media_url, problems=False),
            "decisions": list(approvals.client_decisions(post)),
            "threads": approvals.threads(list(approvals.client_comments(post))),
            "comment_url": reverse("publishing:client_comment", kwargs={"post_id": post.public_id}),
            "typed": request.session.pop("approval_typed", ""),
            "tz": by.link.workspace.zoneinfo,
            "client": True,
        },
    )


def _to_client_post(by: approvals.Reviewer, post: Post, anchor: str = "") -> HttpResponse:
    """Back to the post's page, or to the list when the post no longer waits for the client."""
    assert by.link is not None
    if not approvals.client_posts(by.link).filter(pk=post.pk).exists():
        return redirect("publishing:client_review")
    return redirect(reverse("publishing:client_post", kwargs={"post_id": post.public_id}) + anchor)


def _client_next(request: HttpRequest, by: approvals.Reviewer, notice: str) -> HttpResponse:
    assert by.link is not None
    left = approvals.client_posts(by.link).count()
    more = f" {left} more post{'s' if left != 1 else ''} wait{'s' if left == 1 else ''} for you." if left else ""
    messages.success(request, notice + more)
    return redirect("publishing:client_review")


@client_view
@require_POST
def client_approve(request: HttpRequest, by: approvals.Reviewer, post_id: UUID) -> HttpResponse:
    post = _client_post(by, post_id)
    try:
        approvals.post_approve(post=post, by=by, stage=approvals.CLIENT, version=_version(request.POST.get("version")))
    except post_services.PostInvalid as exc:
        messages.error(request, f"This post cannot go out as it is ({_problems_text(exc)}). Ask the team to fix it.")
        return _to_client_post(by, post)
    except (approvals.NotAwaitingApproval, PermissionDenied) as exc:
        messages.error(request, f"Not approved: {exc}")
        return _to_client_post(by, post)
    return _client_next(request, by, "Approved, thank you. It goes out as planned.")


@client_view
@require_POST
def client_request_changes(request: HttpRequest, by: approvals.Reviewer, post_id: UUID) -> HttpResponse:
    post = _client_post(by, post_id)
    comment = request.POST.get("comment", "")
    try:
        approvals.post_request_changes(
            post=post, by=by, comment=comment, stage=approvals.CLIENT, version=_version(request.POST.get("version"))
        )
    except approvals.CommentRequired as exc:
        messages.error(request, str(exc))
        return _to_client_post(by, post, "#changes")
    except (approvals.NotAwaitingApproval, PermissionDenied) as exc:
        request.session["approval_typed"] = comment  # kept for the page it returns to
        messages.error(request, f"Not sent: {exc}")
        return _to_client_post(by, post, "#changes")
    return _client_next(request, by, "Sent to the team with your comment, thank you. They will change it.")


@client_view
@require_POST
def client_comment(request: HttpRequest, by: approvals.Reviewer, post_id: UUID) -> HttpResponse:
    post = _client_post(by, post_id)
    parent_id = request.POST.get("parent") or ""
    shared = approvals.client_comments(post)  # a thread within the team is not there, for the client
    parent = get_object_or_404(shared, pk=parent_id) if parent_id.isdigit() else None
    try:
        made = approvals.post_comment_add(post=post, by=by, body=request.POST.get("body", ""), parent=parent)
    except (approvals.CommentRequired, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return _to_client_post(by, post, "#comments")
    return _to_client_post(by, post, f"#comment-{made.pk}")
